"""epass._crypto.ec: named curves, explicit-parameter matching, point checks, ECDH and ECDSA.

Cross-checked against ``cryptography`` on the curves it implements (NIST P-curves and
brainpoolP256r1/384r1/512r1): the same key pair gives the same ECDH secret and a signature
made by cryptography verifies here. Curve parameters are those of SEC 2 v2 and RFC 5639
(the brainpool curves), as carried by the backend; their OIDs are those of RFC 5639 §4.1
and SEC 2 §A.2.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from epass._crypto.ec import (
    NAMED_CURVES,
    Curve,
    DomainParameters,
    curve_by_name,
    curve_by_oid,
    match_named_curve,
    sqrt_mod,
)
from epass.errors import InvalidPointError, InvalidSignatureError, UnsupportedAlgorithmError

CRYPTOGRAPHY_CURVES: dict[str, type[cec.EllipticCurve]] = {
    "secp224r1": cec.SECP224R1,
    "secp256r1": cec.SECP256R1,
    "secp384r1": cec.SECP384R1,
    "secp521r1": cec.SECP521R1,
    "brainpoolP256r1": cec.BrainpoolP256R1,
    "brainpoolP384r1": cec.BrainpoolP384R1,
    "brainpoolP512r1": cec.BrainpoolP512R1,
}


def _curve(name: str) -> cec.EllipticCurve:
    return CRYPTOGRAPHY_CURVES[name]()


def test_every_curve_icao_lists_is_named_with_its_oid():
    # 9303-11 §9.5.1 (PACE ids 8-18) and 9303-12 §5.
    expected = {
        "secp192r1": (192, "1.2.840.10045.3.1.1"),
        "secp224r1": (224, "1.3.132.0.33"),
        "secp256r1": (256, "1.2.840.10045.3.1.7"),
        "secp384r1": (384, "1.3.132.0.34"),
        "secp521r1": (521, "1.3.132.0.35"),
        "brainpoolP160r1": (160, "1.3.36.3.3.2.8.1.1.1"),
        "brainpoolP192r1": (192, "1.3.36.3.3.2.8.1.1.3"),
        "brainpoolP224r1": (224, "1.3.36.3.3.2.8.1.1.5"),
        "brainpoolP256r1": (256, "1.3.36.3.3.2.8.1.1.7"),
        "brainpoolP320r1": (320, "1.3.36.3.3.2.8.1.1.9"),
        "brainpoolP384r1": (384, "1.3.36.3.3.2.8.1.1.11"),
        "brainpoolP512r1": (512, "1.3.36.3.3.2.8.1.1.13"),
    }
    assert {n: (c.parameters.bits, c.oid) for n, c in NAMED_CURVES.items()} == expected
    for name, (_, oid) in expected.items():
        assert curve_by_oid(oid) is NAMED_CURVES[name]
        assert curve_by_name(name) is NAMED_CURVES[name]
        assert NAMED_CURVES[name].parameters.problem() is None


def test_brainpoolp320r1_prime_from_rfc5639():
    # RFC 5639 §3.5: p of brainpoolP320r1.
    p = int("D35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28FCD412B1F1B32E27", 16)
    assert NAMED_CURVES["brainpoolP320r1"].parameters.p == p


def test_explicit_parameters_map_to_the_named_curve_only_when_all_fields_match():
    named = NAMED_CURVES["brainpoolP256r1"]
    prm = named.parameters
    same = DomainParameters(prm.p, prm.a, prm.b, prm.gx, prm.gy, prm.n, prm.h)
    assert match_named_curve(same) is named
    for change in ("a", "b", "n", "h"):
        fields = {k: getattr(prm, k) for k in ("p", "a", "b", "gx", "gy", "n", "h")}
        fields[change] += 1
        assert match_named_curve(DomainParameters(**fields)) is None
    # Another point of the same curve as the base point is another curve definition.
    other = named.curve.multiply(2)
    assert match_named_curve(DomainParameters(prm.p, prm.a, prm.b, other.x, other.y, prm.n)) is None


def test_unusable_parameters_are_refused():
    prm = NAMED_CURVES["secp256r1"].parameters
    with pytest.raises(UnsupportedAlgorithmError, match="singular"):
        Curve(DomainParameters(prm.p, 0, 0, 0, 0, prm.n))
    with pytest.raises(UnsupportedAlgorithmError, match="base point"):
        Curve(DomainParameters(prm.p, prm.a, prm.b, prm.gx, prm.gy + 1, prm.n))
    with pytest.raises(UnsupportedAlgorithmError, match="odd"):
        Curve(DomainParameters(4, 1, 1, 0, 1, 5))


@pytest.mark.parametrize("name", sorted(CRYPTOGRAPHY_CURVES))
def test_ecdh_and_points_agree_with_cryptography(name):
    curve = NAMED_CURVES[name].curve
    ours = cec.generate_private_key(_curve(name))
    theirs = cec.generate_private_key(_curve(name))
    their_point = theirs.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    compressed = theirs.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    peer = curve.decode_point(their_point)
    assert curve.decode_point(compressed) == peer
    assert peer.encode() == their_point
    assert peer.encode(compressed=True) == compressed
    d = ours.private_numbers().private_value
    assert curve.ecdh(d, peer) == ours.exchange(cec.ECDH(), theirs.public_key())
    assert curve.multiply(d).encode() == ours.public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint
    )


@pytest.mark.parametrize("name", sorted(CRYPTOGRAPHY_CURVES))
def test_ecdsa_signature_from_cryptography_verifies_and_a_changed_one_does_not(name):
    curve = NAMED_CURVES[name].curve
    key = cec.generate_private_key(_curve(name))
    message = b"LDSSecurityObject"
    r, s = decode_dss_signature(key.sign(message, cec.ECDSA(hashes.SHA512())))
    public = curve.decode_point(
        key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    digest = hashlib.sha512(message).digest()  # longer than n for every curve but P-521
    curve.verify_ecdsa(public, digest, r, s)
    with pytest.raises(InvalidSignatureError):
        curve.verify_ecdsa(public, digest, r, s ^ 1)
    with pytest.raises(InvalidSignatureError):
        curve.verify_ecdsa(public, hashlib.sha512(b"other").digest(), r, s)
    with pytest.raises(InvalidSignatureError, match="range"):
        curve.verify_ecdsa(public, digest, 0, s)
    with pytest.raises(InvalidSignatureError, match="range"):
        curve.verify_ecdsa(public, digest, r, curve.parameters.n)


def test_bad_points_are_refused_before_use():
    curve = NAMED_CURVES["brainpoolP320r1"].curve
    g = curve.generator
    size = curve.parameters.field_size
    with pytest.raises(InvalidPointError, match="not on the curve"):
        curve.decode_point(b"\x04" + g.x.to_bytes(size, "big") + (g.y + 1).to_bytes(size, "big"))
    with pytest.raises(InvalidPointError, match="identity"):
        curve.decode_point(b"\x00")
    with pytest.raises(InvalidPointError):
        curve.decode_point(g.encode()[:-1])
    with pytest.raises(InvalidPointError):
        curve.decode_point(b"\x05" + g.encode()[1:])
    with pytest.raises(InvalidPointError, match="field element"):
        curve.point(curve.parameters.p, 0)
    with pytest.raises(InvalidPointError, match="identity"):
        curve.add(g, curve.point(g.x, curve.parameters.p - g.y))
    with pytest.raises(InvalidPointError, match="order"):
        curve.multiply(curve.parameters.n, g)
    with pytest.raises(InvalidPointError, match="another curve"):
        curve.multiply(2, NAMED_CURVES["brainpoolP256r1"].curve.generator)


def test_curves_cryptography_lacks_do_arithmetic_consistently():
    for name in ("brainpoolP160r1", "brainpoolP192r1", "brainpoolP224r1", "brainpoolP320r1"):
        curve = NAMED_CURVES[name].curve
        a, b = 123456789, 987654321
        pa, pb = curve.multiply(a), curve.multiply(b)
        assert curve.ecdh(a, pb) == curve.ecdh(b, pa)
        assert curve.add(pa, pb) == curve.multiply(a + b)
        assert curve.decode_point(pa.encode(compressed=True)) == pa


def test_sqrt_mod_for_both_prime_shapes():
    for name in ("secp224r1", "brainpoolP256r1"):  # p = 1 mod 4 and p = 3 mod 4
        p = NAMED_CURVES[name].parameters.p
        for value in (2, 3, 5, 10**20 + 39):
            root = sqrt_mod(value * value, p)
            assert root is not None and root * root % p == value * value % p
    assert sqrt_mod(0, 23) == 0
    assert sqrt_mod(5, 23) is None  # 5 is not a square modulo 23
