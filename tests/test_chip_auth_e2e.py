"""Chip authenticity end to end on the virtual chip (issue 9): profiles, binding, verdict, CLI.

Every key is a TEST key made at runtime (derived from public seeds by the
builder, or generated here); nothing here is a real issuer's key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from asn1crypto import keys as asn1_keys

from drivers.virtual import profiles
from drivers.virtual.builder import VirtualDocument
from drivers.virtual.chip import Faults
from drivers.virtual.chip_auth import AaChipKey, CaChipKey
from drivers.virtual.cvc_builder import make_test_chain
from drivers.virtual.pki import hash_data_groups
from epass.access.keys import CanKey, MrzKey
from epass.access.pace_groups import standardized_group
from epass.access.ta import TerminalCredentials
from epass.cli.main import main
from epass.inspection import ChipAuthenticityStatus, Inspection, inspect, inspect_dump, json_schema
from epass.lds import dg14 as dg14_module
from epass.lds import dg15 as dg15_module
from epass.lds.files import LdsFile
from epass.lds.security_infos import encode_ca_info, encode_ca_public_key_info
from epass.reader import AuthOutcome, ChipSession, ReadOptions
from epass.verdict import CheckStatus, Verdict

AT = datetime(2027, 6, 1, tzinfo=UTC)
GENUINE = ChipAuthenticityStatus.GENUINE_CHIP
CLONE = ChipAuthenticityStatus.CLONE_SUSPECTED
NOT_CHECKED = ChipAuthenticityStatus.NOT_CHECKED

#: Every profile whose chip proves itself, and the checks that must PASS.
GENUINE_PROFILES = {
    "bac": {"chip.chip_authentication", "chip.active_authentication"},
    "bac-pace": {"chip.chip_authentication", "chip.active_authentication"},
    "pace-only": {"chip.pace_cam", "chip.active_authentication"},
    "id-card-can": {"chip.chip_authentication", "chip.active_authentication"},
    "aa-rsa-1024": {"chip.active_authentication"},
    "aa-rsa-2048": {"chip.active_authentication"},
    "aa-ecdsa-p256": {"chip.active_authentication"},
    "ca-ecdh-3des": {"chip.chip_authentication"},
    "ca-ecdh-aes": {"chip.chip_authentication"},
    "ca-dh-3des": {"chip.chip_authentication"},
    "ca-dh-aes": {"chip.chip_authentication"},
    "pace-cam": {"chip.pace_cam"},
    "eac-ta": {"chip.chip_authentication"},
}


def _key(doc: VirtualDocument) -> MrzKey | CanKey:
    if doc.chip_config is not None and doc.chip_config.pace_passwords == frozenset({"CAN"}):
        assert doc.can is not None
        return CanKey(doc.can)
    return MrzKey(doc.mrz_information)


def _inspect(doc: VirtualDocument, *, faults: Faults | None = None, **options) -> Inspection:
    with doc.transport(faults=faults) as transport:
        return inspect(
            transport, _key(doc), doc.trust_store(), at=AT, options=ReadOptions(**options)
        )


def _valid_json(inspection: Inspection) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(inspection.to_dict()))
    jsonschema.validate(data, json_schema())
    return data


def _resigned(doc: VirtualDocument, **files: bytes) -> VirtualDocument:
    """*doc* with data groups replaced (``DG15=...``) and EF.SOD signed again over them."""
    new = dict(doc.files)
    for label, data in files.items():
        new[LdsFile[label]] = data
    hashes = hash_data_groups({f.number: d for f, d in new.items() if f.number}, "sha256")
    new[LdsFile.EF_SOD] = doc.pki.sign_sod(hashes, hash_algorithm="sha256")
    return replace(doc, files=new)


# -- every genuine profile -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENUINE_PROFILES))
def test_every_chip_authentication_profile_is_a_genuine_chip_and_valid(name: str):
    doc = profiles.document(name)
    inspection = _inspect(doc, terminal_credentials=doc.terminal_credentials)
    assert inspection.verdict is Verdict.VALID, inspection.reasons
    assert inspection.chip.status is GENUINE, inspection.chip.detail
    passed = {c.name for c in inspection.chip.checks if c.status is CheckStatus.PASS}
    assert GENUINE_PROFILES[name] <= passed
    for check in inspection.chip.checks:
        if check.name in GENUINE_PROFILES[name]:
            proof = str(check.evidence["key_proof"])
            assert "MATCH in EF.SOD" in proof or "EF.CardSecurity verified" in proof
    assert "chip_authenticity" not in {n.name for n in inspection.not_checked}
    data = _valid_json(inspection)
    assert data["chip_authenticity"]["status"] == "GENUINE_CHIP"


@pytest.mark.parametrize("name", ["aa-rsa-1024", "aa-rsa-2048"])
def test_rsa_active_authentication_evidence(name: str):
    inspection = _inspect(profiles.document(name))
    check = inspection.check("chip.active_authentication")
    bits = int(name.rsplit("-", 1)[1])
    assert check.evidence["algorithm"] == "RSA" and check.evidence["key_bits"] == bits
    assert len(check.evidence["challenge"]) == 8  # type: ignore[arg-type]
    assert len(check.evidence["signature"]) == bits // 8  # type: ignore[arg-type]
    assert len(check.evidence["recovered_digest"]) == 20  # type: ignore[arg-type]  # SHA-1
    assert check.evidence["hash"] == "sha1"
    data = _valid_json(inspection)
    dumped = next(c for c in data["checks"] if c["name"] == "chip.active_authentication")
    assert dumped["section"] == "chip_authenticity"
    assert len(bytes.fromhex(dumped["evidence"]["challenge"])) == 8


def test_ecdsa_active_authentication_names_the_hash_of_dg14():
    check = _inspect(profiles.document("aa-ecdsa-p256")).check("chip.active_authentication")
    assert check.evidence["algorithm"] == "ECDSA" and check.evidence["hash"] == "sha256"
    assert check.evidence["hashes_tried"] == ("sha256",)  # ActiveAuthenticationInfo named it
    assert check.evidence["signature_format"] == "plain r||s"


@pytest.mark.parametrize(
    ("name", "protocol", "key_agreement"),
    [
        ("ca-ecdh-3des", "CA-ECDH-3DES", "ECDH"),
        ("ca-ecdh-aes", "CA-ECDH-AES-128", "ECDH"),
        ("ca-dh-3des", "CA-DH-3DES", "DH"),
        ("ca-dh-aes", "CA-DH-AES-128", "DH"),
    ],
)
def test_chip_authentication_evidence(name: str, protocol: str, key_agreement: str):
    inspection = _inspect(profiles.document(name))
    check = inspection.check("chip.chip_authentication")
    assert check.evidence["protocol"] == protocol
    assert check.evidence["key_agreement"] == key_agreement
    assert "answered under the new keys" in str(check.evidence["proof"])
    assert "DG14 hash MATCH in EF.SOD" in str(check.evidence["key_proof"])
    read = inspection.read
    assert read is not None and not read.not_read and read.recoveries == 0


def test_pace_cam_is_bound_to_passive_authentication_of_card_security():
    inspection = _inspect(profiles.document("pace-cam"))
    check = inspection.check("chip.pace_cam")
    assert check.status is CheckStatus.PASS
    assert check.evidence["card_security_verdict"] == "VALID"
    assert "EF.CardSecurity verified by passive authentication" in str(check.evidence["key_proof"])


def test_pace_cam_with_a_forged_card_security_is_a_clone():
    doc = profiles.document("pace-cam")
    data = bytearray(doc.files[LdsFile.EF_CARD_SECURITY])
    data[-5] ^= 0x01  # the signature no longer verifies; the CAM key is untouched
    inspection = _inspect(doc.with_file(LdsFile.EF_CARD_SECURITY, bytes(data)))
    check = inspection.check("chip.pace_cam")
    assert check.status is CheckStatus.FAIL, check.detail
    assert "EF.CardSecurity fails passive authentication" in check.detail
    assert inspection.chip.status is CLONE and inspection.verdict is Verdict.INVALID


def test_pace_cam_without_an_anchor_is_not_genuine():
    doc = profiles.document("pace-cam")
    with doc.transport() as transport:
        from epass.pa import TrustStore

        inspection = inspect(transport, _key(doc), TrustStore(), at=AT)
    check = inspection.check("chip.pace_cam")
    assert check.status is CheckStatus.SKIP and check.required
    assert inspection.chip.status is NOT_CHECKED
    assert inspection.verdict is Verdict.INDETERMINATE


# -- clones and refusals -------------------------------------------------------------------


def test_the_cloned_chip_is_clone_suspected_and_never_valid():
    original, clone = profiles.document("bac-pace"), profiles.document("cloned-chip")
    assert clone.files == original.files  # byte for byte
    inspection = _inspect(clone)
    assert inspection.passive.verdict is Verdict.VALID  # the data are genuine ...
    assert inspection.chip.status is CLONE  # ... the chip is not
    assert inspection.verdict is Verdict.INVALID
    ca = inspection.check("chip.chip_authentication")
    aa = inspection.check("chip.active_authentication")
    assert ca.status is CheckStatus.FAIL and aa.status is CheckStatus.FAIL
    assert ca.evidence["step"] == "first command under the new keys"
    assert {"chip.chip_authentication", "chip.active_authentication"} <= set(inspection.reasons)
    # the session was re-opened after CA failed, so the whole document was still read
    assert inspection.read is not None and not inspection.read.not_read
    assert inspection.read.recoveries == 1
    assert set(inspection.document.labelled()) >= {"DG1", "DG2", "DG14", "DG15"}
    data = _valid_json(inspection)
    assert data["chip_authenticity"]["status"] == "CLONE_SUSPECTED"
    assert data["verdict"] == "INVALID"


def test_a_clone_of_a_pace_cam_document_fails_pace_cam():
    clone = profiles.document("pace-cam").cloned()
    inspection = _inspect(clone)
    assert inspection.check("chip.pace_cam").status is CheckStatus.FAIL
    assert inspection.chip.status is CLONE and inspection.verdict is Verdict.INVALID


def test_a_chip_that_refuses_internal_authenticate_is_clone_suspected():
    inspection = _inspect(profiles.document("aa-refused"))
    check = inspection.check("chip.active_authentication")
    assert check.status is CheckStatus.FAIL and check.evidence["sw"] == "6D00"
    assert "refused INTERNAL AUTHENTICATE" in check.detail
    assert inspection.chip.status is CLONE and inspection.verdict is Verdict.INVALID
    assert inspection.passive.verdict is Verdict.VALID


def test_a_chip_that_refuses_chip_authentication_after_pace_is_clone_suspected():
    inspection = _inspect(profiles.document("ca-refused"))
    assert inspection.read is not None and str(inspection.read.access.protocol) == "PACE"
    check = inspection.check("chip.chip_authentication")
    assert check.status is CheckStatus.FAIL
    assert check.evidence["step"] == "MSE:Set AT" and check.evidence["sw"] == "6A80"
    assert inspection.chip.status is CLONE and inspection.verdict is Verdict.INVALID
    assert not inspection.read.not_read  # the PACE session survived the refusal


def test_an_aa_signature_of_the_wrong_length_is_a_failed_check_not_a_crash():
    doc = profiles.document("aa-rsa-2048")
    small = AaChipKey.generate_rsa(1024)  # signs with 128 bytes; DG15 says 256
    inspection = _inspect(replace(doc, aa_chip_key=small))
    check = inspection.check("chip.active_authentication")
    assert check.status is CheckStatus.FAIL and "256" in check.detail
    assert inspection.verdict is Verdict.INVALID


# -- binding: a pass counts only with a key passive authentication proved ------------------


def test_a_tampered_dg15_makes_an_aa_pass_meaningless():
    # A chip holding another key, and a DG15 carrying that key: AA passes, but EF.SOD's
    # hash of DG15 does not match, so the key is not the issuer's.
    doc = profiles.document("aa-ecdsa-p256")
    other = AaChipKey.generate_ec("secp256r1", hash_name="sha256")
    forged = replace(doc, aa_chip_key=other).with_file(LdsFile.DG15, other.dg15())
    inspection = _inspect(forged)
    run = inspection.read.chip_authentication.run("AA")  # type: ignore[union-attr]
    assert run is not None and run.outcome is AuthOutcome.PASSED  # the signature verified
    check = inspection.check("chip.active_authentication")
    assert check.status is CheckStatus.FAIL
    assert "DG15 hash MISMATCH" in str(check.evidence["key_proof"])
    assert "means nothing" in check.detail
    assert inspection.chip.status is not GENUINE
    assert inspection.verdict is Verdict.INVALID
    assert inspection.passive.data_group("DG15").status.value == "MISMATCH"


def test_no_dg14_and_no_dg15_is_not_checked_and_says_so():
    inspection = _inspect(profiles.document("no-chip-auth"))
    assert inspection.chip.status is NOT_CHECKED and inspection.chip.checks == ()
    assert "offers no chip authentication" in inspection.chip.detail
    note = {n.name: n.detail for n in inspection.not_checked}["chip_authenticity"]
    assert "offers no chip authentication" in note
    assert inspection.verdict is Verdict.VALID  # NOT CHECKED is said beside the verdict
    _valid_json(inspection)


def test_disabled_chip_authentication_is_not_checked_and_runs_nothing():
    doc = profiles.document("bac-pace")
    inspection = _inspect(doc, chip_authentication=False)
    assert inspection.chip.status is NOT_CHECKED
    assert all(c.status is CheckStatus.SKIP and not c.required for c in inspection.chip.checks)
    assert "disabled" in inspection.check("chip.active_authentication").detail
    assert inspection.read is not None
    assert "INTERNAL AUTHENTICATE" not in inspection.read.traffic["by_command"]


def test_active_authentication_after_ca_can_be_left_out():
    inspection = _inspect(profiles.document("bac-pace"), active_authentication_after_ca=False)
    assert inspection.check("chip.chip_authentication").status is CheckStatus.PASS
    aa = inspection.check("chip.active_authentication")
    assert aa.status is CheckStatus.SKIP and not aa.required
    assert inspection.chip.status is GENUINE and inspection.verdict is Verdict.VALID
    assert inspection.read is not None and inspection.read.traffic["apdus"] == 16


@pytest.mark.parametrize("name", ["bac-pace", "cloned-chip", "aa-refused", "pace-cam", "eac-ta"])
def test_inspect_dump_is_not_checked(name: str):
    doc = profiles.document(name)
    inspection = inspect_dump(doc.dump(), doc.trust_store(), at=AT)
    assert inspection.chip.status is NOT_CHECKED
    assert "a dump cannot prove the chip" in inspection.chip.detail
    assert all(not c.required for c in inspection.chip.checks)
    _valid_json(inspection)


# -- bad input at the inspection level: never VALID, never a crash -------------------------


def _rsa_dg15(modulus: int, exponent: int) -> bytes:
    spki = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "rsa"},
            "public_key": asn1_keys.RSAPublicKey({"modulus": modulus, "public_exponent": exponent}),
        }
    )
    return dg15_module.encode(spki.dump())


@pytest.mark.parametrize(
    ("modulus_bits", "exponent", "why"),
    [(1024, 1, "exponent"), (384, 65537, "512")],
)
def test_an_unusable_dg15_key_the_issuer_signed_is_never_valid(modulus_bits, exponent, why):
    doc = profiles.document("aa-rsa-1024")
    modulus = (1 << (modulus_bits - 1)) | 0xF1
    bad = _resigned(doc, DG15=_rsa_dg15(modulus, exponent))
    inspection = _inspect(bad)
    check = inspection.check("chip.active_authentication")
    assert check.status is CheckStatus.SKIP and check.required, check.detail
    assert why in check.detail
    assert inspection.passive.verdict is Verdict.VALID  # the issuer signed it ...
    assert inspection.verdict is Verdict.INDETERMINATE  # ... but nothing proves the chip


def test_a_dg14_key_off_the_curve_is_never_valid():
    doc = profiles.document("ca-ecdh-aes")
    key = CaChipKey.generate(standardized_group(12))
    spki = bytearray(key.subject_public_key_info())
    spki[-1] ^= 0x01  # the point's y no longer fits x: not on the curve
    dg14 = dg14_module.encode(
        [encode_ca_public_key_info(bytes(spki)), encode_ca_info("0.4.0.127.0.7.2.2.3.2.2")]
    )
    inspection = _inspect(_resigned(doc, DG14=dg14))
    check = inspection.check("chip.chip_authentication")
    assert check.status is CheckStatus.SKIP and check.required
    assert "cannot be used" in check.detail
    assert inspection.verdict is Verdict.INDETERMINATE
    assert inspection.read is not None  # refused before any CA command: PACE's 4 GA only
    assert inspection.read.traffic["by_command"]["GENERAL AUTHENTICATE"] == 4


# -- Terminal Authentication -----------------------------------------------------------------


def test_terminal_authentication_opens_dg3_and_dg4():
    doc = profiles.document("eac-ta")
    inspection = _inspect(doc, terminal_credentials=doc.terminal_credentials)
    assert inspection.check("chip.terminal_authentication").status is CheckStatus.PASS
    assert {"DG3", "DG4"} <= set(inspection.document.labelled())
    assert inspection.passive.data_group("DG3").status.value == "MATCH"
    assert inspection.verdict is Verdict.VALID


def test_without_terminal_credentials_dg3_and_dg4_stay_closed():
    doc = profiles.document("eac-ta")
    inspection = _inspect(doc)
    assert inspection.read is not None
    assert "Extended Access Control" in inspection.read.not_read["DG3"]
    with pytest.raises(KeyError):
        inspection.check("chip.terminal_authentication")
    assert inspection.chip.status is GENUINE  # CA proves the chip; TA is the terminal's


def test_a_terminal_of_another_cvca_is_refused_and_dg3_stays_closed():
    doc = profiles.document("eac-ta")
    _, dv, terminal = make_test_chain(country="XX")
    stranger = TerminalCredentials((dv.certificate, terminal.certificate), terminal.private_key)
    inspection = _inspect(doc, terminal_credentials=stranger)
    check = inspection.check("chip.terminal_authentication")
    assert check.status is CheckStatus.SKIP and not check.required
    assert "DG3" not in inspection.document.labelled()
    assert inspection.chip.status is GENUINE  # a refused terminal says nothing about the chip


def test_ta_after_pace_uses_the_trust_points_pace_announced():
    doc = profiles.document("eac-ta")
    session = ChipSession(doc.transport(), options=ReadOptions())
    session.open(MrzKey(doc.mrz_information))
    assert session.pace_result.trust_points == ("UTCVCA00001",)
    assert len(session.pace_result.chip_ephemeral_public_key) == 65  # 04 x y, brainpoolP256r1


# -- the command line ------------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_demo_shows_a_genuine_chip(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "Chip authenticity: GENUINE CHIP" in out
    assert "chip.active_authentication" in out and "key_proof" in out
    assert out.rstrip().splitlines()[-1] == "Verdict: VALID"


def test_demo_of_the_cloned_chip_shows_clone_suspected_and_invalid(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(capsys, "demo", "--profile", "cloned-chip")
    assert code != 0
    assert "Chip authenticity: CLONE SUSPECTED" in out
    assert out.rstrip().splitlines()[-1].startswith("Verdict: INVALID")
    code, out, _ = run(capsys, "demo", "--profile", "cloned-chip", "--json")
    data = json.loads(out)
    jsonschema.validate(data, json_schema())
    assert data["chip_authenticity"]["status"] == "CLONE_SUSPECTED"
    assert data["verdict"] == "INVALID"


def test_list_profiles_shows_the_chip_authentication_profiles(capsys):
    code, out, _ = run(capsys, "demo", "--list-profiles")
    assert code == 0
    for name in ("cloned-chip", "aa-rsa-2048", "ca-dh-aes", "eac-ta", "no-chip-auth"):
        assert name in out


def _write_credentials(tmp_path: Path, doc: VirtualDocument) -> tuple[list[str], str]:
    credentials = doc.terminal_credentials
    assert credentials is not None
    files = []
    for cert in credentials.chain:
        path = tmp_path / f"{cert.chr}.cvcert"
        path.write_bytes(cert.encoded)
        files.append(str(path))
    key = tmp_path / "is-test-key.der"  # a TEST key derived from a public seed
    key.write_bytes(credentials.private_key.to_pkcs8(pem=False))
    return files, str(key)


def test_read_with_terminal_authentication_options(capsys, tmp_path):
    doc = profiles.document("eac-ta")
    chain, key = _write_credentials(tmp_path, doc)
    args = ["read", "--virtual", "--profile", "eac-ta", "--json", "--ta-key", key]
    for path in chain:
        args += ["--ta-cert-chain", path]
    code, out, _ = run(capsys, *args)
    data = json.loads(out)
    jsonschema.validate(data, json_schema())
    assert code == 0 and data["verdict"] == "VALID"
    assert "DG3" in data["read"]["files_read"] and "DG4" in data["read"]["files_read"]
    ta = next(c for c in data["checks"] if c["name"] == "chip.terminal_authentication")
    assert ta["status"] == "PASS" and ta["evidence"]["terminal"] == "UTISTEST00001"


def test_read_needs_both_terminal_authentication_options(capsys, tmp_path):
    doc = profiles.document("eac-ta")
    chain, _ = _write_credentials(tmp_path, doc)
    code, _, err = run(capsys, "read", "--virtual", "--ta-cert-chain", chain[0])
    assert code != 0 and "--ta-key" in err


def test_the_chip_authentication_step_after_read_document():
    # The named steps, one by one: CA's keys are proven by AA's protected answer.
    doc = profiles.document("bac-pace")
    session = ChipSession(doc.transport())
    session.open(MrzKey(doc.mrz_information))
    session.read_document()
    result = session.chip_authentication()
    assert result.protocol == "CA+AA"
    ca = result.run("CA")
    assert ca is not None and ca.passed and "INTERNAL AUTHENTICATE" in str(ca.evidence["proof"])
    only_ca = ChipSession(profiles.document("ca-ecdh-aes").transport())
    only_ca.open(MrzKey(doc.mrz_information))
    only_ca.read_document()
    run = only_ca.chip_authentication().run("CA")
    assert run is not None and run.passed and "SELECT" in str(run.evidence["proof"])
