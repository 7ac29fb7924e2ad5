"""Certificate helpers for passive authentication (RFC 5280 §4.1; ICAO Doc 9303-12 §7.1.1).

Summaries for the report (:func:`certificate_info`), the DS certificate
lookup for SODs that do not embed it (:func:`find_ds_certificate`), validity
tests, and the findings a DS certificate's names give rise to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from epass._crypto.signatures import (
    UnsupportedAlgorithmError,
    describe_public_key,
    resolve_signature_algorithm,
)
from epass.cms import SignerInfo, find_signer_certificate
from epass.lds.asn1 import format_name, name_country
from epass.pa.report import CertificateInfo, Finding, FindingCode

__all__ = [
    "RECOGNISED_CRITICAL_EXTENSIONS",
    "certificate_info",
    "ds_name_findings",
    "find_ds_certificate",
    "hex_or_none",
    "signature_algorithm_name",
    "valid_at",
    "validity",
]


#: Extensions a CSCA or DS certificate may mark critical (RFC 5280 §4.2): those this
#: verifier processes (keyUsage, basicConstraints) or that constrain nothing it relies on
#: (identifiers, names, policies without policy constraints, CRL locations,
#: privateKeyUsagePeriod). A certificate with any other critical extension is rejected.
RECOGNISED_CRITICAL_EXTENSIONS = frozenset(
    {
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.15",  # keyUsage
        "2.5.29.16",  # privateKeyUsagePeriod
        "2.5.29.17",  # subjectAltName
        "2.5.29.18",  # issuerAltName
        "2.5.29.19",  # basicConstraints
        "2.5.29.31",  # cRLDistributionPoints
        "2.5.29.32",  # certificatePolicies
        "2.5.29.35",  # authorityKeyIdentifier
    }
)


def hex_or_none(value: bytes | None) -> str | None:
    """*value* as lowercase hex, or ``None``."""
    return None if value is None else bytes(value).hex()


def validity(cert: Any) -> tuple[datetime, datetime]:
    """``(notBefore, notAfter)`` of an asn1crypto certificate (RFC 5280 §4.1.2.5), aware UTC."""
    period = cert["tbs_certificate"]["validity"]
    return period["not_before"].native, period["not_after"].native


def valid_at(cert: Any, when: datetime) -> bool:
    """Whether *when* lies in the certificate's validity period, both ends included."""
    not_before, not_after = validity(cert)
    return bool(not_before <= when <= not_after)


def signature_algorithm_name(algorithm: Any, digest_algorithm: str | None = None) -> str:
    """A signature algorithm as a report shows it: the resolved scheme, else the OID's name.

    :param algorithm: an asn1crypto ``SignedDigestAlgorithm``.
    :param digest_algorithm: the SignerInfo digestAlgorithm, for bare key-type identifiers.
    """
    try:
        return str(resolve_signature_algorithm(algorithm, digest_algorithm=digest_algorithm))
    except UnsupportedAlgorithmError:
        return str(algorithm["algorithm"].native)


def certificate_info(
    cert: Any, *, source: str | None = None, provenance: Mapping[str, Any] | None = None
) -> CertificateInfo:
    """Summarise an asn1crypto certificate for a report.

    :param source: where an anchor came from (file path, master list), if any.
    :param provenance: an anchor's provenance (:meth:`epass.pa.trust.Provenance.to_dict`).
    """
    not_before, not_after = validity(cert)
    key = describe_public_key(cert.public_key)
    return CertificateInfo(
        subject=format_name(cert.subject),
        issuer=format_name(cert.issuer),
        serial=format(int(cert.serial_number), "x"),
        key_identifier=hex_or_none(cert.key_identifier),
        authority_key_identifier=hex_or_none(cert.authority_key_identifier),
        not_before=not_before,
        not_after=not_after,
        signature_algorithm=signature_algorithm_name(cert["signature_algorithm"]),
        public_key_algorithm=key.algorithm,
        public_key_size=key.size,
        curve=key.curve,
        country=name_country(cert.subject),
        sha256=hashlib.sha256(cert.dump()).hexdigest(),
        source=source,
        provenance=None if provenance is None else dict(provenance),
    )


def find_ds_certificate(signer_info: SignerInfo, certificates: Iterable[Any]) -> Any | None:
    """The certificate the SignerIdentifier names, from a caller-supplied list.

    For SODs that do not embed their DS certificate (RFC 5652 §5.1 makes
    ``certificates`` optional). Same as :func:`epass.cms.find_signer_certificate`.

    :param certificates: DER bytes or asn1crypto certificates.
    :raises ParseError: if a supplied DER certificate examined is malformed.
    """
    return find_signer_certificate(signer_info, certificates)


def ds_name_findings(ds: Any, *, file: str | None) -> list[Finding]:
    """Findings for a DS certificate whose names lack the country (9303-12 §7.1.1).

    Both the issuer and the subject of a DS certificate carry the issuing
    country; some test PKIs (BSI 2008) omit it in the issuer. Passive
    authentication then compares DG1 with the subject's country instead.

    :param file: where the certificate came from (``"EF.SOD"``), or ``None``.
    """
    out: list[Finding] = []
    if name_country(ds.issuer) is None:
        out.append(
            Finding(
                FindingCode.DS_ISSUER_COUNTRY,
                f"the DS certificate's issuer name ({format_name(ds.issuer)}) has no country "
                "(9303-12 §7.1.1 requires C)",
                file,
            )
        )
    if name_country(ds.subject) is None:
        out.append(
            Finding(
                FindingCode.DS_SUBJECT_COUNTRY,
                f"the DS certificate's subject name ({format_name(ds.subject)}) has no country "
                "(9303-12 §7.1.1 requires C)",
                file,
            )
        )
    return out
