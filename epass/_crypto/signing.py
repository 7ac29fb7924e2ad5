"""Private keys and raw-key signatures for Terminal Authentication (BSI TR-03110-3 A.6.4).

Part of the one door to cryptography's hazmat layer (:mod:`epass._crypto`).
Terminal Authentication works with keys that are not X.509 certificates: a
card-verifiable certificate carries an RSA modulus and exponent or an EC point
(and, in a CVCA certificate, explicit domain parameters), and the signatures
are RSASSA-PKCS1-v1_5, RSASSA-PSS or ECDSA in the plain ``r || s`` format of
BSI TR-03111 §5.2.1. This module gives:

* :func:`load_private_key` - a terminal's private key from a PEM or DER file
  (PKCS#8, or the traditional ``RSA PRIVATE KEY`` / ``EC PRIVATE KEY`` forms);
* :func:`generate_ec_key`, :func:`generate_rsa_key`, :func:`ec_key_from_scalar` -
  test keys made at runtime (drivers/virtual and tests; no key file in the tree);
* :meth:`PrivateKey.sign` - RSASSA-PKCS1-v1_5, RSASSA-PSS (MGF1 with the same
  hash, salt length = hash length, trailer ``BC``) or ECDSA-plain;
* :func:`verify_rsa` - RSA verification from the bare ``(n, e)`` of a CV
  certificate. ECDSA verification goes through :meth:`epass._crypto.ec.Curve.verify_ecdsa`,
  which also takes the explicit domain parameters of a CVCA key.

Nothing here returns a boolean a caller could forget: a signature that does
not verify raises :class:`~epass.errors.InvalidSignatureError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from epass._crypto.signatures import CRYPTOGRAPHY_CURVES
from epass.errors import (
    BUILTIN_PARSE_ERRORS,
    InvalidSignatureError,
    LocalProtocolError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "PrivateKey",
    "SignatureKind",
    "ec_key_from_scalar",
    "generate_ec_key",
    "generate_rsa_key",
    "load_private_key",
    "verify_rsa",
]

#: ``"rsa-pkcs1v15"``, ``"rsa-pss"`` or ``"ecdsa-plain"``.
SignatureKind = Literal["rsa-pkcs1v15", "rsa-pss", "ecdsa-plain"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
#: Curves a terminal key may use here: those ``cryptography`` implements (standard names).
_EC_CURVES = CRYPTOGRAPHY_CURVES
_BY_BACKEND_NAME: dict[str, str] = {cls().name: name for name, cls in _EC_CURVES.items()}
#: Longest key file accepted by :func:`load_private_key` (an RSA-8192 PEM is ~6.4 KB).
MAX_KEY_FILE = 16384


def _hash(name: str) -> hashes.HashAlgorithm:
    if name not in _HASHES:
        raise UnsupportedAlgorithmError(f"hash {name} is not a Terminal Authentication hash")
    return _HASHES[name]()


def _pss(name: str) -> padding.PSS:
    """RSASSA-PSS as TR-03110-3 A.6.4 uses it: MGF1 with the same hash, salt = hash length."""
    algorithm = _hash(name)
    return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)


@dataclass(frozen=True, repr=False)
class PrivateKey:
    """A terminal's private key (RSA, or EC on a named curve); ``repr`` shows no secret.

    :ivar kind: ``"rsa"`` or ``"ec"``.
    :ivar curve: the standard curve name for EC keys (``"brainpoolP256r1"``), else ``None``.
    :ivar bits: the modulus size (RSA) or the order size (EC) in bits.
    """

    kind: Literal["rsa", "ec"]
    curve: str | None
    bits: int
    _key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:
        what = f"{self.curve}" if self.curve else f"RSA-{self.bits}"
        return f"PrivateKey({what}, <hidden>)"

    @classmethod
    def _wrap(cls, key: object) -> PrivateKey:
        if isinstance(key, rsa.RSAPrivateKey):
            return cls("rsa", None, key.key_size, key)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            name = _BY_BACKEND_NAME.get(key.curve.name)
            if name is None:
                raise UnsupportedAlgorithmError(
                    f"EC curve {key.curve.name} is not supported for a terminal key"
                )
            return cls("ec", name, key.curve.key_size, key)
        raise UnsupportedAlgorithmError(
            f"a {type(key).__name__} cannot be a Terminal Authentication key (RSA or EC only)"
        )

    # --- public parts -----------------------------------------------------------------------

    @property
    def ec_public_point(self) -> bytes:
        """The EC public key as an uncompressed point ``04 || X || Y``.

        :raises LocalProtocolError: for an RSA key.
        """
        if not isinstance(self._key, ec.EllipticCurvePrivateKey):
            raise LocalProtocolError("an RSA key has no EC point")
        return self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def rsa_public_numbers(self) -> tuple[int, int]:
        """``(n, e)`` of an RSA key.

        :raises LocalProtocolError: for an EC key.
        """
        if not isinstance(self._key, rsa.RSAPrivateKey):
            raise LocalProtocolError("an EC key has no RSA modulus")
        numbers = self._key.public_key().public_numbers()
        return numbers.n, numbers.e

    def to_pkcs8(self, *, pem: bool = True) -> bytes:
        """The key as unencrypted PKCS#8 (PEM or DER), for tests that write a key file."""
        return self._key.private_bytes(
            serialization.Encoding.PEM if pem else serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    # --- signing ----------------------------------------------------------------------------

    def sign(self, data: bytes, *, kind: SignatureKind, hash_name: str) -> bytes:
        """Sign *data* (the message, hashed here with *hash_name*).

        :param kind: ``"ecdsa-plain"`` gives ``r || s``, each the byte length
            of the group order (TR-03111 §5.2.1); ``"rsa-pkcs1v15"`` and
            ``"rsa-pss"`` give a signature of the modulus' byte length.
        :raises LocalProtocolError: when *kind* does not fit the key type.
        :raises UnsupportedAlgorithmError: for a hash outside SHA-1/224/256/384/512.
        """
        algorithm = _hash(hash_name)
        data = bytes(data)
        if kind == "ecdsa-plain":
            if not isinstance(self._key, ec.EllipticCurvePrivateKey):
                raise LocalProtocolError("an ECDSA signature needs an EC key")
            r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(algorithm)))
            size = (self.bits + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if not isinstance(self._key, rsa.RSAPrivateKey):
            raise LocalProtocolError(f"an {kind} signature needs an RSA key")
        if kind not in ("rsa-pss", "rsa-pkcs1v15"):
            raise LocalProtocolError(f"unknown signature kind {kind!r}")
        pad: padding.AsymmetricPadding = (
            _pss(hash_name) if kind == "rsa-pss" else padding.PKCS1v15()
        )
        try:
            return self._key.sign(data, pad, algorithm)
        except ValueError as exc:  # e.g. PSS with SHA-512 needs a modulus over 1040 bits
            raise LocalProtocolError(f"RSA-{self.bits} cannot make this signature: {exc}") from None


def load_private_key(data: bytes, *, password: bytes | None = None) -> PrivateKey:
    """Load a private key from PEM or DER bytes (PKCS#8 or the traditional forms).

    :param data: the file's bytes (at most :data:`MAX_KEY_FILE`).
    :param password: for an encrypted PEM/PKCS#8 key.
    :raises LocalProtocolError: when the bytes are not a readable private key
        (the message never contains key material).
    :raises UnsupportedAlgorithmError: for a key that is neither RSA nor EC on
        a supported named curve.
    """
    data = bytes(data)
    if len(data) > MAX_KEY_FILE:
        raise LocalProtocolError(f"key file of {len(data)} bytes (at most {MAX_KEY_FILE})")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, password=password)
        else:
            key = serialization.load_der_private_key(data, password=password)
    except _CryptoUnsupported as exc:
        raise UnsupportedAlgorithmError(f"private key not supported: {exc}") from None
    except BUILTIN_PARSE_ERRORS as exc:
        reason = "wrong or missing password" if "password" in str(exc).lower() else "malformed"
        raise LocalProtocolError(f"not a readable private key ({reason})") from None
    return PrivateKey._wrap(key)


