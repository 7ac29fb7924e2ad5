"""The printed MRZ against DG1 field by field, DG1 against DG11/DG12 (inspection.crosscheck)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import jsonschema
import pytest
from click.testing import CliRunner

from drivers.virtual import specimen
from drivers.virtual.builder import SPECIMEN_HOLDER, build_document, td1_mrz, td3_mrz
from epass.cli.main import cli
from epass.dump import save_dump
from epass.errors import ParseError
from epass.inspection import inspect_dump, json_schema
from epass.inspection.crosscheck import PRINTED_FIELDS, printed_mrz_checks
from epass.lds import dg1, dg11, dg12
from epass.lds.document import Document
from epass.lds.mrz import check_digit
from epass.verdict import CheckStatus, Verdict

AT = datetime(2026, 6, 1, tzinfo=UTC)
PREFIX = "mrz.printed_vs_chip."

#: field -> a value different from the specimen's, as a forger would print it
ALTERED = {
    "document_code": {"document_code": "PD"},
    "issuing_state": {"issuing_state": "D"},
    "document_number": {"document_number": "L898902X"},
    "primary_identifier": {"primary_identifier": "NILSSON"},
    "secondary_identifier": {"secondary_identifier": "KARIN"},
    "nationality": {"nationality": "SWE"},
    "date_of_birth": {"date_of_birth": "750812"},
    "sex": {"sex": "M"},
    "date_of_expiry": {"date_of_expiry": "350415"},
    "optional_data": {"optional_data": "ZE184226C"},
}
#: fields whose check digit (or the composite one) a consistent forgery changes too
IN_CHECK_DIGITS = {"document_number", "date_of_birth", "date_of_expiry", "optional_data"}


def _statuses(inspection):
    return {
        c.name.removeprefix(PREFIX): c.status
        for c in inspection.checks
        if c.name.startswith(PREFIX)
    }


def test_the_matching_mrz_passes_every_field():
    doc = specimen()
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=doc.mrz)
    statuses = _statuses(inspection)
    assert set(statuses) == set(PRINTED_FIELDS) - {"optional_data_2"}
    assert all(s is CheckStatus.PASS for s in statuses.values())
    assert inspection.verdict is Verdict.VALID


@pytest.mark.parametrize("field", sorted(ALTERED))
def test_each_field_altered_alone_is_its_own_fail(field):
    doc = specimen()
    printed = td3_mrz(replace(SPECIMEN_HOLDER, **ALTERED[field]))
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=printed)
    statuses = _statuses(inspection)
    failed = {name for name, status in statuses.items() if status is CheckStatus.FAIL}
    expected = {field} | ({"check_digits"} if field in IN_CHECK_DIGITS else set())
    assert failed == expected
    assert inspection.verdict is Verdict.INVALID
    assert set(inspection.reasons) == {PREFIX + f for f in expected}
    check = inspection.check(PREFIX + field)
    assert check.required
    assert PRINTED_FIELDS[field].split(" (")[0] in check.detail
    # the detail and the evidence never carry the values
    new_value = next(iter(ALTERED[field].values()))
    if len(new_value) < 3:  # one letter is in any sentence
        return
    assert new_value not in check.detail
    assert new_value not in json.dumps(check.to_dict()["evidence"])


def test_a_check_digit_altered_alone_fails_only_check_digits():
    doc = specimen()
    line1, line2 = doc.mrz.split()
    wrong = str((int(line2[19]) + 1) % 10)  # the date of birth's check digit
    printed = line1 + "\n" + line2[:19] + wrong + line2[20:]
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=printed)
    failed = {n for n, s in _statuses(inspection).items() if s is CheckStatus.FAIL}
    assert failed == {"check_digits"}
    evidence = inspection.check(PREFIX + "check_digits").evidence
    assert "date_of_birth" in str(evidence["differ"])
    assert "date_of_birth" in str(evidence["printed_check_digit_errors"])


def test_a_forged_page_on_a_genuine_chip_is_never_valid():
    """Every field altered at once: each is reported, the verdict is INVALID."""
    doc = specimen()
    forged = replace(SPECIMEN_HOLDER, **{k: v for d in ALTERED.values() for k, v in d.items()})
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=td3_mrz(forged))
    failed = {n for n, s in _statuses(inspection).items() if s is CheckStatus.FAIL}
    assert failed == set(ALTERED) | {"check_digits"}
    assert inspection.verdict is Verdict.INVALID
    assert inspection.passive.verdict is Verdict.VALID  # the chip itself is genuine


def test_td1_compares_line_two_optional_data():
    holder = replace(SPECIMEN_HOLDER, document_code="I", document_number="D23145890")
    doc = build_document(holder, mrz_format="TD1")
    same = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=doc.mrz)
    statuses = _statuses(same)
    assert set(statuses) == set(PRINTED_FIELDS)
    assert all(s is CheckStatus.PASS for s in statuses.values())
    line1, line2, line3 = td1_mrz(holder).split()
    optional2 = "AB12<<<<<<<"
    line2 = line2[:18] + optional2 + line2[29]
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 = line2[:29] + check_digit(composite)
    other = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=f"{line1}\n{line2}\n{line3}")
    failed = {n for n, s in _statuses(other).items() if s is CheckStatus.FAIL}
    assert failed == {"optional_data_2", "check_digits"}


def _visa(code: str, width: int, number: str = "L8988901C", optional: str = "") -> str:
    """A visa MRZ (9303-7 §4.2.2 MRV-A with width 44, §5.2.2 MRV-B with 36)."""
    line1 = (code + "<UTO" + "ERIKSSON<<ANNA<MARIA").ljust(width, "<")[:width]
    num = number.ljust(9, "<")
    line2 = (
        num
        + check_digit(num)
        + "XXX"
        + "740812"
        + check_digit("740812")
        + "F"
        + "340415"
        + check_digit("340415")
    )
    line2 = (line2 + optional).ljust(width, "<")
    return line1 + "\n" + line2


@pytest.mark.parametrize(("fmt", "width"), [("MRV-A", 44), ("MRV-B", 36)])
def test_visa_mrz_compared_by_its_own_fields(fmt, width):
    text = _visa("V", width, optional="1234")
    document = Document.from_labels({"DG1": dg1.encode(text.replace("\n", ""))})
    same = printed_mrz_checks(document, text)
    assert {c.name.removeprefix(PREFIX) for c in same} == set(PRINTED_FIELDS) - {"optional_data_2"}
    assert all(c.status is CheckStatus.PASS for c in same)
    digits = next(c for c in same if c.name.endswith("check_digits"))
    # a visa has no composite and no optional-data check digit (9303-7): not compared
    assert "composite" not in str(digits.evidence)
    changed = printed_mrz_checks(document, _visa("V", width, optional="9999"))
    failed = {c.name.removeprefix(PREFIX) for c in changed if c.status is CheckStatus.FAIL}
    assert failed == {"optional_data"}  # unchecked by any digit on a visa
    number = printed_mrz_checks(document, _visa("V", width, number="L8988901D", optional="1234"))
    failed = {c.name.removeprefix(PREFIX) for c in number if c.status is CheckStatus.FAIL}
    assert failed == {"document_number", "check_digits"}
    # a passport page printed for a visa chip: the layout differs
    passport = printed_mrz_checks(document, _visa("P", width, optional="1234"))
    layout = next(c for c in passport if c.name.endswith("document_code"))
    assert layout.status is CheckStatus.FAIL


def test_no_dg1_gives_one_skip_and_a_bad_mrz_raises():
    doc = specimen()
    files = {k: v for k, v in doc.dump().items() if k != "DG1"}
    inspection = inspect_dump(files, doc.trust_store(), at=AT, mrz=doc.mrz)
    assert inspection.check("mrz.printed_vs_chip").status is CheckStatus.SKIP
    with pytest.raises(ParseError) as info:
        inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz="P<UTO" + "<" * 30)
    assert "P<UTO" not in str(info.value)


def test_inspect_takes_the_printed_mrz_live():
    import epass
    from epass.access.keys import MrzKey

    doc = specimen()
    altered = td3_mrz(replace(SPECIMEN_HOLDER, primary_identifier="NILSSON"))
    with doc.transport() as transport:
        inspection = epass.inspect(
            transport, MrzKey.from_mrz(altered), doc.trust_store(), at=AT, mrz=altered
        )
    assert inspection.verdict is Verdict.INVALID
    assert inspection.reasons == (PREFIX + "primary_identifier",)
    with pytest.raises(ParseError), doc.transport() as transport:
        epass.inspect(transport, MrzKey.from_mrz(doc.mrz), doc.trust_store(), mrz="nonsense")


def test_json_schema_stays_valid_with_the_mrz_checks():
    doc = specimen()
    altered = td3_mrz(replace(SPECIMEN_HOLDER, sex="M"))
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=altered)
    jsonschema.validate(inspection.to_dict(), json_schema())


def _dg11_document(**fields):
    doc = specimen()
    return build_document(extra_data_groups={11: dg11.encode_dg11(**fields)}), doc


def test_dg11_agrees_with_dg1():
    doc = build_document(
        extra_data_groups={
            11: dg11.encode_dg11(
                full_name="ERIKSSON<<ANNA<MARIA",
                full_date_of_birth="19740812",
                personal_number="ZE184226B",
            )
        }
    )
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT)
    for name in ("dg11.full_name", "dg11.date_of_birth", "dg11.personal_number"):
        assert inspection.check(name).status is CheckStatus.PASS, name
    assert inspection.verdict is Verdict.VALID
    jsonschema.validate(inspection.to_dict(), json_schema())


@pytest.mark.parametrize(
    ("fields", "check"),
    [
        ({"full_name": "NILSSON<<ANNA<MARIA"}, "dg11.full_name"),
        ({"full_name": "ERIKSSON<<KARIN"}, "dg11.full_name"),
        ({"full_date_of_birth": "19740813"}, "dg11.date_of_birth"),
        ({"full_date_of_birth": "19750812", "date_encoding": "BCD"}, "dg11.date_of_birth"),
    ],
)
def test_dg11_differing_from_dg1_fails(fields, check):
    doc = build_document(extra_data_groups={11: dg11.encode_dg11(**fields)})
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT)
    assert inspection.check(check).status is CheckStatus.FAIL
    assert inspection.verdict is Verdict.INVALID
    assert inspection.reasons == (check,)


def test_dg11_national_characters_and_personal_number_are_not_failures():
    doc = build_document(
        extra_data_groups={
            11: dg11.encode_dg11(full_name="ÉRIKSSON<<ÄNNA<MARIA", personal_number="123-45")
        }
    )
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT)
    name = inspection.check("dg11.full_name")
    assert name.status is CheckStatus.SKIP and not name.required
    number = inspection.check("dg11.personal_number")
    assert number.status is CheckStatus.SKIP and not number.required
    assert any(f.code == "dg11.personal_number_differs" for f in inspection.findings)
    assert inspection.verdict is Verdict.VALID


def test_dg12_date_of_issue_after_expiry_is_a_finding():
    doc = build_document(extra_data_groups={12: dg12.encode_dg12(date_of_issue="20350101")})
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT)
    assert any(f.code == "dg12.date_of_issue_after_expiry" for f in inspection.findings)
    fine = build_document(extra_data_groups={12: dg12.encode_dg12(date_of_issue="20240415")})
    good = inspect_dump(fine.dump(), fine.trust_store(), at=AT)
    assert not any(f.code.startswith("dg12.") for f in good.findings)


def test_cli_verify_and_read_take_the_printed_mrz(tmp_path):
    doc = specimen()
    folder = tmp_path / "dump"
    save_dump(Document.from_labels(doc.dump()), folder)
    trust = tmp_path / "csca.der"
    trust.write_bytes(doc.pki.csca_der)
    runner = CliRunner()
    args = ["verify", str(folder), "--trust", str(trust), "--at", AT.isoformat(), "--json"]
    same = runner.invoke(cli, [*args, "--mrz", doc.mrz])
    assert same.exit_code == 0, same.output
    altered = td3_mrz(replace(SPECIMEN_HOLDER, nationality="SWE"))
    result = runner.invoke(cli, [*args, "--mrz", altered])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["reasons"] == [PREFIX + "nationality"]
    # epass read --virtual --mrz: the key, and the printed MRZ compared
    line1, line2 = altered.split()
    read = runner.invoke(
        cli, ["read", "--virtual", "--profile", "bac", "--json", "--at", AT.isoformat(),
              "--mrz", line1, "--mrz", line2],
    )  # fmt: skip
    assert read.exit_code == 1, read.output
    assert json.loads(read.output)["reasons"] == [PREFIX + "nationality"]
    # only the key line: opens the chip, nothing to compare
    key_only = runner.invoke(
        cli, ["read", "--virtual", "--profile", "bac", "--json", "--at", AT.isoformat(),
              "--mrz", line2],
    )  # fmt: skip
    assert key_only.exit_code == 0, key_only.output
    names = {n["name"] for n in json.loads(key_only.output)["not_checked"]}
    assert "printed_mrz" in names
