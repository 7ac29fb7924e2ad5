"""Every signature form of ICAO 9303-12 §5 through passive authentication, on generated PKIs.

RSA PKCS#1 v1.5 and RSASSA-PSS (RFC 4055 §3.1: hash, MGF1 hash and salt from
the AlgorithmIdentifier), ECDSA on the NIST and brainpool r1 curves with keys
that name their curve, spell it out as explicit parameters (9303-12 §5, SEC 1
§C.2) or inherit it from the issuer (RFC 3279 §2.3.5). Keys are generated
at run time (:mod:`tests.pa_pki`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from asn1crypto import keys, x509

from epass._crypto import ec as epass_ec
from epass._crypto.signatures import (
    CurveParameters,
    EcPublicKey,
    ExplicitCurveParametersError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
    describe_public_key,
    load_public_key,
    resolve_curve,
    verify_certificate_signature,
    verify_signature,
)
from epass.pa import CheckName, CheckStatus, TrustStore, Verdict, verify
from tests.pa_pki import Signer, make_pki, spki

AT = datetime(2030, 1, 1, tzinfo=UTC)
DGS = {2: b"\x75\x03face", 3: b"\x63\x03ridge"}


def _hashes(algorithm: str = "sha256") -> dict[int, bytes]:
    import hashlib

    return {n: hashlib.new(algorithm, data).digest() for n, data in DGS.items()}


def _verify(pki, sod: bytes, *, trust: bool = True):
    store = TrustStore()
    if trust:
        store.add(pki.csca_der, source="generated-csca")
    files = {"EF.SOD": sod, **{f"DG{n}": data for n, data in DGS.items()}}
    return verify(files, store, at=AT)


# --- RSA ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512"])
def test_rsa_pss_from_the_algorithm_identifier(hash_name: str):
    signer = Signer("rsa-pss", hash=hash_name)
    pki = make_pki(Signer("rsa-pss", hash=hash_name), signer)
    report = _verify(pki, pki.sign_sod(_hashes()))
    assert report.verdict is Verdict.VALID, report.reasons
    sig = report.check(CheckName.SOD_SIGNATURE)
    size = {"sha256": 32, "sha384": 48, "sha512": 64}[hash_name]
    assert (
        sig.evidence["signature_algorithm"]
        == f"rsa-pss({hash_name}, mgf1-{hash_name}, salt {size})"
    )
    assert report.check(CheckName.DS_ISSUER).evidence["signature_algorithm"].startswith("rsa-pss(")


def test_rsa_pss_salt_is_taken_from_the_parameters():
    # RFC 4055 §3.1: saltLength as given; a signer with salt 0 verifies only with 0
    signer = Signer("rsa-pss", hash="sha256", salt_length=0)
    pki = make_pki(Signer("rsa", hash="sha256"), signer)
    report = _verify(pki, pki.sign_sod(_hashes()))
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS
    # the same signature announced with salt 32 does not verify
    lying = dataclasses.replace(signer, salt_length=32)
    data = b"signed attributes"
    signature = signer.sign(data)
    algorithm = x509.SignedDigestAlgorithm(lying.algorithm)
    with pytest.raises(InvalidSignatureError):
        verify_signature(spki(signer), algorithm, data, signature)
    verify_signature(spki(signer), x509.SignedDigestAlgorithm(signer.algorithm), data, signature)


def test_rsa_pss_mgf1_hash_differing_from_the_message_hash():
    signer = Signer("rsa-pss", hash="sha256")
    data = b"tbs"
    signature = signer.sign(data)
    algorithm = signer.algorithm
    algorithm["parameters"]["mask_gen_algorithm"]["parameters"] = {"algorithm": "sha512"}
    with pytest.raises(InvalidSignatureError):
        verify_signature(spki(signer), x509.SignedDigestAlgorithm(algorithm), data, signature)


def test_rsa_1024_ds_verifies_and_is_flagged():
    pki = make_pki(Signer("rsa"), Signer("rsa", rsa_bits=1024))
    report = _verify(pki, pki.sign_sod(_hashes()))
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS
    assert "ds.rsa_key_size" in [f.code for f in report.findings]


# --- ECDSA ----------------------------------------------------------------------------------------

BRAINPOOL = [
    "brainpoolP224r1",
    "brainpoolP256r1",
    "brainpoolP320r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
]


@pytest.mark.parametrize("curve", BRAINPOOL)
def test_ecdsa_brainpool_with_explicit_parameters(curve: str):
    # 9303-12 §5: explicit domain parameters in both the CSCA and DS keys
    csca = Signer("ecdsa", hash="sha384", curve=curve, form="explicit")
    ds = Signer("ecdsa", hash="sha256", curve=curve, form="explicit")
    pki = make_pki(csca, ds)
    report = _verify(pki, pki.sign_sod(_hashes()))
    assert report.verdict is Verdict.VALID, report.reasons
    sig = report.check(CheckName.SOD_SIGNATURE)
    assert sig.evidence["ds_curve"] == f"explicit parameters = {curve}"
    assert f"explicit parameters = {curve}" in sig.detail
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.evidence["csca_curve"] == f"explicit parameters = {curve}"
    assert report.signer is not None and report.signer.curve == f"explicit parameters = {curve}"
    assert report.anchor is not None and report.anchor.curve == f"explicit parameters = {curve}"
    # and a flipped signature byte fails on every curve (both verifier paths)
    sod = bytearray(pki.sign_sod(_hashes()))
    signature = _signature_of(bytes(sod))
    at = bytes(sod).index(signature)
    sod[at + len(signature) - 3] ^= 0x01
    bad = _verify(pki, bytes(sod))
    assert bad.check(CheckName.SOD_SIGNATURE).status is CheckStatus.FAIL
    assert bad.verdict is Verdict.INVALID


def _signature_of(sod: bytes) -> bytes:
    from epass.lds import sod as sod_module

    return sod_module.parse(sod).signature


@pytest.mark.parametrize(
    ("curve", "hash_name"),
    [
        ("secp521r1", "sha512"),
        ("secp384r1", "sha384"),
        ("brainpoolP160r1", "sha1"),
        ("brainpoolP192r1", "sha224"),
        ("secp192r1", "sha256"),
        ("secp224r1", "sha224"),
    ],
)
def test_ecdsa_named_curves(curve: str, hash_name: str):
    signer = Signer("ecdsa", hash=hash_name, curve=curve)
    pki = make_pki(Signer("ecdsa", hash="sha512", curve="secp521r1"), signer)
    report = _verify(pki, pki.sign_sod(_hashes(hash_name), hash_algorithm=hash_name))
    assert report.verdict is Verdict.VALID, report.reasons
    assert report.check(CheckName.SOD_SIGNATURE).evidence["ds_curve"] == curve


def test_ds_key_inheriting_the_csca_parameters():
    # RFC 3279 §2.3.5 implicitlyCA: the DS key's curve is the CSCA's (explicit there)
    csca = Signer("ecdsa", hash="sha256", curve="brainpoolP256r1", form="explicit")
    ds = Signer("ecdsa", hash="sha256", curve="brainpoolP256r1", form="implicit")
    pki = make_pki(csca, ds)
    report = _verify(pki, pki.sign_sod(_hashes()))
    assert report.verdict is Verdict.VALID, report.reasons
    sig = report.check(CheckName.SOD_SIGNATURE)
    assert sig.evidence["ds_curve"] == (
        "parameters inherited from the issuer = brainpoolP256r1 (explicit there)"
    )
    assert "TEST CSCA" in str(sig.evidence["ds_curve_parameters_from"])
    # without the CSCA nothing says what the curve is: not checked, never a crash
    alone = _verify(pki, pki.sign_sod(_hashes()), trust=False)
    assert alone.check(CheckName.SOD_SIGNATURE).status is CheckStatus.ERROR
    assert "inherits" in alone.check(CheckName.SOD_SIGNATURE).detail
    assert alone.verdict is Verdict.INDETERMINATE
    assert alone.signer is not None and alone.signer.curve == "parameters inherited from the issuer"


def test_certificate_signed_by_an_explicit_brainpool_csca_key():
    csca = Signer("ecdsa", hash="sha256", curve="brainpoolP320r1", form="explicit")
    pki = make_pki(csca, Signer("rsa"))
    scheme = verify_certificate_signature(pki.ds, pki.csca)
    assert scheme.curve == "explicit parameters = brainpoolP320r1"
    # the self-signed CSCA too
    assert verify_certificate_signature(pki.csca, pki.csca).kind == "ecdsa"
    other = make_pki(Signer("ecdsa", curve="brainpoolP320r1", form="explicit"), Signer("rsa"))
    with pytest.raises(InvalidSignatureError):
        verify_certificate_signature(pki.ds, other.csca)


def test_explicit_parameters_matching_no_named_curve():
    signer = Signer("ecdsa", curve="brainpoolP256r1", form="explicit")
    info = spki(signer)
    domain = info["algorithm"]["parameters"].chosen
    changed = keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": domain["field_id"],
            "curve": domain["curve"],
            "base": domain["base"],
            "order": domain["order"].native,
            "cofactor": 2,  # not brainpoolP256r1's h
        }
    )
    bad = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("specified", changed)},
            "public_key": info["public_key"],
        }
    )
    with pytest.raises(ExplicitCurveParametersError, match="match no named curve"):
        load_public_key(bad)
    assert describe_public_key(bad).curve == "explicit parameters matching no named curve"
    # a base point off the curve: unusable parameters, the same clean refusal
    off = keys.SpecifiedECDomain(
        {
            **{k: domain[k] for k in ("version", "field_id", "curve")},
            "base": b"\x04" + b"\x01" * 64,
            "order": domain["order"].native,
            "cofactor": 1,
        }
    )
    off_key = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("specified", off)},
            "public_key": info["public_key"],
        }
    )
    with pytest.raises(ExplicitCurveParametersError, match="unusable"):
        load_public_key(off_key)


def test_resolve_curve_forms():
    named = Signer("ecdsa", curve="brainpoolP384r1")
    explicit = dataclasses.replace(named, form="explicit")
    implicit = dataclasses.replace(named, form="implicit")
    assert resolve_curve(spki(named)).parameters is CurveParameters.NAMED
    resolved = resolve_curve(spki(explicit))
    assert (resolved.name, resolved.label) == (
        "brainpoolP384r1",
        "explicit parameters = brainpoolP384r1",
    )
    with pytest.raises(UnsupportedAlgorithmError, match="inherits"):
        resolve_curve(spki(implicit))
    inherited = resolve_curve(spki(implicit), issuer=spki(named))
    assert inherited.parameters is CurveParameters.INHERITED and inherited.name == "brainpoolP384r1"
    with pytest.raises(UnsupportedAlgorithmError, match="its issuer's key has none"):
        resolve_curve(spki(implicit), issuer=spki(implicit))
    with pytest.raises(UnsupportedAlgorithmError, match="not an EC key"):
        resolve_curve(spki(Signer("rsa")))


def test_point_off_the_curve_is_refused_not_a_crash():
    signer = Signer("ecdsa", curve="brainpoolP224r1", form="explicit")
    info = spki(signer)
    point = bytearray(info["public_key"].native)
    point[-1] ^= 1
    bad = keys.PublicKeyInfo({"algorithm": info["algorithm"], "public_key": bytes(point)})
    key = load_public_key(bad)
    assert isinstance(key, EcPublicKey)
    algorithm = x509.SignedDigestAlgorithm(signer.algorithm)
    with pytest.raises(UnsupportedAlgorithmError, match="unusable EC public key"):
        verify_signature(bad, algorithm, b"x", signer.sign(b"x"))


def test_signature_under_the_wrong_key_type():
    ec_signer = Signer("ecdsa", curve="brainpoolP256r1")
    rsa_signer = Signer("rsa")
    with pytest.raises(InvalidSignatureError, match="under an RSA key"):
        verify_signature(
            spki(rsa_signer), x509.SignedDigestAlgorithm(ec_signer.algorithm), b"x", b"\x30\x00"
        )
    with pytest.raises(InvalidSignatureError, match="under an EC key"):
        verify_signature(
            spki(ec_signer), x509.SignedDigestAlgorithm(rsa_signer.algorithm), b"x", b"\x00"
        )


def test_malformed_ecdsa_signature_on_the_generic_path():
    signer = Signer("ecdsa", curve="brainpoolP320r1")
    algorithm = x509.SignedDigestAlgorithm(signer.algorithm)
    with pytest.raises(InvalidSignatureError):
        verify_signature(spki(signer), algorithm, b"x", b"\x30\x03\x02\x01")
    n = epass_ec.NAMED_CURVES["brainpoolP320r1"].parameters.n
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    with pytest.raises(InvalidSignatureError, match="out of range"):
        verify_signature(spki(signer), algorithm, b"x", encode_dss_signature(n, 1))


def test_sign_ecdsa_for_tests_is_checked():
    curve = epass_ec.NAMED_CURVES["brainpoolP224r1"].curve
    n = curve.parameters.n
    with pytest.raises(ValueError, match="\\[1, n-1\\]"):
        curve.sign_ecdsa(0, b"\x00" * 28, 5)
    with pytest.raises(ValueError, match="\\[1, n-1\\]"):
        curve.sign_ecdsa(5, b"\x00" * 28, n)
    r, s = curve.sign_ecdsa(7, b"\x01" * 28, 11)
    curve.verify_ecdsa(curve.multiply(7), b"\x01" * 28, r, s)
    with pytest.raises(InvalidSignatureError):
        curve.verify_ecdsa(curve.multiply(8), b"\x01" * 28, r, s)


def test_remembered_certificate_signatures_are_keyed_by_every_byte():
    pki = make_pki(Signer("ecdsa", curve="brainpoolP256r1", form="explicit"), Signer("rsa"))
    other = make_pki(Signer("ecdsa", curve="brainpoolP256r1", form="explicit"), Signer("rsa"))
    for _ in range(2):  # a failure is never remembered
        with pytest.raises(InvalidSignatureError):
            verify_certificate_signature(pki.ds, other.csca)
    assert verify_certificate_signature(pki.ds, pki.csca).kind == "ecdsa"
    assert verify_certificate_signature(pki.ds, pki.csca).kind == "ecdsa"  # remembered
    with pytest.raises(InvalidSignatureError):
        verify_certificate_signature(pki.ds, other.csca)
    tampered = x509.Certificate.load(pki.ds.dump())
    raw = bytearray(tampered.dump())
    raw[-5] ^= 1  # inside the signature value
    with pytest.raises(InvalidSignatureError):
        verify_certificate_signature(x509.Certificate.load(bytes(raw)), pki.csca)
