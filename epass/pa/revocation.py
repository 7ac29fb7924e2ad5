"""The revocation step of passive authentication: ``ds.revocation`` (RFC 5280 §6.3; 9303-12 §7.1.3).

Runs after ``ds.issuer`` has found the CSCA whose key verified the DS
certificate (:attr:`Context.anchor`). The CRLs the trust store holds for that
CSCA (:meth:`~epass.pa.trust.TrustStore.crls_for`: same issuer name and key,
each verified under the CSCA when it was imported) decide:

* the DS certificate's serial number is listed: ``FAIL`` (a revoked DS makes
  the document ``INVALID``), with the revocation date and reason;
* it is not listed: ``PASS``; a CRL past its nextUpdate (or before its
  thisUpdate) is still used - a revocation stays a revocation - and reported
  as the finding ``ds.crl_not_current`` (revocations since are unknown);
* no CRL for that CSCA: ``SKIP``, not required (no CRL is not a failure);
  the check itself reports it.

The step also reports a CSCA imported from a master list that did not verify
(on explicit request) as the finding ``ds.anchor_unverified``, so every
report that relies on such an anchor says so. :data:`REVOCATION_STEP` is the
row :mod:`epass.pa.verify` lists.
"""

from __future__ import annotations

from epass.pa.context import Context, Needs, Step
from epass.pa.report import Check, CheckName, CheckStatus, EvidenceValue, Finding, FindingCode

__all__ = ["CARD_SECURITY_REVOCATION_STEP", "REVOCATION_STEP", "check_ds_revocation"]


def check_ds_revocation(context: Context) -> Check:
    """``ds.revocation``: the DS certificate against the CRLs of its CSCA (module docstring)."""
    name = CheckName.DS_REVOCATION
    ds = context.require_ds()
    anchor = context.anchor
    assert anchor is not None  # noqa: S101 - guaranteed by the step's needs
    if not anchor.verified:
        context.findings.append(
            Finding(
                FindingCode.ANCHOR_UNVERIFIED,
                f"the CSCA {anchor.subject} comes from a master list whose signature or "
                "signer did not verify (imported on explicit request)",
            )
        )
    serial = int(ds.serial_number)
    evidence: dict[str, EvidenceValue] = {
        "ds_serial": format(serial, "x"),
        "csca": anchor.subject,
        "checked_at": context.at,
    }
    crls = context.trust_store.crls_for(anchor)
    if not crls:
        return Check(
            name,
            CheckStatus.SKIP,
            f"no CRL of CSCA {anchor.subject} in the trust store: revocation not checked",
            evidence,
            required=False,
        )
    newest = max(crls, key=lambda item: item.crl.this_update)
    evidence["crls"] = tuple(
        f"{item.crl.source} (thisUpdate {item.crl.this_update.isoformat()}, nextUpdate "
        f"{item.crl.next_update.isoformat() if item.crl.next_update else 'none'}, "
        f"{len(item.crl.revoked)} revoked)"
        for item in crls
    )
    for item in crls:
        entry = item.crl.revocation_of(serial)
        if entry is not None:
            evidence["revoked_at"] = entry.revoked_at
            evidence["reason"] = entry.reason
            evidence["crl"] = item.crl.source
            signing_time = context.require_signed().signer_info.signing_time
            evidence["signing_time"] = signing_time
            why = f" ({entry.reason})" if entry.reason else ""
            return Check(
                name,
                CheckStatus.FAIL,
                f"the DS certificate (serial {serial:x}) was revoked on "
                f"{entry.revoked_at.isoformat()}{why} by CSCA {anchor.subject} "
                f"(CRL {item.crl.source})",
                evidence,
            )
    status = newest.crl.status_at(context.at)
    detail = (
        f"the DS certificate (serial {serial:x}) is not on the CRL of CSCA {anchor.subject} "
        f"of {newest.crl.this_update.isoformat()}"
    )
    if status.value != "current":
        edge = newest.crl.next_update if status.value == "expired" else newest.crl.this_update
        when = edge.isoformat() if edge else "?"
        what = "expired on" if status.value == "expired" else "not issued before"
        context.findings.append(
            Finding(
                FindingCode.CRL_NOT_CURRENT,
                f"the newest CRL of CSCA {anchor.subject} {what} {when}: revocations since "
                "are unknown",
            )
        )
        detail += f" (that CRL {what} {when})"
    evidence["crl_status"] = status.value
    return Check(name, CheckStatus.PASS, detail, evidence)


_DS_AND_ANCHOR = (
    Needs(lambda c: c.ds is not None, "no DS certificate"),
    Needs(
        lambda c: c.anchor is not None,
        "no CSCA verified the DS certificate: revocation not checked",
        required=False,
    ),
)

#: The row of :data:`epass.pa.verify.STEPS`: needs a usable EF.SOD, the DS and its CSCA.
REVOCATION_STEP = Step(
    CheckName.DS_REVOCATION,
    check_ds_revocation,
    (Needs(lambda c: c.sod is not None, "no usable EF.SOD"), *_DS_AND_ANCHOR),
)

#: The same row for :data:`epass.pa.verify.CARD_SECURITY_STEPS`: EF.CardSecurity's DS is
#: checked against the same CRLs (and an anchor from an unverified list reported the same way).
CARD_SECURITY_REVOCATION_STEP = Step(
    CheckName.DS_REVOCATION,
    check_ds_revocation,
    (Needs(lambda c: c.signed is not None, "no usable EF.CardSecurity"), *_DS_AND_ANCHOR),
)
