"""EF.COM and DG1 (ICAO Doc 9303-10 §4.6.1, §4.7.1) against the public samples."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from epass import tlv
from epass.errors import ParseError
from epass.lds import com, dg1
from epass.lds.files import LdsFile
from tests.conftest import sample_bytes

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<D231458907UTO7408122F1204159<<<<<<<6"


# --- EF.COM ------------------------------------------------------------------

# Tag lists stated in samples/README.md.
_COM_TAGS = {
    "bsi_refset_2008": (0x61, 0x75, 0x63, 0x6E),
    "bsi_refset_hjp2013": (0x61, 0x75, 0x63, 0x76, 0x6E),
    "nl_specimen_2006": (0x61, 0x75, 0x6F),
}


@pytest.mark.parametrize(("folder", "tags"), sorted(_COM_TAGS.items()))
def test_com_samples(samples: Path, folder: str, tags: tuple[int, ...]) -> None:
    raw = sample_bytes(samples, f"{folder}/EF_COM.bin")
    parsed = com.parse(raw)
    assert parsed.tags == tags
    assert parsed.files == tuple(LdsFile.by_tag(t) for t in tags)
    assert parsed.unknown_tags == ()
    assert parsed.lds_version == "0107"
    assert parsed.lds_version_dotted == "1.7"
    assert parsed.unicode_version == "040000"
    assert parsed.unicode_version_dotted == "4.0.0"
    assert parsed.raw == raw


def test_com_data_groups(samples: Path) -> None:
    parsed = com.parse(sample_bytes(samples, "bsi_refset_hjp2013/EF_COM.bin"))
    assert parsed.data_groups == (1, 2, 3, 4, 14)


def test_com_round_trip() -> None:
    files = [LdsFile.DG1, LdsFile.DG2, LdsFile.DG14, LdsFile.DG15]
    raw = com.encode(files)
    parsed = com.parse(raw)
    assert parsed.files == tuple(files)
    assert parsed.tags == (0x61, 0x75, 0x6E, 0x6F)
    assert parsed.lds_version == "0108"
    assert parsed.lds_version_dotted == "1.8"
    assert parsed.unicode_version == "040000"
    assert com.encode(files, lds_version="0107", unicode_version="060100") != raw


def test_com_matches_sample_encoding(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/EF_COM.bin")
    parsed = com.parse(raw)
    assert com.encode(parsed.files, lds_version="0107") == raw


def test_com_unknown_tag_kept() -> None:
    body = tlv.encode(0x5F01, b"0107") + tlv.encode(0x5F36, b"040000")
    body += tlv.encode(0x5C, bytes([0x61, 0x99, 0x75]))
    parsed = com.parse(tlv.encode(0x60, body))
    assert parsed.unknown_tags == (0x99,)
    assert parsed.files == (LdsFile.DG1, LdsFile.DG2)
    assert parsed.tags == (0x61, 0x99, 0x75)


def test_com_encode_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        com.encode([LdsFile.EF_CARD_ACCESS])
    with pytest.raises(ValueError):
        com.encode([LdsFile.DG1], lds_version="1.8")
    with pytest.raises(ValueError):
        com.encode([LdsFile.DG1], unicode_version="4.0")


@pytest.mark.parametrize(
    "body",
    [
        tlv.encode(0x5F01, b"0107") + tlv.encode(0x5F36, b"040000"),  # no tag list
        tlv.encode(0x5F01, b"01A7") + tlv.encode(0x5C, b"\x61"),  # not digits
        tlv.encode(0x5F01, b"107") + tlv.encode(0x5C, b"\x61"),  # wrong length
        tlv.encode(0x5F36, b"0400") + tlv.encode(0x5C, b"\x61"),
        b"\x5c\x05\x61",  # inner length beyond the value
    ],
)
def test_com_malformed_content(body: bytes) -> None:
    with pytest.raises(ParseError) as info:
        com.parse(tlv.encode(0x60, body))
    assert info.value.file == "EF.COM"


def test_com_every_truncation(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_hjp2013/EF_COM.bin")
    for cut in range(len(raw)):
        with pytest.raises(ParseError):
            com.parse(raw[:cut])


def test_com_wrong_tag_trailing_and_huge_length(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/EF_COM.bin")
    with pytest.raises(ParseError, match="expected tag 60"):
        com.parse(b"\x61" + raw[1:])
    with pytest.raises(ParseError, match="trailing"):
        com.parse(raw + b"\x00")
    with pytest.raises(ParseError):
        com.parse(b"\x60\x84\xff\xff\xff\xff" + raw[2:])


# --- DG1 ----------------------------------------------------------------------


def test_dg1_bsi_2008(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG1.bin")
    parsed = dg1.parse(raw)
    m = parsed.mrz
    assert parsed.raw == raw
    assert m.format == "TD3"
    assert m.document_code == "P"
    assert m.issuing_state == "D"
    assert parsed.issuing_state == "D"
    assert m.nationality == "D"
    assert m.primary_identifier == "MUSTERMANN"
    assert m.secondary_identifier == "ERIKA"
    assert m.document_number == "C11T002JM"
    assert m.date_of_birth == "960812"
    assert m.date_of_expiry == "131031"
    assert m.date_of_expiry == datetime.date(2013, 10, 31)
    assert m.sex == "F"
    assert m.check_digit_errors == ()
    assert m.mrz_information == "C11T002JM496081221310317"


def test_dg1_bsi_hjp2013(samples: Path) -> None:
    m = dg1.parse(sample_bytes(samples, "bsi_refset_hjp2013/DG1.bin")).mrz
    assert (m.primary_identifier, m.secondary_identifier) == ("MUSTERMANN", "ERIKA")
    assert m.document_number == "C11T002JM"
    assert m.date_of_expiry == "231031"
    assert m.date_of_birth.to_date() == datetime.date(1996, 8, 12)
    assert m.check_digit_errors == ()


def test_dg1_nl_specimen(samples: Path) -> None:
    m = dg1.parse(sample_bytes(samples, "nl_specimen_2006/DG1.bin")).mrz
    assert m.issuing_state == "NLD"
    assert m.primary_identifier == "MEULENDIJK"
    assert m.secondary_identifier == "LOES ALBERTINE"
    assert m.document_number == "XX0001328"
    assert m.date_of_birth == datetime.date(1971, 10, 19)
    assert m.date_of_expiry == datetime.date(2011, 10, 1)
    assert m.optional_data == "123456789"
    assert m.check_digit_errors == ()


@pytest.mark.parametrize("text", [TD3, TD1, TD2])
def test_dg1_round_trip(text: str) -> None:
    raw = dg1.encode(text)
    assert raw[:1] == b"\x61"
    parsed = dg1.parse(raw)
    assert parsed.mrz.text == text
    assert parsed.mrz.check_digit_errors == ()


def test_dg1_encode_accepts_lines() -> None:
    lines = TD3[:44] + "\n" + TD3[44:]
    assert dg1.encode(lines) == dg1.encode(TD3)


def test_dg1_sample_reencodes_identically(samples: Path) -> None:
    raw = sample_bytes(samples, "nl_specimen_2006/DG1.bin")
    assert dg1.encode(dg1.parse(raw).mrz.text) == raw


def test_dg1_wrong_check_digit_is_reported_not_fatal() -> None:
    bad = TD3[:53] + "0" + TD3[54:]  # document number check digit 6 -> 0
    parsed = dg1.parse(dg1.encode(bad))
    assert "document_number" in parsed.mrz.check_digit_errors
    assert parsed.mrz.document_number == "L898902C3"


def test_dg1_mrz_errors_carry_dg1_offset() -> None:
    raw = dg1.encode(TD3)
    broken = raw.replace(b"ANNA", b"anna")
    with pytest.raises(ParseError) as info:
        dg1.parse(broken)
    assert info.value.file == "DG1"
    assert info.value.offset == broken.index(b"anna")


@pytest.mark.parametrize(
    "raw",
    [
        tlv.encode(0x61, tlv.encode(0x5F1F, TD3[:-1].encode())),  # 87 characters
        tlv.encode(0x61, tlv.encode(0x5F1F, TD3.encode()[:40] + b"\xc4" + TD3.encode()[41:])),
        tlv.encode(0x61, tlv.encode(0x5F1F, (TD3[:44] + " " + TD3[45:]).encode())),
        tlv.encode(0x61, tlv.encode(0x5F1E, TD3.encode())),  # wrong inner tag
        tlv.encode(0x61, b""),
        tlv.encode(0x6B, tlv.encode(0x5F1F, TD3.encode())),  # wrong outer tag
        b"\x61\x84\x7f\xff\xff\xff\x5f\x1f",  # huge declared length
    ],
)
def test_dg1_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError) as info:
        dg1.parse(raw)
    assert info.value.file == "DG1"


def test_dg1_every_truncation(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG1.bin")
    for cut in range(len(raw)):
        with pytest.raises(ParseError):
            dg1.parse(raw[:cut])
    # also truncated inside a structurally valid TLV: the MRZ itself is short
    text = dg1.parse(raw).mrz.text.encode()
    for cut in range(len(text)):
        with pytest.raises(ParseError):
            dg1.parse(tlv.encode(0x61, tlv.encode(0x5F1F, text[:cut])))
