"""SecurityInfos: the protocol announcements of DG14, EF.CardAccess and EF.CardSecurity.

Sources: ICAO Doc 9303-11 §9.2 (SecurityInfos, PACEInfo, PACEDomainParameterInfo,
ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, ActiveAuthenticationInfo,
TerminalAuthenticationInfo) and BSI TR-03110-3 Appendix A.1 (the same
structures with ChipAuthenticationDomainParameterInfo, the OID tree under
``bsi-de 0.4.0.127.0.7``) and A.2.1.1 (standardized domain parameters)::

    SecurityInfos ::= SET OF SecurityInfo
    SecurityInfo ::= SEQUENCE {
        protocol     OBJECT IDENTIFIER,
        requiredData ANY DEFINED BY protocol,
        optionalData ANY DEFINED BY protocol OPTIONAL }

The ASN.1 structures are declared below as asn1crypto classes under their
ASN.1 names (:class:`PACEInfo`, :class:`ChipAuthenticationInfo`, ...). Each has
its own ``_map``/``_oid_specs``; nothing is registered in asn1crypto's global
tables. What :func:`parse_security_infos` returns are frozen dataclasses with
short names (:class:`PaceInfo`, :class:`CaInfo`, :class:`CaPublicKeyInfo`,
:class:`CaDomainParameterInfo`, :class:`PaceDomainParameterInfo`,
:class:`TaInfo`, :class:`AaInfo`, :class:`UnknownSecurityInfo`), each keeping
the raw DER of its element and the element's offset in the file. Protocols
this module does not know (Restricted Identification, CardInfoLocator,
PrivilegedTerminalInfo, PSA, national OIDs...) are kept as
:class:`UnknownSecurityInfo`, not rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos, core, keys

from epass import tlv
from epass.errors import BUILTIN_PARSE_ERRORS, ParseError, parsing

__all__ = [
    "ID_AA",
    "ID_CA",
    "ID_PACE",
    "ID_PK",
    "ID_STANDARDIZED_DOMAIN_PARAMETERS",
    "ID_TA",
    "MAX_ELEMENT",
    "MAX_INFOS",
    "STANDARDIZED_DOMAIN_PARAMETERS",
    "AaInfo",
    "ActiveAuthenticationInfo",
    "AnySecurityInfo",
    "CaDomainParameterInfo",
    "CaInfo",
    "CaPublicKeyInfo",
    "ChipAuthenticationDomainParameterInfo",
    "ChipAuthenticationInfo",
    "ChipAuthenticationPublicKeyInfo",
    "DomainParameterAlgorithm",
    "FileId",
    "PACEDomainParameterInfo",
    "PACEInfo",
    "PaceDomainParameterInfo",
    "PaceInfo",
    "SecurityInfo",
    "SecurityInfoBase",
    "SecurityInfoSet",
    "SecurityInfos",
    "StandardizedDomainParameter",
    "SubjectPublicKeyInfo",
    "TaInfo",
    "TerminalAuthenticationInfo",
    "UnknownSecurityInfo",
    "encode_aa_info",
    "encode_ca_domain_parameter_info",
    "encode_ca_info",
    "encode_ca_public_key_info",
    "encode_pace_domain_parameter_info",
    "encode_pace_info",
    "encode_security_infos",
    "encode_ta_info",
    "parse_security_infos",
    "protocol_name",
]

# ---------------------------------------------------------------------------
# object identifiers (TR-03110-3 A.1, 9303-11 §9.2)

_BSI = "0.4.0.127.0.7"
_EAC = f"{_BSI}.2.2"
#: id-PK (chip authentication public keys): ``.1`` DH, ``.2`` ECDH.
ID_PK = f"{_EAC}.1"
#: id-TA (terminal authentication).
ID_TA = f"{_EAC}.2"
#: id-CA (chip authentication): ``.1`` DH, ``.2`` ECDH, then the cipher.
ID_CA = f"{_EAC}.3"
#: id-PACE: ``.1`` DH-GM, ``.2`` ECDH-GM, ``.3`` DH-IM, ``.4`` ECDH-IM, ``.6`` ECDH-CAM.
ID_PACE = f"{_EAC}.4"
#: id-icao-mrtd-security-aaProtocolObject (9303-11 §9.2.6).
ID_AA = "2.23.136.1.1.5"
#: standardizedDomainParameters (TR-03110-3 A.2.1.1): parameters are an INTEGER id.
ID_STANDARDIZED_DOMAIN_PARAMETERS = f"{_BSI}.1.2"

ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_DH_PUBLIC_NUMBER = "1.2.840.10046.2.1"
ID_DH_KEY_AGREEMENT = "1.2.840.113549.1.3.1"

_CIPHERS = {
    "1": ("3DES-CBC-CBC", "3DES", 112),
    "2": ("AES-CBC-CMAC-128", "AES", 128),
    "3": ("AES-CBC-CMAC-192", "AES", 192),
    "4": ("AES-CBC-CMAC-256", "AES", 256),
}
_PACE_FAMILIES = {
    "1": ("DH", "GM"),
    "2": ("ECDH", "GM"),
    "3": ("DH", "IM"),
    "4": ("ECDH", "IM"),
    "6": ("ECDH", "CAM"),
}
_KA = {"1": "DH", "2": "ECDH"}


def _build_names() -> dict[str, str]:
    names = {
        ID_PK: "id-PK",
        f"{ID_PK}.1": "id-PK-DH",
        f"{ID_PK}.2": "id-PK-ECDH",
        ID_TA: "id-TA",
        ID_CA: "id-CA",
        ID_PACE: "id-PACE",
        f"{_EAC}.5": "id-RI",
        f"{_EAC}.6": "id-CI",
        f"{_EAC}.7": "id-eIDSecurity",
        f"{_EAC}.8": "id-PT",
        f"{_EAC}.11": "id-PS",
        ID_AA: "id-icao-mrtd-security-aaProtocolObject",
        ID_STANDARDIZED_DOMAIN_PARAMETERS: "standardizedDomainParameters",
    }
    for k, ka in _KA.items():
        names[f"{ID_CA}.{k}"] = f"id-CA-{ka}"
        for c, (cipher, _, _) in _CIPHERS.items():
            names[f"{ID_CA}.{k}.{c}"] = f"id-CA-{ka}-{cipher}"
        names[f"{_EAC}.5.{k}"] = f"id-RI-{ka}"
        for h, digest in (("1", "SHA-1"), ("2", "SHA-224"), ("3", "SHA-256"), ("4", "SHA-384"),
                          ("5", "SHA-512")):  # fmt: skip
            names[f"{_EAC}.5.{k}.{h}"] = f"id-RI-{ka}-{digest}"
    for f, (ka, mapping) in _PACE_FAMILIES.items():
        names[f"{ID_PACE}.{f}"] = f"id-PACE-{ka}-{mapping}"
        for c, (cipher, _, _) in _CIPHERS.items():
            if mapping == "CAM" and c == "1":
                continue  # no 3DES with chip authentication mapping
            names[f"{ID_PACE}.{f}.{c}"] = f"id-PACE-{ka}-{mapping}-{cipher}"
    return names


_NAMES = _build_names()

#: Active Authentication signature algorithms (9303-11 §9.2.6: BSI TR-03111 ecdsa-plain).
_AA_SIGNATURE_NAMES = {
    f"{_BSI}.1.1.4.1.1": "ecdsa-plain-SHA1",
    f"{_BSI}.1.1.4.1.2": "ecdsa-plain-SHA224",
    f"{_BSI}.1.1.4.1.3": "ecdsa-plain-SHA256",
    f"{_BSI}.1.1.4.1.4": "ecdsa-plain-SHA384",
    f"{_BSI}.1.1.4.1.5": "ecdsa-plain-SHA512",
    f"{_BSI}.1.1.4.1.6": "ecdsa-plain-RIPEMD160",
}


def protocol_name(oid: str) -> str:
    """A readable name for a SecurityInfo protocol OID (the dotted OID if unknown).

    >>> protocol_name("0.4.0.127.0.7.2.2.3.2.2")
    'id-CA-ECDH-AES-CBC-CMAC-128'
    """
    return _NAMES.get(oid) or _AA_SIGNATURE_NAMES.get(oid) or oid


@dataclass(frozen=True)
class StandardizedDomainParameter:
    """One row of TR-03110-3 Table 4 / 9303-11 §9.5.1 (standardized domain parameters)."""

    id: int
    name: str
    kind: str  # "DH" or "ECDH"
    bits: int


#: Standardized domain parameters by id (9303-11 §9.5.1, TR-03110-3 A.2.1.1).
STANDARDIZED_DOMAIN_PARAMETERS: dict[int, StandardizedDomainParameter] = {
    p.id: p
    for p in (
        StandardizedDomainParameter(0, "1024-bit MODP Group with 160-bit Prime Order Subgroup",
                                    "DH", 1024),
        StandardizedDomainParameter(1, "2048-bit MODP Group with 224-bit Prime Order Subgroup",
                                    "DH", 2048),
        StandardizedDomainParameter(2, "2048-bit MODP Group with 256-bit Prime Order Subgroup",
                                    "DH", 2048),
        StandardizedDomainParameter(8, "secp192r1", "ECDH", 192),
        StandardizedDomainParameter(9, "brainpoolP192r1", "ECDH", 192),
        StandardizedDomainParameter(10, "secp224r1", "ECDH", 224),
        StandardizedDomainParameter(11, "brainpoolP224r1", "ECDH", 224),
        StandardizedDomainParameter(12, "secp256r1", "ECDH", 256),
        StandardizedDomainParameter(13, "brainpoolP256r1", "ECDH", 256),
        StandardizedDomainParameter(14, "brainpoolP320r1", "ECDH", 320),
        StandardizedDomainParameter(15, "secp384r1", "ECDH", 384),
        StandardizedDomainParameter(16, "brainpoolP384r1", "ECDH", 384),
        StandardizedDomainParameter(17, "brainpoolP512r1", "ECDH", 512),
        StandardizedDomainParameter(18, "secp521r1", "ECDH", 521),
    )
}  # fmt: skip

#: Bit sizes of named curves (by asn1crypto's NamedCurve name).
NAMED_CURVE_BITS: dict[str, int] = {
    "secp192r1": 192,
    "secp224r1": 224,
    "secp256r1": 256,
    "secp384r1": 384,
    "secp521r1": 521,
    **{f"brainpoolp{n}{v}": n for n in (160, 192, 224, 256, 320, 384, 512) for v in ("r1", "t1")},
}


# ---------------------------------------------------------------------------
# ASN.1 declarations (asn1crypto)


class SecurityInfo(core.Sequence):
    """``SecurityInfo`` (9303-11 §9.2): the generic form every element has."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class SecurityInfoSet(core.SetOf):
    """``SecurityInfos ::= SET OF SecurityInfo`` (9303-11 §9.2)."""

    _child_spec = SecurityInfo


