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
  plain ``r || s`` format (ecdsa-plain-SHA*), on named curves: NIST P-192 to
  P-521 and brainpoolP256r1/384r1/512r1.

What cannot be verified raises :class:`UnsupportedAlgorithmError`, never a
verdict: an unknown OID, MD5, DSA, a curve the backend lacks, or a key with
*explicit* EC domain parameters (9303-12 allows them and many CSCAs use them;
they are not mapped to named curves) which raises the subclass
:class:`ExplicitCurveParametersError`. A signature that does not verify raises
:class:`InvalidSignatureError`. Nothing here returns a boolean that a caller
could forget to check, and no flag disables a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from asn1crypto import keys, x509
from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from epass.errors import (
    BUILTIN_PARSE_ERRORS,
    ExplicitCurveParametersError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "ExplicitCurveParametersError",
    "InvalidSignatureError",
    "PublicKey",
    "PublicKeyDescription",
    "SignatureScheme",
    "UnsupportedAlgorithmError",
    "describe_public_key",
    "digest",
    "load_public_key",
    "resolve_signature_algorithm",
    "verify_certificate_signature",
    "verify_signature",
]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


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

_CURVES: Mapping[str, tuple[str, type[ec.EllipticCurve]]] = MappingProxyType(
    {
        "1.2.840.10045.3.1.1": ("secp192r1", ec.SECP192R1),
        "1.3.132.0.33": ("secp224r1", ec.SECP224R1),
        "1.2.840.10045.3.1.7": ("secp256r1", ec.SECP256R1),
        "1.3.132.0.34": ("secp384r1", ec.SECP384R1),
        "1.3.132.0.35": ("secp521r1", ec.SECP521R1),
        "1.3.132.0.10": ("secp256k1", ec.SECP256K1),
        "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", ec.BrainpoolP256R1),
        "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", ec.BrainpoolP384R1),
        "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", ec.BrainpoolP512R1),
    }
)
#: Curves 9303-12 lists that the backend lacks (reported as not supported).
_KNOWN_UNSUPPORTED_CURVES: Mapping[str, str] = MappingProxyType(
    {
        "1.3.36.3.3.2.8.1.1.3": "brainpoolP192r1",
        "1.3.36.3.3.2.8.1.1.5": "brainpoolP224r1",
        "1.3.36.3.3.2.8.1.1.9": "brainpoolP320r1",
    }
)


@dataclass(frozen=True)
class PublicKeyDescription:
    """What a report says about a key: ``("rsa", 2048, None)``, ``("ec", 256, "secp256r1")``.

    For explicit EC parameters the curve is ``"explicit parameters"``.
    """

    algorithm: str
    size: int | None
    curve: str | None


def _spki(key_or_cert: Any) -> Any:
    """Accept an asn1crypto PublicKeyInfo or Certificate."""
    if isinstance(key_or_cert, x509.Certificate):
        return key_or_cert.public_key
    if isinstance(key_or_cert, keys.PublicKeyInfo):
        return key_or_cert
    raise TypeError(f"expected an asn1crypto PublicKeyInfo or Certificate, not {type(key_or_cert)}")


def describe_public_key(public_key_info: Any) -> PublicKeyDescription:
    """Algorithm, size in bits and curve of an asn1crypto PublicKeyInfo (or certificate)."""
    spki = _spki(public_key_info)
    try:
        alg = spki["algorithm"]["algorithm"].native
        if alg in ("rsa", "rsassa_pss"):
            modulus = spki["public_key"].parsed["modulus"].native
            return PublicKeyDescription("rsa", int(modulus).bit_length(), None)
        if alg == "ec":
            params = spki["algorithm"]["parameters"]
            if params.name == "named":
                oid = params.chosen.dotted
                name = _CURVES[oid][0] if oid in _CURVES else str(params.chosen.native)
                try:
                    size: int | None = int(spki.bit_size)
                except BUILTIN_PARSE_ERRORS:
                    size = None
                return PublicKeyDescription("ec", size, name)
            if params.name == "specified":
                size = int(params.chosen["order"].native).bit_length()
                return PublicKeyDescription("ec", size, "explicit parameters")
            return PublicKeyDescription("ec", None, str(params.name))
        return PublicKeyDescription(str(alg), None, None)
    except BUILTIN_PARSE_ERRORS:
        return PublicKeyDescription("unknown", None, None)


