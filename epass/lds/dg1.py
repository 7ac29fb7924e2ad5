"""DG1, the machine readable zone as stored on the chip (ICAO Doc 9303-10 §4.7.1).

::

    '61' DG1 template
        '5F1F' the MRZ as one string: 88 (TD3), 72 (TD2) or 90 (TD1) characters

The MRZ is parsed by :mod:`epass.lds.mrz` with ``strict=False``: a wrong
check digit on the chip is reported in ``dg1.mrz.check_digit_errors`` and does
not make DG1 unreadable (chips with wrong check digits are in circulation).
"""

from __future__ import annotations

from dataclasses import dataclass

from epass import tlv
from epass.errors import ParseError
from epass.lds import mrz as mrz_module
from epass.lds.mrz import Mrz

__all__ = ["Dg1", "encode", "parse"]

FILE = "DG1"
TAG_DG1 = 0x61
TAG_MRZ = 0x5F1F


@dataclass(frozen=True, repr=False)
class Dg1:
    """A parsed DG1.

    :ivar mrz: the machine readable zone.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    """

    mrz: Mrz
    raw: bytes

    def __repr__(self) -> str:
        return f"Dg1({len(self.raw)} bytes, <personal data hidden>)"

    @property
    def issuing_state(self) -> str:
        """The issuing state code of the MRZ (fillers removed)."""
        return self.mrz.issuing_state


def parse(data: bytes) -> Dg1:
    """Parse DG1 (Doc 9303-10 §4.7.1).

    :raises ParseError: naming ``DG1`` and the offset if the bytes are not a
        ``'61'`` object holding ``'5F1F'`` with a well-formed MRZ (wrong check
        digits are not an error; see :attr:`Mrz.check_digit_errors`).
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG1)
    item = top.require(TAG_MRZ, file=FILE)
    if item.length > mrz_module.MAX_LENGTH:
        raise ParseError(
            f"MRZ of {item.length} characters: expected 90 (TD1), 72 (TD2) or 88 (TD3)",
            file=FILE,
            offset=item.value_offset,
        )
    try:
        text = item.value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ParseError(
            "MRZ is not ASCII text", file=FILE, offset=item.value_offset + exc.start
        ) from exc
    if any(ch.isspace() for ch in text):
        raise ParseError("MRZ in DG1 contains whitespace", file=FILE, offset=item.value_offset)
    try:
        parsed = mrz_module.parse(text, strict=False)
    except ParseError as exc:
        raise exc.within(FILE, item.value_offset) from exc
    return Dg1(parsed, raw)


def encode(mrz_text: str) -> bytes:
    """Encode DG1 for *mrz_text* (lines separated by whitespace, or continuous).

    The MRZ is validated (length and characters; check digits are not
    enforced, so that test documents with wrong check digits can be made).

    :raises ParseError: if *mrz_text* is not a TD1, TD2 or TD3 MRZ.
    """
    parsed = mrz_module.parse(mrz_text, strict=False)
    return tlv.encode(TAG_DG1, tlv.encode(TAG_MRZ, parsed.text.encode("ascii")))
