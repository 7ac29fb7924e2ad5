"""CSCA master lists (9303-12 §9): the DE and NL samples verify and import; tampering refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from epass.errors import ParseError
from epass.pa import FindingCode, TrustStore, verify
from epass.pa.importer import Importer
from epass.pa.masterlist import parse_master_list, verify_master_list
from tests.conftest import sample_bytes

NOW = datetime(2026, 11, 30, tzinfo=UTC)
LISTS = {
    "DE": ("master_lists/DE_ML_2026-05-28-08-28-45.ml", "DE_CSCA_csca-germany_CSCA07.cer", 588),
    "NL": (
        "master_lists/NL_MASTERLIST_20211207.mls",
        "NL_CSCA_serial_7a4_issuer_of_2021_ML_signer.cer",
        306,
    ),
}

pytestmark = pytest.mark.samples


@pytest.mark.parametrize("country", sorted(LISTS))
def test_master_list_verifies_and_imports(samples: Path, country: str):
    path, csca, count = LISTS[country]
    data = sample_bytes(samples, path)
    store = TrustStore(samples / "master_lists" / csca)
    master_list = parse_master_list(data, file=path)
    assert len(master_list.certificates) == count
    check = verify_master_list(master_list, store, at=NOW)
    assert check.verified, check.reason
    assert check.anchor is not None and check.anchor.source.endswith(csca)
    assert check.signer is not None and "Signer" in check.signer
    [result] = Importer(store, at=NOW).import_paths([samples / path])
    assert result.kind == "master_list" and result.verified and result.refused is None
    assert len(result.items) == count
    assert result.added + result.present + result.refused_items == count
    refused = [i for i in result.items if i.status == "refused"]
    # DE lists 8 certificates that are not CAs (basicConstraints cA FALSE): shown, not anchors
    assert len(refused) == (8 if country == "DE" else 0)
    assert all("not a CA certificate" in (i.reason or "") for i in refused)
    anchor = next(a for a in store if a.provenance.master_list is not None)
    assert anchor.provenance.verified and anchor.provenance.imported_at == NOW
    assert anchor.provenance.master_list_signer == check.signer
    assert "master list signed by" in anchor.source


def test_a_flipped_signature_byte_refuses_the_whole_list(samples: Path):
    path, csca, _ = LISTS["DE"]
    data = bytearray(sample_bytes(samples, path))
    signature = parse_master_list(bytes(data), file=path).signed_data.signer_info.signature
    at = bytes(data).rfind(signature)
    data[at + len(signature) // 2] ^= 0x01
    tampered = bytes(data)
    store = TrustStore(samples / "master_lists" / csca)
    before = len(store)
    result = Importer(store, at=NOW).import_bytes(tampered, source="tampered.ml")
    assert result.refused is not None and "does not verify" in result.refused
    assert result.verified is False and result.items == []
    assert len(store) == before
    # with the explicit flag it imports, every anchor marked unverified in reports
    loose = Importer(store, at=NOW, allow_unverified=True).import_bytes(tampered, source="t.ml")
    assert loose.refused is None and loose.added > 500 and loose.notes
    marked = [a for a in store if a.provenance.master_list is not None]
    assert marked and all(not a.verified and "UNVERIFIED" in a.source for a in marked)
    sod = sample_bytes(samples, "real_world_sod/FR_EF_SOD.bin")
    report = verify({"EF.SOD": sod}, store, at=NOW)
    assert report.anchor is not None and "UNVERIFIED" in (report.anchor.source or "")
    assert FindingCode.ANCHOR_UNVERIFIED in [f.code for f in report.findings]


def test_a_list_whose_signer_has_no_trusted_csca_is_refused(samples: Path):
    path, _, _ = LISTS["NL"]
    store = TrustStore(samples / "master_lists" / LISTS["DE"][1])  # the wrong CSCA
    result = Importer(store, at=NOW).import_file(samples / path)
    assert result.refused is not None and "does not chain to a trusted CSCA" in result.refused
    assert len(store) == 1


def test_a_master_list_where_a_certificate_was_expected_is_recognised(samples: Path):
    path = samples / LISTS["DE"][0]
    with pytest.raises(ParseError, match="CMS SignedData") as info:
        TrustStore.from_paths(path)
    assert info.value.file == str(path)


def test_real_sods_chain_to_the_imported_german_list(samples: Path):
    path, csca, _ = LISTS["DE"]
    store = TrustStore(samples / "master_lists" / csca)
    Importer(store, at=NOW).import_paths([samples / path])
    for country in ("AT", "DE", "FR", "NZ", "RU", "US"):
        sod = sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin")
        report = verify({"EF.SOD": sod}, store, at=NOW)
        assert report.check("ds.issuer").status.value == "PASS", country
        assert report.anchor is not None and "master list signed by" in (report.anchor.source or "")


def test_truncated_and_wrong_content_lists_are_refused_naming_the_file(samples: Path):
    data = sample_bytes(samples, LISTS["NL"][0])
    with pytest.raises(ParseError) as info:
        parse_master_list(data[:1000], file="cut.ml")
    assert info.value.file == "cut.ml"
    sod = sample_bytes(samples, "real_world_sod/FR_EF_SOD.bin")[4:]  # a SignedData, not a list
    with pytest.raises(ParseError, match="not id-icao-cscaMasterList"):
        parse_master_list(sod, file="sod.ml")
