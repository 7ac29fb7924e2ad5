"""The machine readable zone (ICAO Doc 9303 Parts 3 to 7).

Five layouts are read:

* **TD3** (passports, Doc 9303-4 §4.2.2): two lines of 44 characters;
* **TD2** (Doc 9303-6 §4.2.2): two lines of 36 characters;
* **TD1** (ID cards, Doc 9303-5 §4.2.2): three lines of 30 characters;
* **MRV-A** (visas, Doc 9303-7 §4.2.2): two lines of 44 characters, the
  document code starting with ``V``;
* **MRV-B** (visas, Doc 9303-7 §5.2.2): two lines of 36 characters, the
  document code starting with ``V``.

A visa's line 2 has the document (visa) number and its check digit, the
nationality, the date of birth and its check digit, the sex, the date of
expiry and its check digit, then optional data to the end of the line (16
characters on an MRV-A, 8 on an MRV-B) with no check digit; there is no
composite check digit. A 44- or 36-character MRZ whose document code
starts with ``V`` is a visa; any other is a TD3 or TD2.

The text may come as separate lines (separated by newlines or other
whitespace) or as one continuous string, which is how DG1 stores it
(9303-10 §4.7.1: 88, 72 or 90 characters).

Check digits use the 7-3-1 weighting of Doc 9303-3 §4.9. With
``strict=True`` a wrong check digit raises :class:`~epass.errors.ParseError`;
with ``strict=False`` the MRZ still parses and :attr:`Mrz.check_digit_errors`
lists what was wrong, since chips in circulation do carry wrong check digits.

Long document numbers (Doc 9303-5 §4.2.4 note j, 9303-6 §4.2.4): on TD1 and
TD2 a document number longer than nine characters keeps its first nine in
the number field, a filler ``<`` in the check digit position, and continues
in the optional data with the remaining characters, the check digit of the
whole number, and a filler.

:func:`mrz_information` builds the input of the BAC key seed (Doc 9303-11
§9.7.1, Appendix D.2): document number, date of birth and date of expiry,
each followed by its check digit.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from epass.errors import ParseError

__all__ = [
    "MAX_LENGTH",
    "MAX_TEXT",
    "VISA_FORMATS",
    "Mrz",
    "MrzDate",
    "MrzKeyFields",
    "check_digit",
    "key_fields",
    "mrz_information",
    "parse",
]

#: The visa layouts (Doc 9303-7): MRV-A is 2 x 44, MRV-B 2 x 36.
VISA_FORMATS = ("MRV-A", "MRV-B")
_VISA_OF = {"TD3": "MRV-A", "TD2": "MRV-B"}

_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
_WEIGHTS = (7, 3, 1)
#: total length -> (format name, number of lines, line length)
_LAYOUTS: dict[int, tuple[str, int, int]] = {
    90: ("TD1", 3, 30),
    72: ("TD2", 2, 36),
    88: ("TD3", 2, 44),
}

#: Longest MRZ, in characters without separators (TD1).
MAX_LENGTH = max(_LAYOUTS)
#: Longest text :func:`parse` looks at: the MRZ with room for line breaks and
#: spaces around the lines; anything longer is refused before it is split.
MAX_TEXT = 1024

DateKind = Literal["birth", "expiry"]


def _char_value(ch: str) -> int:
    if "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(ch)


def check_digit(text: str) -> str:
    """The check digit of *text* (Doc 9303-3 §4.9).

    Digits count as their value, ``A`` to ``Z`` as 10 to 35 and the filler
    ``<`` as 0; the values are weighted 7, 3, 1, 7, 3, 1, ... and the sum
    modulo 10 is the check digit.

    :raises ParseError: if *text* holds a character outside ``A-Z``, ``0-9``
        and ``<``.
    """
    total = 0
    for i, ch in enumerate(text):
        try:
            total += _char_value(ch) * _WEIGHTS[i % 3]
        except ValueError:
            raise ParseError(f"character {ch!r} not allowed in an MRZ field", offset=i) from None
    return str(total % 10)


class MrzDate(str):
    """A six-character MRZ date ``YYMMDD`` that also converts to a :class:`datetime.date`.

    It is a ``str``, so ``mrz.date_of_birth == "740812"`` holds, and hashes
    like one. It also compares equal to the :class:`datetime.date` it
    denotes. The century is resolved as follows (the MRZ does not carry it):

    * expiry: ``20YY`` if ``YY <= 69``, else ``19YY``;
    * birth: the latest year ending in ``YY`` that is not after the
      expiry year (:attr:`pivot_year`).

    Unknown parts of a date of birth are fillers (Doc 9303-3 §4.8.2);
    such a date stays a string and :meth:`to_date` raises ``ValueError``.
    """

    kind: DateKind
    pivot_year: int | None

    def __new__(
        cls, value: str, *, kind: DateKind = "expiry", pivot_year: int | None = None
    ) -> MrzDate:
        obj = super().__new__(cls, value)
        obj.kind = kind
        obj.pivot_year = pivot_year
        return obj

    def to_date(self, *, pivot_year: int | None = None) -> datetime.date:
        """The calendar date.

        :param pivot_year: for a date of birth, the latest year it may fall
            in (defaults to :attr:`pivot_year`, the expiry year when parsed
            from an MRZ).
        :raises ValueError: if the date is partly unknown or invalid, or a
            date of birth has no pivot year.
        """
        text = str(self)
        if len(text) != 6 or not text.isdigit():
            raise ValueError(f"MRZ date {text!r} is not a complete YYMMDD date")
        yy, mm, dd = int(text[0:2]), int(text[2:4]), int(text[4:6])
        if self.kind == "expiry":
            year = 2000 + yy if yy <= 69 else 1900 + yy
        else:
            pivot = pivot_year if pivot_year is not None else self.pivot_year
            if pivot is None:
                raise ValueError("a date of birth needs a pivot year (the expiry year)")
            year = pivot - ((pivot - yy) % 100)
        return datetime.date(year, mm, dd)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime.date):
            try:
                return self.to_date() == other
            except ValueError:
                return False
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __repr__(self) -> str:  # a date of birth or expiry is personal data (and a BAC key input)
        return f"MrzDate(<hidden>, kind={self.kind!r})"


@dataclass(frozen=True, repr=False)
class Mrz:
    """A parsed machine readable zone.

    Text fields have their fillers removed: trailing ``<`` stripped from
    codes, numbers and optional data; in names ``<`` becomes a space.

    :ivar format: ``"TD1"``, ``"TD2"``, ``"TD3"``, ``"MRV-A"`` or ``"MRV-B"``.
    :ivar document_code: e.g. ``"P"``, ``"I"``, ``"ID"``, ``"AC"``, ``"V"``.
    :ivar issuing_state: three-letter code (``"D"`` for Germany: fillers removed).
    :ivar primary_identifier: surname(s), e.g. ``"ERIKSSON"``.
    :ivar secondary_identifier: given names, e.g. ``"ANNA MARIA"``.
    :ivar document_number: the full document number, also when longer than
        nine characters (TD1/TD2).
    :ivar nationality: three-letter code.
    :ivar date_of_birth: ``YYMMDD`` (may hold ``<`` where unknown).
    :ivar sex: ``"M"``, ``"F"``, ``"X"`` or ``"<"`` (unspecified).
    :ivar date_of_expiry: ``YYMMDD``.
    :ivar optional_data: optional data (TD3: the personal number; visas:
        the rest of line 2, no check digit); for a long document number,
        what follows the number's continuation.
    :ivar optional_data_2: TD1 only: the optional data of line 2.
    :ivar lines: the MRZ lines as read.
    :ivar check_digit_errors: names of the check digits that are wrong
        (``"document_number"``, ``"date_of_birth"``, ``"date_of_expiry"``,
        ``"optional_data"``, ``"composite"``); empty when all are right.
    :ivar document_number_check_digit: as printed (for a long number: the
        one in the optional data).
    :ivar optional_data_check_digit: TD3 only, as printed.
    :ivar composite_check_digit: as printed; ``""`` for a visa, which has none.
    """

    format: str
    document_code: str
    issuing_state: str
    primary_identifier: str
    secondary_identifier: str
    document_number: str
    nationality: str
    date_of_birth: MrzDate
    sex: str
    date_of_expiry: MrzDate
    optional_data: str
    optional_data_2: str
    lines: tuple[str, ...]
    check_digit_errors: tuple[str, ...]
    document_number_check_digit: str
    date_of_birth_check_digit: str
    date_of_expiry_check_digit: str
    optional_data_check_digit: str | None
    composite_check_digit: str

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"Mrz({self.format}, <personal data hidden>)"

    @property
    def is_visa(self) -> bool:
        """Whether this is a machine readable visa (MRV-A or MRV-B, Doc 9303-7)."""
        return self.format in VISA_FORMATS

    @property
    def text(self) -> str:
        """The MRZ as one continuous string, as DG1 stores it."""
        return "".join(self.lines)

    @property
    def mrz_information(self) -> str:
        """The BAC key seed input (Doc 9303-11 §9.7.1, Appendix D.2).

        Document number (at least nine characters, filled with ``<``), its
        check digit, date of birth, its check digit, date of expiry, its
        check digit, with the check digits as printed in the MRZ.
        """
        return (
            self.document_number.ljust(9, "<")
            + self.document_number_check_digit
            + self.date_of_birth
            + self.date_of_birth_check_digit
            + self.date_of_expiry
            + self.date_of_expiry_check_digit
        )


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """Build the BAC key seed input from the three printed fields (Doc 9303-11 §9.7.1).

    The document number may be longer than nine characters (its check digit
    is then computed over the whole number, Doc 9303-5 §4.2.4); a shorter one
    is filled with ``<`` to nine. Surrounding whitespace is ignored and
    letters are upper-cased.

    >>> mrz_information("L898902C", "690806", "940623")
    'L898902C<369080619406236'

    :raises ParseError: if a field is empty, holds a character outside
        ``A-Z``, ``0-9``, ``<``, or a date is not six characters of digits
        (fillers allowed in the date of birth).
    """
    number = document_number.strip().upper().rstrip("<")
    if not number:
        raise ParseError("document number is empty", file="MRZ")
    for i, ch in enumerate(number):
        if ch not in _ALPHABET:
            raise ParseError(f"character {ch!r} not allowed in a document number", offset=i)
    dob = date_of_birth.strip()
    doe = date_of_expiry.strip()
    if len(dob) != 6 or not all(c.isdigit() or c == "<" for c in dob):
        raise ParseError("date of birth must be six characters YYMMDD (digits or '<')")
    if len(doe) != 6 or not doe.isdigit():
        raise ParseError("date of expiry must be six digits YYMMDD")
    padded = number.ljust(9, "<")
    return padded + check_digit(padded) + dob + check_digit(dob) + doe + check_digit(doe)


# ---------------------------------------------------------------------------
# parsing


def _split(text: str) -> tuple[tuple[str, ...], str]:
    """Normalise *text* to (lines, format)."""
    parts = text.split()
    joined = "".join(parts)
    layout = _LAYOUTS.get(len(joined))
    if layout is None:
        raise ParseError(
            f"MRZ of {len(joined)} characters: expected 90 (TD1), 72 (TD2) or 88 (TD3)",
            offset=0,
        )
    fmt, count, width = layout
    if len(parts) > 1 and (len(parts) != count or any(len(p) != width for p in parts)):
        lengths = "+".join(str(len(p)) for p in parts)
        raise ParseError(
            f"MRZ lines of {lengths} characters: {fmt} needs {count} lines of {width}",
            offset=0,
        )
    for i, ch in enumerate(joined):
        if ch not in _ALPHABET:
            raise ParseError(f"character {ch!r} not allowed in an MRZ", offset=i)
    lines = tuple(joined[i * width : (i + 1) * width] for i in range(count))
    return lines, fmt


def _name(field: str) -> tuple[str, str]:
    primary, sep, secondary = field.partition("<<")
    prim = " ".join(p for p in primary.split("<") if p)
    sec = " ".join(p for p in secondary.split("<") if p) if sep else ""
    return prim, sec


def _code(field: str) -> str:
    return field.replace("<", " ").strip().replace(" ", "<")


class _Checks:
    """Collects check digit results: (name, offset, expected, found)."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, int, str, str]] = []

    def check(self, name: str, data: str, found: str, offset: int) -> None:
        expected = check_digit(data)
        if found != expected:
            self.errors.append((name, offset, expected, found))

    def fail(self, name: str, offset: int, expected: str, found: str) -> None:
        self.errors.append((name, offset, expected, found))


