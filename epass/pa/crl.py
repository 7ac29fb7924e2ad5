"""Certificate revocation lists of a CSCA (RFC 5280 §5; ICAO Doc 9303-12 §7.1.3).

A CSCA publishes a CRL listing the serial numbers of the certificates it
issued and revoked (DS certificates, link certificates). 9303-12 §7.1.3
profiles it: v2, signed by the CSCA, issuer name = the CSCA's subject,
authorityKeyIdentifier = the CSCA's subjectKeyIdentifier, thisUpdate and
nextUpdate present.

:func:`parse_crl` reads one DER (or PEM ``X509 CRL``) CRL with asn1crypto;
:func:`verify_crl` checks its signature under the issuing CSCA's certificate
(through :mod:`epass._crypto`); :meth:`Crl.status_at` says whether it is
current, expired (nextUpdate passed: its revocations still count, later ones
are unknown) or not yet issued. Nothing here reads files or trusts a CRL by
itself: :class:`~epass.pa.trust.TrustStore` keeps only verified CRLs.

RFC 5280 §5.2 and §5.3: a CRL (or entry) with a critical extension that is
not processed here cannot be used; :func:`parse_crl` refuses it. Processed:
authorityKeyIdentifier, cRLNumber, issuerAltName (CRL); reasonCode,
invalidityDate (entries). Delta CRLs, indirect CRLs (certificateIssuer) and
issuingDistributionPoint restrictions are refused.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from asn1crypto import crl as asn1_crl

from epass._crypto.signatures import SignatureScheme, verify_signature
from epass.errors import BUILTIN_PARSE_ERRORS, InvalidSignatureError, ParseError
from epass.lds.asn1 import aware_time, format_name, name_country, same_name

__all__ = [
    "Crl",
    "CrlStatus",
    "RevokedCertificate",
    "crl_from_pem",
    "parse_crl",
    "verify_crl",
]

#: CRL extensions this module processes (RFC 5280 §5.2), by dotted OID.
_CRL_EXTENSIONS = frozenset(
    {
        "2.5.29.35",  # authorityKeyIdentifier
        "2.5.29.20",  # cRLNumber
        "2.5.29.18",  # issuerAltName
    }
)
#: CRL entry extensions this module processes (RFC 5280 §5.3).
_ENTRY_EXTENSIONS = frozenset(
    {
        "2.5.29.21",  # reasonCode
        "2.5.29.24",  # invalidityDate
    }
)

_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----(.*?)-----END X509 CRL-----", re.DOTALL)


class CrlStatus(StrEnum):
    """Where a time lies against a CRL's thisUpdate and nextUpdate (RFC 5280 §5.1.2.4-5)."""

    CURRENT = "current"
    EXPIRED = "expired"
    NOT_YET_ISSUED = "not_yet_issued"


@dataclass(frozen=True)
class RevokedCertificate:
    """One revoked certificate (RFC 5280 §5.1.2.6).

    :ivar serial_number: the certificate's serial number.
    :ivar revoked_at: revocationDate, aware UTC.
    :ivar reason: the reasonCode as asn1crypto names it (``"key_compromise"``) or ``None``.
    """

    serial_number: int
    revoked_at: datetime
    reason: str | None = None


@dataclass(frozen=True, eq=False)
class Crl:
    """A parsed CRL: what revocation checking needs, the bytes kept as received.

    :ivar der: the CRL, DER.
    :ivar source: where it came from (file, ``file#dn``), for messages.
    :ivar issuer: the issuer Name (asn1crypto).
    :ivar authority_key_identifier: authorityKeyIdentifier keyIdentifier, or ``None``.
    :ivar this_update: thisUpdate, aware UTC.
    :ivar next_update: nextUpdate, aware UTC, or ``None`` (9303-12 requires it).
    :ivar crl_number: cRLNumber, or ``None``.
    :ivar revoked: revoked certificates by serial number.
    :ivar asn1: the asn1crypto ``CertificateList``.
    """

    der: bytes = field(repr=False)
    source: str
    issuer: Any = field(repr=False)
    authority_key_identifier: bytes | None
    this_update: datetime
    next_update: datetime | None
    crl_number: int | None
    revoked: Mapping[int, RevokedCertificate] = field(repr=False)
    asn1: Any = field(repr=False)

    @property
    def issuer_text(self) -> str:
        """The issuer name as reports show it."""
        return format_name(self.issuer)

    @property
    def country(self) -> str | None:
        """The issuer's country (C), upper-case."""
        return name_country(self.issuer)

    def status_at(self, at: datetime) -> CrlStatus:
        """Whether *at* lies before thisUpdate, after nextUpdate, or in between.

        A CRL without nextUpdate never expires here (9303-12 §7.1.3 requires
        the field, so such a CRL is unusual; callers report it).
        """
        if at < self.this_update:
            return CrlStatus.NOT_YET_ISSUED
        if self.next_update is not None and at > self.next_update:
            return CrlStatus.EXPIRED
        return CrlStatus.CURRENT

    def revocation_of(self, serial_number: int) -> RevokedCertificate | None:
        """The entry revoking *serial_number*, or ``None``."""
        return self.revoked.get(int(serial_number))


