"""epass.inspect / epass.inspect_dump: the one flow, end to end (virtual chip, samples)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

import epass
from drivers.virtual import ChipConfig, Faults, specimen
from drivers.virtual.builder import build_document
from epass.access.keys import MrzKey
from epass.dump import read_dump, save_dump
from epass.errors import ParseError
from epass.inspection import SCHEMA, ChipAuthenticityStatus, inspect_dump, json_schema
from epass.lds.files import LdsFile
from epass.pa import TrustStore
from epass.reader import Phase, ProgressEvent
from epass.verdict import CheckStatus, Verdict, decide, decide_inspection

AT = datetime(2026, 6, 1, tzinfo=UTC)


def _inspect(doc=None, trust=None, **kwargs):
    doc = doc or specimen()
    trust = doc.trust_store() if trust is None else trust
    with doc.transport(**kwargs.pop("transport_kwargs", {})) as transport:
        return epass.inspect(transport, MrzKey.from_mrz(doc.mrz), trust, at=AT, **kwargs)


def test_inspect_the_virtual_passport_is_valid():
    inspection = _inspect()
    assert inspection.verdict is Verdict.VALID
    assert inspection.reasons == ()
    assert inspection.passive.verdict is Verdict.VALID
    names = [c.name for c in inspection.checks]
    # every section, in order: read, passive authentication, document, chip
    assert names[:3] == ["access.protocol", "access.downgrade", "read.files"]
    assert names[3 : 3 + len(inspection.passive.checks)] == [
        c.name for c in inspection.passive.checks
    ]
    assert "lds.mandatory_data_groups" in names
    # the specimen's chip runs Chip Authentication (DG14) and Active Authentication (DG15)
    assert names[-2:] == ["chip.chip_authentication", "chip.active_authentication"]
    assert inspection.chip.status is ChipAuthenticityStatus.GENUINE_CHIP
    for check in inspection.chip.checks:
        assert check.status is CheckStatus.PASS and check.required
        assert "hash MATCH in EF.SOD" in str(check.evidence["key_proof"])
    assert {n.name for n in inspection.not_checked} == {
        "revocation",
        "printed_mrz",
    }  # a live read knows how the chip behaved: no "read" entry; the chip was checked
    assert inspection.read is not None
    assert str(inspection.read.access.protocol) == "BAC"
    assert inspection.read.access.pace_offered == ()
    assert inspection.holder is not None and inspection.holder.primary_identifier == "ERIKSSON"
    assert "ERIKSSON" not in repr(inspection.holder)  # personal data stays out of reprs
    assert inspection.faces and inspection.faces[0].format == "JPEG"
    assert inspection.time_validity.expired is False
    assert decide(inspection.checks) == (inspection.verdict, inspection.reasons)
    assert decide_inspection(inspection.checks, clone_suspected=False) == (Verdict.VALID, ())


def test_inspect_a_tampered_data_group_is_invalid():
    inspection = _inspect(specimen().tampered(LdsFile.DG2))
    assert inspection.verdict is Verdict.INVALID
    assert "dg.hashes" in inspection.reasons
    assert inspection.passive.data_group("DG2").status.value == "MISMATCH"


def test_inspect_without_an_anchor_is_indeterminate():
    inspection = _inspect(trust=TrustStore())
    assert inspection.verdict is Verdict.INDETERMINATE
    # Without a CSCA, EF.SOD is not proven, so neither are the keys of DG14 and DG15: the
    # chip passed Chip and Active Authentication, but with keys nobody vouches for.
    assert inspection.reasons == (
        "ds.issuer",
        "chip.chip_authentication",
        "chip.active_authentication",
    )
    assert inspection.chip.status is ChipAuthenticityStatus.NOT_CHECKED
    for check in inspection.chip.checks:
        assert check.status is CheckStatus.SKIP and check.required
        assert "not proven" in check.detail and "EF.SOD is not proven" in check.detail


def test_inspect_reports_progress_phases_in_order():
    events: list[ProgressEvent] = []
    _inspect(progress=events.append)
    phases = [e.phase for e in events]
    assert phases == sorted(phases), "phases never go back"
    assert phases[0] == Phase.READ_CARD_ACCESS
    assert {Phase.SELECT_APPLICATION, Phase.ACCESS_CONTROL, Phase.READ_FILES} <= set(phases)
    assert phases[-1] == max(Phase)
    dg2 = [e for e in events if e.file is LdsFile.DG2]
    assert dg2, "DG2 progress reported"
    done = [e.done for e in dg2]
    assert done == sorted(done)
    assert dg2[-1].done == dg2[-1].total == len(specimen().files[LdsFile.DG2])


def test_to_dict_matches_the_json_schema_and_round_trips_through_json():
    inspection = _inspect()
    data = json.loads(json.dumps(inspection.to_dict()))
    jsonschema.validate(data, json_schema())
    assert data["schema"] == SCHEMA
    assert data["epass_version"] == epass.__version__
    assert data["verdict"] == "VALID"
    assert [c["name"] for c in data["checks"]] == [c.name for c in inspection.checks]
    assert {c["section"] for c in data["checks"]} == {
        "read",
        "passive_authentication",
        "document",
        "chip_authenticity",
    }


def test_the_json_schema_rejects_a_wrong_layout():
    data = _inspect().to_dict()
    jsonschema.validate(data, json_schema())
    broken = dict(data, verdict="PROBABLY")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json_schema())
    missing = {k: v for k, v in data.items() if k != "not_checked"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(missing, json_schema())


def test_inspect_dump_reaches_the_live_verdict_with_the_saved_evidence(tmp_path):
    live = _inspect()
    save_dump(live.document, tmp_path / "dump", evidence=live.evidence())
    offline = inspect_dump(tmp_path / "dump", specimen().trust_store(), at=AT)
    assert offline.verdict is live.verdict is Verdict.VALID
    assert [(c.name, c.status) for c in offline.checks if not c.name.startswith("chip.")] == [
        (c.name, c.status) for c in live.checks if not c.name.startswith("chip.")
    ]
    # A dump cannot prove the chip: the same protocols are offered, none is performed.
    assert live.chip.status is ChipAuthenticityStatus.GENUINE_CHIP
    assert offline.chip.status is ChipAuthenticityStatus.NOT_CHECKED
    assert [c.name for c in offline.chip.checks] == [c.name for c in live.chip.checks]
    assert all(c.status is CheckStatus.SKIP and not c.required for c in offline.chip.checks)
    assert "chip_authenticity" in {n.name for n in offline.not_checked}
    assert offline.read is not None and str(offline.read.access.protocol) == "BAC"
    assert read_dump(tmp_path / "dump").evidence is not None


def test_pace_offered_but_bac_used_is_shown_live_and_offline(tmp_path):
    from epass.access.control import AccessPolicy
    from epass.reader import ReadOptions

    doc = specimen()
    card_access = _pace_card_access()
    live = _inspect(
        doc,
        transport_kwargs={"config": ChipConfig(card_access=card_access)},
        options=ReadOptions(access_policy=AccessPolicy(bac_only=True)),
    )
    check = live.check("access.protocol")
    assert check.status is CheckStatus.SKIP and not check.required
    assert "PACE" in check.detail and "BAC only" in check.detail
    assert any(f.code == "access.pace_not_used" for f in live.findings)
    assert live.verdict is Verdict.VALID  # informative: a BAC read of genuine data is genuine
    save_dump(live.document, tmp_path / "d", evidence=live.evidence())
    offline = inspect_dump(tmp_path / "d", doc.trust_store(), at=AT)
    assert offline.check("access.protocol").status is CheckStatus.SKIP
    assert LdsFile.EF_CARD_ACCESS in offline.document


def _pace_card_access() -> bytes:
    from epass.lds.security_infos import ID_PACE, encode_pace_info, encode_security_infos

    # id-PACE-ECDH-GM-AES-CBC-CMAC-128 (9303-11 §9.2.1), brainpoolP256r1 (parameter id 13)
    return encode_security_infos([encode_pace_info(f"{ID_PACE}.2.2", parameter_id=13)])


@pytest.mark.parametrize("missing", [LdsFile.DG1, LdsFile.DG2])
def test_a_dump_without_a_mandatory_data_group_is_not_valid(missing):
    files = {f.label: data for f, data in specimen().files.items() if f is not missing}
    inspection = inspect_dump(files, specimen().trust_store(), at=AT)
    assert inspection.passive.verdict is Verdict.VALID  # PA proves what was given ...
    check = inspection.check("lds.mandatory_data_groups")
    assert check.status is CheckStatus.SKIP and check.required
    assert missing.label in check.detail  # ... the inspection says what is missing and why
    assert inspection.verdict is Verdict.INDETERMINATE


def test_a_document_whose_sod_protects_no_dg2_is_invalid():
    doc = build_document(include_dg14=False, include_dg15=False)
    files = {f.label: data for f, data in doc.files.items() if f is not LdsFile.DG2}
    # re-sign a SOD that lists only DG1: the signed data say the face is missing
    from drivers.virtual.pki import hash_data_groups

    sod = doc.pki.sign_sod(hash_data_groups({1: doc.files[LdsFile.DG1]}, "sha256"))
    files["EF.SOD"] = sod
    inspection = inspect_dump(files, doc.trust_store(), at=AT)
    check = inspection.check("lds.mandatory_data_groups")
    assert check.status is CheckStatus.FAIL
    assert inspection.verdict is Verdict.INVALID


def test_an_expired_document_is_reported_beside_the_verdict():
    inspection = inspect_dump(
        specimen().dump(), specimen().trust_store(), at=datetime(2034, 5, 1, tzinfo=UTC)
    )
    assert inspection.time_validity.expired is True
    assert any(f.code == "document.expired" for f in inspection.findings)


def test_printed_mrz_is_compared_field_by_field():
    doc = specimen()
    same = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=doc.mrz)
    mrz_checks = [c for c in same.checks if c.name.startswith("mrz.printed_vs_chip.")]
    assert len(mrz_checks) == 11 and all(c.status is CheckStatus.PASS for c in mrz_checks)
    assert all(c.required for c in mrz_checks)
    assert "printed_mrz" not in {n.name for n in same.not_checked}
    lines = doc.mrz.split()
    altered = lines[0][:5] + ("X" if lines[0][5] != "X" else "Y") + lines[0][6:] + "\n" + lines[1]
    lowered = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=doc.mrz.lower())
    assert lowered.verdict is Verdict.VALID
    line2 = lines[1]
    bad_digits = line2[:9] + str((int(line2[9]) + 1) % 10) + line2[10:]
    digits = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=lines[0] + "\n" + bad_digits)
    assert digits.check("mrz.printed_vs_chip.check_digits").status is CheckStatus.FAIL
    other = inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz=altered)
    check = other.check("mrz.printed_vs_chip.primary_identifier")
    assert check.status is CheckStatus.FAIL
    assert "primary identifier" in check.detail
    assert other.verdict is Verdict.INVALID
    assert other.reasons == ("mrz.printed_vs_chip.primary_identifier",)
    with pytest.raises(ParseError):
        inspect_dump(doc.dump(), doc.trust_store(), at=AT, mrz="not an MRZ")


def test_parse_errors_become_findings_not_crashes():
    files = specimen().dump()
    files["DG2"] = b"\x75\x03\x7f\x61\x00"
    inspection = inspect_dump(files, specimen().trust_store(), at=AT)
    assert inspection.verdict is Verdict.INVALID  # the hash no longer matches
    assert inspection.faces == ()
    assert any(f.code == "lds.parse_error" and f.file == "DG2" for f in inspection.findings)


def test_inspect_dump_refuses_naive_times():
    with pytest.raises(ValueError, match="timezone"):
        inspect_dump(specimen().dump(), TrustStore(), at=datetime(2026, 1, 1))


_GOOD_ACCESS = {"protocol": "BAC", "pace_offered": [], "card_access_present": False}


def _evidence(**changes):
    base = {
        "schema": "epass.dump.evidence/1",
        "access": _GOOD_ACCESS,
        "not_read": {},
        "malformed": [],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    "evidence, code",
    [
        (_evidence(schema="something else"), "dump.evidence_unusable"),
        (_evidence(access={"protocol": "TELEPATHY"}), "dump.evidence_unusable"),
        (_evidence(not_read=[1]), "dump.evidence_unusable"),
        (_evidence(malformed="DG1"), "dump.evidence_unusable"),
        (_evidence(access=None), "dump.evidence_incomplete"),
        ({"schema": "epass.dump.evidence/1", "access": _GOOD_ACCESS}, "dump.evidence_incomplete"),
    ],
)
def test_unusable_evidence_is_a_finding_not_a_blocker(tmp_path, evidence, code):
    doc = specimen()
    save_dump(doc.dump(), tmp_path / "d", evidence=evidence)
    inspection = inspect_dump(tmp_path / "d", doc.trust_store(), at=AT)
    assert inspection.verdict is Verdict.VALID  # passive authentication does not need it
    assert inspection.read is None
    assert [f.code for f in inspection.findings] == [code]
    read = next(n for n in inspection.not_checked if n.name == "read")
    assert "no usable read evidence" in read.detail


def test_a_damaged_evidence_file_is_a_finding(tmp_path):
    doc = specimen()
    save_dump(doc.dump(), tmp_path / "d")
    (tmp_path / "d" / "epass-evidence.json").write_text("{not json")
    inspection = inspect_dump(tmp_path / "d", doc.trust_store(), at=AT)
    assert inspection.verdict is Verdict.VALID
    assert [f.code for f in inspection.findings] == ["dump.evidence_unusable"]
    assert "epass-evidence.json" in inspection.findings[0].detail


def test_evidence_the_files_contradict_is_reported_and_ignored(tmp_path):
    doc = specimen()
    evidence = {
        "schema": "epass.dump.evidence/1",
        "access": {"protocol": "BAC", "pace_offered": [], "card_access_present": False},
        "not_read": {"DG2": "access denied (6982)", "DG11": "not on the chip (6A82)"},
        "malformed": ["DG2"],
    }
    save_dump(doc.dump(), tmp_path / "d", evidence=evidence)
    inspection = inspect_dump(tmp_path / "d", doc.trust_store(), at=AT)
    assert inspection.read is not None and inspection.read.from_evidence
    assert dict(inspection.read.not_read) == {"DG11": "not on the chip (6A82)"}
    assert inspection.read.malformed == ()
    assert any(f.code == "dump.evidence_contradicted" for f in inspection.findings)
    assert "evidence" in inspection.check("access.protocol").detail
    assert inspection.verdict is Verdict.VALID
    read = next(n for n in inspection.not_checked if n.name == "read")
    assert "not signed" in read.detail


def test_a_chip_serving_a_malformed_data_group_is_not_valid(tmp_path):
    doc = specimen()
    transport_kwargs = {"faults": Faults(truncate={LdsFile.DG15: 10})}
    live = _inspect(doc, transport_kwargs=transport_kwargs)
    check = live.check("read.files")
    assert check.status is CheckStatus.SKIP and check.required
    assert "DG15" in check.detail
    assert live.verdict is Verdict.INDETERMINATE
    # EF.SOD signs the DG15 the chip served malformed: AA could not run (not proven, no clone)
    assert live.reasons == ("read.files", "chip.active_authentication")
    assert live.check("chip.active_authentication").status is CheckStatus.SKIP
    save_dump(live.document, tmp_path / "d", evidence=live.evidence())
    offline = inspect_dump(tmp_path / "d", doc.trust_store(), at=AT)
    assert (offline.verdict, offline.reasons) == (live.verdict, ("read.files",))


def test_a_date_of_birth_is_never_after_the_inspection():
    from drivers.virtual.builder import SPECIMEN_HOLDER

    holder = replace(SPECIMEN_HOLDER, date_of_birth="300101")
    doc = build_document(holder, include_dg14=False, include_dg15=False)
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT)
    assert inspection.holder is not None
    assert inspection.holder.date_of_birth == "1930-01-01"


def test_an_expired_document_keeps_its_date_out_of_findings_and_reprs():
    doc = specimen()
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=datetime(2034, 5, 1, tzinfo=UTC))
    assert inspection.time_validity.expired is True
    text = repr(inspection) + " ".join(f.detail for f in inspection.findings)
    assert "2034-04-15" not in text and "340415" not in text


# --- public sample sets (../shared/samples; expectations from samples/README.md) ------------

# folder, files left out, time, expected verdict, the checks that decide it
SAMPLE_SETS = [
    # consistent set, no public CSCA: INDETERMINATE for lack of an anchor only
    (
        "nl_specimen_2006",
        (),
        datetime(2010, 1, 1, tzinfo=UTC),
        Verdict.INDETERMINATE,
        ("ds.issuer",),
    ),
    (
        "bsi_refset_hjp2013",
        ("DG15",),
        datetime(2014, 6, 1, tzinfo=UTC),
        Verdict.INDETERMINATE,
        ("ds.issuer",),
    ),
    # as published, DG15 is not hashed in this SOD: a file the SOD does not protect is a FAIL
    ("bsi_refset_hjp2013", (), datetime(2014, 6, 1, tzinfo=UTC), Verdict.INVALID, ("dg.hashes",)),
]


@pytest.mark.samples
@pytest.mark.parametrize("folder, left_out, at, verdict, reasons", SAMPLE_SETS)
def test_inspect_dump_on_public_sample_sets(samples: Path, folder, left_out, at, verdict, reasons):
    path = samples / folder
    if not path.is_dir():
        pytest.skip(f"{folder} not under {samples}")
    files = {
        p.name: p.read_bytes()
        for p in path.iterdir()
        if p.suffix == ".bin" and p.stem not in left_out
    }
    inspection = inspect_dump(files, TrustStore(), at=at)
    assert inspection.verdict is verdict
    assert inspection.reasons == reasons
    assert inspection.passive.check("sod.signature").status is CheckStatus.PASS
    assert inspection.check("lds.mandatory_data_groups").status is CheckStatus.PASS
    assert inspection.holder is not None
    assert inspection.faces and inspection.faces[0].format == "JPEG2000"
    jsonschema.validate(json.loads(json.dumps(inspection.to_dict())), json_schema())


@pytest.mark.samples
def test_inspect_dump_reads_a_sample_folder(samples: Path, tmp_path):
    path = samples / "nl_specimen_2006"
    if not path.is_dir():
        pytest.skip(f"nl_specimen_2006 not under {samples}")
    inspection = inspect_dump(path, TrustStore(), at=datetime(2010, 1, 1, tzinfo=UTC))
    assert inspection.source == "dump" and inspection.source_detail == str(path)
    assert inspection.read is None  # no read evidence beside these files
    assert inspection.verdict is Verdict.INDETERMINATE


def test_a_signed_dg2_without_a_usable_face_is_not_valid():
    from drivers.virtual.pki import hash_data_groups

    doc = build_document(include_dg14=False, include_dg15=False)
    files = doc.dump()
    files["DG2"] = bytes.fromhex("7503020100")  # signed below, but holds no face
    groups = {1: files["DG1"], 2: files["DG2"]}
    files["EF.SOD"] = doc.pki.sign_sod(hash_data_groups(groups, "sha256"))
    inspection = inspect_dump(files, doc.trust_store(), at=AT)
    assert inspection.passive.verdict is Verdict.VALID  # signed and unaltered ...
    check = inspection.check("lds.mandatory_data_groups")
    assert check.status is CheckStatus.SKIP and "DG2" in check.detail  # ... but no face
    assert inspection.verdict is Verdict.INDETERMINATE


@pytest.mark.parametrize("size", [0, 1])
def test_a_chip_serving_an_empty_or_cut_data_group_still_gives_a_verdict(size):
    live = _inspect(transport_kwargs={"faults": Faults(truncate={LdsFile.DG15: size})})
    assert live.check("read.files").status is CheckStatus.SKIP
    assert live.read is not None and live.read.malformed == ("DG15",)
    assert live.verdict is Verdict.INDETERMINATE


def test_a_dump_missing_a_hashed_group_its_evidence_does_not_explain_is_not_valid(tmp_path):
    live = _inspect()
    save_dump(live.document, tmp_path / "d", evidence=live.evidence())
    (tmp_path / "d" / "DG15.bin").unlink()
    offline = inspect_dump(tmp_path / "d", specimen().trust_store(), at=AT)
    check = offline.check("read.files")
    assert check.status is CheckStatus.SKIP and "DG15" in check.detail
    assert offline.verdict is Verdict.INDETERMINATE


def test_the_json_schema_names_the_chip_checks():
    data = _inspect().to_dict()
    assert data["chip_authenticity"]["status"] == "GENUINE_CHIP"
    jsonschema.validate(data, json_schema())
    renamed = json.loads(json.dumps(data))
    renamed["chip_authenticity"]["checks"][0]["name"] = "chip.authenticity"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(renamed, json_schema())
    wrong_status = json.loads(json.dumps(data))
    wrong_status["chip_authenticity"]["status"] = "PROBABLY_GENUINE"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong_status, json_schema())