def _long_number(
    number_field: str, cd: str, optional: str, optional_offset: int, checks: _Checks
) -> tuple[str, str, str]:
    """Resolve a TD1/TD2 document number that may continue in the optional data.

    :returns: ``(document_number, its check digit, remaining optional data)``.
    """
    if cd != "<":
        return number_field.rstrip("<"), cd, optional.rstrip("<")
    run = optional.split("<", 1)[0]
    if len(run) < 2:
        # A filler in the check digit position with no continuation: malformed.
        checks.fail("document_number", optional_offset - 1, check_digit(number_field), "<")
        return number_field.rstrip("<"), "<", optional.rstrip("<")
    full = number_field + run[:-1]
    found = run[-1]
    checks.check("document_number", full, found, optional_offset + len(run) - 1)
    rest = optional[len(run) :].lstrip("<").rstrip("<")
    return full, found, rest


def parse(text: str, *, strict: bool = True) -> Mrz:
    """Parse a TD1, TD2, TD3, MRV-A or MRV-B machine readable zone (Doc 9303-4/-5/-6/-7).

    :param text: the lines separated by newlines or other whitespace, or one
        continuous string of 90 (TD1), 72 (TD2, MRV-B) or 88 (TD3, MRV-A)
        characters; a document code starting with ``V`` makes a 72 or 88
        character MRZ a visa (MRV-B, MRV-A).
    :param strict: raise on a wrong check digit (``True``) or record it in
        :attr:`Mrz.check_digit_errors` (``False``).
    :raises ParseError: on a text longer than :data:`MAX_TEXT`, a wrong
        length, a character outside ``A-Z``,
        ``0-9``, ``<``, a malformed date, or (if *strict*) a wrong check
        digit, naming which one; the offset is the character index in the
        continuous string.
    """
    if len(text) > MAX_TEXT:
        raise ParseError(
            f"MRZ text of {len(text)} characters (at most {MAX_TEXT} with separators)", offset=0
        )
    lines, fmt = _split(text)
    if fmt in _VISA_OF and lines[0].startswith("V"):
        fmt = _VISA_OF[fmt]
    checks = _Checks()
    optional_2 = ""
    optional_cd: str | None = None
    if fmt == "TD1":
        l1, l2, l3 = lines
        b2 = 30  # offset of line 2 in the continuous string
        document_code, issuing_state = l1[0:2], l1[2:5]
        number, number_cd, optional = _long_number(l1[5:14], l1[14], l1[15:30], 15, checks)
        if l1[14] != "<":
            checks.check("document_number", l1[5:14], l1[14], 14)
        dob, dob_cd, sex = l2[0:6], l2[6], l2[7]
        doe, doe_cd = l2[8:14], l2[14]
        nationality = l2[15:18]
        optional_2 = l2[18:29].rstrip("<")
        composite = l2[29]
        composite_data = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
        composite_offset = b2 + 29
        primary, secondary = _name(l3)
        date_offset = {"dob": b2, "doe": b2 + 8}
    else:
        l1, l2 = lines
        b2 = len(l1)
        document_code, issuing_state = l1[0:2], l1[2:5]
        primary, secondary = _name(l1[5:])
        nationality = l2[10:13]
        dob, dob_cd, sex = l2[13:19], l2[19], l2[20]
        doe, doe_cd = l2[21:27], l2[27]
        if fmt in VISA_FORMATS:
            # Doc 9303-7 §4.2.2 / §5.2.2: no composite check digit, optional data unchecked.
            number, number_cd = l2[0:9].rstrip("<"), l2[9]
            checks.check("document_number", l2[0:9], l2[9], b2 + 9)
            optional = l2[28:].rstrip("<")
            composite = ""
            composite_data = ""
            composite_offset = -1
        elif fmt == "TD3":
            number, number_cd = l2[0:9].rstrip("<"), l2[9]
            checks.check("document_number", l2[0:9], l2[9], b2 + 9)
            personal, optional_cd = l2[28:42], l2[42]
            optional = personal.rstrip("<")
            if not (optional == "" and optional_cd in "<0"):
                checks.check("optional_data", personal, optional_cd, b2 + 42)
            composite = l2[43]
            composite_data = l2[0:10] + l2[13:20] + l2[21:43]
            composite_offset = b2 + 43
        else:
            number, number_cd, optional = _long_number(l2[0:9], l2[9], l2[28:35], b2 + 28, checks)
            if l2[9] != "<":
                checks.check("document_number", l2[0:9], l2[9], b2 + 9)
            composite = l2[35]
            composite_data = l2[0:10] + l2[13:20] + l2[21:35]
            composite_offset = b2 + 35
        date_offset = {"dob": b2 + 13, "doe": b2 + 21}
    for label, value, where in (
        ("date of birth", dob, date_offset["dob"]),
        ("date of expiry", doe, date_offset["doe"]),
    ):
        if not all(c.isdigit() or c == "<" for c in value):
            raise ParseError(f"{label} is not YYMMDD (digits expected)", offset=where)
    checks.check("date_of_birth", dob, dob_cd, date_offset["dob"] + 6)
    checks.check("date_of_expiry", doe, doe_cd, date_offset["doe"] + 6)
    if fmt not in VISA_FORMATS:
        checks.check("composite", composite_data, composite, composite_offset)

    if checks.errors and strict:
        detail = "; ".join(
            f"{name} check digit wrong (expected {exp}, found {found!r})"
            for name, _, exp, found in checks.errors
        )
        raise ParseError(detail, offset=checks.errors[0][1])

    expiry = MrzDate(doe, kind="expiry")
    # The birth date's pivot needs only the expiry year (even if the day is invalid).
    pivot: int | None = None
    if doe[:2].isdigit():
        yy = int(doe[:2])
        pivot = 2000 + yy if yy <= 69 else 1900 + yy
    # Keep only distinct names, in the order found.
    error_names = tuple(dict.fromkeys(name for name, _, _, _ in checks.errors))
    return Mrz(
        format=fmt,
        document_code=_code(document_code),
        issuing_state=_code(issuing_state),
        primary_identifier=primary,
        secondary_identifier=secondary,
        document_number=number,
        nationality=_code(nationality),
        date_of_birth=MrzDate(dob, kind="birth", pivot_year=pivot),
        sex=sex,
        date_of_expiry=expiry,
        optional_data=optional,
        optional_data_2=optional_2,
        lines=lines,
        check_digit_errors=error_names,
        document_number_check_digit=number_cd,
        date_of_birth_check_digit=dob_cd,
        date_of_expiry_check_digit=doe_cd,
        optional_data_check_digit=optional_cd,
        composite_check_digit=composite,
    )


