"""DG2 (ICAO Doc 9303-10 §4.7.2) with ISO/IEC 19794-5 and 39794-5 face records."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image, features

from epass import tlv
from epass.errors import ParseError
from epass.lds import dg2
from epass.lds.dg2 import FaceImageSpec, FeaturePoint, PoseAngles
from tests.conftest import sample_bytes

_LDS1 = ["bsi_refset_2008/DG2.bin", "bsi_refset_hjp2013/DG2.bin", "nl_specimen_2006/DG2.bin"]
_LDS2_ALL = "lds2_iso39794/ICAO_39794_5_AP_DG2_AllFields.dat"
_LDS2_MAND = "lds2_iso39794/ICAO_39794_5_AP_DG2_MandFields.dat"

JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")
J2K_MAGIC = bytes.fromhex("FF4FFF51")


def _jpeg(width: int = 24, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 150, 120)).save(out, format="JPEG")
    return out.getvalue()


def _wrap(bdb: bytes, *, tag: int = 0x5F2E, bht: bytes | None = None) -> bytes:
    """A DG2 with one template around the biometric data block *bdb*."""
    if bht is None:
        bht = tlv.encode(0xA1, tlv.encode(0x87, b"\x01\x01") + tlv.encode(0x88, b"\x00\x08"))
    bit = tlv.encode(0x7F60, bht + tlv.encode(tag, bdb))
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + bit))


def _bdb(raw: bytes) -> tlv.Tlv:
    top = tlv.decode_single(raw)
    bit = top.require(0x7F61).require(0x7F60)
    return bit.find(0x5F2E) or bit.require(0x7F2E)


# --- LDS1 samples (ISO/IEC 19794-5) ---------------------------------------------


@pytest.mark.parametrize("path", _LDS1)
def test_lds1_samples(samples: Path, path: str) -> None:
    raw = sample_bytes(samples, path)
    parsed = dg2.parse(raw)
    assert parsed.raw == raw
    assert parsed.declared_instances == 1
    assert parsed.problems == ()
    (face,) = parsed.faces
    assert face.encoding == "ISO/IEC 19794-5"
    assert face.image_format == "JPEG2000"
    assert face.declared_format == "JPEG2000"
    assert face.detected_format == "JPEG2000"
    assert not face.format_mismatch
    assert face.size > 0
    # "JP2 signature at offset 84" (samples/README.md)
    assert face.offset == 84
    assert raw[face.offset : face.offset + face.size] == face.image
    assert face.offset + face.size == len(raw)
    assert face.image.startswith(JP2_MAGIC)
    assert face.face_image_type == "full_frontal"
    assert face.format_version == "010"
    assert face.biometric_header.format_owner == 0x0101
    assert face.biometric_header.format_type == 0x0008
    assert face.biometric_header.biometric_type == 0x02
    assert face.gender == "unspecified"


def test_lds1_sample_facts(samples: Path) -> None:
    bsi = dg2.parse(sample_bytes(samples, "bsi_refset_2008/DG2.bin")).faces[0]
    assert (bsi.width, bsi.height, bsi.size) == (337, 449, 14999)
    assert bsi.colour_space == "unspecified"
    nl = dg2.parse(sample_bytes(samples, "nl_specimen_2006/DG2.bin")).faces[0]
    assert (nl.width, nl.height, nl.size) == (449, 598, 13701)
    assert nl.colour_space == "rgb24"
    hjp = dg2.parse(sample_bytes(samples, "bsi_refset_hjp2013/DG2.bin")).faces[0]
    assert hjp.image == bsi.image


@pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow without OpenJPEG")
def test_lds1_image_decodes(samples: Path) -> None:
    face = dg2.parse(sample_bytes(samples, "nl_specimen_2006/DG2.bin")).faces[0]
    with Image.open(io.BytesIO(face.image)) as img:
        assert img.format == "JPEG2000"
        assert img.size[0] > 0


# --- LDS2 samples (ISO/IEC 39794-5) ---------------------------------------------


def test_lds2_all_fields(samples: Path) -> None:
    raw = sample_bytes(samples, _LDS2_ALL)
    parsed = dg2.parse(raw)
    assert parsed.problems == ()
    (face,) = parsed.faces
    assert face.encoding == "ISO/IEC 39794-5"
    assert face.image_format == "JPEG2000"
    assert face.declared_format == "JPEG2000"
    assert face.size == 15000
    assert raw[face.offset : face.offset + face.size] == face.image
    assert (face.width, face.height) == (572, 731)
    assert face.gender == "female"
    assert face.eye_colour == "blue"
    assert face.hair_colour == "brown"
    assert face.expression == "neutral"
    assert face.colour_space == "rgb24"
    assert face.face_image_type == "mrtd"
    assert face.format_version == "3/2019"
    assert face.pose_angles == PoseAngles(
        yaw=2, pitch=3, roll=1, yaw_uncertainty=1, pitch_uncertainty=1, roll_uncertainty=2
    )
    header = face.biometric_header
    assert (header.format_owner, header.format_type) == (0x0101, 0x002A)
    assert header.icao_header_version == b"\x01\x01"


def test_lds2_mandatory_fields(samples: Path) -> None:
    raw = sample_bytes(samples, _LDS2_MAND)
    (face,) = dg2.parse(raw).faces
    assert face.image_format == "JPEG2000"
    assert face.size == 15000
    assert raw[face.offset : face.offset + face.size] == face.image
    assert face.width is None and face.height is None
    assert face.gender is None and face.pose_angles is None


def test_lds2_and_lds1_carry_the_same_image(samples: Path) -> None:
    lds2 = dg2.parse(sample_bytes(samples, _LDS2_MAND)).faces[0]
    lds1 = dg2.parse(sample_bytes(samples, "bsi_refset_2008/DG2.bin")).faces[0]
    assert lds2.image[: len(JP2_MAGIC)] == lds1.image[: len(JP2_MAGIC)]
    assert lds2.size > 0 and lds1.size > 0


# --- encoder round trips ---------------------------------------------------------


def test_round_trip_two_faces() -> None:
    jpeg = _jpeg()
    jp2 = JP2_MAGIC + b"\x00" * 40
    specs = [
        FaceImageSpec(
            image=jpeg,
            format="JPEG",
            width=24,
            height=32,
            gender=dg2.Gender.FEMALE,
            eye_colour=dg2.EyeColour.BLUE,
            hair_colour=dg2.HairColour.BROWN,
            expression=dg2.Expression.NEUTRAL,
            feature_mask=0x000001 | 0x000002,
            pose_angles=PoseAngles(yaw=10, pitch=-4, roll=0, yaw_uncertainty=3),
            feature_points=(FeaturePoint(1, 12, 1, 100, 200), FeaturePoint(1, 3, 14, 5, 6)),
        ),
        FaceImageSpec(image=jp2, format="JPEG2000", width=480, height=640),
    ]
    raw = dg2.encode(specs)
    parsed = dg2.parse(raw)
    assert parsed.problems == ()
    assert parsed.declared_instances == 2
    first, second = parsed.faces
    assert first.image == jpeg and first.image_format == "JPEG"
    assert (first.width, first.height) == (24, 32)
    assert first.gender == "female"
    assert first.eye_colour == "blue"
    assert first.hair_colour == "brown"
    assert first.expression == "neutral"
    assert first.properties == ("glasses",)
    assert first.pose_angles is not None
    assert (first.pose_angles.yaw, first.pose_angles.pitch, first.pose_angles.roll) == (10, -4, 0)
    assert first.pose_angles.yaw_uncertainty == 3
    assert first.pose_angles.pitch_uncertainty is None
    assert first.feature_points == specs[0].feature_points
    assert first.feature_points[0].code == "12.1"
    assert first.colour_space == "rgb24"
    assert first.source_type == "static_photo_digital_still"
    assert raw[first.offset : first.offset + first.size] == jpeg
    assert second.image == jp2 and second.image_format == "JPEG2000"
    assert (second.width, second.height) == (480, 640)
    assert raw[second.offset : second.offset + second.size] == jp2
    with Image.open(io.BytesIO(first.image)) as img:
        assert img.size == (24, 32)


def test_round_trip_matches_sample_layout(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG2.bin")
    face = dg2.parse(raw).faces[0]
    spec = FaceImageSpec(
        image=face.image,
        format="JPEG2000",
        width=337,
        height=449,
        colour_space=dg2.ColourSpace.UNSPECIFIED,
        source_type=dg2.SourceType.UNSPECIFIED,
    )
    assert dg2.encode([spec]) == raw


def test_encode_rejects_bad_specs() -> None:
    with pytest.raises(ValueError):
        dg2.encode([])
    with pytest.raises(ValueError):
        dg2.encode([FaceImageSpec(image=b"x", format="PNG")])
    with pytest.raises(ValueError):
        dg2.encode([FaceImageSpec(image=b"x", width=70000)])
    with pytest.raises(ValueError):
        dg2.encode([FaceImageSpec(image=b"x", pose_angles=PoseAngles(yaw=200))])


# --- formats and oddities -----------------------------------------------------------


def test_detect_image_format() -> None:
    assert dg2.detect_image_format(_jpeg()) == "JPEG"
    assert dg2.detect_image_format(JP2_MAGIC + b"rest") == "JPEG2000"
    assert dg2.detect_image_format(J2K_MAGIC + b"rest") == "JPEG2000"
    assert dg2.detect_image_format(b"\x89PNG\r\n") == "UNKNOWN"
    assert dg2.detect_image_format(b"") == "UNKNOWN"


def test_declared_and_detected_format_disagree() -> None:
    raw = dg2.encode([FaceImageSpec(image=J2K_MAGIC + b"\x00" * 8, format="JPEG")])
    parsed = dg2.parse(raw)
    face = parsed.faces[0]
    assert face.declared_format == "JPEG"
    assert face.detected_format == "JPEG2000"
    assert face.image_format == "JPEG2000"
    assert face.format_mismatch
    assert any("declared JPEG" in p for p in face.problems)
    assert any("declared JPEG" in p for p in parsed.problems)


def test_unrecognisable_image_keeps_declared_format() -> None:
    face = dg2.parse(dg2.encode([FaceImageSpec(image=b"not an image", format="JPEG")])).faces[0]
    assert face.detected_format == "UNKNOWN"
    assert face.image_format == "JPEG"
    assert not face.format_mismatch
    assert face.problems


def test_undefined_image_data_type() -> None:
    raw = bytearray(dg2.encode([FaceImageSpec(image=_jpeg())]))
    bdb = _bdb(bytes(raw))
    raw[bdb.value_offset + 14 + 20 + 1] = 0x07  # image data type
    face = dg2.parse(bytes(raw)).faces[0]
    assert face.declared_format == "UNKNOWN"
    assert face.image_format == "JPEG"
    assert any("image data type 7" in p for p in face.problems)


def test_unknown_codes_fall_back() -> None:
    raw = bytearray(dg2.encode([FaceImageSpec(image=_jpeg())]))
    bdb = _bdb(bytes(raw))
    raw[bdb.value_offset + 14 + 6] = 0x42  # gender
    face = dg2.parse(bytes(raw)).faces[0]
    assert face.gender == "unknown_0x42"
    assert dg2.Gender(0x42).name == "UNKNOWN_0x42"


def test_record_length_mismatch_is_a_problem_not_an_error() -> None:
    raw = bytearray(dg2.encode([FaceImageSpec(image=_jpeg())]))
    bdb = _bdb(bytes(raw))
    length = int.from_bytes(raw[bdb.value_offset + 8 : bdb.value_offset + 12], "big")
    raw[bdb.value_offset + 8 : bdb.value_offset + 12] = (length - 8).to_bytes(4, "big")
    parsed = dg2.parse(bytes(raw))
    assert len(parsed.faces) == 1
    assert any("record length" in p for p in parsed.problems)


def test_instance_count_mismatch_is_reported() -> None:
    raw = bytearray(dg2.encode([FaceImageSpec(image=_jpeg())]))
    index = raw.index(b"\x02\x01\x01")
    raw[index + 2] = 3
    parsed = dg2.parse(bytes(raw))
    assert parsed.declared_instances == 3
    assert any("declares 3" in p for p in parsed.problems)


def test_bdb_in_constructed_tag_with_19794_record() -> None:
    record = _bdb(dg2.encode([FaceImageSpec(image=_jpeg())])).value
    # 7F2E with a 19794 record is unusual but the content decides.
    face = dg2.parse(_wrap(record, tag=0x7F2E)).faces[0]
    assert face.encoding == "ISO/IEC 19794-5"


# --- malformed input -------------------------------------------------------------


def test_every_truncation_of_a_sample(samples: Path) -> None:
    raw = sample_bytes(samples, "nl_specimen_2006/DG2.bin")
    for cut in range(len(raw)):
        with pytest.raises(ParseError):
            dg2.parse(raw[:cut])


def test_every_truncation_inside_the_19794_record() -> None:
    record = _bdb(dg2.encode([FaceImageSpec(image=_jpeg(8, 8))])).value
    for cut in range(len(record)):
        with pytest.raises(ParseError) as info:
            dg2.parse(_wrap(record[:cut]))
        assert info.value.file == "DG2"


def test_truncation_inside_the_39794_block(samples: Path) -> None:
    raw = sample_bytes(samples, _LDS2_ALL)
    block = _bdb(raw).value
    for cut in [*range(0, 200), *range(200, len(block), 101)]:
        with pytest.raises(ParseError):
            dg2.parse(_wrap(block[:cut], tag=0x7F2E))


def test_39794_missing_image_raises(samples: Path) -> None:
    raw = sample_bytes(samples, _LDS2_MAND)
    block = _bdb(raw).value
    # replace representationData2D (tag 80) by tag 9F1F: the image is gone
    broken = block.replace(b"\x80\x82\x3a\x98", b"\x81\x82\x3a\x98", 1)
    with pytest.raises(ParseError, match="representationData2D"):
        dg2.parse(_wrap(broken, tag=0x7F2E))


def test_huge_declared_lengths() -> None:
    record = bytearray(_bdb(dg2.encode([FaceImageSpec(image=_jpeg(8, 8))])).value)
    big_block = bytearray(record)
    big_block[14:18] = b"\xff\xff\xff\xff"  # facial record block length
    with pytest.raises(ParseError, match="truncated"):
        dg2.parse(_wrap(bytes(big_block)))
    many_faces = bytearray(record)
    many_faces[12:14] = b"\xff\xff"  # number of faces
    with pytest.raises(ParseError):
        dg2.parse(_wrap(bytes(many_faces)))
    many_points = bytearray(record)
    many_points[18:20] = b"\xff\xff"  # feature points
    with pytest.raises(ParseError):
        dg2.parse(_wrap(bytes(many_points)))
    with pytest.raises(ParseError):
        dg2.parse(b"\x75\x84\xff\xff\xff\xff\x7f\x61\x00")


def test_short_block_length() -> None:
    record = bytearray(_bdb(dg2.encode([FaceImageSpec(image=_jpeg(8, 8))])).value)
    record[14:18] = (10).to_bytes(4, "big")
    with pytest.raises(ParseError, match="shorter"):
        dg2.parse(_wrap(bytes(record)))


def test_zero_faces() -> None:
    record = bytearray(_bdb(dg2.encode([FaceImageSpec(image=_jpeg(8, 8))])).value)
    record[12:14] = b"\x00\x00"
    with pytest.raises(ParseError, match="no face"):
        dg2.parse(_wrap(bytes(record)))


@pytest.mark.parametrize(
    "raw",
    [
        tlv.encode(0x76, b""),  # wrong outer tag (DG4)
        tlv.encode(0x75, b""),  # no 7F61
        tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01"))),  # no 7F60
        tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x7F60, tlv.encode(0xA1, b"")))),  # no BDB
        _wrap(b"GIF89a not a face record"),
        _wrap(b"", tag=0x7F2E),
        _wrap(tlv.encode(0x30, b""), tag=0x7F2E),
        _wrap(tlv.encode(0x65, b""), tag=0x7F2E),  # no representation blocks
    ],
)
def test_malformed_structure(raw: bytes) -> None:
    with pytest.raises(ParseError) as info:
        dg2.parse(raw)
    assert info.value.file == "DG2"


@pytest.mark.parametrize("path", [_LDS1[0], _LDS2_ALL])
def test_random_corruption_only_raises_parse_error(samples: Path, path: str) -> None:
    raw = sample_bytes(samples, path)
    rng = random.Random(0x0DF2)
    head = 400  # corrupt the headers, where the structure is
    parsed = 0
    for _ in range(400):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(head)] = rng.randrange(256)
        try:
            dg2.parse(bytes(data))
        except ParseError:
            continue
        parsed += 1
    assert parsed < 400  # some corruptions must have been caught


def test_two_faces_in_one_19794_record() -> None:
    jpeg, jp2 = _jpeg(), JP2_MAGIC + b"\x01" * 16
    first = _bdb(dg2.encode([FaceImageSpec(image=jpeg, width=24, height=32)])).value
    second = _bdb(dg2.encode([FaceImageSpec(image=jp2, format="JPEG2000")])).value
    body = first[14:] + second[14:]
    record = b"FAC\x00010\x00" + (14 + len(body)).to_bytes(4, "big") + b"\x00\x02" + body
    raw = _wrap(record)
    parsed = dg2.parse(raw)
    assert parsed.problems == ()
    assert [f.image for f in parsed.faces] == [jpeg, jp2]
    assert [f.image_format for f in parsed.faces] == ["JPEG", "JPEG2000"]
    for face in parsed.faces:
        assert raw[face.offset : face.offset + face.size] == face.image
    # declaring three faces when two are present is a truncation
    with pytest.raises(ParseError, match="face 3"):
        dg2.parse(_wrap(record[:12] + b"\x00\x03" + record[14:]))
