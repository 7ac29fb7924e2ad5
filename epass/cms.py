"""CMS SignedData as eMRTD files carry it (RFC 5652 §5).

EF.SOD (ICAO Doc 9303-10 §4.6.2, inside tag ``'77'``), EF.CardSecurity (9303-11
§9.2.11; BSI TR-03110-3 §A.1.2), CSCA master lists (9303-12 §9) and deviation
lists are each a CMS ``ContentInfo`` of type SignedData. This module is the
one reader of that layer; the file name is a parameter, so every error names
the file it was found in.

:func:`parse_signed_data` keeps the bytes a verifier must check exactly as
received:

* :attr:`SignedData.econtent` - the eContent octets, the input of the
  messageDigest attribute (RFC 5652 §5.4), merged if BER-constructed;
* :attr:`SignerInfo.signed_attrs` - the signed attributes re-tagged from
  ``[0] IMPLICIT`` to a universal ``SET OF`` (``'31'``), header and contents
  cut from the input bytes (RFC 5652 §5.4: the signature covers the DER
  encoding of the SET OF; re-encoding parsed values could reorder them).

BER is accepted where CMS allows it: the New Zealand SODs use indefinite
lengths (``30 80``) and constructed OCTET STRINGs are merged. A structural
pass (:func:`ber_walk`) runs before asn1crypto's semantic parse, so that
truncations and bad lengths are reported with their exact byte offset and
nesting is bounded by :data:`MAX_DEPTH`.

:func:`verify_signer` verifies one SignerInfo's signature with a certificate
through :mod:`epass._crypto`; :func:`find_signer_certificate` finds the
certificate a SignerIdentifier names (RFC 5652 §5.3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from asn1crypto import cms, core

from epass._crypto.signatures import SignatureScheme, verify_signature
from epass.errors import BUILTIN_PARSE_ERRORS, InvalidSignatureError, ParseError
from epass.lds.asn1 import aware_time, force_certificate, load_certificate, same_name
from epass.tlv import encode_length

__all__ = [
    "ID_CONTENT_TYPE",
    "ID_MESSAGE_DIGEST",
    "ID_SIGNED_DATA",
    "ID_SIGNING_TIME",
    "MAX_DEPTH",
    "SignedData",
    "SignerInfo",
    "SignerMatch",
    "ber_header",
    "ber_walk",
    "find_signer_certificate",
    "locate_signer",
    "parse_signed_data",
    "signer_match",
    "verify_signer",
]

#: id-signedData (RFC 5652 §5.1).
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
#: RFC 5652 §11.1 content-type attribute.
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
#: RFC 5652 §11.2 message-digest attribute.
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
#: RFC 5652 §11.3 signing-time attribute.
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"
#: Attributes that RFC 5652 §11 allows only once among the signed attributes.
_SINGLE_ATTRIBUTES = (ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNING_TIME)

#: Deepest BER nesting accepted (certificates nest about ten levels).
MAX_DEPTH = 48


# --- structural BER pass (exact offsets for truncation and bad lengths) ---------------------


def ber_header(data: bytes, pos: int, end: int, *, file: str) -> tuple[bool, int, int | None]:
    """Read the identifier and length octets at *pos* (X.690 §8.1.2, §8.1.3).

    :param data: the whole file; positions are offsets in it.
    :param end: where the enclosing element ends (exclusive).
    :param file: the file name for errors (``"EF.SOD"``).
    :returns: ``(constructed, content_start, length)``, length ``None`` if indefinite.
    :raises ParseError: on truncation, a tag number longer than four octets, a
        length field longer than four octets or a length past *end*.
    """
    return _header(data, pos, end, file)


def ber_walk(data: bytes, pos: int, end: int, *, file: str, depth: int = 0) -> int:
    """Check that one BER element starts at *pos* and ends by *end*; return its end.

    Walks every nested element (X.690 §8.1), indefinite lengths included.

    :param depth: the nesting level of the element at *pos* (0 for a file's
        outermost element); deeper than :data:`MAX_DEPTH` is refused.
    :raises ParseError: naming *file* and the offset of the offending element.
    """
    return _walk(data, pos, end, file, depth)


def _header(data: bytes, pos: int, end: int, file: str) -> tuple[bool, int, int | None]:
    if pos >= end:
        raise ParseError("truncated: tag expected", file=file, offset=pos)
    first = data[pos]
    constructed = bool(first & 0x20)
    p = pos + 1
    if first & 0x1F == 0x1F:
        count = 0
        while True:
            if p >= end:
                raise ParseError("truncated inside a multi-byte tag", file=file, offset=pos)
            b = data[p]
            p += 1
            count += 1
            if count > 4:
                raise ParseError("tag number too long", file=file, offset=pos)
            if not b & 0x80:
                break
    if p >= end:
        raise ParseError("truncated: length expected", file=file, offset=p)
    lb = data[p]
    p += 1
    if lb == 0x80:
        if not constructed:
            raise ParseError("indefinite length on a primitive element", file=file, offset=pos)
        return constructed, p, None
    if lb & 0x80:
        n = lb & 0x7F
        if n > 4:
            raise ParseError(f"length field of {n} bytes", file=file, offset=p - 1)
        if p + n > end:
            raise ParseError("truncated inside a length field", file=file, offset=p - 1)
        length = int.from_bytes(data[p : p + n], "big")
        p += n
    else:
        length = lb
    if length > end - p:
        raise ParseError(
            f"length {length} exceeds the {end - p} bytes present", file=file, offset=pos
        )
    return constructed, p, length


def _walk(data: bytes, pos: int, end: int, file: str, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise ParseError(f"nesting deeper than {MAX_DEPTH}", file=file, offset=pos)
    constructed, p, length = _header(data, pos, end, file)
    if length is None:
        while True:
            if p + 1 < end and data[p] == 0 and data[p + 1] == 0:
                return p + 2
            if p >= end:
                raise ParseError("truncated: end-of-contents expected", file=file, offset=p)
            p = _walk(data, p, end, file, depth + 1)
    stop = p + length
    if constructed:
        while p < stop:
            p = _walk(data, p, stop, file, depth + 1)
    return stop


def _skip(data: bytes, pos: int, end: int, file: str) -> int:
    """The end of the element at *pos*, in bytes already walked: by its length if definite."""
    _, p, length = _header(data, pos, end, file)
    return _walk(data, pos, end, file, 0) if length is None else p + length


# --- SignerInfo -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SignerInfo:
    """One CMS SignerInfo (RFC 5652 §5.3), with the bytes to verify kept raw.

    :ivar version: the SignerInfo version (CMSVersion; RFC 5652 §5.3 sets 1 with
        issuerAndSerialNumber and 3 with subjectKeyIdentifier; not covered by the signature).
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

    version: int
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
        """Whether *certificate* (asn1crypto) is the one this SignerIdentifier names.

        RFC 5652 §5.3: by subjectKeyIdentifier, or by issuer name (RFC 5280
        §7.1 comparison) and serial number. A certificate that cannot be read
        does not match.
        """
        try:
            if self.sid_kind == "subject_key_identifier":
                return bool(
                    self.subject_key_identifier is not None
                    and certificate.key_identifier == self.subject_key_identifier
                )
            if certificate.serial_number != self.serial_number:
                return False
            # Same DER bytes is the common case and needs no RFC 5280 name comparison; a
            # name the string preparation refuses matches only its own encoding.
            return same_name(certificate.issuer, self.issuer)
        except BUILTIN_PARSE_ERRORS:
            return False