class _DomainParameterAlgorithmId(core.ObjectIdentifier):
    _map = {  # noqa: RUF012
        ID_STANDARDIZED_DOMAIN_PARAMETERS: "standardized",
        ID_EC_PUBLIC_KEY: "ec",
        ID_DH_PUBLIC_NUMBER: "dh",
        ID_DH_KEY_AGREEMENT: "dh_pkcs3",
    }


class DomainParameterAlgorithm(core.Sequence):
    """``AlgorithmIdentifier`` of domain parameters (TR-03110-3 A.2.1).

    ``standardizedDomainParameters`` carries an INTEGER id; ``id-ecPublicKey``
    ECParameters (named or explicit); ``dhpublicnumber`` X9.42 DomainParameters;
    PKCS #3 ``dhKeyAgreement`` DHParameter. Other algorithms keep ``ANY``.
    """

    _fields = [  # noqa: RUF012
        ("algorithm", _DomainParameterAlgorithmId),
        ("parameters", core.Any, {"optional": True}),
    ]
    _oid_pair = ("algorithm", "parameters")
    _oid_specs = {  # noqa: RUF012
        "standardized": core.Integer,
        "ec": keys.ECDomainParameters,
        "dh": keys.DomainParameters,
        "dh_pkcs3": algos.DHParameters,
    }


