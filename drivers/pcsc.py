"""PC/SC readers through pyscard: the one module of epass that imports ``smartcard``.

Install with the ``pcsc`` extra (``pip install 'epass[pcsc]'``); this module
imports without it (ATR decoding, reader-name resolution and the error
mapping are pure), and every call that needs PC/SC raises
:class:`PyscardMissingError` (a :class:`~epass.errors.NoReaderError`) with the
install hint.

* :func:`list_readers` / :func:`reader_names` — the readers pcscd knows, each
  with its card state and the decoded ATR (:func:`decode_atr`).
* :func:`resolve_reader` — ``--reader`` as a full name or a unique substring;
  with exactly one reader present it may be left out.
* :class:`PcscReader` — a :class:`~epass.transport.CardSource` for one named
  reader: :meth:`~PcscReader.wait_for_card` returns a connected
  :class:`PcscTransport` that holds the card exclusively (``SCARD_SHARE_EXCLUSIVE``
  plus ``SCardBeginTransaction``) until it is closed.
* :class:`PcscTransport` — T=1 (what contactless readers present), bytes in,
  bytes out, every PC/SC failure a typed error carrying its return code.

Errors: pyscard and pcsc-lite report failures as return codes (``hresult``).
:func:`error_for` is the one place that maps a code to
:class:`PcscCardRemovedError` (``SCARD_W_REMOVED_CARD``, ``SCARD_E_NO_SMARTCARD``,
…), :class:`PcscNoReaderError` (``SCARD_E_NO_SERVICE``, ``SCARD_E_UNKNOWN_READER``,
…) or :class:`PcscError`; each keeps the code in ``.hresult``;
:func:`map_pyscard_exception` does the same for pyscard's exceptions.

Extended length (ISO/IEC 7816-4 §5.1): the session learns what the *card*
takes from its ATR and EF.ATR/INFO (:mod:`epass.capabilities`); what the
*reader* carries is learnt here, once per reader name per process: when the
card announces extended length, a plain ``READ BINARY`` of EF.CardAccess with
an extended Le is sent before anything else (before secure messaging exists,
so a refusal costs nothing). A reader that refuses it at the PC/SC level is
remembered as short-only and :attr:`PcscTransport.extended_length` says
``False``. Should a reader refuse an extended APDU later anyway, the refusal is
answered as ``6700`` (wrong length, what readers that check lengths answer
themselves): the file reader then shrinks its reads and re-opens the secure
channel, instead of losing the session to a send sequence counter that the
chip never saw.

A command never waits forever: each exchange runs on a worker thread and a
reader that does not answer within ``transmit_timeout`` seconds raises
:class:`PcscTimeoutError`; the stuck PC/SC context is abandoned and the next
:meth:`PcscReader.wait_for_card` opens a fresh one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from epass.capabilities import CardCapabilities, parse_atr
from epass.errors import CardRemovedError, NoReaderError, TransportError
from epass.transport import CardSource, Transport

try:  # the optional ``pcsc`` extra
    from smartcard import scard as _scard
    from smartcard.Exceptions import SmartcardException as _SmartcardException
except ImportError:  # pragma: no cover - exercised where pyscard is not installed
    _scard = None
    _SmartcardException = None

__all__ = [
    "DEFAULT_TRANSMIT_TIMEOUT",
    "KNOWN_READERS",
    "AmbiguousReaderError",
    "AtrInfo",
    "PcscCardRemovedError",
    "PcscError",
    "PcscNoReaderError",
    "PcscReader",
    "PcscTimeoutError",
    "PcscTransport",
    "PyscardMissingError",
    "ReaderStatus",
    "ResolvingReader",
    "decode_atr",
    "error_for",
    "forget_reader_capabilities",
    "list_readers",
    "map_pyscard_exception",
    "open_reader",
    "pyscard_available",
    "reader_extended_length",
    "reader_names",
    "resolve_reader",
    "service_error",
]

T = TypeVar("T")

#: Seconds one APDU may take before the exchange is abandoned (a 60 KB DG2 in one
#: extended response takes about 5 s at 106 kbit/s).
DEFAULT_TRANSMIT_TIMEOUT = 15.0
#: Seconds SCardConnect may take (power-up and ATR).
CONNECT_TIMEOUT = 10.0
#: Seconds to let pcscd notice a removal after an empty response (it polls about every 0.3 s).
REMOVAL_SETTLE = 1.0

# ---------------------------------------------------------------------------------------
# PC/SC return codes and reader states (pcsc-lite pcsclite.h; the same values as WinSCard).
# Kept here so the mapping works, and is tested, without pyscard.

SCARD_S_SUCCESS = 0x00000000
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_INVALID_PARAMETER = 0x80100004
SCARD_E_INSUFFICIENT_BUFFER = 0x80100008
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_E_NOT_READY = 0x80100010
SCARD_F_COMM_ERROR = 0x80100013
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_UNSUPPORTED_FEATURE = 0x8010001F
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

SCARD_STATE_UNAWARE = 0x0000
SCARD_STATE_CHANGED = 0x0002
SCARD_STATE_UNKNOWN = 0x0004
SCARD_STATE_UNAVAILABLE = 0x0008
SCARD_STATE_EMPTY = 0x0010
SCARD_STATE_PRESENT = 0x0020
SCARD_STATE_EXCLUSIVE = 0x0080
SCARD_STATE_INUSE = 0x0100
SCARD_STATE_MUTE = 0x0200

#: The card has gone (or was reset under us, which ends any session just the same).
CARD_GONE = frozenset(
    {
        SCARD_W_REMOVED_CARD,
        SCARD_E_NO_SMARTCARD,
        SCARD_W_RESET_CARD,
        SCARD_W_UNPOWERED_CARD,
    }
)
#: The reader or the PC/SC service is not there (unplugged, pcscd stopped or restarted).
READER_GONE = frozenset(
    {
        SCARD_E_NO_SERVICE,
        SCARD_E_SERVICE_STOPPED,
        SCARD_E_UNKNOWN_READER,
        SCARD_E_READER_UNAVAILABLE,
        SCARD_E_NO_READERS_AVAILABLE,
        SCARD_E_INVALID_HANDLE,
    }
)
#: What a call on a live context answers once pcscd died under it (pcsc-lite answers
#: ``SCARD_F_COMM_ERROR`` when its socket to pcscd breaks): the service is gone, not the card.
SERVICE_LOST = READER_GONE | {SCARD_F_COMM_ERROR}
#: What pcsc-lite and reader drivers answer to an APDU longer than the reader takes.
LENGTH_REFUSED = frozenset(
    {
        SCARD_E_INSUFFICIENT_BUFFER,
        SCARD_E_INVALID_PARAMETER,
        SCARD_E_UNSUPPORTED_FEATURE,
        SCARD_E_NOT_TRANSACTED,
    }
)

_CODE_NAMES = {
    value: name
    for name, value in globals().items()
    if name.startswith(("SCARD_E_", "SCARD_W_", "SCARD_F_")) and isinstance(value, int)
}

#: The longest short APDU: CLA INS P1 P2 Lc 255 bytes Le (ISO/IEC 7816-4 §5.1).
SHORT_APDU_MAX = 261
#: ``6700``: wrong length (ISO/IEC 7816-4 §5.6), as a reader answers a frame it cannot carry.
SW_WRONG_LENGTH = b"\x67\x00"
#: The extended-length probe: READ BINARY of EF.CardAccess (SFI 1C, 9303-10 §3.11.1) with
#: an extended Le of 65536, plain, in the master file (ISO/IEC 7816-4 §11.3.3).
PROBE_APDU = bytes.fromhex("00B09C00000000")
#: Status words that mean the probe reached the card and came back (9303-11 §4.2:
#: ``6A82`` from a BAC-only chip without EF.CardAccess).
_PROBE_CARRIED = frozenset({0x9000, 0x6282, 0x6A82, 0x6982, 0x6A86, 0x6B00, 0x6986})


# ---------------------------------------------------------------------------------------
# errors


class PcscError(TransportError):
    """A PC/SC call failed.

    :ivar hresult: the PC/SC return code (e.g. ``0x80100069``), ``None`` when
        the failure has none (a response without status word).
    :ivar operation: the call that failed (``"SCardTransmit"``).
    """

    def __init__(self, message: str, *, hresult: int | None = None, operation: str = "") -> None:
        self.hresult = None if hresult is None else hresult & 0xFFFFFFFF
        self.operation = operation
        super().__init__(message)


class PcscNoReaderError(PcscError, NoReaderError):
    """The reader or pcscd is gone (unplugged, stopped, restarted), or no reader matches."""


class PcscCardRemovedError(PcscError, CardRemovedError):
    """The card left the reader (or was reset) before or during an exchange."""


class AmbiguousReaderError(PcscNoReaderError):
    """``--reader`` matches several readers (or was left out while several are connected)."""


class PcscTimeoutError(PcscError):
    """The reader did not answer within the configured time; the link is abandoned."""


class PyscardMissingError(NoReaderError):
    """pyscard (the ``pcsc`` extra) is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "PC/SC support needs pyscard: pip install 'epass[pcsc]' "
            "(on Debian/Ubuntu first: apt-get install pcscd libpcsclite-dev gcc)"
        )