def load_public_key(public_key_info: Any) -> PublicKey:
    """Build a cryptography public key from an asn1crypto PublicKeyInfo (or certificate).

    RSA keys are rebuilt from their integers, so an ``id-RSASSA-PSS`` key
    algorithm or a non-minimal integer encoding does not stop verification.

    :raises ExplicitCurveParametersError: for EC keys with explicit domain parameters.
    :raises UnsupportedAlgorithmError: for other key types, unknown or
        unsupported curves and keys the backend refuses.
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
            params = spki["algorithm"]["parameters"]
            if params.name == "specified":
                raise ExplicitCurveParametersError(
                    "EC key with explicit domain parameters: not supported "
                    "(9303-12 §5 permits them)",
                    parameters=params.chosen,
                )
            if params.name != "named":
                raise UnsupportedAlgorithmError(f"EC key with {params.name} domain parameters")
            oid = params.chosen.dotted
            if oid in _KNOWN_UNSUPPORTED_CURVES:
                raise UnsupportedAlgorithmError(
                    f"curve {_KNOWN_UNSUPPORTED_CURVES[oid]} is not supported by the backend"
                )
            if oid not in _CURVES:
                raise UnsupportedAlgorithmError(f"EC curve {params.chosen.native} is not supported")
            point = bytes(spki["public_key"].native)
            return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[oid][1](), point)
    except (ExplicitCurveParametersError, UnsupportedAlgorithmError):
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
    """

    kind: str
    hash: str
    mgf1_hash: str | None = None
    salt_length: int | None = None

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
) -> SignatureScheme:
    """Verify *signature* over *data* (the bytes as received).

    :param public_key_info: asn1crypto ``PublicKeyInfo`` or ``Certificate``.
    :param signature_algorithm: asn1crypto ``SignedDigestAlgorithm``.
    :param digest_algorithm: the SignerInfo digestAlgorithm, for bare
        ``rsaEncryption``/``id-ecPublicKey`` identifiers.
    :returns: the scheme that verified (for reports).
    :raises InvalidSignatureError: if the signature does not verify, or the
        algorithm cannot fit the key (an ECDSA signature under an RSA key).
    :raises UnsupportedAlgorithmError: if the key or algorithm cannot be
        handled (:class:`ExplicitCurveParametersError` for explicit curves).
    """
    scheme = resolve_signature_algorithm(signature_algorithm, digest_algorithm=digest_algorithm)
    key = load_public_key(public_key_info)
    algorithm = _hash(scheme.hash)
    data = bytes(data)
    signature = bytes(signature)
    try:
        if scheme.kind in ("rsa-pkcs1v15", "rsa-pss"):
            if not isinstance(key, rsa.RSAPublicKey):
                raise InvalidSignatureError(f"{scheme} signature under a non-RSA key")
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
            key.verify(signature, data, pad, algorithm)
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise InvalidSignatureError(f"{scheme} signature under a non-EC key")
            if scheme.kind == "ecdsa-plain":
                if not signature or len(signature) % 2:
                    raise InvalidSignatureError("plain ECDSA signature of odd length")
                half = len(signature) // 2
                signature = encode_dss_signature(
                    int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
                )
            key.verify(signature, data, ec.ECDSA(algorithm))
    except InvalidSignature as exc:
        raise InvalidSignatureError(f"{scheme} signature does not verify") from exc
    except _CryptoUnsupported as exc:
        raise UnsupportedAlgorithmError(f"{scheme} not supported by the backend: {exc}") from exc
    except ValueError as exc:
        raise InvalidSignatureError(f"{scheme} signature is malformed: {exc}") from exc
    return scheme


def verify_certificate_signature(certificate: Any, issuer_public_key_info: Any) -> SignatureScheme:
    """Verify an X.509 certificate's signature with its issuer's key (RFC 5280 §4.1.1.3).

    The tbsCertificate is verified as received (asn1crypto keeps the parsed
    bytes); no Web-PKI path validation is involved.

    :param certificate: asn1crypto ``Certificate``.
    :param issuer_public_key_info: asn1crypto ``PublicKeyInfo`` or ``Certificate``.
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
    return verify_signature(_spki(issuer_public_key_info), outer, tbs_bytes, signature)