class SubjectPublicKeyInfo(core.Sequence):
    """``SubjectPublicKeyInfo`` of a chip authentication key (TR-03110-3 A.1.1.2).

    Like RFC 5280's, but the algorithm may also be PKCS #3 ``dhKeyAgreement``
    or ``standardizedDomainParameters``, which :class:`asn1crypto.keys.PublicKeyInfo`
    does not know. ``public_key`` is the BIT STRING content: the EC point, or
    the DER INTEGER of a DH public value.
    """

    _fields = [  # noqa: RUF012
        ("algorithm", DomainParameterAlgorithm),
        ("public_key", core.OctetBitString),
    ]


class FileId(core.Sequence):
    """``FileID ::= SEQUENCE { fid OCTET STRING (SIZE(2)),
    sfid OCTET STRING (SIZE(1)) OPTIONAL }`` (9303-11 §9.2.5)."""

    _fields = [  # noqa: RUF012
        ("fid", core.OctetString),
        ("sfid", core.OctetString, {"optional": True}),
    ]


class PACEInfo(core.Sequence):
    """``PACEInfo ::= SEQUENCE { protocol, version INTEGER, parameterId INTEGER OPTIONAL }``.

    9303-11 §9.2.1.
    """

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


class PACEDomainParameterInfo(core.Sequence):
    """``PACEDomainParameterInfo ::= SEQUENCE { protocol, domainParameter
    AlgorithmIdentifier, parameterId INTEGER OPTIONAL }`` (9303-11 §9.2.2)."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", DomainParameterAlgorithm),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


class ChipAuthenticationInfo(core.Sequence):
    """``ChipAuthenticationInfo ::= SEQUENCE { protocol, version INTEGER,
    keyId INTEGER OPTIONAL }`` (9303-11 §9.2.3, TR-03110-3 A.1.1.2)."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("key_id", core.Integer, {"optional": True}),
    ]


class ChipAuthenticationDomainParameterInfo(core.Sequence):
    """``ChipAuthenticationDomainParameterInfo ::= SEQUENCE { protocol,
    domainParameter AlgorithmIdentifier, keyId INTEGER OPTIONAL }`` (TR-03110-3 A.1.1.2)."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", DomainParameterAlgorithm),
        ("key_id", core.Integer, {"optional": True}),
    ]


class ChipAuthenticationPublicKeyInfo(core.Sequence):
    """``ChipAuthenticationPublicKeyInfo ::= SEQUENCE { protocol,
    chipAuthenticationPublicKey SubjectPublicKeyInfo, keyId INTEGER OPTIONAL }``
    (9303-11 §9.2.4)."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("chip_authentication_public_key", SubjectPublicKeyInfo),
        ("key_id", core.Integer, {"optional": True}),
    ]


