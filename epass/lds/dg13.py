"""DG13, optional details (ICAO Doc 9303-10 §4.7.13).

::

    '6D' DG13
        issuer-defined content (no structure is specified)

The content is exposed as bytes, with a text view when it is printable
UTF-8 and, when it happens to be a TLV sequence, its top-level objects.
Nothing in it is interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass

from epass import tlv
from epass.errors import ParseError
from epass.lds.files import LdsFile
from epass.lds.text import printable_text

__all__ = ["MAX_CONTENT", "MAX_OBJECTS", "Dg13", "encode", "encode_dg13", "parse"]

FILE = "DG13"
TAG_DG13 = 0x6D
#: Largest DG13 content accepted, in bytes (the size bound of :class:`LdsFile`).
MAX_CONTENT = LdsFile.DG13.max_size
#: Most top-level objects listed in :attr:`Dg13.objects` (the rest is only in :attr:`Dg13.content`).
MAX_OBJECTS = 256


@dataclass(frozen=True, repr=False)
class Dg13:
    """A parsed DG13.

    :ivar content: the value of ``'6D'``.
    :ivar text: :attr:`content` as text when it is printable UTF-8, else ``None``.
    :ivar objects: ``(tag, value)`` of the top-level objects when the content
        is a well-formed TLV sequence, else empty.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    """

    content: bytes
    text: str | None
    objects: tuple[tuple[int, bytes], ...]
    raw: bytes

    def __repr__(self) -> str:
        return f"Dg13({len(self.content)} bytes, <content hidden>)"

    @property
    def hex(self) -> str:
        """:attr:`content` in upper-case hex."""
        return self.content.hex().upper()


def _objects(top: tlv.Tlv) -> tuple[tuple[int, bytes], ...]:
    out: list[tuple[int, bytes]] = []
    try:
        for item in top.iter_children(file=FILE):
            if len(out) == MAX_OBJECTS:
                break
            out.append((item.tag, item.value))
    except ParseError:
        return ()
    return tuple(out)


def parse(data: bytes) -> Dg13:
    """Parse DG13 (Doc 9303-10 §4.7.13): the ``'6D'`` wrapper only.

    :raises ParseError: naming ``DG13`` and the offset if the bytes are not
        exactly one ``'6D'`` object, or its content is larger than
        :data:`MAX_CONTENT`.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG13)
    if top.length > MAX_CONTENT:
        raise ParseError(
            f"DG13 content of {top.length:,} bytes (at most {MAX_CONTENT:,})",
            file=FILE,
            offset=top.value_offset,
        )
    content = top.value
    return Dg13(content, printable_text(content), _objects(top), raw)


def encode_dg13(content: bytes) -> bytes:
    """Encode DG13 around issuer-defined *content*."""
    return tlv.encode(TAG_DG13, bytes(content))


#: The module-wide name every data group module has.
encode = encode_dg13
