"""DG2, the encoded face (ICAO Doc 9303-10 §4.7.2).

::

    '75' DG2
        '7F61' biometric information template group template
            '02'   number of instances (biometric information templates)
            '7F60' biometric information template (one per face image)
                'A1'   biometric header template (BHT, ISO/IEC 7816-11 / CBEFF)
                    '80' ICAO header version   '81' biometric type   '82' subtype
                    '83' creation date/time    '85' validity period  '86' creator
                    '87' format owner (mandatory)   '88' format type (mandatory)
                '5F2E' or '7F2E' biometric data block (BDB)

The BDB holds either

* an ISO/IEC 19794-5:2005 facial record (LDS1): record header ``'FAC\\0'``,
  version ``'010\\0'``, record length (4 bytes), number of faces (2), then per
  face a facial information block (§5.5: block length, number of feature
  points, gender, eye colour, hair colour, feature mask, expression, pose
  angles and their uncertainty), the feature points (§5.6, 8 bytes each), an
  image information block (§5.7: face image type, image data type 0 = JPEG
  1 = JPEG 2000, width, height, colour space, source type, device type,
  quality) and the image bytes; or
* an ISO/IEC 39794-5 ``FaceImageDataBlock`` (DER, ``[APPLICATION 5]``; Doc
  9303-10 8th ed. for LDS2), read here as far as every image with its
  format, size and identity metadata.

Every length is checked against the bytes present before anything is sliced;
nothing is allocated by a declared length. Oddities that do not stop the
images from being extracted (a record length that disagrees with the data,
a declared image type that disagrees with the image's magic bytes) are
listed in ``problems`` rather than raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from epass import tlv
from epass.errors import ParseError
from epass.lds.biometric import (
    BiometricHeader,
    check_record_header,
    parse_bht,
    record_bounds,
)

__all__ = [
    "MAX_FACES",
    "MAX_FEATURE_POINTS",
    "BiometricHeader",
    "ColourSpace",
    "Dg2",
    "Expression",
    "EyeColour",
    "FaceImage",
    "FaceImageSpec",
    "FaceImageType",
    "FeaturePoint",
    "Gender",
    "HairColour",
    "ImageDataType",
    "PoseAngles",
    "SourceType",
    "detect_image_format",
    "encode",
    "parse",
]

FILE = "DG2"
TAG_DG2 = 0x75
TAG_BIT_GROUP = 0x7F61
TAG_BIT = 0x7F60
TAG_INSTANCES = 0x02
TAG_BHT = 0xA1
TAG_BDB = 0x5F2E
TAG_BDB_CONSTRUCTED = 0x7F2E

FORMAT_JPEG = "JPEG"
FORMAT_JPEG2000 = "JPEG2000"
FORMAT_UNKNOWN = "UNKNOWN"

ENCODING_19794 = "ISO/IEC 19794-5"
ENCODING_39794 = "ISO/IEC 39794-5"

#: CBEFF format owner of ISO/IEC JTC 1/SC 37 and the 19794-5 format type (9303-10 §4.7.2).
FORMAT_OWNER_SC37 = 0x0101
FORMAT_TYPE_19794_5 = 0x0008

#: Most face images accepted in one DG2: the number of instances ('02') is
#: one byte (9303-10 §4.7.2), and a record is normally one face.
MAX_FACES = 255
#: Most feature points accepted per face: MPEG-4 defines fewer than 100
#: facial feature points (ISO/IEC 14496-2 Annex C, used by 19794-5 §5.6).
MAX_FEATURE_POINTS = 255

_FAC = b"FAC\x00"
_RECORD_HEADER = 14
_FACIAL_INFO = 20
_FEATURE_POINT = 8
_IMAGE_INFO = 12

_MAGIC_JPEG = b"\xff\xd8\xff"
_MAGIC_JP2 = bytes.fromhex("0000000C6A502020")
_MAGIC_J2K = bytes.fromhex("FF4FFF51")


class _Code(IntEnum):
    """An IntEnum whose unknown values become ``UNKNOWN_0xNN`` pseudo-members."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, int):
            return None
        obj = int.__new__(cls, value)
        obj._name_ = f"UNKNOWN_0x{value:02X}"
        obj._value_ = value
        return obj

    @property
    def label(self) -> str:
        """The member name in lower case (``"full_frontal"``)."""
        return str(self.name).lower()


class Gender(_Code):
    """ISO/IEC 19794-5:2005 §5.5.3."""

    UNSPECIFIED = 0x00
    MALE = 0x01
    FEMALE = 0x02
    UNKNOWN = 0xFF