class _FlatChipAuthenticationPublicKeyInfo(core.Sequence):
    """A non-conforming ChipAuthenticationPublicKeyInfo seen in the wild (JMRTD's
    EF.CardSecurity test dump): the SubjectPublicKeyInfo's two fields appear
    directly in the element instead of inside their SEQUENCE."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("algorithm", DomainParameterAlgorithm),
        ("public_key", core.OctetBitString),
        ("key_id", core.Integer, {"optional": True}),
    ]


class TerminalAuthenticationInfo(core.Sequence):
    """``TerminalAuthenticationInfo ::= SEQUENCE { protocol id-TA, version INTEGER,
    efCVCA FileID OPTIONAL }`` (9303-11 §9.2.5; efCVCA only in version 1)."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("ef_cvca", FileId, {"optional": True}),
    ]


class ActiveAuthenticationInfo(core.Sequence):
    """``ActiveAuthenticationInfo ::= SEQUENCE { protocol id-icao-mrtd-security-aaProtocolObject,
    version INTEGER, signatureAlgorithm OBJECT IDENTIFIER }`` (9303-11 §9.2.6)."""

    _fields = [  # noqa: RUF012
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


# ---------------------------------------------------------------------------
# parsed results


@dataclass(frozen=True)
class SecurityInfoBase:
    """What every parsed SecurityInfo carries.

    :ivar protocol: the protocol OID, dotted.
    :ivar name: a readable protocol name (``"id-PACE-ECDH-GM-AES-CBC-CMAC-128"``).
    :ivar raw: the DER of this element as read.
    :ivar offset: where the element starts in its file.
    :ivar problems: deviations from the specification that did not stop parsing.
    """

    protocol: str
    name: str
    raw: bytes = field(repr=False)
    offset: int
    problems: tuple[str, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class PaceInfo(SecurityInfoBase):
    """A PACEInfo (9303-11 §9.2.1).

    :ivar key_agreement: ``"DH"`` or ``"ECDH"``.
    :ivar mapping: ``"GM"``, ``"IM"`` or ``"CAM"``.
    :ivar cipher: ``"3DES"`` or ``"AES"``; :ivar key_length: 112/128/192/256.
    :ivar parameter_id: the standardized domain parameter id, if given.
    """

    version: int
    parameter_id: int | None
    key_agreement: str | None
    mapping: str | None
    cipher: str | None
    key_length: int | None

    @property
    def parameter(self) -> StandardizedDomainParameter | None:
        """The standardized domain parameters named by :attr:`parameter_id`."""
        return (
            None
            if self.parameter_id is None
            else STANDARDIZED_DOMAIN_PARAMETERS.get(self.parameter_id)
        )


@dataclass(frozen=True)
class _DomainParameters(SecurityInfoBase):
    """Shared by the two DomainParameterInfo kinds.

    :ivar algorithm: the AlgorithmIdentifier OID, dotted.
    :ivar standardized_id: the id when the algorithm is standardizedDomainParameters.
    :ivar explicit: whether the parameters are given explicitly (EC or DH values).
    :ivar curve_name: the named curve when the parameters name one.
    :ivar domain_parameter: the asn1crypto :class:`DomainParameterAlgorithm`.
    """

    algorithm: str
    standardized_id: int | None
    explicit: bool
    curve_name: str | None
    domain_parameter: Any = field(repr=False)


@dataclass(frozen=True)
class PaceDomainParameterInfo(_DomainParameters):
    """A PACEDomainParameterInfo (9303-11 §9.2.2)."""

    parameter_id: int | None


@dataclass(frozen=True)
class CaDomainParameterInfo(_DomainParameters):
    """A ChipAuthenticationDomainParameterInfo (TR-03110-3 A.1.1.2)."""

    key_id: int | None


@dataclass(frozen=True)
class CaInfo(SecurityInfoBase):
    """A ChipAuthenticationInfo (9303-11 §9.2.3).

    :ivar key_agreement: ``"DH"`` or ``"ECDH"``; :ivar cipher: ``"3DES"`` or ``"AES"``;
    :ivar key_length: 112/128/192/256.
    """

    version: int
    key_id: int | None
    key_agreement: str | None
    cipher: str | None
    key_length: int | None


@dataclass(frozen=True)
class CaPublicKeyInfo(SecurityInfoBase):
    """A ChipAuthenticationPublicKeyInfo (9303-11 §9.2.4).

    :ivar key_agreement: ``"DH"`` (id-PK-DH) or ``"ECDH"`` (id-PK-ECDH).
    :ivar algorithm: the key's AlgorithmIdentifier OID, dotted.
    :ivar key_id: the key id, if given.
    :ivar public_key: the BIT STRING content (EC point, or DER INTEGER for DH).
    :ivar explicit: whether the domain parameters are explicit.
    :ivar curve_name: the named curve, or the standardized parameters' curve.
    :ivar standardized_id: the standardized domain parameter id, if used.
    :ivar key_size: field size in bits (EC) or modulus size (DH), where known.
    :ivar subject_public_key_info: the DER of the SubjectPublicKeyInfo.
    :ivar public_key_info: the asn1crypto :class:`SubjectPublicKeyInfo`.
    """

    key_agreement: str | None
    algorithm: str
    key_id: int | None
    public_key: bytes = field(repr=False)
    explicit: bool
    curve_name: str | None
    standardized_id: int | None
    key_size: int | None
    subject_public_key_info: bytes = field(repr=False)
    public_key_info: Any = field(repr=False)


@dataclass(frozen=True)
class TaInfo(SecurityInfoBase):
    """A TerminalAuthenticationInfo (9303-11 §9.2.5)."""

    version: int
    ef_cvca_fid: bytes | None
    ef_cvca_sfid: bytes | None


@dataclass(frozen=True)
class AaInfo(SecurityInfoBase):
    """An ActiveAuthenticationInfo (9303-11 §9.2.6).

    :ivar signature_algorithm: the OID, dotted; :ivar signature_algorithm_name:
        e.g. ``"ecdsa-plain-SHA256"`` (the OID if unknown).
    """

    version: int
    signature_algorithm: str
    signature_algorithm_name: str


@dataclass(frozen=True)
class UnknownSecurityInfo(SecurityInfoBase):
    """A SecurityInfo of a protocol this module does not interpret (kept, not an error)."""


AnySecurityInfo = (
    PaceInfo
    | PaceDomainParameterInfo
    | CaInfo
    | CaDomainParameterInfo
    | CaPublicKeyInfo
    | TaInfo
    | AaInfo
    | UnknownSecurityInfo
)


@dataclass(frozen=True)
class SecurityInfos:
    """A parsed ``SecurityInfos`` set.

    :ivar infos: every element, in the order stored.
    :ivar raw: the bytes parsed (the SET, plus any trailing bytes).
    :ivar trailing: bytes after the SET (tolerated in EF.CardAccess, where
        some chips pad the file; empty otherwise).
    """

    infos: tuple[AnySecurityInfo, ...]
    raw: bytes = field(repr=False)
    trailing: bytes = b""

    @property
    def problems(self) -> tuple[str, ...]:
        """Deviations that did not stop parsing (trailing bytes, odd encodings)."""
        out = [f"{i.name} at offset {i.offset}: {p}" for i in self.infos for p in i.problems]
        if self.trailing:
            out.append(f"{len(self.trailing)} bytes after the SecurityInfos set")
        return tuple(out)

    @property
    def pace_infos(self) -> tuple[PaceInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, PaceInfo))

    @property
    def pace_domain_parameter_infos(self) -> tuple[PaceDomainParameterInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, PaceDomainParameterInfo))

    @property
    def ca_infos(self) -> tuple[CaInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, CaInfo))

    @property
    def ca_public_keys(self) -> tuple[CaPublicKeyInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, CaPublicKeyInfo))

    @property
    def ca_domain_parameter_infos(self) -> tuple[CaDomainParameterInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, CaDomainParameterInfo))

    @property
    def ta_infos(self) -> tuple[TaInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, TaInfo))

    @property
    def aa_info(self) -> AaInfo | None:
        """The ActiveAuthenticationInfo (DG14 of an ECDSA AA chip), if any."""
        return next((i for i in self.infos if isinstance(i, AaInfo)), None)

    @property
    def unknown(self) -> tuple[UnknownSecurityInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, UnknownSecurityInfo))


