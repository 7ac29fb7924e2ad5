"""Index facts of X.509 certificates, read with cryptography's (compiled) parser.

A trust store indexes hundreds of certificates at a time (the German CSCA
master list holds 588); asn1crypto needs about 0.25 ms per certificate to
reach the extensions, cryptography's parser about 0.05 ms. This module reads
only what an index needs (RFC 5280 §4.1): the subject and issuer names as DER,
the serial number, the validity, the key identifiers, basicConstraints,
keyUsage, extendedKeyUsage and which extensions are critical.

cryptography's parser is stricter than asn1crypto's: it refuses some
certificates found in real master lists (a NULL where parameters may not be,
a basicConstraints that encodes the default cA FALSE). :func:`certificate_facts`
then raises :class:`FactsUnavailableError` and the caller reads the same facts with
asn1crypto; nothing else depends on which parser answered. Verification never
relies on these facts alone: the chain step reads the certificate again with
asn1crypto.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

__all__ = ["CertificateFacts", "FactsUnavailableError", "certificate_facts"]

#: keyUsage bits as asn1crypto names them (RFC 5280 §4.2.1.3).
_KEY_USAGE_BITS = (
    ("digital_signature", "digital_signature"),
    ("content_commitment", "non_repudiation"),
    ("key_encipherment", "key_encipherment"),
    ("data_encipherment", "data_encipherment"),
    ("key_agreement", "key_agreement"),
    ("key_cert_sign", "key_cert_sign"),
    ("crl_sign", "crl_sign"),
)


class FactsUnavailableError(ValueError):
    """cryptography's parser refused the certificate; read it with asn1crypto instead."""


@dataclass(frozen=True)
class CertificateFacts:
    """What a trust-store index knows about a certificate without parsing it again.

    :ivar subject: the subject Name, DER.
    :ivar issuer: the issuer Name, DER.
    :ivar serial_number: the serial number (may be negative in old certificates).
    :ivar not_before: validity start, aware UTC.
    :ivar not_after: validity end, aware UTC.
    :ivar subject_key_identifier: subjectKeyIdentifier, or ``None``.
    :ivar authority_key_identifier: authorityKeyIdentifier keyIdentifier, or ``None``.
    :ivar ca: basicConstraints cA (``False`` when the extension is absent).
    :ivar key_usage: keyUsage bits (asn1crypto names, e.g. ``"key_cert_sign"``) or
        ``None`` when the extension is absent.
    :ivar extended_key_usage: extendedKeyUsage purposes (dotted OIDs) or ``None``.
    :ivar critical_extensions: dotted OIDs of the extensions marked critical.
    """

    subject: bytes
    issuer: bytes
    serial_number: int
    not_before: datetime
    not_after: datetime
    subject_key_identifier: bytes | None
    authority_key_identifier: bytes | None
    ca: bool
    key_usage: frozenset[str] | None
    extended_key_usage: tuple[str, ...] | None
    critical_extensions: tuple[str, ...]


def certificate_facts(der: bytes) -> CertificateFacts:
    """The index facts of the DER certificate *der*.

    :raises FactsUnavailableError: if cryptography's parser refuses the certificate or one
        of the extensions read (the caller then reads it with asn1crypto).
    """
    try:
        with warnings.catch_warnings():
            # old CSCAs carry negative serial numbers; cryptography warns about them
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(bytes(der))
            extensions = cert.extensions
            serial = cert.serial_number
        ski = aki = None
        ca = False
        usage: frozenset[str] | None = None
        eku: tuple[str, ...] | None = None
        critical: list[str] = []
        for ext in extensions:
            value = ext.value
            if ext.critical:
                critical.append(ext.oid.dotted_string)
            if isinstance(value, x509.SubjectKeyIdentifier):
                ski = bytes(value.digest)
            elif isinstance(value, x509.AuthorityKeyIdentifier):
                aki = None if value.key_identifier is None else bytes(value.key_identifier)
            elif isinstance(value, x509.BasicConstraints):
                ca = bool(value.ca)
            elif isinstance(value, x509.KeyUsage):
                usage = frozenset(name for attr, name in _KEY_USAGE_BITS if _bit(value, attr))
            elif isinstance(value, x509.ExtendedKeyUsage):
                eku = tuple(oid.dotted_string for oid in value)
        return CertificateFacts(
            subject=cert.subject.public_bytes(),
            issuer=cert.issuer.public_bytes(),
            serial_number=serial,
            not_before=cert.not_valid_before_utc.astimezone(UTC),
            not_after=cert.not_valid_after_utc.astimezone(UTC),
            subject_key_identifier=ski,
            authority_key_identifier=aki,
            ca=ca,
            key_usage=usage,
            extended_key_usage=eku,
            critical_extensions=tuple(critical),
        )
    except (ValueError, TypeError, x509.DuplicateExtension) as exc:
        raise FactsUnavailableError(str(exc) or type(exc).__name__) from exc


def _bit(usage: x509.KeyUsage, attr: str) -> bool:
    """One keyUsage bit; encipher_only/decipher_only raise unless keyAgreement, others never."""
    return bool(getattr(usage, attr))
