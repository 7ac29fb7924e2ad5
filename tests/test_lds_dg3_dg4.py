"""DG3 (fingers), DG4 (irises): 9303-10 §4.7.3-§4.7.4, ISO/IEC 19794-4/-6, 39794-4/-6."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from epass import tlv
from epass.errors import ParseError
from epass.lds import biometric as bio
from epass.lds import dg3, dg4
from epass.lds.dg3 import FingerImageSpec
from epass.lds.dg4 import IrisImageSpec
from tests.conftest import sample_bytes

BSI_SETS = ("bsi_refset_2008", "bsi_refset_hjp2013")


def _jpeg(size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, 128).save(buf, "JPEG")
    return buf.getvalue()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (4, 4), 7).save(buf, "PNG")
    return buf.getvalue()


#: A syntactically plausible WSQ start: SOI, a COM segment, SOF (2 x 3 pixels), EOI.
WSQ_HEAD = bytes.fromhex("FFA0FFA8000568690AFFA2001100000300020000000000000000FFA1")


# ---------------------------------------------------------------------------
# DG3 against the BSI TR-03105-5 reference data set (samples/README.md §1.1, §1.2)


@pytest.mark.parametrize("folder", BSI_SETS)
def test_dg3_bsi_reference_set(samples, folder):
    parsed = dg3.parse(sample_bytes(samples, f"{folder}/DG3.bin"))
    assert parsed.declared_instances == 2
    assert parsed.problems == ()
    assert parsed.positions == (2, 7)
    assert [f.position_name for f in parsed.fingers] == ["right index finger", "left index finger"]
    for finger, subtype in zip(parsed.fingers, (0x09, 0x0A), strict=True):
        assert finger.encoding == "ISO/IEC 19794-4"
        assert finger.image_format == finger.declared_format == finger.detected_format == "WSQ"
        assert (finger.width, finger.height) == (620, 620)
        assert finger.quality == 100
        assert finger.impression == "live-scan plain"
        assert finger.view_number == 1 and finger.view_count == 1
        assert finger.record is not None
        assert finger.record.version == "010"
        assert finger.record.scale_units == "pixels per inch"
        assert finger.record.scan_resolution == (500, 500)
        assert finger.record.image_resolution == (500, 500)
        assert finger.record.pixel_depth == 8
        assert finger.record.compression == 2
        assert finger.record.acquisition_level == 31
        header = finger.biometric_header
        assert (header.biometric_type, header.biometric_subtype) == (0x08, subtype)
        assert (header.format_owner, header.format_type) == (0x0101, 0x0007)
        assert bio.wsq_dimensions(finger.image) == (620, 620)
    assert [f.size for f in parsed.fingers] == [16389, 15931]


def test_dg3_sample_wsq_decodes_when_the_package_is_installed(samples):
    parsed = dg3.parse(sample_bytes(samples, "bsi_refset_2008/DG3.bin"))
    if not bio.wsq_available():
        assert parsed.fingers[0].display_note == bio.WSQ_NOT_DECODED
        assert bio.decode_wsq(parsed.fingers[0].image) is None
        pytest.skip("the optional wsq package is not installed")
    image = bio.decode_wsq(parsed.fingers[0].image)
    assert image is not None
    assert image.size == (620, 620) and image.mode == "L"
    assert parsed.fingers[0].display_note is None
    # a ridge image, not a flat one
    low, high = image.getextrema()
    assert isinstance(low, int) and isinstance(high, int)
    assert high - low > 100


def test_wsq_not_decoded_without_the_package(monkeypatch):
    monkeypatch.setattr(bio, "wsq_available", lambda: False)
    data = dg3.encode_dg3([FingerImageSpec(WSQ_HEAD, "WSQ", width=3, height=2)])
    finger = dg3.parse(data).fingers[0]
    assert finger.image_format == "WSQ"
    assert finger.display_note == "WSQ, not decoded"
    assert bio.decode_wsq(WSQ_HEAD) is None


def test_wsq_decoder_refuses_bad_images(samples):
    with pytest.raises(ParseError, match="not a WSQ image"):
        bio.decode_wsq(_jpeg())
    huge = bytes.fromhex("FFA0FFA200110000FFFFFFFF0000000000000000FFA1")
    with pytest.raises(ParseError, match="at most"):
        bio.decode_wsq(huge)
    with pytest.raises(ParseError, match="before its frame header"):
        bio.decode_wsq(bytes.fromhex("FFA0FFA8000568"))
    with pytest.raises(ParseError, match="segment length"):
        bio.decode_wsq(bytes.fromhex("FFA0FFA80000"))
    if not bio.wsq_available():
        pytest.skip("the optional wsq package is not installed")
    image = dg3.parse(sample_bytes(samples, "bsi_refset_2008/DG3.bin")).fingers[0].image
    rnd = random.Random(3)
    for _ in range(10):
        mutated = bytearray(image)
        for _ in range(20):
            mutated[rnd.randrange(200, len(mutated))] = rnd.randrange(256)
        try:
            bio.decode_wsq(bytes(mutated))
        except ParseError:
            pass  # refused as such; a decoded (noisy) image is fine too
    with pytest.raises(ParseError, match="not decodable"):
        bio.decode_wsq(image[:5000])


# ---------------------------------------------------------------------------
# DG3 encoder round trips and ISO/IEC 39794-4


def test_dg3_round_trip_every_format():
    specs = [
        FingerImageSpec(WSQ_HEAD, "WSQ", position=1, width=3, height=2, quality=80),
        FingerImageSpec(_jpeg(), "JPEG", position=7, width=8, height=6, impression=1),
        FingerImageSpec(_png(), "PNG", position=13, width=4, height=4, resolution=1000),
        FingerImageSpec(bytes(12), "RAW", position=15, width=4, height=3),
    ]
    data = dg3.encode(specs)
    assert data[0] == 0x63
    parsed = dg3.parse(data)
    assert parsed.problems == ()
    assert parsed.declared_instances == 4
    assert parsed.positions == (1, 7, 13, 15)
    assert [f.position_name for f in parsed.fingers] == [
        "right thumb",
        "left index finger",
        "plain right four fingers",
        "plain thumbs",
    ]
    assert [f.image_format for f in parsed.fingers] == ["WSQ", "JPEG", "PNG", "RAW"]
    for finger, spec in zip(parsed.fingers, specs, strict=True):
        assert finger.image == spec.image
        assert (finger.width, finger.height) == (spec.width, spec.height)
        assert data[finger.offset : finger.offset + finger.size] == spec.image
    assert parsed.fingers[0].quality == 80
    assert parsed.fingers[1].impression == "live-scan rolled"
    assert parsed.fingers[2].record is not None
    assert parsed.fingers[2].record.scan_resolution == (1000, 1000)
    assert [f.biometric_header.biometric_subtype for f in parsed.fingers[:2]] == [0x05, 0x0A]
    assert parsed.fingers[2].biometric_header.biometric_subtype is None


def test_dg3_encoder_refuses_bad_specs():
    with pytest.raises(ValueError):
        dg3.encode([])
    with pytest.raises(ValueError, match="format"):
        dg3.encode([FingerImageSpec(b"x", "GIF")])
    with pytest.raises(ValueError, match="16 bits"):
        dg3.encode([FingerImageSpec(b"x", "RAW", width=70000)])


def test_dg3_declared_format_disagreeing_with_the_bytes_is_reported():
    parsed = dg3.parse(dg3.encode([FingerImageSpec(_jpeg(), "WSQ")]))
    finger = parsed.fingers[0]
    assert finger.image_format == "JPEG" and finger.declared_format == "WSQ"
    assert any("declared WSQ but the image bytes are JPEG" in p for p in parsed.problems)


def _enc(tag: int, *parts: bytes) -> bytes:
    return tlv.encode(tag, b"".join(parts))


def _finger_39794(position: int, impression: int, fmt: int, image: bytes) -> bytes:
    return _enc(
        0x30,
        _enc(0xA0, tlv.encode(0x80, bytes([position]))),
        _enc(0xA1, tlv.encode(0x80, bytes([impression]))),
        _enc(0xA2, tlv.encode(0x80, bytes([fmt]))),
        tlv.encode(0x83, image),
    )


def test_dg3_iso_39794_4_structure():
    block = _enc(
        0x64,
        _enc(0xA0, tlv.encode(0x80, b"\x01"), tlv.encode(0x81, b"\x07\xe3")),
        _enc(
            0xA1,
            _finger_39794(2, 0, 1, WSQ_HEAD),
            _finger_39794(6, 1, 2, _jpeg()),
            tlv.encode(0x04, b"odd"),
        ),
    )
    template = _enc(0x7F60, _enc(0xA1, tlv.encode(0x87, b"\x01\x01")), tlv.encode(0x7F2E, block))
    parsed = dg3.parse(_enc(0x63, _enc(0x7F61, tlv.encode(0x02, b"\x01"), template)))
    assert parsed.positions == (2, 6)
    first, second = parsed.fingers
    assert first.encoding == "ISO/IEC 39794-4 (1/2019)"
    assert first.image_format == "WSQ" and first.impression == "plain contact"
    assert first.record is None
    assert second.declared_format == "JPEG2000" and second.detected_format == "JPEG"
    assert second.impression == "rolled contact"
    assert any("unexpected tag 04" in p for p in parsed.problems)
    assert any("declared JPEG2000 but the image bytes are JPEG" in p for p in parsed.problems)


# ---------------------------------------------------------------------------
# DG4


@pytest.mark.parametrize("folder", BSI_SETS)
def test_dg4_bsi_reference_set(samples, folder):
    parsed = dg4.parse(sample_bytes(samples, f"{folder}/DG4.bin"))
    assert parsed.declared_instances == 2
    assert parsed.problems == ()
    assert parsed.eyes == ("right", "left")
    right, left = parsed.irises
    for iris in parsed.irises:
        assert iris.encoding == "ISO/IEC 19794-6"
        assert iris.image_format == iris.declared_format == iris.detected_format == "JPEG2000"
        assert iris.quality == 51
        assert iris.bit_depth == 24
        assert iris.record is not None and iris.record.image_format_code == 0x0010
        assert iris.record.header_length == 45 and iris.record.eye_count == 1
        assert iris.record.iris_diameter > 0
        assert iris.rotation_angle == 0xFFFF  # undefined
        assert (iris.biometric_header.format_owner, iris.biometric_header.format_type) == (
            0x0101,
            0x0009,
        )
    assert (right.width, right.height, right.size) == (163, 149, 6386)
    assert (left.width, left.height, left.size) == (160, 152, 6718)
    assert [i.biometric_header.biometric_subtype for i in parsed.irises] == [1, 2]


def test_dg4_round_trip():
    specs = [
        IrisImageSpec(_jpeg((10, 8)), "JPEG", eye="left", width=10, height=8, quality=90),
        IrisImageSpec(bytes(6), "RAW", eye="right", width=3, height=2),
    ]
    parsed = dg4.parse(dg4.encode_dg4(specs))
    assert parsed.problems == ()
    assert parsed.eyes == ("left", "right")
    assert [i.image for i in parsed.irises] == [s.image for s in specs]
    assert [i.image_format for i in parsed.irises] == ["JPEG", "RAW"]
    assert (parsed.irises[0].width, parsed.irises[0].height, parsed.irises[0].quality) == (
        10,
        8,
        90,
    )
    with pytest.raises(ValueError, match="eye"):
        dg4.encode([IrisImageSpec(b"x", "RAW", eye="middle")])


def test_dg4_iso_39794_6_structure():
    rep = _enc(
        0x30,
        tlv.encode(0x80, b"\x02"),
        _enc(0xA1, tlv.encode(0x80, b"\x03")),
        tlv.encode(0x82, b"\x08"),
        _enc(0xA3, tlv.encode(0x80, b"\x02")),
        tlv.encode(0x89, _png()),
    )
    block = _enc(0x66, _enc(0xA1, rep))
    template = _enc(0x7F60, tlv.encode(0x7F2E, block))
    parsed = dg4.parse(_enc(0x76, _enc(0x7F61, tlv.encode(0x02, b"\x01"), template)))
    (iris,) = parsed.irises
    assert iris.eye == "left" and iris.image_format == "PNG" and iris.bit_depth == 8
    assert iris.encoding == "ISO/IEC 39794-6"
    assert any("'A1' missing" in p for p in parsed.problems)


# ---------------------------------------------------------------------------
# bad input


def test_unknown_tags_in_the_template_group_are_reported_not_raised():
    good = dg3.encode([FingerImageSpec(_jpeg(), "JPEG")])
    top = tlv.decode_single(good)
    group = top.require(0x7F61)
    extra = _enc(0x63, _enc(0x7F61, group.value + tlv.encode(0x5F7F, b"junk")))
    parsed = dg3.parse(extra)
    assert len(parsed.fingers) == 1
    assert any("unknown tag 5F7F" in p for p in parsed.problems)


def test_dg3_finger_block_of_a_gigabyte_is_refused():
    record = bytearray(dg3.encode([FingerImageSpec(_jpeg(), "JPEG")]))
    at = record.index(b"FIR\x00") + 32
    record[at : at + 4] = (1 << 30).to_bytes(4, "big")
    with pytest.raises(ParseError) as err:
        dg3.parse(bytes(record))
    assert err.value.file == "DG3" and err.value.offset == at
    assert "truncated" in str(err.value)


def test_dg4_image_of_a_gigabyte_is_refused():
    data = bytearray(dg4.encode([IrisImageSpec(_jpeg(), "JPEG")]))
    at = data.index(b"IIR\x00") + 45 + 3 + 7
    data[at : at + 4] = (1 << 30).to_bytes(4, "big")
    with pytest.raises(ParseError) as err:
        dg4.parse(bytes(data))
    assert err.value.file == "DG4" and err.value.offset == at + 4


def test_gigabyte_tlv_length_is_refused():
    data = b"\x63\x84\x40\x00\x00\x00" + bytes(10)
    with pytest.raises(ParseError) as err:
        dg3.parse(data)
    assert err.value.file == "DG3" and err.value.offset == 0


@pytest.mark.parametrize(
    ("module", "data"),
    [
        (dg3, dg3.encode([FingerImageSpec(WSQ_HEAD, "WSQ", width=3, height=2)])),
        (dg4, dg4.encode([IrisImageSpec(_jpeg(), "JPEG")])),
    ],
    ids=["DG3", "DG4"],
)
def test_every_truncation_raises_parse_error_with_an_offset(module, data):
    for end in range(len(data)):
        with pytest.raises(ParseError) as err:
            module.parse(data[:end])
        assert err.value.file == module.FILE
        assert err.value.offset is not None


def test_record_that_is_neither_19794_nor_39794_is_refused():
    body = _enc(0x7F61, tlv.encode(0x02, b"\x01"), _enc(0x7F60, tlv.encode(0x5F2E, b"XYZ\x00")))
    with pytest.raises(ParseError, match="neither"):
        dg3.parse(_enc(0x63, body))
    with pytest.raises(ParseError, match="neither"):
        dg4.parse(_enc(0x76, body))


def test_finger_record_count_is_bounded():
    data = bytearray(dg3.encode([FingerImageSpec(_jpeg(), "JPEG")]))
    at = data.index(b"FIR\x00") + 18
    data[at] = 0
    with pytest.raises(ParseError, match="no finger"):
        dg3.parse(bytes(data))


def test_detect_image_format():
    assert bio.detect_image_format(_jpeg()) == "JPEG"
    assert bio.detect_image_format(_png()) == "PNG"
    assert bio.detect_image_format(WSQ_HEAD) == "WSQ"
    assert bio.detect_image_format(bytes.fromhex("FF4FFF51")) == "JPEG2000"
    assert bio.detect_image_format(bytes.fromhex("0000000C6A502020")) == "JPEG2000"
    assert bio.detect_image_format(b"\xff\xa0\x00\x00") == "UNKNOWN"
    assert bio.detect_image_format(b"") == "UNKNOWN"
