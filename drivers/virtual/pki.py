"""A TEST PKI for the virtual chip and the test suite. NOT A REAL CSCA.

Everything here is signed by keys that anyone can re-derive from a public
seed. The names say so: ``CN=epass TEST CSCA, O=epass virtual test PKI,
C=UT`` ("UT" / "UTO" is Utopia, the fictional state of the Doc 9303
specimens). Never put these certificates in a production trust store.

Profiles follow ICAO Doc 9303-12 §7.1.1 (Table 6):

* CSCA: self-signed, basicConstraints cA=TRUE pathLen 0 (critical),
  keyUsage keyCertSign+cRLSign (critical), subject/authority key identifiers;
* DS: issued by the CSCA, keyUsage digitalSignature (critical),
  authorityKeyIdentifier = CSCA subjectKeyIdentifier, subjectKeyIdentifier,
  optionally the documentTypeList extension (9303-12 §7.1.1.3).

Kinds: ``"ecdsa-p256"`` (default; keys derived from *seed* with
``ec.derive_private_key`` and RFC 6979 deterministic signatures, so the same
seed gives byte-identical certificates and SODs in every process),
``"rsa"`` (RSA-2048, PKCS#1 v1.5) and ``"rsa-pss"`` (RSA-2048, RSASSA-PSS
SHA-256/MGF1-SHA-256/salt 32); RSA keys are generated fresh each call.

:func:`sign_sod` builds a real EF.SOD (9303-10 §4.6.2): ``'77'`` around a
CMS SignedData (RFC 5652 §5) over an LDSSecurityObject v0 or v1, with signed
attributes content-type, message-digest and optionally signing-time, and the
DS certificate embedded. :func:`sign_card_security` builds EF.CardSecurity
(9303-11 §9.2.11): the same SignedData (one signer, :func:`sign_signed_data`)
over SecurityInfos, eContentType id-SecurityObject. Certificates use
cryptography's x509 builders; the CMS is assembled with asn1crypto.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeAlias

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from epass.lds.asn1 import (
    ID_ICAO_DOCUMENT_TYPE_LIST,
    ID_ICAO_LDS_SECURITY_OBJECT,
    DocumentTypeList,
    LdsSecurityObject,
)
from epass.tlv import encode as tlv_encode

__all__ = [
    "DEFAULT_NOT_AFTER",
    "DEFAULT_NOT_BEFORE",
    "DEFAULT_SEED",
    "ID_SECURITY_OBJECT",
    "KINDS",
    "PrivateKey",
    "TestPki",
    "derive_test_key",
    "derive_test_rsa_key",
    "hash_data_groups",
    "make_test_pki",
    "seeded_rng",
    "sign_card_security",
    "sign_signed_data",
    "sign_sod",
]

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

KINDS = ("ecdsa-p256", "rsa", "rsa-pss")
DEFAULT_SEED = b"epass virtual test PKI - NOT A REAL CSCA"
DEFAULT_NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_NOT_AFTER = datetime(2044, 1, 1, tzinfo=UTC)

#: id-SecurityObject, the eContentType of EF.CardSecurity (BSI TR-03110-3 A.1.2.5).
ID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _hash(name: str) -> hashes.HashAlgorithm:
    try:
        return _HASHES[name]()
    except KeyError:
        raise ValueError(f"unsupported hash algorithm {name!r}") from None


def hash_data_groups(
    data_groups: Mapping[int, bytes], algorithm: str = "sha256"
) -> dict[int, bytes]:
    """Hash each data group's raw bytes: the ``dg_hashes`` argument of :func:`sign_sod`."""
    return {n: hashlib.new(algorithm, bytes(data)).digest() for n, data in data_groups.items()}


