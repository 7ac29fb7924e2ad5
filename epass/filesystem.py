"""Reading elementary files with READ BINARY in as few round trips as the link allows.

ICAO Doc 9303-10 §4.6 (the LDS files and their short file identifiers),
9303-11 §9.8 (secure messaging), ISO/IEC 7816-4 §11.3.3 (READ BINARY), §5.6
(status words). Every APDU costs a radio round trip (10-30 ms on a real link),
so each response is asked to carry as much as it can:

* The first READ BINARY of a file uses its short file identifier (P1 = 80|SFI):
  no SELECT is needed and the response already holds the TLV header, from
  which the file's total length is learnt.
* With extended length one command asks for the whole file (up to the card's
  EF.ATR/INFO response limit). Otherwise each response is filled up to 256
  bytes after secure messaging: 231 plain bytes with 3DES, 223 with AES.
* Offsets above 32767 use the odd instruction ``B1`` with DO'54' (offset) and a
  DO'53' around the data in the response.
* ``6700`` (wrong length) shrinks the chunk for the rest of the session and
  retries at the same offset; ``6Cxx`` (wrong Le, xx available) asks for
  exactly xx bytes once, and caps later reads only when it came in mid-file.
  Under secure messaging these answers are protected, so the send sequence
  counter stays in step.
* A chip that answers READ BINARY by SFI with ``6A86``, ``6B00``, ``6A81`` or
  ``6D00`` is read by SELECT (FID) and offsets from then on.
* A chip that ends the session with a plain status word under secure
  messaging is re-opened through the ``recover`` hook (the caller selects the
  application and runs access control again) and the file is read again from
  its start, at most :data:`MAX_RECOVERIES` times per reader.
* A file may not declare more than ``min(LdsFile.max_size, max_file_size)``
  bytes; a chip that returns almost nothing again and again is refused.
* A file whose outer tag has the indefinite length (BER, X.690 §8.1.3.6: an
  EF.SOD starting ``77 80``, as some issuers write it) is read until the chip
  says the file has ended — ``6282``, ``6B00`` (offset past the end) or a
  shorter answer than asked — within the same size limit, then cut after
  its end-of-contents octets when the BER walk finds them.

JMRTD calls this layer the file system; here it only reads.
"""

from __future__ import annotations

from collections.abc import Callable

from epass import tlv
from epass.apdu import CommandApdu, Ins
from epass.channel import SW1_WRONG_LE, Channel
from epass.cms import ber_header, ber_walk
from epass.errors import ParseError, RemoteProtocolError, SecureMessagingError, StatusWordError
from epass.lds.files import LdsFile
from epass.sm import max_plain_response
from epass.status import StatusWord

__all__ = [
    "MAX_RECOVERIES",
    "MIN_CHUNK",
    "ChunkProgress",
    "FileReader",
    "Recover",
]

#: Smallest chunk tried before giving up on a file.
MIN_CHUNK = 32
#: Times one reader may re-open a session the chip dropped.
MAX_RECOVERIES = 3
#: Short responses in a row (below MIN_CHUNK and below what was asked) tolerated per file.
MAX_STINGY = 8
#: Status words by which a chip says it does not take READ BINARY with an SFI.
SFI_REFUSED = frozenset(
    {
        StatusWord.INCORRECT_P1P2,
        StatusWord.WRONG_P1P2,
        StatusWord.FUNCTION_NOT_SUPPORTED,
        StatusWord.INS_NOT_SUPPORTED,
    }
)
#: Status words after which READ BINARY data is good (``6282``: end of file reached).
READ_OK = frozenset({StatusWord.SUCCESS, StatusWord.END_OF_FILE})
#: Status words that end a file of indefinite length: end of file, offset past the end.
INDEFINITE_END = frozenset({StatusWord.END_OF_FILE, StatusWord.WRONG_P1P2})
#: The total of a file whose TLV header has the indefinite length (read to the end).
INDEFINITE = -1

#: Called as a file is read: ``(file, bytes done, total or None until the header is known)``.
ChunkProgress = Callable[[LdsFile, int, int | None], None]
#: Re-opens a session the chip ended and returns the new (secure) channel.
Recover = Callable[[], Channel]


def _do53_header(n: int) -> int:
    return 1 + len(tlv.encode_length(n))


def _odd_payload(capacity: int) -> int:
    """The most file bytes a DO'53' of at most *capacity* bytes can carry."""
    n = max(1, capacity - 5)
    while n + 1 + _do53_header(n + 1) <= capacity:
        n += 1
    return n