class EyeColour(_Code):
    """ISO/IEC 19794-5:2005 §5.5.4."""

    UNSPECIFIED = 0x00
    BLACK = 0x01
    BLUE = 0x02
    BROWN = 0x03
    GREY = 0x04
    GREEN = 0x05
    MULTI_COLOURED = 0x06
    PINK = 0x07
    UNKNOWN = 0xFF


class HairColour(_Code):
    """ISO/IEC 19794-5:2005 §5.5.5."""

    UNSPECIFIED = 0x00
    BALD = 0x01
    BLACK = 0x02
    BLONDE = 0x03
    BROWN = 0x04
    GREY = 0x05
    WHITE = 0x06
    RED = 0x07
    GREEN = 0x08
    BLUE = 0x09
    UNKNOWN = 0xFF


class Expression(_Code):
    """ISO/IEC 19794-5:2005 §5.5.7."""

    UNSPECIFIED = 0x0000
    NEUTRAL = 0x0001
    SMILE_CLOSED_JAW = 0x0002
    SMILE_OPEN_JAW = 0x0003
    RAISED_EYEBROWS = 0x0004
    EYES_LOOKING_AWAY = 0x0005
    SQUINTING = 0x0006
    FROWNING = 0x0007


class FaceImageType(_Code):
    """ISO/IEC 19794-5:2005 §5.7.1."""

    BASIC = 0x00
    FULL_FRONTAL = 0x01
    TOKEN_FRONTAL = 0x02


class ImageDataType(_Code):
    """ISO/IEC 19794-5:2005 §5.7.2."""

    JPEG = 0x00
    JPEG2000 = 0x01


class ColourSpace(_Code):
    """ISO/IEC 19794-5:2005 §5.7.5."""

    UNSPECIFIED = 0x00
    RGB24 = 0x01
    YUV422 = 0x02
    GREYSCALE8 = 0x03
    OTHER = 0x04


class SourceType(_Code):
    """ISO/IEC 19794-5:2005 §5.7.6."""

    UNSPECIFIED = 0x00
    STATIC_PHOTO_UNKNOWN_SOURCE = 0x01
    STATIC_PHOTO_DIGITAL_STILL = 0x02
    STATIC_PHOTO_SCANNER = 0x03
    VIDEO_FRAME_UNKNOWN_SOURCE = 0x04
    VIDEO_FRAME_ANALOGUE = 0x05
    VIDEO_FRAME_DIGITAL = 0x06
    UNKNOWN = 0x07


#: ISO/IEC 19794-5:2005 §5.5.6 feature mask bits.
_FEATURE_FLAGS: tuple[tuple[int, str], ...] = (
    (0x000002, "glasses"),
    (0x000004, "moustache"),
    (0x000008, "beard"),
    (0x000010, "teeth_visible"),
    (0x000020, "blink"),
    (0x000040, "mouth_open"),
    (0x000080, "left_eye_patch"),
    (0x000100, "right_eye_patch"),
    (0x000200, "dark_glasses"),
    (0x000400, "distorting_medical_condition"),
)
_FEATURES_SPECIFIED = 0x000001

# ISO/IEC 39794-5 code tables (ASN.1 module ID-ICAO-ISO-IEC-39794-5-ed-1-v1).
_GENDER_39794 = {1: "other", 2: "male", 3: "female"}
_EYE_39794 = {
    0: "unknown", 1: "other", 2: "black", 3: "blue", 4: "brown", 5: "grey", 6: "green",
    7: "hazel", 8: "multi_coloured", 9: "pink",
}  # fmt: skip
_HAIR_39794 = {
    0: "unknown", 1: "other", 2: "bald", 3: "black", 4: "blonde", 5: "brown", 6: "grey",
    7: "white", 8: "red", 9: "known_coloured",
}  # fmt: skip
_COLOUR_SPACE_39794 = {
    0: "unknown", 1: "other", 2: "rgb24", 3: "rgb48", 4: "yuv422", 5: "greyscale8",
    6: "greyscale16",
}  # fmt: skip
_IMAGE_FORMAT_39794 = {
    0: FORMAT_UNKNOWN, 1: FORMAT_UNKNOWN, 2: FORMAT_JPEG, 3: FORMAT_JPEG2000, 4: FORMAT_JPEG2000,
}  # fmt: skip
_IMAGE_FORMAT_39794_NAMES = {
    0: "unknown", 1: "other", 2: "jpeg", 3: "jpeg2000Lossy", 4: "jpeg2000Lossless", 5: "png",
    6: "pgm", 7: "ppm",
}  # fmt: skip
_EXPRESSION_39794 = (
    "neutral", "smile", "raised_eyebrows", "eyes_looking_away", "squinting", "frowning",
)  # fmt: skip
_PROPERTIES_39794 = (
    "glasses", "moustache", "beard", "teeth_visible", "pupil_or_iris_not_visible",
    "mouth_open", "left_eye_patch", "right_eye_patch", "dark_glasses", "biometric_absent",
    "head_coverings_present",
)  # fmt: skip


