"""A bounded BER-TLV codec for the LDS (ICAO Doc 9303-10 §4, ISO/IEC 7816-4 §5.2).

Tags are returned as ints holding their encoded bytes (``0x5F1F``, ``0x7F61``).
Lengths use the short form or the long form with up to four length bytes
(ISO/IEC 7816-4 §5.2.2.2 allows ``'81'`` to ``'84'``). Nothing here allocates
by an untrusted length: every length is checked against the bytes present
before any slice is taken, nesting is limited to :data:`MAX_DEPTH` and a
sequence to :data:`MAX_ITEMS` objects.

Decoding copies nothing: a :class:`Tlv` is a tag and offsets into the buffer
it came from, and children are decoded from that same buffer. Parsing a
file is therefore linear in its size in time and memory, however it nests,
and a junk file (megabytes of ``'00'``, or of one short object repeated) is
refused after a few bytes or after :data:`MAX_ITEMS` objects.

``'00'`` and ``'FF'`` are not tags (ISO/IEC 7816-4 §5.2.2.1: they are the
padding of erased files); :func:`iter_decode` skips them only when asked.

Indefinite lengths (``'80'``) are refused: the LDS uses DER-style definite
lengths; CMS content that uses BER inside EF.SOD is decoded by asn1crypto.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypeAlias

from epass.errors import ParseError

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "Tlv",
    "check_tree",
    "decode",
    "decode_all",
    "decode_single",
    "encode",
    "encode_length",
    "encode_tag",
    "header",
    "is_constructed",
    "iter_decode",
    "walk",
]

#: Deepest nesting :func:`walk` follows.
MAX_DEPTH = 16
#: Longest tag accepted, in bytes (ISO/IEC 7816-4 allows up to three).
MAX_TAG_BYTES = 3
#: Longest long-form length field accepted, in bytes after the first.
MAX_LENGTH_BYTES = 4
#: Most data objects accepted in one sequence (one constructed value, or one
#: :func:`decode_all`). The largest LDS sequence is DG2's group of at most 255
#: biometric information templates; a junk file of two-byte objects would
#: otherwise cost one Python object per two bytes.
MAX_ITEMS = 4096

#: ISO/IEC 7816-4 §5.2.2.1: '00' and 'FF' are invalid first tag bytes (they
#: are what erased or padded files hold).
_PADDING = (0x00, 0xFF)
_NOT_PADDING = re.compile(rb"[^\x00\xff]")

#: What the decoders accept. ``bytes``, and a memoryview over ``bytes``, are
#: used in place; a bytearray (or a view of one) is copied once, on entry, so
#: that a decoded object never changes under its reader.
Buffer: TypeAlias = bytes | bytearray | memoryview


def _as_buffer(data: Buffer) -> bytes | memoryview:
    """*data* as an immutable buffer, without a copy when it already is one."""
    if isinstance(data, bytes):
        return data
    if (
        isinstance(data, memoryview)
        and isinstance(data.obj, bytes)
        and data.format == "B"
        and data.ndim == 1
        and data.c_contiguous
    ):
        return data
    return bytes(data)


class Tlv:
    """One decoded data object: offsets into the buffer it was decoded from.

    No value bytes are copied when an object is decoded: children are
    decoded from the same buffer by offset, so the cost of a parse is
    linear in the input, however it nests. :attr:`value` copies this
    object's value on access; :attr:`view` does not.

    :ivar tag: the tag bytes as an int (``0x5F1F``).
    :ivar offset: where the object's tag starts in the outermost buffer
        (the file offset, when decoding started with the right ``base``).
    :ivar header_length: bytes taken by tag and length.
    :ivar length: the number of value bytes.
    """

    __slots__ = ("_base", "_buffer", "header_length", "length", "offset", "tag")

    tag: int
    offset: int
    header_length: int
    length: int
    _buffer: bytes | memoryview
    _base: int

    def __init__(
        self,
        tag: int,
        offset: int,
        header_length: int,
        length: int,
        buffer: bytes | memoryview,
        base: int = 0,
    ) -> None:
        init = object.__setattr__  # the class refuses plain assignment: it is immutable
        init(self, "tag", tag)
        init(self, "offset", offset)
        init(self, "header_length", header_length)
        init(self, "length", length)
        init(self, "_buffer", buffer)
        init(self, "_base", base)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Tlv is immutable: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Tlv is immutable: cannot delete {name}")

    def __repr__(self) -> str:
        return (
            f"Tlv(tag={self.tag:02X}, offset={self.offset}, "
            f"header_length={self.header_length}, length={self.length})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tlv):
            return NotImplemented
        return (self.tag, self.offset, self.header_length, self.length) == (
            other.tag,
            other.offset,
            other.header_length,
            other.length,
        ) and self.view == other.view

    def __hash__(self) -> int:
        return hash((self.tag, self.offset, self.header_length, self.length))

    @property
    def _start(self) -> int:
        """Index of the first value byte in :attr:`_buffer`."""
        return self.offset - self._base + self.header_length

    @property
    def value(self) -> bytes:
        """The value bytes (a copy of this object's value only)."""
        start = self._start
        return bytes(self._buffer[start : start + self.length])

    @property
    def encoded(self) -> bytes:
        """The whole object as read: tag, length and value (a copy)."""
        start = self.offset - self._base
        return bytes(self._buffer[start : start + self.header_length + self.length])

    @property
    def view(self) -> memoryview:
        """The value bytes without a copy (a read-only view)."""
        start = self._start
        return memoryview(self._buffer)[start : start + self.length]

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
        return self.offset + self.header_length + self.length

    def iter_children(self, *, file: str | None = None) -> Iterator[Tlv]:
        """Decode the value as a sequence of data objects, one at a time.

        Nothing is copied; at most :data:`MAX_ITEMS` objects are decoded.

        :raises ParseError: (while iterating) if the value is not a
            well-formed TLV sequence or holds more than :data:`MAX_ITEMS` objects.
        """
        start = self._start
        return _iter_items(
            self._buffer, start, start + self.length, file=file, base=self._base, padding=False
        )

    def children(self, *, file: str | None = None) -> list[Tlv]:
        """Decode the value as a sequence of data objects (one level; :func:`walk` recurses).

        :raises ParseError: if the value is not a well-formed TLV sequence or
            holds more than :data:`MAX_ITEMS` objects.
        """
        return list(self.iter_children(file=file))

    def find(self, tag: int, *, file: str | None = None) -> Tlv | None:
        """The first direct child with *tag*, or ``None``.

        The whole value is checked to be a well-formed sequence (one pass,
        nothing kept but the match).

        :raises ParseError: as :meth:`children`.
        """
        found: Tlv | None = None
        for child in self.iter_children(file=file):
            if found is None and child.tag == tag:
                found = child
        return found

    def require(self, tag: int, *, file: str | None = None) -> Tlv:
        """The first direct child with *tag*.

        :raises ParseError: naming the missing tag if there is none, or as
            :meth:`children`.
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


def _read_tag(
    data: bytes | memoryview, pos: int, end: int, file: str | None, base: int
) -> tuple[int, int]:
    if pos >= end:
        raise ParseError("truncated: tag expected", file=file, offset=base + pos)
    first = data[pos]
    if first in _PADDING:
        raise ParseError(
            f"'{first:02X}' is not a tag (padding; ISO/IEC 7816-4 §5.2.2.1)",
            file=file,
            offset=base + pos,
        )
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        count = 1
        while True:
            if pos >= end:
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


def _read_length(
    data: bytes | memoryview, pos: int, end: int, file: str | None, base: int
) -> tuple[int, int]:
    if pos >= end:
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
    if pos + count > end:
        raise ParseError("truncated inside a length field", file=file, offset=base + pos - 1)
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def _header_at(
    data: bytes | memoryview, pos: int, end: int, file: str | None, base: int
) -> tuple[int, int, int]:
    """``(tag, value index, length)`` of the object at index *pos*, which must end by *end*."""
    first = data[pos] if pos + 2 <= end else 0
    if first & 0x1F != 0x1F and first != 0x00 and data[pos + 1] < 0x80:
        tag, length, value_pos = first, data[pos + 1], pos + 2  # one-byte tag, short length
    else:
        tag, value_pos = _read_tag(data, pos, end, file, base)
        length, value_pos = _read_length(data, value_pos, end, file, base)
    if length > end - value_pos:
        raise ParseError(
            f"length {length} of tag {tag:02X} exceeds the {end - value_pos} bytes present",
            file=file,
            offset=base + pos,
        )
    return tag, value_pos, length


def _decode_at(data: bytes | memoryview, pos: int, end: int, file: str | None, base: int) -> Tlv:
    """The object whose tag starts at index *pos*, which must end by index *end*."""
    tag, value_pos, length = _header_at(data, pos, end, file, base)
    return Tlv(tag, base + pos, value_pos - pos, length, data, base)


def _iter_items(
    data: bytes | memoryview, start: int, end: int, *, file: str | None, base: int, padding: bool
) -> Iterator[Tlv]:
    pos = start
    count = 0
    while pos < end:
        if padding:
            match = _NOT_PADDING.search(data, pos, end)
            if match is None:
                return
            pos = match.start()
        if count == MAX_ITEMS:
            raise ParseError(
                f"more than {MAX_ITEMS} data objects in one sequence", file=file, offset=base + pos
            )
        item = _decode_at(data, pos, end, file, base)
        count += 1
        yield item
        pos = item.end - base


def header(data: Buffer, *, file: str | None = None) -> tuple[int, int, int]:
    """Decode only the tag and length at the start of *data*.

    This is what a reader needs to learn a file's total size from its first
    bytes: the value itself may not have been read yet.

    :returns: ``(tag, header_length, value_length)``.
    :raises ParseError: if the header itself is incomplete or malformed.
    """
    buf = _as_buffer(data)
    tag, pos = _read_tag(buf, 0, len(buf), file, 0)
    length, pos = _read_length(buf, pos, len(buf), file, 0)
    return tag, pos, length


def decode(data: Buffer, offset: int = 0, *, file: str | None = None, base: int = 0) -> Tlv:
    """Decode the one data object starting at *offset*.

    :param base: offset of ``data[0]`` in the enclosing file, for error
        messages and :attr:`Tlv.offset`.
    :raises ParseError: on truncation, a length beyond the data, a padding
        byte ``'00'``/``'FF'`` where a tag should start, or a malformed tag
        or length.
    """
    buf = _as_buffer(data)
    return _decode_at(buf, offset, len(buf), file, base)


def iter_decode(
    data: Buffer, *, file: str | None = None, base: int = 0, padding: bool = False
) -> Iterator[Tlv]:
    """Decode *data* as a sequence of data objects, one at a time (nothing copied).

    :param padding: skip ``'00'`` and ``'FF'`` bytes before, between and
        after objects, as ISO/IEC 7816-4 §5.2.2.1 allows in some files
        (EF.ATR/INFO); the LDS files do not use them, so by default they are
        an error.
    :raises ParseError: (while iterating) if anything in *data* is not a
        well-formed object, or there are more than :data:`MAX_ITEMS` objects.
    """
    buf = _as_buffer(data)
    return _iter_items(buf, 0, len(buf), file=file, base=base, padding=padding)


def decode_all(
    data: Buffer, *, file: str | None = None, base: int = 0, padding: bool = False
) -> list[Tlv]:
    """Decode *data* as a sequence of data objects, all of it.

    ``'00'`` and ``'FF'`` padding bytes between objects are not accepted
    unless *padding* (see :func:`iter_decode`).

    :raises ParseError: if anything in *data* is not a well-formed object, or
        there are more than :data:`MAX_ITEMS` objects.
    """
    return list(iter_decode(data, file=file, base=base, padding=padding))


def decode_single(
    data: Buffer, *, file: str | None = None, expected_tag: int | None = None, base: int = 0
) -> Tlv:
    """Decode *data* as exactly one data object (trailing bytes are an error).

    :param expected_tag: if given, the tag the object must have.
    :param base: offset of ``data[0]`` in the enclosing file, for error
        messages and :attr:`Tlv.offset`.
    :raises ParseError: on any malformation, trailing bytes or a wrong tag.
    """
    buf = _as_buffer(data)
    item = _decode_at(buf, 0, len(buf), file, base)
    if expected_tag is not None and item.tag != expected_tag:
        raise ParseError(
            f"expected tag {expected_tag:02X}, found {item.tag:02X}", file=file, offset=base
        )
    end = base + len(buf)
    if item.end != end:
        raise ParseError(
            f"{end - item.end} trailing bytes after tag {item.tag:02X}",
            file=file,
            offset=item.end,
        )
    return item


def walk(item: Tlv, *, file: str | None = None, depth: int = 0) -> Iterator[tuple[int, Tlv]]:
    """Yield ``(depth, object)`` for *item* and every constructed descendant, depth first.

    :raises ParseError: if nesting exceeds :data:`MAX_DEPTH`, a constructed
        value is malformed or holds more than :data:`MAX_ITEMS` objects.
    """
    yield depth, item
    if item.constructed:
        if depth + 1 > MAX_DEPTH:
            raise ParseError(f"TLV nesting deeper than {MAX_DEPTH}", file=file, offset=item.offset)
        for child in item.iter_children(file=file):
            yield from walk(child, file=file, depth=depth + 1)


def check_tree(
    item: Tlv, *, file: str | None = None, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS
) -> int:
    """Decode every constructed value under *item*, keeping nothing: a shape check.

    Run before handing bytes to a general ASN.1 decoder (asn1crypto), whose
    cost on hostile input (a tag of thousands of continuation bytes costs
    quadratic time there, each nesting level copies its content) is bounded
    only if the structure is known to be sane first.

    :param max_depth: deepest nesting accepted (*item* is depth 0).
    :param max_items: most data objects accepted in the whole tree.
    :returns: the number of data objects in the tree, *item* included.
    :raises ParseError: on any malformed object, nesting deeper than
        *max_depth*, or more than *max_items* objects.
    """
    if not item.constructed:
        return 1
    data, base = item._buffer, item._base
    pos = item._start
    ends = [pos + item.length]  # where each open constructed value ends (no objects kept)
    count = 1
    while ends:
        if pos >= ends[-1]:
            ends.pop()
            continue
        first = data[pos]
        _tag, value_pos, length = _header_at(data, pos, ends[-1], file, base)
        count += 1
        if count > max_items:
            raise ParseError(
                f"more than {max_items} data objects in one structure", file=file, offset=base + pos
            )
        if first & 0x20:  # constructed: descend
            if len(ends) + 1 > max_depth:
                raise ParseError(
                    f"TLV nesting deeper than {max_depth}", file=file, offset=base + pos
                )
            ends.append(value_pos + length)
            pos = value_pos
        else:
            pos = value_pos + length
    return count


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
