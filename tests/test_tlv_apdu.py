"""BER-TLV (ISO/IEC 7816-4 §5.2) and APDU (§5.1) codecs: encodings, bounds and malformed input."""

from __future__ import annotations

import pytest

from epass import tlv
from epass.apdu import CommandApdu, ResponseApdu, StatusWord
from epass.errors import LocalProtocolError, ParseError, StatusWordError

H = bytes.fromhex


@pytest.mark.parametrize(
    "length, encoded",
    [
        (0, "00"),
        (0x7F, "7F"),
        (0x80, "8180"),
        (0xFF, "81FF"),
        (0x100, "820100"),
        (0x10000, "83010000"),
    ],
)
def test_length_forms(length, encoded):
    assert tlv.encode_length(length) == H(encoded)
    item = tlv.decode(H("04") + H(encoded) + bytes(length))
    assert (item.tag, len(item.value), item.header_length) == (0x04, length, 1 + len(H(encoded)))


def test_multibyte_tags_and_nesting():
    # EF.COM of ICAO 9303-11 Appendix D.4: 60 14 5F01 04 "0106" 5F36 06 "040000" 5C 02 61 75
    com = tlv.decode_single(H("60145F0104303130365F36063034303030305C026175"), expected_tag=0x60)
    assert com.constructed
    children = com.children()
    assert [c.tag for c in children] == [0x5F01, 0x5F36, 0x5C]
    assert children[0].value == b"0106"
    assert children[2].value == H("6175")
    assert children[2].offset == 18 and children[2].value_offset == 20
    assert com.require(0x5F36).value == b"040000"
    assert com.find(0x99) is None
    assert tlv.encode(0x5F1F, b"AB") == H("5F1F024142")
    assert tlv.header(H("7F6182FFFF")) == (0x7F61, 5, 0xFFFF)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "tag expected"),
        (H("5F"), "multi-byte tag"),
        (H("04"), "length expected"),
        (H("0405"), "exceeds"),
        (H("0482FF"), "length field"),
        (H("04850000000001"), "length field of 5"),
        (H("0480"), "indefinite"),
        (H("5FFFFFFF0100"), "tag longer"),
        (H("84FFFFFFFF00"), "length field"),
    ],
)
def test_malformed_raise_parse_error(data, message):
    with pytest.raises(ParseError, match=message):
        tlv.decode(data, file="DG1")


def test_length_beyond_data_reports_file_and_offset():
    with pytest.raises(ParseError) as info:
        tlv.decode_all(H("0401AA0410AABB"), file="DG11")
    assert info.value.file == "DG11"
    assert info.value.offset == 3


def test_huge_declared_length_does_not_allocate():
    # A 4-byte length of ~4 GB on a 6-byte input must fail on the bounds check, not allocate.
    with pytest.raises(ParseError, match="exceeds"):
        tlv.decode(H("7584FFFFFFF0") + b"x")


def test_trailing_bytes_and_wrong_tag():
    with pytest.raises(ParseError, match="trailing"):
        tlv.decode_single(H("0100") + H("00"))
    with pytest.raises(ParseError, match="expected tag 61"):
        tlv.decode_single(H("6000"), expected_tag=0x61)


def test_nesting_is_bounded():
    data = b""
    for _ in range(tlv.MAX_DEPTH + 3):
        data = tlv.encode(0x30, data)
    item = tlv.decode_single(data)
    with pytest.raises(ParseError, match="nesting"):
        list(tlv.walk(item))


def test_decoded_objects_are_immutable_values_with_a_short_repr():
    big = tlv.encode(0x04, bytes(100_000))
    item = tlv.decode(big)
    with pytest.raises(AttributeError):
        item.tag = 5
    assert repr(item) == "Tlv(tag=04, offset=0, header_length=5, length=100000)"
    assert item == tlv.decode(bytes(big))  # equal by tag, position and value
    assert item != tlv.decode(tlv.encode(0x04, bytes(99_999) + b"\x01"))
    assert item.encode() == big == item.encoded


def test_truncation_at_every_offset_is_a_parse_error():
    good = H("60145F0104303130365F36063034303030305C026175")
    for cut in range(len(good)):
        with pytest.raises(ParseError):
            tlv.decode_single(good[:cut])


@pytest.mark.parametrize(
    "apdu, encoded",
    [
        (CommandApdu(0, 0xA4, 4, 0x0C, H("A0000002471001")), "00A4040C07A0000002471001"),
        (CommandApdu(0, 0x84, 0, 0, le=8), "0084000008"),
        (CommandApdu(0, 0xB0, 0, 0, le=256), "00B0000000"),
        (CommandApdu(0, 0xB0, 0x81, 0, le=65536), "00B08100000000"),
        (CommandApdu(0, 0xB0, 0x81, 0, le=1000), "00B081000003E8"),
        (CommandApdu(0, 0x82, 0, 0, bytes(300), le=65536), "0082000000012C" + "00" * 300 + "0000"),
        (CommandApdu(0, 0x20, 0, 0), "00200000"),
    ],
)
def test_command_apdu_round_trip(apdu, encoded):
    assert apdu.to_bytes() == H(encoded)
    decoded = CommandApdu.from_bytes(H(encoded))
    assert (decoded.data, decoded.le, decoded.is_extended) == (apdu.data, apdu.le, apdu.is_extended)


@pytest.mark.parametrize("raw", ["00", "00A400", "00A4040C05A000", "00A4040C0000", "00B0000000FF"])
def test_command_apdu_malformed(raw):
    with pytest.raises(ParseError):
        CommandApdu.from_bytes(H(raw))


def test_command_apdu_bounds():
    with pytest.raises(LocalProtocolError):
        CommandApdu(0x100, 0, 0, 0)
    with pytest.raises(LocalProtocolError):
        CommandApdu(0, 0xB0, 0, 0, le=65537)


def test_response_and_status_words():
    r = ResponseApdu.from_bytes(H("01029000"))
    assert (r.data, r.sw, r.sw1, r.sw2) == (H("0102"), 0x9000, 0x90, 0x00)
    with pytest.raises(ParseError):
        ResponseApdu.from_bytes(H("90"))
    assert str(StatusWord.from_int(0x6982)) == "0x6982 - SECURITY_STATUS_NOT_SATISFIED"
    assert str(StatusWord.from_int(0x6CE7)) == "0x6CE7 - WRONG_LE"
    assert str(StatusWord.from_int(0x1234)) == "0x1234 - UNKNOWN"
    assert str(StatusWordError(0x6A82, command="SELECT")) == "SELECT: 0x6A82 - FILE_NOT_FOUND"


def test_ef_atr_info_padded_with_ff_still_gives_the_limits():
    from epass.capabilities import parse_atr_info

    # 7F66 with max command 1000 and max response 65535 bytes (ISO/IEC 7816-4 §12.7.1),
    # then the FF padding a master-file EF often carries
    info = bytes.fromhex("7F6609020203E8020300FFFF") + b"\xff" * 8
    caps = parse_atr_info(info)
    assert caps.extended_length is True
    assert (caps.max_command, caps.max_response) == (1000, 0xFFFF)
