"""A bounded BER-TLV codec for the LDS (ICAO Doc 9303-10 §4, ISO/IEC 7816-4 §5.2).

Tags are returned as ints holding their encoded bytes (``0x5F1F``, ``0x7F61``).
Lengths use the short form or the long form with up to four length bytes
(ISO/IEC 7816-4 §5.2.2.2 allows ``'81'`` to ``'84'``). Nothing here allocates
by an untrusted length: every length is checked against the bytes present
before any slice is taken, and nesting is limited to :data:`MAX_DEPTH`.

Indefinite lengths (``'80'``) are refused: the LDS uses DER-style definite
lengths; CMS content that uses BER inside EF.SOD is decoded by asn1crypto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from epass.errors import ParseError

__all__ = [
    "MAX_DEPTH",
    "Tlv",
    "decode",
    "decode_all",
    "encode",
    "encode_length",
    "encode_tag",
    "header",
    "is_constructed",
]

#: Deepest nesting :func:`walk` follows.
MAX_DEPTH = 16
#: Longest tag accepted, in bytes (ISO/IEC 7816-4 allows up to three).
MAX_TAG_BYTES = 3
#: Longest long-form length field accepted, in bytes after the first.
MAX_LENGTH_BYTES = 4


@dataclass(frozen=True, slots=True)
class Tlv:
    """One decoded data object.

    :ivar tag: the tag bytes as an int.
    :ivar value: the value bytes (a slice of the input).
    :ivar offset: where the object's tag starts in the outermost buffer.
    :ivar header_length: bytes taken by tag and length.
    """

    tag: int
    value: bytes
    offset: int
    header_length: int

    @property
    def constructed(self) -> bool:
        """Whether the tag's first byte marks a constructed object (bit 6)."""
        return is_constructed(self.tag)

    @property
    def value_offset(self) -> int:
        """Offset of the first value byte in the outermost buffer."""
        return self.offset + self.header_length

    @property
    def end(self) -> int:
        """Offset just past this object in the outermost buffer."""
        return self.offset + self.header_length + len(self.value)

    def children(self, *, file: str | None = None) -> list[Tlv]:
        """Decode the value as a sequence of data objects (one level; :func:`walk` recurses).

        :raises ParseError: if the value is not a well-formed TLV sequence.
        """
        return decode_all(self.value, file=file, base=self.value_offset)

    def find(self, tag: int, *, file: str | None = None) -> Tlv | None:
        """The first direct child with *tag*, or ``None``."""
        for child in self.children(file=file):
            if child.tag == tag:
                return child
        return None

    def require(self, tag: int, *, file: str | None = None) -> Tlv:
        """The first direct child with *tag*.

        :raises ParseError: naming the missing tag if there is none.
        """
        child = self.find(tag, file=file)
        if child is None:
            raise ParseError(
                f"tag {tag:02X} missing inside tag {self.tag:02X}", file=file, offset=self.offset
            )
        return child

    def encode(self) -> bytes:
        """Re-encode this object (definite, minimal length)."""
        return encode(self.tag, self.value)


def is_constructed(tag: int) -> bool:
    """Whether *tag* (as an int of its bytes) is constructed (ISO/IEC 7816-4 §5.2.2.1)."""
    first = tag
    while first > 0xFF:
        first >>= 8
    return bool(first & 0x20)


