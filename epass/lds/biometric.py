"""The biometric template of DG3 and DG4, and image facts shared by the image data groups.

ICAO Doc 9303-10 §4.7.3 (DG3, fingers) and §4.7.4 (DG4, irises) use the
same CBEFF nesting as DG2 (ISO/IEC 7816-11)::

    '63' DG3 / '76' DG4
        '7F61' biometric information template group template
            '02'   number of instances
            '7F60' biometric information template (repeated)
                'A1'   biometric header template (BHT): '80' ICAO header
                       version, '81' type, '82' subtype, '83' creation date,
                       '85' validity period, '86' creator, '87' format owner,
                       '88' format type
                '5F2E' biometric data block (ISO/IEC 19794-x record), or
                '7F2E' biometric data block (ISO/IEC 39794-x, DER; LDS2)

:func:`parse_group` walks that nesting and hands each template's BHT and
BDB to the record parser of the data group; :func:`encode_group` builds it.

:func:`detect_image_format` tells an image's format by its magic bytes
(JPEG, JPEG 2000, PNG, WSQ). WSQ fingerprint images (FBI IAFIS-IC-0110) are
decoded by the optional ``wsq`` package (extra ``wsq``), a Pillow plugin
around NIST NBIS: :func:`decode_wsq` checks the frame header's size first
and returns ``None`` when the package is absent, in which case a report
shows :data:`WSQ_NOT_DECODED`.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from epass import tlv
from epass.errors import ParseError

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

__all__ = [
    "FORMAT_JPEG",
    "FORMAT_JPEG2000",
    "FORMAT_JPEG_LS",
    "FORMAT_PGM",
    "FORMAT_PNG",
    "FORMAT_PPM",
    "FORMAT_RAW",
    "FORMAT_UNKNOWN",
    "FORMAT_WSQ",
    "MAX_DECODED_PIXELS",
    "MAX_TEMPLATES",
    "WSQ_NOT_DECODED",
    "BiometricHeader",
    "BiometricTemplate",
    "RecordKind",
    "check_record_header",
    "choice_code",
    "choose_format",
    "decode_wsq",
    "detect_image_format",
    "encode_bht",
    "encode_group",
    "find_39794_block",
    "formats_39794",
    "parse_bht",
    "parse_group",
    "parse_records",
    "record_bounds",
    "representation_blocks",
    "version_39794",
    "wsq_available",
    "wsq_dimensions",
]

FORMAT_JPEG = "JPEG"
FORMAT_JPEG2000 = "JPEG2000"
FORMAT_JPEG_LS = "JPEG-LS"
FORMAT_PNG = "PNG"
FORMAT_WSQ = "WSQ"
FORMAT_PGM = "PGM"
FORMAT_PPM = "PPM"
#: Uncompressed pixels (no magic bytes to check).
FORMAT_RAW = "RAW"
FORMAT_UNKNOWN = "UNKNOWN"

#: What a report shows for a WSQ image when the ``wsq`` package is not installed.
WSQ_NOT_DECODED = "WSQ, not decoded"

TAG_BIT_GROUP = 0x7F61
TAG_BIT = 0x7F60
TAG_INSTANCES = 0x02
TAG_BHT = 0xA1
TAG_BDB = 0x5F2E
TAG_BDB_CONSTRUCTED = 0x7F2E

#: Most biometric information templates accepted in one data group: the
#: number of instances ('02') is one byte (9303-10 §4.7.2-§4.7.4).
MAX_TEMPLATES = 255
#: Largest WSQ image :func:`decode_wsq` decodes, in pixels (a four-finger
#: slap at 1000 ppi is about 3200 x 3000 = 9.6 megapixels).
MAX_DECODED_PIXELS = 20_000_000

_MAGIC_JPEG = b"\xff\xd8\xff"
_MAGIC_JP2 = bytes.fromhex("0000000C6A502020")
_MAGIC_J2K = bytes.fromhex("FF4FFF51")
_MAGIC_PNG = b"\x89PNG\r\n\x1a\n"
_WSQ_SOI = b"\xff\xa0"
#: WSQ markers that may follow SOI (FBI IAFIS-IC-0110 v3 Table 2): SOF, SOB,
#: DTT, DQT, DHT, DRT, COM.
_WSQ_TABLES = (0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8)


def detect_image_format(image: bytes | memoryview) -> str:
    """The format told by the magic bytes.

    JPEG ``FF D8 FF`` (ISO/IEC 10918-1); JPEG 2000 as a JP2 file (signature
    box, ISO/IEC 15444-1 Annex I) or a raw codestream (SOC ``FF4F`` then SIZ
    ``FF51``); PNG (ISO/IEC 15948 signature); WSQ (SOI ``FFA0`` followed by
    a WSQ marker, IAFIS-IC-0110).

    :returns: one of ``"JPEG"``, ``"JPEG2000"``, ``"PNG"``, ``"WSQ"``, ``"UNKNOWN"``.
    """
    head = bytes(image[:8])
    if head.startswith(_MAGIC_JPEG):
        return FORMAT_JPEG
    if head.startswith(_MAGIC_JP2) or head.startswith(_MAGIC_J2K):
        return FORMAT_JPEG2000
    if head.startswith(_MAGIC_PNG):
        return FORMAT_PNG
    if head.startswith(_WSQ_SOI) and len(head) >= 4 and head[2] == 0xFF and head[3] in _WSQ_TABLES:
        return FORMAT_WSQ
    return FORMAT_UNKNOWN


def choose_format(declared: str, detected: str, problems: list[str]) -> str:
    """The format to show: the detected one when known, else the declared one.

    A disagreement, or an image whose declared format has magic bytes that
    are missing, is appended to *problems*. Uncompressed (``RAW``), PGM, PPM
    and JPEG-LS images are not checked (no magic this module knows).
    """
    unchecked = (FORMAT_RAW, FORMAT_PGM, FORMAT_PPM, FORMAT_JPEG_LS, FORMAT_UNKNOWN)
    if detected == FORMAT_UNKNOWN:
        if declared not in unchecked:
            problems.append(f"image bytes do not start like {declared}")
        elif declared == FORMAT_UNKNOWN:
            problems.append("image format unknown (neither declared nor recognisable)")
        return declared
    if declared != FORMAT_UNKNOWN and declared != detected:
        problems.append(f"declared {declared} but the image bytes are {detected}")
    return detected


@dataclass(frozen=True)
class BiometricTemplate:
    """One biometric information template ``'7F60'`` as found.

    :ivar header: the BHT (empty when absent).
    :ivar bdb: the biometric data block object (``'5F2E'`` or ``'7F2E'``).
    :ivar index: its position among the templates (1-based).
    """

    header: BiometricHeader
    bdb: tlv.Tlv
    index: int


@dataclass(frozen=True)
class BiometricHeader:
    """The biometric header template ``'A1'`` (9303-10 §4.7.2, ISO/IEC 7816-11).

    :ivar format_owner: CBEFF format owner (``0x0101`` = ISO/IEC JTC 1/SC 37).
    :ivar format_type: CBEFF format type (``0x0008`` = ISO/IEC 19794-5).
    :ivar raw: the template's value bytes.
    """

    icao_header_version: bytes | None = None
    biometric_type: int | None = None
    biometric_subtype: int | None = None
    creation_date: bytes | None = None
    validity_period: bytes | None = None
    creator: bytes | None = None
    format_owner: int | None = None
    format_type: int | None = None
    raw: bytes = b""


def _uint(value: bytes | memoryview) -> int:
    return int.from_bytes(value, "big")


def parse_bht(item: tlv.Tlv | None, *, file: str) -> BiometricHeader:
    """The biometric header template ``'A1'`` (9303-10 §4.7.2 table, ISO/IEC 7816-11).

    Unknown tags inside are ignored; numbers longer than four bytes are
    shown as absent.

    :raises ParseError: if the template's value is not a TLV sequence.
    """
    if item is None:
        return BiometricHeader()
    values: dict[int, bytes] = {}
    for child in item.iter_children(file=file):
        if child.tag not in values:
            values[child.tag] = child.value

    def num(tag: int) -> int | None:
        v = values.get(tag)
        return None if v is None or not v or len(v) > 4 else _uint(v)

    return BiometricHeader(
        icao_header_version=values.get(0x80),
        biometric_type=num(0x81),
        biometric_subtype=num(0x82),
        creation_date=values.get(0x83),
        validity_period=values.get(0x85),
        creator=values.get(0x86),
        format_owner=num(0x87),
        format_type=num(0x88),
        raw=item.value,
    )


def parse_group(
    data: bytes, *, file: str, tag: int, problems: list[str]
) -> tuple[tlv.Tlv, list[BiometricTemplate], int | None]:
    """Walk a CBEFF data group (DG2/DG3/DG4 layout) down to its data blocks.

    :param tag: the data group's tag (``0x63`` DG3, ``0x76`` DG4).
    :returns: the outer object, every template in order, and the declared
        number of instances (``None`` when ``'02'`` is missing).
    :raises ParseError: naming *file* and the offset on malformed TLV, a
        missing ``'7F61'``, no ``'7F60'``, a template without a data block,
        or more than :data:`MAX_TEMPLATES` templates.
    """
    top = tlv.decode_single(data, file=file, expected_tag=tag)
    group = top.require(TAG_BIT_GROUP, file=file)
    declared: int | None = None
    items: list[tlv.Tlv] = []
    for child in group.iter_children(file=file):
        if child.tag == TAG_INSTANCES and declared is None:
            if not 1 <= child.length <= 2:
                raise ParseError(
                    f"number of instances of {child.length} bytes", file=file, offset=child.offset
                )
            declared = _uint(child.view)
        elif child.tag == TAG_BIT:
            if len(items) == MAX_TEMPLATES:
                raise ParseError(
                    f"more than {MAX_TEMPLATES} biometric information templates",
                    file=file,
                    offset=child.offset,
                )
            items.append(child)
        else:
            problems.append(f"unknown tag {child.tag:02X} in '7F61' at offset {child.offset}")
    if not items:
        raise ParseError("no biometric information template '7F60'", file=file, offset=group.offset)
    if declared is None:
        problems.append("number of instances '02' missing")
    elif declared != len(items):
        problems.append(f"'02' declares {declared} templates, {len(items)} present")
    templates: list[BiometricTemplate] = []
    for index, bit in enumerate(items, 1):
        header_item: tlv.Tlv | None = None
        bdb: tlv.Tlv | None = None
        for child in bit.iter_children(file=file):
            if child.tag == TAG_BHT and header_item is None:
                header_item = child
            elif child.tag in (TAG_BDB, TAG_BDB_CONSTRUCTED) and bdb is None:
                bdb = child
            else:
                problems.append(
                    f"unexpected tag {child.tag:02X} in '7F60' at offset {child.offset}"
                )
        if bdb is None:
            raise ParseError(
                "biometric data block '5F2E'/'7F2E' missing", file=file, offset=bit.offset
            )
        header = parse_bht(header_item, file=file)
        if header_item is None:
            problems.append(f"template {index}: biometric header template 'A1' missing")
        elif header.format_owner is None or header.format_type is None:
            problems.append(f"template {index}: format owner '87' or format type '88' missing")
        templates.append(BiometricTemplate(header, bdb, index))
    return top, templates, declared


def encode_bht(
    *, biometric_type: int, biometric_subtype: int | None, format_owner: int, format_type: int
) -> bytes:
    """A biometric header template ``'A1'`` (ICAO header version 0101)."""
    body = tlv.encode(0x80, b"\x01\x01") + tlv.encode(0x81, bytes([biometric_type]))
    if biometric_subtype is not None:
        body += tlv.encode(0x82, bytes([biometric_subtype]))
    body += tlv.encode(0x87, format_owner.to_bytes(2, "big"))
    body += tlv.encode(0x88, format_type.to_bytes(2, "big"))
    return tlv.encode(TAG_BHT, body)


def encode_group(tag: int, templates: Sequence[tuple[bytes, bytes]]) -> bytes:
    """A CBEFF data group: one ``'7F60'`` per ``(BHT object, BDB value)`` pair.

    :raises ValueError: for no templates or more than :data:`MAX_TEMPLATES`.
    """
    if not templates:
        raise ValueError("at least one biometric information template is needed")
    if len(templates) > MAX_TEMPLATES:
        raise ValueError(f"at most {MAX_TEMPLATES} templates")
    body = tlv.encode(TAG_INSTANCES, bytes([len(templates)]))
    for bht, bdb in templates:
        body += tlv.encode(TAG_BIT, bht + tlv.encode(TAG_BDB, bdb))
    return tlv.encode(tag, tlv.encode(TAG_BIT_GROUP, body))


# ---------------------------------------------------------------------------
# ISO/IEC 19794 record helpers (DG2, DG3, DG4)


def record_bounds(
    buf: memoryview, base: int, standard: str, file: str
) -> Callable[[int, int, str], None]:
    """A check ``need(pos, n, what)`` that *n* bytes from *pos* lie in the record *buf*.

    *buf* starts at offset *base* of *file*; *standard* (``"19794-4"``)
    prefixes the message.

    :raises ParseError: (from ``need``) naming *file*, ``base + pos`` and
        how many bytes were needed and present.
    """

    def need(pos: int, n: int, what: str) -> None:
        if pos + n > len(buf):
            raise ParseError(
                f"{standard} record truncated in the {what} "
                f"({n} bytes needed, {max(0, len(buf) - pos)} present)",
                file=file,
                offset=base + pos,
            )

    return need


def check_record_header(
    buf: memoryview, *, standard: str, length_size: int, problems: list[str]
) -> tuple[str, int]:
    """Check a 19794-x record's version (bytes 4-8, ``'010\\0'``) and record length.

    The record length is the *length_size*-byte big-endian number after the
    version; a version other than 2005's or a length other than ``len(buf)``
    is appended to *problems*. The caller has checked the header is present.

    :returns: ``(version text, declared record length)``, e.g. ``("010", 1234)``.
    """
    version_raw = bytes(buf[4:8])
    if version_raw != b"010\x00":
        problems.append(f"{standard} record version {version_raw!r} (expected '010\\0')")
    record_length = _uint(buf[8 : 8 + length_size])
    if record_length != len(buf):
        problems.append(
            f"{standard} record length {record_length} but the data block holds {len(buf)} bytes"
        )
    return version_raw.rstrip(b"\x00").decode("ascii", "replace"), record_length


@dataclass(frozen=True)
class RecordKind:
    """What tells DG3's records from DG4's (the walk over them is shared).

    :ivar file: ``"DG3"``; :ivar tag: its tag (``0x63``).
    :ivar part: the ISO/IEC 19794 / 39794 part (``4`` fingers, ``6`` irises).
    :ivar magic: the 19794 format identifier (``b"FIR\\0"``).
    :ivar app_tag: the 39794 data block's tag (``0x64`` = ``[APPLICATION 4]``).
    :ivar block_name: its ASN.1 name (``"FingerImageDataBlock"``).
    :ivar images: what the images are called (``"finger images"``).
    :ivar limit: the most images accepted in the data group.
    """

    file: str
    tag: int
    part: int
    magic: bytes
    app_tag: int
    block_name: str
    images: str
    limit: int

    @property
    def record_19794(self) -> str:
        """``"19794-4 record (46 49 52 00, 'FIR')"``: how the 19794 record is recognised."""
        name = self.magic.rstrip(b"\x00").decode("ascii")
        return f"19794-{self.part} record ({self.magic.hex(' ').upper()}, '{name}')"


_Image = TypeVar("_Image")


def parse_records(
    raw: bytes,
    kind: RecordKind,
    parse_19794: Callable[[memoryview, int, BiometricHeader, list[str], int], list[_Image]],
    parse_39794: Callable[[tlv.Tlv, BiometricHeader, list[str], int], list[_Image]],
) -> tuple[list[_Image], int | None, list[str]]:
    """Walk a DG3/DG4 (:func:`parse_group`) and hand each data block to its record parser.

    A ``'5F2E'`` block starting with :attr:`RecordKind.magic` goes to
    *parse_19794* ``(block, its offset, BHT, problems, room)``; a ``'7F2E'``
    block, or one starting with the 39794 tag or ``[1]``, to *parse_39794*
    ``(bdb, BHT, problems, room)``; *room* is how many images may still come.

    :returns: ``(images, declared number of templates, problems)``.
    :raises ParseError: naming :attr:`RecordKind.file` for what
        :func:`parse_group` refuses, or a block that is neither kind.
    """
    problems: list[str] = []
    _top, templates, declared = parse_group(raw, file=kind.file, tag=kind.tag, problems=problems)
    images: list[_Image] = []
    for template in templates:
        bdb = template.bdb
        block = bdb.view
        room = kind.limit - len(images)
        if bdb.tag == TAG_BDB and block[: len(kind.magic)] == kind.magic:
            images += parse_19794(block, bdb.value_offset, template.header, problems, room)
        elif bdb.tag == TAG_BDB_CONSTRUCTED or (block and block[0] in (kind.app_tag, 0xA1)):
            images += parse_39794(bdb, template.header, problems, room)
        else:
            raise ParseError(
                f"biometric data block is neither a {kind.record_19794} "
                f"nor 39794-{kind.part} (tag {kind.app_tag:02X})",
                file=kind.file,
                offset=bdb.value_offset,
            )
    return images, declared, problems


# ---------------------------------------------------------------------------
# ISO/IEC 39794 (DER) helpers


def choice_code(item: tlv.Tlv | None, file: str) -> int | None:
    """The code of an ISO/IEC 39794 ``CHOICE { code [0] ENUMERATED, extensionBlock [1] }``.

    ``None`` when absent or given as an extension block.
    """
    if item is None:
        return None
    code = item.find(0x80, file=file)
    if code is None or not 1 <= code.length <= 4:
        return None
    return _uint(code.view)


def find_39794_block(bdb: tlv.Tlv, app_tag: int, file: str) -> tlv.Tlv | None:
    """The ISO/IEC 39794 data block with *app_tag* in a BDB, directly or in an ``[1]`` wrapper."""
    for item in bdb.iter_children(file=file):
        if item.tag == app_tag:
            return item
        if item.tag == 0xA1:  # the [1] wrapper (as in 9303-10 8th ed. DG2)
            inner = item.find(app_tag, file=file)
            if inner is not None:
                return inner
    return None


def version_39794(block: tlv.Tlv, file: str) -> str | None:
    """``"generation/year"`` of a 39794 versionBlock ``[0]``, or ``None``."""
    version = block.find(0xA0, file=file)
    if version is None:
        return None
    gen, year = version.find(0x80, file=file), version.find(0x81, file=file)
    if gen is None or year is None or gen.length > 4 or year.length > 4:
        return None
    return f"{_uint(gen.view)}/{_uint(year.view)}"


def representation_blocks(
    bdb: tlv.Tlv, kind: RecordKind, problems: list[str], room: int
) -> tuple[str | None, Iterator[tlv.Tlv]]:
    """The version and the representation blocks of a 39794-x data block in *bdb*.

    The iterator yields each ``SEQUENCE`` in ``representationBlocks [1]``;
    another tag is appended to *problems* and skipped. The caller makes one
    image of each block yielded; the iterator refuses a block beyond *room*.

    :returns: ``(version_39794 of the block, the blocks)``.
    :raises ParseError: naming :attr:`RecordKind.file` when the 39794 data
        block or its ``representationBlocks`` is missing, or (from the
        iterator) on more than *room* blocks.
    """
    file = kind.file
    block = find_39794_block(bdb, kind.app_tag, file)
    if block is None:
        raise ParseError(
            f"biometric data block is neither a {kind.record_19794} nor a 39794-{kind.part} "
            f"{kind.block_name} ([APPLICATION {kind.app_tag & 0x1F}])",
            file=file,
            offset=bdb.value_offset,
        )
    version = version_39794(block, file)
    reps = block.find(0xA1, file=file)
    if reps is None:
        raise ParseError(
            f"39794-{kind.part} representationBlocks [1] missing", file=file, offset=block.offset
        )

    def blocks() -> Iterator[tlv.Tlv]:
        count = 0
        for rep in reps.iter_children(file=file):
            if rep.tag != 0x30:
                problems.append(
                    f"unexpected tag {rep.tag:02X} among 39794-{kind.part} representation blocks"
                )
                continue
            if count == room:
                raise ParseError(
                    f"more than the {kind.limit} {kind.images} a {file} may hold",
                    file=file,
                    offset=rep.offset,
                )
            count += 1
            yield rep

    return version, blocks()


def formats_39794(
    code: int | None, table: dict[int, str], image: bytes, part: int, problems: list[str]
) -> tuple[str, str, str]:
    """``(declared, detected, chosen)`` format of a 39794-x image with data format *code*.

    *table* maps the part's ImageDataFormat codes to format names; an
    undefined code, and what :func:`choose_format` finds, go to *problems*.
    """
    declared = FORMAT_UNKNOWN if code is None else table.get(code, FORMAT_UNKNOWN)
    if code is not None and code not in table:
        problems.append(f"39794-{part} image data format {code} is not defined")
    detected = detect_image_format(image)
    return declared, detected, choose_format(declared, detected, problems)


# ---------------------------------------------------------------------------
# WSQ


def wsq_available() -> bool:
    """Whether the optional ``wsq`` package (a Pillow plugin) can be imported."""
    try:
        importlib.import_module("wsq")
    except ImportError:
        return False
    return True


def wsq_dimensions(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from a WSQ image's frame header (SOF ``FFA2``), without decoding.

    The markers before SOF are walked by their lengths (IAFIS-IC-0110 §3):
    at most ``len(data)`` steps.

    :raises ParseError: if *data* is not a WSQ image or ends before SOF.
    """
    if not data.startswith(_WSQ_SOI):
        raise ParseError("not a WSQ image (no SOI marker FFA0)", offset=0)
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF or data[pos + 1] not in _WSQ_TABLES:
            raise ParseError(f"unexpected WSQ marker {data[pos : pos + 2].hex()}", offset=pos)
        if data[pos + 1] == 0xA2:
            if pos + 10 > len(data):
                break
            height = _uint(data[pos + 6 : pos + 8])
            width = _uint(data[pos + 8 : pos + 10])
            return width, height
        length = _uint(data[pos + 2 : pos + 4])
        if length < 2:
            raise ParseError(f"WSQ segment length {length}", offset=pos + 2)
        pos += 2 + length
    raise ParseError("WSQ image ends before its frame header (SOF FFA2)", offset=len(data))


def decode_wsq(data: bytes) -> Image.Image | None:
    """Decode a WSQ image with the optional ``wsq`` package (Pillow plugin over NIST NBIS).

    The frame header is checked first: an image of more than
    :data:`MAX_DECODED_PIXELS` pixels, or of zero size, is refused before
    the decoder sees it.

    :returns: an 8-bit greyscale Pillow image, or ``None`` when ``wsq`` is
        not installed (show :data:`WSQ_NOT_DECODED`).
    :raises ParseError: if *data* is not a WSQ image, is too large, or the
        decoder refuses it.
    """
    width, height = wsq_dimensions(data)
    if width == 0 or height == 0 or width * height > MAX_DECODED_PIXELS:
        raise ParseError(
            f"WSQ image of {width} x {height} pixels (at most {MAX_DECODED_PIXELS:,} decoded)",
            offset=0,
        )
    if not wsq_available():
        return None
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data), formats=["WSQ"])
        image.load()
    except Exception as exc:  # the NBIS extension raises bare Exception("WSQ Error: -51")
        raise ParseError(f"WSQ image not decodable: {exc}", offset=0) from exc
    return image
