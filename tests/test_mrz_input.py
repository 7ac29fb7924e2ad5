"""The BAC key fields from printed MRZ lines (``epass read --mrz``, the kiosk's scanner input).

Specimens of ICAO Doc 9303-4 (TD3), 9303-5 (TD1), 9303-6 (TD2) §4.2.2, and the long
document number of 9303-5 §4.2.4; BAC key seed input of 9303-11 Appendix D.2.
"""

from __future__ import annotations

import pytest

from epass.errors import ParseError
from epass.lds import mrz
from epass.lds.mrz import key_fields

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
TD1_LONG = (
    "I<UTOD23145890<7349<<<<<<<<<<<",
    "3407127M9507122UTO<<<<<<<<<<<2",
    "STEVENSON<<PETER<JOHN<<<<<<<<<",
)
TD2_APPENDIX_D = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C<3UTO6908061F9406236<<<<<<<2")


@pytest.mark.parametrize(
    ("given", "fmt", "which", "number", "dob", "doe"),
    [
        ("\n".join(TD3), "TD3", "all", "L898902C3", "740812", "120415"),
        (list(TD3), "TD3", "all", "L898902C3", "740812", "120415"),
        ("".join(TD3), "TD3", "all", "L898902C3", "740812", "120415"),
        (TD3[1], "TD3", "line 2", "L898902C3", "740812", "120415"),
        ([TD3[1]], "TD3", "line 2", "L898902C3", "740812", "120415"),
        ("\r\n".join(TD1) + "\r\n", "TD1", "all", "D23145890", "740812", "120415"),
        (list(TD1[:2]), "TD1", "lines 1 and 2", "D23145890", "740812", "120415"),
        ("".join(TD1[:2]), "TD1", "lines 1 and 2", "D23145890", "740812", "120415"),
        (" ".join(TD2), "TD2", "all", "D23145890", "740812", "120415"),
        (TD2[1], "TD2", "line 2", "D23145890", "740812", "120415"),
        (list(TD1_LONG), "TD1", "all", "D23145890734", "340712", "950712"),
        (list(TD1_LONG[:2]), "TD1", "lines 1 and 2", "D23145890734", "340712", "950712"),
        (TD3[1].lower(), "TD3", "line 2", "L898902C3", "740812", "120415"),
    ],
)
def test_every_accepted_form(given, fmt, which, number, dob, doe):
    fields = key_fields(given)
    assert (fields.format, fields.lines) == (fmt, which)
    assert (fields.document_number, fields.date_of_birth, fields.date_of_expiry) == (
        number,
        dob,
        doe,
    )
    # the key seed is the one the full MRZ gives, check digits as printed
    assert fields.mrz_information == mrz.parse("\n".join(_full(fmt, given))).mrz_information


def _full(fmt: str, given) -> tuple[str, ...]:
    text = given if isinstance(given, str) else "".join(given)
    if "D23145890<734" in text.upper() or "D23145890<7349" in text.upper():
        return TD1_LONG
    return {"TD1": TD1, "TD2": TD2, "TD3": TD3}[fmt]


def test_appendix_d_key_seed():
    # 9303-11 Appendix D.2: MRZ information "L898902C<369080619406236"
    assert key_fields(TD2_APPENDIX_D[1]).mrz_information == "L898902C<369080619406236"
    assert key_fields(list(TD2_APPENDIX_D)).mrz_information == "L898902C<369080619406236"


def test_repr_hides_the_key():
    fields = key_fields(TD3[1])
    assert "L898902C" not in repr(fields) and "740812" not in repr(fields)


def _flip(line: str, index: int) -> str:
    digit = line[index]
    return line[:index] + str((int(digit) + 1) % 10) + line[index + 1 :]


@pytest.mark.parametrize(
    ("given", "what"),
    [
        (_flip(TD3[1], 9), "the document number"),
        (_flip(TD3[1], 19), "the date of birth"),
        (_flip(TD3[1], 27), "the date of expiry"),
        (_flip(TD3[1], 43), "the zone as a whole"),
        (_flip(TD3[1], 42), "the optional data"),
        ([TD1[0], _flip(TD1[1], 14), TD1[2]], "the date of expiry"),
        ([_flip(TD1[0], 14), TD1[1]], "the document number"),
        (_flip(TD2[1], 35), "the zone as a whole"),
    ],
)
def test_wrong_check_digits_are_named(given, what):
    with pytest.raises(ParseError, match="wrong check digit") as info:
        key_fields(given)
    assert what in str(info.value)
    assert info.value.file == "MRZ"
    text = given if isinstance(given, str) else "".join(given)
    assert text not in str(info.value) and "L898902C" not in str(info.value)


def test_lenient_mode_still_checks_the_key_fields():
    composite_wrong = _flip(TD3[1], 43)
    assert key_fields(composite_wrong, strict=False).document_number == "L898902C3"
    with pytest.raises(ParseError, match="document number"):
        key_fields(_flip(TD3[1], 9), strict=False)


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ("", "MRZ of 0 characters"),
        (TD1[0], "MRZ of 30 characters"),
        (TD3[0], "looks like the name line"),
        (TD2[0], "looks like the name line"),
        (TD3[1][:40], "MRZ of 40 characters"),
        ([TD3[1][:20], TD3[1][20:]], "MRZ lines of 20\\+24 characters"),
        ([TD1[0][:10], TD1[0][10:] + TD1[1]], "MRZ lines of 10\\+50"),
        (TD3[1][:10] + "!" + TD3[1][11:], "not allowed"),
        (TD3[1][:13] + "74O812" + TD3[1][19:], "date of birth is not YYMMDD"),
        ("x" * 2000, "longer than 1024"),
        ([TD3[0], TD3[1][:43]], "MRZ of 44\\+43 characters"),
    ],
)
def test_malformed_input_gives_one_clear_error(given, match):
    with pytest.raises(ParseError, match=match) as info:
        key_fields(given)
    assert info.value.file == "MRZ"


def test_offsets_point_into_the_given_line():
    with pytest.raises(ParseError) as info:
        key_fields(TD3[1][:10] + "!" + TD3[1][11:])
    assert info.value.offset == 10
