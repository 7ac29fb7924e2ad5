"""DG5, DG7, DG11, DG12, DG13, DG16 (ICAO Doc 9303-10 §4.7.5-§4.7.16), their Document views,
and a virtual document carrying them signed in its SOD."""

from __future__ import annotations

import datetime
import io
from datetime import UTC

import pytest
from PIL import Image

from drivers.virtual.builder import build_document
from epass import tlv
from epass.errors import ParseError
from epass.lds import dg3, dg4, dg5, dg7, dg11, dg12, dg13, dg16
from epass.lds.document import PARSERS, Document
from epass.lds.files import LdsFile
from epass.pa import TrustStore, Verdict, verify
from epass.pa.policy import dg12_date_of_issue


def _jpeg(colour: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (6, 8), (colour, 20, 20)).save(buf, "JPEG")
    return buf.getvalue()


def _jp2() -> bytes:
    return bytes.fromhex("0000000C6A5020200D0A870A") + b"rest of a JP2 file"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (2, 2)).save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------
# DG5 and DG7


@pytest.mark.parametrize(("module", "tag", "image_tag"), [(dg5, 0x65, 0x5F40), (dg7, 0x67, 0x5F43)])
def test_displayed_images_round_trip(module, tag, image_tag):
    images = [_jpeg(), _jp2()]
    data = module.encode(images)
    assert data[0] == tag
    top = tlv.decode_single(data)
    assert [c.tag for c in top.children()] == [0x02, image_tag, image_tag]
    parsed = module.parse(data)
    assert parsed.declared_instances == 2
    assert [i.image for i in parsed.images] == images
    assert [i.image_format for i in parsed.images] == ["JPEG", "JPEG2000"]
    assert parsed.problems == ()
    for image in parsed.images:
        assert data[image.offset : image.offset + image.size] == image.image


def test_dg5_and_dg7_names():
    assert dg5.parse(dg5.encode_dg5([_jpeg()])).portraits[0].image_format == "JPEG"
    assert dg7.parse(dg7.encode_dg7([_jpeg()])).signatures[0].image_format == "JPEG"


def test_displayed_image_oddities_are_reported():
    data = tlv.encode(
        0x65,
        tlv.encode(0x02, b"\x02")
        + tlv.encode(0x5F40, _png())
        + tlv.encode(0x5F7E, b"vendor")
        + tlv.encode(0x5F40, b""),
    )
    parsed = dg5.parse(data)
    assert len(parsed.images) == 2
    assert parsed.images[0].image_format == "PNG"
    problems = " | ".join(parsed.problems)
    assert "not JPEG or JPEG 2000" in problems
    assert "unknown tag 5F7E" in problems
    assert "image 2: empty" in problems
    missing = dg7.parse(tlv.encode(0x67, tlv.encode(0x5F43, _jpeg())))
    assert "number of instances '02' missing" in missing.problems


def test_displayed_image_of_a_gigabyte_declared_is_refused():
    data = b"\x65\x0b\x02\x01\x01\x5f\x40\x84\x40\x00\x00\x00" + bytes(4)
    with pytest.raises(ParseError) as err:
        dg5.parse(data)
    assert err.value.file == "DG5"
    assert err.value.offset is not None
    data = b"\x65\x84\x40\x00\x00\x00\x02\x01\x01"
    with pytest.raises(ParseError) as err:
        dg5.parse(data)
    assert err.value.offset == 0


# ---------------------------------------------------------------------------
# DG11

#: ICAO Doc 9303-10 Appendix A.5 (EF.DG11), with the published example's two
#: wrong lengths corrected ('6B' 63 -> 60, '5F12' 0E -> 0B; the same fix is in
#: gmrtd's tests).
DG11_A5 = bytes.fromhex(
    "6B605C0A5F0E5F115F425F125F13"
    "5F0E0D534D4954483C3C4A4F484E3C4A"
    "5F110A414E59544F574E3C4D4E"
    "5F4217313233204D41504C452052443C414E59544F574E3C4D4E"
    "5F120B3136313235353531323132"
    "5F130C54524156454C3C4147454E54"
)


