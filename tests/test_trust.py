"""The CSCA trust store (ICAO Doc 9303-12 §4, §5.1, §7.1.1)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.virtual.pki import make_test_pki
from epass.errors import ParseError
from epass.lds import sod
from epass.pa import TrustStore
from tests.conftest import sample_bytes


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def two_pkis():
    return make_test_pki(seed=b"trust-a"), make_test_pki(seed=b"trust-b", country="XA")


def test_der_pem_bundle_and_folder(tmp_path: Path, two_pkis):
    a, b = two_pkis
    (tmp_path / "a.cer").write_bytes(a.csca_der)
    sub = tmp_path / "nested" / "deeper"
    sub.mkdir(parents=True)
    (sub / "bundle.pem").write_bytes(b"comment line\n" + _pem(a.csca_der) + _pem(b.csca_der))
    (tmp_path / "README.md").write_text("not a certificate")  # ignored: not a certificate suffix

    store = TrustStore.from_paths(tmp_path)
    # the DER copy of A and the PEM copy of A are one anchor; provenance of the first load wins
    assert len(store) == 2
    sources = sorted(anchor.source for anchor in store)
    assert sources == sorted([str(tmp_path / "a.cer"), f"{sub / 'bundle.pem'}#1"])
    assert {anchor.country for anchor in store} == {"UT", "XA"}
    assert store.by_country("ut")[0].der == a.csca_der


def test_single_files(tmp_path: Path, two_pkis):
    a, _ = two_pkis
    der = tmp_path / "csca.anything"
    der.write_bytes(a.csca_der)
    pem = tmp_path / "csca.txt"
    pem.write_bytes(_pem(a.csca_der))
    assert [x.source for x in TrustStore.from_paths(der)] == [str(der)]
    assert [x.source for x in TrustStore.from_paths(pem)] == [str(pem)]


def test_add_keeps_provenance(two_pkis):
    a, _ = two_pkis
    store = TrustStore()
    first = store.add(a.csca_der, source="ICAO PKD download 2026-01")
    again = store.add(a.csca_der, source="elsewhere")
    assert first is not None
    assert first is again and first.source == "ICAO PKD download 2026-01"
    assert first.kind == "csca" and first.subject.endswith("CN=epass TEST CSCA")


def test_bad_files_raise_parse_error_naming_the_file(tmp_path: Path, two_pkis):
    bad = tmp_path / "broken.cer"
    bad.write_bytes(b"\x30\x82\x01\x00garbage")
    with pytest.raises(ParseError) as info:
        TrustStore.from_paths(tmp_path)
    assert info.value.file == str(bad)

    pem = tmp_path / "x.pem"
    pem.write_bytes(b"-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ParseError) as info:
        TrustStore.from_paths(pem)
    assert info.value.file == str(pem)

    with pytest.raises(ParseError):
        TrustStore().add(two_pkis[0].csca_der[:-1], source="cut")

    with pytest.raises(FileNotFoundError):
        TrustStore.from_paths(tmp_path / "missing")


def test_issuers_by_key_identifier(two_pkis):
    # 9303-12 §7.1.1: DS authorityKeyIdentifier = CSCA subjectKeyIdentifier
    a, b = two_pkis
    store = TrustStore()
    store.add(a.csca_der, source="a")
    store.add(b.csca_der, source="b")
    ds = asn1_x509.Certificate.load(a.ds_der)
    candidates = store.issuers_of(ds)
    assert [(c.anchor.source, c.match) for c in candidates] == [("a", "key_identifier")]


def test_issuers_by_name_and_key_rollover():
    # A CSCA of the same name but another key (key rollover) is a name match flagged as conflict.
    old = make_test_pki(seed=b"rollover-old")
    new = make_test_pki(seed=b"rollover-new")
    store = TrustStore()
    store.add(old.csca_der, source="old")
    ds_new = asn1_x509.Certificate.load(new.ds_der)
    [cand] = store.issuers_of(ds_new)
    assert cand.match == "name" and cand.key_identifier_conflict

    # Without key identifiers at all, the issuer DN is the only link (RFC 5280 §4.1.2.4).
    key = ec.derive_private_key(12345, ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(NameOID.COMMON_NAME, "epass TEST CSCA no-ski"),
        ]
    )
    csca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2034, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    store.add(csca.public_bytes(Encoding.DER), source="no-ski")
    [cand] = store.issuers_of(asn1_x509.Certificate.load(csca.public_bytes(Encoding.DER)))
    assert (cand.anchor.source, cand.match, cand.key_identifier_conflict) == (
        "no-ski",
        "name",
        False,
    )


@pytest.mark.samples
def test_sample_csca_folder(samples: Path):
    # README §3: real_world_sod/csca holds the CSCA that verifiably signed each DS certificate
    folder = samples / "real_world_sod" / "csca"
    if not folder.is_dir():
        pytest.skip("real_world_sod/csca absent")
    store = TrustStore.from_paths(folder)
    assert len(store) == 6
    assert {a.country for a in store} == {"AT", "DE", "FR", "NZ", "RU", "US"}
    for country in ("FR", "NZ", "US"):
        ds = sod.parse(sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin"))
        cert = ds.signer_certificate()
        [cand] = [c for c in store.issuers_of(cert) if c.match == "key_identifier"]
        assert Path(cand.anchor.source).name.startswith(f"{country}_CSCA_")
        # the file name carries the SKI prefix
        ski = cand.anchor.key_identifier
        assert ski is not None and ski.hex()[:16] in cand.anchor.source