def detect_image_format(image: bytes) -> str:
    """The image format told by the magic bytes.

    JPEG starts ``FF D8 FF``; JPEG 2000 is either a JP2 file (signature box
    ``0000000C 6A502020``, ISO/IEC 15444-1 Annex I) or a raw codestream
    (``FF4F FF51``: SOC then SIZ).

    :returns: ``"JPEG"``, ``"JPEG2000"`` or ``"UNKNOWN"``.
    """
    if image.startswith(_MAGIC_JPEG):
        return FORMAT_JPEG
    if image.startswith(_MAGIC_JP2) or image.startswith(_MAGIC_J2K):
        return FORMAT_JPEG2000
    return FORMAT_UNKNOWN


@dataclass(frozen=True)
class FeaturePoint:
    """A facial feature point (ISO/IEC 19794-5:2005 §5.6).

    :ivar type: feature point type (1 = MPEG-4 feature point).
    :ivar major: the major code (e.g. 12 in point 12.1).
    :ivar minor: the minor code.
    :ivar x: horizontal position in pixels.
    :ivar y: vertical position in pixels.
    """

    type: int
    major: int
    minor: int
    x: int
    y: int

    @property
    def code(self) -> str:
        """The MPEG-4 point code, e.g. ``"12.1"``."""
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class PoseAngles:
    """Pose angles in degrees (``None`` = unspecified).

    ISO/IEC 19794-5:2005 §5.5.7 stores each angle in one byte, 0 meaning
    unspecified and 1..181 meaning -180..+180 degrees in steps of two
    (``degrees = (value - 1) * 2 - 180``), each uncertainty in one byte
    (0 unspecified, 1..181 meaning 0..180 degrees); :attr:`raw` keeps those
    six bytes. ISO/IEC 39794-5 stores the degrees as signed integers.
    """

    yaw: int | None = None
    pitch: int | None = None
    roll: int | None = None
    yaw_uncertainty: int | None = None
    pitch_uncertainty: int | None = None
    roll_uncertainty: int | None = None
    raw: bytes | None = None


@dataclass(frozen=True)
class FaceImage:
    """One face image from DG2.

    :ivar image: the image bytes (JPEG or JPEG 2000 as stored).
    :ivar image_format: ``"JPEG"``, ``"JPEG2000"`` or ``"UNKNOWN"``: the
        format of the bytes when their magic tells it, else the declared one.
    :ivar declared_format: the format the record declares.
    :ivar detected_format: the format the magic bytes tell.
    :ivar width: declared width in pixels (``None`` if not stated).
    :ivar height: declared height in pixels.
    :ivar offset: where the image bytes start in DG2 (evidence for reports).
    :ivar encoding: ``"ISO/IEC 19794-5"`` or ``"ISO/IEC 39794-5"``.
    :ivar gender: ``"male"``, ``"female"``, ``"unspecified"``, ``"unknown"``,
        ``"other"``, or ``None`` if absent.
    :ivar eye_colour: e.g. ``"blue"``.
    :ivar hair_colour: e.g. ``"brown"``.
    :ivar expression: e.g. ``"neutral"`` (39794-5: the flags that are set,
        comma separated).
    :ivar properties: the facial properties that are set (``"glasses"``...).
    :ivar pose_angles: pose angles where present.
    :ivar feature_points: 19794-5 feature points.
    :ivar face_image_type: ``"basic"``, ``"full_frontal"``, ``"token_frontal"``
        (39794-5: ``"mrtd"`` when so declared).
    :ivar colour_space: e.g. ``"rgb24"``.
    :ivar source_type: 19794-5 source type, e.g. ``"static_photo_digital_still"``.
    :ivar device_type: 19794-5 device type (vendor specific).
    :ivar quality: 19794-5 quality (0 = unspecified).
    :ivar format_version: the record version (``"010"``) or 39794-5
        generation/year (``"3/2019"``).
    :ivar biometric_header: the BHT of the template holding this image.
    :ivar problems: oddities found (format mismatch, empty image...).
    """

    image: bytes = field(repr=False)
    image_format: str
    declared_format: str
    detected_format: str
    width: int | None
    height: int | None
    offset: int
    encoding: str
    gender: str | None = None
    eye_colour: str | None = None
    hair_colour: str | None = None
    expression: str | None = None
    properties: tuple[str, ...] = ()
    pose_angles: PoseAngles | None = None
    feature_points: tuple[FeaturePoint, ...] = ()
    face_image_type: str | None = None
    colour_space: str | None = None
    source_type: str | None = None
    device_type: int | None = None
    quality: int | None = None
    format_version: str | None = None
    biometric_header: BiometricHeader = field(default_factory=BiometricHeader)
    problems: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """The number of image bytes."""
        return len(self.image)

    @property
    def format_mismatch(self) -> bool:
        """Whether the declared format and the magic bytes disagree (both known)."""
        return (
            self.declared_format != FORMAT_UNKNOWN
            and self.detected_format != FORMAT_UNKNOWN
            and self.declared_format != self.detected_format
        )