@dataclass(frozen=True)
class TestPki:
    """CSCA and DS keys and certificates (cryptography objects) of the TEST PKI.

    :ivar kind: one of :data:`KINDS`.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class

    csca_key: PrivateKey
    csca_cert: x509.Certificate
    ds_key: PrivateKey
    ds_cert: x509.Certificate
    kind: str = "ecdsa-p256"

    @property
    def csca_der(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.DER)

    @property
    def ds_der(self) -> bytes:
        return self.ds_cert.public_bytes(serialization.Encoding.DER)

    @property
    def signature_scheme(self) -> str:
        """The SOD signature scheme of this kind: ``ecdsa``, ``rsa-pkcs1v15`` or ``rsa-pss``."""
        return {"ecdsa-p256": "ecdsa", "rsa": "rsa-pkcs1v15", "rsa-pss": "rsa-pss"}[self.kind]

    def sign_sod(self, dg_hashes: Mapping[int, bytes], **kwargs: Any) -> bytes:
        """:func:`sign_sod` with this PKI's DS key, certificate and scheme."""
        kwargs.setdefault("signature_scheme", self.signature_scheme)
        return sign_sod(dg_hashes, ds_key=self.ds_key, ds_cert=self.ds_cert, **kwargs)

    def sign_card_security(self, security_infos: bytes, **kwargs: Any) -> bytes:
        """:func:`sign_card_security` with this PKI's DS key, certificate and scheme."""
        kwargs.setdefault("signature_scheme", self.signature_scheme)
        return sign_card_security(
            security_infos, ds_key=self.ds_key, ds_cert=self.ds_cert, **kwargs
        )


