"""Attacks on passive authentication and the trust store, one regression test each.

Every case here was tried against the verifier as an attacker would (or as a sloppy
issuer does) and must end in the verdict the bytes prove: nothing unproven is VALID,
and nothing genuine is called a forgery. TEST PKIs are generated at run time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from epass.pa import CheckName, CheckStatus, Report, TrustStore, Verdict, verify
from tests.pa_pki import Signer, certificate, name, sign_sod, spki

AT = datetime(2030, 6, 1, tzinfo=UTC)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F3804151ZE184226B<<<<<16"
DGS = {1: b"\x61\x5b\x5f\x1f\x58" + MRZ, 2: b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"}


def _hashes() -> dict[int, bytes]:
    return {n: hashlib.sha256(d).digest() for n, d in DGS.items()}


def _verify(sod: bytes, store: TrustStore) -> Report:
    return verify({"EF.SOD": sod, **{f"DG{n}": d for n, d in DGS.items()}}, store, at=AT)


# --- inherited EC parameters (implicitlyCA, RFC 3279 §2.3.5) ---------------------------------


def test_inherited_parameters_come_from_the_csca_that_issued_the_ds():
    # Two CSCAs share a name (a key rollover onto another curve); the DS certificate names
    # its issuer by name only (no authorityKeyIdentifier) and inherits the curve of the one
    # that signed it. The parameters must be that CSCA's, not the first same-name one's.
    csca_name = name("TEST CSCA rollover")
    old = Signer("ecdsa", curve="secp256r1")
    new = Signer("ecdsa", curve="brainpoolP256r1", form="explicit")
    old_cert, new_cert = (
        certificate(
            subject=csca_name,
            issuer=csca_name,
            subject_key=spki(s),
            issuer_key=spki(s),
            signer=s,
            ca=True,
        )
        for s in (old, new)
    )
    ds_signer = Signer("ecdsa", curve="brainpoolP256r1", form="implicit")
    ds = certificate(
        subject=name("TEST DS inheriting"),
        issuer=csca_name,
        subject_key=spki(ds_signer),
        issuer_key=spki(new),
        signer=new,
        ca=False,
        authority_key_identifier=False,
    )
    store = TrustStore()
    store.add(bytes(old_cert.dump()), source="old csca (P-256)")
    store.add(bytes(new_cert.dump()), source="new csca (brainpoolP256r1)")
    report = _verify(sign_sod(_hashes(), ds_signer, ds), store)
    signature = report.check(CheckName.SOD_SIGNATURE)
    assert signature.status is CheckStatus.PASS, signature.detail
    assert signature.evidence["ds_curve"] == (
        "parameters inherited from the issuer = brainpoolP256r1 (explicit there)"
    )
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.anchor is not None and report.anchor.source == "new csca (brainpoolP256r1)"
    assert report.verdict is Verdict.VALID
    # with only the same-name CSCA of the other curve, nothing is proven
    alone = TrustStore()
    alone.add(bytes(old_cert.dump()), source="old csca (P-256)")
    report = _verify(sign_sod(_hashes(), ds_signer, ds), alone)
    assert report.check(CheckName.SOD_SIGNATURE).status is not CheckStatus.PASS
    assert report.verdict is not Verdict.VALID