def test_dg11_icao_example():
    parsed = dg11.parse(DG11_A5)
    assert parsed.full_name == "SMITH<<JOHN<J"
    assert parsed.name == ("SMITH", "JOHN J")
    assert parsed.place_of_birth_parts == ("ANYTOWN", "MN")
    assert parsed.permanent_address_parts == ("123 MAPLE RD", "ANYTOWN", "MN")
    assert parsed.telephone == "16125551212"
    assert parsed.profession == "TRAVEL<AGENT"
    assert parsed.tag_list == (0x5F0E, 0x5F11, 0x5F42, 0x5F12, 0x5F13)
    assert parsed.problems == ()
    assert parsed.title is None and parsed.other_names == ()
    assert "SMITH" not in repr(parsed)


def test_dg11_encoder_reproduces_the_icao_example():
    encoded = dg11.encode_dg11(
        full_name="SMITH<<JOHN<J",
        place_of_birth="ANYTOWN<MN",
        permanent_address="123 MAPLE RD<ANYTOWN<MN",
        telephone="16125551212",
        profession="TRAVEL<AGENT",
    )
    assert encoded == DG11_A5


def test_dg11_round_trip_every_field():
    photo = _jpeg()
    data = dg11.encode(
        full_name="MÜLLER<<JÖRG",
        other_names=["MUELLER<<JOERG", "MILLER<<GEORGE"],
        personal_number="123-45",
        full_date_of_birth=datetime.date(1974, 8, 12),
        place_of_birth="ZÜRICH<CH",
        permanent_address="1 MAIN ST<TOWN",
        telephone="+41 1 234",
        profession="ENGINEER",
        title="DR",
        personal_summary="SUMMARY",
        proof_of_citizenship=photo,
        other_valid_td_numbers=["X1234567", "Y7654321"],
        custody_information="NONE",
        date_encoding="BCD",
    )
    parsed = dg11.parse(data)
    assert parsed.problems == ()
    assert parsed.full_name == "MÜLLER<<JÖRG"
    assert parsed.name == ("MÜLLER", "JÖRG")
    assert parsed.other_names == ("MUELLER<<JOERG", "MILLER<<GEORGE")
    assert parsed.personal_number == "123-45"
    assert parsed.full_date_of_birth is not None
    assert parsed.full_date_of_birth.encoding == "BCD"
    assert parsed.date_of_birth == datetime.date(1974, 8, 12)
    assert parsed.place_of_birth_parts == ("ZÜRICH", "CH")
    assert parsed.title == "DR" and parsed.personal_summary == "SUMMARY"
    assert parsed.proof_of_citizenship == photo
    assert parsed.proof_of_citizenship_format == "JPEG"
    assert parsed.other_valid_td_numbers == ("X1234567", "Y7654321")
    assert parsed.custody_information == "NONE"
    assert 0x5F0F in (parsed.tag_list or ())
    ascii_date = dg11.parse(dg11.encode(full_date_of_birth="19740812")).full_date_of_birth
    assert ascii_date is not None and ascii_date.encoding == "ASCII"
    assert ascii_date.date == datetime.date(1974, 8, 12)


def test_dg11_invalid_characters_are_replaced_and_flagged():
    data = tlv.encode(
        0x6B,
        tlv.encode(0x5C, bytes.fromhex("5F0E5F13"))
        + tlv.encode(0x5F0E, b"SMITH<<J\xff\xfeHN")
        + tlv.encode(0x5F13, b"ROGUE\x1b[31mAGENT"),
    )
    parsed = dg11.parse(data)
    assert parsed.full_name == "SMITH<<J\ufffd\ufffdHN"
    assert parsed.profession == "ROGUE\ufffd[31mAGENT"
    problems = " | ".join(parsed.problems)
    assert "tag 5F0E at offset" in problems and "not UTF-8" in problems
    assert "tag 5F13" in problems and "control characters" in problems


def test_dg11_unknown_tags_and_tag_list_mismatches_are_reported():
    data = tlv.encode(
        0x6B,
        tlv.encode(0x5C, bytes.fromhex("5F0E5F14"))
        + tlv.encode(0x5F0E, b"A<<B")
        + tlv.encode(0x5F12, b"1")
        + tlv.encode(0x5F7F, b"secret")
        + tlv.encode(0x5F0E, b"C<<D"),
    )
    parsed = dg11.parse(data)
    assert parsed.full_name == "A<<B"
    assert parsed.unknown == ((0x5F7F, b"secret"),)
    problems = " | ".join(parsed.problems)
    assert "unknown tag 5F7F" in problems
    assert "tag list names 5F14 but it is absent" in problems
    assert "tag 5F12 present but not in the tag list" in problems
    assert "tag 5F0E repeated" in problems


