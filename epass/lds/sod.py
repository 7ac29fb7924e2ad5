"""EF.SOD, the Document Security Object (ICAO Doc 9303-10 §4.6.2).

EF.SOD is ``'77' L`` around a CMS ``ContentInfo`` (RFC 5652 §3) of type
SignedData (RFC 5652 §5) whose eContent is an OCTET STRING holding an
``LDSSecurityObject`` (:class:`epass.lds.asn1.LdsSecurityObject`): the hash
of every data group the issuer protects.

:func:`parse` keeps the bytes that passive authentication must verify exactly
as received:

* :attr:`Sod.econtent` - the eContent octets (the input of the messageDigest
  attribute, RFC 5652 §5.4);
* :attr:`SignerInfo.signed_attrs` - the signed attributes re-tagged from
  ``[0] IMPLICIT`` to a universal ``SET OF`` (``'31'``), header and contents
  cut from the input bytes (RFC 5652 §5.4: the signature covers the DER encoding
  of the SET OF, and re-encoding parsed values could reorder or re-encode it).

BER is accepted where CMS allows it: the New Zealand SODs use indefinite
lengths (``30 80``) and constructed OCTET STRINGs are merged.

**eContentType allow-list.** 9303-10 §4.6.2.2 specifies
``id-icao-mrtd-security-ldsSecurityObject`` (2.23.136.1.1.1). Two older
identifiers occur in documents that were issued in good faith and are
accepted, reported via :attr:`Sod.legacy_econtent_type`: 1.3.27.1.1.1 (from the
ICAO "PKI for MRTDs offering ICC read-only access" v1.1 TR, seen in early
French and Belgian passports) and 1.2.528.1.1006.1.20.1 (Sdu NL test
documents); JMRTD accepts the same three. Accepting them weakens nothing:
the eContentType is covered by the signed content-type attribute and the
eContent must still parse as an LDSSecurityObject. Any other type (e.g. an
EF.CardSecurity's id-SecurityObject) is refused with :class:`ParseError`.

Every malformation raises :class:`~epass.errors.ParseError` with
``file="EF.SOD"`` and the byte offset of the offending element where one is
known; a structural pass over the BER gives exact offsets for truncation and
bad lengths before asn1crypto's semantic parse runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from asn1crypto import cms, core

from epass.errors import ParseError
from epass.lds.asn1 import (
    ID_ICAO_LDS_SECURITY_OBJECT,
    ID_ICAO_LDS_SECURITY_OBJECT_LEGACY,
    ID_SDU_LDS_SECURITY_OBJECT,
    LdsSecurityObject,
    force_certificate,
    load_strict,
)
from epass.tlv import encode_length

__all__ = [
    "ALLOWED_ECONTENT_TYPES",
    "FILE",
    "ID_CONTENT_TYPE",
    "ID_MESSAGE_DIGEST",
    "ID_SIGNING_TIME",
    "SignerInfo",
    "Sod",
    "parse",
]

FILE = "EF.SOD"
#: The tag EF.SOD starts with (9303-10 §4.6.2, Table 36).
SOD_TAG = 0x77
#: eContentType values accepted for EF.SOD, standard first (see the module docstring).
ALLOWED_ECONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ID_ICAO_LDS_SECURITY_OBJECT: "id-icao-mrtd-security-ldsSecurityObject",
        ID_ICAO_LDS_SECURITY_OBJECT_LEGACY: "id-icao-ldsSecurityObject (legacy, ICAO PKI TR v1.1)",
        ID_SDU_LDS_SECURITY_OBJECT: "id-sdu-ldsSecurityObject (legacy, Sdu NL)",
    }
)
#: RFC 5652 §11.1 content-type attribute.
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
#: RFC 5652 §11.2 message-digest attribute.
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
#: RFC 5652 §11.3 signing-time attribute.
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"
#: id-signedData (RFC 5652 §5.1).
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"

#: Deepest BER nesting accepted (certificates nest about ten levels).
MAX_DEPTH = 48

_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


@dataclass(frozen=True, eq=False)
class SignerInfo:
    """One CMS SignerInfo (RFC 5652 §5.3), with the bytes to verify kept raw.

    :ivar sid_kind: ``"issuer_and_serial_number"`` or ``"subject_key_identifier"``.
    :ivar issuer: the SignerIdentifier's issuer (an asn1crypto ``Name``) or ``None``.
    :ivar serial_number: the SignerIdentifier's serial number or ``None``.
    :ivar subject_key_identifier: the SignerIdentifier's key id or ``None``.
    :ivar digest_algorithm: digestAlgorithm, asn1crypto name (``"sha256"``) or dotted OID.
    :ivar signature_algorithm: the asn1crypto ``SignedDigestAlgorithm``.
    :ivar signature: the signature octets.
    :ivar signed_attrs: the signed attributes as the DER ``SET OF`` that was
        signed (tag ``'31'`` + length + contents as received), or ``None``.
    :ivar signed_attr_types: dotted OIDs of the signed attributes, in order.
    :ivar content_type: the content-type attribute (dotted OID) or ``None``.
    :ivar message_digest: the message-digest attribute or ``None``.
    :ivar signing_time: the signing-time attribute or ``None``.
    :ivar asn1: the asn1crypto ``SignerInfo``.
    """

    sid_kind: str
    issuer: Any
    serial_number: int | None
    subject_key_identifier: bytes | None
    digest_algorithm: str
    signature_algorithm: Any
    signature: bytes
    signed_attrs: bytes | None
    signed_attr_types: tuple[str, ...]
    content_type: str | None
    message_digest: bytes | None
    signing_time: datetime | None
    asn1: Any = field(repr=False)

    @property
    def signature_algorithm_name(self) -> str:
        """The signature algorithm as asn1crypto names it, or its dotted OID."""
        return str(self.signature_algorithm["algorithm"].native)

    def matches(self, certificate: Any) -> bool:
        """Whether *certificate* (asn1crypto) is the one this SignerIdentifier names."""
        try:
            if self.sid_kind == "subject_key_identifier":
                return bool(
                    self.subject_key_identifier is not None
                    and certificate.key_identifier == self.subject_key_identifier
                )
            if certificate.serial_number != self.serial_number:
                return False
            # Same DER bytes is the common case and needs no RFC 5280 name comparison.
            if certificate.issuer.dump() == self.issuer.dump():
                return True
            return bool(certificate.issuer == self.issuer)
        except _ASN1_ERRORS:
            return False


@dataclass(frozen=True, eq=False)
class Sod:
    """A parsed EF.SOD. Everything PA verifies is kept as received.

    :ivar raw: the whole file as given to :func:`parse`.
    :ivar signed_data_version: SignedData version (9303-10 requires 3).
    :ivar digest_algorithms: SignedData digestAlgorithms (names or dotted OIDs).
    :ivar econtent_type: eContentType, dotted.
    :ivar econtent: the eContent octets, as received (merged if BER-constructed).
    :ivar econtent_offset: where the eContent octets start in :attr:`raw`
        (``None`` if they are split into BER chunks).
    :ivar version: LDSSecurityObject version (0 or 1).
    :ivar hash_algorithm: the data-group hash algorithm (``"sha256"`` or dotted OID).
    :ivar hash_algorithm_oid: the same, dotted.
    :ivar dg_hashes: data group number -> hash value, in SOD order.
    :ivar lds_version: ``ldsVersion`` (``"0108"``) for v1, else ``None``.
    :ivar unicode_version: ``unicodeVersion`` (``"040000"``) for v1, else ``None``.
    :ivar signer_infos: the SignerInfos (9303-10 requires exactly one).
    :ivar certificates: the embedded X.509 certificates (asn1crypto), normally the DS.
    :ivar content_info: the asn1crypto ``ContentInfo``.
    """

    raw: bytes
    signed_data_version: int
    digest_algorithms: tuple[str, ...]
    econtent_type: str
    econtent: bytes
    econtent_offset: int | None
    version: int
    hash_algorithm: str
    hash_algorithm_oid: str
    dg_hashes: Mapping[int, bytes]
    lds_version: str | None
    unicode_version: str | None
    signer_infos: tuple[SignerInfo, ...]
    certificates: tuple[Any, ...] = field(repr=False)
    content_info: Any = field(repr=False)

    @property
    def signer_info(self) -> SignerInfo:
        """The first (in a conforming SOD, the only) SignerInfo."""
        return self.signer_infos[0]

    @property
    def signed_attrs(self) -> bytes | None:
        """The first signer's signed attributes as the DER SET OF to verify."""
        return self.signer_info.signed_attrs

    @property
    def signature_algorithm(self) -> Any:
        """The first signer's asn1crypto ``SignedDigestAlgorithm``."""
        return self.signer_info.signature_algorithm

    @property
    def signature(self) -> bytes:
        """The first signer's signature octets."""
        return self.signer_info.signature

    @property
    def legacy_econtent_type(self) -> bool:
        """Whether the eContentType is one of the accepted pre-standard OIDs."""
        return self.econtent_type != ID_ICAO_LDS_SECURITY_OBJECT

    def signer_certificate(self) -> Any | None:
        """The embedded certificate the first SignerIdentifier names, or ``None``."""
        for cert in self.certificates:
            if self.signer_info.matches(cert):
                return cert
        return None


