"""Finding the DS certificate (RFC 5652 §5.3) and EF.CardSecurity through the same CMS path.

A SOD without an embedded DS takes it from the trust store's DS certificates
(9303-12 §4.1), by issuerAndSerialNumber or subjectKeyIdentifier, or is
INDETERMINATE. A sloppy SignerIdentifier (issuer differing in string types,
case, spacing or RDN order) still finds its DS, with a finding; the signature
decides. EF.CardSecurity (9303-11 §9.2.11; TR-03110-3 §A.1.2) is verified by
:func:`epass.pa.verify_card_security` with the same steps.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509

from epass.cms import SignerMatch, locate_signer, parse_signed_data, signer_match
from epass.pa import (
    CheckName,
    CheckStatus,
    FindingCode,
    TrustStore,
    Verdict,
    verify,
    verify_card_security,
)
from epass.pa.signed_data import ID_SECURITY_OBJECT
from tests.conftest import sample_bytes
from tests.pa_pki import Signer, make_pki

AT = datetime(2030, 1, 1, tzinfo=UTC)
DGS = {1: b"\x61\x03abc", 2: b"\x75\x03face"}


class _StoreWithSigners(TrustStore):
    """A trust store holding DS certificates (what the PKD LDIF import will fill)."""

    def __init__(self, signers: tuple[Any, ...]) -> None:
        super().__init__()
        self._signers = signers

    def document_signers(self) -> tuple[Any, ...]:
        return self._signers


def _hashes() -> dict[int, bytes]:
    return {n: hashlib.sha256(d).digest() for n, d in DGS.items()}


@pytest.fixture(scope="module")
def pki():
    return make_pki(Signer("ecdsa", curve="secp256r1"), Signer("ecdsa", curve="brainpoolP256r1"))


def _files(sod: bytes) -> dict[str, bytes]:
    return {"EF.SOD": sod, "DG2": DGS[2]}


@pytest.mark.parametrize("sid", ["issuer_and_serial_number", "subject_key_identifier"])
def test_ds_not_embedded_is_taken_from_the_trust_store(pki, sid: str):
    sod = pki.sign_sod(_hashes(), include_certificate=False, sid=sid)
    store = _StoreWithSigners((pki.ds,))
    store.add(pki.csca_der, source="csca")
    report = verify(_files(sod), store, at=AT)
    assert report.verdict is Verdict.VALID, report.reasons
    findings = {f.code: f.detail for f in report.findings}
    assert "trust store" in findings[FindingCode.DS_NOT_EMBEDDED]
    assert FindingCode.SIGNER_IDENTIFIER not in findings


def test_ds_nowhere_is_indeterminate(pki):
    sod = pki.sign_sod(_hashes(), include_certificate=False)
    store = _StoreWithSigners(())
    store.add(pki.csca_der, source="csca")
    report = verify(_files(sod), store, at=AT)
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.ERROR
    assert "trust store" in report.check(CheckName.SOD_SIGNATURE).detail
    assert report.verdict is Verdict.INDETERMINATE
    # another DS of the store is not taken for it
    other = make_pki(Signer("ecdsa", curve="secp256r1"), Signer("ecdsa", curve="secp256r1"))
    report = verify(_files(sod), _StoreWithSigners((other.ds,)), at=AT)
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.ERROR


def _sloppy_issuers(issuer: x509.Name) -> dict[str, x509.Name]:
    """The DS issuer spelled with other string types/case/spacing, and with RDNs reversed."""
    country = issuer.native["country_name"]
    org = issuer.native["organization_name"]
    cn = issuer.native["common_name"]
    prepared = x509.Name.build(
        {"country_name": country, "organization_name": org.upper(), "common_name": f"  {cn}  "},
        use_printable=True,
    )
    reordered = x509.Name(
        name="",
        value=x509.RDNSequence(list(reversed(list(issuer.chosen)))),
    )
    return {"prepared": prepared, "reordered": reordered}


@pytest.mark.parametrize(
    ("kind", "match"),
    [("prepared", SignerMatch.NAME_PREPARED), ("reordered", SignerMatch.NAME_REORDERED)],
)
def test_sloppy_signer_identifier_finds_its_ds(pki, kind: str, match: SignerMatch):
    sloppy = _sloppy_issuers(pki.ds.issuer)[kind]
    assert bytes(sloppy.dump()) != bytes(pki.ds.issuer.dump())
    sod = pki.sign_sod(_hashes(), sid_issuer=sloppy)
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    report = verify(_files(sod), store, at=AT)
    assert report.verdict is Verdict.VALID, report.reasons
    findings = {f.code: f.detail for f in report.findings}
    assert FindingCode.SIGNER_IDENTIFIER in findings
    signed = parse_signed_data(sod[2:] if sod[1] < 0x80 else sod[2 + (sod[1] & 0x7F) :], file="x")
    assert signer_match(signed.signer_info, pki.ds) is match


def test_sloppy_match_still_needs_the_signature(pki):
    # a certificate with the same serial and a reordered issuer but another key: FAIL
    other = make_pki(pki.csca_signer, Signer("ecdsa", curve="brainpoolP256r1"))
    sloppy = _sloppy_issuers(pki.ds.issuer)["reordered"]
    sod = other.sign_sod(_hashes(), sid_issuer=sloppy, include_certificate=False)
    # the SignerInfo names other.ds's serial; offer a certificate with that serial but pki's key
    report = verify(_files(sod), TrustStore(), at=AT, certificates=[other.ds.dump()])
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS  # right key
    wrong = make_pki(pki.csca_signer, pki.ds_signer)
    report = verify(_files(sod), TrustStore(), at=AT, certificates=[wrong.ds.dump()])
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.ERROR  # serial differs


def test_exact_match_wins_over_a_sloppy_one(pki):
    sod = pki.sign_sod(_hashes())
    signed = parse_signed_data(sod[4:] if sod[1] == 0x82 else sod[3:], file="x")
    found = locate_signer(signed.signer_info, [pki.ds])
    assert found is not None and found[1] is SignerMatch.EXACT
    assert signer_match(signed.signer_info, make_pki(pki.csca_signer, pki.ds_signer).ds) is None


# --- EF.CardSecurity --------------------------------------------------------------------------

#: One ChipAuthenticationInfo (TR-03110-3 §A.1.1.2): id-CA-ECDH-AES-CBC-CMAC-128, version 2.
_SECURITY_INFOS = bytes.fromhex("31143012060a04007f0007020203020202010202010d")


def test_generated_card_security_verifies(pki):
    data = pki.sign_sod({}, econtent=_SECURITY_INFOS, econtent_type=ID_SECURITY_OBJECT, wrap=False)
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    report = verify_card_security(data, store, at=AT)
    assert report.verdict is Verdict.VALID, [c for c in report.checks if c.status.value != "PASS"]
    assert [c.name for c in report.checks] == [
        "card_security.parse",
        "card_security.message_digest",
        "card_security.signature",
        "ds.validity",
        "ds.profile",
        "ds.issuer",
        "ds.revocation",
    ]
    assert report.sod is None
    # a flipped eContent byte breaks the messageDigest; an EF.SOD eContentType is refused
    at = data.index(_SECURITY_INFOS)
    bad = bytearray(data)
    bad[at + len(_SECURITY_INFOS) - 1] ^= 1
    broken = verify_card_security(bytes(bad), store, at=AT)
    assert broken.check("card_security.message_digest").status is CheckStatus.FAIL
    assert broken.verdict is Verdict.INVALID
    sod = pki.sign_sod(_hashes(), wrap=False)
    wrong = verify_card_security(sod, store, at=AT)
    assert wrong.check("card_security.parse").status is CheckStatus.FAIL
    assert "id-SecurityObject" in wrong.check("card_security.parse").detail
    assert verify_card_security(b"\x30\x80", store, at=AT).verdict is Verdict.INVALID
    with pytest.raises(ValueError):
        verify_card_security(data, store, at=datetime(2030, 1, 1))


@pytest.mark.samples
def test_de_card_security_verifies_and_chains(samples: Path):
    # README §3: DE_CardSecurity.bin verified, its DS verified under the DE CSCA
    data = sample_bytes(samples, "real_world_sod/DE_CardSecurity.bin")
    store = TrustStore.from_paths(samples / "real_world_sod" / "csca")
    report = verify_card_security(data, store, at=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.check("card_security.signature").status is CheckStatus.PASS
    assert report.check("ds.issuer").status is CheckStatus.PASS
    assert report.anchor is not None and "DE_CSCA_" in (report.anchor.source or "")
    assert report.verdict is Verdict.VALID


@pytest.mark.samples
def test_de_eid_dan_card_security_chains_to_csca_013(samples: Path):
    # README §2.2: DS "serialNumber=074" verified under CSCA 013
    data = sample_bytes(samples, "de_eid_dan/EF_CardSecurity.bin")
    csca = samples / "de_eid_dan" / "CSCA_DE_csca-germany_013.cer"
    report = verify_card_security(
        data, TrustStore.from_paths(csca), at=datetime(2015, 1, 1, tzinfo=UTC)
    )
    assert report.check("card_security.signature").status is CheckStatus.PASS
    issuer = report.check("ds.issuer")
    assert issuer.status is CheckStatus.PASS
    assert report.anchor is not None and "serialNumber=013" in report.anchor.subject
    assert report.verdict is Verdict.VALID
    assert "074" in (report.signer.subject if report.signer else "")