def test_dg11_bad_dates_are_reported():
    for value, text in ((b"1974AB12", "not a CCYYMMDD"), (b"19741312", "not a valid date")):
        parsed = dg11.parse(tlv.encode(0x6B, tlv.encode(0x5F2B, value)))
        assert parsed.date_of_birth is None
        assert any(text in p for p in parsed.problems)
    partly = dg11.parse(tlv.encode(0x6B, tlv.encode(0x5F2B, b"19740000")))
    assert partly.full_date_of_birth is not None
    assert partly.full_date_of_birth.text == "19740000" and partly.date_of_birth is None
    assert any("partly unknown" in p for p in partly.problems)


def test_dg11_other_names_given_loose():
    parsed = dg11.parse(tlv.encode(0x6B, tlv.encode(0x5F0F, b"X<<Y")))
    assert parsed.other_names == ("X<<Y",)


# ---------------------------------------------------------------------------
# DG12


def test_dg12_date_of_issue_ascii_and_bcd():
    # 5F26 as eight ASCII digits (the specification) and as four BCD bytes (seen in the field)
    ascii_dg12 = tlv.encode(0x6C, tlv.encode(0x5F26, b"20170905"))
    bcd_dg12 = tlv.encode(0x6C, tlv.encode(0x5F26, bytes.fromhex("20210915")))
    a, b = dg12.parse(ascii_dg12), dg12.parse(bcd_dg12)
    assert a.date_of_issue is not None and a.date_of_issue.encoding == "ASCII"
    assert a.issue_date == datetime.date(2017, 9, 5)
    assert b.date_of_issue is not None and b.date_of_issue.encoding == "BCD"
    assert b.issue_date == datetime.date(2021, 9, 15)
    assert dg12_date_of_issue(ascii_dg12) == datetime.date(2017, 9, 5)
    assert dg12_date_of_issue(bcd_dg12) == datetime.date(2021, 9, 15)


def test_dg12_bad_date_of_issue_gives_no_date():
    for value in (b"2017095", bytes.fromhex("2021AB15"), b"20171305"):
        data = tlv.encode(0x6C, tlv.encode(0x5F26, value))
        assert dg12.parse(data).issue_date is None
        assert dg12.parse(data).problems
        assert dg12_date_of_issue(data) is None
    assert dg12_date_of_issue(b"\x6c\x05\x5f\x26") is None  # truncated: None, never an error
    assert dg12_date_of_issue(tlv.encode(0x6C, b"")) is None


def test_dg12_personalization_fields():
    # '5F55' / '5F56' as in gmrtd's adapted New Zealand sample (data changed there)
    data = bytes.fromhex("6C205C045F555F565F550E32303136313131353031333631325F56064E2D34393632")
    parsed = dg12.parse(data)
    assert parsed.problems == ()
    assert parsed.personalization_time is not None
    assert parsed.personalization_time.time == datetime.datetime(2016, 11, 15, 1, 36, 12)
    assert parsed.personalization_device == "N-4962"
    bcd = dg12.parse(tlv.encode(0x6C, tlv.encode(0x5F55, bytes.fromhex("20171115013612"))))
    assert bcd.personalization_time is not None
    assert bcd.personalization_time.encoding == "BCD"
    assert bcd.personalization_time.time == datetime.datetime(2017, 11, 15, 1, 36, 12)


def test_dg12_other_persons_supplement_example():
    # Supplement to Doc 9303: 'A0' { '02' 01, '5F1A' SMITH<<BRENDA<P }
    body = tlv.encode(0x02, b"\x01") + tlv.encode(0x5F1A, b"SMITH<<BRENDA<P")
    parsed = dg12.parse(tlv.encode(0x6C, tlv.encode(0x5C, b"\x5f\x1a") + tlv.encode(0xA0, body)))
    assert parsed.other_persons == ("SMITH<<BRENDA<P",)
    assert parsed.problems == ()