class SignerMatch(StrEnum):
    """How a certificate was found to be the one a SignerIdentifier names (RFC 5652 §5.3).

    Real SODs identify their signer sloppily; every match but :attr:`EXACT` and
    :attr:`KEY_IDENTIFIER` is a deviation to report. A sloppy match only picks
    the certificate to try: the signature under its key then decides.
    """

    #: issuerAndSerialNumber, issuer DER-identical to the certificate's.
    EXACT = "exact"
    #: subjectKeyIdentifier equal to the certificate's extension.
    KEY_IDENTIFIER = "key_identifier"
    #: issuer equal after RFC 5280 §7.1 / RFC 4518 preparation: string types, case, spacing.
    NAME_PREPARED = "name_prepared"
    #: issuer with the same RDNs (prepared) in another order.
    NAME_REORDERED = "name_reordered"
    #: subjectKeyIdentifier equal to the SHA-1 of the certificate's subjectPublicKey
    #: (RFC 5280 §4.2.1.2 method 1) when the certificate has no such extension.
    KEY_IDENTIFIER_COMPUTED = "key_identifier_computed"

    @property
    def sloppy(self) -> bool:
        """Whether the match is a deviation worth a finding."""
        return self not in (SignerMatch.EXACT, SignerMatch.KEY_IDENTIFIER)


