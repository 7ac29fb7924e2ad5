"""Passive authentication: verify LDS files against EF.SOD and CSCA trust anchors.

ICAO Doc 9303-11 §5.1. The public API::

    from epass.pa import TrustStore, verify
    store = TrustStore.from_paths("certs/csca")
    report = verify({"EF.SOD": sod, "DG1": dg1, "DG2": dg2}, store, at=now)
    report.verdict          # Verdict.VALID / INVALID / INDETERMINATE
    report.checks           # one Check per step, in order
    report.to_dict()        # JSON-serialisable

Pure and offline: no I/O beyond :meth:`TrustStore.from_paths`, time explicit.
"""

from __future__ import annotations

from epass.pa.report import (
    CertificateInfo,
    Check,
    CheckStatus,
    DataGroupResult,
    DataGroupStatus,
    Report,
    SodSummary,
    Verdict,
)
from epass.pa.trust import IssuerCandidate, TrustAnchor, TrustStore
from epass.pa.verify import certificate_info, find_ds_certificate, verify

__all__ = [
    "CertificateInfo",
    "Check",
    "CheckStatus",
    "DataGroupResult",
    "DataGroupStatus",
    "IssuerCandidate",
    "Report",
    "SodSummary",
    "TrustAnchor",
    "TrustStore",
    "Verdict",
    "certificate_info",
    "find_ds_certificate",
    "verify",
]