# ---------------------------------------------------------------------------
# the BAC key fields from printed MRZ lines

#: What each check digit guards, for error messages.
_CHECK_NAMES = {
    "document_number": "the document number",
    "date_of_birth": "the date of birth",
    "date_of_expiry": "the date of expiry",
    "optional_data": "the optional data",
    "composite": "the zone as a whole (composite)",
}
#: Accepted partial inputs: characters -> (format, which lines, filler lines to complete it).
_PARTIAL: dict[int, tuple[str, str]] = {
    44: ("TD3", "line 2"),
    36: ("TD2", "line 2"),
    60: ("TD1", "lines 1 and 2"),
}


@dataclass(frozen=True, repr=False)
class MrzKeyFields:
    """The fields of a printed MRZ that open the chip (BAC, PACE with the MRZ password).

    :ivar format: ``"TD1"``, ``"TD2"`` or ``"TD3"``.
    :ivar lines: which lines were given: ``"all"``, ``"line 2"`` (TD2, TD3) or
        ``"lines 1 and 2"`` (TD1).
    :ivar document_number: the full document number (also when longer than
        nine characters).
    :ivar date_of_birth: / :ivar date_of_expiry: ``YYMMDD`` as printed.
    :ivar mrz_information: the BAC key seed input (Doc 9303-11 §9.7.1), with
        the check digits as printed.
    """

    format: str
    lines: str
    document_number: str
    date_of_birth: str
    date_of_expiry: str
    mrz_information: str

    def __repr__(self) -> str:  # a key: never in logs or tracebacks
        return f"MrzKeyFields({self.format}, {self.lines}, <hidden>)"