@dataclass(frozen=True)
class Dg2:
    """A parsed DG2.

    :ivar faces: every face image, in order.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar declared_instances: the number of templates tag ``'02'`` declares.
    :ivar problems: oddities that did not stop parsing, DG2-wide and per face.
    """

    faces: tuple[FaceImage, ...]
    raw: bytes = field(repr=False)
    declared_instances: int | None = None
    problems: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# parsing helpers


def _uint(value: bytes | memoryview) -> int:
    return int.from_bytes(value, "big")


def _tlv_int(item: tlv.Tlv, *, signed: bool = False, max_bytes: int = 8) -> int:
    if not item.length or item.length > max_bytes:
        raise ParseError(
            f"integer of {item.length} bytes in tag {item.tag:02X}",
            file=FILE,
            offset=item.offset,
        )
    return int.from_bytes(item.view, "big", signed=signed)


def _choose_format(declared: str, detected: str, problems: list[str]) -> str:
    if detected == FORMAT_UNKNOWN:
        if declared != FORMAT_UNKNOWN:
            problems.append(f"image bytes do not start like {declared}")
        else:
            problems.append("image format unknown (neither declared nor recognisable)")
        return declared
    if declared != FORMAT_UNKNOWN and declared != detected:
        problems.append(f"declared {declared} but the image bytes are {detected}")
    return detected


def _pose_19794(raw: bytes) -> PoseAngles:
    def angle(v: int) -> int | None:
        return (v - 1) * 2 - 180 if 1 <= v <= 181 else None

    def uncertainty(v: int) -> int | None:
        return v - 1 if 1 <= v <= 181 else None

    return PoseAngles(
        yaw=angle(raw[0]),
        pitch=angle(raw[1]),
        roll=angle(raw[2]),
        yaw_uncertainty=uncertainty(raw[3]),
        pitch_uncertainty=uncertainty(raw[4]),
        roll_uncertainty=uncertainty(raw[5]),
        raw=raw,
    )


