"""Public keys and signature verification for passive authentication.

The only module in :mod:`epass` that uses cryptography's asymmetric hazmat
layer. Keys and algorithm identifiers come in as asn1crypto objects (as they
sit in a certificate or a CMS SignerInfo); the bytes to verify come in exactly
as received.

Supported (ICAO Doc 9303-12 §5 "Algorithms", RFC 5652 §5.6, RFC 4055, RFC 5758):

* RSA PKCS#1 v1.5 with SHA-1/224/256/384/512 (and SHA-3), including
  ``rsaEncryption`` as the signature algorithm with the hash taken from the
  SignerInfo's digestAlgorithm (seen in US and NZ SODs);
* RSASSA-PSS with the hash, MGF1 hash and salt length read from
  ``RSASSA-PSS-params`` (RFC 4055 §3.1, defaults SHA-1/MGF1-SHA-1/20);
* ECDSA with a DER ``Ecdsa-Sig-Value`` (X9.62 / RFC 5480) and the BSI TR-03111
  plain ``r || s`` format (ecdsa-plain-SHA*), SHA-1 to SHA-512, on the NIST
  P-192 to P-521 and brainpool P160r1 to P512r1 curves.

EC keys name their curve by OID, by **explicit domain parameters** (9303-12
§5 allows them, and most European CSCA and DS keys use them), or inherit the
issuer's (implicitlyCA, RFC 3279 §2.3.5). :func:`resolve_curve` maps explicit
parameters to the named curve with the same p, a, b, G, n and h
(:func:`epass._crypto.ec.match_named_curve`); the mapping is part of every
result (:attr:`ResolvedCurve.label`, :attr:`SignatureScheme.curve`:
``"explicit parameters = brainpoolP256r1"``). Where cryptography has the
curve its (faster) verifier is used; on brainpoolP160r1/192r1/224r1/320r1,
which it lacks, :meth:`epass._crypto.ec.Curve.verify_ecdsa` verifies.

What cannot be verified raises :class:`UnsupportedAlgorithmError`, never a
verdict: an unknown OID, MD5, DSA, an unknown curve, inherited parameters
with no issuer key, or explicit parameters that match no named curve (the
subclass :class:`ExplicitCurveParametersError`). A signature that does not
verify raises :class:`InvalidSignatureError`. Nothing here returns a boolean
that a caller could forget to check, and no flag disables a check.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any

from asn1crypto import core, keys, x509
from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from epass._crypto.ec import (
    DomainParameters,
    EcPoint,
    NamedCurve,
    curve_by_oid,
    match_named_curve,
)
from epass.errors import (
    BUILTIN_PARSE_ERRORS,
    ExplicitCurveParametersError,
    InvalidPointError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "CRYPTOGRAPHY_CURVES",
    "CurveParameters",
    "EcPublicKey",
    "ExplicitCurveParametersError",
    "InvalidSignatureError",
    "PublicKey",
    "PublicKeyDescription",
    "ResolvedCurve",
    "SignatureScheme",
    "UnsupportedAlgorithmError",
    "describe_public_key",
    "digest",
    "load_public_key",
    "resolve_curve",
    "resolve_signature_algorithm",
    "verify_certificate_signature",
    "verify_signature",
]

# --- hashes -----------------------------------------------------------------------------------

_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = MappingProxyType(
    {
        "sha1": hashes.SHA1,
        "sha224": hashes.SHA224,
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
        "sha512_224": hashes.SHA512_224,
        "sha512_256": hashes.SHA512_256,
        "sha3_224": hashes.SHA3_224,
        "sha3_256": hashes.SHA3_256,
        "sha3_384": hashes.SHA3_384,
        "sha3_512": hashes.SHA3_512,
    }
)
#: Dotted OIDs of the same hashes, for identifiers asn1crypto does not name.
_HASH_OIDS: Mapping[str, str] = MappingProxyType(
    {
        "1.3.14.3.2.26": "sha1",
        "2.16.840.1.101.3.4.2.4": "sha224",
        "2.16.840.1.101.3.4.2.1": "sha256",
        "2.16.840.1.101.3.4.2.2": "sha384",
        "2.16.840.1.101.3.4.2.3": "sha512",
        "2.16.840.1.101.3.4.2.5": "sha512_224",
        "2.16.840.1.101.3.4.2.6": "sha512_256",
        "2.16.840.1.101.3.4.2.7": "sha3_224",
        "2.16.840.1.101.3.4.2.8": "sha3_256",
        "2.16.840.1.101.3.4.2.9": "sha3_384",
        "2.16.840.1.101.3.4.2.10": "sha3_512",
    }
)


def _hash_name(name: str) -> str:
    name = _HASH_OIDS.get(name, name)
    if name not in _HASHES:
        raise UnsupportedAlgorithmError(f"hash algorithm {name} is not supported")
    return name


def _hash(name: str) -> hashes.HashAlgorithm:
    return _HASHES[_hash_name(name)]()


def digest(algorithm: str, data: bytes) -> bytes:
    """Hash *data* with *algorithm* (asn1crypto name such as ``"sha256"`` or dotted OID).

    :raises UnsupportedAlgorithmError: for MD5 and anything unknown.
    """
    h = hashes.Hash(_hash(algorithm))
    h.update(bytes(data))
    return h.finalize()


# --- public keys ------------------------------------------------------------------------------

#: Curves cryptography verifies on (faster than the generic path); any other named curve of
#: :data:`epass._crypto.ec.NAMED_CURVES` (brainpoolP160r1/192r1/224r1/320r1) is verified
#: with :meth:`epass._crypto.ec.Curve.verify_ecdsa`.
CRYPTOGRAPHY_CURVES: Mapping[str, type[ec.EllipticCurve]] = MappingProxyType(
    {
        "secp192r1": ec.SECP192R1,
        "secp224r1": ec.SECP224R1,
        "secp256r1": ec.SECP256R1,
        "secp384r1": ec.SECP384R1,
        "secp521r1": ec.SECP521R1,
        "brainpoolP256r1": ec.BrainpoolP256R1,
        "brainpoolP384r1": ec.BrainpoolP384R1,
        "brainpoolP512r1": ec.BrainpoolP512R1,
    }
)


class CurveParameters(StrEnum):
    """How an EC key names its domain parameters (X9.62 ``ECParameters``, RFC 3279 §2.3.5)."""

    #: ``namedCurve`` OID.
    NAMED = "named"
    #: ``specifiedCurve``: p, a, b, G, n, h spelled out (9303-12 §5 allows it; most
    #: European CSCAs and DSs use it).
    EXPLICIT = "explicit"
    #: ``implicitlyCA`` or absent: the parameters are the issuer's (RFC 3279 §2.3.5).
    INHERITED = "inherited"


@dataclass(frozen=True)
class ResolvedCurve:
    """The named curve an EC key's parameters stand for, and how the key gave them.

    :ivar curve: the named curve (:data:`epass._crypto.ec.NAMED_CURVES`).
    :ivar parameters: named, explicit or inherited.
    :ivar inherited_parameters: for an inherited key, how the issuer gave them.
    """

    curve: NamedCurve
    parameters: CurveParameters
    inherited_parameters: CurveParameters | None = None

    @property
    def name(self) -> str:
        """The curve's standard name (``"brainpoolP256r1"``)."""
        return self.curve.name

    @property
    def label(self) -> str:
        """As shown in reports: ``"explicit parameters = brainpoolP256r1"``, or the name."""
        if self.parameters is CurveParameters.EXPLICIT:
            return f"explicit parameters = {self.name}"
        if self.parameters is CurveParameters.INHERITED:
            how = (
                " (explicit there)" if self.inherited_parameters is CurveParameters.EXPLICIT else ""
            )
            return f"parameters inherited from the issuer = {self.name}{how}"
        return self.name