def key_fields(text: str | Sequence[str], *, strict: bool = True) -> MrzKeyFields:
    """Extract the document number and dates from printed MRZ lines of any format.

    Accepted, as a string (lines separated by newlines or other whitespace)
    or as a sequence of lines; letters are upper-cased:

    * the whole MRZ: TD1 (3 x 30), TD2 (2 x 36) or TD3 (2 x 44), Doc 9303-4/5/6 §4.2.2;
    * only the line holding the document number and dates: the second line
      of a TD3 (44 characters) or TD2 (36);
    * the first two lines of a TD1 (2 x 30: the number is on line 1, the
      dates on line 2).

    Every check digit the given lines hold is verified (Doc 9303-3 §4.9),
    the composite one included: a wrong digit most often means a misread line.

    :param strict: ``False`` accepts wrong check digits outside the three key
        fields (documents in circulation carry some); the key fields' check
        digits are always verified.
    :raises ParseError: (``file="MRZ"``) naming what is wrong: the length or
        number of lines, a character outside ``A-Z``, ``0-9``, ``<``, a date
        that is not digits, which check digit is wrong, or a name line given
        where the number line was expected. The message never repeats the input.
    """
    parts = [text] if isinstance(text, str) else list(text)
    if sum(len(p) for p in parts) > MAX_TEXT:
        raise ParseError(f"MRZ text longer than {MAX_TEXT} characters", file="MRZ", offset=0)
    lines = [line for part in parts for line in part.upper().split()]
    joined = "".join(lines)
    if len(joined) in _LAYOUTS:
        try:
            parsed = parse("\n".join(lines), strict=False)
        except ParseError as exc:
            raise ParseError(exc.reason, file="MRZ", offset=exc.offset) from None
        return _fields(parsed, "all", strict)
    partial = _PARTIAL.get(len(joined))
    if partial is None:
        widths = "+".join(str(len(line)) for line in lines) or "0"
        raise ParseError(
            f"MRZ of {widths} characters: give all lines of a TD1 (3 x 30), TD2 (2 x 36) "
            "or TD3 (2 x 44), the second line of a TD2 or TD3, or the first two lines of a TD1",
            file="MRZ",
            offset=0,
        )
    fmt, which = partial
    _count, width = _LAYOUTS_BY_FORMAT[fmt]
    given = 2 if fmt == "TD1" else 1
    if len(lines) > 1 and (len(lines) != given or any(len(line) != width for line in lines)):
        widths = "+".join(str(len(line)) for line in lines)
        raise ParseError(
            f"MRZ lines of {widths} characters: {fmt} lines have {width}", file="MRZ", offset=0
        )
    if fmt == "TD1":
        whole, shift = joined + "<" * width, 0  # the name line does not enter any check digit
    else:
        if _looks_like_name_line(joined):
            raise ParseError(
                f"this {len(joined)}-character line looks like the name line (line 1) of a "
                f"{fmt}: the document number and dates are on line 2",
                file="MRZ",
                offset=0,
            )
        whole, shift = "P<" + "<" * (width - 2) + joined, width
    try:
        parsed = parse(whole, strict=False)
    except ParseError as exc:
        offset = None if exc.offset is None else max(0, exc.offset - shift)
        raise ParseError(exc.reason, file="MRZ", offset=offset) from None
    return _fields(parsed, which, strict)


_LAYOUTS_BY_FORMAT = {fmt: (count, width) for fmt, count, width in _LAYOUTS.values()}
_KEY_CHECKS = ("document_number", "date_of_birth", "date_of_expiry")


def _looks_like_name_line(line: str) -> bool:
    """A TD2/TD3 line 1: document code, issuing state, then a name with ``<<`` and no digits."""
    return not any(c.isdigit() for c in line) and "<<" in line[5:]


def _fields(parsed: Mrz, which: str, strict: bool) -> MrzKeyFields:
    wrong = [name for name in parsed.check_digit_errors if strict or name in _KEY_CHECKS]
    if wrong:
        what = ", ".join(_CHECK_NAMES.get(name, name) for name in wrong)
        raise ParseError(
            f"wrong check digit for {what}: the MRZ was probably misread; check or scan it again",
            file="MRZ",
        )
    return MrzKeyFields(
        format=parsed.format,
        lines=which,
        document_number=parsed.document_number,
        date_of_birth=str(parsed.date_of_birth),
        date_of_expiry=str(parsed.date_of_expiry),
        mrz_information=parsed.mrz_information,
    )