def _parse_19794(
    buf: memoryview, base: int, header: BiometricHeader, problems: list[str], room: int
) -> list[FaceImage]:
    """Parse an ISO/IEC 19794-5:2005 facial record starting at DG2 offset *base*.

    *buf* is read in place; only the images (and a few small fields) are
    copied out. At most *room* faces are accepted.
    """

    need = record_bounds(buf, base, "19794-5", FILE)
    need(0, _RECORD_HEADER, "record header")
    version_text, _record_length = check_record_header(
        buf, standard="19794-5", length_size=4, problems=problems
    )
    count = _uint(buf[12:14])
    if count == 0:
        raise ParseError("19794-5 record holds no face", file=FILE, offset=base + 12)
    if count > room:
        raise ParseError(
            f"19794-5 record declares {count} faces: more than the {MAX_FACES} a DG2 may hold",
            file=FILE,
            offset=base + 12,
        )
    faces: list[FaceImage] = []
    pos = _RECORD_HEADER
    for index in range(count):
        need(pos, _FACIAL_INFO, f"facial information of face {index + 1}")
        start = pos
        block_length = _uint(buf[pos : pos + 4])
        points = _uint(buf[pos + 4 : pos + 6])
        if points > MAX_FEATURE_POINTS:
            raise ParseError(
                f"{points} feature points (at most {MAX_FEATURE_POINTS})",
                file=FILE,
                offset=base + pos + 4,
            )
        fixed = _FACIAL_INFO + points * _FEATURE_POINT + _IMAGE_INFO
        if block_length < fixed:
            raise ParseError(
                f"facial record block length {block_length} shorter than its {fixed} header bytes",
                file=FILE,
                offset=base + pos,
            )
        need(pos, block_length, f"facial record block of face {index + 1}")
        gender = Gender(buf[pos + 6])
        eyes = EyeColour(buf[pos + 7])
        hair = HairColour(buf[pos + 8])
        mask = _uint(buf[pos + 9 : pos + 12])
        expression = Expression(_uint(buf[pos + 12 : pos + 14]))
        pose = _pose_19794(bytes(buf[pos + 14 : pos + 20]))
        pos += _FACIAL_INFO
        feature_points: list[FeaturePoint] = []
        for _ in range(points):
            fp = buf[pos : pos + _FEATURE_POINT]
            feature_points.append(
                FeaturePoint(fp[0], fp[1] >> 4, fp[1] & 0x0F, _uint(fp[2:4]), _uint(fp[4:6]))
            )
            pos += _FEATURE_POINT
        info = buf[pos : pos + _IMAGE_INFO]
        face_type = FaceImageType(info[0])
        data_type = ImageDataType(info[1])
        pos += _IMAGE_INFO
        end = start + block_length
        image = bytes(buf[pos:end])
        face_problems: list[str] = []
        declared = {
            ImageDataType.JPEG: FORMAT_JPEG,
            ImageDataType.JPEG2000: FORMAT_JPEG2000,
        }.get(data_type, FORMAT_UNKNOWN)
        if declared == FORMAT_UNKNOWN:
            face_problems.append(f"image data type {int(data_type)} is not defined")
        if not image:
            face_problems.append("empty image")
        detected = detect_image_format(image)
        chosen = _choose_format(declared, detected, face_problems)
        faces.append(
            FaceImage(
                image=image,
                image_format=chosen,
                declared_format=declared,
                detected_format=detected,
                width=_uint(info[2:4]),
                height=_uint(info[4:6]),
                offset=base + pos,
                encoding=ENCODING_19794,
                gender=gender.label,
                eye_colour=eyes.label,
                hair_colour=hair.label,
                expression=expression.label,
                properties=tuple(n for bit, n in _FEATURE_FLAGS if mask & bit)
                if mask & _FEATURES_SPECIFIED
                else (),
                pose_angles=pose,
                feature_points=tuple(feature_points),
                face_image_type=face_type.label,
                colour_space=ColourSpace(info[6]).label,
                source_type=SourceType(info[7]).label,
                device_type=_uint(info[8:10]),
                quality=_uint(info[10:12]),
                format_version=version_text,
                biometric_header=header,
                problems=tuple(face_problems),
            )
        )
        problems.extend(f"face {len(faces)}: {p}" for p in face_problems)
        pos = end
    if pos != len(buf):
        problems.append(f"{len(buf) - pos} bytes after the last face in the 19794-5 record")
    return faces


# ISO/IEC 39794-5 -------------------------------------------------------------


def _child(item: tlv.Tlv, tag: int) -> tlv.Tlv | None:
    return item.find(tag, file=FILE)


def _require(item: tlv.Tlv, tag: int, what: str) -> tlv.Tlv:
    found = item.find(tag, file=FILE)
    if found is None:
        raise ParseError(f"39794-5 {what} (tag {tag:02X}) missing", file=FILE, offset=item.offset)
    return found


def _extension_code(item: tlv.Tlv | None) -> int | None:
    """The fallback code of a ``CHOICE { extensionBlock [1] SEQUENCE { fallback [0] } }``."""
    if item is None:
        return None
    ext = _child(item, 0xA1)
    if ext is None:
        return None
    code = _child(ext, 0x80)
    return None if code is None else _tlv_int(code)


def _flags(item: tlv.Tlv | None, names: Sequence[str]) -> tuple[str, ...]:
    if item is None:
        return ()
    out: list[str] = []
    for child in item.iter_children(file=FILE):
        index = child.tag - 0x80
        is_set = child.length > 1 or (child.length == 1 and child.view[0] != 0)
        if 0 <= index < len(names) and is_set:
            out.append(names[index])
    return tuple(out)


