"""The inspection's own checks, beside passive authentication (DESIGN.md "Verification").

``access.protocol`` (informative), ``read.files``
(required when the chip served a file malformed), ``lds.mandatory_data_groups``
(9303-10 §4.7), and the views, findings and time
validity an :class:`~epass.inspection.Inspection` shows. No personal data goes
into a check detail or a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from epass.access.control import AccessProtocol, AccessResult
from epass.errors import ParseError
from epass.inspection.model import FaceView, HolderView, NotChecked, ReadSummary, TimeValidity
from epass.lds.document import Document
from epass.lds.files import MANDATORY_DATA_GROUPS, LdsFile
from epass.pa.report import Report
from epass.verdict import Check, CheckStatus, Finding

_T = TypeVar("_T")

CHECK_MANDATORY = "lds.mandatory_data_groups"
CHECK_ACCESS = "access.protocol"
CHECK_READ = "read.files"


def holder_view(document: Document, at: datetime) -> HolderView | None:
    try:
        dg1 = document.dg1
    except ParseError:
        return None
    return None if dg1 is None else HolderView.from_mrz(dg1.mrz, at=at)


def face_views(document: Document) -> tuple[FaceView, ...]:
    try:
        dg2 = document.dg2
    except ParseError:
        return ()
    if dg2 is None:
        return ()
    return tuple(
        FaceView(i, f.image_format, f.width, f.height, f.size, f.offset, f.encoding)
        for i, f in enumerate(dg2.faces)
    )


def document_findings(document: Document) -> list[Finding]:
    """Parse errors and non-fatal deviations of the parsed views (no personal data)."""
    findings: list[Finding] = []
    for file in document:
        if file is LdsFile.EF_SOD:
            continue  # passive authentication reports it (sod.parse), as the FAIL it is
        error = document.parse_error(file)
        if error is not None:
            findings.append(
                Finding("lds.parse_error", f"does not parse: {error.reason}", file.label)
            )
    dg1 = parsed_or_none(lambda: document.dg1)
    if dg1 is not None and dg1.mrz.check_digit_errors:
        findings.append(
            Finding(
                "dg1.check_digits",
                "wrong MRZ check digits: " + ", ".join(dg1.mrz.check_digit_errors),
                "DG1",
            )
        )
    dg2 = parsed_or_none(lambda: document.dg2)
    if dg2 is not None:
        for problem in dg2.problems:
            findings.append(Finding("dg2.deviation", problem, "DG2"))
    dg14 = parsed_or_none(lambda: document.dg14)
    card_access = parsed_or_none(lambda: document.card_access)
    for file, infos in (
        (LdsFile.DG14, None if dg14 is None else dg14.security_infos),
        (LdsFile.EF_CARD_ACCESS, card_access),
    ):
        for problem in () if infos is None else infos.problems:
            findings.append(Finding("security_infos.deviation", problem, file.label))
    return findings


def parsed_or_none(get: Callable[[], _T]) -> _T | None:
    try:
        return get()
    except ParseError:
        return None


def _unusable(document: Document) -> list[str]:
    """Mandatory data groups present but of no use: they do not parse, or DG2 holds no face."""
    out = []
    for file in MANDATORY_DATA_GROUPS:
        if file not in document:
            continue
        error = document.parse_error(file)
        if error is not None:
            out.append(f"{file.label} does not parse")
    dg2 = parsed_or_none(lambda: document.dg2)
    if dg2 is not None and not any(face.image for face in dg2.faces):
        out.append("DG2 holds no face image")
    return out


def mandatory_check(document: Document, passive: Report, not_read: Mapping[str, str]) -> Check:
    """DG1 and DG2 must be present and usable (9303-10 §4.7: the MRZ and the face).

    Missing or unusable ones keep the verdict from VALID; a SOD that protects
    neither makes it INVALID.
    """
    labels = [f.label for f in MANDATORY_DATA_GROUPS]
    missing = [f for f in MANDATORY_DATA_GROUPS if f not in document]
    unusable = _unusable(document)
    evidence: dict[str, Any] = {
        "mandatory": tuple(labels),
        "missing": tuple(f.label for f in missing),
        "unusable": tuple(unusable),
    }
    if not missing and not unusable:
        return Check(
            CHECK_MANDATORY, CheckStatus.PASS, "DG1 and DG2 are present and parse", evidence
        )
    if not missing:
        return Check(
            CHECK_MANDATORY,
            CheckStatus.SKIP,
            "a mandatory data group is of no use, so the holder is not proven: "
            + "; ".join(unusable),
            evidence,
        )
    sod_groups = None if passive.sod is None else set(passive.sod.data_groups)
    reasons = []
    unsigned = []
    for f in missing:
        why = not_read.get(f.label, "not supplied")
        reasons.append(f"{f.label} {why}")
        if sod_groups is not None and f.number not in sod_groups:
            unsigned.append(f.label)
    evidence["not_read"] = tuple(reasons)
    if unsigned:
        return Check(
            CHECK_MANDATORY,
            CheckStatus.FAIL,
            f"EF.SOD protects no {', '.join(unsigned)}: DG1 and DG2 are mandatory (9303-10 §4.7)",
            evidence,
        )
    return Check(
        CHECK_MANDATORY,
        CheckStatus.SKIP,
        "mandatory data groups missing, so the holder is not proven: "
        + "; ".join(reasons + unusable),
        evidence,
    )


def access_check(access: AccessResult, *, recorded: bool) -> tuple[list[Check], list[Finding]]:
    """How the chip was opened (9303-11 §4.2: PACE when offered).

    ``access.protocol`` is informative (never the verdict): PASS for PACE, or for
    BAC on a chip that offers no PACE; SKIP with the reason when BAC ran although
    PACE was offered. PACE-CAM's chip authentication is judged in the chip
    section (``chip.pace_cam``, :mod:`epass.inspection.chip`), the one place that
    decides chip authenticity.

    :param recorded: the facts come from a dump's evidence file, not from this run.
    """
    check, findings = _access_check_facts(access)
    checks = [check]
    if not recorded:
        return checks, findings
    prefix = "as the dump's evidence records it (not re-verifiable offline): "
    out = [
        Check(c.name, c.status, prefix + c.detail, c.evidence, required=False)
        if c.status is not CheckStatus.FAIL
        else Check(c.name, c.status, prefix + c.detail, c.evidence, required=c.required)
        for c in checks
    ]
    return out, findings


def _access_evidence(access: AccessResult) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "protocol": str(access.protocol),
        "card_access_present": access.card_access_present,
        "pace_offered": tuple(access.pace_offered),
    }
    if access.fallback is not None:
        evidence["fallback"] = access.fallback
    pace = access.pace
    if pace is not None:
        evidence.update(
            {
                "pace_protocol": pace.protocol,
                "mapping": pace.mapping,
                "key_agreement": pace.key_agreement,
                "domain_parameters": pace.domain_parameters,
                "cipher": pace.cipher,
                "key_length": pace.key_length,
                "password": pace.password,
            }
        )
    return evidence


def _access_check_facts(access: AccessResult) -> tuple[Check, list[Finding]]:
    evidence = _access_evidence(access)
    if access.protocol == AccessProtocol.PACE:
        pace = access.pace
        how = pace.summary if pace is not None else "PACE"
        detail = f"opened with {how}"
        if access.fallback:
            detail += f" ({access.fallback})"
        return Check(CHECK_ACCESS, CheckStatus.PASS, detail, evidence, required=False), []
    if access.pace_offered:
        detail = (
            f"the chip offers PACE ({', '.join(access.pace_offered)}) but was opened with "
            f"{access.protocol}" + (f": {access.fallback}" if access.fallback else "")
        )
        finding = Finding("access.pace_not_used", detail, "EF.CardAccess")
        return Check(CHECK_ACCESS, CheckStatus.SKIP, detail, evidence, required=False), [finding]
    if access.protocol == AccessProtocol.NONE:
        return (
            Check(
                CHECK_ACCESS,
                CheckStatus.SKIP,
                "no access control was performed",
                evidence,
                required=False,
            ),
            [],
        )
    offered = "offers no PACE" if access.card_access_present else "has no EF.CardAccess (no PACE)"
    detail = f"opened with {access.protocol}; the chip {offered}"
    findings: list[Finding] = []
    if access.fallback:
        detail += f": {access.fallback}"
        findings.append(Finding("access.pace_not_used", detail, "EF.CardAccess"))
        return Check(CHECK_ACCESS, CheckStatus.SKIP, detail, evidence, required=False), findings
    return Check(CHECK_ACCESS, CheckStatus.PASS, detail, evidence, required=False), findings


def read_check(read: ReadSummary, document: Document, passive: Report) -> Check:
    """Whether every file the chip was asked for arrived intact (required when one did not).

    A file the chip *served* malformed (a header that is not TLV, shorter than it
    declares, implausibly large) keeps the verdict from VALID: a genuine chip
    does not do that, and its bytes could not be checked. Files the chip refused
    or lacks, and DG3/DG4 (which need Extended Access Control), are listed only.

    For a dump, a data group EF.SOD hashes that is neither in the dump nor listed
    as not read by the evidence is unaccounted for: the evidence and the files
    disagree, and the verdict is kept from VALID too.
    """
    evidence: dict[str, Any] = {
        "files_read": tuple(read.files_read) or tuple(document.labelled()),
        "not_read": tuple(f"{name}: {why}" for name, why in read.not_read.items()),
        "malformed": tuple(read.malformed),
    }
    recorded = "as the dump's evidence records it: " if read.from_evidence else ""
    hashed = () if passive.sod is None else passive.sod.data_groups
    unaccounted = tuple(
        f"DG{n}"
        for n in hashed
        if f"DG{n}" not in read.not_read and LdsFile.data_group(n) not in document
    )
    if read.from_evidence and unaccounted:
        evidence["unaccounted"] = unaccounted
        return Check(
            CHECK_READ,
            CheckStatus.SKIP,
            f"the dump lacks {', '.join(unaccounted)}, which EF.SOD hashes, and its read "
            "evidence does not say why: the evidence and the files disagree",
            evidence,
        )
    if read.malformed:
        return Check(
            CHECK_READ,
            CheckStatus.SKIP,
            f"{recorded}the chip served {', '.join(read.malformed)} malformed, so "
            + ("they were" if len(read.malformed) > 1 else "it was")
            + " not checked: "
            + "; ".join(f"{name} {read.not_read.get(name, '')}" for name in read.malformed),
            evidence,
        )
    if read.not_read:
        listed = "; ".join(f"{name} {why}" for name, why in read.not_read.items())
        return Check(
            CHECK_READ, CheckStatus.PASS, f"{recorded}read intact; not read: {listed}", evidence
        )
    return Check(CHECK_READ, CheckStatus.PASS, f"{recorded}every file listed was read", evidence)


def data_group_status(passive: Report, number: int) -> str | None:
    """The data group's hash status in the PA report (``"MATCH"`` ...), or ``None``."""
    for result in passive.data_groups:
        if result.number == number:
            return result.status.value
    return None