# ---------------------------------------------------------------------------
# parsing

#: Largest SecurityInfo element accepted, in bytes. The largest real one, a
#: ChipAuthenticationPublicKeyInfo with explicit 2048-bit DH parameters, is
#: about 1.5 KB; the bound keeps what asn1crypto is given small.
MAX_ELEMENT = 64 * 1024
#: Most SecurityInfo elements accepted in one set: a DG14 or EF.CardSecurity
#: announces a handful of protocols and keys (fewer than twenty in practice).
MAX_INFOS = 256


def _force(value: Any, depth: int = 0) -> None:
    """Walk *value* so asn1crypto's lazy parse raises now, not on later access.

    ``ANY`` values without a spec are left as bytes: asn1crypto cannot give
    a native form of an unknown constructed value, and none is needed.
    """
    if depth > 32:
        raise ValueError("ASN.1 nesting too deep")
    if isinstance(value, core.Any | core.Void):
        return
    if isinstance(value, core.Choice):
        _force(value.chosen, depth + 1)
    elif isinstance(value, core.Sequence):
        for name in value:
            _force(value[name], depth + 1)
    elif isinstance(value, core.SequenceOf):
        for child in value:
            _force(child, depth + 1)
    else:
        value.native  # noqa: B018 - decodes the primitive


