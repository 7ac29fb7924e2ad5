"""DG4, the encoded irises (ICAO Doc 9303-10 §4.7.4).

::

    '76' DG4
        '7F61' biometric information template group ('02' count, '7F60' each;
               see :mod:`epass.lds.biometric`); BHT type '10' (iris), format
               owner 0101, format type 0009 (ISO/IEC 19794-6)
            '5F2E' an ISO/IEC 19794-6:2005 iris image record, or
            '7F2E' an ISO/IEC 39794-6 IrisImageDataBlock (DER, [APPLICATION 6])

ISO/IEC 19794-6:2005 iris image record (§6.5):

* record header, 45 bytes: format identifier ``'IIR\\0'``, version
  ``'010\\0'``, record length (4), capture device ID (2), number of
  biometric subtypes, i.e. eyes (1), record header length (2, = 45),
  image property bit field (2: orientation, scan type, occlusion and
  boundary flags), iris diameter in pixels (2), image format (2: 2/4 mono/RGB
  raw, 6/8 JPEG, 10/12 JPEG-LS, 14/16 JPEG 2000), raw image width and
  height (2 + 2), intensity depth in bits (1), image transformation (1),
  device unique identifier (16);
* per eye, a 3-byte biometric subtype header: subtype (1: 0 undefined,
  1 right eye, 2 left eye), number of images (2);
* per image, an 11-byte image header: image sequence number (2), quality
  (1), rotation angle of the eye (2), rotation uncertainty (2), image
  length (4); then the image.

ISO/IEC 39794-6 (LDS2) is read as far as each representation's eye label,
image format, bit depth and image bytes.

DG4 is protected by Extended Access Control (9303-11 §7.1.2).
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
    "MAX_IRIS_IMAGES",
    "Dg4",
    "IrisImage",
    "IrisImageSpec",
    "IrisRecordHeader",
    "encode",
    "encode_dg4",
    "parse",
]

FILE = "DG4"
TAG_DG4 = 0x76

ENCODING_19794 = "ISO/IEC 19794-6"
ENCODING_39794 = "ISO/IEC 39794-6"

FORMAT_OWNER_SC37 = 0x0101
FORMAT_TYPE_19794_6 = 0x0009
#: CBEFF biometric type "iris" (ISO/IEC 7816-11, 9303-10 §4.7.2 BHT table).
BIOMETRIC_TYPE_IRIS = 0x10

#: Most iris images accepted in one DG4 (over all templates, records and eyes).
MAX_IRIS_IMAGES = 255

_IIR = b"IIR\x00"
_RECORD_HEADER = 45
_SUBTYPE_HEADER = 3
_IMAGE_HEADER = 11
_KIND = bio.RecordKind(
    file=FILE,
    tag=TAG_DG4,
    part=6,
    magic=_IIR,
    app_tag=0x66,
    block_name="IrisImageDataBlock",
    images="iris images",
    limit=MAX_IRIS_IMAGES,
)

_EYES = {0: "undefined", 1: "right", 2: "left"}
_EYE_CODES = {name: code for code, name in _EYES.items()}

#: ISO/IEC 19794-6:2005 image format codes.
_FORMAT_19794: dict[int, str] = {
    0x0002: bio.FORMAT_RAW,  # mono raw
    0x0004: bio.FORMAT_RAW,  # RGB raw
    0x0006: bio.FORMAT_JPEG,  # mono JPEG
    0x0008: bio.FORMAT_JPEG,  # RGB JPEG
    0x000A: bio.FORMAT_JPEG_LS,  # mono JPEG-LS
    0x000C: bio.FORMAT_JPEG_LS,  # RGB JPEG-LS
    0x000E: bio.FORMAT_JPEG2000,  # mono JPEG 2000
    0x0010: bio.FORMAT_JPEG2000,  # RGB JPEG 2000
}
_FORMAT_CODE: dict[str, int] = {
    bio.FORMAT_RAW: 0x0002,
    bio.FORMAT_JPEG: 0x0006,
    bio.FORMAT_JPEG2000: 0x000E,
}
#: ISO/IEC 39794-6 ImageDataFormat codes.
_FORMAT_39794: dict[int, str] = {
    0: bio.FORMAT_PGM,
    1: bio.FORMAT_PPM,
    2: bio.FORMAT_PNG,
    3: bio.FORMAT_JPEG2000,
    4: bio.FORMAT_JPEG2000,
}


@dataclass(frozen=True)
class IrisRecordHeader:
    """The record header of an ISO/IEC 19794-6:2005 iris image record (§6.5.1).

    :ivar image_properties: the image property bit field as stored.
    :ivar iris_diameter: expected iris diameter in pixels.
    :ivar image_format_code: the image format code (e.g. ``0x000E`` mono JPEG 2000).
    :ivar width: / :ivar height: raw image width and height in pixels.
    :ivar intensity_depth: bits per pixel.
    :ivar device_unique_id: 16 bytes (zeros when not reported).
    """

    version: str
    record_length: int
    capture_device_id: int
    eye_count: int
    header_length: int
    image_properties: int
    iris_diameter: int
    image_format_code: int
    width: int
    height: int
    intensity_depth: int
    image_transformation: int
    device_unique_id: bytes


@dataclass(frozen=True)
class IrisImage:
    """One iris image of DG4.

    :ivar image: the image bytes as stored.
    :ivar image_format: ``"JPEG"``, ``"JPEG2000"``, ``"JPEG-LS"``, ``"PNG"``,
        ``"RAW"``, ``"PGM"``, ``"PPM"`` or ``"UNKNOWN"``.
    :ivar eye: ``"right"``, ``"left"`` or ``"undefined"`` (or ``"code N"``).
    :ivar sequence_number: 19794-6 image sequence number.
    :ivar quality: 19794-6 image quality (0-100; 254/255 special).
    :ivar rotation_angle: / :ivar rotation_uncertainty: as stored
        (``0xFFFF``: undefined), 19794-6 §6.5.4.
    :ivar width: / :ivar height: in pixels (record header), ``None`` if not stated.
    :ivar bit_depth: bits per pixel.
    :ivar offset: where the image bytes start in DG4.
    :ivar encoding: ``"ISO/IEC 19794-6"`` or ``"ISO/IEC 39794-6"``.
    """

    image: bytes = field(repr=False)
    image_format: str
    declared_format: str
    detected_format: str
    eye: str
    sequence_number: int | None
    quality: int | None
    rotation_angle: int | None
    rotation_uncertainty: int | None
    width: int | None
    height: int | None
    bit_depth: int | None
    offset: int
    encoding: str
    record: IrisRecordHeader | None = None
    biometric_header: BiometricHeader = field(default_factory=BiometricHeader)
    problems: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """The number of image bytes."""
        return len(self.image)


@dataclass(frozen=True)
class Dg4:
    """A parsed DG4.

    :ivar irises: every iris image, in order.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar declared_instances: the number of templates ``'02'`` declares.
    :ivar problems: oddities that did not stop parsing.
    """

    irises: tuple[IrisImage, ...]
    raw: bytes = field(repr=False)
    declared_instances: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def eyes(self) -> tuple[str, ...]:
        """The eye of each image, in order."""
        return tuple(i.eye for i in self.irises)


def _uint(value: bytes | memoryview) -> int:
    return int.from_bytes(value, "big")


def _parse_19794(
    buf: memoryview, base: int, header: BiometricHeader, problems: list[str], room: int
) -> list[IrisImage]:
    need = bio.record_bounds(buf, base, "19794-6", FILE)
    need(0, _RECORD_HEADER, "record header")
    version, record_length = bio.check_record_header(
        buf, standard="19794-6", length_size=4, problems=problems
    )
    header_length = _uint(buf[15:17])
    if header_length != _RECORD_HEADER:
        problems.append(f"19794-6 record header length {header_length} (expected 45)")
    format_code = _uint(buf[21:23])
    record = IrisRecordHeader(
        version=version,
        record_length=record_length,
        capture_device_id=_uint(buf[12:14]),
        eye_count=buf[14],
        header_length=header_length,
        image_properties=_uint(buf[17:19]),
        iris_diameter=_uint(buf[19:21]),
        image_format_code=format_code,
        width=_uint(buf[23:25]),
        height=_uint(buf[25:27]),
        intensity_depth=buf[27],
        image_transformation=buf[28],
        device_unique_id=bytes(buf[29:45]),
    )
    declared = _FORMAT_19794.get(format_code, bio.FORMAT_UNKNOWN)
    if record.eye_count == 0:
        raise ParseError("19794-6 record holds no eye", file=FILE, offset=base + 14)
    irises: list[IrisImage] = []
    pos = _RECORD_HEADER
    for eye_index in range(record.eye_count):
        need(pos, _SUBTYPE_HEADER, f"biometric subtype header {eye_index + 1}")
        subtype = buf[pos]
        count = _uint(buf[pos + 1 : pos + 3])
        if count > room - len(irises):
            raise ParseError(
                f"19794-6 eye declares {count} images: more than the {MAX_IRIS_IMAGES} "
                "a DG4 may hold",
                file=FILE,
                offset=base + pos + 1,
            )
        pos += _SUBTYPE_HEADER
        eye = _EYES.get(subtype, f"code {subtype}")
        for image_index in range(count):
            need(pos, _IMAGE_HEADER, f"image header {image_index + 1} of eye {eye_index + 1}")
            length = _uint(buf[pos + 7 : pos + 11])
            need(pos + _IMAGE_HEADER, length, f"image {image_index + 1} of eye {eye_index + 1}")
            start = pos + _IMAGE_HEADER
            image = bytes(buf[start : start + length])
            image_problems: list[str] = []
            if subtype not in _EYES:
                image_problems.append(f"eye (biometric subtype) {subtype} is not defined")
            if format_code not in _FORMAT_19794:
                image_problems.append(f"image format {format_code:#06x} is not defined")
            if not image:
                image_problems.append("empty image")
            detected = bio.detect_image_format(image)
            chosen = bio.choose_format(declared, detected, image_problems)
            irises.append(
                IrisImage(
                    image=image,
                    image_format=chosen,
                    declared_format=declared,
                    detected_format=detected,
                    eye=eye,
                    sequence_number=_uint(buf[pos : pos + 2]),
                    quality=buf[pos + 2],
                    rotation_angle=_uint(buf[pos + 3 : pos + 5]),
                    rotation_uncertainty=_uint(buf[pos + 5 : pos + 7]),
                    width=record.width,
                    height=record.height,
                    bit_depth=record.intensity_depth,
                    offset=base + start,
                    encoding=ENCODING_19794,
                    record=record,
                    biometric_header=header,
                    problems=tuple(image_problems),
                )
            )
            problems.extend(f"iris {len(irises)}: {p}" for p in image_problems)
            pos = start + length
    if pos != len(buf):
        problems.append(f"{len(buf) - pos} bytes after the last iris in the 19794-6 record")
    return irises


def _parse_39794(
    bdb: tlv.Tlv, header: BiometricHeader, problems: list[str], room: int
) -> list[IrisImage]:
    version, reps = bio.representation_blocks(bdb, _KIND, problems, room)
    irises: list[IrisImage] = []
    for rep in reps:
        rep_problems: list[str] = []
        label = rep.find(0x80, file=FILE)
        depth = rep.find(0x82, file=FILE)
        fmt = bio.choice_code(rep.find(0xA3, file=FILE), FILE)
        data = rep.find(0x89, file=FILE)
        eye_code = _uint(label.view) if label is not None and 1 <= label.length <= 2 else None
        if data is None:
            rep_problems.append("39794-6 iris image data [9] missing")
        image = b"" if data is None else data.value
        declared, detected, chosen = bio.formats_39794(fmt, _FORMAT_39794, image, 6, rep_problems)
        irises.append(
            IrisImage(
                image=image,
                image_format=chosen,
                declared_format=declared,
                detected_format=detected,
                eye="undefined" if eye_code is None else _EYES.get(eye_code, f"code {eye_code}"),
                sequence_number=None,
                quality=None,
                rotation_angle=None,
                rotation_uncertainty=None,
                width=None,
                height=None,
                bit_depth=_uint(depth.view) if depth is not None and depth.length <= 2 else None,
                offset=rep.offset if data is None else data.value_offset,
                encoding=ENCODING_39794 + (f" ({version})" if version else ""),
                biometric_header=header,
                problems=tuple(rep_problems),
            )
        )
        problems.extend(f"iris {len(irises)}: {p}" for p in rep_problems)
    return irises


def parse(data: bytes) -> Dg4:
    """Parse DG4 (Doc 9303-10 §4.7.4) with ISO/IEC 19794-6 or 39794-6 records.

    :raises ParseError: naming ``DG4`` and the offset on malformed TLV, a
        missing template or data block, a record that is neither 19794-6 nor
        39794-6, an image longer than the bytes present, or more than
        :data:`MAX_IRIS_IMAGES` images.
    """
    raw = bytes(data)
    irises, declared, problems = bio.parse_records(raw, _KIND, _parse_19794, _parse_39794)
    return Dg4(tuple(irises), raw, declared, tuple(problems))


# ---------------------------------------------------------------------------
# encoding (test documents)


@dataclass(frozen=True)
class IrisImageSpec:
    """What :func:`encode` needs for one iris image (ISO/IEC 19794-6:2005 fields).

    :ivar image: JPEG, JPEG 2000 or raw 8-bit pixels.
    :ivar format: ``"JPEG"``, ``"JPEG2000"`` or ``"RAW"`` (written as the mono codes).
    :ivar eye: ``"right"``, ``"left"`` or ``"undefined"``.
    """

    image: bytes = field(repr=False)
    format: str = bio.FORMAT_JPEG2000
    eye: str = "right"
    width: int = 0
    height: int = 0
    iris_diameter: int = 0
    quality: int = 100
    intensity_depth: int = 8


def _encode_record(spec: IrisImageSpec) -> bytes:
    if spec.format not in _FORMAT_CODE:
        raise ValueError(f"format must be one of {sorted(_FORMAT_CODE)}, not {spec.format!r}")
    if spec.eye not in _EYE_CODES:
        raise ValueError(f"eye must be one of {sorted(_EYE_CODES)}, not {spec.eye!r}")
    if not (0 <= spec.width <= 0xFFFF and 0 <= spec.height <= 0xFFFF):
        raise ValueError("width and height must fit 16 bits")
    image = (
        (1).to_bytes(2, "big")
        + bytes([spec.quality])
        + b"\xff\xff\xff\xff"  # rotation angle and uncertainty: undefined
        + len(spec.image).to_bytes(4, "big")
        + spec.image
    )
    body = bytes([_EYE_CODES[spec.eye]]) + (1).to_bytes(2, "big") + image
    header = (
        _IIR
        + b"010\x00"
        + (_RECORD_HEADER + len(body)).to_bytes(4, "big")
        + (0).to_bytes(2, "big")
        + b"\x01"
        + _RECORD_HEADER.to_bytes(2, "big")
        + (0).to_bytes(2, "big")
        + spec.iris_diameter.to_bytes(2, "big")
        + _FORMAT_CODE[spec.format].to_bytes(2, "big")
        + spec.width.to_bytes(2, "big")
        + spec.height.to_bytes(2, "big")
        + bytes([spec.intensity_depth, 0])
        + bytes(16)
    )
    return header + body


def encode_dg4(irises: Sequence[IrisImageSpec]) -> bytes:
    """Encode DG4 with one template per iris image, each an ISO/IEC 19794-6:2005 record.

    Each BHT names biometric type 10 (iris), the eye as subtype (01 right,
    02 left), format owner 0101 and format type 0009 (9303-10 §4.7.4).

    :raises ValueError: if *irises* is empty, longer than 255 or a spec is out of range.
    """
    templates = []
    for spec in irises:
        subtype = _EYE_CODES.get(spec.eye)
        bht = bio.encode_bht(
            biometric_type=BIOMETRIC_TYPE_IRIS,
            biometric_subtype=subtype or None,
            format_owner=FORMAT_OWNER_SC37,
            format_type=FORMAT_TYPE_19794_6,
        )
        templates.append((bht, _encode_record(spec)))
    return bio.encode_group(TAG_DG4, templates)


#: The module-wide name every data group module has.
encode = encode_dg4
