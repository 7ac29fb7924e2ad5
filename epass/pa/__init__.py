"""Passive authentication: verify LDS files against EF.SOD and CSCA trust anchors.

ICAO Doc 9303-11 §5.1. The public API::

    from epass.pa import TrustStore, verify
    store = TrustStore.from_paths("certs/csca")
    report = verify({"EF.SOD": sod, "DG1": dg1, "DG2": dg2}, store, at=now)
    report.verdict          # Verdict.VALID / INVALID / INDETERMINATE
    report.checks           # one Check per step, in order (names: CheckName)
    report.findings         # deviations that do not change the verdict
    report.to_dict()        # JSON-serialisable

``verify`` also takes an :class:`epass.lds.document.Document` (EF.SOD parsed once).
``verify_card_security(data, store, at=now)`` checks EF.CardSecurity through
the same CMS path, DS checks and trust store.
Pure and offline: no I/O beyond :meth:`TrustStore.from_paths`, time explicit.
"""

from __future__ import annotations

from epass.pa.certificates import certificate_info, find_ds_certificate
from epass.pa.report import (
    CertificateInfo,
    Check,
    CheckName,
    CheckStatus,
    DataGroupResult,
    DataGroupStatus,
    Finding,
    FindingCode,
    Report,
    SodSummary,
    Verdict,
)
from epass.pa.trust import IssuerCandidate, TrustAnchor, TrustStore
from epass.pa.verify import verify, verify_card_security

__all__ = [
    "CertificateInfo",
    "Check",
    "CheckName",
    "CheckStatus",
    "DataGroupResult",
    "DataGroupStatus",
    "Finding",
    "FindingCode",
    "IssuerCandidate",
    "Report",
    "SodSummary",
    "TrustAnchor",
    "TrustStore",
    "Verdict",
    "certificate_info",
    "find_ds_certificate",
    "verify",
    "verify_card_security",
]