@dataclass(frozen=True)
class PublicKeyDescription:
    """What a report says about a key: ``("rsa", 2048, None)``, ``("ec", 256, "secp256r1")``.

    :ivar algorithm: ``"rsa"``, ``"ec"`` or the key algorithm's name.
    :ivar size: bits (RSA modulus, EC order), or ``None``.
    :ivar curve: for EC keys, the curve as a report shows it: the name of a
        named curve, ``"explicit parameters = brainpoolP256r1"`` when explicit
        parameters were mapped, ``"explicit parameters matching no named
        curve"``, or ``"parameters inherited from the issuer"``.
    :ivar parameters: for EC keys, how the key gave its parameters.
    """

    algorithm: str
    size: int | None
    curve: str | None
    parameters: CurveParameters | None = None


def _spki(key_or_cert: Any) -> Any:
    """Accept an asn1crypto PublicKeyInfo or Certificate."""
    if isinstance(key_or_cert, x509.Certificate):
        return key_or_cert.public_key
    if isinstance(key_or_cert, keys.PublicKeyInfo):
        return key_or_cert
    raise TypeError(f"expected an asn1crypto PublicKeyInfo or Certificate, not {type(key_or_cert)}")


def _ec_parameters(spki: Any) -> Any:
    """The ECParameters choice of an EC key, or ``None`` when implicitlyCA or absent."""
    params = spki["algorithm"]["parameters"]
    if isinstance(params, core.Void) or params.name == "implicit_ca":
        return None
    return params


