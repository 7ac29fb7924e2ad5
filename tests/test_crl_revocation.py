"""CRLs (RFC 5280 §5), the ds.revocation step and link certificates, with generated TEST PKIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from drivers.virtual.pki import TestPki, derive_test_key, hash_data_groups, make_test_pki
from epass.errors import ParseError
from epass.lds.asn1 import load_certificate
from epass.pa import CheckName, CheckStatus, FindingCode, TrustStore, Verdict, verify
from epass.pa.crl import CrlStatus, parse_crl, verify_crl
from epass.pa.importer import Importer
from epass.pa.trust import RefusedError
from tests.cms_helpers import key_usage
from tests.conftest import sample_bytes

AT = datetime(2030, 6, 1, tzinfo=UTC)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
DGS = {1: b"\x61\x5b\x5f\x1f\x58" + MRZ, 2: b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"}


def make_crl(
    pki: TestPki,
    *,
    revoked: tuple[int, ...] = (),
    this_update: datetime = AT - timedelta(days=10),
    next_update: datetime = AT + timedelta(days=80),
    signer: Any = None,
) -> bytes:
    """A CRL of *pki*'s CSCA (9303-12 §7.1.3 profile) revoking *revoked*."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.csca_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(7), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.csca_key.public_key()),
            critical=False,
        )
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update - timedelta(days=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    crl = builder.sign(signer or pki.csca_key, hashes.SHA256())
    return crl.public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(seed=b"crl-test")


def _files(pki: TestPki) -> dict[str, bytes]:
    sod = pki.sign_sod(hash_data_groups(DGS))
    return {"EF.SOD": sod, **{f"DG{n}": data for n, data in DGS.items()}}


def _store(pki: TestPki, *crls: bytes) -> TrustStore:
    store = TrustStore()
    store.add(pki.csca_der, source="test csca")
    for der in crls:
        store.add_crl(parse_crl(der, file="test.crl"))
    return store


def test_no_crl_is_reported_not_a_failure(pki: TestPki):
    report = verify(_files(pki), _store(pki), at=AT)
    check = report.check(CheckName.DS_REVOCATION)
    assert check.status is CheckStatus.SKIP and not check.required
    assert "no CRL" in check.detail
    assert report.verdict is Verdict.VALID


def test_a_current_crl_without_the_ds_passes(pki: TestPki):
    report = verify(_files(pki), _store(pki, make_crl(pki, revoked=(12345,))), at=AT)
    check = report.check(CheckName.DS_REVOCATION)
    assert check.status is CheckStatus.PASS and check.evidence["crl_status"] == "current"
    assert report.verdict is Verdict.VALID
    assert FindingCode.CRL_NOT_CURRENT not in [f.code for f in report.findings]


def test_a_revoked_ds_is_invalid(pki: TestPki):
    serial = pki.ds_cert.serial_number
    report = verify(_files(pki), _store(pki, make_crl(pki, revoked=(5, serial))), at=AT)
    check = report.check(CheckName.DS_REVOCATION)
    assert check.status is CheckStatus.FAIL
    assert "revoked" in check.detail and check.evidence["reason"] == "key_compromise"
    assert report.verdict is Verdict.INVALID


def test_an_expired_crl_is_reported_and_still_used(pki: TestPki):
    old = make_crl(pki, this_update=AT - timedelta(days=400), next_update=AT - timedelta(days=300))
    report = verify(_files(pki), _store(pki, old), at=AT)
    check = report.check(CheckName.DS_REVOCATION)
    assert check.status is CheckStatus.PASS and check.evidence["crl_status"] == "expired"
    assert FindingCode.CRL_NOT_CURRENT in [f.code for f in report.findings]
    assert report.verdict is Verdict.VALID
    # an expired CRL that lists the DS still revokes it
    revoked = make_crl(
        pki,
        revoked=(pki.ds_cert.serial_number,),
        this_update=AT - timedelta(days=400),
        next_update=AT - timedelta(days=300),
    )
    assert verify(_files(pki), _store(pki, revoked), at=AT).verdict is Verdict.INVALID


def test_crl_status_and_parse(pki: TestPki):
    crl = parse_crl(make_crl(pki, revoked=(9,)), file="x.crl")
    assert crl.status_at(AT) is CrlStatus.CURRENT
    assert crl.status_at(AT - timedelta(days=20)) is CrlStatus.NOT_YET_ISSUED
    assert crl.status_at(AT + timedelta(days=90)) is CrlStatus.EXPIRED
    assert crl.crl_number == 7 and crl.revocation_of(9) is not None
    assert crl.revocation_of(10) is None


def test_a_crl_signed_by_another_key_is_refused(pki: TestPki):
    other = make_test_pki(seed=b"crl-other")
    forged = parse_crl(make_crl(pki, signer=other.csca_key), file="forged.crl")
    store = _store(pki)
    with pytest.raises(RefusedError, match="does not verify"):
        store.add_crl(forged)
    assert store.crls() == ()
    with pytest.raises(RefusedError, match="no CSCA in the store"):
        TrustStore().add_crl(forged)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30\x03\x02\x01\x01", b"-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n"],
)
def test_malformed_crls_are_refused_naming_the_file(data: bytes):
    with pytest.raises(ParseError) as info:
        parse_crl(data, file="bad.crl")
    assert info.value.file == "bad.crl"


