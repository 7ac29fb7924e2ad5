"""What the card says about APDU lengths: ATR historical bytes and EF.ATR/INFO.

* ISO/IEC 7816-4 §8.1.1.2.7, "card capabilities" (compact-TLV tag ``7x`` in the
  historical bytes), third software function table: b7 (``0x40``) = extended
  Lc and Le fields supported, b6 (``0x20``) = extended length information in
  EF.ATR/INFO.
* ISO/IEC 7816-4 §12.7.1, EF.ATR/INFO (FID ``2F01``): data object ``7F66``,
  "extended length information", holding the maximum number of bytes in a
  command and in a response as INTEGERs (tag ``02``).
* PC/SC Part 3 §3.1.3.2.3: a contactless reader builds the ATR of an ISO/IEC
  14443-4 card as ``3B 8n 80 01`` + the ATS historical bytes + TCK.

Everything here is advisory and bounded: a malformed ATR simply yields "no
information", because the reader then falls back to short APDUs.

A claim below what every card takes — short APDUs (ISO/IEC 7816-4 §5.1: a
261-byte command, a 256-byte response) — is ignored and recorded in
:attr:`CardCapabilities.ignored`: one lying EF.ATR/INFO ("responses of at
most 1 byte") would otherwise make the reader fetch a document one byte per
command. A chip that really cannot send 256 bytes says so with ``6700`` or
``6Cxx``, which the file reader handles.
"""

from __future__ import annotations

from dataclasses import dataclass

from epass import tlv
from epass.errors import ParseError

__all__ = [
    "MIN_COMMAND_CLAIM",
    "MIN_RESPONSE_CLAIM",
    "CardCapabilities",
    "historical_bytes",
    "parse_atr",
    "parse_atr_info",
]

#: The smallest maximum command length believed from EF.ATR/INFO: a short APDU
#: (4-byte header, Lc, 255 data bytes, Le; ISO/IEC 7816-4 §5.1).
MIN_COMMAND_CLAIM = 261
#: The smallest maximum response length believed from EF.ATR/INFO: a short Le (256).
MIN_RESPONSE_CLAIM = 256


@dataclass(frozen=True, slots=True)
class CardCapabilities:
    """Length capabilities learnt from the card.

    :ivar extended_length: ``True``/``False`` when the card says, ``None`` when it does not.
    :ivar atr_info_present: the card points to EF.ATR/INFO for details.
    :ivar max_command: / :ivar max_response: byte limits from EF.ATR/INFO, if read.
    :ivar ignored: claims not believed because they are below the floor
        (:data:`MIN_COMMAND_CLAIM`, :data:`MIN_RESPONSE_CLAIM`), one sentence each.
    """

    extended_length: bool | None = None
    atr_info_present: bool = False
    max_command: int | None = None
    max_response: int | None = None
    ignored: tuple[str, ...] = ()


def historical_bytes(atr: bytes) -> bytes:
    """Extract the historical bytes of an ATR (ISO/IEC 7816-3 §8.2); ``b""`` if malformed."""
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        return b""
    t0 = atr[1]
    k = t0 & 0x0F
    pos = 2
    y = t0 >> 4
    while True:
        for bit in (0x1, 0x2, 0x4):  # TA, TB, TC present
            if y & bit:
                pos += 1
        if y & 0x8:  # TD present
            if pos >= len(atr):
                return b""
            y = atr[pos] >> 4
            pos += 1
        else:
            break
    if pos + k > len(atr):
        return b""
    return atr[pos : pos + k]


def parse_atr(atr: bytes | None) -> CardCapabilities:
    """Read the card capabilities data object from an ATR's historical bytes, if any."""
    if not atr:
        return CardCapabilities()
    hist = historical_bytes(atr)
    if len(hist) < 2 or hist[0] != 0x80:  # only the compact-TLV format (category 80)
        return CardCapabilities()
    pos = 1
    while pos < len(hist):
        tag, length = hist[pos] >> 4, hist[pos] & 0x0F
        value = hist[pos + 1 : pos + 1 + length]
        if len(value) < length:
            break
        if tag == 0x7 and length >= 3:
            third = value[2]
            return CardCapabilities(
                extended_length=bool(third & 0x40), atr_info_present=bool(third & 0x20)
            )
        pos += 1 + length
    return CardCapabilities()


def parse_atr_info(data: bytes, base: CardCapabilities | None = None) -> CardCapabilities:
    """Add the limits of EF.ATR/INFO's extended length information (``7F66``).

    :raises ParseError: if the file is not a well-formed TLV sequence.
    """
    base = base or CardCapabilities()
    # an EF in the master file may be padded with 00 or FF (ISO/IEC 7816-4 §5.2.2.1)
    for item in tlv.decode_all(data, file="EF.ATR/INFO", padding=True):
        if item.tag != 0x7F66:
            continue
        ints = [c for c in item.children(file="EF.ATR/INFO") if c.tag == 0x02]
        if len(ints) < 2 or any(not 1 <= len(i.value) <= 3 for i in ints[:2]):
            raise ParseError(
                "7F66 needs two short INTEGERs", file="EF.ATR/INFO", offset=item.offset
            )
        claimed_cmd = int.from_bytes(ints[0].value, "big")
        claimed_rsp = int.from_bytes(ints[1].value, "big")
        ignored: list[str] = []
        max_cmd: int | None = claimed_cmd
        max_rsp: int | None = claimed_rsp
        if claimed_cmd < MIN_COMMAND_CLAIM:
            max_cmd = None
            ignored.append(
                f"EF.ATR/INFO claims commands of at most {claimed_cmd} bytes, below the "
                f"{MIN_COMMAND_CLAIM} bytes of a short APDU: ignored"
            )
        if claimed_rsp < MIN_RESPONSE_CLAIM:
            max_rsp = None
            ignored.append(
                f"EF.ATR/INFO claims responses of at most {claimed_rsp} bytes, below the "
                f"{MIN_RESPONSE_CLAIM} bytes of a short APDU: ignored"
            )
        if ignored:
            extended = base.extended_length  # what the ATR said, if anything
        else:
            extended = claimed_cmd > 261 or claimed_rsp > 258
        return CardCapabilities(
            extended_length=extended,
            atr_info_present=True,
            max_command=max_cmd,
            max_response=max_rsp,
            ignored=(*base.ignored, *ignored),
        )
    return base