#: Explicit parameters already mapped, keyed by their DER (one certificate's key is
#: resolved many times: SOD signature, chain, report). Bounded: cleared when full.
_EXPLICIT_CACHE: dict[bytes, NamedCurve | str] = {}
_EXPLICIT_CACHE_MAX = 256


def _match_explicit(specified: Any) -> NamedCurve:
    """Map asn1crypto ``SpecifiedECDomain`` to the named curve with the same p, a, b, G, n, h.

    :raises ExplicitCurveParametersError: when they match no named curve or are unusable.
    """
    der = bytes(specified.dump())
    cached = _EXPLICIT_CACHE.get(der)
    if cached is None:
        try:
            parameters = DomainParameters.from_specified(specified)
        except UnsupportedAlgorithmError as exc:
            cached = f"explicit EC parameters are unusable: {exc}"
        else:
            problem = parameters.problem()
            match = None if problem is not None else match_named_curve(parameters)
            if problem is not None:
                cached = f"explicit EC parameters are unusable: {problem}"
            elif match is None:
                cached = (
                    f"explicit EC parameters ({parameters.bits}-bit order) match no named curve "
                    "(p, a, b, G, n and h compared with the NIST and brainpool r1 curves "
                    "of 9303-12 §5)"
                )
            else:
                cached = match
        if len(_EXPLICIT_CACHE) >= _EXPLICIT_CACHE_MAX:
            _EXPLICIT_CACHE.clear()
        _EXPLICIT_CACHE[der] = cached
    if isinstance(cached, str):
        raise ExplicitCurveParametersError(cached, parameters=specified)
    return cached