def _rdn_set(name: Any) -> tuple[str, ...] | None:
    """The prepared RDNs of a name, sorted (RDN order ignored), or ``None`` if unreadable."""
    try:
        return tuple(sorted(str(rdn.hashable) for rdn in name.chosen))
    except BUILTIN_PARSE_ERRORS:
        return None


def signer_match(signer_info: SignerInfo, certificate: Any) -> SignerMatch | None:
    """How *certificate* matches *signer_info*'s SignerIdentifier, or ``None``; never raises."""
    try:
        if signer_info.sid_kind == "subject_key_identifier":
            wanted = signer_info.subject_key_identifier
            if wanted is None:
                return None
            if certificate.key_identifier is not None:
                return SignerMatch.KEY_IDENTIFIER if certificate.key_identifier == wanted else None
            bits = bytes(certificate.public_key["public_key"].contents[1:])
            computed = hashlib.sha1(bits).digest()  # noqa: S324 - RFC 5280 §4.2.1.2 (1)
            return SignerMatch.KEY_IDENTIFIER_COMPUTED if computed == wanted else None
        if certificate.serial_number != signer_info.serial_number:
            return None
        issuer = certificate.issuer
        if bytes(issuer.dump()) == bytes(signer_info.issuer.dump()):
            return SignerMatch.EXACT
        if same_name(issuer, signer_info.issuer):
            return SignerMatch.NAME_PREPARED
        rdns = _rdn_set(issuer)
        if rdns is not None and rdns == _rdn_set(signer_info.issuer):
            return SignerMatch.NAME_REORDERED
    except BUILTIN_PARSE_ERRORS:
        return None
    return None


def locate_signer(
    signer_info: SignerInfo, certificates: Iterable[Any]
) -> tuple[Any, SignerMatch] | None:
    """The certificate of *certificates* that *signer_info* names, and how; else ``None``.

    An exact (or key identifier) match wins over a sloppy one anywhere in the list.

    :param certificates: asn1crypto certificates, or DER bytes.
    :raises ParseError: (``file="certificate #i"``) if a DER item is not a certificate.
    """
    best: tuple[Any, SignerMatch] | None = None
    for index, item in enumerate(certificates):
        cert = (
            load_certificate(bytes(item), file=f"certificate #{index}")
            if isinstance(item, bytes | bytearray | memoryview)
            else item
        )
        how = signer_match(signer_info, cert)
        if how is None:
            continue
        if not how.sloppy:
            return cert, how
        if best is None:
            best = (cert, how)
    return best


def find_signer_certificate(signer_info: SignerInfo, certificates: Iterable[Any]) -> Any | None:
    """The certificate of *certificates* that *signer_info* names, or ``None``.

    Sloppy identifications count (:class:`SignerMatch`); :func:`locate_signer`
    also says how the certificate matched.

    :param certificates: asn1crypto certificates, or DER bytes.
    :raises ParseError: (``file="certificate #i"``) if a DER item examined is
        not a certificate.
    """
    found = locate_signer(signer_info, certificates)
    return None if found is None else found[0]


