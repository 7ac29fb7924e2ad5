"""MRZ parsing against the specimens of ICAO Doc 9303 Parts 4, 5, 6 and 11."""

from __future__ import annotations

import datetime
import hashlib

import pytest

from epass.errors import ParseError
from epass.lds import mrz
from epass.lds.mrz import MrzDate

# Doc 9303-4 (TD3, machine readable passport), Appendix A specimen.
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
# Doc 9303-5 (TD1 size MROTD), Appendix A specimen.
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
# Doc 9303-6 (TD2 size MROTD), Appendix A specimen.
TD2 = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)
# Doc 9303-11 Appendix D.2 (and 9303-5 §4.2.2 note j): a 12-character document
# number "D23145890734": '<' in the check digit position, the rest "734" and its
# check digit "9" in the optional data.
TD1_LONG = (
    "I<UTOD23145890<7349<<<<<<<<<<<",
    "3407127M9507122UTO<<<<<<<<<<<2",
    "STEVENSON<<PETER<JOHN<<<<<<<<<",
)
# Doc 9303-11 Appendix D.2, the same long number on a TD2 (9303-6 §4.2.2).
TD2_LONG = (
    "I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<",
    "D23145890<UTO3407127M95071227349<<<8",
)
# Doc 9303-11 Appendix D.2 worked example (TD2) for the BAC key seed.
TD2_APPENDIX_D = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "L898902C<3UTO6908061F9406236<<<<<<<2",
)


def _set(line: str, pos: int, ch: str) -> str:
    return line[:pos] + ch + line[pos + 1 :]


def _wrong(ch: str) -> str:
    return "0" if ch != "0" else "1"


# --- check digits ----------------------------------------------------------


def test_check_digit_known_answers() -> None:
    # Doc 9303-3 §4.9 worked example: "520727" -> 3; Appendix D.2 values.
    assert mrz.check_digit("520727") == "3"
    assert mrz.check_digit("L898902C<") == "3"
    assert mrz.check_digit("690806") == "1"
    assert mrz.check_digit("940623") == "6"
    assert mrz.check_digit("D23145890734") == "9"
    assert mrz.check_digit("<<<<") == "0"


def test_check_digit_rejects_bad_character() -> None:
    with pytest.raises(ParseError):
        mrz.check_digit("ab1")


# --- mrz_information --------------------------------------------------------


def test_mrz_information_appendix_d() -> None:
    # Doc 9303-11 Appendix D.2: document number L898902C, born 690806, expires 940623.
    assert mrz.mrz_information("L898902C", "690806", "940623") == "L898902C<369080619406236"
    assert mrz.mrz_information("L898902C<", "690806", "940623") == "L898902C<369080619406236"
    assert mrz.mrz_information(" l898902c ", "690806", "940623") == "L898902C<369080619406236"


def test_mrz_information_long_number_and_key_seed() -> None:
    info = mrz.mrz_information("D23145890734", "340712", "950712")
    assert info == "D23145890734934071279507122"
    # Appendix D.2: K_seed = first 16 bytes of SHA-1(MRZ_information).
    seed = hashlib.sha1(info.encode()).digest()[:16]
    assert seed.hex() == "b366ad857ddca2b08c0e299811714730"


@pytest.mark.parametrize(
    ("number", "dob", "doe"),
    [("", "690806", "940623"), ("L89 8902C", "690806", "940623"), ("L898902C", "6908", "940623"),
     ("L898902C", "690806", "94062X"), ("L898902C", "69O806", "940623")],
)  # fmt: skip
def test_mrz_information_rejects_malformed(number: str, dob: str, doe: str) -> None:
    with pytest.raises(ParseError):
        mrz.mrz_information(number, dob, doe)


# --- the specimens -----------------------------------------------------------


def test_td3_specimen() -> None:
    m = mrz.parse("\n".join(TD3))
    assert m.format == "TD3"
    assert m.document_code == "P"
    assert m.issuing_state == "UTO"
    assert m.primary_identifier == "ERIKSSON"
    assert m.secondary_identifier == "ANNA MARIA"
    assert m.document_number == "L898902C3"
    assert m.nationality == "UTO"
    assert m.date_of_birth == "740812"
    assert m.date_of_birth == datetime.date(1974, 8, 12)
    assert m.sex == "F"
    assert m.date_of_expiry == "120415"
    assert m.date_of_expiry.to_date() == datetime.date(2012, 4, 15)
    assert m.optional_data == "ZE184226B"
    assert m.optional_data_check_digit == "1"
    assert m.composite_check_digit == "0"
    assert m.lines == TD3
    assert m.check_digit_errors == ()
    assert m.mrz_information == "L898902C3674081221204159"


def test_td3_continuous_string_and_other_whitespace() -> None:
    a = mrz.parse("".join(TD3))
    b = mrz.parse("  " + TD3[0] + "\r\n" + TD3[1] + "\n")
    assert a == b
    assert a.text == "".join(TD3)