# --- structural BER pass (exact offsets for truncation and bad lengths) ---------------------


def _header(data: bytes, pos: int, end: int) -> tuple[bool, int, int | None]:
    """Read the identifier and length octets at *pos* (X.690 §8.1.2, §8.1.3).

    :returns: ``(constructed, content_start, length)``, length ``None`` if indefinite.
    """
    if pos >= end:
        raise ParseError("truncated: tag expected", file=FILE, offset=pos)
    first = data[pos]
    constructed = bool(first & 0x20)
    p = pos + 1
    if first & 0x1F == 0x1F:
        count = 0
        while True:
            if p >= end:
                raise ParseError("truncated inside a multi-byte tag", file=FILE, offset=pos)
            b = data[p]
            p += 1
            count += 1
            if count > 4:
                raise ParseError("tag number too long", file=FILE, offset=pos)
            if not b & 0x80:
                break
    if p >= end:
        raise ParseError("truncated: length expected", file=FILE, offset=p)
    lb = data[p]
    p += 1
    if lb == 0x80:
        if not constructed:
            raise ParseError("indefinite length on a primitive element", file=FILE, offset=pos)
        return constructed, p, None
    if lb & 0x80:
        n = lb & 0x7F
        if n > 4:
            raise ParseError(f"length field of {n} bytes", file=FILE, offset=p - 1)
        if p + n > end:
            raise ParseError("truncated inside a length field", file=FILE, offset=p - 1)
        length = int.from_bytes(data[p : p + n], "big")
        p += n
    else:
        length = lb
    if length > end - p:
        raise ParseError(
            f"length {length} exceeds the {end - p} bytes present", file=FILE, offset=pos
        )
    return constructed, p, length