def verify_signer(
    signer_info: SignerInfo,
    certificate: Any,
    *,
    issuer: Any = None,
    econtent: bytes | None = None,
) -> SignatureScheme:
    """Verify *signer_info*'s signature with *certificate*'s public key (RFC 5652 §5.6).

    The signature is verified over :attr:`SignerInfo.signed_attrs`, the DER
    SET OF as received. Binding those attributes to the content (the
    messageDigest and content-type comparison, RFC 5652 §11.1-§11.2) is the
    caller's step. A SignerInfo without signed attributes signs the eContent
    octets themselves (RFC 5652 §5.4): it is verified over *econtent* when
    the caller gives it. Such a SignerInfo binds no content type, which
    RFC 5652 §5.3 requires for every eContentType but id-data (and 9303-10
    §4.6.2.2, TR-03110-3 §A.1.2 for eMRTD objects): judging that is the
    caller's step too.

    :param certificate: the signer's asn1crypto ``Certificate`` (or ``PublicKeyInfo``).
    :param issuer: the signer certificate's issuer (certificate or key), for
        an EC key that inherits its domain parameters (implicitlyCA).
    :param econtent: the eContent octets, to verify a SignerInfo without
        signed attributes over (``None``: such a SignerInfo is refused).
    :returns: the scheme that verified (for reports; ``curve`` names an EC
        key's curve and how its parameters were given).
    :raises InvalidSignatureError: if the signature does not verify, or the
        SignerInfo has no signed attributes and no *econtent* is given.
    :raises UnsupportedAlgorithmError: if the key or algorithm cannot be
        checked (:class:`~epass.errors.ExplicitCurveParametersError` for
        explicit EC parameters that match no named curve).
    """
    signed = signer_info.signed_attrs
    if signed is None:
        if econtent is None:
            raise InvalidSignatureError("no signed attributes to verify")
        signed = bytes(econtent)
    return verify_signature(
        certificate,
        signer_info.signature_algorithm,
        signed,
        signer_info.signature,
        digest_algorithm=signer_info.digest_algorithm,
        issuer=issuer,
    )


# --- SignedData -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SignedData:
    """A parsed CMS SignedData (RFC 5652 §5.1); everything to verify kept as received.

    :ivar file: the file it was read from (``"EF.SOD"``), as in errors.
    :ivar offset: where the ContentInfo starts in that file.
    :ivar version: SignedData version (CMSVersion, e.g. 3).
    :ivar digest_algorithms: digestAlgorithms (asn1crypto names or dotted OIDs).
    :ivar econtent_type: eContentType, dotted.
    :ivar econtent: the eContent octets, as received (merged if BER-constructed).
    :ivar econtent_offset: where the eContent octets start in the file
        (``None`` if they are split into BER chunks).
    :ivar certificates: the embedded X.509 certificates (asn1crypto), in order.
    :ivar signer_infos: the SignerInfos, in order (at least one).
    :ivar content_info: the asn1crypto ``ContentInfo``.
    """

    file: str
    offset: int
    version: int
    digest_algorithms: tuple[str, ...]
    econtent_type: str
    econtent: bytes
    econtent_offset: int | None
    certificates: tuple[Any, ...] = field(repr=False)
    signer_infos: tuple[SignerInfo, ...]
    content_info: Any = field(repr=False)

    @property
    def signer_info(self) -> SignerInfo:
        """The first SignerInfo (eMRTD profiles allow exactly one)."""
        return self.signer_infos[0]

    def signer_certificate(
        self, signer_info: SignerInfo | None = None, extra: Iterable[Any] = ()
    ) -> Any | None:
        """The certificate *signer_info* (default: the first) names, or ``None``.

        Searched in the embedded certificates first, then in *extra* (DER bytes
        or asn1crypto certificates the caller holds, for a SignedData that does
        not embed its signer: RFC 5652 §5.1 makes ``certificates`` optional).

        :raises ParseError: as :func:`find_signer_certificate`, for *extra*.
        """
        signer = self.signer_info if signer_info is None else signer_info
        found = find_signer_certificate(signer, self.certificates)
        if found is None:
            found = find_signer_certificate(signer, extra)
        return found