def _read_tag(data: bytes, pos: int, file: str | None, base: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ParseError("truncated: tag expected", file=file, offset=base + pos)
    first = data[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        count = 1
        while True:
            if pos >= len(data):
                raise ParseError("truncated inside a multi-byte tag", file=file, offset=base + pos)
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            count += 1
            if count > MAX_TAG_BYTES:
                raise ParseError(
                    f"tag longer than {MAX_TAG_BYTES} bytes", file=file, offset=base + pos - count
                )
            if not b & 0x80:
                break
    return tag, pos


def _read_length(data: bytes, pos: int, file: str | None, base: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ParseError("truncated: length expected", file=file, offset=base + pos)
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    if first == 0x80:
        raise ParseError("indefinite length not allowed here", file=file, offset=base + pos - 1)
    count = first & 0x7F
    if count > MAX_LENGTH_BYTES:
        raise ParseError(
            f"length field of {count} bytes (at most {MAX_LENGTH_BYTES})",
            file=file,
            offset=base + pos - 1,
        )
    if pos + count > len(data):
        raise ParseError("truncated inside a length field", file=file, offset=base + pos - 1)
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def header(data: bytes, *, file: str | None = None) -> tuple[int, int, int]:
    """Decode only the tag and length at the start of *data*.

    This is what a reader needs to learn a file's total size from its first
    bytes: the value itself may not have been read yet.

    :returns: ``(tag, header_length, value_length)``.
    :raises ParseError: if the header itself is incomplete or malformed.
    """
    tag, pos = _read_tag(data, 0, file, 0)
    length, pos = _read_length(data, pos, file, 0)
    return tag, pos, length


def decode(data: bytes, offset: int = 0, *, file: str | None = None, base: int = 0) -> Tlv:
    """Decode the one data object starting at *offset*.

    :param base: offset of ``data[0]`` in the enclosing file, for error
        messages and :attr:`Tlv.offset`.
    :raises ParseError: on truncation, a length beyond the data, or a
        malformed tag or length.
    """
    data = bytes(data)
    tag, pos = _read_tag(data, offset, file, base)
    length, pos = _read_length(data, pos, file, base)
    if length > len(data) - pos:
        raise ParseError(
            f"length {length} of tag {tag:02X} exceeds the {len(data) - pos} bytes present",
            file=file,
            offset=base + offset,
        )
    return Tlv(tag, data[pos : pos + length], base + offset, pos - offset)


def decode_all(data: bytes, *, file: str | None = None, base: int = 0) -> list[Tlv]:
    """Decode *data* as a sequence of data objects, all of it.

    ``'00'`` and ``'FF'`` padding bytes between objects are not accepted: the
    LDS does not use them (ISO/IEC 7816-4 allows them only in some contexts).

    :raises ParseError: if anything in *data* is not a well-formed object.
    """
    data = bytes(data)
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        item = decode(data, pos, file=file, base=base)
        out.append(item)
        pos = item.end - base
    return out


def decode_single(data: bytes, *, file: str | None = None, expected_tag: int | None = None) -> Tlv:
    """Decode *data* as exactly one data object (trailing bytes are an error).

    :param expected_tag: if given, the tag the object must have.
    :raises ParseError: on any malformation, trailing bytes or a wrong tag.
    """
    item = decode(data, 0, file=file)
    if expected_tag is not None and item.tag != expected_tag:
        raise ParseError(
            f"expected tag {expected_tag:02X}, found {item.tag:02X}", file=file, offset=0
        )
    if item.end != len(data):
        raise ParseError(
            f"{len(data) - item.end} trailing bytes after tag {item.tag:02X}",
            file=file,
            offset=item.end,
        )
    return item


def walk(item: Tlv, *, file: str | None = None, depth: int = 0) -> Iterator[tuple[int, Tlv]]:
    """Yield ``(depth, object)`` for *item* and every constructed descendant, depth first.

    :raises ParseError: if nesting exceeds :data:`MAX_DEPTH` or a constructed
        value is malformed.
    """
    yield depth, item
    if item.constructed:
        if depth + 1 > MAX_DEPTH:
            raise ParseError(f"TLV nesting deeper than {MAX_DEPTH}", file=file, offset=item.offset)
        for child in decode_all(item.value, file=file, base=item.value_offset):
            yield from walk(child, file=file, depth=depth + 1)


def encode_tag(tag: int) -> bytes:
    """The bytes of *tag* (an int such as ``0x5F1F``)."""
    if tag < 0:
        raise ValueError("negative tag")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    """Encode a definite length in the minimal form (ISO/IEC 7816-4 §5.2.2.2)."""
    if length < 0:
        raise ValueError("negative length")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_BYTES:
        raise ValueError("length too large")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes) -> bytes:
    """Encode one data object."""
    return encode_tag(tag) + encode_length(len(value)) + value
