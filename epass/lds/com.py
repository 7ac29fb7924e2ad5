"""EF.COM, the common data elements (ICAO Doc 9303-10 §4.6.1).

::

    '60' EF.COM template
        '5F01' LDS version number      "aabb"    (4 digits: 1.7 is "0107")
        '5F36' Unicode version number  "aabbcc"  (6 digits: 4.0.0 is "040000")
        '5C'   tag list: the tags of the data groups present, one byte each

EF.COM is not protected by the SOD; it only tells a reader which data
groups to expect. Tags that name no known file are kept in
:attr:`Com.unknown_tags`, not rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from epass import tlv
from epass.errors import ParseError
from epass.lds.files import LdsFile

__all__ = ["MAX_TAG_LIST", "Com", "encode", "parse"]

FILE = "EF.COM"
TAG_COM = 0x60
TAG_LDS_VERSION = 0x5F01
TAG_UNICODE_VERSION = 0x5F36
TAG_TAG_LIST = 0x5C


@dataclass(frozen=True)
class Com:
    """A parsed EF.COM.

    :ivar lds_version: the four digits as stored (``"0107"``), or ``None`` if absent.
    :ivar unicode_version: the six digits as stored (``"040000"``), or ``None``.
    :ivar tags: the tag list as stored (one int per byte), in order.
    :ivar files: the files those tags name, in order.
    :ivar unknown_tags: tags that name no LDS file.
    :ivar raw: the bytes parsed.
    """

    lds_version: str | None
    unicode_version: str | None
    tags: tuple[int, ...]
    files: tuple[LdsFile, ...]
    unknown_tags: tuple[int, ...]
    raw: bytes

    @property
    def lds_version_dotted(self) -> str | None:
        """The LDS version as ``"1.7"``."""
        v = self.lds_version
        if v is None or len(v) != 4:
            return v
        return f"{int(v[0:2])}.{int(v[2:4])}"

    @property
    def unicode_version_dotted(self) -> str | None:
        """The Unicode version as ``"4.0.0"``."""
        v = self.unicode_version
        if v is None or len(v) != 6:
            return v
        return f"{int(v[0:2])}.{int(v[2:4])}.{int(v[4:6])}"

    @property
    def data_groups(self) -> tuple[int, ...]:
        """The numbers of the data groups listed, in order."""
        return tuple(f.number for f in self.files if f.is_data_group)


#: Longest tag list accepted: one byte per data group, and there are far fewer
#: than 256 one-byte tags (9303-10 §4.6.1).
MAX_TAG_LIST = 256


def _digits(item: tlv.Tlv, length: int, what: str) -> str:
    if item.length != length:
        raise ParseError(
            f"{what} must be {length} ASCII digits, found {item.length} bytes",
            file=FILE,
            offset=item.value_offset,
        )
    value = item.value
    if not all(0x30 <= b <= 0x39 for b in value):
        raise ParseError(
            f"{what} must be {length} ASCII digits, found {value.hex().upper()}",
            file=FILE,
            offset=item.value_offset,
        )
    return value.decode("ascii")


def parse(data: bytes) -> Com:
    """Parse EF.COM (Doc 9303-10 §4.6.1).

    Time and memory are linear in the input; nothing but the fields kept is copied.

    :raises ParseError: if the bytes are not one ``'60'`` object, the tag
        list ``'5C'`` is missing or longer than :data:`MAX_TAG_LIST`, or a
        version is not the right number of ASCII digits.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_COM)
    lds_version: str | None = None
    unicode_version: str | None = None
    tag_list: tlv.Tlv | None = None
    for child in top.iter_children(file=FILE):
        if child.tag == TAG_LDS_VERSION and lds_version is None:
            lds_version = _digits(child, 4, "LDS version")
        elif child.tag == TAG_UNICODE_VERSION and unicode_version is None:
            unicode_version = _digits(child, 6, "Unicode version")
        elif child.tag == TAG_TAG_LIST and tag_list is None:
            tag_list = child
    if tag_list is None:
        raise ParseError("tag list '5C' missing", file=FILE, offset=top.offset)
    if tag_list.length > MAX_TAG_LIST:
        raise ParseError(
            f"tag list of {tag_list.length} bytes (at most {MAX_TAG_LIST})",
            file=FILE,
            offset=tag_list.offset,
        )
    tags = tuple(tag_list.value)
    files: list[LdsFile] = []
    unknown: list[int] = []
    for tag in tags:
        f = LdsFile.by_tag(tag)
        if f is None:
            unknown.append(tag)
        else:
            files.append(f)
    return Com(lds_version, unicode_version, tags, tuple(files), tuple(unknown), raw)


def encode(
    files: Sequence[LdsFile], *, lds_version: str = "0108", unicode_version: str = "040000"
) -> bytes:
    """Encode EF.COM listing *files* (Doc 9303-10 §4.6.1), for test documents.

    :raises ValueError: if a file has no one-byte tag or a version is not
        4 (LDS) or 6 (Unicode) digits.
    """
    if len(lds_version) != 4 or not lds_version.isdigit():
        raise ValueError("lds_version must be 4 digits, e.g. '0108'")
    if len(unicode_version) != 6 or not unicode_version.isdigit():
        raise ValueError("unicode_version must be 6 digits, e.g. '040000'")
    tag_bytes = bytearray()
    for f in files:
        if f.tag is None or f.tag > 0xFF:
            raise ValueError(f"{f.label} cannot be listed in EF.COM")
        tag_bytes.append(f.tag)
    body = (
        tlv.encode(TAG_LDS_VERSION, lds_version.encode("ascii"))
        + tlv.encode(TAG_UNICODE_VERSION, unicode_version.encode("ascii"))
        + tlv.encode(TAG_TAG_LIST, bytes(tag_bytes))
    )
    return tlv.encode(TAG_COM, body)