def test_td1_specimen() -> None:
    m = mrz.parse("\n".join(TD1))
    assert m.format == "TD1"
    assert m.document_code == "I"
    assert m.issuing_state == "UTO"
    assert m.document_number == "D23145890"
    assert m.document_number_check_digit == "7"
    assert m.date_of_birth == "740812"
    assert m.sex == "F"
    assert m.date_of_expiry == "120415"
    assert m.nationality == "UTO"
    assert m.primary_identifier == "ERIKSSON"
    assert m.secondary_identifier == "ANNA MARIA"
    assert m.optional_data == ""
    assert m.optional_data_2 == ""
    assert m.composite_check_digit == "6"
    assert m.check_digit_errors == ()
    assert m.mrz_information == "D23145890774081221204159"


def test_td2_specimen() -> None:
    m = mrz.parse("".join(TD2))
    assert m.format == "TD2"
    assert (m.document_code, m.issuing_state, m.nationality) == ("I", "UTO", "UTO")
    assert m.document_number == "D23145890"
    assert m.primary_identifier == "ERIKSSON"
    assert m.secondary_identifier == "ANNA MARIA"
    assert m.date_of_birth == datetime.date(1974, 8, 12)
    assert m.composite_check_digit == "6"
    assert m.check_digit_errors == ()


@pytest.mark.parametrize("lines", [TD1_LONG, TD2_LONG], ids=["TD1", "TD2"])
def test_long_document_number(lines: tuple[str, ...]) -> None:
    m = mrz.parse("\n".join(lines))
    assert m.document_number == "D23145890734"
    assert m.document_number_check_digit == "9"
    assert m.optional_data == ""
    assert m.primary_identifier == "STEVENSON"
    assert m.secondary_identifier == "PETER JOHN"
    assert m.sex == "M"
    assert m.check_digit_errors == ()
    # Doc 9303-11 Appendix D.2
    assert m.mrz_information == "D23145890734934071279507122"


def test_long_document_number_with_further_optional_data() -> None:
    line1 = "I<UTOD23145890<7349<ABC<<<<<<<"
    line2 = TD1_LONG[1][:29]
    composite = mrz.check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    m = mrz.parse("\n".join([line1, line2 + composite, TD1_LONG[2]]))
    assert m.document_number == "D23145890734"
    assert m.optional_data == "ABC"


def test_long_number_wrong_check_digit() -> None:
    line1 = "I<UTOD23145890<7341<<<<<<<<<<<"  # 1 instead of 9
    text = "\n".join([line1, *TD1_LONG[1:]])
    with pytest.raises(ParseError, match="document_number"):
        mrz.parse(text)
    m = mrz.parse(text, strict=False)
    assert "document_number" in m.check_digit_errors
    assert m.document_number == "D23145890734"


def test_long_number_marker_without_continuation() -> None:
    line1 = "I<UTOD23145890<<<<<<<<<<<<<<<<"
    m = mrz.parse("\n".join([line1, *TD1[1:]]), strict=False)
    assert "document_number" in m.check_digit_errors
    with pytest.raises(ParseError):
        mrz.parse("\n".join([line1, *TD1[1:]]))


def test_appendix_d_td2_mrz_information() -> None:
    m = mrz.parse("\n".join(TD2_APPENDIX_D))
    assert m.document_number == "L898902C"
    assert m.mrz_information == "L898902C<369080619406236"


def test_real_passport_style_fillers() -> None:
    # A one-letter state code and an unused personal number with '<' check digit.
    line1 = "P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<"
    line2 = "C11T002JM4D<<9608122F1310317<<<<<<<<<<<<<<<6"
    m = mrz.parse(line1 + line2)
    assert m.issuing_state == "D"
    assert m.nationality == "D"
    assert m.optional_data == ""
    assert m.optional_data_check_digit == "<"
    assert m.date_of_birth.to_date() == datetime.date(1996, 8, 12)


# --- bad check digits ---------------------------------------------------------

# (lines, line index, position, check digit name)
_BAD_DIGITS = [
    (TD3, 1, 9, "document_number"),
    (TD3, 1, 19, "date_of_birth"),
    (TD3, 1, 27, "date_of_expiry"),
    (TD3, 1, 42, "optional_data"),
    (TD3, 1, 43, "composite"),
    (TD1, 0, 14, "document_number"),
    (TD1, 1, 6, "date_of_birth"),
    (TD1, 1, 14, "date_of_expiry"),
    (TD1, 1, 29, "composite"),
    (TD2, 1, 9, "document_number"),
    (TD2, 1, 19, "date_of_birth"),
    (TD2, 1, 27, "date_of_expiry"),
    (TD2, 1, 35, "composite"),
]


def _fix_composite(lines: list[str]) -> list[str]:
    """Recompute the composite check digit (Doc 9303-4/-5/-6 §4.2.2)."""
    if len(lines) == 3:  # TD1
        l1, l2 = lines[0], lines[1]
        data = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
        return [l1, l2[:29] + mrz.check_digit(data), lines[2]]
    l2 = lines[1]
    end = len(l2) - 1
    data = l2[0:10] + l2[13:20] + l2[21:end]
    return [lines[0], l2[:end] + mrz.check_digit(data)]


