"""Generated TEST PKIs for passive authentication with every signature form (NOT REAL CSCAs).

Keys are generated at run time; nothing here is a key file. Unlike
:mod:`drivers.virtual.pki` (cryptography's builders, named curves only), the
certificates are assembled with asn1crypto so that a key can carry **explicit
EC domain parameters** (ICAO 9303-12 §5; SEC 1 §C.2 ``SpecifiedECDomain``) or
inherit its issuer's (implicitlyCA, RFC 3279 §2.3.5), and signatures can be
made on curves cryptography lacks (brainpoolP160r1/192r1/224r1/320r1) with
:meth:`epass._crypto.ec.Curve.sign_ecdsa` (documented as for test PKIs).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, core, keys, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from epass._crypto.ec import NAMED_CURVES
from epass.lds.asn1 import ID_ICAO_LDS_SECURITY_OBJECT, LdsSecurityObject
from epass.tlv import encode as tlv_encode

__all__ = ["Pki", "Signer", "certificate", "make_pki", "name", "sign_sod", "spki"]

NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2044, 1, 1, tzinfo=UTC)

_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_CRYPTOGRAPHY_CURVES: Mapping[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}


@dataclass
class Signer:
    """A TEST key pair and how it signs.

    :ivar kind: ``"ecdsa"``, ``"rsa"`` (PKCS#1 v1.5) or ``"rsa-pss"``.
    :ivar hash: the hash (asn1crypto name).
    :ivar curve: the named curve of an EC key.
    :ivar form: how the certificate gives an EC key's curve: ``"named"``,
        ``"explicit"`` or ``"implicit"``.
    """

    kind: str
    hash: str = "sha256"
    curve: str | None = None
    form: str = "named"
    rsa_bits: int = 2048
    salt_length: int | None = None
    d: int = field(default=0, repr=False)
    rsa_key: rsa.RSAPrivateKey | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "ecdsa":
            assert self.curve is not None
            self.d = secrets.randbelow(NAMED_CURVES[self.curve].parameters.n - 1) + 1
        else:
            self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)

    @property
    def public_key_info(self) -> keys.PublicKeyInfo:
        return spki(self)

    @property
    def algorithm(self) -> dict[str, Any]:
        """The signature AlgorithmIdentifier (asn1crypto ``SignedDigestAlgorithm`` value)."""
        if self.kind == "ecdsa":
            return {"algorithm": f"{self.hash}_ecdsa"}
        if self.kind == "rsa":
            return {"algorithm": f"{self.hash}_rsa", "parameters": core.Null()}
        return {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": self.hash},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": self.hash}},
                "salt_length": self._salt,
                "trailer_field": "trailer_field_bc",
            },
        }

    @property
    def _salt(self) -> int:
        return (
            self.salt_length if self.salt_length is not None else _HASHES[self.hash]().digest_size
        )

    def sign(self, data: bytes) -> bytes:
        algorithm = _HASHES[self.hash]()
        if self.kind == "ecdsa":
            assert self.curve is not None
            if self.curve in _CRYPTOGRAPHY_CURVES:
                key = ec.derive_private_key(self.d, _CRYPTOGRAPHY_CURVES[self.curve]())
                return key.sign(data, ec.ECDSA(algorithm))
            curve = NAMED_CURVES[self.curve].curve
            digest = hashlib.new(self.hash, data).digest()
            k = secrets.randbelow(curve.parameters.n - 1) + 1
            r, s = curve.sign_ecdsa(self.d, digest, k)
            return encode_dss_signature(r, s)
        assert self.rsa_key is not None
        if self.kind == "rsa-pss":
            pss = padding.PSS(mgf=padding.MGF1(_HASHES[self.hash]()), salt_length=self._salt)
            return self.rsa_key.sign(data, pss, algorithm)
        return self.rsa_key.sign(data, padding.PKCS1v15(), algorithm)


def _specified(curve_name: str) -> dict[str, Any]:
    prm = NAMED_CURVES[curve_name].parameters
    size = prm.field_size
    return {
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": prm.p},
        "curve": {"a": prm.a.to_bytes(size, "big"), "b": prm.b.to_bytes(size, "big")},
        "base": b"\x04" + prm.gx.to_bytes(size, "big") + prm.gy.to_bytes(size, "big"),
        "order": prm.n,
        "cofactor": prm.h,
    }


def spki(signer: Signer) -> keys.PublicKeyInfo:
    """The SubjectPublicKeyInfo of *signer*, EC parameters in the signer's form."""
    if signer.kind != "ecdsa":
        assert signer.rsa_key is not None
        numbers = signer.rsa_key.public_key().public_numbers()
        return keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "rsa", "parameters": core.Null()},
                "public_key": keys.RSAPublicKey(
                    {"modulus": numbers.n, "public_exponent": numbers.e}
                ),
            }
        )
    assert signer.curve is not None
    named = NAMED_CURVES[signer.curve]
    point = named.curve.multiply(signer.d).encode()
    params: Any
    if signer.form == "explicit":
        params = keys.ECDomainParameters(("specified", _specified(signer.curve)))
    elif signer.form == "implicit":
        params = keys.ECDomainParameters(("implicit_ca", core.Null()))
    else:
        params = keys.ECDomainParameters(("named", named.oid))
    return keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": point}
    )