def _load(cls: type[Any], der: bytes, *, file: str, offset: int) -> Any:
    with parsing(file, offset, f"malformed {cls.__name__}"):
        value = cls.load(der, strict=True)
        _force(value)
    return value


def _suffix(oid: str, prefix: str) -> list[str] | None:
    if not oid.startswith(prefix + "."):
        return None
    return oid[len(prefix) + 1 :].split(".")


def _ec_params(params: Any) -> tuple[bool, str | None, int | None]:
    """(explicit, curve name, field bits) of asn1crypto ECDomainParameters."""
    if params.name == "named":
        name = params.chosen.native
        return False, name, NAMED_CURVE_BITS.get(name)
    if params.name == "specified":
        field_id = params.chosen["field_id"]
        bits = None
        if field_id["field_type"].native == "prime_field":
            bits = int(field_id["parameters"].native).bit_length()
        return True, None, bits
    return False, None, None


def _domain_parameters(alg: Any) -> tuple[str, int | None, bool, str | None, int | None]:
    """(OID, standardized id, explicit, curve name, bits) of a DomainParameterAlgorithm."""
    oid = alg["algorithm"].dotted
    kind = alg["algorithm"].native
    params = alg["parameters"]
    if kind == "standardized":
        std_id = int(params.native)
        std = STANDARDIZED_DOMAIN_PARAMETERS.get(std_id)
        curve = std.name if std is not None and std.kind == "ECDH" else None
        return oid, std_id, False, curve, None if std is None else std.bits
    if kind == "ec":
        explicit, curve, bits = _ec_params(params)
        return oid, None, explicit, curve, bits
    if kind in ("dh", "dh_pkcs3"):
        return oid, None, True, None, int(params["p"].native).bit_length()
    # An algorithm we do not know: explicit when it carries parameters.
    return oid, None, bool(getattr(params, "contents", None)), None, None


def _parse_element(der: bytes, offset: int, file: str) -> AnySecurityInfo:
    generic = _load(SecurityInfo, der, file=file, offset=offset)
    oid = generic["protocol"].dotted
    name = protocol_name(oid)
    common = {"protocol": oid, "name": name, "raw": der, "offset": offset}
    with parsing(file, offset, f"malformed {name}"):  # a value present but of an unusable form
        pace = _suffix(oid, ID_PACE)
        if pace is not None and len(pace) == 2 and pace[0] in _PACE_FAMILIES:
            v = _load(PACEInfo, der, file=file, offset=offset)
            ka, mapping = _PACE_FAMILIES[pace[0]]
            cipher = _CIPHERS.get(pace[1])
            return PaceInfo(
                **common,
                version=int(v["version"].native),
                parameter_id=v["parameter_id"].native,
                key_agreement=ka,
                mapping=mapping,
                cipher=None if cipher is None else cipher[1],
                key_length=None if cipher is None else cipher[2],
            )
        if pace is not None and len(pace) == 1 and pace[0] in _PACE_FAMILIES:
            v = _load(PACEDomainParameterInfo, der, file=file, offset=offset)
            alg, std, explicit, curve, _ = _domain_parameters(v["domain_parameter"])
            return PaceDomainParameterInfo(
                **common,
                algorithm=alg,
                standardized_id=std,
                explicit=explicit,
                curve_name=curve,
                domain_parameter=v["domain_parameter"],
                parameter_id=v["parameter_id"].native,
            )
        ca = _suffix(oid, ID_CA)
        if ca is not None and len(ca) == 2 and ca[0] in _KA:
            v = _load(ChipAuthenticationInfo, der, file=file, offset=offset)
            cipher = _CIPHERS.get(ca[1])
            return CaInfo(
                **common,
                version=int(v["version"].native),
                key_id=v["key_id"].native,
                key_agreement=_KA[ca[0]],
                cipher=None if cipher is None else cipher[1],
                key_length=None if cipher is None else cipher[2],
            )
        if ca is not None and len(ca) == 1 and ca[0] in _KA:
            v = _load(ChipAuthenticationDomainParameterInfo, der, file=file, offset=offset)
            alg, std, explicit, curve, _ = _domain_parameters(v["domain_parameter"])
            return CaDomainParameterInfo(
                **common,
                algorithm=alg,
                standardized_id=std,
                explicit=explicit,
                curve_name=curve,
                domain_parameter=v["domain_parameter"],
                key_id=v["key_id"].native,
            )
        pk = _suffix(oid, ID_PK)
        if pk is not None and len(pk) == 1 and pk[0] in _KA:
            problems: tuple[str, ...] = ()
            try:
                v = _load(ChipAuthenticationPublicKeyInfo, der, file=file, offset=offset)
                spki = v["chip_authentication_public_key"]
            except ParseError as exc:
                try:
                    v = _load(_FlatChipAuthenticationPublicKeyInfo, der, file=file, offset=offset)
                except ParseError:
                    raise exc from None
                spki = SubjectPublicKeyInfo(
                    {"algorithm": v["algorithm"], "public_key": v["public_key"]}
                )
                problems = (
                    "SubjectPublicKeyInfo fields not wrapped in a SEQUENCE (non-conforming)",
                )
            alg, std, explicit, curve, bits = _domain_parameters(spki["algorithm"])
            return CaPublicKeyInfo(
                **common,
                key_agreement=_KA[pk[0]],
                algorithm=alg,
                key_id=v["key_id"].native,
                public_key=bytes(spki["public_key"].native),
                explicit=explicit,
                curve_name=curve,
                standardized_id=std,
                key_size=bits,
                subject_public_key_info=spki.dump(),
                public_key_info=spki,
                problems=problems,
            )
        if oid == ID_TA:
            v = _load(TerminalAuthenticationInfo, der, file=file, offset=offset)
            ef = v["ef_cvca"]
            has_ef = ef.native is not None
            return TaInfo(
                **common,
                version=int(v["version"].native),
                ef_cvca_fid=bytes(ef["fid"].native) if has_ef else None,
                ef_cvca_sfid=ef["sfid"].native if has_ef else None,
            )
        if oid == ID_AA:
            v = _load(ActiveAuthenticationInfo, der, file=file, offset=offset)
            sig = v["signature_algorithm"].dotted
            return AaInfo(
                **common,
                version=int(v["version"].native),
                signature_algorithm=sig,
                signature_algorithm_name=_AA_SIGNATURE_NAMES.get(sig, sig),
            )
    return UnknownSecurityInfo(**common)