def code_name(hresult: int) -> str:
    """The symbolic name of a PC/SC return code (``SCARD_W_REMOVED_CARD``), or its hex value."""
    code = hresult & 0xFFFFFFFF
    return _CODE_NAMES.get(code, f"0x{code:08X}")


def error_for(hresult: int, operation: str, detail: str = "") -> PcscError:
    """The typed error for a failed PC/SC call (the one place that classifies return codes).

    :param hresult: the PC/SC return code.
    :param operation: the call that failed, for the message.
    :param detail: what was being done (``"reader 'X'"``), for the message.
    :returns: :class:`PcscCardRemovedError` for :data:`CARD_GONE` codes,
        :class:`PcscNoReaderError` for :data:`READER_GONE` codes,
        :class:`PcscTimeoutError` for ``SCARD_E_TIMEOUT``, else :class:`PcscError`.
    """
    code = hresult & 0xFFFFFFFF
    text = _message(code)
    where = f" ({detail})" if detail else ""
    message = f"{operation}{where}: {text} [{code_name(code)} 0x{code:08X}]"
    if code == SCARD_E_SHARING_VIOLATION:
        message = (
            f"{operation}{where}: the reader is held exclusively by another program "
            f"[{code_name(code)} 0x{code:08X}]"
        )
    cls: type[PcscError]
    if code in CARD_GONE:
        cls = PcscCardRemovedError
    elif code in READER_GONE:
        cls = PcscNoReaderError
    elif code == SCARD_E_TIMEOUT:
        cls = PcscTimeoutError
    else:
        cls = PcscError
    return cls(message, hresult=code, operation=operation)


def service_error(hresult: int, operation: str, detail: str = "") -> PcscError:
    """:func:`error_for` for a call about the reader or the service (status, connect).

    There ``SCARD_F_COMM_ERROR`` means the link to pcscd broke (pcscd stopped,
    crashed or restarted): a :class:`PcscNoReaderError`, so a caller waits for
    the reader to come back instead of taking it for a card fault.
    """
    code = hresult & 0xFFFFFFFF
    if code == SCARD_F_COMM_ERROR:
        where = f" ({detail})" if detail else ""
        return PcscNoReaderError(
            f"{operation}{where}: lost the link to the PC/SC service (pcscd stopped or "
            f"restarted?) [{code_name(code)} 0x{code:08X}]",
            hresult=code,
            operation=operation,
        )
    return error_for(code, operation, detail)


_MESSAGES = {
    SCARD_W_REMOVED_CARD: "the card was removed",
    SCARD_E_NO_SMARTCARD: "no card in the reader",
    SCARD_W_RESET_CARD: "the card was reset",
    SCARD_W_UNPOWERED_CARD: "the card is not powered",
    SCARD_W_UNRESPONSIVE_CARD: "the card does not answer to reset",
    SCARD_E_NO_SERVICE: "the PC/SC service (pcscd) is not running",
    SCARD_E_SERVICE_STOPPED: "the PC/SC service (pcscd) stopped",
    SCARD_E_UNKNOWN_READER: "no such reader",
    SCARD_E_READER_UNAVAILABLE: "the reader is not available",
    SCARD_E_NO_READERS_AVAILABLE: "no reader is connected",
    SCARD_E_INVALID_HANDLE: "the PC/SC handle is no longer valid (pcscd restarted?)",
    SCARD_E_TIMEOUT: "timed out",
    SCARD_E_PROTO_MISMATCH: "the card does not speak T=1",
    SCARD_E_NOT_TRANSACTED: "the reader could not complete the exchange",
    SCARD_E_INSUFFICIENT_BUFFER: "the reader cannot carry an APDU this long",
    SCARD_F_COMM_ERROR: "communication error with the reader",
}


def _message(code: int) -> str:
    text = _MESSAGES.get(code)
    if text is not None:
        return text
    if _scard is not None:
        try:
            return str(_scard.SCardGetErrorMessage(code)).rstrip(".")
        except Exception:  # noqa: S110 - only the wording is lost
            pass
    return "PC/SC error"