def name(common_name: str, country: str | None = "UT") -> x509.Name:
    """``C=country, O=epass generated test PKI, CN=common_name`` (no C when *country* is None)."""
    attrs: dict[str, str] = {}
    if country is not None:
        attrs["country_name"] = country
    attrs["organization_name"] = "epass generated test PKI"
    attrs["common_name"] = common_name
    return x509.Name.build(attrs)


def _key_id(info: keys.PublicKeyInfo) -> bytes:
    return hashlib.sha1(bytes(info["public_key"].contents[1:])).digest()


def certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    subject_key: keys.PublicKeyInfo,
    issuer_key: keys.PublicKeyInfo,
    signer: Signer,
    ca: bool,
    serial: int | None = None,
    not_before: datetime = NOT_BEFORE,
    not_after: datetime = NOT_AFTER,
    key_usage: set[str] | None = None,
    extended_key_usage: Sequence[str] | None = None,
    authority_key_identifier: bool = True,
) -> x509.Certificate:
    """An X.509 v3 certificate signed by *signer* (9303-12 §7.1.1 CSCA or DS profile).

    :param authority_key_identifier: ``False`` leaves the extension out (issuer found by name).
    """
    usage = (
        key_usage
        if key_usage is not None
        else ({"key_cert_sign", "crl_sign"} if ca else {"digital_signature"})
    )
    extensions: list[dict[str, Any]] = [
        {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(subject_key)},
    ]
    if authority_key_identifier:
        extensions.append(
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": _key_id(issuer_key)},
            }
        )
    if ca:
        extensions.append(
            {
                "extn_id": "basic_constraints",
                "critical": True,
                "extn_value": {"ca": True, "path_len_constraint": 0},
            }
        )
    if extended_key_usage is not None:
        extensions.append(
            {
                "extn_id": "extended_key_usage",
                "critical": False,
                "extn_value": list(extended_key_usage),
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial if serial is not None else secrets.randbits(63) | 1 << 62,
            "signature": signer.algorithm,
            "issuer": issuer,
            "validity": {
                "not_before": x509.Time({"utc_time": not_before}),
                "not_after": x509.Time(
                    {"utc_time": not_after}
                    if not_after.year < 2050
                    else {"general_time": not_after}
                ),
            },
            "subject": subject,
            "subject_public_key_info": subject_key,
            "extensions": extensions,
        }
    )
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": signer.algorithm,
            "signature_value": signer.sign(tbs.dump()),
        }
    )


@dataclass
class Pki:
    """A generated CSCA and a DS it issued."""

    csca_signer: Signer
    ds_signer: Signer
    csca: x509.Certificate
    ds: x509.Certificate

    @property
    def csca_der(self) -> bytes:
        return bytes(self.csca.dump())

    @property
    def ds_der(self) -> bytes:
        return bytes(self.ds.dump())

    def sign_sod(self, dg_hashes: Mapping[int, bytes], **kwargs: Any) -> bytes:
        return sign_sod(dg_hashes, self.ds_signer, self.ds, **kwargs)


