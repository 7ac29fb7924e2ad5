"""Trust holes in the DS certificate steps: name chaining, the anchor's country, the DS profile.

RFC 5280 §6.1.3 (name chaining) and §4.2 (critical extensions); ICAO Doc 9303-12 §7.1.1 (the
CSCA and DS profiles, the country in the names); 9303-11 §5.1. Certificates are built here with
``cryptography.x509``; the SOD with :func:`drivers.virtual.pki.sign_sod`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from drivers.virtual.pki import TestPki, derive_test_key, hash_data_groups, make_test_pki, sign_sod
from epass.pa import CheckName, CheckStatus, FindingCode, Report, TrustStore, Verdict, verify
from tests.cms_helpers import key_usage

AT = datetime(2030, 6, 1, tzinfo=UTC)
UNKNOWN = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x04\x01x")
# the 9303-4 specimen with a date of expiry of 2038-04-15 (check digits recomputed)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F3804151ZE184226B<<<<<16"
DG1 = b"\x61\x5b\x5f\x1f\x58" + MRZ
DG2 = b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"
DGS = {1: DG1, 2: DG2}


@pytest.fixture(scope="module")
def ut() -> TestPki:
    return make_test_pki(seed=b"chain-ut")


@pytest.fixture(scope="module")
def xx() -> TestPki:
    return make_test_pki(seed=b"chain-xx", country="XX")


def _store(*pkis: TestPki) -> TrustStore:
    store = TrustStore()
    for pki in pkis:
        store.add(pki.csca_der, source=f"csca-{pki.csca_cert.subject.rfc4514_string()}")
    return store


def _files(sod: bytes) -> dict[str, bytes]:
    return {"EF.SOD": sod, **{f"DG{n}": data for n, data in DGS.items()}}


def _ds(
    pki: TestPki,
    *,
    key: Any = None,
    issuer: x509.Name | None = None,
    subject: x509.Name | None = None,
    extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
    signer: Any = None,
    issuer_key: Any = None,
) -> x509.Certificate:
    """A DS certificate issued under *pki*'s CSCA unless told otherwise.

    :param extensions: replace the DS profile extensions (default: keyUsage digitalSignature).
    :param signer: the private key that signs it (default: *pki*'s CSCA key).
    :param issuer_key: the public key its authorityKeyIdentifier names (default: *signer*'s).
    """
    signer = signer or pki.csca_key
    key = key or pki.ds_key
    if extensions is None:
        extensions = [(key_usage(digital_signature=True), True)]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or pki.ds_cert.subject)
        .issuer_name(issuer or pki.csca_cert.subject)
        .public_key(key.public_key())
        .serial_number(515)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key or signer.public_key()),
            critical=False,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, hashes.SHA256())


class _Der:
    """A DER certificate where :func:`sign_sod` expects a ``cryptography`` certificate."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    def public_bytes(self, encoding: Encoding) -> bytes:
        return self.der


def _sha1_signed(cert: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey) -> Any:
    """*cert* re-signed by *issuer_key* with ECDSA-SHA1 (cryptography's builder refuses SHA-1)."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    tbs = asn1_x509.TbsCertificate.load(parsed["tbs_certificate"].dump())
    tbs["signature"] = {"algorithm": "sha1_ecdsa"}
    signature = issuer_key.sign(tbs.dump(force=True), ec.ECDSA(hashes.SHA1()))  # noqa: S303 - the case tested
    resigned = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": "sha1_ecdsa"},
            "signature_value": signature,
        }
    )
    return _Der(resigned.dump(force=True))


def _sod(ds: Any, key: Any, hash_algorithm: str = "sha256") -> bytes:
    dg_hashes = hash_data_groups(DGS, hash_algorithm)
    return sign_sod(dg_hashes, ds_key=key, ds_cert=ds, hash_algorithm=hash_algorithm)


def _codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


# --- 1. a DS of one country signed by another country's CSCA ---------------------------------


def test_ds_naming_one_csca_but_signed_by_another_country_is_invalid(ut: TestPki, xx: TestPki):
    # issuer "C=UT, ..., CN=epass TEST CSCA", key identifier and signature of XX's CSCA
    ds = _ds(ut, key=xx.ds_key, signer=xx.csca_key)
    report = verify(_files(_sod(ds, xx.ds_key)), _store(xx), at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.FAIL
    assert "name chaining" in issuer.detail and "C=XX" in issuer.detail
    assert issuer.evidence["csca_match"] == "key_identifier"
    assert report.anchor is not None and report.anchor.country == "XX"
    issuing = report.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is CheckStatus.FAIL
    assert "the CSCA's country XX" in issuing.detail
    assert issuing.evidence["csca_country"] == "XX"
    assert report.verdict is Verdict.INVALID
    assert report.reasons == (CheckName.DS_ISSUER, CheckName.DG1_ISSUING_STATE)


def test_a_same_key_csca_of_another_name_does_not_hide_the_chaining_one(ut: TestPki):
    # a re-issued CSCA certificate with the same key under another name (listed first) verifies
    # the signature but does not chain by name; the CSCA whose subject is the issuer does
    renamed = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "XX")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "XX")]))
        .public_key(ut.csca_key.public_key())
        .serial_number(3)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ut.csca_key.public_key()), critical=False
        )
        .sign(ut.csca_key, hashes.SHA256())
    )
    store = TrustStore()
    store.add(renamed.public_bytes(Encoding.DER), source="renamed")
    only_renamed = verify(_files(ut.sign_sod(hash_data_groups(DGS))), store, at=AT)
    assert only_renamed.check(CheckName.DS_ISSUER).status is CheckStatus.FAIL
    store.add(ut.csca_der, source="right")
    report = verify(_files(ut.sign_sod(hash_data_groups(DGS))), store, at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.PASS and issuer.evidence["csca_source"] == "right"
    assert report.verdict is Verdict.VALID


def test_issuing_state_is_compared_with_the_csca_and_both_ds_names(ut: TestPki, xx: TestPki):
    valid = verify(_files(ut.sign_sod(hash_data_groups(DGS))), _store(ut), at=AT)
    issuing = valid.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is CheckStatus.PASS
    assert issuing.evidence["compared_with"] == (
        "csca_country",
        "ds_issuer_country",
        "ds_subject_country",
    )
    assert valid.verdict is Verdict.VALID
    # chained properly under XX's CSCA, but the DS subject claims UT: the CSCA's country and
    # the issuer's disagree with DG1 (UTO)
    ds = _ds(xx, subject=ut.ds_cert.subject)
    report = verify(_files(_sod(ds, xx.ds_key)), _store(xx), at=AT)
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    issuing = report.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is CheckStatus.FAIL
    assert issuing.detail == (
        "DG1 issuing state UTO (UT) differs from the CSCA's country XX, "
        "the DS certificate's issuer country XX"
    )
    assert report.verdict is Verdict.INVALID
    # the DS subject alone disagreeing is also a FAIL
    ds = _ds(ut, subject=xx.ds_cert.subject)
    report = verify(_files(_sod(ds, ut.ds_key)), _store(ut), at=AT)
    assert report.check(CheckName.DG1_ISSUING_STATE).status is CheckStatus.FAIL
    assert "subject country XX" in report.check(CheckName.DG1_ISSUING_STATE).detail


# --- 2. anchors must be CAs ---------------------------------------------------------------------


def test_a_ds_certificate_in_the_trust_store_cannot_mint_signers(ut: TestPki):
    minted_key = derive_test_key(b"chain", "minted")
    minted = _ds(ut, key=minted_key, issuer=ut.ds_cert.subject, signer=ut.ds_key)
    store = TrustStore()
    assert store.add(ut.ds_der, source="a DSC by mistake") is None
    report = verify(_files(_sod(minted, minted_key)), store, at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.SKIP
    assert "1 certificates offered as anchors are not CAs" in issuer.detail
    assert report.verdict is Verdict.INDETERMINATE


# --- 3. the DS profile ------------------------------------------------------------------------


def test_the_test_pki_ds_fits_the_profile(ut: TestPki):
    report = verify(_files(ut.sign_sod(hash_data_groups(DGS))), _store(ut), at=AT)
    profile = report.check(CheckName.DS_PROFILE)
    assert profile.status is CheckStatus.PASS
    assert profile.evidence["critical_extensions"] == ("key_usage",)
    assert report.findings == ()


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        (
            [
                (key_usage(digital_signature=True), True),
                (
                    x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x04\x01x"),
                    True,
                ),
            ],
            "critical extensions this verifier does not process: 1.2.3.4.5",
        ),
        (
            [
                (key_usage(digital_signature=True), True),
                (x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), True),
            ],
            "extended_key_usage (2.5.29.37)",
        ),
        (
            [
                (key_usage(digital_signature=True), True),
                (x509.BasicConstraints(ca=True, path_length=None), True),
            ],
            "it is a CA certificate (basicConstraints cA=TRUE)",
        ),
        (
            [(key_usage(key_cert_sign=True, crl_sign=True), True)],
            "keyUsage crl_sign, key_cert_sign lacks digitalSignature",
        ),
    ],
    ids=["unknown-critical", "critical-eku", "ca", "no-digital-signature"],
)
def test_a_ds_outside_the_profile_is_invalid(ut: TestPki, extensions: Any, expected: str):
    ds = _ds(ut, extensions=extensions)
    report = verify(_files(_sod(ds, ut.ds_key)), _store(ut), at=AT)
    profile = report.check(CheckName.DS_PROFILE)
    assert profile.status is CheckStatus.FAIL and expected in profile.detail, profile.detail
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.verdict is Verdict.INVALID and report.reasons == (CheckName.DS_PROFILE,)


def test_non_critical_unknown_extensions_and_no_key_usage_fit(ut: TestPki):
    ds = _ds(ut, extensions=[(UNKNOWN, False)])
    report = verify(_files(_sod(ds, ut.ds_key)), _store(ut), at=AT)
    assert report.check(CheckName.DS_PROFILE).status is CheckStatus.PASS
    assert report.verdict is Verdict.VALID
    assert FindingCode.DS_KEY_USAGE_MISSING in _codes(report)  # 9303-12 wants it: a finding


ROLLOVER_CSCA = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
        x509.NameAttribute(NameOID.COMMON_NAME, "UT rollover CSCA"),
    ]
)


def _csca(key: Any, *, signer: Any = None, not_after: datetime, extra: Any = ()) -> bytes:
    name = ROLLOVER_CSCA
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(
            int.from_bytes(
                key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)[:8],
                "big",
            )
            + not_after.year
        )
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer or key, hashes.SHA256()).public_bytes(Encoding.DER)


@pytest.mark.parametrize("link_first", [True, False])
def test_an_expired_link_certificate_does_not_hide_the_valid_csca(link_first: bool):
    """A key rollover: the new CSCA key has a link certificate (signed by the old key,
    expired at AT) and a self-signed certificate (valid). Either order must chain."""
    old, new, ds_key = (derive_test_key(b"rollover", label) for label in ("old", "new", "ds"))
    link = _csca(new, signer=old, not_after=datetime(2029, 1, 1, tzinfo=UTC))
    current = _csca(new, not_after=datetime(2040, 1, 1, tzinfo=UTC))
    store = TrustStore()
    for der, source in (
        ((link, "link"), (current, "self"))
        if link_first
        else (
            (current, "self"),
            (link, "link"),
        )
    ):
        store.add(der, source=source)
    ds = _ds_for(new, ds_key)
    report = verify(_files(_sod(ds, ds_key)), store, at=AT)
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.anchor is not None and report.anchor.source == "self"


def _ds_for(csca_key: Any, ds_key: Any) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "UT rollover DS"),
                ]
            )
        )
        .issuer_name(ROLLOVER_CSCA)
        .public_key(ds_key.public_key())
        .serial_number(99)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_key.public_key()),
            critical=False,
        )
        .sign(csca_key, hashes.SHA256())
    )


def test_a_csca_with_an_unknown_critical_extension_is_not_an_anchor():
    key = derive_test_key(b"critical", "csca")
    der = _csca(key, not_after=datetime(2040, 1, 1, tzinfo=UTC), extra=[(UNKNOWN, True)])
    store = TrustStore()
    assert store.add(der, source="odd") is None
    assert store.rejected and "critical" in store.rejected[0][1]


def test_a_sod_signed_by_the_csca_itself_is_invalid(ut: TestPki):
    sod = _sod(ut.csca_cert, ut.csca_key)
    report = verify(_files(sod), _store(ut), at=AT)
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS
    profile = report.check(CheckName.DS_PROFILE)
    assert profile.status is CheckStatus.FAIL and "CA certificate" in profile.detail
    assert "lacks digitalSignature" in profile.detail
    assert report.verdict is Verdict.INVALID


def test_weak_rsa_and_sha1_are_findings_not_failures(ut: TestPki):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the case tested
    assert isinstance(ut.csca_key, ec.EllipticCurvePrivateKey)
    ds = _sha1_signed(_ds(ut, key=weak), ut.csca_key)
    report = verify(_files(_sod(ds, weak, hash_algorithm="sha1")), _store(ut), at=AT)
    assert report.verdict is Verdict.VALID, report.reasons
    assert _codes(report) == [
        FindingCode.SOD_SHA1,
        FindingCode.DS_RSA_KEY_SIZE,
        FindingCode.DS_SHA1,
    ]
    assert all(f.file == "EF.SOD" for f in report.findings)
    assert "RSA-1024" in report.findings[1].detail
    strong = verify(_files(ut.sign_sod(hash_data_groups(DGS))), _store(ut), at=AT)
    assert strong.findings == ()


# --- 4. a signing time after the checked time -------------------------------------------------


def test_signing_time_in_the_future_is_a_finding(ut: TestPki):
    later = verify(
        _files(ut.sign_sod(hash_data_groups(DGS), signing_time=AT + timedelta(days=1))),
        _store(ut),
        at=AT,
    )
    assert later.verdict is Verdict.VALID
    assert _codes(later) == [FindingCode.SIGNING_TIME_FUTURE]
    assert later.findings[0].file == "EF.SOD" and AT.isoformat() in later.findings[0].detail
    earlier = verify(
        _files(ut.sign_sod(hash_data_groups(DGS), signing_time=AT - timedelta(days=1))),
        _store(ut),
        at=AT,
    )
    assert earlier.verdict is Verdict.VALID and earlier.findings == ()


def test_a_ds_name_with_two_countries_fails_the_issuing_state(ut: TestPki):
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
            x509.NameAttribute(NameOID.COMMON_NAME, "DS of two countries"),
        ]
    )
    ds = _ds(ut, subject=subject)
    report = verify(_files(_sod(ds, ut.ds_key)), _store(ut), at=AT)
    assert report.check(CheckName.DG1_ISSUING_STATE).status is CheckStatus.FAIL
    assert report.verdict is Verdict.INVALID