def map_pyscard_exception(exc: BaseException, operation: str = "pyscard") -> PcscError:
    """Map an exception raised by pyscard to the typed error, keeping its ``hresult``.

    pyscard's exceptions (``CardConnectionException``, ``NoCardException``,
    ``NoReadersException``, …) carry ``hresult`` (``-1`` when they have none);
    the low-level ``smartcard.scard.error`` carries none.
    ``NoCardException`` and "Card returned no valid response" (pyscard's words
    when a card vanished mid-APDU) map to :class:`PcscCardRemovedError`.
    """
    hresult = getattr(exc, "hresult", -1)
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(hresult, int) and hresult not in (-1, 0):
        err = error_for(hresult, operation, detail=name)
    elif name == "NoCardException" or "no valid response" in text:
        err = PcscCardRemovedError(f"{operation}: {text}", operation=operation)
    elif name in ("NoReadersException", "ListReadersException", "InvalidReaderException"):
        err = PcscNoReaderError(f"{operation}: {text}", operation=operation)
    else:
        err = PcscError(f"{operation}: {text}", operation=operation)
    err.__cause__ = exc
    return err


# ---------------------------------------------------------------------------------------
# bytes <-> pyscard's list[int], in one place


def to_pcsc(data: bytes) -> list[int]:
    """pyscard takes byte strings as ``list[int]``."""
    return list(data)


def from_pcsc(data: Sequence[int] | bytes | None) -> bytes:
    """pyscard returns ``list[int]`` (values 0..255; some builds signed bytes)."""
    if not data:
        return b""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return bytes(b & 0xFF for b in data)


# ---------------------------------------------------------------------------------------
# ATR decoding (pure)

#: Compact-TLV tags of the historical bytes (ISO/IEC 7816-4 §8.1.1, Table 85).
_COMPACT_TAGS = {
    0x1: "country code",
    0x2: "issuer identification number",
    0x3: "card service data",
    0x4: "initial access data",
    0x5: "card issuer's data",
    0x6: "pre-issuing data",
    0x7: "card capabilities",
    0x8: "status indicator",
    0xF: "application identifier",
}
#: PC/SC Part 3 §3.1.3.2.3: registered application provider identifier in a storage card ATR.
_PCSC_RID = bytes.fromhex("A000000306")

AtrKind = Literal["contactless", "contactless storage card", "contact", "malformed"]