def derive_test_key(seed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 TEST key derived from a public *seed* and a *label* (same inputs, same key)."""
    value = int.from_bytes(hashlib.sha256(seed + b"|" + label.encode()).digest(), "big")
    return ec.derive_private_key(value % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def seeded_rng(seed: bytes, label: str) -> Callable[[int], bytes]:
    """A deterministic byte source: SHA-256(seed | label | counter) blocks, for TEST keys only.

    Same inputs, same bytes: the virtual documents' DH and RSA keys are public
    knowledge by construction, like every key of this module.
    """
    state = {"counter": 0}
    prefix = seed + b"|" + label.encode() + b"|"

    def rng(n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += hashlib.sha256(prefix + state["counter"].to_bytes(8, "big")).digest()
            state["counter"] += 1
        return bytes(out[:n])

    return rng


_SMALL_PRIMES = tuple(
    p for p in range(3, 3000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))
)


def _probable_prime(candidate: int, rng: Callable[[int], bytes], rounds: int = 32) -> bool:
    """Miller-Rabin with *rounds* bases from *rng* (FIPS 186-5 B.3.1); TEST keys only."""
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return candidate in _SMALL_PRIMES
    d, s = candidate - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    size = (candidate.bit_length() + 7) // 8
    for _ in range(rounds):
        a = 2 + int.from_bytes(rng(size), "big") % (candidate - 3)
        x = pow(a, d, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(s - 1):
            x = x * x % candidate
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _derived_prime(rng: Callable[[int], bytes], bits: int, e: int) -> int:
    while True:
        value = int.from_bytes(rng((bits + 7) // 8), "big") >> (8 * ((bits + 7) // 8) - bits)
        value |= (3 << (bits - 2)) | 1  # two top bits set: the product has the full size
        if (value - 1) % e and _probable_prime(value, rng):
            return value


def rsa_key_from_rng(
    rng: Callable[[int], bytes], bits: int, public_exponent: int = 65537
) -> rsa.RSAPrivateKey:
    """An RSA TEST key of exactly *bits* bits (any size, e.g. 1022 or 1792) from *rng*.

    Two primes with their two top bits set, checked by Miller-Rabin with bases
    from *rng*; ``cryptography`` checks the key when it loads the numbers. For
    sizes ``cryptography`` will not generate (below 1024 bits) and for keys that
    must be the same in every process (a seeded *rng*).
    """
    while True:
        p = _derived_prime(rng, (bits + 1) // 2, public_exponent)
        q = _derived_prime(rng, bits // 2, public_exponent)
        if p != q and (p * q).bit_length() == bits:
            break
    d = pow(public_exponent, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(public_exponent, p * q)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public)
    return numbers.private_key()


@functools.lru_cache(maxsize=16)
def derive_test_rsa_key(
    seed: bytes, label: str, bits: int, public_exponent: int = 65537
) -> rsa.RSAPrivateKey:
    """An RSA TEST key of exactly *bits* bits derived from a public *seed* and *label*.

    The same inputs give the same key in every process (:func:`rsa_key_from_rng`
    with :func:`seeded_rng`; ``cryptography`` generates RSA keys from the OS's
    randomness only).
    """
    return rsa_key_from_rng(seeded_rng(seed, f"rsa {bits} {label}"), bits, public_exponent)


def _serial(seed: bytes, label: str) -> int:
    return int.from_bytes(
        hashlib.sha256(seed + b"|serial|" + label.encode()).digest()[:12], "big"
    ) | (1 << 80)


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "epass virtual test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _sign_certificate(
    builder: x509.CertificateBuilder, key: PrivateKey, kind: str
) -> x509.Certificate:
    if kind == "ecdsa-p256":
        return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    if kind == "rsa-pss":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return builder.sign(key, hashes.SHA256(), rsa_padding=pss)
    return builder.sign(key, hashes.SHA256())


def make_test_pki(
    kind: str = "ecdsa-p256",
    *,
    seed: bytes = DEFAULT_SEED,
    not_before: datetime = DEFAULT_NOT_BEFORE,
    not_after: datetime = DEFAULT_NOT_AFTER,
    ds_not_before: datetime | None = None,
    ds_not_after: datetime | None = None,
    country: str = "UT",
    document_types: Sequence[str] | None = None,
) -> TestPki:
    """Build a TEST CSCA and a DS certificate it issued (9303-12 §7.1.1 profiles).

    :param kind: ``"ecdsa-p256"`` (deterministic from *seed*), ``"rsa"`` or ``"rsa-pss"``.
    :param seed: derives the EC keys and all serial numbers.
    :param not_before: CSCA validity start (and DS, unless *ds_not_before*).
    :param not_after: CSCA validity end (and DS, unless *ds_not_after*).
    :param country: ISO 3166-1 alpha-2 code for both names (``"UT"``: Utopia).
    :param document_types: if given, a documentTypeList extension in the DS (e.g. ``["P"]``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    csca_key: PrivateKey
    ds_key: PrivateKey
    if kind == "ecdsa-p256":
        csca_key = derive_test_key(seed, "csca")
        ds_key = derive_test_key(seed, "ds")
    else:
        csca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ds_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    suffix = "" if kind == "ecdsa-p256" else f" {kind}"
    csca_name = _name(f"epass TEST CSCA{suffix}", country)
    ds_name = _name(f"epass TEST DS{suffix}", country)

    csca_ski = x509.SubjectKeyIdentifier.from_public_key(csca_key.public_key())
    csca = (
        x509.CertificateBuilder()
        .subject_name(csca_name)
        .issuer_name(csca_name)
        .public_key(csca_key.public_key())
        .serial_number(_serial(seed, "csca" + suffix))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(csca_ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski),
            critical=False,
        )
    )
    csca_cert = _sign_certificate(csca, csca_key, kind)

    ds = (
        x509.CertificateBuilder()
        .subject_name(ds_name)
        .issuer_name(csca_name)
        .public_key(ds_key.public_key())
        .serial_number(_serial(seed, "ds" + suffix))
        .not_valid_before(ds_not_before or not_before)
        .not_valid_after(ds_not_after or not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ds_key.public_key()), critical=False
        )
    )
    if document_types is not None:
        value = DocumentTypeList({"version": 0, "doc_type_list": list(document_types)}).dump()
        ds = ds.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(ID_ICAO_DOCUMENT_TYPE_LIST), value),
            critical=False,
        )
    ds_cert = _sign_certificate(ds, csca_key, kind)
    return TestPki(csca_key, csca_cert, ds_key, ds_cert, kind)