def time_validity(
    document: Document, passive: Report, at: datetime
) -> tuple[TimeValidity, list[Finding]]:
    expiry: date | None = None
    dg1 = parsed_or_none(lambda: document.dg1)
    if dg1 is not None:
        try:
            expiry = dg1.mrz.date_of_expiry.to_date()
        except ValueError:
            expiry = None
    if expiry is None:
        return TimeValidity(at, None, None, "date of expiry unknown (no readable DG1)"), []
    proven = data_group_status(passive, 1) == "MATCH"
    source = "" if proven else " (from a DG1 that is not proven)"
    if at.date() > expiry:
        # the "document.expired" finding is passive authentication's (epass.pa.chain
        # .time_findings), the one place time validity is judged; it is already in
        # passive.findings
        detail = f"document expired on {expiry.isoformat()}{source}"
        return TimeValidity(at, expiry, True, detail), []
    return TimeValidity(at, expiry, False, f"document valid until {expiry.isoformat()}{source}"), []


def not_checked(
    mrz_given: bool, read: ReadSummary | None, live: bool, *, chip: str | None = None
) -> tuple[NotChecked, ...]:
    """What the verdict does not cover, in words for the reader of the verdict.

    :param chip: why chip authenticity is not checked (the chip section's
        detail when it is NOT CHECKED), or ``None`` when it was checked.
    """
    out = []
    if chip is not None:
        out.append(NotChecked("chip_authenticity", chip))
    out.append(NotChecked("revocation", "no certificate revocation list was consulted for the DS"))
    if not mrz_given:
        out.append(
            NotChecked("printed_mrz", "the MRZ printed on the data page was not compared with DG1")
        )
    if not live:
        out.append(
            NotChecked(
                "read",
                "the dump carries no usable read evidence: how the chip behaved during the read "
                "(access protocol, files refused or served malformed) is unknown"
                if read is None
                else "how the chip behaved during the read comes from the dump's evidence file, "
                "which is not signed: a dump can hide a chip's faults",
            )
        )
    return tuple(out)