def generate_ec_key(curve: str) -> PrivateKey:
    """A fresh EC key on *curve* (``"brainpoolP256r1"``), for test keys made at runtime.

    :raises UnsupportedAlgorithmError: for a curve not in the supported list.
    """
    if curve not in _EC_CURVES:
        raise UnsupportedAlgorithmError(f"EC curve {curve} is not supported for a terminal key")
    return PrivateKey._wrap(ec.generate_private_key(_EC_CURVES[curve]()))


def ec_key_from_scalar(scalar: int, curve: str) -> PrivateKey:
    """The EC key with private scalar *scalar* on *curve* (deterministic test keys).

    :raises UnsupportedAlgorithmError: for an unsupported curve.
    :raises LocalProtocolError: for a scalar out of range.
    """
    if curve not in _EC_CURVES:
        raise UnsupportedAlgorithmError(f"EC curve {curve} is not supported for a terminal key")
    try:
        return PrivateKey._wrap(ec.derive_private_key(scalar, _EC_CURVES[curve]()))
    except ValueError as exc:
        raise LocalProtocolError(f"unusable private scalar: {exc}") from None


def generate_rsa_key(bits: int = 2048, public_exponent: int = 65537) -> PrivateKey:
    """A fresh RSA key (test keys made at runtime)."""
    return PrivateKey._wrap(rsa.generate_private_key(public_exponent, bits))


def verify_rsa(
    modulus: int, exponent: int, data: bytes, signature: bytes, *, pss: bool, hash_name: str
) -> None:
    """Verify an RSA signature over *data* with the bare public key ``(n, e)``.

    :param pss: RSASSA-PSS (MGF1 with the same hash, salt = hash length,
        TR-03110-3 A.6.4) when true, RSASSA-PKCS1-v1_5 otherwise.
    :raises InvalidSignatureError: when the signature does not verify or its
        length is not the modulus' byte length.
    :raises UnsupportedAlgorithmError: for a key the backend refuses.
    """
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        raise InvalidSignatureError(
            f"RSA signature of {len(signature)} bytes for a {size}-byte modulus"
        )
    try:
        key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except (ValueError, _CryptoUnsupported) as exc:
        raise UnsupportedAlgorithmError(f"unusable RSA public key: {exc}") from None
    algorithm = _hash(hash_name)
    pad: padding.AsymmetricPadding = _pss(hash_name) if pss else padding.PKCS1v15()
    try:
        key.verify(bytes(signature), bytes(data), pad, algorithm)
    except InvalidSignature:
        raise InvalidSignatureError("RSA signature does not verify") from None