@pytest.mark.parametrize(("lines", "row", "pos", "name"), _BAD_DIGITS)
def test_bad_check_digit(lines: tuple[str, ...], row: int, pos: int, name: str) -> None:
    changed = list(lines)
    changed[row] = _set(changed[row], pos, _wrong(changed[row][pos]))
    if name != "composite":
        changed = _fix_composite(changed)  # only the one check digit is wrong
    text = "\n".join(changed)
    with pytest.raises(ParseError, match=name) as info:
        mrz.parse(text)
    assert info.value.offset == sum(len(x) for x in lines[:row]) + pos
    m = mrz.parse(text, strict=False)
    assert m.check_digit_errors == (name,)


def test_bad_data_breaks_field_and_composite() -> None:
    # Changing the date of birth breaks its own check digit and the composite.
    changed = _set(TD3[1], 13, "8")
    m = mrz.parse(TD3[0] + changed, strict=False)
    assert m.check_digit_errors == ("date_of_birth", "composite")
    with pytest.raises(ParseError, match=r"date_of_birth.*composite"):
        mrz.parse(TD3[0] + changed)


def test_letter_in_check_digit_position_is_a_check_digit_error() -> None:
    changed = _set(TD3[1], 9, "X")
    m = mrz.parse(TD3[0] + changed, strict=False)
    assert "document_number" in m.check_digit_errors


# --- malformed input ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P<UTO",
        "".join(TD3) + "<",
        "".join(TD3)[:-1],
        TD3[0] + "\n" + TD3[1][:-1] + "\n<",  # 88 characters, lines of the wrong length
        TD3[0].lower() + TD3[1],
        TD3[0].replace("ANNA", "ANNÄ") + TD3[1],
        TD3[0] + TD3[1].replace("740812", "74O812"),  # letter O in a date
        "\n".join(TD1[:2]),
        "\n".join([*TD1, TD1[2]]),
    ],
)
def test_malformed_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        mrz.parse(text, strict=False)


# --- MrzDate ----------------------------------------------------------------------


def test_mrz_date_behaves_as_str_and_date() -> None:
    d = MrzDate("740812", kind="birth", pivot_year=2012)
    assert d == "740812"
    assert d == datetime.date(1974, 8, 12)
    assert d != datetime.date(2074, 8, 12)
    assert d != "740813"
    assert hash(d) == hash("740812")
    lookup: dict[str, int] = {d: 1}
    assert lookup["740812"] == 1
    assert isinstance(d, str)


def test_mrz_date_centuries() -> None:
    assert MrzDate("691231").to_date().year == 2069
    assert MrzDate("700101").to_date().year == 1970
    assert MrzDate("200101", kind="birth", pivot_year=2020).to_date().year == 2020
    assert MrzDate("210101", kind="birth", pivot_year=2020).to_date().year == 1921
    assert MrzDate("990101", kind="birth", pivot_year=2031).to_date().year == 1999
    assert MrzDate("050101", kind="birth").to_date(pivot_year=2030).year == 2005


def test_mrz_date_birth_resolved_against_expiry() -> None:
    m = mrz.parse("\n".join(TD1_LONG))
    assert m.date_of_birth.to_date() == datetime.date(1934, 7, 12)
    assert m.date_of_expiry.to_date() == datetime.date(1995, 7, 12)


@pytest.mark.parametrize("value", ["74<<<<", "741312", "740230"])
def test_mrz_date_unknown_or_invalid(value: str) -> None:
    d = MrzDate(value, kind="birth", pivot_year=2020)
    with pytest.raises(ValueError):
        d.to_date()
    assert d != datetime.date(1974, 1, 1)


def test_mrz_date_birth_without_pivot() -> None:
    with pytest.raises(ValueError):
        MrzDate("740812", kind="birth").to_date()


def test_partially_unknown_birth_date_parses() -> None:
    # Doc 9303-3: unknown parts of the date of birth are fillers.
    line2 = "L898902C36UTO74<<<<" + mrz.check_digit("74<<<<") + "F1204159ZE184226B<<<<<1"
    composite = mrz.check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    m = mrz.parse(TD3[0] + line2 + composite)
    assert m.date_of_birth == "74<<<<"
    assert m.check_digit_errors == ()


def test_errors_and_reprs_never_show_the_dates():
    from epass.lds.mrz import mrz_information

    with pytest.raises(ParseError) as info:
        mrz_information("L898902C", "74O812", "340415")
    assert "74O812" not in str(info.value)
    with pytest.raises(ParseError) as info:
        mrz_information("L898902C", "740812", "3404l5")
    assert "3404l5" not in str(info.value)
    parsed = mrz.parse("\n".join(TD3))
    assert str(parsed.date_of_birth) not in repr(parsed.date_of_birth)
    assert str(parsed.date_of_expiry) not in repr(parsed.date_of_expiry)