def crl_from_pem(data: bytes, *, file: str) -> bytes:
    """The DER bytes of the first ``X509 CRL`` PEM block in *data*.

    :raises ParseError: naming *file* if there is no such block or its base64 is bad.
    """
    match = _PEM_CRL.search(data)
    if match is None:
        raise ParseError("PEM data without an X509 CRL block", file=file, offset=0)
    try:
        return base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError("bad base64 in the X509 CRL PEM block", file=file) from exc


def parse_crl(data: bytes, *, file: str) -> Crl:
    """Parse one CRL (RFC 5280 §5.1), DER or PEM.

    :param file: where it came from, named in errors and kept as :attr:`Crl.source`.
    :raises ParseError: naming *file*, for bytes that are not a CRL, a CRL
        whose tbsCertList signature field differs from its signatureAlgorithm
        (RFC 5280 §5.1.1.2), a critical extension not processed here, or an
        unreadable time.
    """
    data = bytes(data)
    if data.lstrip().startswith(b"-----BEGIN"):
        data = crl_from_pem(data, file=file)
    try:
        value = asn1_crl.CertificateList.load(data, strict=True)
        tbs = value["tbs_cert_list"]
        if tbs["signature"].dump() != value["signature_algorithm"].dump():
            raise ParseError(
                "tbsCertList signature differs from signatureAlgorithm (RFC 5280 §5.1.1.2)",
                file=file,
            )
        value["signature_algorithm"].native  # noqa: B018
        value["signature"].native  # noqa: B018
        issuer = tbs["issuer"]
        issuer.native  # noqa: B018
        this_update = aware_time(tbs["this_update"], "thisUpdate (RFC 5280 §5.1.2.4)")
        next_value = tbs["next_update"]
        next_update = (
            None
            if next_value.native is None
            else aware_time(next_value, "nextUpdate (RFC 5280 §5.1.2.5)")
        )
        aki = None
        number = None
        for ext in tbs["crl_extensions"]:
            oid = ext["extn_id"].dotted
            if ext["critical"].native and oid not in _CRL_EXTENSIONS:
                raise ParseError(
                    f"critical CRL extension {ext['extn_id'].native} is not processed "
                    "(RFC 5280 §5.2: such a CRL cannot be used)",
                    file=file,
                )
            if oid == "2.5.29.35":
                identifier = ext["extn_value"].parsed["key_identifier"].native
                aki = None if identifier is None else bytes(identifier)
            elif oid == "2.5.29.20":
                number = int(ext["extn_value"].parsed.native)
        revoked: dict[int, RevokedCertificate] = {}
        for index, entry in enumerate(tbs["revoked_certificates"]):
            serial = int(entry["user_certificate"].native)
            reason = None
            for ext in entry["crl_entry_extensions"]:
                oid = ext["extn_id"].dotted
                if ext["critical"].native and oid not in _ENTRY_EXTENSIONS:
                    raise ParseError(
                        f"revoked entry {index}: critical extension {ext['extn_id'].native} "
                        "is not processed (RFC 5280 §5.3)",
                        file=file,
                    )
                if oid == "2.5.29.21":
                    reason = str(ext["extn_value"].parsed.native)
            when = aware_time(entry["revocation_date"], f"revoked entry {index} revocationDate")
            revoked.setdefault(serial, RevokedCertificate(serial, when, reason))
    except ParseError:
        raise
    except BUILTIN_PARSE_ERRORS as exc:
        raise ParseError(f"malformed CRL: {exc or type(exc).__name__}", file=file) from exc
    return Crl(
        der=data,
        source=file,
        issuer=issuer,
        authority_key_identifier=aki,
        this_update=this_update,
        next_update=next_update,
        crl_number=number,
        revoked=MappingProxyType(revoked),
        asn1=value,
    )


def verify_crl(crl: Crl, issuer_certificate: Any) -> SignatureScheme:
    """Verify *crl*'s signature under *issuer_certificate* (asn1crypto) (RFC 5280 §6.3.3 (f)).

    The CRL's issuer name must be the certificate's subject (RFC 5280 §6.3.3 (b)).

    :returns: the scheme that verified.
    :raises InvalidSignatureError: if the names differ or the signature does not verify.
    :raises UnsupportedAlgorithmError: if the key or algorithm cannot be checked.
    """
    if not same_name(crl.issuer, issuer_certificate.subject):
        raise InvalidSignatureError(
            f"the CRL issuer {crl.issuer_text} is not the certificate's subject "
            f"{format_name(issuer_certificate.subject)}"
        )
    value = crl.asn1
    return verify_signature(
        issuer_certificate,
        value["signature_algorithm"],
        value["tbs_cert_list"].dump(),
        bytes(value["signature"].native),
    )
