"""The printed MRZ against the chip, and DG1 against DG11/DG12 (ICAO Doc 9303-3 §4.2, 9303-10 §4.7).

**The printed MRZ against DG1.** When the inspection is given the MRZ as
printed on the data page (scanned or typed), each field is compared with
DG1's and reported as its own check, ``mrz.printed_vs_chip.<field>``:

=====================================  ============================================
``...document_code``                    document code, and the layout (TD1, TD2,
                                        TD3, MRV-A, MRV-B)
``...issuing_state``                    issuing state or organization
``...document_number``                  document number (long TD1/TD2 numbers whole)
``...primary_identifier``               primary identifier (surname)
``...secondary_identifier``             secondary identifier (given names)
``...nationality``                      nationality
``...date_of_birth``                    date of birth (YYMMDD as printed)
``...sex``                              sex
``...date_of_expiry``                   date of expiry
``...optional_data``                    optional data (TD3: personal number; visas:
                                        the rest of line 2)
``...optional_data_2``                  TD1 only: the optional data of line 2
``...check_digits``                     every check digit and filler (the zone as
                                        a whole, once the fields agree)
=====================================  ============================================

Each is **required** and **FAILs** on a difference: a genuine chip in an
altered data page, or a forged data page on a genuine chip, is never VALID.
Visa MRZs (MRV-A, MRV-B, Doc 9303-7) are compared by their own fields: they
have no composite check digit and no optional-data check digit, so neither
is compared. Details and evidence name fields and character positions, never
the values (personal data).

**DG1 against DG11** (9303-10 §4.7.11), only the fields both carry:

``dg11.full_name``
    DG11's full name (primary ``<<`` secondary identifier) against DG1's name
    field: FAIL when they differ. When DG11 holds characters outside the MRZ
    alphabet (national characters, transliterated by 9303-3 §6 rules this
    reader does not reverse), or DG1's name field is full and may be truncated
    (9303-3 §4.6) in a way a prefix comparison cannot decide, SKIP
    (informative).
``dg11.date_of_birth``
    DG11's full date of birth (CCYYMMDD) against DG1's YYMMDD, on every
    position both state: FAIL when they differ.
``dg11.personal_number``
    DG11's personal number against DG1's optional data (TD3: "personal number
    or other optional data", 9303-4 §4.2.2): PASS when they agree; when they
    differ, SKIP (informative) with a finding ``dg11.personal_number_differs``,
    because the optional data may lawfully hold something else.

**DG12** (9303-10 §4.7.12) carries no field DG1 carries (issuing authority,
date of issue, endorsements...), so nothing is compared; a date of issue after
DG1's date of expiry is reported as the finding ``dg12.date_of_issue_after_expiry``.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeVar

from epass.errors import ParseError
from epass.lds import mrz as mrz_module
from epass.lds.dg1 import Dg1
from epass.lds.dg11 import Dg11
from epass.lds.dg12 import Dg12
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.lds.mrz import Mrz
from epass.verdict import Check, CheckStatus, EvidenceValue, Finding

__all__ = [
    "CHECK_DG11_DATE_OF_BIRTH",
    "CHECK_DG11_FULL_NAME",
    "CHECK_DG11_PERSONAL_NUMBER",
    "CHECK_PRINTED_MRZ",
    "PRINTED_FIELDS",
    "dg11_checks",
    "parse_printed_mrz",
    "printed_mrz_checks",
]

#: The prefix of every printed-MRZ check; alone, the check given when DG1 cannot be read.
CHECK_PRINTED_MRZ = "mrz.printed_vs_chip"
CHECK_DG11_FULL_NAME = "dg11.full_name"
CHECK_DG11_DATE_OF_BIRTH = "dg11.date_of_birth"
CHECK_DG11_PERSONAL_NUMBER = "dg11.personal_number"

#: field -> what it is, in words (the check's name is ``mrz.printed_vs_chip.<field>``).
PRINTED_FIELDS: dict[str, str] = {
    "document_code": "document code and layout",
    "issuing_state": "issuing state",
    "document_number": "document number",
    "primary_identifier": "primary identifier (surname)",
    "secondary_identifier": "secondary identifier (given names)",
    "nationality": "nationality",
    "date_of_birth": "date of birth",
    "sex": "sex",
    "date_of_expiry": "date of expiry",
    "optional_data": "optional data",
    "optional_data_2": "optional data of line 2 (TD1)",
    "check_digits": "check digits and fillers",
}


def parse_printed_mrz(text: str) -> Mrz:
    """The printed MRZ (all lines; any case; lines separated by whitespace), not strict.

    :raises ParseError: (``file="MRZ"``) if it does not parse; the message never
        repeats the text.
    """
    try:
        return mrz_module.parse(text.strip().upper(), strict=False)
    except ParseError as exc:
        raise ParseError(
            f"the printed MRZ given does not parse: {exc.reason}", file="MRZ", offset=exc.offset
        ) from None


def _positions(a: str, b: str) -> tuple[str, ...]:
    """1-based positions where *a* and *b* differ (the longer one's tail counts)."""
    width = max(len(a), len(b))
    return tuple(str(i + 1) for i in range(width) if a[i : i + 1] != b[i : i + 1])


def _layout(m: Mrz) -> str:
    return f"{m.format} {m.document_code}"


def _check_digits(m: Mrz) -> dict[str, str]:
    digits = {
        "document_number": m.document_number_check_digit,
        "date_of_birth": m.date_of_birth_check_digit,
        "date_of_expiry": m.date_of_expiry_check_digit,
    }
    if m.optional_data_check_digit is not None:
        digits["optional_data"] = m.optional_data_check_digit
    if not m.is_visa:
        digits["composite"] = m.composite_check_digit
    return digits


def _field_check(field: str, printed: Mrz, chip: Mrz) -> Check:
    name = f"{CHECK_PRINTED_MRZ}.{field}"
    what = PRINTED_FIELDS[field]
    evidence: dict[str, EvidenceValue] = {
        "field": field,
        "printed_format": printed.format,
        "chip_format": chip.format,
    }
    if field == "document_code":
        a, b = _layout(printed), _layout(chip)
        differs = a != b
        if differs:
            evidence["printed_layout"] = a
            evidence["chip_layout"] = b
    elif field == "check_digits":
        pd, cd = _check_digits(printed), _check_digits(chip)
        wrong = tuple(k for k in sorted(set(pd) | set(cd)) if pd.get(k) != cd.get(k))
        evidence["differ"] = wrong
        evidence["printed_check_digit_errors"] = tuple(printed.check_digit_errors)
        evidence["chip_check_digit_errors"] = tuple(chip.check_digit_errors)
        fillers = printed.format == chip.format and printed.text != chip.text
        differs = bool(wrong)
        same_layout = _layout(printed) == _layout(chip)
        if not differs and fillers and same_layout and _fields_agree(printed, chip):
            differs = True
            evidence["positions"] = _positions(printed.text, chip.text)
            what = "fillers"
        elif wrong:
            what = "check digits (" + ", ".join(wrong) + ")"
    else:
        a, b = str(getattr(printed, field)), str(getattr(chip, field))
        differs = a != b
        if differs:
            evidence["positions"] = _positions(a, b)
    if differs:
        return Check(
            name,
            CheckStatus.FAIL,
            f"the printed MRZ's {what} differs from DG1's: the data page and the chip "
            "disagree (9303-3 §4.2: the chip holds the MRZ as printed)",
            evidence,
        )
    return Check(name, CheckStatus.PASS, f"the printed MRZ's {what} matches DG1", evidence)


_COMPARED = tuple(f for f in PRINTED_FIELDS if f not in ("document_code", "check_digits"))


def _fields_agree(printed: Mrz, chip: Mrz) -> bool:
    return all(str(getattr(printed, f)) == str(getattr(chip, f)) for f in _COMPARED)


def printed_mrz_checks(document: Document, printed: str | Mrz) -> list[Check]:
    """Compare the printed MRZ with DG1, one required check per field (module docstring).

    :param printed: the printed MRZ text (all lines) or its parse.
    :returns: the checks ``mrz.printed_vs_chip.<field>`` in :data:`PRINTED_FIELDS`
        order (``optional_data_2`` only when either side is a TD1); one SKIP
        check ``mrz.printed_vs_chip`` when DG1 is absent or does not parse.
    :raises ParseError: if *printed* is text that does not parse.
    """
    parsed = parse_printed_mrz(printed) if isinstance(printed, str) else printed
    dg1 = _view(document, LdsFile.DG1, Dg1)
    if dg1 is None:
        return [
            Check(
                CHECK_PRINTED_MRZ,
                CheckStatus.SKIP,
                "no readable DG1 to compare the printed MRZ with",
                {"printed_format": parsed.format},
            )
        ]
    chip = dg1.mrz
    fields = [
        f for f in PRINTED_FIELDS if f != "optional_data_2" or "TD1" in (parsed.format, chip.format)
    ]
    return [_field_check(f, parsed, chip) for f in fields]


# -- DG1 against DG11 / DG12 -------------------------------------------------------------------

_V = TypeVar("_V")


def _view(document: Document, file: LdsFile, kind: type[_V]) -> _V | None:
    """The parsed view of *file* when it is present, parses and is of *kind*; else ``None``."""
    try:
        value = document.parsed(file)
    except ParseError:
        return None
    return value if isinstance(value, kind) else None


_MRZ_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


def _mrz_form(name: str) -> str | None:
    """DG11's name in the MRZ alphabet (spaces and hyphens as ``<``, apostrophes dropped,
    9303-3 §4.6), or ``None`` when it holds other characters."""
    text = name.strip().upper().replace("'", "").replace(",", "")
    text = text.replace(" ", "<").replace("-", "<")
    if not text or any(c not in _MRZ_LETTERS for c in text):
        return None
    return text


def _name_field(chip: Mrz) -> str:
    """DG1's name field as printed (fillers kept), and the room it has."""
    if chip.format == "TD1":
        return chip.lines[2]
    return chip.lines[0][5:]


def _compare_names(dg11_name: str, chip: Mrz) -> tuple[CheckStatus, str]:
    form = _mrz_form(dg11_name)
    if form is None:
        return CheckStatus.SKIP, (
            "DG11's full name holds characters outside the MRZ alphabet (national "
            "characters): its transliteration (9303-3 §6) is not compared"
        )
    primary, _sep, secondary = form.partition("<<")
    norm = "<".join(p for p in primary.split("<") if p)
    rest = "<".join(p for p in secondary.split("<") if p)
    wanted = norm + ("<<" + rest if rest else "")
    field = _name_field(chip)
    stated = field.rstrip("<")
    if wanted == stated:
        return CheckStatus.PASS, "DG11's full name matches DG1's name field"
    full = not field.endswith("<")
    if full and wanted.startswith(stated):
        return CheckStatus.PASS, (
            "DG11's full name matches DG1's name field, which is truncated (9303-3 §4.6)"
        )
    if full:
        return CheckStatus.SKIP, (
            "DG1's name field is full and may be truncated (9303-3 §4.6) in a way a "
            "prefix comparison cannot decide: not compared"
        )
    return CheckStatus.FAIL, "DG11's full name differs from DG1's name field"


def _compare_dates(text: str, chip_dob: str) -> tuple[CheckStatus, tuple[str, ...]]:
    """CCYYMMDD against YYMMDD, on the positions both state as digits."""
    if len(text) != 8 or len(chip_dob) != 6:
        return CheckStatus.SKIP, ()
    pairs = [(text[2 + i], chip_dob[i]) for i in range(6)]
    known = [(i, a, b) for i, (a, b) in enumerate(pairs) if a.isdigit() and b.isdigit()]
    if not known:
        return CheckStatus.SKIP, ()
    differ = tuple(str(i + 1) for i, a, b in known if a != b)
    return (CheckStatus.FAIL if differ else CheckStatus.PASS), differ


def _alnum(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def dg11_checks(document: Document) -> tuple[list[Check], list[Finding]]:
    """DG1 against DG11 and DG12 where both carry a field (module docstring).

    :returns: the ``dg11.*`` checks (none when DG1 or DG11 is absent or does not
        parse, or DG11 carries none of the fields) and the findings.
    """
    dg1 = _view(document, LdsFile.DG1, Dg1)
    dg11 = _view(document, LdsFile.DG11, Dg11)
    findings: list[Finding] = []
    if dg1 is None:
        return [], findings
    chip = dg1.mrz
    findings += _dg12_findings(document, chip)
    if dg11 is None:
        return [], findings
    checks: list[Check] = []
    if dg11.full_name is not None:
        status, detail = _compare_names(dg11.full_name, chip)
        checks.append(
            Check(
                CHECK_DG11_FULL_NAME,
                status,
                detail,
                {"compared": "DG11 5F0E with DG1 name field"},
                required=status is not CheckStatus.SKIP,
            )
        )
    if dg11.full_date_of_birth is not None:
        status, positions = _compare_dates(dg11.full_date_of_birth.text, str(chip.date_of_birth))
        evidence: dict[str, Any] = {
            "compared": "DG11 5F2B (CCYYMMDD) with DG1 date of birth (YYMMDD)",
            "encoding": dg11.full_date_of_birth.encoding,
        }
        if positions:
            evidence["positions"] = positions
        detail = {
            CheckStatus.PASS: "DG11's full date of birth matches DG1's",
            CheckStatus.FAIL: "DG11's full date of birth differs from DG1's",
            CheckStatus.SKIP: "DG11's full date of birth and DG1's share no known digit",
        }[status]
        checks.append(
            Check(
                CHECK_DG11_DATE_OF_BIRTH,
                status,
                detail,
                evidence,
                required=status is not CheckStatus.SKIP,
            )
        )
    optional = chip.optional_data
    if dg11.personal_number and optional:
        number, stated = _alnum(dg11.personal_number), _alnum(optional)
        same = bool(number) and (number == stated or number.startswith(stated))
        if same:
            checks.append(
                Check(
                    CHECK_DG11_PERSONAL_NUMBER,
                    CheckStatus.PASS,
                    "DG11's personal number matches DG1's optional data",
                    {"compared": "DG11 5F10 with DG1 optional data"},
                    required=False,
                )
            )
        else:
            detail = (
                "DG11's personal number differs from DG1's optional data, which may lawfully "
                "hold other data (9303-4 §4.2.2): not a failure"
            )
            checks.append(
                Check(
                    CHECK_DG11_PERSONAL_NUMBER,
                    CheckStatus.SKIP,
                    detail,
                    {"compared": "DG11 5F10 with DG1 optional data"},
                    required=False,
                )
            )
            findings.append(Finding("dg11.personal_number_differs", detail, "DG11"))
    return checks, findings


def _dg12_findings(document: Document, chip: Mrz) -> list[Finding]:
    dg12 = _view(document, LdsFile.DG12, Dg12)
    if dg12 is None or dg12.issue_date is None:
        return []
    try:
        expiry = chip.date_of_expiry.to_date()
    except ValueError:
        return []
    if isinstance(dg12.issue_date, datetime.date) and dg12.issue_date > expiry:
        return [
            Finding(
                "dg12.date_of_issue_after_expiry",
                "DG12's date of issue lies after DG1's date of expiry",
                "DG12",
            )
        ]
    return []