def parse_security_infos(
    data: bytes | bytearray | memoryview,
    *,
    file: str = "EF.CardAccess",
    base: int = 0,
    allow_trailing: bool | None = None,
) -> SecurityInfos:
    """Parse a DER ``SecurityInfos`` set (9303-11 §9.2, TR-03110-3 A.1).

    Used for the content of DG14, EF.CardAccess and the signed content of
    EF.CardSecurity. Each element is checked to be well-formed, shallow and
    at most :data:`MAX_ELEMENT` bytes before asn1crypto decodes it, so time
    and memory are linear in the input.

    :param data: the bytes (a memoryview over bytes is read in place).
    :param file: the file name for errors (``"DG14"``, ``"EF.CardAccess"``);
        ``"EF.CardAccess"`` by default (``parse_security_infos(data).pace_infos``).
    :param base: offset of ``data[0]`` in that file.
    :param allow_trailing: tolerate bytes after the SET (kept in
        :attr:`SecurityInfos.trailing`). Defaults to ``True`` for
        ``"EF.CardAccess"`` (chips pad it) and ``False`` otherwise.
    :raises ParseError: naming *file* and the offset if the bytes are not a
        SET of SEQUENCEs each starting with an OID, there are more than
        :data:`MAX_INFOS` elements or one is larger than :data:`MAX_ELEMENT`,
        or an element of a known protocol is malformed.
    """
    if allow_trailing is None:
        allow_trailing = file == "EF.CardAccess"
    top = tlv.decode(data, 0, file=file, base=base)
    if top.tag != 0x31:
        raise ParseError(
            f"SecurityInfos must be a SET (31), found tag {top.tag:02X}", file=file, offset=base
        )
    set_end = top.end - base
    if set_end != len(data) and not allow_trailing:
        raise ParseError(
            f"{len(data) - set_end} trailing bytes after SecurityInfos", file=file, offset=top.end
        )
    infos: list[AnySecurityInfo] = []
    for element in top.iter_children(file=file):
        if len(infos) == MAX_INFOS:
            raise ParseError(
                f"more than {MAX_INFOS} SecurityInfo elements", file=file, offset=element.offset
            )
        if element.tag != 0x30:
            raise ParseError(
                f"SecurityInfo must be a SEQUENCE (30), found tag {element.tag:02X}",
                file=file,
                offset=element.offset,
            )
        size = element.end - element.offset
        if size > MAX_ELEMENT:
            raise ParseError(
                f"SecurityInfo of {size} bytes (at most {MAX_ELEMENT})",
                file=file,
                offset=element.offset,
            )
        tlv.check_tree(element, file=file)
        infos.append(_parse_element(element.encoded, element.offset, file))
    raw = bytes(data)
    return SecurityInfos(tuple(infos), raw, raw[set_end:])


# ---------------------------------------------------------------------------
# encoding (test documents)


def _dump(value: Any) -> bytes:
    return bytes(value.dump(force=True))


def encode_pace_info(protocol: str, *, version: int = 2, parameter_id: int | None = None) -> bytes:
    """DER of a PACEInfo (9303-11 §9.2.1)."""
    value = PACEInfo({"protocol": protocol, "version": version})
    if parameter_id is not None:
        value["parameter_id"] = parameter_id
    return _dump(value)