@dataclass(frozen=True)
class AtrInfo:
    """An ATR decoded (ISO/IEC 7816-3 §8.2, ISO/IEC 7816-4 §8.1.1, PC/SC Part 3 §3.1.3.2.3).

    :ivar atr: the ATR bytes.
    :ivar kind: ``"contactless"`` (an ISO/IEC 14443-4 card behind a PC/SC reader:
        ``3B 8n 80 01`` + historical bytes + TCK), ``"contactless storage card"``
        (MIFARE and the like, not an eMRTD), ``"contact"`` or ``"malformed"``.
    :ivar protocols: the transmission protocols the ATR indicates (T=0 when none is).
    :ivar historical_bytes: T1..TK (for a contactless type A card, the ATS
        historical bytes; for type B, the ATQB application data and protocol info).
    :ivar checksum_ok: TCK verified; ``None`` when the ATR has no TCK (T=0 only).
    :ivar objects: the compact-TLV data objects of the historical bytes
        (category ``80`` or ``00``), as ``(name, value)``.
    :ivar capabilities: what the card capabilities object says of lengths
        (:func:`epass.capabilities.parse_atr`).
    :ivar capability_notes: the card capabilities bits in words.
    :ivar problem: why the ATR is malformed, or ``None``.
    """

    atr: bytes
    kind: AtrKind
    protocols: tuple[int, ...] = ()
    historical_bytes: bytes = b""
    checksum_ok: bool | None = None
    objects: tuple[tuple[str, bytes], ...] = ()
    capabilities: CardCapabilities = field(default_factory=CardCapabilities)
    capability_notes: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def extended_length(self) -> bool | None:
        """What the card says of extended Lc/Le: ``True``, ``False`` or ``None`` (silent)."""
        return self.capabilities.extended_length

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (hex strings)."""
        return {
            "atr": self.atr.hex().upper(),
            "kind": self.kind,
            "protocols": [f"T={p}" for p in self.protocols],
            "historical_bytes": self.historical_bytes.hex().upper(),
            "checksum_ok": self.checksum_ok,
            "historical_objects": [
                {"name": name, "value": value.hex().upper()} for name, value in self.objects
            ],
            "card_capabilities": list(self.capability_notes),
            "extended_length": self.capabilities.extended_length,
            "ef_atr_info": self.capabilities.atr_info_present,
            "problem": self.problem,
        }


def _interface_bytes(atr: bytes) -> tuple[int, list[int], str | None]:
    """Walk TS T0 TAi TBi TCi TDi: ``(index of T1, protocols, problem)``."""
    y = atr[1] >> 4
    pos = 2
    protocols: list[int] = []
    while True:
        pos += bin(y & 0x7).count("1")  # TA, TB, TC
        if not y & 0x8:
            break
        if pos >= len(atr):
            return pos, protocols, f"truncated in the interface bytes at offset {pos}"
        td = atr[pos]
        protocols.append(td & 0x0F)
        y = td >> 4
        pos += 1
        if pos > 32:  # ISO/IEC 7816-3: an ATR has at most 32 bytes after TS
            return pos, protocols, "more interface bytes than an ATR can hold"
    if pos > len(atr):
        return pos, protocols, f"truncated in the interface bytes at offset {len(atr)}"
    return pos, protocols, None


def _compact_tlv(data: bytes) -> tuple[list[tuple[str, bytes]], str | None]:
    objects: list[tuple[str, bytes]] = []
    pos = 0
    while pos < len(data):
        tag, length = data[pos] >> 4, data[pos] & 0x0F
        value = data[pos + 1 : pos + 1 + length]
        if len(value) < length:
            return objects, f"compact-TLV object {data[pos]:02X} runs past the historical bytes"
        objects.append((_COMPACT_TAGS.get(tag, f"tag {tag:X}"), value))
        pos += 1 + length
    return objects, None


def _capability_notes(value: bytes) -> tuple[str, ...]:
    """ISO/IEC 7816-4 §8.1.1.2.7, Tables 86-88: the three software function tables."""
    notes: list[str] = []
    if len(value) >= 1:
        first = value[0]
        methods = [
            (0x80, "DF selection by full DF name"),
            (0x40, "DF selection by partial DF name"),
            (0x20, "DF selection by path"),
            (0x10, "DF selection by file identifier"),
            (0x08, "implicit DF selection"),
            (0x04, "short EF identifier supported"),
            (0x02, "record number supported"),
            (0x01, "record identifier supported"),
        ]
        notes += [text for bit, text in methods if first & bit]
    if len(value) >= 3:
        third = value[2]
        notes.append("command chaining" if third & 0x80 else "no command chaining")
        notes.append("extended Lc and Le" if third & 0x40 else "no extended Lc and Le")
        if third & 0x20:
            notes.append("extended length information in EF.ATR/INFO")
        channels = third & 0x07
        notes.append(f"logical channels: {channels + 1 if channels != 7 else '8 or more'}")
    return tuple(notes)


def decode_atr(atr: bytes) -> AtrInfo:
    """Decode an ATR; never raises (a malformed ATR comes back with :attr:`AtrInfo.problem`).

    Contactless cards: a PC/SC reader builds ``3B 8n 80 01`` + the historical
    bytes + TCK for an ISO/IEC 14443-4 card (PC/SC Part 3 §3.1.3.2.3.1), and
    ``3B 8F 80 01 80 4F 0C A0 00 00 03 06 …`` for a storage card (§3.1.3.2.3.2).
    The historical bytes are read as compact-TLV when their category indicator
    is ``80`` or ``00`` (ISO/IEC 7816-4 §8.1.1.1).
    """
    atr = bytes(atr[:64])
    if len(atr) < 2:
        return AtrInfo(atr, "malformed", problem="shorter than TS and T0")
    if atr[0] not in (0x3B, 0x3F):
        return AtrInfo(atr, "malformed", problem=f"TS is {atr[0]:02X}, not 3B or 3F")
    start, protocols, problem = _interface_bytes(atr)
    if problem is not None:
        return AtrInfo(atr, "malformed", problem=problem)
    k = atr[1] & 0x0F
    historical = atr[start : start + k]
    if len(historical) < k:
        return AtrInfo(
            atr,
            "malformed",
            protocols=tuple(protocols),
            problem="truncated in the historical bytes",
        )
    rest = atr[start + k :]
    needs_tck = any(p != 0 for p in protocols)
    checksum_ok: bool | None = None
    if needs_tck:
        if len(rest) != 1:
            why = "no TCK" if not rest else f"{len(rest) - 1} byte(s) after TCK"
            return AtrInfo(atr, "malformed", tuple(protocols), historical, problem=why)
        tck = 0
        for b in atr[1:]:
            tck ^= b
        checksum_ok = tck == 0
    elif rest:
        return AtrInfo(
            atr,
            "malformed",
            tuple(protocols),
            historical,
            problem=f"{len(rest)} byte(s) after the historical bytes",
        )
    indicated = tuple(dict.fromkeys(protocols)) or (0,)
    kind: AtrKind = "contact"
    if (atr[1] & 0xF0) == 0x80 and atr[2:4] == b"\x80\x01":
        kind = "contactless"
        indicated = (1,)  # PC/SC Part 3: TD1 = 80 is a fixed filler, the link is T=1 (TD2 = 01)
        if historical[:3] == b"\x80\x4f\x0c" and historical[3:8] == _PCSC_RID:
            kind = "contactless storage card"
    objects: list[tuple[str, bytes]] = []
    notes: tuple[str, ...] = ()
    tlv_problem: str | None = None
    if kind == "contactless storage card":  # 80 4F 0C <RID, standard, card name, RFU>
        objects = [("application identifier", historical[3:15])]
    elif historical[:1] == b"\x80":
        objects, tlv_problem = _compact_tlv(historical[1:])
    elif historical[:1] == b"\x00" and len(historical) >= 4:
        objects, tlv_problem = _compact_tlv(historical[1:-3])
        objects.append(("status indicator", historical[-3:]))
    for name, value in objects:
        if name == "card capabilities":
            notes = _capability_notes(value)
    if checksum_ok is False:
        tlv_problem = "TCK does not match"
    return AtrInfo(
        atr,
        kind,
        indicated,
        historical,
        checksum_ok,
        tuple(objects),
        parse_atr(atr),
        notes,
        tlv_problem,
    )


# ---------------------------------------------------------------------------------------
# what is known of readers

#: Publicly documented facts about common readers (drivers/README.md has sources;
#: none of them was tested on hardware by epass): name substring -> (extended length, note).
KNOWN_READERS: dict[str, tuple[bool | None, str]] = {
    "ACR122": (
        False,
        "short APDUs only (CCID descriptor: short APDU level exchange, 271-byte messages); "
        "blacklist the pn533/pn533_usb/nfc kernel modules on Linux",
    ),
    "ACR1252": (True, "CCID descriptor announces short and extended APDU level exchange"),
    "OMNIKEY 5022": (None, "extended length not confirmed from public sources"),
    "OMNIKEY 5422": (None, "extended length not confirmed from public sources"),
    "uTrust 3700 F": (None, "extended length not confirmed from public sources"),
    "cyberJack RFID": (
        True,
        "German eID reader (needs extended length); uses REINER SCT's own driver "
        "(libifd-cyberjack), not libccid",
    ),
    "Virtual PCD": (True, "vsmartcard vpcd: carries extended APDUs"),
}

_CAPABILITY_LOCK = threading.Lock()
_READER_EXTENDED: dict[str, bool] = {}


def reader_extended_length(name: str) -> bool | None:
    """What this process learnt of the reader *name* carrying extended APDUs (``None``: not yet)."""
    with _CAPABILITY_LOCK:
        return _READER_EXTENDED.get(name)


def _remember_extended(name: str, value: bool) -> None:
    with _CAPABILITY_LOCK:
        _READER_EXTENDED[name] = value


def forget_reader_capabilities() -> None:
    """Forget what was learnt of readers (tests; a reader replaced under the same name)."""
    with _CAPABILITY_LOCK:
        _READER_EXTENDED.clear()


def known_reader(name: str) -> tuple[bool | None, str] | None:
    """The :data:`KNOWN_READERS` entry whose key is part of *name*, if any."""
    lowered = name.lower()
    for key, value in KNOWN_READERS.items():
        if key.lower() in lowered:
            return value
    return None


# ---------------------------------------------------------------------------------------
# pyscard access


def pyscard_available() -> bool:
    """Whether pyscard (the ``pcsc`` extra) can be imported."""
    return _scard is not None


def _api() -> Any:
    if _scard is None:
        raise PyscardMissingError()
    return _scard


def _call(operation: str, fn: Callable[..., T], *args: Any) -> T:
    """Call a pyscard function, mapping any exception it raises."""
    try:
        return fn(*args)
    except Exception as exc:
        if _SmartcardException is not None and isinstance(exc, _SmartcardException):
            raise map_pyscard_exception(exc, operation) from exc
        error_type = getattr(_scard, "error", None)
        if isinstance(error_type, type) and isinstance(exc, error_type):
            raise map_pyscard_exception(exc, operation) from exc
        raise


class _Context:
    """One PC/SC context (``SCardEstablishContext``), released once."""

    def __init__(self, api: Any) -> None:
        self.api = api
        hresult, handle = _call(
            "SCardEstablishContext", api.SCardEstablishContext, api.SCARD_SCOPE_USER
        )
        if hresult != SCARD_S_SUCCESS:
            raise error_for(hresult, "SCardEstablishContext")
        self.handle = handle
        self.released = False

    def list_readers(self) -> list[str]:
        hresult, names = _call("SCardListReaders", self.api.SCardListReaders, self.handle, [])
        code = hresult & 0xFFFFFFFF
        if code in (SCARD_E_NO_READERS_AVAILABLE,):
            return []
        if code != SCARD_S_SUCCESS:
            raise error_for(code, "SCardListReaders")
        return [str(n) for n in names or []]

    def status_change(
        self, timeout_ms: int, states: list[tuple[str, int]]
    ) -> tuple[int, list[tuple[str, int, bytes]]]:
        hresult, result = _call(
            "SCardGetStatusChange", self.api.SCardGetStatusChange, self.handle, timeout_ms, states
        )
        out = [
            (str(r[0]), int(r[1]), from_pcsc(r[2] if len(r) > 2 else None)) for r in result or []
        ]
        return hresult & 0xFFFFFFFF, out

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            self.api.SCardReleaseContext(self.handle)
        except Exception:  # noqa: S110 - releasing a dead context may fail; nothing to do
            pass


class _Worker:
    """A daemon thread that runs blocking PC/SC calls, so a caller can stop waiting.

    After a call timed out the worker is *stuck*: it takes no more calls, and
    when the stuck call finally returns (the card was pulled, the reader
    unplugged) it runs the clean-ups registered with :meth:`after_stuck`
    (disconnect the card, release the context) and ends.
    """

    _CLEAN_UP = object()

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stuck = False
        self._lock = threading.Lock()
        self._cleanups: list[Callable[[], None]] = []
        self._cleaned = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job is self._CLEAN_UP:
                with self._lock:
                    cleanups, self._cleanups, self._cleaned = self._cleanups, [], True
                for cleanup in cleanups:
                    _quietly(cleanup)
                return
            fn, reply = job
            try:
                reply.put((True, fn()))
            except BaseException as exc:
                reply.put((False, exc))

    def call(self, fn: Callable[[], T], timeout: float | None, what: str) -> T:
        if self.stuck:
            raise PcscTimeoutError(f"{what}: an earlier exchange never returned", operation=what)
        reply: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._jobs.put((fn, reply))
        try:
            ok, value = reply.get(timeout=timeout)
        except queue.Empty:
            self.stuck = True
            self._jobs.put(self._CLEAN_UP)  # runs once the stuck call returns
            raise PcscTimeoutError(
                f"{what}: no answer within {timeout:g} s", operation=what
            ) from None
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def after_stuck(self, cleanup: Callable[[], None]) -> None:
        """Run *cleanup* once the stuck call has returned (at once if it already has)."""
        with self._lock:
            if not self._cleaned:
                self._cleanups.append(cleanup)
                return
        _quietly(cleanup)

    def stop(self) -> None:
        self._jobs.put(None)


def _quietly(action: Callable[[], object]) -> None:
    """Run a clean-up whose failure changes nothing (the card or pcscd may be gone)."""
    try:
        action()
    except Exception:  # noqa: S110 - nothing left to do about it
        pass


# ---------------------------------------------------------------------------------------
# reader names


def reader_names() -> list[str]:
    """The names of the readers pcscd knows, in pcscd's order (select by name, never by index).

    :raises PyscardMissingError: without pyscard.
    :raises PcscNoReaderError: when pcscd is not running.
    """
    context = _Context(_api())
    try:
        return context.list_readers()
    finally:
        context.release()


def resolve_reader(spec: str | None, names: Sequence[str] | None = None) -> str:
    """The reader ``--reader`` means: an exact name, else a unique case-insensitive substring.

    :param spec: what the user typed; ``None`` or empty picks the only reader present.
    :param names: the readers to choose from (default: :func:`reader_names`).
    :returns: the full reader name.
    :raises NoReaderError: no reader present, no reader matches;
        :class:`AmbiguousReaderError` when several match (the message lists them) or
        *spec* is empty while several are present.
    """
    available = list(reader_names() if names is None else names)
    if not available:
        raise PcscNoReaderError("no PC/SC reader is connected", operation="resolve_reader")
    listing = ", ".join(repr(n) for n in available)
    if not spec:
        if len(available) == 1:
            return available[0]
        raise AmbiguousReaderError(
            f"{len(available)} readers are connected ({listing}): choose one with --reader",
            operation="resolve_reader",
        )
    if spec in available:
        return spec
    wanted = spec.casefold()
    matches = [n for n in available if wanted in n.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise PcscNoReaderError(
            f"no reader matches {spec!r}; connected: {listing}", operation="resolve_reader"
        )
    raise AmbiguousReaderError(
        f"{spec!r} matches {len(matches)} readers ({', '.join(repr(m) for m in matches)}): "
        "give more of the name",
        operation="resolve_reader",
    )


# ---------------------------------------------------------------------------------------
# listing


@dataclass(frozen=True)
class ReaderStatus:
    """One reader as :func:`list_readers` sees it.

    :ivar name: the PC/SC reader name.
    :ivar card_present: a card is in the reader (or in its field).
    :ivar atr: the card's ATR, when present.
    :ivar atr_info: the ATR decoded.
    :ivar in_use: another program has the card open; :ivar exclusive: … exclusively.
    :ivar mute: the card does not answer.
    :ivar reader_extended_length: what this process learnt by probing (``None``: not probed).
    :ivar known: what is publicly documented about the reader model
        (:data:`KNOWN_READERS`): ``(extended length, note)``.
    """

    name: str
    card_present: bool
    atr: bytes | None = None
    atr_info: AtrInfo | None = None
    in_use: bool = False
    exclusive: bool = False
    mute: bool = False
    reader_extended_length: bool | None = None
    known: tuple[bool | None, str] | None = None

    def extended_length_summary(self) -> str:
        """One line: what is known of extended length on this reader and card."""
        parts = []
        if self.reader_extended_length is not None:
            parts.append(
                "reader carries extended APDUs (probed)"
                if self.reader_extended_length
                else "reader refused an extended APDU (probed)"
            )
        elif self.known is not None and self.known[0] is not None:
            parts.append(
                "reader: extended APDUs documented"
                if self.known[0]
                else "reader: short APDUs only (documented)"
            )
        else:
            parts.append("reader: unknown until a read probes it")
        if self.atr_info is not None:
            card = self.atr_info.extended_length
            if card is None:
                parts.append("card: ATR silent (EF.ATR/INFO decides)")
            else:
                parts.append("card: extended Lc/Le" if card else "card: short APDUs only")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "name": self.name,
            "card_present": self.card_present,
            "in_use": self.in_use,
            "exclusive": self.exclusive,
            "mute": self.mute,
            "atr": None if self.atr_info is None else self.atr_info.to_dict(),
            "extended_length": {
                "reader_probed": self.reader_extended_length,
                "reader_documented": None if self.known is None else self.known[0],
                "reader_note": None if self.known is None else self.known[1],
                "card": None if self.atr_info is None else self.atr_info.extended_length,
                "summary": self.extended_length_summary(),
            },
        }


def list_readers() -> list[ReaderStatus]:
    """Every reader pcscd knows, with its card state and decoded ATR (no card is connected).

    :raises PyscardMissingError: without pyscard.
    :raises PcscNoReaderError: when pcscd is not running.
    """
    context = _Context(_api())
    try:
        names = context.list_readers()
        if not names:
            return []
        code, states = context.status_change(0, [(n, SCARD_STATE_UNAWARE) for n in names])
        if code not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
            raise error_for(code, "SCardGetStatusChange")
    finally:
        context.release()
    out = []
    for name, state, atr in states:
        present = bool(state & SCARD_STATE_PRESENT)
        out.append(
            ReaderStatus(
                name=name,
                card_present=present,
                atr=atr if present and atr else None,
                atr_info=decode_atr(atr) if present and atr else None,
                in_use=bool(state & SCARD_STATE_INUSE),
                exclusive=bool(state & SCARD_STATE_EXCLUSIVE),
                mute=bool(state & SCARD_STATE_MUTE),
                reader_extended_length=reader_extended_length(name),
                known=known_reader(name),
            )
        )
    return out


# ---------------------------------------------------------------------------------------
# the transport


class PcscTransport(Transport):
    """A connected card in one PC/SC reader, held exclusively until :meth:`close`.

    Made by :meth:`PcscReader.wait_for_card`; not constructed directly.

    :ivar reader: the reader name.
    :ivar protocol: the negotiated protocol (``1`` for T=1).
    :ivar apdus: APDUs sent (the probe included).
    """

    def __init__(
        self,
        *,
        api: Any,
        context: _Context,
        worker: _Worker,
        reader: str,
        card: Any,
        protocol: int,
        atr: bytes,
        transmit_timeout: float | None,
        on_stuck: Callable[[], None] | None = None,
    ) -> None:
        self._api = api
        self._context = context
        self._worker = worker
        self.reader = reader
        self._card = card
        self.protocol = protocol
        self._atr = atr
        self._pci = api.SCARD_PCI_T1 if protocol == api.SCARD_PROTOCOL_T1 else api.SCARD_PCI_T0
        self.transmit_timeout = transmit_timeout
        self._on_stuck = on_stuck
        self._extended: bool | None = reader_extended_length(reader)
        self.closed = False
        self.apdus = 0

    @property
    def atr(self) -> bytes | None:
        return self._atr

    @property
    def extended_length(self) -> bool | None:
        """Whether this reader carries extended APDUs (probed once per reader name)."""
        return self._extended

    def _run(self, what: str, fn: Callable[[], T], timeout: float | None) -> T:
        try:
            return self._worker.call(fn, timeout, what)
        except PcscTimeoutError:
            if not self.closed:
                self.closed = True
                self._worker.after_stuck(self._disconnect)
            if self._on_stuck is not None:
                self._on_stuck()
            raise

    def _disconnect(self) -> None:
        try:
            self._api.SCardEndTransaction(self._card, self._api.SCARD_LEAVE_CARD)
        finally:
            self._api.SCardDisconnect(self._card, self._api.SCARD_RESET_CARD)

    def _raw_transmit(self, apdu: bytes) -> tuple[int, bytes]:
        api, card, pci = self._api, self._card, self._pci

        def send() -> tuple[int, bytes]:
            hresult, response = _call("SCardTransmit", api.SCardTransmit, card, pci, to_pcsc(apdu))
            return hresult & 0xFFFFFFFF, from_pcsc(response)

        self.apdus += 1
        return self._run("SCardTransmit", send, self.transmit_timeout)

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return data + SW1 SW2.

        :raises PcscCardRemovedError: the card left the reader.
        :raises PcscNoReaderError: the reader or pcscd went away.
        :raises PcscTimeoutError: no answer within :attr:`transmit_timeout`.
        :raises PcscError: any other PC/SC failure, or a response without status word.
        """
        if self.closed:
            raise PcscError(f"reader {self.reader!r}: the connection is closed", operation="")
        code, response = self._raw_transmit(apdu)
        if code != SCARD_S_SUCCESS:
            # a card pulled mid-APDU fails the same way until pcscd has seen it go (it polls
            # vpcd and most drivers every few hundred ms): ask again for up to REMOVAL_SETTLE
            # before taking the failure for a refused frame or another fault
            if (
                len(apdu) > SHORT_APDU_MAX
                and code in LENGTH_REFUSED
                and self._card_present(settle=REMOVAL_SETTLE)
            ):
                # The reader cannot carry this frame; the chip never saw it. Answer as a
                # length-checking reader does, so the session can shrink and re-open.
                self._extended = False
                _remember_extended(self.reader, False)
                return SW_WRONG_LENGTH
            error = error_for(code, "SCardTransmit", f"reader {self.reader!r}")
            if not isinstance(error, PcscCardRemovedError | PcscNoReaderError):
                # readers report a card pulled mid-APDU in several ways, and a pcscd that
                # died mid-APDU as a communication error: ask what is still there
                presence = self._presence(settle=REMOVAL_SETTLE)
                if presence == "reader gone":
                    raise PcscNoReaderError(
                        f"{error} (the reader or pcscd is gone)",
                        hresult=code,
                        operation="SCardTransmit",
                    )
                if presence == "card gone":
                    raise PcscCardRemovedError(
                        f"{error} (the card is no longer in the reader)",
                        hresult=code,
                        operation="SCardTransmit",
                    )
            raise error
        if len(response) < 2:
            # An empty answer is how pcscd reports a card pulled mid-APDU before it has seen
            # the removal (about 0.3 s later): give it that long to say so.
            presence = self._presence(settle=REMOVAL_SETTLE if not response else 0.0)
            if presence == "reader gone":
                raise PcscNoReaderError(
                    f"SCardTransmit (reader {self.reader!r}): the reader or pcscd is gone",
                    operation="SCardTransmit",
                )
            if presence == "card gone":
                raise PcscCardRemovedError(
                    f"SCardTransmit (reader {self.reader!r}): the card was removed",
                    operation="SCardTransmit",
                )
            raise PcscError(
                f"SCardTransmit (reader {self.reader!r}): {len(response)}-byte response "
                "without a status word",
                operation="SCardTransmit",
            )
        return response

    def _card_present(self, settle: float = 0.0) -> bool:
        """Whether the card is still there; with *settle*, keep asking that many seconds."""
        return self._presence(settle) == "present"

    def _presence(self, settle: float = 0.0) -> Literal["present", "card gone", "reader gone"]:
        """What ``SCardStatus`` says is still there: the card, only the reader, or neither.

        With *settle*, keep asking that many seconds while the card seems present.
        """
        api, card = self._api, self._card

        def status() -> int:
            result = _call("SCardStatus", api.SCardStatus, card)
            return int(result[0]) & 0xFFFFFFFF

        deadline = time.monotonic() + settle
        while True:
            try:
                code = self._run("SCardStatus", status, CONNECT_TIMEOUT)
            except PcscNoReaderError:
                return "reader gone"
            except PcscError as exc:
                return "reader gone" if exc.hresult in SERVICE_LOST else "card gone"
            if code in SERVICE_LOST:
                return "reader gone"
            if code != SCARD_S_SUCCESS:
                return "card gone"
            if time.monotonic() >= deadline:
                return "present"
            time.sleep(0.05)

    def probe_extended_length(self) -> bool | None:
        """Learn whether the reader carries extended APDUs, once per reader name per process.

        Sends :data:`PROBE_APDU` in plain (before any secure messaging) when the
        card's ATR announces extended length and nothing is known yet. Remembers
        ``True`` when the card answered, ``False`` when the reader refused the
        frame at the PC/SC level; a ``6700`` (reader or card, no telling) makes
        this link short-only without remembering anything for the reader.

        :raises PcscCardRemovedError: / :raises PcscNoReaderError: as :meth:`transmit`.
        """
        if self._extended is not None:
            return self._extended
        card_says = parse_atr(self._atr)
        if card_says.extended_length is not True and not card_says.atr_info_present:
            return None  # the session will not ask for extended length anyway
        code, response = self._raw_transmit(PROBE_APDU)
        if code != SCARD_S_SUCCESS:
            if code in LENGTH_REFUSED and self._card_present(settle=REMOVAL_SETTLE):
                self._extended = False
                _remember_extended(self.reader, False)
                self._reset_card()
                return False
            raise error_for(code, "SCardTransmit", f"reader {self.reader!r}, extended-length probe")
        sw = int.from_bytes(response[-2:], "big") if len(response) >= 2 else None
        if sw in _PROBE_CARRIED:
            self._extended = True
            _remember_extended(self.reader, True)
        elif sw is not None:
            self._extended = False  # 6700 or a reader-specific refusal: short APDUs for this card
        return self._extended

    def _reset_card(self) -> None:
        """Re-power the card after a refused frame, so it starts from a clean state."""
        api, card = self._api, self._card

        def reconnect() -> int:
            result = _call(
                "SCardReconnect",
                api.SCardReconnect,
                card,
                api.SCARD_SHARE_EXCLUSIVE,
                api.SCARD_PROTOCOL_T1,
                api.SCARD_RESET_CARD,
            )
            return int(result[0]) & 0xFFFFFFFF

        code = self._run("SCardReconnect", reconnect, CONNECT_TIMEOUT)
        if code != SCARD_S_SUCCESS:
            raise error_for(code, "SCardReconnect", f"reader {self.reader!r}")
        self._begin_transaction()

    def _begin_transaction(self) -> None:
        api, card = self._api, self._card

        def begin() -> int:
            return int(_call("SCardBeginTransaction", api.SCardBeginTransaction, card)) & 0xFFFFFFFF

        code = self._run("SCardBeginTransaction", begin, CONNECT_TIMEOUT)
        if code != SCARD_S_SUCCESS:
            raise error_for(code, "SCardBeginTransaction", f"reader {self.reader!r}")

    def close(self) -> None:
        """End the transaction and disconnect, resetting the card (its session keys die)."""
        if self.closed:
            return
        self.closed = True
        _quietly(lambda: self._run("SCardDisconnect", self._disconnect, CONNECT_TIMEOUT))


