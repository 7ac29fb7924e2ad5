"""PACE domain parameters: one interface over EC and finite-field DH groups (9303-11 §4.4, §9.5).

PACE runs the same steps in either kind of group; :class:`PaceGroup` names the
operations the protocol needs so that :mod:`epass.access.pace` is written once
for both, and the terminal and the chip share it:

==========================  =================================  ===========================
operation                   ECDH (elements: :class:`EcPoint`)  DH (elements: ints mod p)
==========================  =================================  ===========================
:meth:`~PaceGroup.multiply`  k · P                              b^k mod p
:meth:`~PaceGroup.add`       P + Q                              a · b mod p
:meth:`~PaceGroup.encode`    ``04 || X || Y`` (SEC 1 §2.3.3)    y as len(p) bytes
:meth:`~PaceGroup.decode`    on curve, not identity, subgroup   1 < y < p-1, y^q = 1
:meth:`~PaceGroup.shared_secret`  x-coordinate of k · P        peer^k as len(p) bytes
:meth:`~PaceGroup.map_integrated` point encoding f_G (App. B)  x^((p-1)/q) mod p
==========================  =================================  ===========================

Domain parameters come from a standardized id (9303-11 §9.5.1, Table of
standardized domain parameters: 0-2 the RFC 5114 MODP groups, 8 secp192r1,
9 brainpoolP192r1, 10 secp224r1, 11 brainpoolP224r1, 12 secp256r1,
13 brainpoolP256r1, 14 brainpoolP320r1, 15 secp384r1, 16 brainpoolP384r1,
17 brainpoolP512r1, 18 secp521r1; 3-7 and 19-31 reserved) or explicitly from a
PACEDomainParameterInfo (§9.2.2) via :func:`group_from_algorithm`.

Explicit parameters are used only when they are a known group: a named curve
of at least :data:`MIN_EC_BITS` bits (by OID, or every field equal to one), or
one of the RFC 5114 groups. EF.CardAccess is read in plain and is not signed,
so whoever answers in the chip's place chooses them; in a group of its making
(composite or smooth order, an anomalous curve) the discrete logarithms of the
terminal's PACE keys are easy, and the terminal's messages would then allow an
offline dictionary attack on the password (a 6-digit CAN in seconds).
Checking arbitrary parameters for such weaknesses is not attempted.

Errors: an invalid public element raises :class:`~epass.errors.InvalidPointError`
(before it is used); unusable or unknown parameters raise
:class:`~epass.errors.UnsupportedAlgorithmError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

from epass._crypto.dh import RFC5114_GROUPS, DhGroup
from epass._crypto.ec import NAMED_CURVES as _NAMED_CURVES
from epass._crypto.ec import Curve, DomainParameters, EcPoint, curve_by_oid, match_named_curve
from epass.errors import BUILTIN_PARSE_ERRORS, InvalidPointError, UnsupportedAlgorithmError

__all__ = [
    "MIN_EC_BITS",
    "STANDARDIZED_CURVES",
    "DhPaceGroup",
    "EcPaceGroup",
    "PaceGroup",
    "Rng",
    "group_from_algorithm",
    "standardized_group",
]

E = TypeVar("E")
Rng = Callable[[int], bytes]

#: Standardized ECDH domain parameter ids and their curves (9303-11 §9.5.1).
STANDARDIZED_CURVES: dict[int, str] = {
    8: "secp192r1",
    9: "brainpoolP192r1",
    10: "secp224r1",
    11: "brainpoolP224r1",
    12: "secp256r1",
    13: "brainpoolP256r1",
    14: "brainpoolP320r1",
    15: "secp384r1",
    16: "brainpoolP384r1",
    17: "brainpoolP512r1",
    18: "secp521r1",
}

#: Most draws of an ephemeral private key before giving up. The rule (a draw of as many
#: bytes as the order, kept only when in [1, n-1]) needs about 2**(8L - bits(n)) draws:
#: ~1 for most curves but ~128 for P-521 (66 bytes against a 521-bit order); 4096 makes a
#: fair rng fail with probability about e**-32 there.
MAX_KEY_DRAWS = 4096
#: The smallest curve used from explicit parameters: secp192r1/brainpoolP192r1, the
#: smallest standardized PACE curves (9303-11 §9.5.1); brainpoolP160r1 is not used.
MIN_EC_BITS = 192


class PaceGroup(ABC, Generic[E]):
    """The group PACE computes in (static domain parameters D_IC, 9303-11 §4.4.1).

    :ivar kind: ``"ECDH"`` or ``"DH"``.
    :ivar name: the curve or group name (``"brainpoolP256r1"``).
    :ivar parameter_id: the standardized id, or ``None`` for explicit parameters.
    """

    kind: str
    name: str
    parameter_id: int | None
    #: Tag of the public key in the public key data object 7F49 (9303-11 §9.4.2 /
    #: TR-03110-3 D.3: ``86`` EC public point, ``84`` DH public value).
    public_key_tag: int

    @property
    @abstractmethod
    def order(self) -> int:
        """The prime order of the generator (n for EC, q for DH)."""

    @property
    def order_size(self) -> int:
        """Bytes of the order: the length L of each rng draw for a private key."""
        return (self.order.bit_length() + 7) // 8

    @property
    @abstractmethod
    def prime(self) -> int:
        """The field prime p (the modulus of the pseudo-random function R_p, §4.4.3.3.2)."""

    @property
    @abstractmethod
    def bits(self) -> int:
        """Size in bits: the order's for EC (256 for P-256), the modulus' for DH (2048)."""

    @property
    @abstractmethod
    def generator(self) -> E:
        """The static generator G of the domain parameters."""

    @abstractmethod
    def multiply(self, scalar: int, base: E | None = None) -> E:
        """scalar · base (EC) or base^scalar (DH); base defaults to :attr:`generator`.

        :raises InvalidPointError: when the result is the identity.
        """

    @abstractmethod
    def add(self, first: E, second: E) -> E:
        """The group operation: P + Q (EC) or a · b mod p (DH).

        :raises InvalidPointError: when the result is the identity.
        """

    @abstractmethod
    def encode(self, element: E) -> bytes:
        """The public key encoding sent in GENERAL AUTHENTICATE and in 7F49."""

    @abstractmethod
    def decode(self, data: bytes) -> E:
        """Decode and fully validate a peer's public element.

        :raises InvalidPointError: malformed, off the curve / outside the
            subgroup, or the identity.
        """

    @abstractmethod
    def shared_secret(self, private_key: int, peer: E) -> bytes:
        """KA(private_key, peer): x-coordinate (EC) or the full value (DH), 9303-11 §9.6."""

    @abstractmethod
    def map_integrated(self, value: int) -> E:
        """The integrated mapping's function from R_p(s, t) to a generator (§4.4.3.3.2).

        :raises UnsupportedAlgorithmError: for a curve the point encoding does
            not support (p ≢ 3 mod 4).
        :raises InvalidPointError: when the result is the identity (or 1).
        """

    @property
    def integrated_mapping_problem(self) -> str | None:
        """Why the integrated mapping is not defined in this group, or ``None`` (§4.4.3.3.2)."""
        return None

    def generate_private_key(self, rng: Rng) -> int:
        """A private key in [1, order-1]: ``int.from_bytes(rng(L), "big")`` with L =
        :attr:`order_size`, drawn again while out of range (the issue's rng rule).

        :raises LocalProtocolError: if *rng* gives :data:`MAX_KEY_DRAWS` values out of range.
        """
        from epass.errors import LocalProtocolError

        size = self.order_size
        for _ in range(MAX_KEY_DRAWS):
            raw = rng(size)
            if len(raw) != size:
                raise LocalProtocolError(f"rng returned {len(raw)} bytes, asked for {size}")
            key = int.from_bytes(raw, "big")
            if 1 <= key < self.order:
                return key
        raise LocalProtocolError("rng gave no private key in [1, order-1]")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class EcPaceGroup(PaceGroup[EcPoint]):
    """An elliptic-curve group (ECDH), through :class:`epass._crypto.ec.Curve`."""

    kind = "ECDH"
    public_key_tag = 0x86

    def __init__(self, curve: Curve, *, parameter_id: int | None = None) -> None:
        self.curve = curve
        self.name = curve.name or f"explicit {curve.parameters.bits}-bit curve"
        self.parameter_id = parameter_id

    @property
    def order(self) -> int:
        return self.curve.parameters.n

    @property
    def prime(self) -> int:
        return self.curve.parameters.p

    @property
    def bits(self) -> int:
        return self.curve.parameters.bits

    @property
    def generator(self) -> EcPoint:
        return self.curve.generator

    def multiply(self, scalar: int, base: EcPoint | None = None) -> EcPoint:
        return self.curve.multiply(scalar, base)

    def add(self, first: EcPoint, second: EcPoint) -> EcPoint:
        return self.curve.add(first, second)

    def encode(self, element: EcPoint) -> bytes:
        return element.encode()

    def decode(self, data: bytes) -> EcPoint:
        return self.curve.decode_point(bytes(data))

    def shared_secret(self, private_key: int, peer: EcPoint) -> bytes:
        return self.curve.ecdh(private_key, peer)

    @property
    def integrated_mapping_problem(self) -> str | None:
        """The point encoding f_G of 9303-11 Appendix B needs p ≡ 3 (mod 4) (not secp224r1)."""
        if self.curve.parameters.p % 4 == 3:
            return None
        return (
            f"the integrated mapping's point encoding (9303-11 App. B) needs p ≡ 3 (mod 4); "
            f"{self.name} does not have it"
        )

    def map_integrated(self, value: int) -> EcPoint:
        """Point encoding f_G (9303-11 Appendix B, affine coordinates; Brier et al.).

        For p ≡ 3 (mod 4); with t = value::

            α = -t² ; X2 = -b(1 + α + α²) · (a(α + α²))^(p-2) ; X3 = α·X2
            h2 = X2³ + a·X2 + b ; U = t³·h2 ; A = h2^(p - 1 - (p+1)/4)
            (x, y) = (X2, A·h2) if A²·h2 = 1 else (X3, A·U);  result h·(x, y)
        """
        prm = self.curve.parameters
        p, a, b = prm.p, prm.a, prm.b
        problem = self.integrated_mapping_problem
        if problem is not None:
            raise UnsupportedAlgorithmError(problem)
        t = value % p
        alpha = -t * t % p
        alpha_sum = (alpha + alpha * alpha) % p
        denominator = a * alpha_sum % p
        if t == 0 or denominator == 0:
            raise InvalidPointError("the integrated mapping input gives no point")
        x2 = -b * (1 + alpha_sum) * pow(denominator, p - 2, p) % p
        x3 = alpha * x2 % p
        h2 = (pow(x2, 3, p) + a * x2 + b) % p
        u = pow(t, 3, p) * h2 % p
        big_a = pow(h2, p - 1 - (p + 1) // 4, p)
        if big_a * big_a * h2 % p == 1:
            point = self.curve.point(x2, big_a * h2 % p)
        else:
            point = self.curve.point(x3, big_a * u % p)
        return point if prm.h == 1 else self.curve.multiply(prm.h, point)


class DhPaceGroup(PaceGroup[int]):
    """A finite-field group (DH), through :class:`epass._crypto.dh.DhGroup`."""

    kind = "DH"
    public_key_tag = 0x84

    def __init__(self, group: DhGroup, *, parameter_id: int | None = None) -> None:
        self.group = group.check()
        self.name = group.name or f"explicit {group.p.bit_length()}-bit MODP group"
        self.parameter_id = parameter_id

    @property
    def order(self) -> int:
        return self.group.q

    @property
    def prime(self) -> int:
        return self.group.p

    @property
    def bits(self) -> int:
        return self.group.p.bit_length()

    @property
    def generator(self) -> int:
        return self.group.g

    def multiply(self, scalar: int, base: int | None = None) -> int:
        return self.group.power(scalar, base)

    def add(self, first: int, second: int) -> int:
        return self.group.multiply(first, second)

    def encode(self, element: int) -> bytes:
        return self.group.encode(element)

    def decode(self, data: bytes) -> int:
        return self.group.decode(bytes(data))

    def shared_secret(self, private_key: int, peer: int) -> bytes:
        return self.group.shared_secret(private_key, peer)

    def map_integrated(self, value: int) -> int:
        """g' = R_p(s,t)^((p-1)/q) mod p (9303-11 §4.4.3.3.2, DH); 1 is refused."""
        p, q = self.group.p, self.group.q
        mapped = pow(value % p, (p - 1) // q, p)
        if mapped <= 1:
            raise InvalidPointError("the integrated mapping gave the identity (1)")
        return mapped


_UNKNOWN_GROUP = (
    "explicit {kind} that is not a known group: not used, since an unsigned EF.CardAccess "
    "could choose a weak group and expose the password to an offline dictionary attack"
)


@cache
def standardized_group(parameter_id: int) -> PaceGroup[Any]:
    """The group of a standardized domain parameter id (9303-11 §9.5.1).

    :raises UnsupportedAlgorithmError: for a reserved or proprietary id.
    """
    if parameter_id in RFC5114_GROUPS:
        return DhPaceGroup(RFC5114_GROUPS[parameter_id], parameter_id=parameter_id)
    name = STANDARDIZED_CURVES.get(parameter_id)
    if name is None:
        raise UnsupportedAlgorithmError(
            f"PACE domain parameter id {parameter_id} is not a standardized id (0-2 DH, 8-18 ECDH)"
        )
    return EcPaceGroup(_NAMED_CURVES[name].curve, parameter_id=parameter_id)


def group_from_algorithm(algorithm: Any) -> PaceGroup[Any]:
    """The group of a PACEDomainParameterInfo's ``domainParameter`` (9303-11 §9.2.2).

    :param algorithm: the asn1crypto
        :class:`~epass.lds.security_infos.DomainParameterAlgorithm` (the
        ``domain_parameter`` of a parsed ``PaceDomainParameterInfo``).
    Explicit values are used only when they are a known group (see the module
    docstring): a named curve of at least :data:`MIN_EC_BITS` bits or an RFC 5114 group.

    :raises UnsupportedAlgorithmError: for an unknown algorithm, DH parameters
        without the subgroup order q (PKCS #3), explicit values that are not a
        known group, or unusable values.
    """
    try:
        kind = algorithm["algorithm"].native
        params = algorithm["parameters"]
        if kind == "standardized":
            return standardized_group(int(params.native))
        if kind == "ec":
            if params.name == "named":
                named = curve_by_oid(params.chosen.dotted)
                if named is None:
                    raise UnsupportedAlgorithmError(f"unknown named curve {params.chosen.dotted}")
            elif params.name == "specified":
                named = match_named_curve(DomainParameters.from_specified(params.chosen))
                if named is None:
                    raise UnsupportedAlgorithmError(_UNKNOWN_GROUP.format(kind="EC curve"))
            else:
                raise UnsupportedAlgorithmError("implicitly-CA EC parameters are not usable")
            if named.parameters.bits < MIN_EC_BITS:
                raise UnsupportedAlgorithmError(
                    f"{named.name} is smaller than the {MIN_EC_BITS}-bit curves PACE uses"
                )
            return EcPaceGroup(named.curve)
        if kind == "dh":
            q = params["q"].native
            if q is None:
                raise UnsupportedAlgorithmError("DH domain parameters without q")
            values = (int(params["p"].native), int(params["g"].native), int(q))
            for std_id, std in RFC5114_GROUPS.items():
                if (std.p, std.g, std.q) == values:
                    return standardized_group(std_id)
            raise UnsupportedAlgorithmError(_UNKNOWN_GROUP.format(kind="DH group"))
        if kind == "dh_pkcs3":
            raise UnsupportedAlgorithmError(
                "PKCS #3 DH parameters carry no subgroup order q; public values cannot be checked"
            )
    except UnsupportedAlgorithmError:
        raise
    except BUILTIN_PARSE_ERRORS as exc:
        raise UnsupportedAlgorithmError(f"malformed PACE domain parameters: {exc}") from exc
    raise UnsupportedAlgorithmError(f"unknown PACE domain parameter algorithm {kind}")