def test_dg12_round_trip_every_field():
    front, rear = _jpeg(10), _jpeg(200)
    for encoding in ("ASCII", "BCD"):
        data = dg12.encode_dg12(
            issuing_authority="UTOPIA PASSPORT OFFICE",
            date_of_issue=datetime.date(2024, 4, 15),
            other_persons=["SMITH<<BRENDA<P", "SMITH<<TOM"],
            endorsements="SEE PAGE 51",
            tax_exit_requirements="NOT APPLICABLE",
            front_image=front,
            rear_image=rear,
            personalization_time=datetime.datetime(2024, 4, 10, 9, 30, 5),
            personalization_device="M-4060",
            date_encoding=encoding,
        )
        parsed = dg12.parse(data)
        assert parsed.problems == ()
        assert parsed.issuing_authority == "UTOPIA PASSPORT OFFICE"
        assert parsed.issue_date == datetime.date(2024, 4, 15)
        assert parsed.date_of_issue is not None and parsed.date_of_issue.encoding == encoding
        assert parsed.other_persons == ("SMITH<<BRENDA<P", "SMITH<<TOM")
        assert parsed.endorsements == "SEE PAGE 51"
        assert parsed.tax_exit_requirements == "NOT APPLICABLE"
        assert (parsed.front_image, parsed.rear_image) == (front, rear)
        assert parsed.personalization_time is not None
        assert parsed.personalization_time.time == datetime.datetime(2024, 4, 10, 9, 30, 5)
        assert parsed.personalization_device == "M-4060"
        assert dg12_date_of_issue(data) == datetime.date(2024, 4, 15)
    with pytest.raises(ValueError):
        dg12.encode_dg12(date_of_issue="2024-04-15")


def test_dg12_unknown_tag_is_kept():
    parsed = dg12.parse(tlv.encode(0x6C, tlv.encode(0x5F19, b"X") + tlv.encode(0x99, b"\x01")))
    assert parsed.unknown == ((0x99, b"\x01"),)
    assert any("unknown tag 99" in p for p in parsed.problems)


# ---------------------------------------------------------------------------
# DG13 and DG16


def test_dg13_raw_with_text_view():
    data = dg13.encode_dg13(b"ISSUER NOTE 42")
    parsed = dg13.parse(data)
    assert parsed.content == b"ISSUER NOTE 42"
    assert parsed.text == "ISSUER NOTE 42"
    assert parsed.hex == b"ISSUER NOTE 42".hex().upper()
    binary = dg13.parse(dg13.encode(b"\x01\x02\xff"))
    assert binary.text is None and binary.content == b"\x01\x02\xff"
    structured = dg13.parse(dg13.encode(tlv.encode(0x80, b"a") + tlv.encode(0x81, b"bc")))
    assert structured.objects == ((0x80, b"a"), (0x81, b"bc"))
    with pytest.raises(ParseError, match="at most"):
        dg13.parse(dg13.encode(bytes(dg13.MAX_CONTENT + 1)))
    with pytest.raises(ParseError):
        dg13.parse(dg13.encode(b"abc")[:-1])


def test_dg16_round_trip():
    people = [
        dg16.PersonSpec(
            name="SMITH<<JANE",
            telephone="+1 555 0100",
            address="1 ELM ST<SPRINGFIELD",
            date_recorded=datetime.date(2023, 1, 2),
        ),
        dg16.PersonSpec(name="DOE<<JOHN"),
    ]
    data = dg16.encode_dg16(people)
    top = tlv.decode_single(data)
    assert [c.tag for c in top.children()] == [0x02, 0xA1, 0xA2]
    parsed = dg16.parse(data)
    assert parsed.problems == ()
    assert parsed.declared_count == 2
    first, second = parsed.persons
    assert first.name == "SMITH<<JANE" and first.telephone == "+1 555 0100"
    assert first.address_parts == ("1 ELM ST", "SPRINGFIELD")
    assert first.date_recorded is not None
    assert first.date_recorded.date == datetime.date(2023, 1, 2)
    assert second.name == "DOE<<JOHN" and second.telephone is None
    assert "JANE" not in repr(parsed) and "JANE" not in repr(first)


def test_dg16_oddities_are_reported():
    person = tlv.encode(0x5F51, b"A<<B") + tlv.encode(0x5F3F, b"?")
    data = tlv.encode(0x70, tlv.encode(0x02, b"\x02") + tlv.encode(0xA3, person) + b"\x04\x00")
    parsed = dg16.parse(data)
    assert parsed.persons[0].name == "A<<B"
    assert parsed.persons[0].unknown == ((0x5F3F, b"?"),)
    assert parsed.unknown == ((0x04, b""),)
    problems = " | ".join(parsed.problems)
    assert "expected A1" in problems
    assert "declares 2 persons, 1 present" in problems
    assert "unknown tag 5F3F" in problems


# ---------------------------------------------------------------------------
# truncation and garbage, every parser