def resolve_curve(public_key_info: Any, *, issuer: Any = None) -> ResolvedCurve:
    """The named curve of an EC key (asn1crypto PublicKeyInfo or Certificate).

    * ``namedCurve``: looked up by OID;
    * ``specifiedCurve`` (explicit parameters, 9303-12 §5): mapped to the named
      curve whose p, a, b, G, n and h are all equal
      (:func:`epass._crypto.ec.match_named_curve`);
    * ``implicitlyCA`` or absent: the parameters of *issuer*'s key (RFC 3279
      §2.3.5), resolved the same way.

    :param issuer: the issuer's PublicKeyInfo or Certificate, for inherited parameters.
    :raises ExplicitCurveParametersError: explicit parameters that match no
        named curve (or are not a usable prime-field curve).
    :raises UnsupportedAlgorithmError: not an EC key, an unknown curve OID,
        inherited parameters without an *issuer* (or whose issuer inherits too).
    """
    spki = _spki(public_key_info)
    try:
        if spki["algorithm"]["algorithm"].native != "ec":
            raise UnsupportedAlgorithmError("not an EC key")
        params = _ec_parameters(spki)
        if params is None:
            if issuer is None:
                raise UnsupportedAlgorithmError(
                    "EC key inherits its domain parameters from its issuer (implicitlyCA), "
                    "and no issuer key is known"
                )
            issuer_spki = _spki(issuer)
            if issuer_spki["algorithm"]["algorithm"].native != "ec" or (
                _ec_parameters(issuer_spki) is None
            ):
                raise UnsupportedAlgorithmError(
                    "EC key inherits its domain parameters, and its issuer's key has none"
                )
            parent = resolve_curve(issuer_spki)
            return ResolvedCurve(parent.curve, CurveParameters.INHERITED, parent.parameters)
        if params.name == "specified":
            named = _match_explicit(params.chosen)
            return ResolvedCurve(named, CurveParameters.EXPLICIT)
        oid = params.chosen.dotted
    except UnsupportedAlgorithmError:
        raise
    except BUILTIN_PARSE_ERRORS as exc:
        raise UnsupportedAlgorithmError(f"unusable EC domain parameters: {exc}") from exc
    found = curve_by_oid(oid)
    if found is not None:
        return ResolvedCurve(found, CurveParameters.NAMED)
    raise UnsupportedAlgorithmError(f"EC curve {params.chosen.native} is not supported")


def describe_public_key(public_key_info: Any, *, issuer: Any = None) -> PublicKeyDescription:
    """Algorithm, size in bits and curve of an asn1crypto PublicKeyInfo (or certificate).

    Never raises: what cannot be read is described as such.

    :param issuer: the issuer's key or certificate, to name inherited EC parameters.
    """
    spki = _spki(public_key_info)
    try:
        alg = spki["algorithm"]["algorithm"].native
        if alg in ("rsa", "rsassa_pss"):
            modulus = spki["public_key"].parsed["modulus"].native
            return PublicKeyDescription("rsa", int(modulus).bit_length(), None)
        if alg != "ec":
            return PublicKeyDescription(str(alg), None, None)
        params = _ec_parameters(spki)
        form = (
            CurveParameters.INHERITED
            if params is None
            else CurveParameters.EXPLICIT
            if params.name == "specified"
            else CurveParameters.NAMED
        )
        try:
            resolved = resolve_curve(spki, issuer=issuer)
        except UnsupportedAlgorithmError:
            if form is CurveParameters.EXPLICIT:
                size = int(params.chosen["order"].native).bit_length()
                return PublicKeyDescription(
                    "ec", size, "explicit parameters matching no named curve", form
                )
            if form is CurveParameters.INHERITED:
                return PublicKeyDescription(
                    "ec", None, "parameters inherited from the issuer", form
                )
            return PublicKeyDescription("ec", None, str(params.chosen.native), form)
        return PublicKeyDescription("ec", resolved.curve.parameters.bits, resolved.label, form)
    except BUILTIN_PARSE_ERRORS:
        return PublicKeyDescription("unknown", None, None)