def make_pki(
    csca_signer: Signer,
    ds_signer: Signer,
    *,
    country: str | None = "UT",
    ds_country: str | None = None,
    not_before: datetime = NOT_BEFORE,
    not_after: datetime = NOT_AFTER,
    ds_not_before: datetime | None = None,
    ds_not_after: datetime | None = None,
    ds_key_usage: set[str] | None = None,
    ds_extended_key_usage: Sequence[str] | None = None,
    csca_key_usage: set[str] | None = None,
    csca_extended_key_usage: Sequence[str] | None = None,
) -> Pki:
    """A self-signed TEST CSCA (country *country*) and a DS it issued (country *ds_country*)."""
    csca_name = name(f"TEST CSCA {csca_signer.kind} {csca_signer.curve or ''}".strip(), country)
    ds_name = name(
        f"TEST DS {ds_signer.kind} {ds_signer.curve or ''}".strip(),
        country if ds_country is None else ds_country,
    )
    csca_key = spki(csca_signer)
    csca = certificate(
        subject=csca_name,
        issuer=csca_name,
        subject_key=csca_key,
        issuer_key=csca_key,
        signer=csca_signer,
        ca=True,
        not_before=not_before,
        not_after=not_after,
        key_usage=csca_key_usage,
        extended_key_usage=csca_extended_key_usage,
    )
    ds = certificate(
        subject=ds_name,
        issuer=csca_name,
        subject_key=spki(ds_signer),
        issuer_key=csca_key,
        signer=csca_signer,
        ca=False,
        not_before=ds_not_before or not_before,
        not_after=ds_not_after or not_after,
        key_usage=ds_key_usage,
        extended_key_usage=ds_extended_key_usage,
    )
    return Pki(csca_signer, ds_signer, csca, ds)


def sign_sod(
    dg_hashes: Mapping[int, bytes],
    signer: Signer,
    ds: x509.Certificate,
    *,
    hash_algorithm: str = "sha256",
    signing_time: datetime | None = None,
    include_certificate: bool = True,
    sid: str = "issuer_and_serial_number",
    sid_issuer: x509.Name | None = None,
    econtent_type: str = ID_ICAO_LDS_SECURITY_OBJECT,
    econtent: bytes | None = None,
    version: int = 0,
    wrap: bool = True,
) -> bytes:
    """An EF.SOD (``'77'`` around SignedData over an LDSSecurityObject, 9303-10 §4.6.2).

    :param sid: ``"issuer_and_serial_number"`` or ``"subject_key_identifier"``.
    :param sid_issuer: FOR SLOPPY-SIGNER TESTS: the issuer name the SignerInfo
        gives (default: the DS certificate's issuer, as encoded there).
    :param econtent: another eContent (EF.CardSecurity's SecurityInfos).
    :param wrap: put the ContentInfo in tag ``'77'`` (EF.SOD); ``False`` for EF.CardSecurity.
    """
    if econtent is None:
        lso: dict[str, Any] = {
            "version": version,
            "hash_algorithm": {"algorithm": hash_algorithm},
            "data_group_hash_values": [
                {"data_group_number": n, "data_group_hash_value": bytes(h)}
                for n, h in sorted(dg_hashes.items())
            ],
        }
        if version == 1:
            lso["lds_version_info"] = {"lds_version": "0108", "unicode_version": "040000"}
        econtent = LdsSecurityObject(lso).dump()
    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": [econtent_type]},
        {"type": "message_digest", "values": [hashlib.new(signer.hash, econtent).digest()]},
    ]
    if signing_time is not None:
        attrs.append({"type": "signing_time", "values": [core.UTCTime(signing_time)]})
    signed_attrs = cms.CMSAttributes(attrs)
    signature = signer.sign(signed_attrs.dump())
    if sid == "subject_key_identifier":
        identifier = cms.SignerIdentifier({"subject_key_identifier": ds.key_identifier})
        si_version = "v3"
    else:
        identifier = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": sid_issuer if sid_issuer is not None else ds.issuer,
                    "serial_number": ds.serial_number,
                }
            }
        )
        si_version = "v1"
    signer_info = cms.SignerInfo(
        {
            "version": si_version,
            "sid": identifier,
            "digest_algorithm": {"algorithm": signer.hash},
            "signed_attrs": signed_attrs,
            "signature_algorithm": signer.algorithm,
            "signature": signature,
        }
    )
    signed_data: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": signer.hash}],
        "encap_content_info": {"content_type": econtent_type, "content": econtent},
        "signer_infos": [signer_info],
    }
    if include_certificate:
        signed_data["certificates"] = [ds]
    content_info = cms.ContentInfo(
        {"content_type": "signed_data", "content": cms.SignedData(signed_data)}
    )
    der = bytes(content_info.dump())
    return tlv_encode(0x77, der) if wrap else der
