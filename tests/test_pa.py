"""Passive authentication end to end (ICAO Doc 9303-11 §5.1) on the TEST PKI and public samples.

9303-11 §5.1 "Passive Authentication", inspection system steps:
  1. read EF.SOD, build and validate the certification path (DS -> CSCA);
  2. verify the SOD signature with the DS public key;
  3. hash each data group read and compare with the hash in the SOD.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from drivers.virtual.pki import TestPki, hash_data_groups, make_test_pki
from epass.lds import sod as sod_module
from epass.pa import (
    Check,
    CheckStatus,
    DataGroupStatus,
    Report,
    TrustStore,
    Verdict,
    find_ds_certificate,
    verify,
)
from epass.pa.report import decide
from epass.pa.verify import (
    CHECK_DG_HASHES,
    CHECK_DS_ISSUER,
    CHECK_DS_PROFILE,
    CHECK_DS_VALIDITY,
    CHECK_ISSUING_STATE,
    CHECK_MESSAGE_DIGEST,
    CHECK_SIGNATURE,
    CHECK_SOD,
    ICAO_TO_ISO_ALPHA2,
)
from tests.conftest import sample_bytes

AT = datetime(2030, 6, 1, tzinfo=UTC)

# 9303-4 Appendix A specimen TD3 MRZ (Utopia); DG1 = '61' { '5F1F' MRZ } (9303-10 §4.7.1)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
DG1 = b"\x61\x5b\x5f\x1f\x58" + MRZ
DG2 = b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"  # a tiny stand-in biometric template
DG14 = b"\x6e\x05\x31\x03\x02\x01\x01"
DG15 = b"\x6f\x03\x04\x01\x00"
DGS_NO_DG1 = {2: DG2, 14: DG14}


def _files(sod: bytes, dgs: dict[int, bytes]) -> dict[str, bytes]:
    return {"EF.SOD": sod, **{f"DG{n}": data for n, data in dgs.items()}}


def _store(pki: TestPki) -> TrustStore:
    store = TrustStore()
    store.add(pki.csca_der, source=f"test-pki:{pki.kind}")
    return store


@pytest.fixture(scope="module", params=["ecdsa-p256", "rsa", "rsa-pss"])
def pki(request) -> TestPki:
    return make_test_pki(request.param)


@pytest.fixture(scope="module")
def ec_pki() -> TestPki:
    return make_test_pki()


def _der(cert: Any | None) -> bytes:
    assert cert is not None
    return bytes(cert.dump())


def _statuses(report: Report) -> dict[str, CheckStatus]:
    return {c.name: c.status for c in report.checks}


# --- the consistent document ------------------------------------------------------------------


def test_valid_for_every_signer_kind(pki: TestPki):
    sod = pki.sign_sod(hash_data_groups(DGS_NO_DG1), signing_time=datetime(2025, 1, 1, tzinfo=UTC))
    report = verify(_files(sod, DGS_NO_DG1), _store(pki), at=AT)
    assert report.verdict is Verdict.VALID, report.to_dict()
    assert [c.name for c in report.checks] == [
        CHECK_SOD,
        CHECK_DG_HASHES,
        CHECK_MESSAGE_DIGEST,
        CHECK_SIGNATURE,
        CHECK_DS_VALIDITY,
        CHECK_DS_PROFILE,
        CHECK_DS_ISSUER,
        "ds.revocation",
        CHECK_ISSUING_STATE,
    ]
    # DG1 not supplied: nothing to compare, not required
    issuing = report.check(CHECK_ISSUING_STATE)
    assert issuing.status is CheckStatus.SKIP and not issuing.required
    assert report.anchor is not None and report.anchor.source == f"test-pki:{pki.kind}"
    assert report.signer is not None and report.signer.country == "UT"
    assert {dg.name: dg.status for dg in report.data_groups} == {
        "DG2": DataGroupStatus.MATCH,
        "DG14": DataGroupStatus.MATCH,
    }


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha384", "sha512"])
def test_valid_with_other_hashes_and_v1(ec_pki: TestPki, hash_name):
    # 9303-12 §5: SHA-1/224/256/384/512; v1 carries LDSVersionInfo (9303-10 §4.6.2.2)
    sod = ec_pki.sign_sod(
        hash_data_groups(DGS_NO_DG1, hash_name), hash_algorithm=hash_name, version=1
    )
    report = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.VALID
    assert report.sod is not None and report.sod.lds_version == "0108"


def test_file_names_are_normalised(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    files = {"EF_SOD.bin": sod, "Datagroup2.bin": DG2, "EF.DG14": DG14, "EF_COM.bin": b"\x60\x00"}
    assert verify(files, _store(ec_pki), at=AT).verdict is Verdict.VALID


def test_deterministic_test_pki():
    # same seed -> byte-identical certificates and SOD across processes
    a, b = make_test_pki(), make_test_pki()
    assert (a.csca_der, a.ds_der) == (b.csca_der, b.ds_der)
    hashes_ = hash_data_groups(DGS_NO_DG1)
    assert a.sign_sod(hashes_) == b.sign_sod(hashes_)
    assert make_test_pki(seed=b"other").csca_der != a.csca_der


def test_test_pki_profiles():
    # 9303-12 §7.1.1 Table 6 (CSCA / DS certificate profiles)
    pki = make_test_pki(document_types=["P"])
    bc = pki.csca_cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = pki.csca_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
    ds_ku = pki.ds_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ds_ku.critical and ds_ku.value.digital_signature and not ds_ku.value.key_cert_sign
    aki = pki.ds_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.csca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    dtl = pki.ds_cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("2.23.136.1.1.6.2"))
    from epass.lds.asn1 import DocumentTypeList

    assert isinstance(dtl.value, x509.UnrecognizedExtension)
    assert DocumentTypeList.load(dtl.value.value).native == {"version": 0, "doc_type_list": ["P"]}
    assert "TEST" in pki.csca_cert.subject.rfc4514_string()


# --- integrity failures: INVALID --------------------------------------------------------------


def test_flipped_dg_byte_is_invalid_naming_the_dg(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    tampered = bytearray(DG2)
    tampered[-1] ^= 0x01
    report = verify(_files(sod, {2: bytes(tampered), 14: DG14}), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.INVALID
    assert report.reasons == (CHECK_DG_HASHES,)
    check = report.check(CHECK_DG_HASHES)
    assert check.status is CheckStatus.FAIL and "DG2" in check.detail
    dg2 = report.data_group("DG2")
    assert dg2.status is DataGroupStatus.MISMATCH and dg2.expected != dg2.actual
    assert report.data_group("DG14").status is DataGroupStatus.MATCH
    # the rest of the chain still verifies: the failure is the data, not the signature
    assert report.check(CHECK_SIGNATURE).status is CheckStatus.PASS


def test_flipped_signature_byte_is_invalid(pki: TestPki):
    sod = pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    signature = sod_module.parse(sod).signature
    assert sod.count(signature) == 1
    bad = bytearray(signature)
    bad[-1] ^= 0x01
    report = verify(_files(sod.replace(signature, bytes(bad)), DGS_NO_DG1), _store(pki), at=AT)
    assert report.verdict is Verdict.INVALID
    assert _statuses(report)[CHECK_SIGNATURE] is CheckStatus.FAIL
    assert _statuses(report)[CHECK_MESSAGE_DIGEST] is CheckStatus.PASS


def test_wrong_message_digest_is_invalid(ec_pki: TestPki):
    # RFC 5652 §11.2: messageDigest must equal the digest of the eContent; here the signer
    # signed attributes carrying another digest, so the signature itself is fine.
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1), message_digest=bytes(32))
    report = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.INVALID
    assert report.reasons == (CHECK_MESSAGE_DIGEST,)
    assert _statuses(report)[CHECK_SIGNATURE] is CheckStatus.PASS


def test_dg_not_in_sod_is_injection(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    report = verify(_files(sod, {**DGS_NO_DG1, 15: DG15}), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.INVALID
    dg15 = report.data_group("DG15")
    assert dg15.status is DataGroupStatus.NOT_IN_SOD and dg15.expected is None and dg15.actual
    assert "DG15" in report.check(CHECK_DG_HASHES).detail


def test_dg_in_sod_not_read_is_listed_not_failed(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups({**DGS_NO_DG1, 15: DG15}))
    report = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.VALID
    dg15 = report.data_group("DG15")
    assert dg15.status is DataGroupStatus.NOT_READ and dg15.actual is None and dg15.expected


def test_forged_ds_claiming_the_real_csca_is_invalid(ec_pki: TestPki):
    # A DS certificate naming the real CSCA (same DN, AKI = its SKI) but signed by another key:
    # "DS certificate signature not verifiable under the CSCA that matches it".
    attacker = make_test_pki(seed=b"attacker")
    real_ski = ec_pki.csca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    forged = (
        x509.CertificateBuilder()
        .subject_name(attacker.ds_cert.subject)
        .issuer_name(ec_pki.csca_cert.subject)
        .public_key(attacker.ds_key.public_key())
        .serial_number(4242)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(real_ski.value), False
        )
        .sign(attacker.csca_key, hashes.SHA256())
    )
    from drivers.virtual.pki import sign_sod

    sod = sign_sod(hash_data_groups(DGS_NO_DG1), ds_key=attacker.ds_key, ds_cert=forged)
    report = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.INVALID
    assert report.reasons == (CHECK_DS_ISSUER,)
    assert report.check(CHECK_SIGNATURE).status is CheckStatus.PASS  # self-consistent SOD


def test_expired_ds_without_signing_time_is_a_warning_not_a_failure():
    # issue 6 policy: validity at the check time is a finding beside the verdict
    pki = make_test_pki(
        ds_not_before=datetime(2024, 1, 1, tzinfo=UTC),
        ds_not_after=datetime(2029, 1, 1, tzinfo=UTC),
    )
    sod = pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    report = verify(_files(sod, DGS_NO_DG1), _store(pki), at=AT)
    assert report.verdict is Verdict.VALID
    check = report.check(CHECK_DS_VALIDITY)
    assert check.status is CheckStatus.PASS and "signing time unknown" in check.detail
    assert check.evidence["valid_at_check_time"] is False
    codes = [f.code for f in report.findings]
    assert "ds.expired_signing_time_unknown" in codes
    # before its validity starts nothing can have been signed with it yet
    early = verify(_files(sod, DGS_NO_DG1), _store(pki), at=datetime(2023, 1, 1, tzinfo=UTC))
    assert early.check(CHECK_DS_VALIDITY).status is CheckStatus.FAIL
    assert early.verdict is Verdict.INVALID


def test_signing_time_outside_ds_validity(ec_pki: TestPki):
    sod = ec_pki.sign_sod(
        hash_data_groups(DGS_NO_DG1), signing_time=datetime(2020, 1, 1, tzinfo=UTC)
    )
    report = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT)
    assert report.check(CHECK_DS_VALIDITY).status is CheckStatus.FAIL
    assert report.verdict is Verdict.INVALID


def test_csca_expired_before_the_signing_time_is_invalid():
    pki = make_test_pki(
        not_after=datetime(2029, 1, 1, tzinfo=UTC), ds_not_after=datetime(2040, 1, 1, tzinfo=UTC)
    )
    sod = pki.sign_sod(hash_data_groups(DGS_NO_DG1), signing_time=datetime(2029, 6, 1, tzinfo=UTC))
    report = verify(_files(sod, DGS_NO_DG1), _store(pki), at=AT)
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.FAIL
    assert "signing time" in report.check(CHECK_DS_ISSUER).detail
    assert report.verdict is Verdict.INVALID


def test_csca_expired_since_the_signing_time_is_a_finding():
    pki = make_test_pki(
        not_after=datetime(2029, 1, 1, tzinfo=UTC), ds_not_after=datetime(2040, 1, 1, tzinfo=UTC)
    )
    sod = pki.sign_sod(hash_data_groups(DGS_NO_DG1), signing_time=datetime(2025, 6, 1, tzinfo=UTC))
    report = verify(_files(sod, DGS_NO_DG1), _store(pki), at=AT)
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.PASS
    assert report.verdict is Verdict.VALID
    assert "csca.expired" in [f.code for f in report.findings]
    # no signing time: the CSCA is judged when it issued the DS (chain model)
    sod = pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    report = verify(_files(sod, DGS_NO_DG1), _store(pki), at=AT)
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.PASS


# --- not proven: INDETERMINATE ----------------------------------------------------------------


def test_csca_missing_is_indeterminate(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    report = verify(_files(sod, DGS_NO_DG1), TrustStore(), at=AT)
    assert report.verdict is Verdict.INDETERMINATE
    assert report.reasons == (CHECK_DS_ISSUER,)
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.SKIP
    assert report.anchor is None


def test_other_key_of_same_csca_name_is_indeterminate(ec_pki: TestPki):
    # A rollover CSCA (same DN, other key) in the store proves nothing either way.
    other = make_test_pki(seed=b"next generation")
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    report = verify(_files(sod, DGS_NO_DG1), _store(other), at=AT)
    assert report.verdict is Verdict.INDETERMINATE
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.SKIP


def test_ds_not_embedded(ec_pki: TestPki):
    # RFC 5652 §5.1: certificates is OPTIONAL; the DS can be supplied by the caller.
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1), include_certificate=False)
    report = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT)
    assert report.verdict is Verdict.INDETERMINATE
    assert report.check(CHECK_SIGNATURE).status is CheckStatus.ERROR
    supplied = verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=AT, certificates=[ec_pki.ds_der])
    assert supplied.verdict is Verdict.VALID
    parsed = sod_module.parse(sod)
    found = find_ds_certificate(parsed.signer_info, [ec_pki.csca_der, ec_pki.ds_der])
    assert _der(found) == ec_pki.ds_der


def test_sod_missing_or_no_dgs(ec_pki: TestPki):
    report = verify({"DG2": DG2}, _store(ec_pki), at=AT)
    assert report.verdict is Verdict.INDETERMINATE
    assert report.check(CHECK_SOD).status is CheckStatus.SKIP
    only_sod = verify(
        {"EF.SOD": ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))}, _store(ec_pki), at=AT
    )
    assert only_sod.verdict is Verdict.INDETERMINATE
    assert only_sod.reasons == (CHECK_DG_HASHES,)


# --- malformed input and misuse -------------------------------------------------------------


def test_malformed_sod_gives_a_report_not_an_exception(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    for cut in (0, 1, 5, len(sod) // 2, len(sod) - 1):
        report = verify(_files(sod[:cut], DGS_NO_DG1), _store(ec_pki), at=AT)
        assert report.verdict is Verdict.INVALID
        parse = report.check(CHECK_SOD)
        assert parse.status is CheckStatus.FAIL and "offset" in parse.evidence
        json.dumps(report.to_dict())
    garbage = verify({"EF.SOD": b"\x30\x00", "DG2": DG2}, _store(ec_pki), at=AT)
    assert garbage.check(CHECK_SOD).status is CheckStatus.FAIL


def test_no_single_byte_corruption_of_signed_bytes_stays_valid(ec_pki: TestPki):
    # Every byte of the eContent, the signed attributes, the signature and the DS certificate
    # is covered by a hash or a signature (9303-11 §5.1); flipping any of them must not give
    # VALID, and no corruption anywhere may escape as an exception.
    sod = ec_pki.sign_sod(
        hash_data_groups(DGS_NO_DG1), signing_time=datetime(2025, 1, 1, tzinfo=UTC)
    )
    parsed = sod_module.parse(sod)
    assert parsed.signed_attrs is not None
    regions = []
    for part in (
        parsed.econtent,
        b"\xa0" + parsed.signed_attrs[1:],
        parsed.signature,
        ec_pki.ds_der,
    ):
        start = sod.find(part)
        assert start > 0
        regions.append(range(start, start + len(part)))
    store = _store(ec_pki)
    for i in range(len(sod)):
        mutated = bytearray(sod)
        mutated[i] ^= 0xFF
        report = verify(_files(bytes(mutated), DGS_NO_DG1), store, at=AT)
        if any(i in r for r in regions):
            assert report.verdict is not Verdict.VALID, i


def test_misuse_raises(ec_pki: TestPki):
    sod = ec_pki.sign_sod(hash_data_groups(DGS_NO_DG1))
    with pytest.raises(ValueError, match="timezone"):
        verify(_files(sod, DGS_NO_DG1), _store(ec_pki), at=datetime(2030, 1, 1))
    with pytest.raises(ValueError):
        verify({"EF.SOD": sod, "photo.jpg": b""}, _store(ec_pki), at=AT)
    with pytest.raises(TypeError):
        verify({"EF.SOD": sod}, None, at=AT)  # type: ignore[arg-type]


# --- report -----------------------------------------------------------------------------------


def test_to_dict_is_json_and_carries_hashes(ec_pki: TestPki):
    sod = ec_pki.sign_sod(
        hash_data_groups(DGS_NO_DG1), signing_time=datetime(2025, 1, 1, tzinfo=UTC)
    )
    report = verify(_files(sod, {**DGS_NO_DG1, 15: DG15}), _store(ec_pki), at=AT)
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {
        "schema",
        "verdict",
        "reasons",
        "checked_at",
        "checks",
        "data_groups",
        "signer",
        "anchor",
        "sod",
        "findings",
        "policy",
    }
    assert data["findings"] == []  # the TEST PKI's SOD follows the 9303-10 profile
    assert data["verdict"] == "INVALID" and data["checked_at"] == AT.isoformat()
    expected = hash_data_groups(DGS_NO_DG1)
    by_name = {dg["name"]: dg for dg in data["data_groups"]}
    for n, digest in expected.items():
        assert by_name[f"DG{n}"]["expected"] == digest.hex()
        assert by_name[f"DG{n}"]["actual"] == digest.hex()
        assert by_name[f"DG{n}"]["algorithm"] == "sha256"
    assert by_name["DG15"]["status"] == "NOT_IN_SOD" and by_name["DG15"]["expected"] is None
    assert data["signer"]["subject"].endswith("CN=epass TEST DS")
    assert data["sod"]["signing_time"] == "2025-01-01T00:00:00+00:00"
    sig = next(c for c in data["checks"] if c["name"] == CHECK_SIGNATURE)
    assert sig["evidence"]["signature_algorithm"] == "ecdsa-sha256"
    assert isinstance(sig["evidence"]["signature"], str)  # bytes as hex


def test_verdict_rule():
    # fail closed: any FAIL -> INVALID; required non-PASS -> INDETERMINATE; else VALID
    ok = Check("a", CheckStatus.PASS, "")
    assert decide([ok]) == (Verdict.VALID, ())
    assert decide([]) == (Verdict.INDETERMINATE, ())
    assert decide([ok, Check("b", CheckStatus.ERROR, "")])[0] is Verdict.INDETERMINATE
    assert decide([ok, Check("c", CheckStatus.SKIP, "", required=False)])[0] is Verdict.VALID
    assert decide([Check("d", CheckStatus.FAIL, "", required=False), ok]) == (
        Verdict.INVALID,
        ("d",),
    )
    assert decide([Check("e", CheckStatus.ERROR, ""), Check("f", CheckStatus.FAIL, "")]) == (
        Verdict.INVALID,
        ("f",),
    )


# --- DG1 issuing state vs DS country (9303-12 §7.1.1) ----------------------------------------


def _dg1(code: str) -> bytes:
    """DG1 of the specimen MRZ with another issuing state (TD3 line 1, characters 3-5)."""
    mrz = MRZ[:2] + code.encode("ascii") + MRZ[5:]
    return b"\x61\x5b\x5f\x1f\x58" + mrz


@pytest.mark.parametrize(
    ("code", "status", "verdict"),
    [
        ("UTO", CheckStatus.PASS, Verdict.VALID),
        ("D<<", CheckStatus.FAIL, Verdict.INVALID),
        ("XQZ", CheckStatus.ERROR, Verdict.INDETERMINATE),
    ],
)
def test_issuing_state_comparison(ec_pki: TestPki, code, status, verdict):
    # The comparison logic, on a signed DG1 whose MRZ names another issuing state.
    dgs = {1: _dg1(code), **DGS_NO_DG1}
    report = verify(_files(ec_pki.sign_sod(hash_data_groups(dgs)), dgs), _store(ec_pki), at=AT)
    assert report.check(CHECK_DG_HASHES).status is CheckStatus.PASS
    assert report.check(CHECK_ISSUING_STATE).status is status
    assert report.verdict is verdict


def test_issuing_state_with_the_real_dg1_parser(ec_pki: TestPki):
    dgs = {1: DG1, **DGS_NO_DG1}
    report = verify(_files(ec_pki.sign_sod(hash_data_groups(dgs)), dgs), _store(ec_pki), at=AT)
    check = report.check(CHECK_ISSUING_STATE)
    assert check.status is CheckStatus.PASS, check
    assert check.evidence["dg1_issuing_state"] == "UTO"
    assert report.verdict is Verdict.VALID


def test_unreadable_dg1_is_an_error_without_mrz_content(ec_pki: TestPki):
    # A signed DG1 whose MRZ is not 88/72/90 characters: hashes match, the state cannot be read.
    dg1 = b"\x61\x0c\x5f\x1f\x09" + MRZ[:9]
    dgs = {1: dg1, **DGS_NO_DG1}
    report = verify(_files(ec_pki.sign_sod(hash_data_groups(dgs)), dgs), _store(ec_pki), at=AT)
    assert report.check(CHECK_DG_HASHES).status is CheckStatus.PASS
    check = report.check(CHECK_ISSUING_STATE)
    assert check.status is CheckStatus.ERROR and check.required
    assert check.detail == "issuing state not read from DG1 (ParseError)"
    assert MRZ[:9].decode() not in json.dumps(report.to_dict())
    assert report.verdict is Verdict.INDETERMINATE


def test_country_table():
    assert len(ICAO_TO_ISO_ALPHA2) >= 249
    assert ICAO_TO_ISO_ALPHA2["D"] == "DE" and ICAO_TO_ISO_ALPHA2["NLD"] == "NL"
    assert ICAO_TO_ISO_ALPHA2["UTO"] == "UT" and ICAO_TO_ISO_ALPHA2["GBR"] == "GB"


# --- public samples (../shared/samples; README facts) -----------------------------------------


def _sample_files(samples: Path, folder: str, dgs: list[int]) -> dict[str, bytes]:
    files = {"EF.SOD": sample_bytes(samples, f"{folder}/EF_SOD.bin")}
    for n in dgs:
        files[f"DG{n}"] = sample_bytes(samples, f"{folder}/DG{n}.bin")
    return files


def _dg_statuses(report: Report) -> dict[str, DataGroupStatus]:
    return {dg.name: dg.status for dg in report.data_groups}


@pytest.mark.samples
@pytest.mark.parametrize(
    ("folder", "dgs", "at"),
    [
        # README §1.2: SHA-256, RSASSA-PSS, DS "HJP PB DS" 2013-12-16..2014-12-11, CSCA not public
        ("bsi_refset_hjp2013", [1, 2, 3, 4, 14], datetime(2014, 6, 1, tzinfo=UTC)),
        # README §1.4: SHA-256, sha256WithRSA, DS "DS Test" 2006-09-25..2011-10-04, no CSCA
        ("nl_specimen_2006", [1, 2, 15], datetime(2008, 1, 1, tzinfo=UTC)),
    ],
)
def test_specimens_signature_pass_and_hashes_match(samples: Path, folder, dgs, at):
    report = verify(_sample_files(samples, folder, dgs), TrustStore(), at=at)
    status = _statuses(report)
    assert status[CHECK_SOD] is CheckStatus.PASS
    assert status[CHECK_SIGNATURE] is CheckStatus.PASS
    assert status[CHECK_MESSAGE_DIGEST] is CheckStatus.PASS
    assert status[CHECK_DS_VALIDITY] is CheckStatus.PASS
    assert status[CHECK_DG_HASHES] is CheckStatus.PASS
    assert _dg_statuses(report) == {f"DG{n}": DataGroupStatus.MATCH for n in dgs}
    assert status[CHECK_DS_ISSUER] is CheckStatus.SKIP  # no CSCA
    assert report.verdict is Verdict.INDETERMINATE
    if importlib.util.find_spec("epass.lds.dg1") is not None:
        # DG1 "D" / "NLD" against the DS certificate's C=DE / C=NL (9303-12 §7.1.1)
        assert status[CHECK_ISSUING_STATE] is CheckStatus.PASS
        assert report.reasons == (CHECK_DS_ISSUER,)
    json.dumps(report.to_dict())


@pytest.mark.samples
def test_hjp2013_dg15_is_not_in_sod(samples: Path):
    # README §1.2: "DG15 (165 bytes) is not in SOD"
    files = _sample_files(samples, "bsi_refset_hjp2013", [1, 2, 3, 4, 14, 15])
    report = verify(files, TrustStore(), at=datetime(2014, 6, 1, tzinfo=UTC))
    assert report.data_group("DG15").status is DataGroupStatus.NOT_IN_SOD
    assert report.verdict is Verdict.INVALID


@pytest.mark.samples
def test_hjp2013_ds_file_is_the_embedded_certificate(samples: Path):
    der = sample_bytes(samples, "bsi_refset_hjp2013/DS_HJP_PB_DS_0142fd5cf927.cer")
    parsed = sod_module.parse(sample_bytes(samples, "bsi_refset_hjp2013/EF_SOD.bin"))
    assert _der(parsed.signer_certificate()) == der
    assert _der(find_ds_certificate(parsed.signer_info, [der])) == der


@pytest.mark.samples
def test_bsi2008_explicit_brainpool_signature_passes(samples: Path):
    # README §1.1: ECDSA-SHA1 with an explicit-parameter brainpool key; DG1/2/3/14 match.
    report = verify(
        _sample_files(samples, "bsi_refset_2008", [1, 2, 3, 14]),
        TrustStore(),
        at=datetime(2008, 6, 1, tzinfo=UTC),
    )
    sig = report.check(CHECK_SIGNATURE)
    assert sig.status is CheckStatus.PASS
    # brainpoolP224r1, which cryptography lacks: verified by epass._crypto.ec
    assert sig.evidence["ds_curve"] == "explicit parameters = brainpoolP224r1"
    assert report.check(CHECK_MESSAGE_DIGEST).status is CheckStatus.PASS
    assert _dg_statuses(report) == {f"DG{n}": DataGroupStatus.MATCH for n in (1, 2, 3, 14)}
    # CSCA "CSCA BDR TEST" is not available: no anchor
    assert report.verdict is Verdict.INDETERMINATE
    assert report.reasons == (CHECK_DS_ISSUER,)
    assert report.signer is not None
    assert report.signer.curve == "explicit parameters = brainpoolP224r1"
    # issuer DN "CN=CSCA BDR TEST 19.09.07" has no C: DG1 "D" is compared with the DS subject's C=DE
    assert report.check(CHECK_ISSUING_STATE).status is not CheckStatus.FAIL
    # README §1.1: DG4 and DG15 are in the folder but not covered by this SOD
    injected = verify(
        _sample_files(samples, "bsi_refset_2008", [1, 2, 3, 4, 14, 15]),
        TrustStore(),
        at=datetime(2008, 6, 1, tzinfo=UTC),
    )
    assert _dg_statuses(injected)["DG4"] is DataGroupStatus.NOT_IN_SOD
    assert injected.verdict is Verdict.INVALID


def _csca_store(samples: Path) -> TrustStore:
    folder = samples / "real_world_sod" / "csca"
    if not folder.is_dir():
        pytest.skip("real_world_sod/csca absent")
    return TrustStore.from_paths(folder)


@pytest.mark.samples
@pytest.mark.parametrize("country", ["FR", "NZ", "US"])
def test_real_world_rsa_chains(samples: Path, country):
    # README §3: "every SOD signature + messageDigest verified; DS->CSCA verified"
    sod = sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin")
    report = verify({"EF.SOD": sod}, _csca_store(samples), at=datetime(2025, 1, 1, tzinfo=UTC))
    status = _statuses(report)
    assert status[CHECK_SIGNATURE] is CheckStatus.PASS
    assert status[CHECK_MESSAGE_DIGEST] is CheckStatus.PASS
    assert status[CHECK_DS_VALIDITY] is CheckStatus.PASS
    assert status[CHECK_DS_ISSUER] is CheckStatus.PASS
    assert report.anchor is not None and f"{country}_CSCA_" in (report.anchor.source or "")
    # no data groups (real persons): nothing about the holder's data is proven
    assert report.verdict is Verdict.INDETERMINATE and report.reasons == (CHECK_DG_HASHES,)
    assert all(dg.status is DataGroupStatus.NOT_READ for dg in report.data_groups)


@pytest.mark.samples
@pytest.mark.parametrize("country", ["AT", "DE", "RU"])
def test_real_world_explicit_curves_verify(samples: Path, country):
    # README §3: AT/DE/RU use ECDSA; their DS and CSCA keys carry explicit parameters.
    sod = sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin")
    report = verify({"EF.SOD": sod}, _csca_store(samples), at=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.check(CHECK_SOD).status is CheckStatus.PASS
    assert report.check(CHECK_MESSAGE_DIGEST).status is CheckStatus.PASS
    sig = report.check(CHECK_SIGNATURE)
    assert sig.status is CheckStatus.PASS
    assert str(sig.evidence["ds_curve"]).startswith("explicit parameters = ")
    issuer = report.check(CHECK_DS_ISSUER)
    assert issuer.status is CheckStatus.PASS
    assert str(issuer.evidence["csca_curve"]).startswith("explicit parameters = ")
    assert report.anchor is not None and f"{country}_CSCA_" in (report.anchor.source or "")
    assert report.verdict is Verdict.INDETERMINATE and report.reasons == (CHECK_DG_HASHES,)
    json.dumps(report.to_dict())


@pytest.mark.samples
def test_nz2013_older_csca_not_in_store(samples: Path):
    # README §3: "NZ2013's DS could not be chained (its older NZ CSCA is not in the 2026 ML)"
    sod = sample_bytes(samples, "real_world_sod/NZ2013_EF_SOD.bin")
    report = verify({"EF.SOD": sod}, _csca_store(samples), at=datetime(2012, 1, 1, tzinfo=UTC))
    assert report.check(CHECK_SIGNATURE).status is CheckStatus.PASS
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.SKIP
    assert report.verdict is Verdict.INDETERMINATE


@pytest.mark.samples
def test_real_world_after_ds_expiry_is_not_a_forgery(samples: Path):
    sod = sample_bytes(samples, "real_world_sod/FR_EF_SOD.bin")
    parsed = sod_module.parse(sod)
    ds = parsed.signer_certificate()
    assert ds is not None
    not_after = ds["tbs_certificate"]["validity"]["not_after"].native
    report = verify({"EF.SOD": sod}, _csca_store(samples), at=not_after + timedelta(days=1))
    assert report.check(CHECK_DS_VALIDITY).status is CheckStatus.PASS
    assert report.check(CHECK_DS_ISSUER).status is CheckStatus.PASS
    # no data groups: INDETERMINATE for that reason alone; the DS expiry is a finding
    assert report.reasons == (CHECK_DG_HASHES,)
    assert {f.code for f in report.findings} & {"ds.expired", "ds.expired_signing_time_unknown"}