@dataclass(frozen=True, eq=False)
class EcPublicKey:
    """An EC public key on a named curve, however its certificate spelled the parameters.

    :ivar resolved: the curve and how the key named it.
    :ivar encoded: the SEC 1 encoded point, as in the certificate.
    """

    resolved: ResolvedCurve
    encoded: bytes

    @cached_property
    def backend(self) -> ec.EllipticCurvePublicKey | EcPoint:
        """cryptography's key where it has the curve (faster), else a checked :class:`EcPoint`.

        :raises UnsupportedAlgorithmError: if the point is not on the curve.
        """
        curve_type = CRYPTOGRAPHY_CURVES.get(self.resolved.name)
        try:
            if curve_type is not None:
                try:
                    return ec.EllipticCurvePublicKey.from_encoded_point(curve_type(), self.encoded)
                except _CryptoUnsupported:
                    pass  # an OpenSSL build without this curve: the generic path below
            return self.resolved.curve.curve.decode_point(self.encoded)
        except (ValueError, InvalidPointError) as exc:
            raise UnsupportedAlgorithmError(f"unusable EC public key: {exc}") from exc

    @property
    def key_size(self) -> int:
        """Bits of the curve order."""
        return self.resolved.curve.parameters.bits

    def verify_ecdsa(self, signature: bytes, data: bytes, hash_name: str) -> None:
        """Verify a DER ``Ecdsa-Sig-Value`` over *data* hashed with *hash_name*.

        :raises InvalidSignatureError: if it does not verify or is malformed.
        :raises UnsupportedAlgorithmError: if the key is unusable.
        """
        backend = self.backend
        if isinstance(backend, ec.EllipticCurvePublicKey):
            try:
                backend.verify(signature, data, ec.ECDSA(_hash(hash_name)))
            except InvalidSignature as exc:
                raise InvalidSignatureError("ECDSA signature does not verify") from exc
            except ValueError as exc:
                raise InvalidSignatureError(f"ECDSA signature is malformed: {exc}") from exc
            return
        try:
            r, s = decode_dss_signature(signature)
        except ValueError as exc:
            raise InvalidSignatureError(f"ECDSA signature is malformed: {exc}") from exc
        self.resolved.curve.curve.verify_ecdsa(backend, digest(hash_name, data), r, s)


PublicKey = rsa.RSAPublicKey | EcPublicKey


def load_public_key(public_key_info: Any, *, issuer: Any = None) -> PublicKey:
    """The public key of an asn1crypto PublicKeyInfo (or certificate), ready to verify with.

    RSA keys are rebuilt from their integers, so an ``id-RSASSA-PSS`` key
    algorithm or a non-minimal integer encoding does not stop verification.
    EC keys are resolved to a named curve by :func:`resolve_curve` (explicit
    parameters mapped, inherited ones taken from *issuer*).

    :param issuer: the issuer's key or certificate, for EC keys with inherited parameters.
    :raises ExplicitCurveParametersError: for explicit EC parameters that match no named curve.
    :raises UnsupportedAlgorithmError: for other key types, unknown curves,
        inherited parameters without an issuer, and keys the backend refuses.
    """
    spki = _spki(public_key_info)
    try:
        alg = spki["algorithm"]["algorithm"].native
        if alg in ("rsa", "rsassa_pss"):
            rsa_key = spki["public_key"].parsed
            n = int(rsa_key["modulus"].native)
            e = int(rsa_key["public_exponent"].native)
            return rsa.RSAPublicNumbers(e, n).public_key()
        if alg == "ec":
            resolved = resolve_curve(spki, issuer=issuer)
            return EcPublicKey(resolved, bytes(spki["public_key"].native))
    except UnsupportedAlgorithmError:
        raise
    except _CryptoUnsupported as exc:
        raise UnsupportedAlgorithmError(f"key not supported by the backend: {exc}") from exc
    except BUILTIN_PARSE_ERRORS as exc:
        raise UnsupportedAlgorithmError(f"unusable public key: {exc}") from exc
    raise UnsupportedAlgorithmError(f"public key algorithm {alg} is not supported")


# --- signature algorithms ---------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureScheme:
    """A resolved signature algorithm.

    :ivar kind: ``"rsa-pkcs1v15"``, ``"rsa-pss"``, ``"ecdsa"`` or ``"ecdsa-plain"``.
    :ivar hash: the message hash (asn1crypto name).
    :ivar mgf1_hash: MGF1 hash for RSA-PSS.
    :ivar salt_length: salt length for RSA-PSS.
    :ivar curve: set by :func:`verify_signature` for ECDSA: the key's curve as
        :attr:`ResolvedCurve.label` shows it (``"explicit parameters = brainpoolP256r1"``).
    """

    kind: str
    hash: str
    mgf1_hash: str | None = None
    salt_length: int | None = None
    curve: str | None = None

    def __str__(self) -> str:
        if self.kind == "rsa-pss":
            return f"rsa-pss({self.hash}, mgf1-{self.mgf1_hash}, salt {self.salt_length})"
        return f"{self.kind}-{self.hash}"