def _pose_39794(item: tlv.Tlv | None) -> PoseAngles | None:
    if item is None:
        return None
    angles: list[int | None] = [None] * 3
    uncertainties: list[int | None] = [None] * 3
    for i, tag in enumerate((0xA0, 0xA1, 0xA2)):  # yaw, pitch, roll
        block = _child(item, tag)
        if block is None:
            continue
        value = _child(block, 0x80)
        unc = _child(block, 0x81)
        angles[i] = None if value is None else _tlv_int(value, signed=True)
        uncertainties[i] = None if unc is None else _tlv_int(unc)
    return PoseAngles(
        yaw=angles[0],
        pitch=angles[1],
        roll=angles[2],
        yaw_uncertainty=uncertainties[0],
        pitch_uncertainty=uncertainties[1],
        roll_uncertainty=uncertainties[2],
    )


def _parse_39794_representation(
    rep: tlv.Tlv, header: BiometricHeader, version: str | None, problems: list[str]
) -> FaceImage | None:
    image_rep = _require(rep, 0xA1, "imageRepresentation")
    base = _child(image_rep, 0xA0)
    if base is None:
        problems.append("39794-5 representation is not a 2D image (extension block): skipped")
        return None
    block = _require(base, 0xA0, "imageRepresentation2DBlock")
    data = _require(block, 0x80, "representationData2D")
    info = _require(block, 0xA1, "imageInformation2DBlock")
    face_problems: list[str] = []
    fmt_choice = _require(info, 0xA0, "imageDataFormat")
    code_item = _child(fmt_choice, 0x80)
    if code_item is not None:
        code = _tlv_int(code_item)
        declared = _IMAGE_FORMAT_39794.get(code, FORMAT_UNKNOWN)
        if declared == FORMAT_UNKNOWN:
            name = _IMAGE_FORMAT_39794_NAMES.get(code, str(code))
            face_problems.append(f"image data format {name} is not JPEG or JPEG 2000")
    else:
        declared = FORMAT_UNKNOWN
        face_problems.append("image data format given as an extension block")
    width = height = None
    size = _child(info, 0xA7)
    if size is not None:
        w, h = _child(size, 0x80), _child(size, 0x81)
        width = None if w is None else _tlv_int(w)
        height = None if h is None else _tlv_int(h)
    kind = _extension_code(_child(info, 0xA1))
    colour = _extension_code(_child(info, 0xA9))
    identity = _child(rep, 0xA8)
    gender = eyes = hair = expression = None
    properties: tuple[str, ...] = ()
    pose = None
    if identity is not None:
        g = _extension_code(_child(identity, 0xA0))
        e = _extension_code(_child(identity, 0xA1))
        h2 = _extension_code(_child(identity, 0xA2))
        gender = None if g is None else _GENDER_39794.get(g, f"unknown_0x{g:02X}")
        eyes = None if e is None else _EYE_39794.get(e, f"unknown_0x{e:02X}")
        hair = None if h2 is None else _HAIR_39794.get(h2, f"unknown_0x{h2:02X}")
        properties = _flags(_child(identity, 0xA4), _PROPERTIES_39794)
        expr = _flags(_child(identity, 0xA5), _EXPRESSION_39794)
        expression = ",".join(expr) if expr else None
        pose = _pose_39794(_child(identity, 0xA6))
    image = data.value
    if not image:
        face_problems.append("empty image")
    detected = detect_image_format(image)
    chosen = _choose_format(declared, detected, face_problems)
    return FaceImage(
        image=image,
        image_format=chosen,
        declared_format=declared,
        detected_format=detected,
        width=width,
        height=height,
        offset=data.value_offset,
        encoding=ENCODING_39794,
        gender=gender,
        eye_colour=eyes,
        hair_colour=hair,
        expression=expression,
        properties=properties,
        pose_angles=pose,
        face_image_type=None if kind is None else ("mrtd" if kind == 0 else f"code_{kind}"),
        colour_space=None
        if colour is None
        else _COLOUR_SPACE_39794.get(colour, f"unknown_0x{colour:02X}"),
        format_version=version,
        biometric_header=header,
        problems=tuple(face_problems),
    )


