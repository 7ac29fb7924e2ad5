"""The saved trust store: format, provenance, atomic writes, bad files, bounded reads."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.virtual.pki import make_test_pki
from epass.errors import ParseError
from epass.pa import trust
from epass.pa.crl import parse_crl
from epass.pa.importer import Importer
from epass.pa.trust import Provenance, TrustStore, default_store_folder, store_lock
from tests.test_crl_revocation import make_crl

AT = datetime(2030, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pkis():
    return make_test_pki(seed=b"store-a"), make_test_pki(seed=b"store-b", country="XA")


def _store(pkis) -> TrustStore:
    a, b = pkis
    store = TrustStore()
    when = datetime(2026, 1, 2, tzinfo=UTC)
    store.add(a.csca_der, source="a.cer", provenance=Provenance(file="a.cer", imported_at=when))
    store.add(
        b.csca_der,
        source="list.ml#3",
        provenance=Provenance(
            file="list.ml", entry="#3", master_list="list.ml", master_list_signer="CN=S"
        ),
    )
    store.add_document_signer(a.ds_der, source="pkd.ldif")
    store.add_crl(parse_crl(make_crl(a, revoked=(42,)), file="a.crl"))
    return store


def test_save_and_load_keep_everything(tmp_path: Path, pkis):
    store = _store(pkis)
    index = store.save(tmp_path)
    document = json.loads(index.read_text())
    assert document["format"] == trust.STORE_FORMAT
    assert sorted(e["kind"] for e in document["entries"]) == ["crl", "csca", "csca", "ds"]
    for entry in document["entries"]:
        pem = (tmp_path / entry["file"]).read_text()
        assert pem.startswith("-----BEGIN ")  # a person can inspect it with openssl
    loaded = TrustStore.load(tmp_path)
    assert loaded.problems == ()
    assert [a.der for a in loaded] == [a.der for a in store]
    assert [a.source for a in loaded] == [a.source for a in store]
    listed = next(a for a in loaded if a.provenance.master_list)
    assert (
        listed.provenance.master_list_signer == "CN=S"
        and "master list signed by CN=S" in listed.source
    )
    assert next(iter(loaded)).provenance.imported_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert len(loaded.document_signers()) == 1 and len(loaded.crls()) == 1
    assert loaded.crls()[0].crl.revocation_of(42) is not None
    # lookup by issuer and serial, key identifier, country, id prefix
    a, _ = pkis
    ds = loaded.find_document_signers(
        key_identifier=a.ds_cert.extensions.get_extension_for_class(
            __import__("cryptography").x509.SubjectKeyIdentifier
        ).value.digest
    )
    assert len(ds) == 1
    from asn1crypto import x509 as asn1_x509

    name = asn1_x509.Name.load(a.csca_cert.subject.public_bytes())
    assert len(loaded.by_issuer_and_serial(name, a.ds_cert.serial_number)) == 1
    assert len(loaded.by_country("XA")) == 1
    item = loaded.find(listed.id[:8])
    assert item is listed
    with pytest.raises(LookupError):
        loaded.find("zz")
    # remove and save again: its file goes, nothing else
    loaded.remove(listed.id[:10])
    loaded.save(tmp_path)
    again = TrustStore.load(tmp_path)
    assert len(again) == 1 and not (tmp_path / f"csca/XA_{listed.id[:16]}.pem").exists()


def test_an_interrupted_save_leaves_the_old_store(tmp_path: Path, pkis, monkeypatch):
    a, b = pkis
    old = TrustStore()
    old.add(a.csca_der, source="a")
    old.save(tmp_path)
    new = TrustStore.load(tmp_path)
    new.add(b.csca_der, source="b")
    new.add_crl(parse_crl(make_crl(a), file="a.crl"))
    real_replace = os.replace

    def killed(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith("index.json"):  # the process dies before the index is renamed
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        new.save(tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)
    # the new files are there, but the index is the old one: each entry is old (or new)
    assert len(list((tmp_path / "csca").iterdir())) == 2
    survivor = TrustStore.load(tmp_path)
    assert [x.der for x in survivor] == [a.csca_der] and survivor.crls() == ()
    assert survivor.problems == ()
    # a temporary file a killed writer left behind is ignored, then cleaned by the next save
    (tmp_path / "csca" / ".XA_0123456789abcdef.pem.999.tmp").write_bytes(b"half")
    assert len(TrustStore.load(tmp_path)) == 1
    new.save(tmp_path)
    assert len(TrustStore.load(tmp_path)) == 2
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "csca").iterdir())


def test_a_damaged_entry_is_reported_and_the_rest_loads(tmp_path: Path, pkis):
    _store(pkis).save(tmp_path)
    document = json.loads((tmp_path / "index.json").read_text())
    csca = [e for e in document["entries"] if e["kind"] == "csca"]
    (tmp_path / csca[0]["file"]).write_text(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    document["entries"].append({"kind": "csca", "id": "00", "file": "../../etc/passwd"})
    (tmp_path / "index.json").write_text(json.dumps(document))
    loaded = TrustStore.load(tmp_path)
    # the damaged CSCA, the CRL verified under it (no longer backed) and the escaping path
    assert len(loaded) == 1 and len(loaded.problems) == 3
    reasons = " | ".join(reason for _, reason in loaded.problems)
    assert "SHA-256" in reasons and "not a store file name" in reasons
    assert "CRL was verified under is no longer in the store" in reasons
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(ParseError, match="not a trust store index"):
        TrustStore.load(tmp_path)


def test_an_empty_folder_is_an_empty_store_and_epass_home_moves_it(tmp_path: Path, monkeypatch):
    assert len(TrustStore.load(tmp_path / "none")) == 0
    monkeypatch.setenv("EPASS_HOME", str(tmp_path))
    assert default_store_folder() == tmp_path / "trust"
    with store_lock(default_store_folder()):
        assert (tmp_path / "trust" / ".lock").exists()


# --- bad input: every file the store reads is bounded -----------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_everywhere(tmp_path: Path):
    result = Importer(TrustStore()).import_file("/dev/zero")
    assert result.refused == "/dev/zero: not a regular file"
    ldif = tmp_path / "zero.ldif"
    ldif.symlink_to("/dev/zero")
    assert "not a regular file" in (Importer(TrustStore()).import_file(ldif).refused or "")
    with pytest.raises(ParseError, match="not a regular file"):
        TrustStore.from_paths("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_is_never_opened(tmp_path: Path):
    for name in ("x.ml", "x.ldif", "x.crl"):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        assert "not a regular file" in (Importer(TrustStore()).import_file(fifo).refused or "")
    results = Importer(TrustStore()).import_paths([tmp_path])
    assert len(results) == 3 and all(r.refused for r in results)


def test_oversize_files_are_refused_by_kind(tmp_path: Path, monkeypatch, pkis):
    huge = tmp_path / "huge.ml"
    with huge.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(trust.MAX_FILE_SIZE + 1)
    result = Importer(TrustStore()).import_file(huge)
    assert result.refused is not None and "larger than" in result.refused
    import epass.pa.importer as importer

    monkeypatch.setattr(importer, "MAX_LDIF_SIZE", 100)
    big = tmp_path / "big.ldif"
    big.write_bytes(b"dn: c=UT\n" + b"x: " + b"y" * 200 + b"\n")
    assert "larger than" in (Importer(TrustStore()).import_file(big).refused or "")
    index = tmp_path / "store" / "index.json"
    index.parent.mkdir()
    with index.open("wb") as handle:
        handle.truncate(trust.MAX_INDEX_SIZE + 1)
    with pytest.raises(ParseError, match="larger than"):
        TrustStore.load(index.parent)


def test_one_bad_certificate_in_a_bundle_does_not_stop_the_rest(tmp_path: Path, pkis):
    a, b = pkis
    import base64

    def pem(der: bytes) -> bytes:
        return (
            b"-----BEGIN CERTIFICATE-----\n"
            + base64.encodebytes(der)
            + b"-----END CERTIFICATE-----\n"
        )

    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        pem(a.csca_der) + pem(b"\x30\x03\x02\x01\x01") + pem(b.csca_der) + pem(a.ds_der)
    )
    store = TrustStore()
    [result] = Importer(store).import_paths([bundle])
    assert [i.status for i in result.items] == ["added", "refused", "added", "added"]
    assert "malformed certificate" in (result.items[1].reason or "")
    # a DS certificate in a file is kept as a DS certificate, never an anchor
    assert result.items[3].kind == "ds" and "never an anchor" in (result.items[3].reason or "")
    assert len(store) == 2 and len(store.document_signers()) == 1