def _raw_signed_attrs(signer_info: Any, *, file: str) -> bytes | None:
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
    raw = bytes(signer_info.contents)  # inside the SignedData :func:`parse_signed_data` walked
    pos = 0
    for _ in range(3):  # version, sid, digestAlgorithm
        pos = _skip(raw, pos, len(raw), file)
    if pos >= len(raw) or raw[pos] != 0xA0:
        return None
    end = _skip(raw, pos, len(raw), file)
    _, start, length = _header(raw, pos, end, file)
    if length is None:
        contents = raw[start : end - 2]
        return b"\x31" + encode_length(len(contents)) + contents
    return b"\x31" + raw[pos + 1 : end]


def _cms_version(value: Any) -> int:
    """A CMSVersion (RFC 5652 §10.2.5) as an int, named (``"v3"``) or not (``7``) by asn1crypto."""
    native = value.native
    return int(native[1:]) if isinstance(native, str) else int(native)


def _single_value(attr: Any, name: str, *, file: str) -> Any:
    values = attr["values"]
    if len(values) != 1:
        raise ParseError(f"{name} attribute must have exactly one value (RFC 5652 §11)", file=file)
    return values[0]


def _certificate_issuers(certs: Any) -> frozenset[bytes]:
    """The DER issuer names of the embedded certificates (empty if they cannot be read here)."""
    try:
        if isinstance(certs, core.Void):
            return frozenset()
        return frozenset(
            bytes(c.chosen["tbs_certificate"]["issuer"].dump())
            for c in certs
            if c.name == "certificate"
        )
    except BUILTIN_PARSE_ERRORS:
        return frozenset()  # the certificates are forced (and refused) after the SignerInfos