_RSA_PKCS1: Mapping[str, str] = MappingProxyType(
    {
        "1.2.840.113549.1.1.5": "sha1",
        "1.3.14.3.2.29": "sha1",
        "1.2.840.113549.1.1.14": "sha224",
        "1.2.840.113549.1.1.11": "sha256",
        "1.2.840.113549.1.1.12": "sha384",
        "1.2.840.113549.1.1.13": "sha512",
        "2.16.840.1.101.3.4.3.13": "sha3_224",
        "2.16.840.1.101.3.4.3.14": "sha3_256",
        "2.16.840.1.101.3.4.3.15": "sha3_384",
        "2.16.840.1.101.3.4.3.16": "sha3_512",
    }
)
_ECDSA: Mapping[str, str] = MappingProxyType(
    {
        "1.2.840.10045.4.1": "sha1",
        "1.2.840.10045.4.3.1": "sha224",
        "1.2.840.10045.4.3.2": "sha256",
        "1.2.840.10045.4.3.3": "sha384",
        "1.2.840.10045.4.3.4": "sha512",
        "2.16.840.1.101.3.4.3.9": "sha3_224",
        "2.16.840.1.101.3.4.3.10": "sha3_256",
        "2.16.840.1.101.3.4.3.11": "sha3_384",
        "2.16.840.1.101.3.4.3.12": "sha3_512",
    }
)
#: BSI TR-03111 §5.2.1 ecdsa-plain-signatures (r || s, each the size of the order).
_ECDSA_PLAIN: Mapping[str, str] = MappingProxyType(
    {
        "0.4.0.127.0.7.1.1.4.1.1": "sha1",
        "0.4.0.127.0.7.1.1.4.1.2": "sha224",
        "0.4.0.127.0.7.1.1.4.1.3": "sha256",
        "0.4.0.127.0.7.1.1.4.1.4": "sha384",
        "0.4.0.127.0.7.1.1.4.1.5": "sha512",
    }
)
#: Identifiers that name only the key type; the hash is the SignerInfo's digestAlgorithm.
_RSA_BARE = "1.2.840.113549.1.1.1"  # rsaEncryption (RFC 5652 §5.3 "signatureAlgorithm")
_ECDSA_BARE = ("1.2.840.10045.2.1", "1.2.840.10045.4")  # id-ecPublicKey, ecdsa-with-*
_RSA_PSS = "1.2.840.113549.1.1.10"


def _bare_hash(oid: str, digest_algorithm: str | None) -> str:
    if digest_algorithm is None:
        raise UnsupportedAlgorithmError(
            f"signature algorithm {oid} names no hash and no digestAlgorithm was given"
        )
    return _hash_name(digest_algorithm)