def _walk(data: bytes, pos: int, end: int, depth: int = 0) -> int:
    """Check that one BER element starts at *pos* and ends by *end*; return its end."""
    if depth > MAX_DEPTH:
        raise ParseError(f"nesting deeper than {MAX_DEPTH}", file=FILE, offset=pos)
    constructed, p, length = _header(data, pos, end)
    if length is None:
        while True:
            if p + 1 < end and data[p] == 0 and data[p + 1] == 0:
                return p + 2
            if p >= end:
                raise ParseError("truncated: end-of-contents expected", file=FILE, offset=p)
            p = _walk(data, p, end, depth + 1)
    stop = p + length
    if constructed:
        while p < stop:
            p = _walk(data, p, stop, depth + 1)
    return stop


# --- semantic parse --------------------------------------------------------------------------


def _raw_signed_attrs(signer_info: Any) -> bytes | None:
    """The signed attributes of a SignerInfo, from its bytes as received.

    RFC 5652 §5.3: ``SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
    signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL, ...}``. The fourth
    element is located in the received contents (not in asn1crypto's
    re-encoding, which would also accept another tag there) and re-tagged as a
    universal SET OF (``'31'``), header and contents unchanged (RFC 5652 §5.4).
    Only an indefinite length (which DER forbids and no signer signs) is
    replaced by its definite form.

    :returns: the DER SET OF, or ``None`` if the SignerInfo has no ``[0]``.
    """
    raw = bytes(signer_info.contents)
    pos = 0
    for _ in range(3):  # version, sid, digestAlgorithm
        pos = _walk(raw, pos, len(raw))
    if pos >= len(raw) or raw[pos] != 0xA0:
        return None
    end = _walk(raw, pos, len(raw))
    _, start, length = _header(raw, pos, end)
    if length is None:
        contents = raw[start : end - 2]
        return b"\x31" + encode_length(len(contents)) + contents
    return b"\x31" + raw[pos + 1 : end]