def _signer_info(si: Any, *, file: str, certificate_issuers: frozenset[bytes]) -> SignerInfo:
    sid = si["sid"]
    issuer = None
    serial = None
    ski = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        # Force the parse, unless the same bytes are an embedded certificate's issuer, which
        # force_certificate parses (the usual case: the SignerInfo names the embedded DS).
        if bytes(issuer.dump()) not in certificate_issuers:
            issuer.native  # noqa: B018
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)

    types: list[str] = []
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    attrs = si["signed_attrs"]
    try:
        signed_attrs = _raw_signed_attrs(si, file=file)
    except ParseError as exc:
        raise ParseError(f"malformed SignerInfo: {exc.reason}", file=file) from exc
    if (signed_attrs is None) != isinstance(attrs, core.Void):
        raise ParseError("signedAttrs must be tagged [0] (RFC 5652 §5.3)", file=file)
    if signed_attrs is not None:
        for attr in attrs:
            oid = attr["type"].dotted
            if oid in types and oid in _SINGLE_ATTRIBUTES:
                raise ParseError(
                    f"signed attribute {attr['type'].native} appears twice (RFC 5652 §11)",
                    file=file,
                )
            types.append(oid)
            attr["values"].native  # noqa: B018 - force the parse
            if oid == ID_CONTENT_TYPE:
                content_type = _single_value(attr, "content-type", file=file).dotted
            elif oid == ID_MESSAGE_DIGEST:
                message_digest = bytes(_single_value(attr, "message-digest", file=file).native)
            elif oid == ID_SIGNING_TIME:
                when = _single_value(attr, "signing-time", file=file)
                try:
                    signing_time = aware_time(when, "signing-time attribute (RFC 5652 §11.3)")
                except ValueError as exc:
                    raise ParseError(str(exc), file=file) from exc

    si["signature_algorithm"].native  # noqa: B018
    return SignerInfo(
        version=_cms_version(si["version"]),
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


def parse_signed_data(
    data: bytes, *, file: str, offset: int = 0, depth: int = 0, container: str | None = None
) -> SignedData:
    """Parse a CMS ``ContentInfo`` of type SignedData (RFC 5652 §3, §5.1).

    :param data: exactly the ContentInfo element (BER), nothing after it.
    :param file: the file it comes from, named in every error (``"EF.SOD"``,
        ``"EF.CardSecurity"``, ``"masterlist.ml"``).
    :param offset: where *data* starts in that file (``2`` or ``4`` inside
        EF.SOD's tag ``'77'``); error and eContent offsets are file offsets.
    :param depth: the nesting level of the ContentInfo in the file (``1``
        inside tag ``'77'``), counted against :data:`MAX_DEPTH`.
    :param container: the element *data* is the contents of (``"tag 77"``), if
        any: bytes after the ContentInfo are then reported as that element
        holding more than one, at the ContentInfo's offset.
    :returns: the SignedData with its eContent, certificates and SignerInfos.
    :raises ParseError: naming *file* (with the offset of the offending element
        for structural errors, else of the ContentInfo) if *data* is not one
        BER element, not a ContentInfo of type id-signedData, carries no
        eContent (a detached signature: eMRTD objects always encapsulate
        theirs), no SignerInfo, or malformed signed attributes or certificates.
    """
    data = bytes(data)
    try:
        end = _walk(data, 0, len(data), file, depth)
    except ParseError as exc:
        raise exc.within(file, offset) from exc
    if end != len(data):
        if container is not None:
            raise ParseError(f"{container} holds more than one element", file=file, offset=offset)
        raise ParseError(
            f"{len(data) - end} bytes after the ContentInfo", file=file, offset=offset + end
        )

    # One try for the whole semantic parse (asn1crypto raises builtin errors lazily); *stage*
    # names the structure being read, as errors.parsing() would.
    stage = "not a CMS ContentInfo"
    try:
        content_info = cms.ContentInfo.load(data, strict=True)
        ctype = content_info["content_type"].dotted
        if ctype != ID_SIGNED_DATA:
            raise ParseError(
                f"ContentInfo type {ctype} is not id-signedData (RFC 5652 §5.1)",
                file=file,
                offset=offset,
            )
        stage = "malformed SignedData"
        signed_data = content_info["content"]
        version = _cms_version(signed_data["version"])
        digest_algorithms = tuple(
            str(alg["algorithm"].native) for alg in signed_data["digest_algorithms"]
        )
        eci = signed_data["encap_content_info"]
        if not isinstance(eci, cms.EncapsulatedContentInfo):
            # asn1crypto reads the encapContentInfo of a v1 SignedData as a PKCS #7
            # ContentInfo (content ANY); RFC 5652 §5.2 has one syntax for every version.
            eci = cms.EncapsulatedContentInfo.load(eci.dump(), strict=True)
        econtent_type = eci["content_type"].dotted
        stage = "malformed eContent"
        econtent_value = eci["content"]
        if isinstance(econtent_value, core.Void):
            raise ParseError("eContent absent (detached signature)", file=file, offset=offset)
        econtent = bytes(econtent_value)
        stage = "malformed SignerInfo or certificate"
        certs = signed_data["certificates"]
        issuers = _certificate_issuers(certs)
        signer_infos = tuple(
            _signer_info(si, file=file, certificate_issuers=issuers)
            for si in signed_data["signer_infos"]
        )
        certificates: list[Any] = []
        if not isinstance(certs, core.Void):
            for choice in certs:
                if choice.name == "certificate":
                    force_certificate(choice.chosen)
                    certificates.append(choice.chosen)
    except ParseError as exc:
        if exc.offset is not None:
            raise
        raise ParseError(exc.reason, file=file, offset=offset) from exc
    except BUILTIN_PARSE_ERRORS as exc:
        reason = str(exc) or type(exc).__name__
        raise ParseError(f"{stage}: {reason}", file=file, offset=offset) from exc
    found = data.find(econtent) if econtent else -1
    econtent_offset = offset + found if found >= 0 else None
    if not signer_infos:
        raise ParseError("SignedData has no SignerInfo", file=file, offset=offset)
    return SignedData(
        file=file,
        offset=offset,
        version=version,
        digest_algorithms=digest_algorithms,
        econtent_type=econtent_type,
        econtent=econtent,
        econtent_offset=econtent_offset,
        certificates=tuple(certificates),
        signer_infos=signer_infos,
        content_info=content_info,
    )
