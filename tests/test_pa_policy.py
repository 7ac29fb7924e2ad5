"""The verification policy (epass.pa.policy; issue 6): signing time, expiry, weak crypto, countries.

An expired document is not a forgery: certificates are judged at the signing
time (signingTime attribute, else DG12's date of issue); validity at the
check time is a finding beside the verdict.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest

from drivers.virtual.pki import hash_data_groups, make_test_pki
from epass.iso3166 import certificate_countries
from epass.pa import CheckName, CheckStatus, FindingCode, TrustStore, Verdict, verify
from epass.pa.policy import DEFAULT_POLICY, VerificationPolicy, dg12_date_of_issue
from epass.tlv import encode as tlv_encode
from tests.pa_pki import Signer, make_pki

AT = datetime(2030, 6, 1, tzinfo=UTC)
# the 9303-4 specimen MRZ (date of expiry 2012-04-15) and one expiring 2038-04-15
MRZ_2012 = (
    b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
MRZ_2038 = (
    b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F3804151ZE184226B<<<<<16"
)
DG2 = b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"


def _dg1(mrz: bytes) -> bytes:
    return b"\x61\x5b\x5f\x1f\x58" + mrz


def _dg12(issued: str) -> bytes:
    return tlv_encode(0x6C, tlv_encode(0x5F26, issued.encode("ascii")))


def _run(pki, dgs: dict[int, bytes], *, at: datetime = AT, **sod_kwargs):
    sod = pki.sign_sod(hash_data_groups(dgs), **sod_kwargs)
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    files = {"EF.SOD": sod, **{f"DG{n}": d for n, d in dgs.items()}}
    return verify(files, store, at=at)


def _codes(report) -> list[str]:
    return [f.code for f in report.findings]


def test_ds_expired_at_signing_time_is_invalid():
    pki = make_test_pki(ds_not_after=datetime(2026, 1, 1, tzinfo=UTC))
    report = _run(pki, {1: _dg1(MRZ_2038), 2: DG2}, signing_time=datetime(2027, 1, 1, tzinfo=UTC))
    check = report.check(CheckName.DS_VALIDITY)
    assert (
        check.status is CheckStatus.FAIL and "outside the DS certificate's validity" in check.detail
    )
    assert report.verdict is Verdict.INVALID


def test_expired_document_with_a_good_chain_is_valid_with_the_expiry_reported():
    pki = make_test_pki()  # DS valid 2024..2044, the document expired in 2012
    report = _run(pki, {1: _dg1(MRZ_2012), 2: DG2}, signing_time=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.verdict is Verdict.VALID
    assert FindingCode.DOCUMENT_EXPIRED in _codes(report)
    # the date of expiry is personal data: not repeated in the finding
    assert "2012" not in next(f.detail for f in report.findings if f.code == "document.expired")


def test_ds_expired_before_the_document_is_a_warning():
    pki = make_test_pki(ds_not_after=datetime(2029, 1, 1, tzinfo=UTC))
    report = _run(pki, {1: _dg1(MRZ_2038), 2: DG2}, signing_time=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.verdict is Verdict.VALID
    finding = next(f for f in report.findings if f.code == FindingCode.DS_EXPIRED_BEFORE_DOCUMENT)
    assert "2029-01-01" in finding.detail and "before the document's own expiry" in finding.detail
    assert "DS certificate expired on" in finding.detail  # checked in 2030
    # checked while the DS certificate is still valid: it will expire, it has not
    early = _run(
        pki,
        {1: _dg1(MRZ_2038), 2: DG2},
        signing_time=datetime(2025, 1, 1, tzinfo=UTC),
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    finding = next(f for f in early.findings if f.code == FindingCode.DS_EXPIRED_BEFORE_DOCUMENT)
    assert "DS certificate expires on 2029-01-01" in finding.detail


def test_no_signing_time_and_an_expired_ds_is_a_warning():
    pki = make_test_pki(ds_not_after=datetime(2029, 1, 1, tzinfo=UTC))
    report = _run(pki, {2: DG2})
    assert report.verdict is Verdict.VALID
    assert report.check(CheckName.DS_VALIDITY).evidence["signing_time_source"] == "unknown"
    assert FindingCode.DS_EXPIRED_SIGNING_TIME_UNKNOWN in _codes(report)


def test_dg12_date_of_issue_is_the_signing_time():
    pki = make_test_pki(ds_not_after=datetime(2029, 1, 1, tzinfo=UTC))
    inside = _run(pki, {2: DG2, 12: _dg12("20250301")})
    check = inside.check(CheckName.DS_VALIDITY)
    assert check.status is CheckStatus.PASS
    assert check.evidence["signing_time_source"] == "DG12 date of issue"
    assert FindingCode.DS_EXPIRED in _codes(inside)
    outside = _run(pki, {2: DG2, 12: _dg12("20290305")})
    assert outside.check(CheckName.DS_VALIDITY).status is CheckStatus.FAIL
    assert outside.verdict is Verdict.INVALID
    # the policy can ignore DG12 (then: signing time unknown, a warning)
    sod = pki.sign_sod(hash_data_groups({2: DG2, 12: _dg12("20290305")}))
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    files = {"EF.SOD": sod, "DG2": DG2, "DG12": _dg12("20290305")}
    report = verify(files, store, at=AT, policy=VerificationPolicy(use_dg12_date_of_issue=False))
    assert report.check(CheckName.DS_VALIDITY).status is CheckStatus.PASS
    assert any("use_dg12" in p or "signingTime attribute" in p for p in report.policy)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (tlv_encode(0x6C, tlv_encode(0x5F26, b"20240229")), date(2024, 2, 29)),
        (tlv_encode(0x6C, tlv_encode(0x5F26, b"20240230")), None),
        (tlv_encode(0x6C, tlv_encode(0x5F26, b"2024022")), None),
        (tlv_encode(0x6C, tlv_encode(0x5F19, b"x")), None),
        (b"\x6c\x05\x5f\x26", None),
        (tlv_encode(0x6D, tlv_encode(0x5F26, b"20240229")), None),
    ],
)
def test_dg12_date_of_issue_parser(data: bytes, expected: date | None):
    assert dg12_date_of_issue(data) == expected


def test_ds_of_another_country_is_invalid():
    pki = make_pki(
        Signer("ecdsa", curve="secp256r1"), Signer("ecdsa", curve="secp256r1"), ds_country="XK"
    )
    report = _run(pki, {1: _dg1(MRZ_2038), 2: DG2})
    issuing = report.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is CheckStatus.FAIL and "XK" in issuing.detail
    assert report.verdict is Verdict.INVALID


@pytest.mark.parametrize(
    ("code", "countries"),
    [
        ("D<<", {"DE"}),
        ("GBR", {"GB"}),
        ("GBN", {"GB"}),
        ("UNO", {"UN"}),
        ("UNK", {"UN", "XK"}),
        ("EUE", {"EU"}),
        ("XXA", set()),
        ("NLD", {"NL"}),
        ("ZZZ", None),
    ],
)
def test_issuing_state_exceptions(code: str, countries: set[str] | None):
    found = certificate_countries(code)
    assert (None if found is None else set(found)) == countries


@pytest.mark.parametrize(("code", "status"), [("XXA", CheckStatus.SKIP), ("GBD", CheckStatus.PASS)])
def test_issuing_state_exception_codes_in_pa(code: str, status: CheckStatus):
    country = "GB" if code.startswith("GB") else "UT"
    pki = make_pki(
        Signer("ecdsa", curve="secp256r1"), Signer("ecdsa", curve="secp256r1"), country=country
    )
    mrz = MRZ_2038[:2] + code.encode() + MRZ_2038[5:]
    report = _run(pki, {1: _dg1(mrz), 2: DG2})
    issuing = report.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is status
    if status is CheckStatus.SKIP:
        assert not issuing.required and report.verdict is Verdict.VALID


def test_weak_csca_and_extended_key_usage_are_findings():
    pki = make_pki(
        Signer("rsa", hash="sha1", rsa_bits=1024),
        Signer("ecdsa", curve="secp256r1"),
        ds_extended_key_usage=["2.23.136.1.1.6.2"],
    )
    report = _run(pki, {2: DG2})
    assert report.verdict is Verdict.VALID, report.reasons
    codes = _codes(report)
    for code in (
        FindingCode.CSCA_RSA_KEY_SIZE,
        FindingCode.CSCA_SHA1,
        FindingCode.DS_SHA1,
        FindingCode.DS_EXTENDED_KEY_USAGE,
    ):
        assert code in codes, code
    strict = VerificationPolicy(min_rsa_bits=512, weak_hashes=frozenset())
    sod = pki.sign_sod({2: hashlib.sha256(DG2).digest()})
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    relaxed = verify({"EF.SOD": sod, "DG2": DG2}, store, at=AT, policy=strict)
    assert not {FindingCode.CSCA_RSA_KEY_SIZE, FindingCode.CSCA_SHA1} & set(_codes(relaxed))


def test_dg_in_com_but_not_in_sod_is_a_finding_and_injection_is_invalid():
    pki = make_test_pki()
    com = tlv_encode(
        0x60,
        tlv_encode(0x5F01, b"0107")
        + tlv_encode(0x5F36, b"040000")
        + tlv_encode(0x5C, b"\x61\x75\x6b"),
    )
    sod = pki.sign_sod(hash_data_groups({1: _dg1(MRZ_2038), 2: DG2}))
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    files = {"EF.SOD": sod, "EF.COM": com, "DG1": _dg1(MRZ_2038), "DG2": DG2}
    report = verify(files, store, at=AT)
    assert report.verdict is Verdict.VALID
    finding = next(f for f in report.findings if f.code == FindingCode.COM_NOT_IN_SOD)
    assert "DG11" in finding.detail and finding.file == "EF.COM"
    injected = verify({**files, "DG11": b"\x6b\x03\x5f\x0e\x00"}, store, at=AT)
    assert injected.data_group("DG11").status.value == "NOT_IN_SOD"
    assert injected.verdict is Verdict.INVALID


def test_policy_is_stated_in_the_report():
    pki = make_test_pki()
    report = _run(pki, {2: DG2})
    assert report.policy == DEFAULT_POLICY.describe()
    assert report.to_dict()["policy"] == list(report.policy)
    assert any("XXA=none" in line for line in report.policy)