def _single_value(attr: Any, name: str) -> Any:
    values = attr["values"]
    if len(values) != 1:
        raise ParseError(f"{name} attribute must have exactly one value (RFC 5652 §11)", file=FILE)
    return values[0]


def _signer_info(si: Any) -> SignerInfo:
    sid = si["sid"]
    issuer = None
    serial = None
    ski = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        issuer.native  # noqa: B018 - force the parse
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)

    types: list[str] = []
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    attrs = si["signed_attrs"]
    try:
        signed_attrs = _raw_signed_attrs(si)
    except ParseError as exc:
        raise ParseError(f"malformed SignerInfo: {exc.reason}", file=FILE) from exc
    if (signed_attrs is None) != isinstance(attrs, core.Void):
        raise ParseError("signedAttrs must be tagged [0] (RFC 5652 §5.3)", file=FILE)
    if signed_attrs is not None:
        for attr in attrs:
            oid = attr["type"].dotted
            if oid in types and oid in (ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNING_TIME):
                raise ParseError(
                    f"signed attribute {attr['type'].native} appears twice (RFC 5652 §11)",
                    file=FILE,
                )
            types.append(oid)
            attr["values"].native  # noqa: B018 - force the parse
            if oid == ID_CONTENT_TYPE:
                content_type = _single_value(attr, "content-type").dotted
            elif oid == ID_MESSAGE_DIGEST:
                message_digest = bytes(_single_value(attr, "message-digest").native)
            elif oid == ID_SIGNING_TIME:
                signing_time = _single_value(attr, "signing-time").native

    si["signature_algorithm"].native  # noqa: B018
    return SignerInfo(
        sid_kind=sid.name,
        issuer=issuer,
        serial_number=serial,
        subject_key_identifier=ski,
        digest_algorithm=str(si["digest_algorithm"]["algorithm"].native),
        signature_algorithm=si["signature_algorithm"],
        signature=bytes(si["signature"].native),
        signed_attrs=signed_attrs,
        signed_attr_types=tuple(types),
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        asn1=si,
    )


def _security_object(econtent: bytes, offset: int) -> tuple[Any, dict[int, bytes]]:
    try:
        end = _walk(econtent, 0, len(econtent))
    except ParseError as exc:
        raise exc.within(FILE, offset) from exc
    if end != len(econtent):
        raise ParseError(
            f"{len(econtent) - end} bytes after the LDSSecurityObject",
            file=FILE,
            offset=offset + end,
        )
    lso = load_strict(LdsSecurityObject, econtent, file=FILE, offset=offset)
    version = lso["version"].native
    if version not in (0, 1):
        raise ParseError(
            f"LDSSecurityObject version {version} (9303-10 §4.6.2.2 defines v0 and v1)",
            file=FILE,
            offset=offset,
        )
    if lso["lds_version_info"].native is not None and version != 1:
        raise ParseError(
            "ldsVersionInfo present in a v0 LDSSecurityObject (must be v1)",
            file=FILE,
            offset=offset,
        )
    hashes: dict[int, bytes] = {}
    for item in lso["data_group_hash_values"]:
        number = item["data_group_number"].native
        if not 1 <= number <= 16:
            raise ParseError(f"data group number {number} (1 to 16)", file=FILE, offset=offset)
        if number in hashes:
            raise ParseError(f"DG{number} hashed twice", file=FILE, offset=offset)
        hashes[number] = bytes(item["data_group_hash_value"].native)
    if not hashes:
        raise ParseError("LDSSecurityObject lists no data group", file=FILE, offset=offset)
    return lso, hashes