def _parse_39794(
    bdb: tlv.Tlv, header: BiometricHeader, problems: list[str], room: int
) -> list[FaceImage]:
    """Parse an ISO/IEC 39794-5 FaceImageDataBlock held in a BDB (at most *room* faces)."""
    block: tlv.Tlv | None = None
    for item in bdb.iter_children(file=FILE):
        if item.tag == 0x65:
            block = item
            break
        if item.tag == 0xA1:  # the [1]-tagged wrapper used in 9303-10 8th ed. DG2
            block = _child(item, 0x65)
            if block is not None:
                break
    if block is None:
        raise ParseError(
            "biometric data block is neither a 19794-5 record nor a 39794-5 "
            "FaceImageDataBlock ([APPLICATION 5])",
            file=FILE,
            offset=bdb.value_offset,
        )
    version: str | None = None
    version_block = _child(block, 0xA0)
    if version_block is not None:
        gen, year = _child(version_block, 0x80), _child(version_block, 0x81)
        if gen is not None and year is not None:
            version = f"{_tlv_int(gen)}/{_tlv_int(year)}"
    reps = _require(block, 0xA1, "representationBlocks")
    faces: list[FaceImage] = []
    for rep in reps.iter_children(file=FILE):
        if rep.tag != 0x30:
            problems.append(f"unexpected tag {rep.tag:02X} among 39794-5 representation blocks")
            continue
        face = _parse_39794_representation(rep, header, version, problems)
        if face is not None:
            if len(faces) == room:
                raise ParseError(
                    f"more than the {MAX_FACES} face images a DG2 may hold",
                    file=FILE,
                    offset=rep.offset,
                )
            faces.append(face)
            problems.extend(f"face {len(faces)}: {p}" for p in face.problems)
    return faces