def test_an_expired_crl_file_imports_with_a_note(tmp_path: Path, pki: TestPki):
    (tmp_path / "csca.der").write_bytes(pki.csca_der)
    old = make_crl(
        pki,
        this_update=datetime(2020, 1, 1, tzinfo=UTC),
        next_update=datetime(2020, 2, 1, tzinfo=UTC),
    )
    (tmp_path / "old.crl").write_bytes(old)
    store = TrustStore()
    results = Importer(store, at=AT).import_paths([tmp_path])
    assert [r.kind for r in results] == ["certificates", "crl"]
    assert results[1].verified is True and results[1].added == 1
    assert any("expired" in note for note in results[1].notes)


@pytest.mark.samples
def test_the_colombian_crl_verifies_under_its_issuer(samples: Path):
    crl = parse_crl(sample_bytes(samples, "crl/COL.crl"), file="COL.crl")
    issuer = load_certificate(sample_bytes(samples, "crl/COL_CSCA_crl_issuer.cer"), file="issuer")
    assert str(verify_crl(crl, issuer)) == "rsa-pkcs1v15-sha256"
    assert len(crl.revoked) == 15 and crl.this_update.year == 2020
    assert crl.status_at(datetime(2026, 1, 1, tzinfo=UTC)) is CrlStatus.EXPIRED
    store = TrustStore()
    store.add(issuer.dump(), source="COL")
    stored, new = store.add_crl(crl)
    assert new and store.crls_for(next(iter(store))) == (stored,)
    tampered = bytearray(sample_bytes(samples, "crl/COL.crl"))
    tampered[-5] ^= 1
    with pytest.raises(RefusedError):
        TrustStore(samples / "crl/COL_CSCA_crl_issuer.cer").add_crl(
            parse_crl(bytes(tampered), file="t.crl")
        )


# --- link certificates (9303-12 §5.1.1: the old CSCA key signs the new one) --------------------

NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
        x509.NameAttribute(NameOID.COMMON_NAME, "UT CSCA"),
    ]
)


def _ca(key: Any, signer: Any, serial: int) -> bytes:
    return (
        x509.CertificateBuilder()
        .subject_name(NAME)
        .issuer_name(NAME)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
        .sign(signer, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )


def _ds_pki(csca_key: Any, csca_der: bytes, label: str) -> TestPki:
    ds_key = derive_test_key(b"link", f"ds-{label}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"UT DS {label}"),
                ]
            )
        )
        .issuer_name(NAME)
        .public_key(ds_key.public_key())
        .serial_number(1000 + len(label))
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2039, 1, 1, tzinfo=UTC))
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_key.public_key()),
            critical=False,
        )
        .sign(csca_key, hashes.SHA256())
    )
    return TestPki(csca_key, x509.load_der_x509_certificate(csca_der), ds_key, cert)


def test_a_link_certificate_rollover_chains_both_generations(tmp_path: Path):
    old, new, rogue = (derive_test_key(b"link", label) for label in ("old", "new", "rogue"))
    old_der = _ca(old, old, 1)
    link_der = _ca(new, old, 2)  # the new key, signed by the old one
    (tmp_path / "a_old.cer").write_bytes(old_der)
    (tmp_path / "b_link.cer").write_bytes(link_der)
    store = TrustStore()
    results = Importer(store, at=AT).import_paths([tmp_path / "a_old.cer", tmp_path / "b_link.cer"])
    [link_item] = results[1].items
    assert link_item.kind == "link" and link_item.status == "added"
    assert link_item.reason is not None and "signed by CSCA" in link_item.reason
    assert sorted(a.kind for a in store) == ["csca", "link"]
    for key, der, label in ((old, old_der, "old"), (new, link_der, "new")):
        report = verify(_files(_ds_pki(key, der, label)), store, at=AT)
        assert report.verdict is Verdict.VALID, label
        assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    # a "link" naming the old key but signed by another is refused, and nothing of it stays
    forged = (
        x509.CertificateBuilder()
        .subject_name(NAME)
        .issuer_name(NAME)
        .public_key(rogue.public_key())
        .serial_number(3)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(rogue.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(old.public_key()), critical=False
        )
        .sign(rogue, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )
    (tmp_path / "c_forged.cer").write_bytes(forged)
    [result] = Importer(store, at=AT).import_paths([tmp_path / "c_forged.cer"])
    assert result.items[0].status == "refused" and "does not verify" in (
        result.items[0].reason or ""
    )
    assert len(store) == 2 and not store.contains(forged)