def _signature_algorithm(scheme: str, hash_name: str) -> dict[str, Any]:
    if scheme == "ecdsa":
        return {"algorithm": f"{hash_name}_ecdsa"}
    if scheme == "rsa-pkcs1v15":
        return {"algorithm": f"{hash_name}_rsa", "parameters": core.Null()}
    if scheme == "rsa-pss":
        return {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": hash_name},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_name}},
                "salt_length": _hash(hash_name).digest_size,
                "trailer_field": "trailer_field_bc",
            },
        }
    raise ValueError(f"unknown signature scheme {scheme!r}")


def _sign(key: PrivateKey, scheme: str, hash_name: str, data: bytes) -> bytes:
    algorithm = _hash(hash_name)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if scheme != "ecdsa":
            raise ValueError(f"an EC key cannot make {scheme} signatures")
        return key.sign(data, ec.ECDSA(algorithm, deterministic_signing=True))
    if scheme == "rsa-pss":
        pss = padding.PSS(mgf=padding.MGF1(_hash(hash_name)), salt_length=algorithm.digest_size)
        return key.sign(data, pss, algorithm)
    if scheme == "rsa-pkcs1v15":
        return key.sign(data, padding.PKCS1v15(), algorithm)
    raise ValueError(f"an RSA key cannot make {scheme} signatures")


def sign_signed_data(
    econtent: bytes,
    econtent_type: str,
    *,
    hash_algorithm: str = "sha256",
    ds_key: PrivateKey,
    ds_cert: x509.Certificate,
    signing_time: datetime | None = None,
    include_certificate: bool = True,
    signature_scheme: str | None = None,
    message_digest: bytes | None = None,
) -> bytes:
    """A CMS ``ContentInfo`` of type SignedData (RFC 5652 §5) over *econtent*, signed by the DS.

    The one signer of the test PKI: EF.SOD (:func:`sign_sod`) and EF.CardSecurity
    (:func:`sign_card_security`) both go through it. Signed attributes:
    content-type, message-digest and optionally signing-time (RFC 5652 §11).

    :param econtent: the encapsulated content's DER.
    :param econtent_type: the eContentType (and content-type attribute), dotted.
    :param signature_scheme: ``"ecdsa"``, ``"rsa-pkcs1v15"`` or ``"rsa-pss"``;
        default: ECDSA for EC keys, PKCS#1 v1.5 for RSA keys.
    :param message_digest: FAULT INJECTION ONLY: sign this messageDigest
        instead of the hash of the eContent.
    :returns: the DER ContentInfo.
    """
    if signature_scheme is None:
        signature_scheme = (
            "ecdsa" if isinstance(ds_key, ec.EllipticCurvePrivateKey) else "rsa-pkcs1v15"
        )
    if message_digest is None:
        message_digest = hashlib.new(hash_algorithm, econtent).digest()

    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": [econtent_type]},
        {"type": "message_digest", "values": [message_digest]},
    ]
    if signing_time is not None:
        # RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime from 2050.
        when = (
            core.UTCTime(signing_time)
            if signing_time.year < 2050
            else core.GeneralizedTime(signing_time)
        )
        attrs.append({"type": "signing_time", "values": [when]})
    signed_attrs = cms.CMSAttributes(attrs)
    to_sign = signed_attrs.dump()  # the DER SET OF (RFC 5652 §5.4)
    signature = _sign(ds_key, signature_scheme, hash_algorithm, to_sign)

    cert = asn1_x509.Certificate.load(ds_cert.public_bytes(serialization.Encoding.DER))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": hash_algorithm},
            "signed_attrs": signed_attrs,
            "signature_algorithm": _signature_algorithm(signature_scheme, hash_algorithm),
            "signature": signature,
        }
    )
    signed_data: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": hash_algorithm}],
        "encap_content_info": {"content_type": econtent_type, "content": econtent},
        "signer_infos": [signer_info],
    }
    if include_certificate:
        signed_data["certificates"] = [cert]
    content_info = cms.ContentInfo(
        {"content_type": "signed_data", "content": cms.SignedData(signed_data)}
    )
    return bytes(content_info.dump())