class FileReader:
    """Read elementary files over a :class:`~epass.channel.Channel`.

    :param channel: the channel to read over (plain or under secure messaging).
    :param extended_length: whether to use extended-length APDUs.
    :param max_response: the card's largest response in bytes (EF.ATR/INFO), if known.
    :param chunk: an upper bound on plain bytes per READ BINARY (testing aid).
    :param max_file_size: the most bytes any file may declare (also bounded by
        :attr:`LdsFile.max_size` per file kind).
    :param recover: re-opens a session the chip ended; without it such a
        failure is raised.
    :param progress: told the bytes read after each chunk.

    The attributes may be changed between reads (the session does so once
    it has learnt the card's capabilities). :attr:`channel` is replaced after
    a recovery.
    """

    def __init__(
        self,
        channel: Channel,
        *,
        extended_length: bool = False,
        max_response: int | None = None,
        chunk: int | None = None,
        max_file_size: int = 1 << 20,
        recover: Recover | None = None,
        progress: ChunkProgress | None = None,
    ) -> None:
        self.channel = channel
        self.extended_length = extended_length
        self.max_response = max_response
        self.chunk = chunk
        self.max_file_size = max_file_size
        self.recover = recover
        self.progress = progress
        self.recoveries = 0
        self._sfi_refused = False
        self._chunk_cap: int | None = None

    # -- chunk sizes -----------------------------------------------------------------

    def limit(self, file: LdsFile) -> int:
        """The most bytes *file* may declare: ``min(file.max_size, max_file_size)``."""
        return min(file.max_size, self.max_file_size)

    def max_chunk(self, *, secure: bool | None = None) -> int:
        """The most plain bytes one READ BINARY response can carry now (at least 1)."""
        secure = self.channel.secure if secure is None else secure
        if self.extended_length:
            limit = min(65536, self.max_response or 65536)
        else:
            limit = 256
        sm = self.channel.sm
        if secure and sm is not None:
            n = max_plain_response(limit, sm.block_size)
        else:
            n = limit
        if self.chunk is not None:
            n = min(n, self.chunk)
        if self._chunk_cap is not None:
            n = min(n, self._chunk_cap)
        return max(n, 1)

    def _shrink(self, current: int) -> int:
        """The chunk size for the rest of the session after ``6700`` (wrong length).

        :raises RemoteProtocolError: when even :data:`MIN_CHUNK` bytes would be too many.
        """
        if current > 256:
            sm = self.channel.sm
            smaller = max_plain_response(256, sm.block_size) if sm else 256
        else:
            smaller = {231: 223, 223: 160, 160: 128}.get(current, current // 2)
        if smaller < MIN_CHUNK:
            raise RemoteProtocolError(f"chip refuses READ BINARY even for {current} bytes")
        self._chunk_cap = smaller
        return smaller

    # -- reading ----------------------------------------------------------------------

    def read_file(self, file: LdsFile) -> bytes:
        """Read one EF of the currently selected DF (application or master file).

        :returns: the file's bytes, exactly as long as its TLV header says.
        :raises StatusWordError: ``6A82`` when the file does not exist,
            ``6982`` when access is denied, or any other refusal.
        :raises ParseError: when the header is malformed, declares more than
            :meth:`limit`, or the file ends before its declared length.
        :raises RemoteProtocolError: when the chip misbehaves (see the module notes).
        :raises SecureMessagingError: on a bad MAC (never retried), or when a
            dropped session cannot be re-opened.
        :raises TransportError: when the link fails.
        """
        while True:
            try:
                return self._read(file, secure=self.channel.secure)
            except SecureMessagingError as exc:
                if exc.sw is None or self.recover is None or self.recoveries >= MAX_RECOVERIES:
                    raise
                if exc.sw == StatusWord.WRONG_LENGTH:
                    self._shrink(self.max_chunk())
                self.recoveries += 1
                self.channel = self.recover()

    def _read_command(self, file: LdsFile, offset: int, n: int, *, first: bool) -> CommandApdu:
        ext = n > 256
        if first and not self._sfi_refused:
            return CommandApdu(0x00, Ins.READ_BINARY, 0x80 | file.sfi, 0x00, le=n, extended=ext)
        if offset <= 0x7FFF:
            return CommandApdu(
                0x00, Ins.READ_BINARY, offset >> 8, offset & 0xFF, le=n, extended=ext
            )
        do54 = tlv.encode(0x54, offset.to_bytes(3 if offset > 0xFFFF else 2, "big"))
        le = n + _do53_header(n)
        return CommandApdu(0x00, Ins.READ_BINARY_ODD, 0x00, 0x00, do54, le=le, extended=le > 256)

    def _select_ef(self, file: LdsFile) -> None:
        select = CommandApdu(0x00, Ins.SELECT, 0x02, 0x0C, file.fid.to_bytes(2, "big"))
        self.channel.send(select, name=f"SELECT {file.label}")

    def _report(self, file: LdsFile, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(file, done, total)

    def _read(self, file: LdsFile, *, secure: bool) -> bytes:
        self._report(file, 0, None)
        data = bytearray()
        total: int | None = None
        first = not self._sfi_refused  # the first read goes by SFI and selects the file
        if not first:
            self._select_ef(file)
        limit = self.limit(file)
        stingy = 0
        hint: int | None = None  # the exact length a 6Cxx asked for, for the next request
        while total is None or total == INDEFINITE or len(data) < total:
            offset = len(data)
            chunk = self.max_chunk(secure=secure)
            if offset > 0x7FFF:
                chunk = _odd_payload(chunk)  # the DO'53' header shares the response
            want = chunk if total is None or total == INDEFINITE else min(chunk, total - offset)
            hinted, hint = hint, None
            if hinted is not None:
                want = min(want, hinted)
            command = self._read_command(file, offset, want, first=first)
            response = self.channel.transmit(command)
            sw = response.sw
            if sw == StatusWord.WRONG_LENGTH:
                self._shrink(chunk)
                continue
            if sw >> 8 == SW1_WRONG_LE:
                # "Wrong Le, xx available" (ISO/IEC 7816-4 §5.6): ask for exactly that, once.
                # At the end of a file xx is what is left, so it is not a limit for later reads.
                available = (sw & 0xFF) or 256
                if hinted is not None or command.le is None or available >= command.le:
                    raise RemoteProtocolError(
                        f"{file.label}: chip answers {sw:04X} to a READ BINARY of Le "
                        f"{command.le} at offset {offset}"
                    )
                hint = _odd_payload(available) if command.ins == Ins.READ_BINARY_ODD else available
                continue
            if first and sw in SFI_REFUSED:
                # No SFI support: SELECT by FID and read by offset from now on.
                self._sfi_refused = True
                self._select_ef(file)
                first = False
                continue
            if total == INDEFINITE and sw in INDEFINITE_END and not response.data:
                return self._indefinite_end(data, file)
            if sw not in READ_OK:
                raise StatusWordError(sw, response.data, f"READ BINARY {file.label}")
            got = response.data
            if command.ins == Ins.READ_BINARY_ODD:
                got = self._unwrap_do53(got, file)
            if total == INDEFINITE:
                data += got
                if len(data) > limit:
                    raise ParseError(
                        f"indefinite-length file longer than the {limit}-byte limit",
                        file=file.label,
                        offset=limit,
                    )
                self._report(file, len(data), None)
                if sw == StatusWord.END_OF_FILE or len(got) < want:
                    return self._indefinite_end(data, file)
                continue
            if len(got) < min(want, MIN_CHUNK):
                stingy += 1
                if not got or stingy > MAX_STINGY:
                    raise RemoteProtocolError(
                        f"{file.label}: chip returned {len(got)} bytes at offset {offset} "
                        f"(asked for {want})"
                    )
            data += got
            first = False
            if total is None:
                total = self._total_length(bytes(data), file, limit)
                if total == INDEFINITE:
                    if len(data) > limit:
                        raise ParseError(
                            f"indefinite-length file longer than the {limit}-byte limit",
                            file=file.label,
                            offset=limit,
                        )
                    self._report(file, len(data), None)
                    if sw == StatusWord.END_OF_FILE or len(got) < want:
                        return self._indefinite_end(data, file)
                    continue
            if hinted is not None and total is not None and len(data) < total:
                self._chunk_cap = hinted  # 6Cxx in mid-file: the chip's real limit
            if sw == StatusWord.END_OF_FILE and total is None:
                raise ParseError(
                    f"file ends after {len(data)} bytes, inside its TLV header",
                    file=file.label,
                    offset=len(data),
                )
            if sw == StatusWord.END_OF_FILE and total is not None and len(data) < total:
                raise ParseError(
                    f"file ends after {len(data)} bytes but its header declares {total}",
                    file=file.label,
                    offset=len(data),
                )
            self._report(file, min(len(data), total) if total is not None else len(data), total)
        return bytes(data[:total])

    @staticmethod
    def _is_indefinite(head: bytes, file: LdsFile) -> bool:
        """Whether *head* starts with a constructed tag of indefinite length (``77 80``)."""
        try:
            constructed, _start, length = ber_header(head, 0, len(head), file=file.label)
        except ParseError:
            return False
        return constructed and length is None

    @staticmethod
    def _unwrap_do53(data: bytes, file: LdsFile) -> bytes:
        try:
            do53 = tlv.decode_single(data, file=f"{file.label} (B1 response)", expected_tag=0x53)
        except ParseError as exc:
            raise RemoteProtocolError(f"malformed odd-INS READ BINARY response: {exc}") from exc
        return do53.value

    def _indefinite_end(self, data: bytearray, file: LdsFile) -> bytes:
        """The bytes of an indefinite-length file the chip has ended: cut after its end.

        When the BER walk (X.690 §8.1) finds where the outer element ends, what
        follows it (padding) is dropped, as the bytes past a definite length
        are never read; otherwise the whole read is returned for the parser
        to judge.
        """
        raw = bytes(data)
        try:
            end = ber_walk(raw, 0, len(raw), file=file.label)
        except ParseError:
            end = len(raw)
        self._report(file, end, end)
        return raw[:end]

    @staticmethod
    def _total_length(head: bytes, file: LdsFile, limit: int) -> int | None:
        """The file's total length from its TLV header; ``None`` until the header is
        complete; :data:`INDEFINITE` for a constructed outer tag of indefinite length."""
        try:
            _tag, header_length, value_length = tlv.header(head, file=file.label)
        except ParseError:
            if FileReader._is_indefinite(head, file):
                return INDEFINITE
            if len(head) >= 8:
                raise
            return None  # header not complete yet: read on
        total = header_length + value_length
        if total > limit:
            raise ParseError(
                f"declares {total} bytes, more than the {limit}-byte limit",
                file=file.label,
                offset=0,
            )
        return total
