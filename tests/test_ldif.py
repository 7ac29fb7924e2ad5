"""ICAO PKD LDIF (RFC 2849) built from generated PKIs: imports; a bad record is reported."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ldif import LDIFWriter  # type: ignore[import-untyped]

from drivers.virtual.pki import make_test_pki
from epass.pa.importer import Importer
from epass.pa.ldif import LdifObject, LdifProblem, read_ldif
from epass.pa.trust import TrustStore
from tests.conftest import SAMPLES
from tests.test_crl_revocation import make_crl

AT = datetime(2030, 6, 1, tzinfo=UTC)
BASE = "dc=data,dc=download,dc=pkd,dc=icao,dc=int"


def _ldif(entries: list[tuple[str, dict[str, list[bytes]]]]) -> bytes:
    out = io.BytesIO()
    writer = LDIFWriter(out)
    for dn, attributes in entries:
        writer.unparse(dn, attributes)
    return out.getvalue()


def _pkd_file(tmp_path: Path, *, bad: bool, with_master_list: bool = False) -> Path:
    a = make_test_pki(seed=b"ldif-a")
    b = make_test_pki(seed=b"ldif-b", country="XA")
    entries = [
        (f"o=dsc,c=UT,{BASE}", {"objectClass": [b"organization"], "o": [b"dsc"]}),
        (
            f"cn=DS A+sn=01,o=dsc,c=UT,{BASE}",
            {"objectClass": [b"inetOrgPerson"], "userCertificate;binary": [a.ds_der]},
        ),
        (
            f"cn=DS B+sn=02,o=dsc,c=XA,{BASE}",
            {"objectClass": [b"inetOrgPerson"], "userCertificate;binary": [b.ds_der]},
        ),
        (
            f"cn=CRL A,o=crl,c=UT,{BASE}",
            {"certificateRevocationList;binary": [make_crl(a, revoked=(a.ds_cert.serial_number,))]},
        ),
        (
            f"cn=broken cert,o=dsc,c=UT,{BASE}",
            {"userCertificate;binary": [b"\x30\x05\x02\x01\x01\x05\x00"]},
        ),
    ]
    if with_master_list:
        ml = (SAMPLES / "master_lists/NL_MASTERLIST_20211207.mls").read_bytes()
        entries.append((f"cn=NL ML,o=ml,c=NL,{BASE}", {"pkdMasterListContent": [ml]}))
    data = _ldif(entries)
    if bad:  # a record whose line has no colon: the ldif parser refuses that record only
        data = data.replace(b"dn: cn=DS B", b"dn: cn=DS B\nthis line has no colon", 1)
    path = tmp_path / "icaopkd-001-test.ldif"
    path.write_bytes(data)
    return path


def test_read_ldif_yields_objects_and_problems(tmp_path: Path):
    path = _pkd_file(tmp_path, bad=True)
    with path.open("rb") as handle:
        items = list(read_ldif(handle, file=str(path), max_size=10**7))
    objects = [i for i in items if isinstance(i, LdifObject)]
    problems = [i for i in items if isinstance(i, LdifProblem)]
    assert [o.kind for o in objects] == ["certificate", "crl", "certificate"]
    assert objects[0].country == "UT" and objects[0].dn.startswith("cn=DS A")
    [problem] = problems
    assert problem.dn is not None and problem.dn.startswith("cn=DS B") and problem.record == 3


def test_an_ldif_imports_and_one_bad_entry_is_reported(tmp_path: Path):
    a = make_test_pki(seed=b"ldif-a")
    store = TrustStore()
    store.add(a.csca_der, source="csca a")
    [result] = Importer(store, at=AT).import_paths([_pkd_file(tmp_path, bad=True)])
    assert result.kind == "ldif" and result.refused is None
    by_status = {(i.kind, i.status) for i in result.items}
    assert ("ds", "added") in by_status and ("crl", "added") in by_status
    refused = [i for i in result.items if i.status == "refused"]
    assert len(refused) == 2  # the record without a colon, the broken certificate
    assert any("record 3" in i.entry and "cn=DS B" in i.entry for i in refused)
    assert any(
        "broken cert" in i.entry and "malformed certificate" in (i.reason or "") for i in refused
    )
    assert len(store.document_signers()) == 1 and len(store.crls()) == 1
    assert len(store) == 1  # DS certificates are never anchors


def test_a_crl_whose_csca_is_missing_is_refused_but_the_rest_imports(tmp_path: Path):
    store = TrustStore()
    [result] = Importer(store, at=AT).import_paths([_pkd_file(tmp_path, bad=False)])
    crl = [i for i in result.items if i.kind == "crl"]
    assert crl[0].status == "refused" and "import that CSCA first" in (crl[0].reason or "")
    assert len(store.document_signers()) == 2 and store.crls() == ()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="no samples")
def test_a_master_list_in_an_ldif_verifies_under_the_store(tmp_path: Path):
    path = _pkd_file(tmp_path, bad=False, with_master_list=True)
    csca = SAMPLES / "master_lists/NL_CSCA_serial_7a4_issuer_of_2021_ML_signer.cer"
    store = TrustStore(csca)
    [result] = Importer(store, at=AT).import_paths([path])
    [ml] = [i for i in result.items if i.kind == "master_list"]
    assert ml.status == "added" and "Masterlist Signer NL" in (ml.reason or "")
    assert len(store) == 306
    # without the CSCA, the list entry is refused and nothing of it is added
    empty = TrustStore()
    [again] = Importer(empty, at=AT).import_paths([path])
    [ml] = [i for i in again.items if i.kind == "master_list"]
    assert ml.status == "refused" and len(empty) == 0
