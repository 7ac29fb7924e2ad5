"""ICAO eMRTD ASN.1 structures, declared as asn1crypto classes.

Every class here is self-contained: its OIDs and names live in its own
``_map`` / ``_oid_specs``. Nothing registers into asn1crypto's global tables
(``cms.ContentInfo._oid_specs``, ``cms.EncapsulatedContentInfo._oid_specs``,
...), so importing epass never changes how other code parses CMS. The eContent
of an EF.SOD is an OCTET STRING that :mod:`epass.lds.sod` parses itself with
:class:`LdsSecurityObject`.

Sources:

* ICAO Doc 9303-10 §4.6.2.2 and Appendix D (8th ed.): ``LDSSecurityObject``,
  ``DataGroupHash``, ``LDSVersionInfo``.
* ICAO Doc 9303-12 §7.1.1 and §9 (8th ed.): the documentTypeList and
  nameChange certificate extensions, ``CscaMasterList``.
* RFC 5652 (CMS) for everything the structures above sit in; those classes
  come from :mod:`asn1crypto.cms` unchanged.

The helpers at the end force asn1crypto's lazy parsing inside ``try`` so that
malformed input surfaces as :class:`~epass.errors.ParseError`, never as a
``ValueError`` or ``TypeError`` raised later from deep inside asn1crypto.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asn1crypto import algos, core, x509

from epass.errors import BUILTIN_PARSE_ERRORS, parsing

__all__ = [
    "ID_ICAO_CSCA_MASTER_LIST",
    "ID_ICAO_DOCUMENT_TYPE_LIST",
    "ID_ICAO_LDS_SECURITY_OBJECT",
    "ID_ICAO_LDS_SECURITY_OBJECT_LEGACY",
    "ID_ICAO_NAME_CHANGE",
    "ID_SDU_LDS_SECURITY_OBJECT",
    "CscaMasterList",
    "DataGroupHash",
    "DataGroupHashValues",
    "DocumentTypeList",
    "LdsSecurityObject",
    "LdsSecurityObjectVersion",
    "LdsVersionInfo",
    "aware_time",
    "force_certificate",
    "format_name",
    "load_certificate",
    "load_strict",
    "name_country",
    "prepared_name",
    "same_name",
]

#: id-icao-mrtd-security-ldsSecurityObject {joint-iso-itu-t(2) international-organizations(23)
#: icao(136) mrtd(1) security(1) ldsSecurityObject(1)} (9303-10 §4.6.2.2).
ID_ICAO_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
#: {iso(1) identified-organization(3) icao(27) atn-end-system-air(1) security(1)
#: ldsSecurityObject(1)}: the OID of "PKI for Machine Readable Travel Documents Offering
#: ICC Read-Only Access" v1.1 Annex C, seen in early live French and Belgian passports
#: (JMRTD ``SODFile.ICAO_LDS_SOD_ALT_OID``).
ID_ICAO_LDS_SECURITY_OBJECT_LEGACY = "1.3.27.1.1.1"
#: id-sdu-ldsSecurityObject {iso(1) member-body(2) nl(528) nederlandse-organisatie(1)
#: enschede-sdu(1006) 1 20 1}: used by Sdu (NL) test documents (JMRTD ``SDU_LDS_SOD_OID``).
ID_SDU_LDS_SECURITY_OBJECT = "1.2.528.1.1006.1.20.1"
#: id-icao-cscaMasterList (9303-12 §9).
ID_ICAO_CSCA_MASTER_LIST = "2.23.136.1.1.2"
#: id-icao-mrtd-security-extensions-nameChange (9303-12 §7.1.1.3).
ID_ICAO_NAME_CHANGE = "2.23.136.1.1.6.1"
#: id-icao-mrtd-security-extensions-documentTypeList (9303-12 §7.1.1.3).
ID_ICAO_DOCUMENT_TYPE_LIST = "2.23.136.1.1.6.2"


class LdsSecurityObjectVersion(core.Integer):
    """``LDSSecurityObjectVersion ::= INTEGER {v0(0), v1(1)}`` (9303-10 §4.6.2.2).

    No ``_map``: ``.native`` stays an int, and versions the spec does not
    define are reported by :mod:`epass.lds.sod` rather than mangled here.
    """


class DataGroupHash(core.Sequence):
    """``DataGroupHash ::= SEQUENCE { dataGroupNumber DataGroupNumber,
    dataGroupHashValue OCTET STRING }`` (9303-10 §4.6.2.2).

    ``DataGroupNumber ::= INTEGER {dataGroup1(1) .. dataGroup16(16)}``; kept a
    plain INTEGER so that ``.native`` is the number.
    """

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):
    """``SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash`` (9303-10 §4.6.2.2)."""

    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):
    """``LDSVersionInfo ::= SEQUENCE { ldsVersion PrintableString,
    unicodeVersion PrintableString }`` (9303-10 §4.6.2.2, LDS 1.8 and later).

    ``ldsVersion`` is "aabb" (e.g. ``"0108"``), ``unicodeVersion`` "aabbcc"
    (e.g. ``"040000"``).
    """

    _fields = [  # noqa: RUF012
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LdsSecurityObject(core.Sequence):
    """The eContent of EF.SOD.

    9303-10 §4.6.2.2::

        LDSSecurityObject ::= SEQUENCE {
            version LDSSecurityObjectVersion,
            hashAlgorithm DigestAlgorithmIdentifier,
            dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
            ldsVersionInfo LDSVersionInfo OPTIONAL
            -- if present, version MUST be v1 }
    """

    _fields = [  # noqa: RUF012
        ("version", LdsSecurityObjectVersion),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


class DocumentTypes(core.SetOf):
    """``SET OF DocumentType``, ``DocumentType ::= PrintableString(SIZE(1..2))``."""

    _child_spec = core.PrintableString


class DocumentTypeList(core.Sequence):
    """The documentTypeList extension of a DS certificate.

    9303-12 §7.1.1.3::

        DocumentTypeListSyntax ::= SEQUENCE {
            version DocumentTypeListVersion,      -- INTEGER {v0(0)}
            docTypeList SET OF DocumentType }
    """

    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("doc_type_list", DocumentTypes),
    ]


class CscaCertificates(core.SetOf):
    """``SET OF Certificate`` inside a CSCA master list."""

    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):
    """The eContent of a CSCA master list.

    9303-12 §9::

        CscaMasterList ::= SEQUENCE {
            version CscaMasterListVersion,   -- INTEGER {v0(0)}
            certList SET OF Certificate }

    Declared here for the trust-store loader; epass does not read master lists.
    """

    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("cert_list", CscaCertificates),
    ]


def load_strict(cls: type[Any], data: bytes, *, file: str, offset: int = 0) -> Any:
    """Load *data* as *cls* and force the full parse.

    asn1crypto parses lazily and raises ``ValueError``/``TypeError`` on first
    access; ``.native`` walks the whole tree so every such error happens here.

    :param offset: where *data* starts in *file*, for the error.
    :raises ParseError: naming *file* and *offset* if *data* is not a valid
        *cls* (trailing bytes included).
    """
    with parsing(file, offset, f"malformed {cls.__name__}"):
        value = cls.load(bytes(data), strict=True)
        value.native  # noqa: B018 - forces asn1crypto's lazy parse
    return value


def load_certificate(data: bytes, *, file: str, offset: int = 0) -> Any:
    """Load an X.509 certificate (RFC 5280 §4.1) and parse the fields PA uses.

    Only the fields that passive authentication reads are forced (names,
    serial, validity, public key, key identifiers, signature); exotic string
    types elsewhere do not make a genuine certificate unreadable.

    :returns: an :class:`asn1crypto.x509.Certificate`.
    :raises ParseError: naming *file* if the bytes are not a certificate.
    """
    with parsing(file, offset, "malformed certificate"):
        cert = x509.Certificate.load(bytes(data), strict=True)
        force_certificate(cert)
    return cert


def force_certificate(cert: Any) -> None:
    """Touch every certificate field PA relies on (raises asn1crypto's errors).

    The validity times must be instants :func:`aware_time` accepts, so that
    every later comparison with an aware ``datetime`` works.
    """
    tbs = cert["tbs_certificate"]
    tbs["subject"].native  # noqa: B018
    tbs["issuer"].native  # noqa: B018
    tbs["serial_number"].native  # noqa: B018
    validity = tbs["validity"]
    aware_time(validity["not_before"], "validity notBefore (RFC 5280 §4.1.2.5)")
    aware_time(validity["not_after"], "validity notAfter (RFC 5280 §4.1.2.5)")
    tbs["signature"].native  # noqa: B018
    tbs["subject_public_key_info"]["algorithm"].native  # noqa: B018
    tbs["subject_public_key_info"]["public_key"].contents  # noqa: B018
    cert["signature_algorithm"].native  # noqa: B018
    cert["signature_value"].native  # noqa: B018
    cert.key_identifier  # noqa: B018
    cert.authority_key_identifier  # noqa: B018


def aware_time(value: Any, what: str) -> datetime:
    """An asn1crypto ``Time``, ``UTCTime`` or ``GeneralizedTime`` as an aware ``datetime``.

    RFC 5280 §4.1.2.5 and RFC 5652 §11.3 require these times in UTC. A
    GeneralizedTime without a time zone (which asn1crypto reads as a naive
    local time) cannot be compared with an instant, and one in year 0000
    (asn1crypto's ``extended_datetime``) lies outside ``datetime``'s range;
    both are refused.

    :param what: the field, for the message (``"validity notAfter"``).
    :raises ValueError: for those times, or one asn1crypto cannot parse.
    """
    native = value.native
    if not isinstance(native, datetime):
        raise ValueError(f"{what}: {native} is outside the years 1 to 9999")
    if native.tzinfo is None or native.utcoffset() is None:
        raise ValueError(f"{what}: time without a time zone (UTC is required)")
    return native


_NAME_KEYS = {
    "country_name": "C",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "common_name": "CN",
    "serial_number": "serialNumber",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "email_address": "emailAddress",
    "domain_component": "DC",
    "surname": "SN",
    "given_name": "GN",
    "title": "title",
}


def _escape(value: str) -> str:
    out = value.replace("\\", "\\\\")
    for ch in ',+"<>;=':
        out = out.replace(ch, "\\" + ch)
    return out


#: Formatted names by their DER encoding: a name is formatted the same way every time, and
#: the same DS and CSCA names recur across documents and within one report.
_NAME_CACHE: dict[bytes, str] = {}
_NAME_CACHE_MAX = 1024


def format_name(name: Any) -> str:
    """An asn1crypto ``Name`` as ``"C=DE, O=Bundesdruckerei GmbH, CN=DS"``.

    Attributes appear in encoded order (as ``openssl x509 -nameopt oneline``
    prints them), with RFC 4514 short names and escaping; unknown attribute
    types are shown by dotted OID.
    """
    try:
        key = bytes(name.dump())
    except BUILTIN_PARSE_ERRORS:
        return _format_name(name)
    text = _NAME_CACHE.get(key)
    if text is None:
        text = _format_name(name)
        if len(_NAME_CACHE) >= _NAME_CACHE_MAX:
            _NAME_CACHE.clear()
        _NAME_CACHE[key] = text
    return text


def _format_name(name: Any) -> str:
    parts: list[str] = []
    try:
        for rdn in name.chosen:
            for attr in rdn:
                key = attr["type"].native
                label = _NAME_KEYS.get(key, attr["type"].dotted)
                try:
                    value = attr["value"].native
                except BUILTIN_PARSE_ERRORS:
                    value = attr["value"].contents.hex()
                parts.append(f"{label}={_escape(str(value))}")
    except BUILTIN_PARSE_ERRORS:
        return "<unreadable name>"
    return ", ".join(parts)


#: Countries of names by their DER encoding (``""`` for none), as :data:`_NAME_CACHE`.
_COUNTRY_CACHE: dict[bytes, str] = {}


def name_country(name: Any) -> str | None:
    """The country (C) attribute of an asn1crypto ``Name``, upper-case, or ``None``.

    A name with several *different* C values (which no 9303-12 profile allows)
    gives them joined by commas (``"UT,XX"``): that matches no country, so a
    comparison with it fails closed instead of trusting the first one.
    """
    try:
        key = bytes(name.dump())
    except BUILTIN_PARSE_ERRORS:
        return _name_country(name)
    country = _COUNTRY_CACHE.get(key)
    if country is None:
        country = _name_country(name) or ""
        if len(_COUNTRY_CACHE) >= _NAME_CACHE_MAX:
            _COUNTRY_CACHE.clear()
        _COUNTRY_CACHE[key] = country
    return country or None


def _name_country(name: Any) -> str | None:
    countries: list[str] = []
    try:
        for rdn in name.chosen:
            for attr in rdn:
                if attr["type"].native == "country_name":
                    country = str(attr["value"].native).strip().upper()
                    if country not in countries:
                        countries.append(country)
    except BUILTIN_PARSE_ERRORS:
        return None
    return ",".join(sorted(countries)) or None


def prepared_name(name: Any) -> str | None:
    """The comparison form of an asn1crypto ``Name`` (RFC 5280 §7.1), or ``None``.

    RFC 5280 §7.1 compares names after the RFC 4518 string preparation, which
    asn1crypto's ``Name.hashable`` performs. That preparation refuses some
    strings (code points unassigned in Unicode 3.2 such as U+2066..U+2069 or
    U+D7FF, private-use and non-character code points, mixed-direction text);
    for such a name, or one that cannot be read at all, this returns ``None``
    instead of raising, and the name can be compared only by its DER encoding
    (:func:`same_name`).
    """
    try:
        return str(name.hashable)
    except BUILTIN_PARSE_ERRORS:
        return None


def same_name(a: Any, b: Any) -> bool:
    """Whether two asn1crypto ``Name`` values are equal (RFC 5280 §7.1); never raises.

    Byte-identical encodings are equal without string preparation; otherwise
    both prepared forms must exist and be equal (:func:`prepared_name`).
    """
    try:
        if bytes(a.dump()) == bytes(b.dump()):
            return True
    except BUILTIN_PARSE_ERRORS:
        return False
    prepared = prepared_name(a)
    return prepared is not None and prepared == prepared_name(b)
