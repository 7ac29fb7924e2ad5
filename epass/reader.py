"""Chip session: select the eMRTD application, open access control, read the files.

Reading strategy (ICAO Doc 9303-10 §4.6, 9303-11 §9.8, ISO/IEC 7816-4 §11.3.3).
Every APDU costs a radio round trip (10-30 ms on a real link), so the session
asks for as much as each response can carry:

* The first READ BINARY of a file uses its short file identifier (P1 = 80|SFI):
  no SELECT is needed and the response already holds the TLV header, from
  which the file's total length is learnt.
* With extended length (announced by the ATR's card capabilities or
  EF.ATR/INFO, and not refused by the reader) one command asks for the whole
  file. Otherwise each response is filled up to 256 bytes after secure
  messaging: 231 plain bytes with 3DES, 223 with AES.
* Offsets above 32767 use the odd instruction ``B1`` with DO'54'.
* ``6700`` and ``6Cxx`` shrink the chunk and retry at the same offset; the
  secure messaging counter stays in step because those answers are protected.
  A chip that ends the session with a plain status word is re-opened (applet
  selected, access control run again) and the read resumes where it stopped.
* A file may not declare more than ``ReadOptions.max_file_size`` bytes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from epass import tlv
from epass.access.bac import perform_bac
from epass.access.keys import AccessKey, MrzKey
from epass.apdu import CommandApdu, Ins
from epass.capabilities import CardCapabilities, parse_atr, parse_atr_info
from epass.channel import Channel, Exchange, Tracer
from epass.errors import (
    EpassError,
    LocalProtocolError,
    ParseError,
    RemoteProtocolError,
    SecureMessagingError,
    StatusWordError,
)
from epass.lds.files import LdsFile
from epass.sm import max_plain_response
from epass.transport import Transport

__all__ = [
    "EMRTD_AID",
    "ChipSession",
    "DocumentRead",
    "ReadOptions",
    "TrafficStats",
]

EMRTD_AID = bytes.fromhex("A0000002471001")
#: Smallest chunk tried before giving up on a file.
MIN_CHUNK = 32
#: Times one document read may re-open a session the chip dropped.
MAX_RECOVERIES = 3
#: Data groups that need Extended Access Control (9303-11 §7.1.2).
EAC_PROTECTED = frozenset({LdsFile.DG3, LdsFile.DG4})


@dataclass
class TrafficStats:
    """A tracer that counts what crossed the link (use it as ``tracer=``)."""

    apdus: int = 0
    round_trips: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    by_command: dict[str, int] = field(default_factory=dict)

    def __call__(self, exchange: Exchange) -> None:
        self.apdus += 1
        self.round_trips += exchange.round_trips
        self.bytes_sent += len(exchange.wire_command)
        self.bytes_received += len(exchange.wire_response)
        self.seconds += exchange.seconds
        name = exchange.command.describe()
        self.by_command[name] = self.by_command.get(name, 0) + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "apdus": self.apdus,
            "round_trips": self.round_trips,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "link_seconds": round(self.seconds, 6),
            "by_command": dict(self.by_command),
        }


@dataclass(frozen=True)
class ReadOptions:
    """How a session reads.

    :ivar extended_length: ``True`` forces extended-length reads, ``False``
        forbids them, ``None`` (default) uses them when the card announces them
        and the transport does not refuse them.
    :ivar max_file_size: the most bytes a file may declare.
    :ivar read_eac_protected: also try DG3/DG4 (they need EAC; a chip answers
        ``6982`` and some end the session).
    :ivar chunk: an upper bound on plain bytes per READ BINARY (testing aid).
    :ivar read_atr_info: read EF.ATR/INFO when the ATR points to it.
    """

    extended_length: bool | None = None
    max_file_size: int = 1 << 20
    read_eac_protected: bool = False
    chunk: int | None = None
    read_atr_info: bool = True


@dataclass
class DocumentRead:
    """What a session read: raw file contents by label, and what it could not read."""

    files: dict[str, bytes]
    not_read: dict[str, str]
    access_protocol: str
    capabilities: CardCapabilities
    stats: TrafficStats
    recoveries: int = 0
    seconds: float = 0.0


def _do53_header(n: int) -> int:
    return 1 + len(tlv.encode_length(n))


def _odd_payload(capacity: int) -> int:
    """The most file bytes a DO'53' of at most *capacity* bytes can carry."""
    n = max(1, capacity - 5)
    while n + 1 + _do53_header(n + 1) <= capacity:
        n += 1
    return n


class ChipSession:
    """One conversation with one chip.

    :param transport: the link to the card.
    :param options: read strategy.
    :param tracer: called for every exchange, in addition to :attr:`stats`.
    :param rng: randomness for access control (inject for known answers).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        options: ReadOptions | None = None,
        tracer: Tracer | None = None,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.transport = transport
        self.options = options or ReadOptions()
        self.stats = TrafficStats()
        self._user_tracer = tracer
        self.rng = rng
        self.channel = Channel(transport, tracer=self._trace)
        self.capabilities = CardCapabilities()
        self.key: AccessKey | None = None
        self.access_protocol: str | None = None
        self.recoveries = 0
        self._sfi_refused = False
        self._chunk_cap: int | None = None

    def _trace(self, exchange: Exchange) -> None:
        self.stats(exchange)
        if self._user_tracer is not None:
            self._user_tracer(exchange)

    # -- opening -----------------------------------------------------------------

    def open(self, key: AccessKey) -> None:
        """Learn the card's length capabilities, select the application and run access control.

        :raises AccessControlError: if the chip refuses the key.
        :raises TransportError: if the link fails.
        """
        self.key = key
        self.capabilities = parse_atr(self.transport.atr)
        if self.capabilities.atr_info_present and self.options.read_atr_info:
            self._read_atr_info()
        self._select_application()
        self._authenticate()

    def _read_atr_info(self) -> None:
        """Read EF.ATR/INFO from the master file (plain, before the application is selected)."""
        try:
            data = self._read(LdsFile.EF_ATR_INFO, secure=False)
        except (StatusWordError, ParseError, RemoteProtocolError):
            return  # advisory only: fall back to what the ATR said
        try:
            self.capabilities = parse_atr_info(data, self.capabilities)
        except ParseError:
            return

    def _select_application(self) -> None:
        select = CommandApdu(0x00, Ins.SELECT, 0x04, 0x0C, EMRTD_AID)
        response = self.channel.transmit(select)
        if response.sw == 0x9000:
            return
        if response.sw != 0x6A82:
            # Some chips want P2=00 with Le (return FCI) - ISO/IEC 7816-4 §11.2.2.
            retry = CommandApdu(0x00, Ins.SELECT, 0x04, 0x00, EMRTD_AID, le=256)
            response = self.channel.transmit(retry)
            if response.sw == 0x9000:
                return
        raise StatusWordError(response.sw, response.data, "SELECT eMRTD application")

    def _authenticate(self) -> None:
        key = self.key
        if isinstance(key, MrzKey):
            perform_bac(self.channel, key.mrz_information, rng=self.rng)
            self.access_protocol = "BAC"
            return
        raise LocalProtocolError("a CAN opens the chip with PACE only, which this version lacks")

    def _recover(self) -> None:
        """Re-open a session the chip ended: fresh channel, select, access control."""
        if self.key is None:
            raise LocalProtocolError("session was never opened")
        self.recoveries += 1
        self.channel = Channel(self.transport, tracer=self._trace)
        self._select_application()
        self._authenticate()

    # -- chunk sizes -----------------------------------------------------------------

    @property
    def extended_length(self) -> bool:
        """Whether reads use extended-length APDUs."""
        forced = self.options.extended_length
        if forced is not None:
            return forced
        if self.transport.extended_length is False:
            return False
        return bool(self.capabilities.extended_length)

    def max_chunk(self, *, secure: bool | None = None) -> int:
        """The most plain bytes one READ BINARY response can carry now."""
        secure = self.channel.secure if secure is None else secure
        if self.extended_length:
            limit = min(65536, self.capabilities.max_response or 65536)
        else:
            limit = 256
        sm = self.channel.sm
        if secure and sm is not None:
            n = max_plain_response(limit, sm.block_size)
        else:
            n = limit
        if self.options.chunk is not None:
            n = min(n, self.options.chunk)
        if self._chunk_cap is not None:
            n = min(n, self._chunk_cap)
        return max(n, 1)

    def _shrink(self, current: int) -> int:
        """The chunk size for the rest of the session after ``6700`` (wrong length)."""
        if current > 256:
            smaller = (
                max_plain_response(256, self.channel.sm.block_size) if self.channel.sm else 256
            )
        else:
            smaller = {231: 223, 223: 160, 160: 128}.get(current, current // 2)
        if smaller < MIN_CHUNK:
            raise RemoteProtocolError(f"chip refuses READ BINARY even for {current} bytes")
        self._chunk_cap = smaller
        return smaller

    # -- reading ----------------------------------------------------------------------

    def read_file(self, file: LdsFile) -> bytes:
        """Read one EF of the application (or of the master file before :meth:`open`).

        :returns: the file's bytes, exactly as long as its TLV header says.
        :raises StatusWordError: ``6A82`` when the file does not exist,
            ``6982`` when access is denied.
        :raises ParseError: when the header is malformed or declares too much.
        :raises SecureMessagingError: on a bad MAC (never retried).
        """
        while True:
            try:
                return self._read(file, secure=self.channel.secure)
            except SecureMessagingError as exc:
                if exc.sw is None or self.recoveries >= MAX_RECOVERIES:
                    raise
                if exc.sw == 0x6700:
                    self._shrink(self.max_chunk())
                self._recover()

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

    def _read(self, file: LdsFile, *, secure: bool) -> bytes:
        data = bytearray()
        total: int | None = None
        first = not self._sfi_refused  # the first read goes by SFI and selects the file
        if not first:
            self._select_ef(file)
        limit = self.options.max_file_size
        stingy = 0
        hint: int | None = None  # the exact length a 6Cxx asked for, for the next request
        while total is None or len(data) < total:
            offset = len(data)
            chunk = self.max_chunk(secure=secure)
            if offset > 0x7FFF:
                chunk = _odd_payload(chunk)  # the DO'53' header shares the response
            want = chunk if total is None else min(chunk, total - offset)
            hinted, hint = hint, None
            if hinted is not None:
                want = min(want, hinted)
            command = self._read_command(file, offset, want, first=first)
            response = self.channel.transmit(command)
            sw = response.sw
            if sw == 0x6700:
                self._shrink(chunk)
                continue
            if sw >> 8 == 0x6C:
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
            if first and sw in (0x6A86, 0x6B00, 0x6A81, 0x6D00):
                # No SFI support: SELECT by FID and read by offset from now on.
                self._sfi_refused = True
                self._select_ef(file)
                first = False
                continue
            if sw not in (0x9000, 0x6282):
                raise StatusWordError(sw, response.data, f"READ BINARY {file.label}")
            got = response.data
            if command.ins == Ins.READ_BINARY_ODD:
                got = self._unwrap_do53(got, file)
            if len(got) < min(want, MIN_CHUNK):
                stingy += 1
                if not got or stingy > 8:
                    raise RemoteProtocolError(
                        f"{file.label}: chip returned {len(got)} bytes at offset {offset} "
                        f"(asked for {want})"
                    )
            data += got
            first = False
            if total is None:
                total = self._total_length(bytes(data), file, limit)
            if hinted is not None and total is not None and len(data) < total:
                self._chunk_cap = hinted  # 6Cxx in mid-file: the chip's real limit
            if sw == 0x6282 and total is not None and len(data) < total:
                raise ParseError(
                    f"file ends after {len(data)} bytes but its header declares {total}",
                    file=file.label,
                    offset=len(data),
                )
        return bytes(data[:total])

    @staticmethod
    def _unwrap_do53(data: bytes, file: LdsFile) -> bytes:
        try:
            do53 = tlv.decode_single(data, file=f"{file.label} (B1 response)", expected_tag=0x53)
        except ParseError as exc:
            raise RemoteProtocolError(f"malformed odd-INS READ BINARY response: {exc}") from exc
        return do53.value

    @staticmethod
    def _total_length(head: bytes, file: LdsFile, limit: int) -> int | None:
        try:
            _tag, header_length, value_length = tlv.header(head, file=file.label)
        except ParseError:
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

    # -- the whole document -------------------------------------------------------------

    def read_document(self, extra: Iterable[LdsFile] = ()) -> DocumentRead:
        """Read EF.COM, EF.SOD and every data group either lists (plus *extra*).

        Data groups the chip refuses (``6982``) or lacks (``6A82``) are listed
        in :attr:`DocumentRead.not_read` with the reason; DG3/DG4 are skipped
        unless :attr:`ReadOptions.read_eac_protected` (they need EAC).

        :raises EpassError: when EF.COM or EF.SOD cannot be read, or the link fails.
        """
        from epass.lds import com as com_parser
        from epass.lds import sod as sod_parser

        start = time.perf_counter()
        files: dict[str, bytes] = {}
        not_read: dict[str, str] = {}
        wanted: list[LdsFile] = []

        com_raw = self.read_file(LdsFile.EF_COM)
        files[LdsFile.EF_COM.label] = com_raw
        wanted += [f for f in com_parser.parse(com_raw).files if f.is_data_group]
        sod_raw = self.read_file(LdsFile.EF_SOD)
        files[LdsFile.EF_SOD.label] = sod_raw
        try:
            wanted += [LdsFile.data_group(n) for n in sod_parser.parse(sod_raw).dg_hashes]
        except (EpassError, ValueError):
            pass  # passive authentication reports a malformed SOD; read what EF.COM lists
        wanted += list(extra)

        for dg in sorted(set(wanted), key=lambda f: f.number):
            if dg in EAC_PROTECTED and not self.options.read_eac_protected:
                not_read[dg.label] = "needs Extended Access Control (not performed)"
                continue
            try:
                files[dg.label] = self.read_file(dg)
            except StatusWordError as exc:
                if exc.sw == 0x6982:
                    not_read[dg.label] = f"access denied ({exc.sw:04X})"
                elif exc.sw == 0x6A82:
                    not_read[dg.label] = f"not on the chip ({exc.sw:04X})"
                else:
                    raise
        return DocumentRead(
            files=files,
            not_read=not_read,
            access_protocol=self.access_protocol or "none",
            capabilities=self.capabilities,
            stats=self.stats,
            recoveries=self.recoveries,
            seconds=time.perf_counter() - start,
        )