# ---------------------------------------------------------------------------------------
# the card source


class PcscReader(CardSource):
    """One named PC/SC reader as a :class:`~epass.transport.CardSource`.

    :param name: the full reader name (see :func:`resolve_reader`).
    :param transmit_timeout: seconds one APDU may take (``None``: wait forever).
    :param probe: probe the reader's extended-length support on the first card
        (see :meth:`PcscTransport.probe_extended_length`).

    The PC/SC context is opened lazily and re-opened after pcscd went away,
    so a caller that got :class:`PcscNoReaderError` simply calls again.
    """

    def __init__(
        self,
        name: str,
        *,
        transmit_timeout: float | None = DEFAULT_TRANSMIT_TIMEOUT,
        probe: bool = True,
    ) -> None:
        self._name = name
        self.transmit_timeout = transmit_timeout
        self.probe = probe
        self._context: _Context | None = None
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"PcscReader({self._name!r})"

    # -- context management ----------------------------------------------------------

    def _ensure(self) -> tuple[_Context, _Worker]:
        with self._lock:
            if self._context is None or self._worker is None or self._worker.stuck:
                self._drop_locked()
                self._context = _Context(_api())
                self._worker = _Worker(f"epass-pcsc {self._name}")
            return self._context, self._worker

    def _drop_locked(self) -> None:
        context, worker = self._context, self._worker
        self._context = self._worker = None
        if worker is not None and not worker.stuck:
            worker.stop()
            if context is not None:
                context.release()
        elif worker is not None and context is not None:
            # a stuck worker holds the context's lock inside pcsc-lite: release it afterwards
            worker.after_stuck(context.release)

    def _abandon(self) -> None:
        with self._lock:
            self._drop_locked()

    def close(self) -> None:
        """Release the PC/SC context (transports already handed out stay usable until closed)."""
        self._abandon()

    def __enter__(self) -> PcscReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _state(self, context: _Context, timeout_ms: int, known: int) -> tuple[int, int, bytes]:
        code, states = context.status_change(timeout_ms, [(self._name, known)])
        if code in SERVICE_LOST:
            self._abandon()
            raise service_error(code, "SCardGetStatusChange", f"reader {self._name!r}")
        if code not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
            raise error_for(code, "SCardGetStatusChange", f"reader {self._name!r}")
        if not states:
            return code, known, b""
        _name, state, atr = states[0]
        if state & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE):
            self._abandon()
            raise PcscNoReaderError(
                f"reader {self._name!r} is not connected", operation="SCardGetStatusChange"
            )
        return code, state, atr

    def _wait(self, timeout: float, want_present: bool) -> bool:
        context, _worker = self._ensure()
        deadline = time.monotonic() + max(timeout, 0.0)
        known = SCARD_STATE_UNAWARE
        while True:
            remaining = deadline - time.monotonic()
            wait_ms = 0 if known == SCARD_STATE_UNAWARE else max(int(remaining * 1000), 0)
            code, state, _atr = self._state(context, wait_ms, known)
            present = bool(state & SCARD_STATE_PRESENT)
            if code == SCARD_S_SUCCESS and present == want_present:
                if not want_present or not state & SCARD_STATE_MUTE:
                    return True
            if remaining <= 0:
                return False
            known = state & ~SCARD_STATE_CHANGED

    # -- CardSource ------------------------------------------------------------------

    def wait_for_card(self, timeout: float) -> PcscTransport | None:
        """Wait up to *timeout* seconds for a card, connect (T=1, exclusive) and open a transaction.

        :returns: the connected transport, or ``None`` when no card came in time.
        :raises PcscNoReaderError: the reader or pcscd is gone.
        :raises PcscError: the card is present but cannot be opened (another
            program holds it exclusively: ``SCARD_E_SHARING_VIOLATION``; it does
            not speak T=1: ``SCARD_E_PROTO_MISMATCH``; it is mute).
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            if not self._wait(max(deadline - time.monotonic(), 0.0), want_present=True):
                return None
            transport = self._connect()
            if transport is not None:
                return transport
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)  # the card left between the event and the connect

    def _connect(self) -> PcscTransport | None:
        context, worker = self._ensure()
        api = context.api

        def connect() -> tuple[int, Any, int]:
            hresult, card, protocol = _call(
                "SCardConnect",
                api.SCardConnect,
                context.handle,
                self._name,
                api.SCARD_SHARE_EXCLUSIVE,
                api.SCARD_PROTOCOL_T1,
            )
            return hresult & 0xFFFFFFFF, card, int(protocol)

        try:
            code, card, protocol = worker.call(connect, CONNECT_TIMEOUT, "SCardConnect")
        except PcscTimeoutError:
            self._abandon()
            raise
        if code in CARD_GONE:
            return None
        if code in SERVICE_LOST:
            self._abandon()
        if code != SCARD_S_SUCCESS:
            raise service_error(code, "SCardConnect", f"reader {self._name!r}")

        def status() -> tuple[int, bytes]:
            result = _call("SCardStatus", api.SCardStatus, card)
            return int(result[0]) & 0xFFFFFFFF, from_pcsc(result[-1])

        transport = PcscTransport(
            api=api,
            context=context,
            worker=worker,
            reader=self._name,
            card=card,
            protocol=protocol,
            atr=b"",
            transmit_timeout=self.transmit_timeout,
            on_stuck=self._abandon,
        )
        try:
            transport._begin_transaction()
            code, atr = transport._run("SCardStatus", status, CONNECT_TIMEOUT)
            if code != SCARD_S_SUCCESS:
                raise error_for(code, "SCardStatus", f"reader {self._name!r}")
            transport._atr = atr
            if self.probe:
                transport.probe_extended_length()
        except PcscCardRemovedError:
            transport.close()
            return None
        except BaseException:
            transport.close()
            raise
        return transport

    def wait_for_presence(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds until a card is in the reader, without connecting to it.

        :returns: ``True`` when a card is present, ``False`` on timeout.
        :raises PcscNoReaderError: the reader or pcscd is gone.
        """
        return self._wait(timeout, want_present=True)

    def wait_for_removal(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds until the reader is empty.

        :returns: ``True`` when no card is present, ``False`` on timeout.
        :raises PcscNoReaderError: the reader or pcscd is gone.
        """
        return self._wait(timeout, want_present=False)


class ResolvingReader(CardSource):
    """A reader named as ``--reader`` names it, found when it is there (a kiosk's reader).

    Unlike :func:`open_reader`, nothing needs to be connected yet: each wait
    resolves *spec* (:func:`resolve_reader`) until a reader matches, and after
    the reader went away (:class:`PcscNoReaderError`: unplugged, pcscd stopped)
    it is resolved again, so a reader plugged back under another name (pcscd
    numbers readers as it finds them) is found as well. While nothing matches,
    the waits raise :class:`PcscNoReaderError` at once; the caller retries.

    :param spec: a full reader name or a unique part; ``None``: the only reader.
    :param options: passed to :class:`PcscReader`.
    """

    def __init__(self, spec: str | None, **options: Any) -> None:
        self.spec = spec or None
        self._options = options
        self._reader: PcscReader | None = None

    @property
    def name(self) -> str:
        if self._reader is not None:
            return self._reader.name
        return self.spec or "(the only PC/SC reader)"

    def __repr__(self) -> str:
        return f"ResolvingReader({self.spec!r})"

    def check(self) -> None:
        """Resolve now if the reader is there; raise only what waiting cannot mend.

        :raises PyscardMissingError: without pyscard.
        :raises AmbiguousReaderError: *spec* matches several readers.
        """
        try:
            self._current()
        except (PyscardMissingError, AmbiguousReaderError):
            raise
        except NoReaderError:
            pass  # not there yet, or pcscd not running: the waits will find it

    def _current(self) -> PcscReader:
        if self._reader is None:
            self._reader = PcscReader(resolve_reader(self.spec), **self._options)
        return self._reader

    def _forget(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def wait_for_card(self, timeout: float) -> PcscTransport | None:
        """As :meth:`PcscReader.wait_for_card`, resolving the reader first.

        :raises PcscNoReaderError: no reader matches (yet), or it went away.
        """
        try:
            return self._current().wait_for_card(timeout)
        except PcscNoReaderError:
            self._forget()
            raise

    def wait_for_removal(self, timeout: float) -> bool:
        """As :meth:`PcscReader.wait_for_removal`.

        :raises PcscNoReaderError: no reader matches (yet), or it went away.
        """
        try:
            return self._current().wait_for_removal(timeout)
        except PcscNoReaderError:
            self._forget()
            raise

    def close(self) -> None:
        """Release the PC/SC context of the resolved reader, if any."""
        self._forget()


def open_reader(spec: str | None = None, **options: Any) -> PcscReader:
    """Resolve *spec* (:func:`resolve_reader`) and return a :class:`PcscReader` for it.

    :param options: passed to :class:`PcscReader` (``transmit_timeout``, ``probe``).
    :raises NoReaderError: as :func:`resolve_reader`; :raises PyscardMissingError: without pyscard.
    """
    return PcscReader(resolve_reader(spec), **options)
