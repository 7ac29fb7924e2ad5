"""Elliptic curves: domain parameters, points, ECDH and ECDSA — the one door to EC arithmetic.

The library behind this module is ``fastecdsa`` (Rust core). It was picked by
measurement on this project's machines (``tools/bench.py`` has the numbers in
the closing notes of issue 6/7): against python-ecdsa with gmpy2 it verifies an
ECDSA signature on brainpoolP256r1 in 0.22 ms instead of 0.83 ms and multiplies
an arbitrary point (what PACE does with a mapped generator) in 0.31 ms instead
of 0.69 ms. Nothing outside this module imports it; callers name operations
(:meth:`Curve.multiply`, :meth:`Curve.ecdh`, :meth:`Curve.verify_ecdsa`) and
never see the library's types, so it can be swapped here alone.

What is here, and where it is specified:

* :class:`DomainParameters` — p, a, b, G, n, h of a prime-field curve
  (BSI TR-03111 §2.3, X9.62 ``SpecifiedECDomain``), with
  :meth:`DomainParameters.from_specified` reading asn1crypto's
  ``SpecifiedECDomain`` (explicit parameters in certificates, ICAO 9303-12 §5,
  and in PACEDomainParameterInfo, 9303-11 §9.2.2).
* :data:`NAMED_CURVES` — the NIST and brainpool r1 curves 9303-11 §9.5.1 and
  9303-12 §5 allow, with their OIDs; :func:`match_named_curve` maps explicit
  parameters to one by comparing p, a, b, G, n and h.
* :class:`Curve` — point decoding (SEC 1 §2.3.3/§2.3.4, TR-03111 §3.2.1:
  uncompressed ``04 || X || Y`` and compressed ``02/03 || X``) that always
  checks the point is on the curve, is not the identity and lies in the
  order-n subgroup; scalar multiplication and addition; ECDH's shared secret
  (TR-03111 §4.3.1: the x-coordinate); ECDSA verification (TR-03111 §4.2.1.2,
  FIPS 186-5 §6.4.2) on a digest computed by the caller.

Errors: a bad point raises :class:`~epass.errors.InvalidPointError`; a
signature that does not verify raises
:class:`~epass.errors.InvalidSignatureError`; parameters that are not a
prime-field curve raise :class:`~epass.errors.UnsupportedAlgorithmError`.
Nothing returns a boolean a caller could forget to check.

Side channels: the terminal's ephemeral PACE keys are multiplied here. The
library's scalar multiplication is not claimed constant-time; an inspection
system's ephemeral keys live for one session, which is the accepted risk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import fastecdsa.curve as _fcurve
from fastecdsa.rust import Curve as _FCurve
from fastecdsa.rust import Point as _FPoint

from epass.errors import (
    BUILTIN_PARSE_ERRORS,
    InvalidPointError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "NAMED_CURVES",
    "Curve",
    "DomainParameters",
    "EcPoint",
    "NamedCurve",
    "curve_by_name",
    "curve_by_oid",
    "match_named_curve",
    "sqrt_mod",
]


@dataclass(frozen=True)
class DomainParameters:
    """Prime-field curve y² = x³ + a·x + b over GF(p), base point G = (gx, gy) of order n.

    :ivar h: the cofactor (1 for every curve ICAO allows; kept for explicit parameters).
    """

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int = 1

    @property
    def field_size(self) -> int:
        """Bytes of a field element (and of each coordinate in an encoded point)."""
        return (self.p.bit_length() + 7) // 8

    @property
    def order_size(self) -> int:
        """Bytes of a scalar modulo n (and of each half of a plain ECDSA signature)."""
        return (self.n.bit_length() + 7) // 8

    @property
    def bits(self) -> int:
        """Bit length of the order n (what "a 256-bit curve" means)."""
        return self.n.bit_length()

    def problem(self) -> str | None:
        """Why these are not usable domain parameters, or ``None`` when they are.

        Checks what can be checked cheaply: p odd and > 3, a, b, G coordinates
        in the field, G on the curve, n > 1, h ≥ 1, and a non-singular curve
        (4a³ + 27b² ≠ 0 mod p). Primality of p and n is not tested: explicit
        parameters are only ever *used* after :func:`match_named_curve` or for
        a PACE session whose result is bound by other checks.
        """
        p = self.p
        if p <= 3 or p % 2 == 0:
            return "the field prime p is not an odd number greater than 3"
        if not all(0 <= v < p for v in (self.a, self.b, self.gx, self.gy)):
            return "a, b or a base point coordinate is not a field element"
        if self.n <= 1 or self.h < 1:
            return "the order n or the cofactor h is out of range"
        if (4 * pow(self.a, 3, p) + 27 * pow(self.b, 2, p)) % p == 0:
            return "the curve is singular"
        if (self.gy * self.gy - (pow(self.gx, 3, p) + self.a * self.gx + self.b)) % p:
            return "the base point is not on the curve"
        return None

    @classmethod
    def from_specified(cls, specified: Any) -> DomainParameters:
        """Read an asn1crypto ``keys.SpecifiedECDomain`` (X9.62 ECParameters, explicit form).

        :raises UnsupportedAlgorithmError: for a characteristic-two field, a
            base point that is not an uncompressed point, or malformed fields.
        """
        try:
            field_id = specified["field_id"]
            if field_id["field_type"].native != "prime_field":
                raise UnsupportedAlgorithmError(
                    f"EC field type {field_id['field_type'].native} is not supported "
                    "(only prime fields are used in Doc 9303)"
                )
            p = int(field_id["parameters"].native)
            curve = specified["curve"]
            size = (p.bit_length() + 7) // 8
            a = int.from_bytes(curve["a"].native, "big")
            b = int.from_bytes(curve["b"].native, "big")
            base = bytes(specified["base"].native)
            n = int(specified["order"].native)
            cofactor = specified["cofactor"].native
            h = 1 if cofactor is None else int(cofactor)
        except UnsupportedAlgorithmError:
            raise
        except BUILTIN_PARSE_ERRORS as exc:
            raise UnsupportedAlgorithmError(f"malformed explicit EC parameters: {exc}") from exc
        gx, gy = _split_point(base, size, compressed_ok=False, what="the base point")
        if gx is None or gy is None:
            raise UnsupportedAlgorithmError("explicit EC parameters: the base point is compressed")
        return cls(p=p, a=a, b=b, gx=gx, gy=gy, n=n, h=h)


def _split_point(
    data: bytes, size: int, *, compressed_ok: bool, what: str
) -> tuple[int | None, int | None]:
    """(x, y) of an uncompressed point, (x, None) of a compressed one (SEC 1 §2.3.3)."""
    if len(data) == 1 + 2 * size and data[0] == 0x04:
        return int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big")
    if compressed_ok and len(data) == 1 + size and data[0] in (0x02, 0x03):
        return int.from_bytes(data[1:], "big"), None
    raise UnsupportedAlgorithmError(
        f"{what} is not an encoded point of this curve "
        f"({len(data)} bytes, first byte {data[:1].hex() or 'none'})"
    )


def sqrt_mod(value: int, p: int) -> int | None:
    """A square root of *value* modulo the odd prime *p*, or ``None`` when there is none.

    p ≡ 3 (mod 4) (every brainpool curve, P-256, P-384, P-521) takes one
    exponentiation; other primes (P-224) use Tonelli–Shanks. Used to decompress
    points (SEC 1 §2.3.4) and by PACE's integrated mapping (9303-11 §4.4.3.3.2).
    """
    value %= p
    if value == 0:
        return 0
    if pow(value, (p - 1) // 2, p) != 1:
        return None
    if p % 4 == 3:
        return pow(value, (p + 1) // 4, p)
    # Tonelli–Shanks: p - 1 = q · 2^s with q odd.
    q, s = p - 1, 0
    while q % 2 == 0:
        q //= 2
        s += 1
    z = 2
    while pow(z, (p - 1) // 2, p) != p - 1:
        z += 1
    m, c, t, r = s, pow(z, q, p), pow(value, q, p), pow(value, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2 = t2 * t2 % p
            i += 1
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


@dataclass(frozen=True)
class EcPoint:
    """An affine point (x, y) that is on its curve, not the identity, and in the order-n subgroup.

    Only :class:`Curve` makes these, after checking; the coordinates are plain ints.
    """

    x: int
    y: int
    curve: Curve = field(repr=False, compare=False)

    def encode(self, *, compressed: bool = False) -> bytes:
        """SEC 1 §2.3.3 octet string: ``04 || X || Y``, or ``02/03 || X`` when *compressed*."""
        size = self.curve.parameters.field_size
        if compressed:
            return bytes([0x02 | (self.y & 1)]) + self.x.to_bytes(size, "big")
        return b"\x04" + self.x.to_bytes(size, "big") + self.y.to_bytes(size, "big")


class Curve:
    """One prime-field curve: named (:data:`NAMED_CURVES`) or from explicit parameters.

    :param parameters: the domain parameters.
    :param name: the standard name when known (``"brainpoolP256r1"``).
    :param oid: its dotted OID when named.
    :raises UnsupportedAlgorithmError: when the parameters are not a usable curve.
    """

    def __init__(
        self, parameters: DomainParameters, *, name: str | None = None, oid: str | None = None
    ) -> None:
        problem = parameters.problem()
        if problem is not None:
            raise UnsupportedAlgorithmError(f"unusable EC domain parameters: {problem}")
        self.parameters = parameters
        self.name = name
        self.oid = oid

    def __repr__(self) -> str:
        return f"Curve({self.name or f'explicit {self.parameters.bits}-bit'})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Curve) and other.parameters == self.parameters

    def __hash__(self) -> int:
        return hash(self.parameters)

    @cached_property
    def _backend(self) -> Any:
        named = _BACKEND_CURVES.get(self.name or "")
        if named is not None and self.parameters == _NAMED_PARAMETERS.get(self.name or ""):
            return named
        prm = self.parameters
        return _FCurve(self.name or "explicit", prm.p, prm.a, prm.b, prm.n, prm.gx, prm.gy)

    @property
    def generator(self) -> EcPoint:
        """The base point G."""
        return EcPoint(self.parameters.gx, self.parameters.gy, self)

    # --- points ----------------------------------------------------------------------------

    def point(self, x: int, y: int) -> EcPoint:
        """The point (x, y), checked.

        :raises InvalidPointError: when it is not on the curve, or not in the
            order-n subgroup (checked only for a cofactor other than 1).
        """
        prm = self.parameters
        if not (0 <= x < prm.p and 0 <= y < prm.p):
            raise InvalidPointError("a point coordinate is not a field element")
        if (y * y - (pow(x, 3, prm.p) + prm.a * x + prm.b)) % prm.p:
            raise InvalidPointError("the point is not on the curve")
        candidate = EcPoint(x, y, self)
        if prm.h != 1 and not self._is_identity(self._to_backend(candidate) * prm.n):
            raise InvalidPointError("the point is not in the subgroup of order n")
        return candidate

    def decode_point(self, data: bytes) -> EcPoint:
        """Decode an octet-string point (SEC 1 §2.3.4), uncompressed or compressed, and check it.

        The identity (``00``) is refused: no Doc 9303 protocol sends it.

        :raises InvalidPointError: for a wrong length or prefix, the identity,
            an x with no y, or a point off the curve.
        """
        size = self.parameters.field_size
        if data == b"\x00":
            raise InvalidPointError("the point is the identity (point at infinity)")
        try:
            x, y = _split_point(bytes(data), size, compressed_ok=True, what="the point")
        except UnsupportedAlgorithmError as exc:
            raise InvalidPointError(str(exc)) from None
        assert x is not None  # noqa: S101 - _split_point always returns x
        if y is None:
            prm = self.parameters
            root = sqrt_mod(pow(x, 3, prm.p) + prm.a * x + prm.b, prm.p) if x < prm.p else None
            if root is None:
                raise InvalidPointError("the compressed point has no y on the curve")
            y = root if (root & 1) == (data[0] & 1) else prm.p - root
        return self.point(x, y)

    def _to_backend(self, point: EcPoint) -> Any:
        return _FPoint(point.x, point.y, self._backend)

    @staticmethod
    def _is_identity(raw: Any) -> bool:
        return int(raw.z) == 0

    def _from_backend(self, raw: Any, what: str) -> EcPoint:
        if self._is_identity(raw):
            raise InvalidPointError(f"{what} is the identity (point at infinity)")
        raw = raw.normalize() if int(raw.z) != 1 else raw
        return EcPoint(int(raw.x), int(raw.y), self)

    def _check_own(self, point: EcPoint) -> None:
        if point.curve != self:
            raise InvalidPointError("the point belongs to another curve")

    def multiply(self, scalar: int, point: EcPoint | None = None) -> EcPoint:
        """scalar · point (scalar · G when *point* is omitted).

        :raises InvalidPointError: when the result is the identity (a scalar
            that is 0 modulo n, or a point of small order).
        """
        base = self.generator if point is None else point
        self._check_own(base)
        k = scalar % self.parameters.n
        if k == 0:
            raise InvalidPointError("the scalar is 0 modulo the group order")
        return self._from_backend(self._to_backend(base) * k, "the product")

    def add(self, first: EcPoint, second: EcPoint) -> EcPoint:
        """first + second.

        :raises InvalidPointError: when the sum is the identity.
        """
        self._check_own(first)
        self._check_own(second)
        return self._from_backend(self._to_backend(first) + self._to_backend(second), "the sum")

    def ecdh(self, private_key: int, peer: EcPoint) -> bytes:
        """ECDH shared secret: the x-coordinate of private_key · peer, field-size bytes.

        BSI TR-03111 §4.3.1 (ECKA-DH; ICAO 9303-11 §9.6 uses its x-coordinate).

        :raises InvalidPointError: when the product is the identity.
        """
        shared = self.multiply(private_key, peer)
        return shared.x.to_bytes(self.parameters.field_size, "big")

    # --- ECDSA -----------------------------------------------------------------------------

    def sign_ecdsa(self, private_key: int, digest: bytes, k: int) -> tuple[int, int]:
        """ECDSA signature (r, s) on a message *digest* with nonce *k* — FOR TEST PKIs ONLY.

        TR-03111 §4.2.1.1 / FIPS 186-5 §6.4.1 with the digest truncated as in
        :meth:`verify_ecdsa`. It exists so tests can build signers on curves
        cryptography lacks (brainpoolP224r1, brainpoolP320r1); the caller picks
        *k*, nothing here is constant-time, and no epass code path signs.

        :raises ValueError: if *private_key* or *k* is not in [1, n-1], or r or s is 0.
        """
        n = self.parameters.n
        if not (0 < private_key < n and 0 < k < n):
            raise ValueError("private key and nonce must be in [1, n-1]")
        z = int.from_bytes(digest, "big")
        z >>= max(len(digest) * 8 - n.bit_length(), 0)
        r = self.multiply(k).x % n
        s = pow(k, -1, n) * (z + r * private_key) % n
        if r == 0 or s == 0:
            raise ValueError("degenerate nonce: pick another k")
        return r, s

    def verify_ecdsa(self, public_key: EcPoint, digest: bytes, r: int, s: int) -> None:
        """Verify an ECDSA signature (r, s) on a message *digest* under *public_key*.

        The digest is truncated to the bit length of n as FIPS 186-5 §6.4.2 and
        TR-03111 §4.2.1.2 say.

        :raises InvalidSignatureError: when r or s is outside [1, n-1] or the
            signature does not verify.
        """
        self._check_own(public_key)
        n = self.parameters.n
        if not (0 < r < n and 0 < s < n):
            raise InvalidSignatureError("ECDSA signature value r or s is out of range")
        z = int.from_bytes(digest, "big")
        z >>= max(len(digest) * 8 - n.bit_length(), 0)
        size = self.parameters.order_size
        try:
            ok = self._backend.verify(
                r.to_bytes(size, "little"),
                s.to_bytes(size, "little"),
                z.to_bytes(size, "little"),
                public_key.x.to_bytes(self.parameters.field_size, "little"),
                public_key.y.to_bytes(self.parameters.field_size, "little"),
            )
        except (ValueError, OverflowError) as exc:
            raise InvalidSignatureError(f"ECDSA verification failed: {exc}") from exc
        if not ok:
            raise InvalidSignatureError("ECDSA signature does not verify")


@dataclass(frozen=True)
class NamedCurve:
    """A standard curve: name, dotted OID and parameters (9303-11 §9.5.1, 9303-12 §5)."""

    name: str
    oid: str
    parameters: DomainParameters

    @cached_property
    def curve(self) -> Curve:
        """The :class:`Curve` for arithmetic."""
        return Curve(self.parameters, name=self.name, oid=self.oid)


#: (standard name, dotted OID, the library's curve object).
_SOURCES: tuple[tuple[str, str, Any], ...] = (
    ("secp192r1", "1.2.840.10045.3.1.1", _fcurve.P192),
    ("secp224r1", "1.3.132.0.33", _fcurve.P224),
    ("secp256r1", "1.2.840.10045.3.1.7", _fcurve.P256),
    ("secp384r1", "1.3.132.0.34", _fcurve.P384),
    ("secp521r1", "1.3.132.0.35", _fcurve.P521),
    ("brainpoolP160r1", "1.3.36.3.3.2.8.1.1.1", _fcurve.brainpoolP160r1),
    ("brainpoolP192r1", "1.3.36.3.3.2.8.1.1.3", _fcurve.brainpoolP192r1),
    ("brainpoolP224r1", "1.3.36.3.3.2.8.1.1.5", _fcurve.brainpoolP224r1),
    ("brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", _fcurve.brainpoolP256r1),
    ("brainpoolP320r1", "1.3.36.3.3.2.8.1.1.9", _fcurve.brainpoolP320r1),
    ("brainpoolP384r1", "1.3.36.3.3.2.8.1.1.11", _fcurve.brainpoolP384r1),
    ("brainpoolP512r1", "1.3.36.3.3.2.8.1.1.13", _fcurve.brainpoolP512r1),
)

_BACKEND_CURVES: Mapping[str, Any] = MappingProxyType({name: c for name, _, c in _SOURCES})
_NAMED_PARAMETERS: Mapping[str, DomainParameters] = MappingProxyType(
    {
        name: DomainParameters(
            p=int(c.p), a=int(c.a), b=int(c.b), gx=int(c.G.x), gy=int(c.G.y), n=int(c.q), h=1
        )
        for name, _, c in _SOURCES
    }
)

#: Every named curve, keyed by standard name (``secp256r1``, ``brainpoolP320r1``, ...).
NAMED_CURVES: Mapping[str, NamedCurve] = MappingProxyType(
    {name: NamedCurve(name, oid, _NAMED_PARAMETERS[name]) for name, oid, _ in _SOURCES}
)
_BY_OID: Mapping[str, NamedCurve] = MappingProxyType({c.oid: c for c in NAMED_CURVES.values()})
_BY_PARAMETERS: Mapping[DomainParameters, NamedCurve] = MappingProxyType(
    {c.parameters: c for c in NAMED_CURVES.values()}
)


def curve_by_name(name: str) -> NamedCurve | None:
    """The named curve called *name* (``"brainpoolP256r1"``), or ``None``."""
    return NAMED_CURVES.get(name)


def curve_by_oid(oid: str) -> NamedCurve | None:
    """The named curve with dotted OID *oid*, or ``None``."""
    return _BY_OID.get(oid)


def match_named_curve(parameters: DomainParameters) -> NamedCurve | None:
    """The named curve whose p, a, b, G, n and h all equal *parameters*, or ``None``.

    This is how explicit parameters (9303-12 §5 allows and many CSCAs use them)
    are recognised; a report shows the mapping as its evidence.
    """
    return _BY_PARAMETERS.get(parameters)
