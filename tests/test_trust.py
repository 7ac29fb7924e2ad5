"""The CSCA trust store (ICAO Doc 9303-12 §4, §5.1, §7.1.1)."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.virtual.pki import make_test_pki
from epass.errors import ParseError
from epass.lds import sod
from epass.pa import TrustStore, trust
from epass.pa.trust import anchor_problem
from tests.cms_helpers import key_usage
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
        TrustStore.from_paths(bad)
    assert info.value.file == str(bad)
    # in a folder, the bad file is reported and the rest loads
    (tmp_path / "good.der").write_bytes(two_pkis[0].csca_der)
    store = TrustStore.from_paths(tmp_path)
    assert len(store) == 1
    [(where, reason)] = store.problems
    assert where == str(bad) and reason.startswith("malformed certificate")
    bad.unlink()
    (tmp_path / "good.der").unlink()

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
    assert len(store) == 6 and store.rejected == ()
    assert {a.country for a in store} == {"AT", "DE", "FR", "NZ", "RU", "US"}
    for country in ("FR", "NZ", "US"):
        ds = sod.parse(sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin"))
        cert = ds.signer_certificate()
        [cand] = [c for c in store.issuers_of(cert) if c.match == "key_identifier"]
        assert Path(cand.anchor.source).name.startswith(f"{country}_CSCA_")
        # the file name carries the SKI prefix
        ski = cand.anchor.key_identifier
        assert ski is not None and ski.hex()[:16] in cand.anchor.source


# --- only CAs are anchors (9303-12 §7.1.1 CSCA profile) ---------------------------------------


def test_a_ds_certificate_is_not_an_anchor(two_pkis):
    a, _ = two_pkis
    store = TrustStore()
    assert store.add(a.ds_der, source="a DSC") is None
    assert len(store) == 0 and list(store) == []
    [(source, reason)] = store.rejected
    assert source == "a DSC" and "basicConstraints cA is not TRUE" in reason
    assert store.issuers_of(asn1_x509.Certificate.load(a.ds_der)) == ()


def _ca(key_cert_sign: bool) -> bytes:
    key = ec.derive_private_key(4242, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(11)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2034, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=key_cert_sign, crl_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_a_ca_whose_key_usage_lacks_key_cert_sign_is_not_an_anchor():
    store = TrustStore()
    assert store.add(_ca(key_cert_sign=False), source="crl-only") is None
    assert store.rejected == (("crl-only", "keyUsage lacks keyCertSign (9303-12 §7.1.1)"),)
    assert anchor_problem(asn1_x509.Certificate.load(_ca(key_cert_sign=True))) is None
    assert store.add(_ca(key_cert_sign=True), source="ca") is not None


def test_folder_with_dscs_keeps_going_and_records_them(tmp_path: Path, two_pkis):
    a, b = two_pkis
    (tmp_path / "csca.der").write_bytes(a.csca_der)
    (tmp_path / "ds.der").write_bytes(a.ds_der)
    (tmp_path / "mixed.pem").write_bytes(_pem(b.ds_der) + _pem(b.csca_der))
    store = TrustStore.from_paths(tmp_path)
    sources = sorted(x.source for x in store)
    assert sources == [str(tmp_path / "csca.der"), f"{tmp_path}/mixed.pem#1"]
    assert [source for source, _ in store.rejected] == [
        str(tmp_path / "ds.der"),
        f"{tmp_path}/mixed.pem#0",
    ]
    # an explicit bundle with one CA is fine; its DSC is recorded
    bundle = TrustStore.from_paths(tmp_path / "mixed.pem")
    assert len(bundle) == 1 and len(bundle.rejected) == 1


def test_an_explicit_file_without_a_ca_is_an_error_naming_it(tmp_path: Path, two_pkis):
    a, b = two_pkis
    ds_file = tmp_path / "ds.cer"
    ds_file.write_bytes(a.ds_der)
    with pytest.raises(ParseError, match="holds no CA certificate") as info:
        TrustStore.from_paths(ds_file)
    assert info.value.file == str(ds_file) and "basicConstraints" in str(info.value)
    only_dscs = tmp_path / "dscs.pem"
    only_dscs.write_bytes(_pem(a.ds_der) + _pem(b.ds_der))
    with pytest.raises(ParseError, match="holds no CA certificate") as info:
        TrustStore.from_paths(only_dscs)
    assert info.value.file == str(only_dscs)


def test_the_shipped_test_csca_loads():
    pem = Path(__file__).resolve().parent.parent / "certs" / "test" / "epass-virtual-test-csca.pem"
    store = TrustStore.from_paths(pem)
    assert len(store) == 1 and store.rejected == ()
    assert [a.der for a in store] == [make_test_pki().csca_der]


# --- bounded loading -------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_not_read(tmp_path: Path):
    with pytest.raises(ParseError, match="not a regular file") as info:
        TrustStore.from_paths("/dev/zero")
    assert info.value.file == "/dev/zero"
    link = tmp_path / "zero.pem"
    link.symlink_to("/dev/zero")
    with pytest.raises(ParseError, match="not a regular file") as info:
        TrustStore.from_paths(link)
    assert info.value.file == str(link)
    store = TrustStore.from_paths(tmp_path)  # in a folder: reported, the walk goes on
    assert len(store) == 0 and store.problems == ((str(link), "not a regular file"),)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_is_not_opened(tmp_path: Path):
    fifo = tmp_path / "trust.pem"
    os.mkfifo(fifo)  # nobody writes: opening it for a blocking read would hang
    with pytest.raises(ParseError, match="not a regular file") as info:
        TrustStore.from_paths(fifo)
    assert info.value.file == str(fifo)
    assert TrustStore.from_paths(tmp_path).problems == ((str(fifo), "not a regular file"),)


def test_a_file_over_the_size_bound_is_not_read(tmp_path: Path, two_pkis):
    huge = tmp_path / "huge.pem"
    with huge.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(trust.MAX_FILE_SIZE + 1)
    with pytest.raises(ParseError, match="larger than the 16777216 bytes") as info:
        TrustStore.from_paths(huge)
    assert info.value.file == str(huge)
    exact = tmp_path / "ok.pem"
    exact.write_bytes(_pem(two_pkis[0].csca_der))
    assert len(TrustStore.from_paths(exact)) == 1


def test_a_folder_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_pkis):
    for index in range(6):
        (tmp_path / f"note{index}.txt").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)  # not followed
    (tmp_path / "csca.der").write_bytes(two_pkis[0].csca_der)
    assert len(TrustStore.from_paths(tmp_path)) == 1
    monkeypatch.setattr(trust, "MAX_FOLDER_ENTRIES", 5)
    with pytest.raises(ParseError, match="more than 5 entries") as info:
        TrustStore.from_paths(tmp_path)
    assert info.value.file == str(tmp_path)