def resolve_signature_algorithm(
    signature_algorithm: Any, *, digest_algorithm: str | None = None
) -> SignatureScheme:
    """Resolve an asn1crypto ``SignedDigestAlgorithm`` to a :class:`SignatureScheme`.

    :param digest_algorithm: the SignerInfo digestAlgorithm, used when the
        signature algorithm names only the key type (``rsaEncryption``,
        ``id-ecPublicKey``).
    :raises UnsupportedAlgorithmError: for anything not listed in the module docstring.
    """
    try:
        oid = signature_algorithm["algorithm"].dotted
        if oid in _RSA_PKCS1:
            return SignatureScheme("rsa-pkcs1v15", _RSA_PKCS1[oid])
        if oid == _RSA_BARE:
            return SignatureScheme("rsa-pkcs1v15", _bare_hash(oid, digest_algorithm))
        if oid in _ECDSA:
            return SignatureScheme("ecdsa", _ECDSA[oid])
        if oid in _ECDSA_BARE:
            return SignatureScheme("ecdsa", _bare_hash(oid, digest_algorithm))
        if oid in _ECDSA_PLAIN:
            return SignatureScheme("ecdsa-plain", _ECDSA_PLAIN[oid])
        if oid == _RSA_PSS:
            params = signature_algorithm["parameters"]
            if params.native is None:
                raise UnsupportedAlgorithmError("RSASSA-PSS without RSASSA-PSS-params")
            hash_name = _hash_name(str(params["hash_algorithm"]["algorithm"].dotted))
            mgf = params["mask_gen_algorithm"]
            if mgf["algorithm"].dotted != "1.2.840.113549.1.1.8":
                raise UnsupportedAlgorithmError(
                    f"RSASSA-PSS mask generation {mgf['algorithm'].dotted}"
                )
            mgf_hash = _hash_name(str(mgf["parameters"]["algorithm"].dotted))
            if params["trailer_field"].native not in ("trailer_field_bc", 1):
                raise UnsupportedAlgorithmError("RSASSA-PSS trailer field other than 0xBC")
            salt = int(params["salt_length"].native)
            return SignatureScheme("rsa-pss", hash_name, mgf_hash, salt)
    except UnsupportedAlgorithmError:
        raise
    except BUILTIN_PARSE_ERRORS as exc:
        raise UnsupportedAlgorithmError(f"malformed signature algorithm: {exc}") from exc
    name = signature_algorithm["algorithm"].native
    raise UnsupportedAlgorithmError(f"signature algorithm {name} is not supported")


def verify_signature(
    public_key_info: Any,
    signature_algorithm: Any,
    data: bytes,
    signature: bytes,
    *,
    digest_algorithm: str | None = None,
    issuer: Any = None,
) -> SignatureScheme:
    """Verify *signature* over *data* (the bytes as received).

    :param public_key_info: asn1crypto ``PublicKeyInfo`` or ``Certificate``.
    :param signature_algorithm: asn1crypto ``SignedDigestAlgorithm``.
    :param digest_algorithm: the SignerInfo digestAlgorithm, for bare
        ``rsaEncryption``/``id-ecPublicKey`` identifiers.
    :param issuer: the key's issuer (PublicKeyInfo or Certificate), for an EC
        key that inherits its domain parameters.
    :returns: the scheme that verified (for reports), with the key's curve.
    :raises InvalidSignatureError: if the signature does not verify, or the
        algorithm cannot fit the key (an ECDSA signature under an RSA key).
    :raises UnsupportedAlgorithmError: if the key or algorithm cannot be
        handled (:class:`ExplicitCurveParametersError` for explicit EC
        parameters that match no named curve).
    """
    scheme = resolve_signature_algorithm(signature_algorithm, digest_algorithm=digest_algorithm)
    key = load_public_key(public_key_info, issuer=issuer)
    data = bytes(data)
    signature = bytes(signature)
    if isinstance(key, EcPublicKey):
        if scheme.kind not in ("ecdsa", "ecdsa-plain"):
            raise InvalidSignatureError(f"{scheme} signature under an EC key")
        if scheme.kind == "ecdsa-plain":
            if not signature or len(signature) % 2:
                raise InvalidSignatureError("plain ECDSA signature of odd length")
            half = len(signature) // 2
            signature = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
        try:
            key.verify_ecdsa(signature, data, scheme.hash)
        except InvalidSignatureError as exc:
            raise InvalidSignatureError(f"{scheme} signature does not verify: {exc}") from exc
        return dataclasses.replace(scheme, curve=key.resolved.label)
    if scheme.kind not in ("rsa-pkcs1v15", "rsa-pss"):
        raise InvalidSignatureError(f"{scheme} signature under an RSA key")
    algorithm = _hash(scheme.hash)
    size = (key.key_size + 7) // 8
    if len(signature) > size:
        raise InvalidSignatureError(
            f"RSA signature of {len(signature)} bytes for a {key.key_size}-bit key"
        )
    # An integer that happens to start with zero bytes may be sent short.
    signature = signature.rjust(size, b"\x00")
    pad: padding.AsymmetricPadding
    if scheme.kind == "rsa-pss":
        assert scheme.mgf1_hash is not None and scheme.salt_length is not None  # noqa: S101
        pad = padding.PSS(padding.MGF1(_hash(scheme.mgf1_hash)), scheme.salt_length)
    else:
        pad = padding.PKCS1v15()
    try:
        key.verify(signature, data, pad, algorithm)
    except InvalidSignature as exc:
        raise InvalidSignatureError(f"{scheme} signature does not verify") from exc
    except _CryptoUnsupported as exc:
        raise UnsupportedAlgorithmError(f"{scheme} not supported by the backend: {exc}") from exc
    except ValueError as exc:
        raise InvalidSignatureError(f"{scheme} signature is malformed: {exc}") from exc
    return scheme