def parse(data: bytes) -> Sod:
    """Parse EF.SOD (9303-10 §4.6.2; RFC 5652 §5).

    :param data: the whole file, starting with tag ``'77'``.
    :raises ParseError: (``file="EF.SOD"``) if the bytes are not a SignedData
        over an LDSSecurityObject with an allowed eContentType, at least one
        SignerInfo, and well-formed signed attributes.
    """
    data = bytes(data)
    if not data:
        raise ParseError("empty file", file=FILE, offset=0)
    if data[0] != SOD_TAG:
        raise ParseError(f"expected tag 77, found {data[0]:02X}", file=FILE, offset=0)
    # One structural pass: the single element inside tag 77, walked once.
    _, start, length = _header(data, 0, len(data))
    if length is None:  # indefinite '77 80': the element, then end-of-contents
        if start >= len(data) or data[start : start + 2] == b"\x00\x00":
            raise ParseError("tag 77 is empty", file=FILE, offset=start)
        stop = _walk(data, start, len(data), 1)
        if data[stop : stop + 2] != b"\x00\x00":
            raise ParseError("tag 77 holds more than one element", file=FILE, offset=stop)
        end = stop + 2
    else:
        stop = end = start + length
        if start == stop:
            raise ParseError("tag 77 is empty", file=FILE, offset=start)
        if _walk(data, start, stop, 1) != stop:
            raise ParseError("tag 77 holds more than one element", file=FILE, offset=start)
    if end != len(data):
        raise ParseError(f"{len(data) - end} trailing bytes after tag 77", file=FILE, offset=end)
    cms_bytes = data[start:stop]

    try:
        content_info = cms.ContentInfo.load(cms_bytes, strict=True)
        ctype = content_info["content_type"].dotted
    except _ASN1_ERRORS as exc:
        raise ParseError(f"not a CMS ContentInfo: {exc}", file=FILE, offset=start) from exc
    if ctype != ID_SIGNED_DATA:
        raise ParseError(
            f"ContentInfo type {ctype} is not id-signedData (RFC 5652 §5.1)",
            file=FILE,
            offset=start,
        )

    try:
        signed_data = content_info["content"]
        sd_version = int(signed_data["version"].native[1:])
        digest_algorithms = tuple(
            str(alg["algorithm"].native) for alg in signed_data["digest_algorithms"]
        )
        eci = signed_data["encap_content_info"]
        econtent_type = eci["content_type"].dotted
    except _ASN1_ERRORS as exc:
        raise ParseError(f"malformed SignedData: {exc}", file=FILE, offset=start) from exc
    if econtent_type not in ALLOWED_ECONTENT_TYPES:
        raise ParseError(
            f"eContentType {econtent_type} is not an LDS security object "
            f"(9303-10 §4.6.2.2: {ID_ICAO_LDS_SECURITY_OBJECT})",
            file=FILE,
            offset=start,
        )
    try:
        econtent_value = eci["content"]
        if isinstance(econtent_value, core.Void):
            raise ParseError("eContent absent (detached signature)", file=FILE, offset=start)
        econtent = bytes(econtent_value)
    except _ASN1_ERRORS as exc:
        raise ParseError(f"malformed eContent: {exc}", file=FILE, offset=start) from exc
    found = data.find(econtent, start) if econtent else -1
    econtent_offset = found if found >= 0 else None
    lso, dg_hashes = _security_object(econtent, econtent_offset or start)

    try:
        signer_infos = tuple(_signer_info(si) for si in signed_data["signer_infos"])
        certificates: list[Any] = []
        certs = signed_data["certificates"]
        if not isinstance(certs, core.Void):
            for choice in certs:
                if choice.name == "certificate":
                    force_certificate(choice.chosen)
                    certificates.append(choice.chosen)
    except ParseError as exc:
        if exc.offset is not None:
            raise
        raise ParseError(exc.reason, file=FILE, offset=start) from exc
    except _ASN1_ERRORS as exc:
        raise ParseError(
            f"malformed SignerInfo or certificate: {exc}", file=FILE, offset=start
        ) from exc
    if not signer_infos:
        raise ParseError("SignedData has no SignerInfo", file=FILE, offset=start)

    info = lso["lds_version_info"]
    lds_version = None if isinstance(info, core.Void) else str(info["lds_version"].native)
    unicode_version = None if isinstance(info, core.Void) else str(info["unicode_version"].native)
    hash_alg = lso["hash_algorithm"]["algorithm"]
    return Sod(
        raw=data,
        signed_data_version=sd_version,
        digest_algorithms=digest_algorithms,
        econtent_type=econtent_type,
        econtent=econtent,
        econtent_offset=econtent_offset,
        version=int(lso["version"].native),
        hash_algorithm=str(hash_alg.native),
        hash_algorithm_oid=str(hash_alg.dotted),
        dg_hashes=MappingProxyType(dg_hashes),
        lds_version=lds_version,
        unicode_version=unicode_version,
        signer_infos=signer_infos,
        certificates=tuple(certificates),
        content_info=content_info,
    )