def _samples() -> dict[str, tuple[object, bytes]]:
    return {
        "DG5": (dg5, dg5.encode([_jpeg()])),
        "DG7": (dg7, dg7.encode([_jpeg()])),
        "DG11": (dg11, DG11_A5),
        "DG12": (dg12, dg12.encode(issuing_authority="X", other_persons=["A<<B"])),
        "DG13": (dg13, dg13.encode(b"abc")),
        "DG16": (dg16, dg16.encode([dg16.PersonSpec(name="A<<B")])),
    }


@pytest.mark.parametrize("name", ["DG5", "DG7", "DG11", "DG12", "DG13", "DG16"])
def test_truncated_and_garbage_input_raise_parse_error_with_offset(name):
    module, data = _samples()[name]
    for end in range(len(data)):
        with pytest.raises(ParseError) as err:
            module.parse(data[:end])  # type: ignore[attr-defined]
        assert err.value.file == name and err.value.offset is not None
    for junk in (b"", b"\x00" * 10, b"\xff" * 10, b"\x30\x00", data + b"\x00"):
        with pytest.raises(ParseError) as err:
            module.parse(junk)  # type: ignore[attr-defined]
        assert err.value.file == name


# ---------------------------------------------------------------------------
# Document views and a signed virtual document


def _extra_groups() -> dict[int, bytes]:
    return {
        3: dg3.encode([dg3.FingerImageSpec(_jpeg(), "JPEG", position=1, width=6, height=8)]),
        4: dg4.encode([dg4.IrisImageSpec(_jpeg(), "JPEG", eye="left", width=6, height=8)]),
        5: dg5.encode([_jpeg()]),
        7: dg7.encode([_jpeg(30)]),
        11: dg11.encode(full_name="ERIKSSON<<ANNA<MARIA", place_of_birth="ZENITH<UTO"),
        12: dg12.encode(issuing_authority="UTOPIA", date_of_issue="20240415"),
        13: dg13.encode(b"NOTE"),
        16: dg16.encode([dg16.PersonSpec(name="ERIKSSON<<NILS")]),
    }


def test_every_data_group_has_a_parser_row():
    for number in (3, 4, 5, 7, 11, 12, 13, 16):
        assert LdsFile.data_group(number) in PARSERS


def test_document_views():
    doc = Document({LdsFile.data_group(n): data for n, data in _extra_groups().items()})
    assert doc.dg3 is not None and doc.dg3.positions == (1,)
    assert doc.dg4 is not None and doc.dg4.eyes == ("left",)
    assert doc.dg5 is not None and doc.dg5.images[0].image_format == "JPEG"
    assert doc.dg7 is not None and len(doc.dg7.images) == 1
    assert doc.dg11 is not None and doc.dg11.name == ("ERIKSSON", "ANNA MARIA")
    assert doc.dg12 is not None and doc.dg12.issue_date == datetime.date(2024, 4, 15)
    assert doc.dg13 is not None and doc.dg13.text == "NOTE"
    assert doc.dg16 is not None and doc.dg16.persons[0].name == "ERIKSSON<<NILS"
    assert doc.dg3 is doc.dg3  # cached
    empty = Document({})
    assert (empty.dg3, empty.dg11, empty.dg16) == (None, None, None)


def test_document_refuses_oversized_and_reports_malformed():
    big = Document({LdsFile.DG11: b"\x6b" + bytes(LdsFile.DG11.max_size)})
    with pytest.raises(ParseError, match="not parsed"):
        _ = big.dg11
    bad = Document({LdsFile.DG16: b"\x70\x05\x02"})
    with pytest.raises(ParseError) as err:
        _ = bad.dg16
    assert err.value.file == "DG16"
    assert bad.parse_error(LdsFile.DG16) is not None


def test_builder_signs_extra_data_groups():
    extra = _extra_groups()
    doc = build_document(extra_data_groups=extra)
    for number, data in extra.items():
        assert doc.files[LdsFile.data_group(number)] == data
    parsed = Document(doc.files)
    assert parsed.com is not None
    assert set(extra) <= set(parsed.com.data_groups)
    assert parsed.sod is not None
    hashed = set(parsed.sod.dg_hashes)
    assert set(extra) <= hashed
    at = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    report = verify(doc.dump(), doc.trust_store(), at=at)
    assert report.verdict is Verdict.VALID, report.to_dict()
    # an extra data group altered after signing is caught
    for number in extra:
        forged = doc.tampered(LdsFile.data_group(number))
        assert verify(forged.dump(), doc.trust_store(), at=at).verdict is not Verdict.VALID
    assert verify(doc.dump(), TrustStore(), at=at).verdict is not Verdict.VALID