def sign_sod(
    dg_hashes: Mapping[int, bytes],
    *,
    hash_algorithm: str = "sha256",
    ds_key: PrivateKey,
    ds_cert: x509.Certificate,
    version: int = 0,
    lds_version: str | None = None,
    unicode_version: str | None = None,
    signing_time: datetime | None = None,
    include_certificate: bool = True,
    signature_scheme: str | None = None,
    econtent_type: str = ID_ICAO_LDS_SECURITY_OBJECT,
    message_digest: bytes | None = None,
) -> bytes:
    """Build a signed EF.SOD (9303-10 §4.6.2) over *dg_hashes*.

    :param dg_hashes: data group number -> hash (see :func:`hash_data_groups`).
    :param hash_algorithm: the LDSSecurityObject hashAlgorithm and the
        SignerInfo digestAlgorithm (asn1crypto name: ``"sha256"``).
    :param version: LDSSecurityObject version, 0 or 1 (v1 adds LDSVersionInfo,
        defaults ``"0108"`` / ``"040000"``).
    :param signing_time: adds a signing-time attribute (RFC 5652 §11.3).
    :param include_certificate: embed the DS certificate in SignedData.certificates.
    :param signature_scheme: ``"ecdsa"``, ``"rsa-pkcs1v15"`` or ``"rsa-pss"``;
        default: ECDSA for EC keys, PKCS#1 v1.5 for RSA keys.
    :param econtent_type: the eContentType (and content-type attribute).
    :param message_digest: FAULT INJECTION ONLY: sign this messageDigest
        instead of the hash of the eContent.
    :returns: the EF.SOD bytes, starting with ``'77'``.
    """
    if version not in (0, 1):
        raise ValueError("LDSSecurityObject version must be 0 or 1")
    lso: dict[str, Any] = {
        "version": version,
        "hash_algorithm": {"algorithm": hash_algorithm},
        "data_group_hash_values": [
            {"data_group_number": n, "data_group_hash_value": bytes(h)}
            for n, h in sorted(dg_hashes.items())
        ],
    }
    if version == 1:
        lso["lds_version_info"] = {
            "lds_version": lds_version or "0108",
            "unicode_version": unicode_version or "040000",
        }
    econtent = LdsSecurityObject(lso).dump()
    content_info = sign_signed_data(
        econtent,
        econtent_type,
        hash_algorithm=hash_algorithm,
        ds_key=ds_key,
        ds_cert=ds_cert,
        signing_time=signing_time,
        include_certificate=include_certificate,
        signature_scheme=signature_scheme,
        message_digest=message_digest,
    )
    return tlv_encode(0x77, content_info)


def sign_card_security(
    security_infos: bytes,
    *,
    hash_algorithm: str = "sha256",
    ds_key: PrivateKey,
    ds_cert: x509.Certificate,
    signature_scheme: str | None = None,
    message_digest: bytes | None = None,
) -> bytes:
    """Build EF.CardSecurity: SecurityInfos signed by the DS (9303-11 §9.2.11, TR-03110-3 A.1.2.5).

    A CMS SignedData with eContentType id-SecurityObject (``0.4.0.127.0.7.3.2.1``)
    over the DER ``SecurityInfos``; unlike EF.SOD the file *is* the ContentInfo
    (no application tag around it).
    """
    return sign_signed_data(
        security_infos,
        ID_SECURITY_OBJECT,
        hash_algorithm=hash_algorithm,
        ds_key=ds_key,
        ds_cert=ds_cert,
        signature_scheme=signature_scheme,
        message_digest=message_digest,
    )