def parse(data: bytes) -> Dg2:
    """Parse DG2 (Doc 9303-10 §4.7.2) with ISO/IEC 19794-5 or 39794-5 face records.

    :raises ParseError: naming ``DG2`` and the offset on any malformation
        that stops an image from being extracted: bad TLV, no biometric
        information template, a missing or unrecognised biometric data block,
        a face block longer than the bytes present, more than
        :data:`MAX_FACES` faces or :data:`MAX_FEATURE_POINTS` feature points.

    Time and memory are linear in the input: the TLV structure is read in
    place and only the images and small fields are copied out.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG2)
    group = top.require(TAG_BIT_GROUP, file=FILE)
    problems: list[str] = []
    declared: int | None = None
    templates: list[tlv.Tlv] = []
    for child in group.iter_children(file=FILE):
        if child.tag == TAG_INSTANCES and declared is None:
            declared = _tlv_int(child, max_bytes=2)
        elif child.tag == TAG_BIT:
            templates.append(child)
    if not templates:
        raise ParseError("no biometric information template '7F60'", file=FILE, offset=group.offset)
    if declared is None:
        problems.append("number of instances '02' missing")
    elif declared != len(templates):
        problems.append(f"'02' declares {declared} templates, {len(templates)} present")
    faces: list[FaceImage] = []
    for bit in templates:
        header_item: tlv.Tlv | None = None
        bdb: tlv.Tlv | None = None
        for child in bit.iter_children(file=FILE):
            if child.tag == TAG_BHT and header_item is None:
                header_item = child
            elif child.tag in (TAG_BDB, TAG_BDB_CONSTRUCTED) and bdb is None:
                bdb = child
        if bdb is None:
            raise ParseError(
                "biometric data block '5F2E'/'7F2E' missing", file=FILE, offset=bit.offset
            )
        header = parse_bht(header_item, file=FILE)
        if header_item is None:
            problems.append("biometric header template 'A1' missing")
        elif header.format_owner is None or header.format_type is None:
            problems.append("format owner '87' or format type '88' missing from the BHT")
        block = bdb.view
        if block[: len(_FAC)] == _FAC:
            faces += _parse_19794(block, bdb.value_offset, header, problems, MAX_FACES - len(faces))
        elif bdb.tag == TAG_BDB_CONSTRUCTED or (block and block[0] in (0x65, 0xA1)):
            faces += _parse_39794(bdb, header, problems, MAX_FACES - len(faces))
        else:
            raise ParseError(
                "biometric data block is neither a 19794-5 record ('FAC\\0') nor 39794-5 (tag 65)",
                file=FILE,
                offset=bdb.value_offset,
            )
    return Dg2(tuple(faces), raw, declared, tuple(problems))


# ---------------------------------------------------------------------------
# encoding (test documents)


@dataclass(frozen=True)
class FaceImageSpec:
    """What :func:`encode` needs for one face (ISO/IEC 19794-5:2005 fields).

    :ivar image: the JPEG or JPEG 2000 bytes.
    :ivar format: ``"JPEG"`` or ``"JPEG2000"`` (the declared image data type).
    :ivar width: width in pixels (0..65535).
    :ivar height: height in pixels (0..65535).
    :ivar pose_angles: in degrees; ``None`` fields are written as unspecified.
    """

    image: bytes = field(repr=False)
    format: str = FORMAT_JPEG
    width: int = 0
    height: int = 0
    gender: Gender = Gender.UNSPECIFIED
    eye_colour: EyeColour = EyeColour.UNSPECIFIED
    hair_colour: HairColour = HairColour.UNSPECIFIED
    expression: Expression = Expression.UNSPECIFIED
    feature_mask: int = 0
    pose_angles: PoseAngles | None = None
    feature_points: tuple[FeaturePoint, ...] = ()
    face_image_type: FaceImageType = FaceImageType.FULL_FRONTAL
    colour_space: ColourSpace = ColourSpace.RGB24
    source_type: SourceType = SourceType.STATIC_PHOTO_DIGITAL_STILL
    device_type: int = 0
    quality: int = 0


def _encode_pose(pose: PoseAngles | None) -> bytes:
    if pose is None:
        return bytes(6)

    def angle(v: int | None) -> int:
        if v is None:
            return 0
        if not -180 <= v <= 180:
            raise ValueError(f"pose angle {v} outside -180..180")
        return (v + 180) // 2 + 1

    def uncertainty(v: int | None) -> int:
        if v is None:
            return 0
        if not 0 <= v <= 180:
            raise ValueError(f"pose angle uncertainty {v} outside 0..180")
        return v + 1

    return bytes(
        [
            angle(pose.yaw),
            angle(pose.pitch),
            angle(pose.roll),
            uncertainty(pose.yaw_uncertainty),
            uncertainty(pose.pitch_uncertainty),
            uncertainty(pose.roll_uncertainty),
        ]
    )


def _encode_record(spec: FaceImageSpec) -> bytes:
    if spec.format == FORMAT_JPEG:
        data_type = ImageDataType.JPEG
    elif spec.format == FORMAT_JPEG2000:
        data_type = ImageDataType.JPEG2000
    else:
        raise ValueError(f"format must be JPEG or JPEG2000, not {spec.format!r}")
    if not (0 <= spec.width <= 0xFFFF and 0 <= spec.height <= 0xFFFF):
        raise ValueError("width and height must fit 16 bits")
    points = b"".join(
        bytes([p.type & 0xFF, ((p.major & 0x0F) << 4) | (p.minor & 0x0F)])
        + p.x.to_bytes(2, "big")
        + p.y.to_bytes(2, "big")
        + b"\x00\x00"
        for p in spec.feature_points
    )
    image_info = (
        bytes([int(spec.face_image_type), int(data_type)])
        + spec.width.to_bytes(2, "big")
        + spec.height.to_bytes(2, "big")
        + bytes([int(spec.colour_space), int(spec.source_type)])
        + spec.device_type.to_bytes(2, "big")
        + spec.quality.to_bytes(2, "big")
    )
    block_length = _FACIAL_INFO + len(points) + len(image_info) + len(spec.image)
    facial_info = (
        block_length.to_bytes(4, "big")
        + len(spec.feature_points).to_bytes(2, "big")
        + bytes([int(spec.gender), int(spec.eye_colour), int(spec.hair_colour)])
        + spec.feature_mask.to_bytes(3, "big")
        + int(spec.expression).to_bytes(2, "big")
        + _encode_pose(spec.pose_angles)
    )
    body = facial_info + points + image_info + spec.image
    record_length = _RECORD_HEADER + len(body)
    return _FAC + b"010\x00" + record_length.to_bytes(4, "big") + (1).to_bytes(2, "big") + body


def encode(images: Sequence[FaceImageSpec]) -> bytes:
    """Encode DG2 with one biometric information template per face (9303-10 §4.7.2).

    Each template carries a BHT (biometric type 02 = facial features, format
    owner 0101, format type 0008) and an ISO/IEC 19794-5:2005 record holding
    one face.

    :raises ValueError: if *images* is empty or a spec is out of range.
    """
    if not images:
        raise ValueError("DG2 needs at least one face image")
    if len(images) > 0xFF:
        raise ValueError("at most 255 face images")
    bht = tlv.encode(
        TAG_BHT,
        tlv.encode(0x81, b"\x02")
        + tlv.encode(0x82, b"\x00")
        + tlv.encode(0x87, FORMAT_OWNER_SC37.to_bytes(2, "big"))
        + tlv.encode(0x88, FORMAT_TYPE_19794_5.to_bytes(2, "big")),
    )
    templates = b"".join(
        tlv.encode(TAG_BIT, bht + tlv.encode(TAG_BDB, _encode_record(spec))) for spec in images
    )
    group = tlv.encode(TAG_INSTANCES, bytes([len(images)])) + templates
    return tlv.encode(TAG_DG2, tlv.encode(TAG_BIT_GROUP, group))