def verify_certificate_signature(
    certificate: Any, issuer_public_key_info: Any, *, issuer_issuer: Any = None
) -> SignatureScheme:
    """Verify an X.509 certificate's signature with its issuer's key (RFC 5280 §4.1.1.3).

    The tbsCertificate is verified as received (asn1crypto keeps the parsed
    bytes); no Web-PKI path validation is involved. An issuer key with
    explicit EC parameters (a brainpool CSCA) is mapped to its named curve.
    A signature that verified once is remembered by the SHA-256 of the
    certificate's and the issuer key's DER (a DS certificate signs many
    documents); failures are never remembered.

    :param certificate: asn1crypto ``Certificate``.
    :param issuer_public_key_info: asn1crypto ``PublicKeyInfo`` or ``Certificate``.
    :param issuer_issuer: where the issuer key's inherited EC parameters come
        from, if it inherits them (rare: a CSCA is self-signed).
    :raises InvalidSignatureError: if it does not verify, or the signature
        algorithm inside tbsCertificate differs from the outer one (RFC 5280 §4.1.1.2).
    :raises UnsupportedAlgorithmError: as :func:`verify_signature`.
    """
    try:
        tbs = certificate["tbs_certificate"]
        outer = certificate["signature_algorithm"]
        inner = tbs["signature"]
        if outer["algorithm"].dotted != inner["algorithm"].dotted:
            raise InvalidSignatureError(
                "tbsCertificate.signature differs from signatureAlgorithm (RFC 5280 §4.1.1.2)"
            )
        tbs_bytes = tbs.dump()
        bit_string = certificate["signature_value"]
        if bit_string.contents[:1] != b"\x00":
            raise InvalidSignatureError("signatureValue BIT STRING has unused bits")
        signature = bytes(bit_string.contents[1:])
    except BUILTIN_PARSE_ERRORS as exc:
        raise InvalidSignatureError(f"malformed certificate: {exc}") from exc
    issuer_spki = _spki(issuer_public_key_info)
    key = hashlib.sha256(
        b"|".join(
            (
                bytes(certificate.dump()),
                bytes(issuer_spki.dump()),
                b"" if issuer_issuer is None else bytes(_spki(issuer_issuer).dump()),
            )
        )
    ).digest()
    cached = _VERIFIED_CERTIFICATES.get(key)
    if cached is not None:
        return cached
    scheme = verify_signature(issuer_spki, outer, tbs_bytes, signature, issuer=issuer_issuer)
    if len(_VERIFIED_CERTIFICATES) >= _VERIFIED_CERTIFICATES_MAX:
        _VERIFIED_CERTIFICATES.clear()
    _VERIFIED_CERTIFICATES[key] = scheme
    return scheme


#: Certificate signatures that verified, keyed by the SHA-256 of the certificate's and the
#: issuer key's DER: one DS certificate signs many documents, and its signature under the
#: CSCA is a pure function of those bytes. Only successes are kept; bounded (cleared when
#: full).
_VERIFIED_CERTIFICATES: dict[bytes, SignatureScheme] = {}
_VERIFIED_CERTIFICATES_MAX = 1024
