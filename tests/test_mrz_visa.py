"""Machine readable visas (ICAO Doc 9303-7): MRV-A (2 x 44) and MRV-B (2 x 36).

The specimen lines are Doc 9303-7's Utopia visa (ERIKSSON, ANNA MARIA, visa
L8988901C, nationality XXX, born 400907, expiring 961210).
"""

from __future__ import annotations

import pytest

from epass.errors import ParseError
from epass.lds import dg1, mrz

MRV_A = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<"
MRV_B = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<"
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


@pytest.mark.parametrize(
    ("text", "fmt", "optional"), [(MRV_A, "MRV-A", "6ZE184226B"), (MRV_B, "MRV-B", "")]
)
def test_specimen_visas(text, fmt, optional):
    parsed = mrz.parse(text)
    assert parsed.format == fmt
    assert parsed.is_visa
    assert parsed.document_code == "V"
    assert parsed.issuing_state == "UTO"
    assert (parsed.primary_identifier, parsed.secondary_identifier) == ("ERIKSSON", "ANNA MARIA")
    assert parsed.document_number == "L8988901C"
    assert parsed.document_number_check_digit == "4"
    assert parsed.nationality == "XXX"
    assert parsed.date_of_birth == "400907" and parsed.date_of_birth_check_digit == "8"
    assert parsed.sex == "F"
    assert parsed.date_of_expiry == "961210" and parsed.date_of_expiry_check_digit == "9"
    assert parsed.optional_data == optional
    assert parsed.optional_data_check_digit is None
    assert parsed.composite_check_digit == ""  # a visa has none
    assert parsed.check_digit_errors == ()
    assert parsed.mrz_information == "L8988901C440090789612109"
    assert parsed.text == text.replace("\n", "")


def test_a_passport_of_the_same_size_is_not_a_visa():
    parsed = mrz.parse(TD3)
    assert parsed.format == "TD3" and not parsed.is_visa
    td2 = mrz.parse("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6")
    assert td2.format == "TD2" and not td2.is_visa


def _alter(text: str, index: int) -> str:
    flat = text.replace("\n", "")
    ch = flat[index]
    new = "0" if ch != "0" else "1"
    return flat[:index] + new + flat[index + 1 :]


@pytest.mark.parametrize("text", [MRV_A, MRV_B], ids=["MRV-A", "MRV-B"])
@pytest.mark.parametrize(
    ("position", "name"),
    [(9, "document_number"), (19, "date_of_birth"), (27, "date_of_expiry")],
)
def test_each_check_digit_altered_is_caught(text, position, name):
    width = len(text.split("\n")[0])
    altered = _alter(text, width + position)
    parsed = mrz.parse(altered, strict=False)
    assert parsed.check_digit_errors == (name,)
    with pytest.raises(ParseError, match=name):
        mrz.parse(altered)
    with pytest.raises(ParseError, match="wrong check digit"):
        mrz.key_fields(altered)


@pytest.mark.parametrize("text", [MRV_A, MRV_B], ids=["MRV-A", "MRV-B"])
@pytest.mark.parametrize(
    ("position", "name"),
    [(3, "document_number"), (15, "date_of_birth"), (24, "date_of_expiry")],
)
def test_each_guarded_field_altered_is_caught(text, position, name):
    width = len(text.split("\n")[0])
    parsed = mrz.parse(_alter(text, width + position), strict=False)
    assert parsed.check_digit_errors == (name,)


def test_visa_optional_data_has_no_check_digit():
    width = 44
    altered = _alter(MRV_A, width + 30)
    assert mrz.parse(altered).check_digit_errors == ()
    altered_b = _alter(MRV_B, 36 + 30)
    parsed = mrz.parse(altered_b)
    assert parsed.optional_data == "<<0"
    assert parsed.check_digit_errors == ()


def test_visa_key_fields_and_dg1():
    fields = mrz.key_fields(MRV_B)
    assert fields.format == "MRV-B"
    assert fields.document_number == "L8988901C"
    assert fields.mrz_information == "L8988901C440090789612109"
    parsed = dg1.parse(dg1.encode(MRV_A))
    assert parsed.mrz.format == "MRV-A"
    assert parsed.mrz.document_number == "L8988901C"


def test_visa_lines_keep_their_width_rules():
    with pytest.raises(ParseError):
        mrz.parse(MRV_A.replace("\n", "\n<"))
    with pytest.raises(ParseError):
        mrz.parse("V<UTO" + "<" * 39 + "\n" + "L8988901C4XXX40090X8F96121096ZE184226B<<<<<<")
