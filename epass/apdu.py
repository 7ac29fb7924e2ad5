"""APDU codec: command and response APDUs, short and extended length (ISO/IEC 7816-4 §5.1).

:class:`CommandApdu` and :class:`ResponseApdu` are frozen values that encode
to and decode from raw bytes. ``le`` is the number of response bytes asked
for: ``None`` means no Le field, 256 is encoded as ``'00'`` in a short APDU
and 65536 as ``'0000'`` in an extended one (ISO/IEC 7816-4 §5.1, Table 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from epass.errors import LocalProtocolError, ParseError
from epass.status import StatusWord

__all__ = ["CommandApdu", "Ins", "ResponseApdu", "StatusWord"]

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_LC = 65535
EXTENDED_MAX_LE = 65536


class Ins(IntEnum):
    """Instruction bytes used by eMRTD readers (ICAO Doc 9303-11, ISO/IEC 7816-4)."""

    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_BINARY_ODD = 0xB1
    GET_CHALLENGE = 0x84
    EXTERNAL_AUTHENTICATE = 0x82
    INTERNAL_AUTHENTICATE = 0x88
    MSE = 0x22
    GENERAL_AUTHENTICATE = 0x86
    GET_RESPONSE = 0xC0


@dataclass(frozen=True, slots=True)
class CommandApdu:
    """A command APDU.

    :ivar cla: class byte; :ivar ins: instruction; :ivar p1: :ivar p2: parameters.
    :ivar data: the command data field (may be empty).
    :ivar le: expected response length, 1..65536, or ``None`` for no Le field.
    :ivar extended: force extended-length encoding even if short would do.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            v = getattr(self, name)
            if not 0 <= v <= 0xFF:
                raise LocalProtocolError(f"{name} out of range: {v}")
        if len(self.data) > EXTENDED_MAX_LC:
            raise LocalProtocolError(f"command data too long: {len(self.data)} bytes")
        if self.le is not None and not 1 <= self.le <= EXTENDED_MAX_LE:
            raise LocalProtocolError(f"Le out of range: {self.le}")

    @property
    def is_extended(self) -> bool:
        """Whether this APDU needs (or asks for) extended-length encoding."""
        return (
            self.extended
            or len(self.data) > SHORT_MAX_LC
            or (self.le is not None and self.le > SHORT_MAX_LE)
        )

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def to_bytes(self) -> bytes:
        """Encode per ISO/IEC 7816-4 §5.1 (cases 1, 2S/E, 3S/E, 4S/E)."""
        out = bytearray(self.header)
        ext = self.is_extended
        if self.data:
            if ext:
                out += b"\x00" + len(self.data).to_bytes(2, "big")
            else:
                out.append(len(self.data))
            out += self.data
        if self.le is not None:
            if ext:
                le = b"\x00\x00" if self.le == EXTENDED_MAX_LE else self.le.to_bytes(2, "big")
                out += le if self.data else b"\x00" + le
            else:
                out.append(self.le & 0xFF)
        return bytes(out)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandApdu:
        """Decode a command APDU (the card side needs this).

        :raises ParseError: if the length fields do not match the bytes.
        """
        raw = bytes(raw)
        if len(raw) < 4:
            raise ParseError(f"command APDU of {len(raw)} bytes", file="C-APDU", offset=0)
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        n = len(body)
        if n == 0:  # case 1
            return cls(cla, ins, p1, p2)
        if n == 1:  # case 2S
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:  # short cases 3S / 4S
            lc = body[0]
            if n == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if n == 2 + lc:
                return cls(cla, ins, p1, p2, body[1 : 1 + lc], le=body[-1] or 256)
            raise ParseError(f"Lc={lc} does not match {n - 1} body bytes", file="C-APDU", offset=4)
        # extended: body[0] == 0
        if n == 3:  # case 2E
            le = int.from_bytes(body[1:3], "big") or 65536
            return cls(cla, ins, p1, p2, le=le, extended=True)
        if n < 3:
            raise ParseError("truncated extended length", file="C-APDU", offset=4)
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise ParseError("extended Lc of zero", file="C-APDU", offset=5)
        if n == 3 + lc:  # case 3E
            return cls(cla, ins, p1, p2, body[3:], extended=True)
        if n == 5 + lc:  # case 4E
            le = int.from_bytes(body[-2:], "big") or 65536
            return cls(cla, ins, p1, p2, body[3 : 3 + lc], le=le, extended=True)
        raise ParseError(
            f"extended Lc={lc} does not match {n - 3} body bytes", file="C-APDU", offset=4
        )

    def describe(self) -> str:
        """A short human name for traces and errors, e.g. ``"READ BINARY"``."""
        try:
            return Ins(self.ins).name.replace("_", " ")
        except ValueError:
            return f"INS {self.ins:02X}"


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    """A response APDU: data then SW1 SW2."""

    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def status(self) -> StatusWord:
        return StatusWord.from_int(self.sw)

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseApdu:
        """Split raw response bytes into data and status word.

        :raises ParseError: if fewer than two bytes were received.
        """
        if len(raw) < 2:
            raise ParseError(f"response APDU of {len(raw)} bytes", file="R-APDU", offset=0)
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))
