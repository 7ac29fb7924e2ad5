"""DG3, the encoded fingers (ICAO Doc 9303-10 §4.7.3).

::

    '63' DG3
        '7F61' biometric information template group ('02' count, '7F60' each;
               see :mod:`epass.lds.biometric`); BHT type '08' (finger),
               format owner 0101, format type 0007 (ISO/IEC 19794-4)
            '5F2E' an ISO/IEC 19794-4:2005 finger image record, or
            '7F2E' an ISO/IEC 39794-4 FingerImageDataBlock (DER, [APPLICATION 4])

ISO/IEC 19794-4:2005 finger image record (§7):

* general record header, 32 bytes: format identifier ``'FIR\\0'``, version
  ``'010\\0'``, record length (6 bytes), capture device ID (2), image
  acquisition level (2), number of fingers/palms (1), scale units (1:
  1 = pixels per inch, 2 = pixels per centimetre), horizontal and vertical
  scan resolution (2 + 2), horizontal and vertical image resolution
  (2 + 2), pixel depth in bits (1), image compression algorithm (1: 0
  uncompressed, 1 uncompressed bit-packed, 2 WSQ, 3 JPEG, 4 JPEG 2000,
  5 PNG), reserved (2);
* per finger view, a 14-byte finger image header: length of the finger
  data block including the header (4), finger/palm position (1, Table 5:
  0 unknown, 1-5 right thumb to little finger, 6-10 left thumb to little
  finger, 13/14 plain right/left four fingers, 15 plain thumbs; palms
  20-36), count of views (1), view number (1), image quality (1),
  impression type (1: 0 live-scan plain, 1 live-scan rolled, 2 non-live
  plain, 3 non-live rolled, 8 swipe), horizontal and vertical line length
  in pixels (2 + 2), reserved (1); then the image.

ISO/IEC 39794-4 (LDS2) is read as far as each representation's position,
impression, image format and image bytes.

DG3 is protected by Extended Access Control (9303-11 §7.1.2): a chip gives
it only to an authenticated inspection system.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from epass import tlv
from epass.errors import ParseError
from epass.lds import biometric as bio
from epass.lds.biometric import BiometricHeader

__all__ = [
    "ENCODING_19794",
    "ENCODING_39794",
    "FINGER_POSITIONS",
    "MAX_FINGERS",
    "Dg3",
    "FingerImage",
    "FingerImageSpec",
    "FingerRecordHeader",
    "encode",
    "encode_dg3",
    "finger_position_name",
    "parse",
]

FILE = "DG3"
TAG_DG3 = 0x63

ENCODING_19794 = "ISO/IEC 19794-4"
ENCODING_39794 = "ISO/IEC 39794-4"

#: CBEFF format owner (ISO/IEC JTC 1/SC 37) and format type of 19794-4 (9303-10 §4.7.3).
FORMAT_OWNER_SC37 = 0x0101
FORMAT_TYPE_19794_4 = 0x0007
#: CBEFF biometric type "finger" (ISO/IEC 7816-11, 9303-10 §4.7.2 BHT table).
BIOMETRIC_TYPE_FINGER = 0x08

#: Most finger images accepted in one DG3 (over all templates and records).
MAX_FINGERS = 255

_FIR = b"FIR\x00"
_RECORD_HEADER = 32
_FINGER_HEADER = 14
_KIND = bio.RecordKind(
    file=FILE,
    tag=TAG_DG3,
    part=4,
    magic=_FIR,
    app_tag=0x64,
    block_name="FingerImageDataBlock",
    images="finger images",
    limit=MAX_FINGERS,
)

#: ISO/IEC 19794-4:2005 Table 5 (fingers) and Table 6 (palms).
FINGER_POSITIONS: dict[int, str] = {
    0: "unknown finger",
    1: "right thumb",
    2: "right index finger",
    3: "right middle finger",
    4: "right ring finger",
    5: "right little finger",
    6: "left thumb",
    7: "left index finger",
    8: "left middle finger",
    9: "left ring finger",
    10: "left little finger",
    13: "plain right four fingers",
    14: "plain left four fingers",
    15: "plain thumbs",
    20: "unknown palm",
    21: "right full palm",
    22: "right writer's palm",
    23: "left full palm",
    24: "left writer's palm",
    25: "right lower palm",
    26: "right upper palm",
    27: "left lower palm",
    28: "left upper palm",
    29: "right other",
    30: "left other",
    31: "right interdigital",
    32: "right thenar",
    33: "right hypothenar",
    34: "left interdigital",
    35: "left thenar",
    36: "left hypothenar",
}

#: ISO/IEC 19794-4:2005 §7.1.17 image compression algorithm.
_COMPRESSION_19794: dict[int, str] = {
    0: bio.FORMAT_RAW,
    1: bio.FORMAT_RAW,  # bit-packed
    2: bio.FORMAT_WSQ,
    3: bio.FORMAT_JPEG,
    4: bio.FORMAT_JPEG2000,
    5: bio.FORMAT_PNG,
}
_COMPRESSION_CODE: dict[str, int] = {
    bio.FORMAT_RAW: 0,
    bio.FORMAT_WSQ: 2,
    bio.FORMAT_JPEG: 3,
    bio.FORMAT_JPEG2000: 4,
    bio.FORMAT_PNG: 5,
}
#: ISO/IEC 39794-4 ImageDataFormat codes.
_FORMAT_39794: dict[int, str] = {
    0: bio.FORMAT_PGM,
    1: bio.FORMAT_WSQ,
    2: bio.FORMAT_JPEG2000,
    3: bio.FORMAT_JPEG2000,
    4: bio.FORMAT_PNG,
}
#: ISO/IEC 19794-4:2005 §7.2.5 impression types.
_IMPRESSION_19794: dict[int, str] = {
    0: "live-scan plain",
    1: "live-scan rolled",
    2: "non-live-scan plain",
    3: "non-live-scan rolled",
    8: "swipe",
}
#: ISO/IEC 39794-4 impression codes.
_IMPRESSION_39794: dict[int, str] = {
    0: "plain contact",
    1: "rolled contact",
    4: "latent",
    8: "swipe contact",
    24: "contactless plain (stationary subject)",
    25: "contactless rolled (stationary subject)",
    28: "other",
    29: "unknown",
    41: "contactless plain (moving subject)",
    42: "contactless rolled (moving subject)",
}
_SCALE_UNITS = {1: "pixels per inch", 2: "pixels per centimetre"}


def finger_position_name(code: int) -> str:
    """The name of a finger/palm position code (ISO/IEC 19794-4:2005 Tables 5 and 6)."""
    return FINGER_POSITIONS.get(code, f"undefined position {code}")


@dataclass(frozen=True)
class FingerRecordHeader:
    """The general record header of an ISO/IEC 19794-4:2005 finger image record (§7.1).

    :ivar version: ``"010"`` for the 2005 edition.
    :ivar record_length: the record length it declares (bytes).
    :ivar scale_units: ``"pixels per inch"`` or ``"pixels per centimetre"``
        (or ``"code N"``).
    :ivar scan_resolution: ``(horizontal, vertical)`` capture resolution in scale units.
    :ivar image_resolution: ``(horizontal, vertical)`` image resolution in scale units.
    :ivar pixel_depth: bits per pixel.
    :ivar compression: the image compression algorithm code (0-5).
    """

    version: str
    record_length: int
    capture_device_id: int
    acquisition_level: int
    finger_count: int
    scale_units: str
    scan_resolution: tuple[int, int]
    image_resolution: tuple[int, int]
    pixel_depth: int
    compression: int


@dataclass(frozen=True)
class FingerImage:
    """One finger (or multi-finger, or palm) image of DG3.

    :ivar image: the image bytes as stored (WSQ, JPEG, JPEG 2000, PNG or raw pixels).
    :ivar image_format: ``"WSQ"``, ``"JPEG"``, ``"JPEG2000"``, ``"PNG"``,
        ``"RAW"``, ``"PGM"`` or ``"UNKNOWN"``: the format of the bytes
        when their magic tells it, else the declared one.
    :ivar declared_format: what the record declares.
    :ivar detected_format: what the magic bytes tell.
    :ivar position: the finger/palm position code; :attr:`position_name` names it.
    :ivar view_number: / :ivar view_count: 19794-4 view number and count of views.
    :ivar quality: image quality 0-100 (19794-4; 254/255 special), ``None`` if absent.
    :ivar impression: impression type, e.g. ``"live-scan plain"``.
    :ivar width: / :ivar height: horizontal and vertical line length in pixels.
    :ivar offset: where the image bytes start in DG3.
    :ivar encoding: ``"ISO/IEC 19794-4"`` or ``"ISO/IEC 39794-4"``.
    :ivar record: the 19794-4 general record header (``None`` for 39794-4).
    :ivar biometric_header: the BHT of the template holding this image.
    :ivar problems: oddities found (format mismatch, undefined codes...).
    """

    image: bytes = field(repr=False)
    image_format: str
    declared_format: str
    detected_format: str
    position: int
    view_number: int | None
    view_count: int | None
    quality: int | None
    impression: str | None
    width: int | None
    height: int | None
    offset: int
    encoding: str
    record: FingerRecordHeader | None = None
    biometric_header: BiometricHeader = field(default_factory=BiometricHeader)
    problems: tuple[str, ...] = ()

    @property
    def position_name(self) -> str:
        """The position in words (``"right index finger"``)."""
        return finger_position_name(self.position)

    @property
    def size(self) -> int:
        """The number of image bytes."""
        return len(self.image)

    @property
    def display_note(self) -> str | None:
        """:data:`~epass.lds.biometric.WSQ_NOT_DECODED` for a WSQ image when the
        ``wsq`` package is not installed, else ``None``."""
        if self.image_format == bio.FORMAT_WSQ and not bio.wsq_available():
            return bio.WSQ_NOT_DECODED
        return None


@dataclass(frozen=True)
class Dg3:
    """A parsed DG3.

    :ivar fingers: every finger image, in order.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar declared_instances: the number of templates ``'02'`` declares.
    :ivar problems: oddities that did not stop parsing (unknown tags
        included), DG3-wide and per image.
    """

    fingers: tuple[FingerImage, ...]
    raw: bytes = field(repr=False)
    declared_instances: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def positions(self) -> tuple[int, ...]:
        """The finger position codes, in order."""
        return tuple(f.position for f in self.fingers)


def _uint(value: bytes | memoryview) -> int:
    return int.from_bytes(value, "big")


def _parse_19794(
    buf: memoryview, base: int, header: BiometricHeader, problems: list[str], room: int
) -> list[FingerImage]:
    need = bio.record_bounds(buf, base, "19794-4", FILE)
    need(0, _RECORD_HEADER, "general record header")
    version, record_length = bio.check_record_header(
        buf, standard="19794-4", length_size=6, problems=problems
    )
    count = buf[18]
    units = buf[19]
    compression = buf[29]
    record = FingerRecordHeader(
        version=version,
        record_length=record_length,
        capture_device_id=_uint(buf[14:16]),
        acquisition_level=_uint(buf[16:18]),
        finger_count=count,
        scale_units=_SCALE_UNITS.get(units, f"code {units}"),
        scan_resolution=(_uint(buf[20:22]), _uint(buf[22:24])),
        image_resolution=(_uint(buf[24:26]), _uint(buf[26:28])),
        pixel_depth=buf[28],
        compression=compression,
    )
    declared = _COMPRESSION_19794.get(compression, bio.FORMAT_UNKNOWN)
    if count == 0:
        raise ParseError("19794-4 record holds no finger", file=FILE, offset=base + 18)
    if count > room:
        raise ParseError(
            f"19794-4 record declares {count} finger images: more than the {MAX_FINGERS} "
            "a DG3 may hold",
            file=FILE,
            offset=base + 18,
        )
    fingers: list[FingerImage] = []
    pos = _RECORD_HEADER
    for index in range(count):
        need(pos, _FINGER_HEADER, f"finger image header {index + 1}")
        block_length = _uint(buf[pos : pos + 4])
        if block_length < _FINGER_HEADER:
            raise ParseError(
                f"finger data block length {block_length} shorter than its header",
                file=FILE,
                offset=base + pos,
            )
        need(pos, block_length, f"finger data block {index + 1}")
        position = buf[pos + 4]
        impression_code = buf[pos + 8]
        image = bytes(buf[pos + _FINGER_HEADER : pos + block_length])
        finger_problems: list[str] = []
        if position not in FINGER_POSITIONS:
            finger_problems.append(f"finger position {position} is not defined")
        if compression not in _COMPRESSION_19794:
            finger_problems.append(f"image compression algorithm {compression} is not defined")
        if not image:
            finger_problems.append("empty image")
        detected = bio.detect_image_format(image)
        chosen = bio.choose_format(declared, detected, finger_problems)
        fingers.append(
            FingerImage(
                image=image,
                image_format=chosen,
                declared_format=declared,
                detected_format=detected,
                position=position,
                view_count=buf[pos + 5],
                view_number=buf[pos + 6],
                quality=buf[pos + 7],
                impression=_IMPRESSION_19794.get(impression_code, f"code {impression_code}"),
                width=_uint(buf[pos + 9 : pos + 11]),
                height=_uint(buf[pos + 11 : pos + 13]),
                offset=base + pos + _FINGER_HEADER,
                encoding=ENCODING_19794,
                record=record,
                biometric_header=header,
                problems=tuple(finger_problems),
            )
        )
        problems.extend(f"finger {len(fingers)}: {p}" for p in finger_problems)
        pos += block_length
    if pos != len(buf):
        problems.append(f"{len(buf) - pos} bytes after the last finger in the 19794-4 record")
    return fingers


def _parse_39794(
    bdb: tlv.Tlv, header: BiometricHeader, problems: list[str], room: int
) -> list[FingerImage]:
    version, reps = bio.representation_blocks(bdb, _KIND, problems, room)
    fingers: list[FingerImage] = []
    for rep in reps:
        rep_problems: list[str] = []
        position = bio.choice_code(rep.find(0xA0, file=FILE), FILE)
        impression = bio.choice_code(rep.find(0xA1, file=FILE), FILE)
        fmt = bio.choice_code(rep.find(0xA2, file=FILE), FILE)
        data = rep.find(0x83, file=FILE)
        if position is None:
            rep_problems.append("39794-4 position missing")
        if data is None:
            rep_problems.append("39794-4 image data [3] missing")
        image = b"" if data is None else data.value
        declared, detected, chosen = bio.formats_39794(fmt, _FORMAT_39794, image, 4, rep_problems)
        fingers.append(
            FingerImage(
                image=image,
                image_format=chosen,
                declared_format=declared,
                detected_format=detected,
                position=0 if position is None else position,
                view_number=None,
                view_count=None,
                quality=None,
                impression=None
                if impression is None
                else _IMPRESSION_39794.get(impression, f"code {impression}"),
                width=None,
                height=None,
                offset=rep.offset if data is None else data.value_offset,
                encoding=ENCODING_39794 + (f" ({version})" if version else ""),
                biometric_header=header,
                problems=tuple(rep_problems),
            )
        )
        problems.extend(f"finger {len(fingers)}: {p}" for p in rep_problems)
    return fingers


def parse(data: bytes) -> Dg3:
    """Parse DG3 (Doc 9303-10 §4.7.3) with ISO/IEC 19794-4 or 39794-4 records.

    Unknown tags inside the templates are reported in :attr:`Dg3.problems`,
    never raised. Time and memory are linear in the input.

    :raises ParseError: naming ``DG3`` and the offset on malformed TLV, a
        missing template or data block, a record that is neither 19794-4
        nor 39794-4, a finger block longer than the bytes present (a
        declared length of a gigabyte is refused here), or more than
        :data:`MAX_FINGERS` images.
    """
    raw = bytes(data)
    fingers, declared, problems = bio.parse_records(raw, _KIND, _parse_19794, _parse_39794)
    return Dg3(tuple(fingers), raw, declared, tuple(problems))


# ---------------------------------------------------------------------------
# encoding (test documents)


@dataclass(frozen=True)
class FingerImageSpec:
    """What :func:`encode` needs for one finger image (ISO/IEC 19794-4:2005 fields).

    :ivar image: the image bytes (WSQ, JPEG, JPEG 2000, PNG or raw 8-bit pixels).
    :ivar format: ``"WSQ"``, ``"JPEG"``, ``"JPEG2000"``, ``"PNG"`` or ``"RAW"``.
    :ivar position: finger position code (19794-4 Table 5).
    :ivar width: / :ivar height: in pixels (0..65535).
    :ivar resolution: pixels per inch, both directions, scan and image.
    :ivar quality: 0..100.
    :ivar impression: impression type code (0 live-scan plain).
    """

    image: bytes = field(repr=False)
    format: str = bio.FORMAT_WSQ
    position: int = 2
    width: int = 0
    height: int = 0
    resolution: int = 500
    quality: int = 100
    impression: int = 0
    view_number: int = 1


def _encode_record(spec: FingerImageSpec) -> bytes:
    if spec.format not in _COMPRESSION_CODE:
        raise ValueError(f"format must be one of {sorted(_COMPRESSION_CODE)}, not {spec.format!r}")
    if not (0 <= spec.width <= 0xFFFF and 0 <= spec.height <= 0xFFFF):
        raise ValueError("width and height must fit 16 bits")
    if not 0 <= spec.position <= 0xFF:
        raise ValueError("finger position must fit one byte")
    block = (
        (_FINGER_HEADER + len(spec.image)).to_bytes(4, "big")
        + bytes([spec.position, 1, spec.view_number, spec.quality, spec.impression])
        + spec.width.to_bytes(2, "big")
        + spec.height.to_bytes(2, "big")
        + b"\x00"
        + spec.image
    )
    resolution = spec.resolution.to_bytes(2, "big")
    header = (
        _FIR
        + b"010\x00"
        + (_RECORD_HEADER + len(block)).to_bytes(6, "big")
        + (0).to_bytes(2, "big")  # capture device: unreported
        + (31).to_bytes(2, "big")  # image acquisition level 31 (19794-4 Table 2)
        + bytes([1, 1])  # one finger; pixels per inch
        + resolution * 4
        + bytes([8, _COMPRESSION_CODE[spec.format]])
        + b"\x00\x00"
    )
    return header + block


def _subtype(position: int) -> int | None:
    """The CBEFF biometric subtype of a single finger (ISO/IEC 7816-11 / 9303-10 BHT)."""
    if not 1 <= position <= 10:
        return None
    side = 0x01 if position <= 5 else 0x02
    finger = (position - 1) % 5  # thumb, index, middle, ring, little
    return side | (finger + 1) << 2


def encode_dg3(fingers: Sequence[FingerImageSpec]) -> bytes:
    """Encode DG3 with one template per finger, each an ISO/IEC 19794-4:2005 record.

    Each BHT names biometric type 08 (finger), the finger's subtype, format
    owner 0101 and format type 0007 (9303-10 §4.7.3).

    :raises ValueError: if *fingers* is empty, has more than 255 entries or
        a spec is out of range.
    """
    templates = []
    for spec in fingers:
        bht = bio.encode_bht(
            biometric_type=BIOMETRIC_TYPE_FINGER,
            biometric_subtype=_subtype(spec.position),
            format_owner=FORMAT_OWNER_SC37,
            format_type=FORMAT_TYPE_19794_4,
        )
        templates.append((bht, _encode_record(spec)))
    return bio.encode_group(TAG_DG3, templates)


#: The module-wide name every data group module has.
encode = encode_dg3