def _standardized(parameter_id: int) -> DomainParameterAlgorithm:
    return DomainParameterAlgorithm(
        {"algorithm": ID_STANDARDIZED_DOMAIN_PARAMETERS, "parameters": core.Integer(parameter_id)}
    )


def encode_pace_domain_parameter_info(
    protocol: str,
    standardized_id: int | DomainParameterAlgorithm,
    *,
    parameter_id: int | None = None,
) -> bytes:
    """DER of a PACEDomainParameterInfo (9303-11 §9.2.2).

    :param standardized_id: a standardized domain parameter id, or the
        :class:`DomainParameterAlgorithm` itself (explicit EC or DH parameters).
    """
    domain = _standardized(standardized_id) if isinstance(standardized_id, int) else standardized_id
    value = PACEDomainParameterInfo({"protocol": protocol, "domain_parameter": domain})
    if parameter_id is not None:
        value["parameter_id"] = parameter_id
    return _dump(value)


def encode_ca_info(protocol: str, *, version: int = 1, key_id: int | None = None) -> bytes:
    """DER of a ChipAuthenticationInfo (9303-11 §9.2.3)."""
    value = ChipAuthenticationInfo({"protocol": protocol, "version": version})
    if key_id is not None:
        value["key_id"] = key_id
    return _dump(value)


def encode_ca_domain_parameter_info(
    protocol: str, standardized_id: int, *, key_id: int | None = None
) -> bytes:
    """DER of a ChipAuthenticationDomainParameterInfo with standardized parameters."""
    value = ChipAuthenticationDomainParameterInfo(
        {"protocol": protocol, "domain_parameter": _standardized(standardized_id)}
    )
    if key_id is not None:
        value["key_id"] = key_id
    return _dump(value)


def encode_ca_public_key_info(
    subject_public_key_info: bytes, *, protocol: str | None = None, key_id: int | None = None
) -> bytes:
    """DER of a ChipAuthenticationPublicKeyInfo (9303-11 §9.2.4).

    :param subject_public_key_info: the key's DER SubjectPublicKeyInfo (e.g.
        from ``cryptography``'s ``public_bytes(DER, SubjectPublicKeyInfo)``).
    :param protocol: id-PK-ECDH or id-PK-DH; derived from the key's algorithm
        when omitted.
    :raises ValueError: if the SubjectPublicKeyInfo does not parse.
    """
    try:
        spki = SubjectPublicKeyInfo.load(bytes(subject_public_key_info), strict=True)
        spki.native  # noqa: B018
    except BUILTIN_PARSE_ERRORS as exc:
        raise ValueError(f"not a SubjectPublicKeyInfo: {exc}") from exc
    if protocol is None:
        dh = spki["algorithm"]["algorithm"].native in ("dh", "dh_pkcs3")
        protocol = f"{ID_PK}.1" if dh else f"{ID_PK}.2"
    value = ChipAuthenticationPublicKeyInfo(
        {"protocol": protocol, "chip_authentication_public_key": spki}
    )
    if key_id is not None:
        value["key_id"] = key_id
    return _dump(value)


def encode_ta_info(*, version: int = 1, ef_cvca_fid: bytes | None = None) -> bytes:
    """DER of a TerminalAuthenticationInfo (9303-11 §9.2.5)."""
    value = TerminalAuthenticationInfo({"protocol": ID_TA, "version": version})
    if ef_cvca_fid is not None:
        value["ef_cvca"] = FileId({"fid": ef_cvca_fid})
    return _dump(value)


def encode_aa_info(signature_algorithm: str, *, version: int = 1) -> bytes:
    """DER of an ActiveAuthenticationInfo (9303-11 §9.2.6), e.g. ecdsa-plain-SHA256."""
    return _dump(
        ActiveAuthenticationInfo(
            {"protocol": ID_AA, "version": version, "signature_algorithm": signature_algorithm}
        )
    )


def encode_security_infos(infos: Sequence[bytes | SecurityInfoBase], *, sort: bool = True) -> bytes:
    """DER ``SecurityInfos`` of the given elements (DER bytes, or parsed infos via ``raw``).

    :param sort: sort the elements by their encoding, as DER requires for
        SET OF; ``False`` keeps the given order (some issuers' files are not
        sorted, and a test may want to reproduce them byte for byte).

    :raises ValueError: if an element is not a DER SEQUENCE.
    """
    elements: list[bytes] = []
    for item in infos:
        der = item.raw if isinstance(item, SecurityInfoBase) else bytes(item)
        try:
            tlv.decode_single(der, expected_tag=0x30)
        except ParseError as exc:
            raise ValueError(f"not a DER SecurityInfo: {exc}") from exc
        elements.append(der)
    return tlv.encode(0x31, b"".join(sorted(elements) if sort else elements))
