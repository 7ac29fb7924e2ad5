"""Inspection: the one flow every front end calls (DESIGN.md "Verification").

:func:`inspect` reads a chip through a transport and verifies what it read;
:func:`inspect_dump` verifies a saved dump offline. Both return an
:class:`Inspection`: frozen data holding

* the read summary (access protocol and what the chip offered, card
  capabilities, traffic, files not read and why) — ``None`` for a dump
  without read evidence;
* the document (raw bytes and parsed views, parsed once);
* the passive-authentication :class:`~epass.pa.report.Report` (9303-11 §5.1);
* the chip-authenticity section (Active and Chip Authentication,
  9303-11 §6): ``NOT_CHECKED`` in this version;
* the document checks (DG1 and DG2 are mandatory, 9303-10 §4.7), the access
  checks, and the findings that are not failures;
* one verdict over all checks, decided by :func:`epass.verdict.decide`, and
  beside it what was *not* checked and the document's time validity, so
  that VALID is never read as more than it is.

:meth:`Inspection.to_dict` has one versioned layout, :data:`SCHEMA`, described
by the JSON Schema in ``epass/schemas/inspection-1.schema.json``.

Personal data (names, numbers, dates of the holder) appears in
:attr:`Inspection.holder` and ``to_dict()`` because the caller asked to
inspect the document; it never appears in check details, findings or logs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from epass._version import __version__
from epass.access.control import AccessProtocol, AccessResult
from epass.access.keys import AccessKey
from epass.dump import EVIDENCE_FILE, read_dump
from epass.errors import ParseError
from epass.lds import mrz as mrz_module
from epass.lds.document import Document
from epass.lds.files import MANDATORY_DATA_GROUPS, LdsFile, lds_order
from epass.lds.mrz import Mrz
from epass.pa import TrustStore, verify
from epass.pa.report import Report
from epass.reader import ChipSession, Progress, ReadOptions, ReadResult
from epass.verdict import Check, CheckStatus, Finding, Verdict, decide, find_check, json_value

__all__ = [
    "EVIDENCE_SCHEMA",
    "SCHEMA",
    "ChipAuthenticity",
    "ChipAuthenticityStatus",
    "FaceView",
    "HolderView",
    "Inspection",
    "NotChecked",
    "ReadSummary",
    "TimeValidity",
    "dump_evidence",
    "inspect",
    "inspect_dump",
    "json_schema",
]

_T = TypeVar("_T")

#: Identifies the layout of :meth:`Inspection.to_dict`; bumped on incompatible changes.
SCHEMA = "epass.inspection/1"
#: Identifies the layout of the evidence file a dump carries (see :func:`dump_evidence`).
EVIDENCE_SCHEMA = "epass.dump.evidence/1"

CHECK_MANDATORY = "lds.mandatory_data_groups"
CHECK_ACCESS = "access.protocol"
CHECK_READ = "read.files"
CHECK_CHIP = "chip.authenticity"
CHECK_PRINTED_MRZ = "mrz.printed_vs_chip"


# --- sections ------------------------------------------------------------------------------


class ChipAuthenticityStatus(StrEnum):
    """The outcome of the chip-authenticity section (9303-11 §6)."""

    GENUINE_CHIP = "GENUINE_CHIP"
    CLONE_SUSPECTED = "CLONE_SUSPECTED"
    NOT_CHECKED = "NOT_CHECKED"


@dataclass(frozen=True)
class ChipAuthenticity:
    """Whether the chip is the one the state issued (Active / Chip Authentication).

    :ivar status: one of :class:`ChipAuthenticityStatus`.
    :ivar detail: one sentence.
    :ivar checks: the chip-authentication checks (empty when not checked).
    """

    status: ChipAuthenticityStatus
    detail: str
    checks: tuple[Check, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "detail": self.detail,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class NotChecked:
    """Something the verdict does not cover, said beside it.

    :ivar name: stable identifier (``"chip_authenticity"``, ``"revocation"``, ``"printed_mrz"``).
    :ivar detail: what it means for the reader of the verdict.
    """

    name: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "detail": self.detail}


@dataclass(frozen=True)
class TimeValidity:
    """The document's validity in time, reported beside the verdict (never folded into it).

    :ivar checked_at: the time of the inspection.
    :ivar date_of_expiry: the date of expiry from DG1, or ``None`` if DG1 did not parse.
    :ivar expired: whether the document had expired at *checked_at* (``None`` if unknown).
    :ivar detail: one sentence.
    """

    checked_at: datetime
    date_of_expiry: date | None
    expired: bool | None
    detail: str

    def __repr__(self) -> str:  # the date of expiry is personal data (and a BAC key input)
        return f"TimeValidity(expired={self.expired}, <date hidden>)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "date_of_expiry": None
            if self.date_of_expiry is None
            else self.date_of_expiry.isoformat(),
            "expired": self.expired,
            "detail": self.detail,
        }


@dataclass(frozen=True, repr=False)
class HolderView:
    """The holder and document data of DG1's MRZ (9303-10 §4.7.1), for display.

    Dates are ISO 8601 where the MRZ date is complete, else as printed.
    """

    format: str
    document_code: str
    issuing_state: str
    document_number: str
    primary_identifier: str
    secondary_identifier: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    optional_data: str
    check_digit_errors: tuple[str, ...]

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"HolderView({self.format}, <personal data hidden>)"

    @classmethod
    def from_mrz(cls, mrz: Mrz, *, at: datetime | None = None) -> HolderView:
        """The view of *mrz*; a date of birth is placed in the century that puts it
        before both the date of expiry and *at* (the MRZ has two-digit years)."""
        pivot = mrz.date_of_birth.pivot_year
        if at is not None:
            pivot = at.year if pivot is None else min(pivot, at.year)
        return cls(
            format=mrz.format,
            document_code=mrz.document_code,
            issuing_state=mrz.issuing_state,
            document_number=mrz.document_number,
            primary_identifier=mrz.primary_identifier,
            secondary_identifier=mrz.secondary_identifier,
            nationality=mrz.nationality,
            date_of_birth=_mrz_date(mrz.date_of_birth, pivot_year=pivot),
            sex=mrz.sex,
            date_of_expiry=_mrz_date(mrz.date_of_expiry),
            optional_data=mrz.optional_data,
            check_digit_errors=tuple(mrz.check_digit_errors),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "primary_identifier": self.primary_identifier,
            "secondary_identifier": self.secondary_identifier,
            "nationality": self.nationality,
            "date_of_birth": self.date_of_birth,
            "sex": self.sex,
            "date_of_expiry": self.date_of_expiry,
            "optional_data": self.optional_data,
            "check_digit_errors": list(self.check_digit_errors),
        }


@dataclass(frozen=True)
class FaceView:
    """One face image of DG2 (9303-10 §4.7.2), described; the bytes stay in the document.

    :ivar index: position in DG2 (0-based).
    :ivar format: ``"JPEG"``, ``"JPEG2000"`` or ``"UNKNOWN"``.
    :ivar width: / :ivar height: declared size in pixels, if stated.
    :ivar size: image bytes.
    :ivar offset: where the image starts in DG2.
    :ivar encoding: ``"ISO/IEC 19794-5"`` or ``"ISO/IEC 39794-5"``.
    """

    index: int
    format: str
    width: int | None
    height: int | None
    size: int
    offset: int
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "offset": self.offset,
            "encoding": self.encoding,
        }


@dataclass(frozen=True)
class ReadSummary:
    """What happened on the link: how the chip was opened and what was read.

    :ivar access: the access-control protocol used and what the chip offered.
    :ivar link: ``"extended length"`` or ``"short APDUs"`` (``None`` offline).
    :ivar capabilities: the card's length capabilities (ATR, EF.ATR/INFO).
    :ivar traffic: APDUs, round trips, bytes each way, link seconds.
    :ivar files_read: labels of the files read, in LDS order.
    :ivar not_read: label -> reason for every file wanted but not read.
    :ivar recoveries: times a session the chip dropped was re-opened.
    :ivar seconds: wall time of the read.
    :ivar malformed: labels of the files the chip *served* malformed (a subset of
        :attr:`not_read`; a genuine chip does not do that).
    :ivar from_evidence: ``True`` when this summary comes from a dump's evidence
        file (what the saving read recorded), not from a read just made.
    """

    access: AccessResult
    link: str | None = None
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    traffic: Mapping[str, Any] = field(default_factory=dict)
    files_read: tuple[str, ...] = ()
    not_read: Mapping[str, str] = field(default_factory=dict)
    recoveries: int = 0
    seconds: float | None = None
    malformed: tuple[str, ...] = ()
    from_evidence: bool = False

    @classmethod
    def from_read(cls, result: ReadResult, *, link: str) -> ReadSummary:
        caps = result.capabilities
        return cls(
            access=result.access,
            link=link,
            capabilities={
                "extended_length": caps.extended_length,
                "max_command": caps.max_command,
                "max_response": caps.max_response,
            },
            traffic=result.stats.to_dict(),
            files_read=tuple(result.document.labelled()),
            not_read={f.label: why for f, why in result.not_read.items()},
            recoveries=result.recoveries,
            seconds=round(result.seconds, 6),
            malformed=tuple(f.label for f in sorted(result.malformed, key=lds_order)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "access": _access_dict(self.access),
            "link": self.link,
            "capabilities": dict(self.capabilities),
            "traffic": json_value(dict(self.traffic)),
            "files_read": list(self.files_read),
            "not_read": dict(self.not_read),
            "recoveries": self.recoveries,
            "seconds": self.seconds,
            "malformed": list(self.malformed),
            "from_evidence": self.from_evidence,
        }


def _access_dict(access: AccessResult) -> dict[str, Any]:
    return {
        "protocol": str(access.protocol),
        "card_access_present": access.card_access_present,
        "pace_offered": list(access.pace_offered),
        "fallback": access.fallback,
    }


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inspection:
    """Everything one inspection established; build it with :func:`inspect` or :func:`inspect_dump`.

    :ivar source: ``"chip"`` or ``"dump"``.
    :ivar source_detail: the dump folder, or ``None``.
    :ivar checked_at: the time certificates and the document's expiry were judged at.
    :ivar read: the read summary (``None`` for a dump that carries no read evidence).
    :ivar document: the raw files and parsed views.
    :ivar holder: DG1's data for display, or ``None`` if DG1 is absent or malformed.
    :ivar faces: DG2's face images, described.
    :ivar passive: the passive-authentication report.
    :ivar chip: the chip-authenticity section.
    :ivar document_checks: checks on the document as a whole (mandatory data groups, printed MRZ).
    :ivar read_checks: checks on how the chip was opened and what it served.
    :ivar findings: deviations that are not failures, from every section.
    :ivar verdict: decided by :func:`epass.verdict.decide` over :attr:`checks`.
    :ivar reasons: the checks that decided a non-VALID verdict.
    :ivar not_checked: what the verdict does not cover.
    :ivar time_validity: the document's expiry, beside the verdict.
    """

    source: str
    source_detail: str | None
    checked_at: datetime
    read: ReadSummary | None
    document: Document = field(repr=False)
    holder: HolderView | None
    faces: tuple[FaceView, ...]
    passive: Report
    chip: ChipAuthenticity
    document_checks: tuple[Check, ...]
    read_checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    verdict: Verdict
    reasons: tuple[str, ...]
    not_checked: tuple[NotChecked, ...]
    time_validity: TimeValidity

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every check of every section, in order: read, passive, document, chip."""
        return self.read_checks + self.passive.checks + self.document_checks + self.chip.checks

    def check(self, name: str) -> Check:
        """The check called *name*.

        :raises KeyError: if there is none.
        """
        return find_check(self.checks, name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout :data:`SCHEMA` (``json.dumps`` works as is)."""
        sections = (
            [("read", c) for c in self.read_checks]
            + [("passive_authentication", c) for c in self.passive.checks]
            + [("document", c) for c in self.document_checks]
            + [("chip_authenticity", c) for c in self.chip.checks]
        )
        return {
            "schema": SCHEMA,
            "epass_version": __version__,
            "source": self.source,
            "source_detail": self.source_detail,
            "checked_at": self.checked_at.isoformat(),
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "not_checked": [n.to_dict() for n in self.not_checked],
            "time_validity": self.time_validity.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "checks": [{"section": s, **c.to_dict()} for s, c in sections],
            "read": None if self.read is None else self.read.to_dict(),
            "document": {
                "files": {label: len(data) for label, data in self.document.labelled().items()},
                "holder": None if self.holder is None else self.holder.to_dict(),
                "faces": [face.to_dict() for face in self.faces],
            },
            "passive_authentication": self.passive.to_dict(),
            "chip_authenticity": self.chip.to_dict(),
        }

    def evidence(self) -> dict[str, Any]:
        """What a dump must carry so that :func:`inspect_dump` reaches this verdict offline."""
        return dump_evidence(self.read)


# --- building blocks ---------------------------------------------------------------------------


def _mrz_date(value: Any, *, pivot_year: int | None = None) -> str:
    try:
        return str(value.to_date(pivot_year=pivot_year).isoformat())
    except ValueError:
        return str(value)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_at(at: datetime | None) -> datetime:
    if at is None:
        return _now()
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("inspect(at=...) needs a timezone-aware datetime")
    return at


def _holder(document: Document, at: datetime) -> HolderView | None:
    try:
        dg1 = document.dg1
    except ParseError:
        return None
    return None if dg1 is None else HolderView.from_mrz(dg1.mrz, at=at)


def _faces(document: Document) -> tuple[FaceView, ...]:
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


def _document_findings(document: Document) -> list[Finding]:
    """Parse errors and non-fatal deviations of the parsed views (no personal data)."""
    findings: list[Finding] = []
    for file in document:
        error = document.parse_error(file)
        if error is not None:
            findings.append(
                Finding("lds.parse_error", f"does not parse: {error.reason}", file.label)
            )
    dg1 = _safe(lambda: document.dg1)
    if dg1 is not None and dg1.mrz.check_digit_errors:
        findings.append(
            Finding(
                "dg1.check_digits",
                "wrong MRZ check digits: " + ", ".join(dg1.mrz.check_digit_errors),
                "DG1",
            )
        )
    dg2 = _safe(lambda: document.dg2)
    if dg2 is not None:
        for problem in dg2.problems:
            findings.append(Finding("dg2.deviation", problem, "DG2"))
    dg14 = _safe(lambda: document.dg14)
    card_access = _safe(lambda: document.card_access)
    for file, infos in (
        (LdsFile.DG14, None if dg14 is None else dg14.security_infos),
        (LdsFile.EF_CARD_ACCESS, card_access),
    ):
        for problem in () if infos is None else infos.problems:
            findings.append(Finding("security_infos.deviation", problem, file.label))
    return findings


def _safe(get: Callable[[], _T]) -> _T | None:
    try:
        return get()
    except ParseError:
        return None


def _mandatory_check(document: Document, passive: Report, not_read: Mapping[str, str]) -> Check:
    """DG1 and DG2 must be present (9303-10 §4.7); missing ones keep the verdict from VALID."""
    labels = [f.label for f in MANDATORY_DATA_GROUPS]
    missing = [f for f in MANDATORY_DATA_GROUPS if f not in document]
    evidence: dict[str, Any] = {
        "mandatory": tuple(labels),
        "missing": tuple(f.label for f in missing),
    }
    if not missing:
        return Check(CHECK_MANDATORY, CheckStatus.PASS, "DG1 and DG2 are present", evidence)
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
        "mandatory data groups missing, so the holder is not proven: " + "; ".join(reasons),
        evidence,
    )


def _access_check(access: AccessResult, *, recorded: bool) -> tuple[Check, list[Finding]]:
    """How the chip was opened (9303-11 §4.2: PACE when offered); informative, never the verdict.

    :param recorded: the facts come from a dump's evidence file, not from this run.
    """
    check, findings = _access_check_facts(access)
    if not recorded:
        return check, findings
    detail = f"as the dump's evidence records it (not re-verifiable offline): {check.detail}"
    return Check(check.name, check.status, detail, check.evidence, required=False), findings


def _access_check_facts(access: AccessResult) -> tuple[Check, list[Finding]]:
    evidence: dict[str, Any] = {
        "protocol": str(access.protocol),
        "card_access_present": access.card_access_present,
        "pace_offered": tuple(access.pace_offered),
    }
    if access.pace_offered and access.protocol != AccessProtocol.PACE:
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
    return (
        Check(
            CHECK_ACCESS,
            CheckStatus.PASS,
            f"opened with {access.protocol}; the chip {offered}",
            evidence,
            required=False,
        ),
        [],
    )


def _read_check(read: ReadSummary, document: Document) -> Check:
    """Whether every file the chip was asked for arrived intact (required when one did not).

    A file the chip *served* malformed (a header that is not TLV, shorter than it
    declares, implausibly large) keeps the verdict from VALID: a genuine chip
    does not do that, and its bytes could not be checked. Files the chip refused
    or lacks, and DG3/DG4 (which need Extended Access Control), are listed only.
    """
    evidence: dict[str, Any] = {
        "files_read": tuple(read.files_read) or tuple(document.labelled()),
        "not_read": tuple(f"{name}: {why}" for name, why in read.not_read.items()),
        "malformed": tuple(read.malformed),
    }
    recorded = "as the dump's evidence records it: " if read.from_evidence else ""
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


def _printed_mrz_check(document: Document, mrz: str) -> Check:
    """Compare the MRZ as printed (scanned or typed) with DG1, field by field.

    The detail names the fields that differ, never their values.
    """
    try:
        printed = mrz_module.parse(mrz.strip().upper(), strict=False)
    except ParseError as exc:
        raise ParseError(f"the printed MRZ given does not parse: {exc.reason}", file="MRZ") from exc
    try:
        dg1 = document.dg1
    except ParseError:
        dg1 = None
    if dg1 is None:
        return Check(
            CHECK_PRINTED_MRZ, CheckStatus.SKIP, "no readable DG1 to compare the printed MRZ with"
        )
    fields = (
        "document_code",
        "issuing_state",
        "document_number",
        "primary_identifier",
        "secondary_identifier",
        "nationality",
        "date_of_birth",
        "sex",
        "date_of_expiry",
        "optional_data",
        "optional_data_2",
    )
    differ = tuple(f for f in fields if str(getattr(printed, f)) != str(getattr(dg1.mrz, f)))
    if not differ and printed.text != dg1.mrz.text:
        differ = ("check digits or fillers",)
    evidence: dict[str, Any] = {
        "compared": (*fields, "whole text"),
        "differ": differ,
        "printed_check_digit_errors": tuple(printed.check_digit_errors),
    }
    if printed.check_digit_errors and not differ:
        differ = ("check digits",)
    if differ:
        return Check(
            CHECK_PRINTED_MRZ,
            CheckStatus.FAIL,
            "the printed MRZ differs from DG1 in: " + ", ".join(differ),
            evidence,
        )
    return Check(
        CHECK_PRINTED_MRZ, CheckStatus.PASS, "the printed MRZ matches DG1 in every field", evidence
    )


def _dg_status(passive: Report, number: int) -> str | None:
    """The data group's hash status in the PA report (``"MATCH"`` ...), or ``None``."""
    for result in passive.data_groups:
        if result.number == number:
            return result.status.value
    return None


def _time_validity(
    document: Document, passive: Report, at: datetime
) -> tuple[TimeValidity, list[Finding]]:
    expiry: date | None = None
    dg1 = _safe(lambda: document.dg1)
    if dg1 is not None:
        try:
            expiry = dg1.mrz.date_of_expiry.to_date()
        except ValueError:
            expiry = None
    if expiry is None:
        return TimeValidity(at, None, None, "date of expiry unknown (no readable DG1)"), []
    proven = _dg_status(passive, 1) == "MATCH"
    source = "" if proven else " (from a DG1 that is not proven)"
    if at.date() > expiry:
        detail = f"document expired on {expiry.isoformat()}{source}"
        finding = Finding(
            "document.expired",
            "the document has expired (see its date of expiry): an expired document is not "
            "a forgery, and the verdict does not depend on it",
            "DG1",
        )
        return TimeValidity(at, expiry, True, detail), [finding]
    return TimeValidity(at, expiry, False, f"document valid until {expiry.isoformat()}{source}"), []


def _not_checked(mrz_given: bool) -> tuple[NotChecked, ...]:
    out = [
        NotChecked(
            "chip_authenticity",
            "Active Authentication and Chip Authentication are not performed: the data are "
            "proven, the chip is not (a copy of these files on another chip would pass)",
        ),
        NotChecked("revocation", "no certificate revocation list was consulted for the DS"),
    ]
    if not mrz_given:
        out.append(
            NotChecked("printed_mrz", "the MRZ printed on the data page was not compared with DG1")
        )
    return tuple(out)


def _assemble(
    *,
    source: str,
    source_detail: str | None,
    document: Document,
    trust_store: TrustStore,
    at: datetime,
    read: ReadSummary | None,
    mrz: str | None,
    extra_findings: Sequence[Finding] = (),
) -> Inspection:
    passive = verify(document, trust_store, at=at)
    holder = _holder(document, at)
    findings: list[Finding] = [*extra_findings, *passive.findings]
    findings += _document_findings(document)
    read_checks: list[Check] = []
    if read is not None:
        check, access_findings = _access_check(read.access, recorded=read.from_evidence)
        read_checks += [check, _read_check(read, document)]
        findings += access_findings
    not_read = read.not_read if read is not None else {}
    document_checks = [_mandatory_check(document, passive, not_read)]
    if mrz is not None:
        document_checks.append(_printed_mrz_check(document, mrz))
    chip = ChipAuthenticity(
        ChipAuthenticityStatus.NOT_CHECKED,
        "chip authenticity not checked: Active and Chip Authentication are not performed",
        (
            Check(
                CHECK_CHIP,
                CheckStatus.SKIP,
                "not checked: Active Authentication and Chip Authentication are not supported",
                required=False,
            ),
        ),
    )
    time_validity, time_findings = _time_validity(document, passive, at)
    findings += time_findings
    # the same order as Inspection.checks: read, passive, document, chip
    verdict, reasons = decide((*read_checks, *passive.checks, *document_checks, *chip.checks))
    return Inspection(
        source=source,
        source_detail=source_detail,
        checked_at=at,
        read=read,
        document=document,
        holder=holder,
        faces=_faces(document),
        passive=passive,
        chip=chip,
        document_checks=tuple(document_checks),
        read_checks=tuple(read_checks),
        findings=tuple(findings),
        verdict=verdict,
        reasons=reasons,
        not_checked=_not_checked(mrz is not None),
        time_validity=time_validity,
    )


# --- entry points ----------------------------------------------------------------------------


def inspect(
    transport: Any,
    key: AccessKey,
    trust_store: TrustStore,
    *,
    at: datetime | None = None,
    options: ReadOptions | None = None,
    progress: Progress | None = None,
) -> Inspection:
    """Read a chip and verify what was read: the whole inspection (9303-11 §4-§5).

    Steps: read EF.CardAccess, select the eMRTD application, access control
    (BAC), read EF.COM, EF.SOD and every data group either lists, chip
    authentication (not performed in this version), then passive
    authentication over the document parsed once, and one verdict.

    :param transport: an open :class:`epass.transport.Transport` (the caller closes it).
    :param key: the MRZ key (:class:`epass.access.keys.MrzKey`).
    :param trust_store: CSCA anchors.
    :param at: the time to judge validity at (timezone-aware; default now).
    :param options: how to read (:class:`epass.reader.ReadOptions`).
    :param progress: called with each :class:`epass.reader.ProgressEvent`.
    :raises AccessControlError: if the chip refuses the key.
    :raises TransportError: if the link fails (card removed: ``CardRemovedError``).
    :raises EpassError: if EF.COM or EF.SOD cannot be read, or the chip breaks the protocol.
    """
    when = _check_at(at)
    session = ChipSession(transport, options=options, progress=progress)
    result = session.read(key)
    link = "extended length" if session.extended_length else "short APDUs"
    return _assemble(
        source="chip",
        source_detail=None,
        document=result.document,
        trust_store=trust_store,
        at=when,
        read=ReadSummary.from_read(result, link=link),
        mrz=None,
    )


def inspect_dump(
    files_or_dir: str | os.PathLike[str] | Mapping[str, bytes] | Document,
    trust_store: TrustStore,
    *,
    at: datetime | None = None,
    mrz: str | None = None,
) -> Inspection:
    """Verify a saved dump offline: the same checks and verdict as the live read that saved it.

    :param files_or_dir: a dump folder (see :mod:`epass.dump`; its evidence file, when
        present, restores the read summary), a mapping of file names to bytes, or a
        :class:`~epass.lds.document.Document`.
    :param trust_store: CSCA anchors.
    :param at: the time to judge validity at (timezone-aware; default now).
    :param mrz: the MRZ as printed on the data page (all lines); when given it is
        compared with DG1 field by field (``mrz.printed_vs_chip``).
    :raises DumpError: if the folder cannot be read or holds no LDS file.
    :raises ValueError: for a file name that is not an LDS file.
    :raises ParseError: if *mrz* does not parse.
    """
    when = _check_at(at)
    read: ReadSummary | None = None
    detail: str | None = None
    evidence_findings: list[Finding] = []
    if isinstance(files_or_dir, Document):
        document = files_or_dir
    elif isinstance(files_or_dir, Mapping):
        document = Document.from_labels(files_or_dir)
    else:
        dump = read_dump(files_or_dir)
        document = Document.from_labels(dump.files)
        detail = str(Path(files_or_dir))
        if dump.evidence is not None:
            name = str(dump.folder / EVIDENCE_FILE)
            read, evidence_findings = _read_from_evidence(dump.evidence, name, document)
        elif dump.evidence_error is not None:
            evidence_findings = [
                Finding("dump.evidence_unusable", f"{dump.evidence_error}: ignored")
            ]
    return _assemble(
        source="dump",
        source_detail=detail,
        document=document,
        trust_store=trust_store,
        at=when,
        read=read,
        mrz=mrz,
        extra_findings=evidence_findings,
    )


# --- dump evidence -----------------------------------------------------------------------------


def dump_evidence(read: ReadSummary | None) -> dict[str, Any]:
    """The evidence file's content for a dump of this read (:data:`EVIDENCE_SCHEMA`).

    It carries what the bytes alone cannot: how the chip was opened (and what it
    offered), and which files were not read and why. Chip-authentication
    challenges and responses will join it when those protocols are performed.
    """
    out: dict[str, Any] = {"schema": EVIDENCE_SCHEMA, "epass_version": __version__}
    if read is not None:
        out["access"] = _access_dict(read.access)
        out["not_read"] = dict(read.not_read)
        out["malformed"] = list(read.malformed)
        out["link"] = read.link
    return out


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise TypeError(f"{what} is not a list of strings")
    return tuple(value)


def _read_from_evidence(
    evidence: Mapping[str, Any], name: str, document: Document
) -> tuple[ReadSummary | None, list[Finding]]:
    """The read summary a dump's evidence file records, and findings about the file itself.

    The evidence is untrusted like every byte of a dump: an unusable file gives a
    finding (passive authentication does not need it), and entries that the
    files contradict (a file "not read" that is there) are dropped and reported.
    """
    if evidence.get("schema") != EVIDENCE_SCHEMA:
        schema = str(evidence.get("schema"))[:40]
        return None, [
            Finding("dump.evidence_unusable", f"{name}: unknown schema {schema!r}: ignored")
        ]
    access = evidence.get("access")
    if access is None:
        return None, []
    try:
        protocol = AccessProtocol(access["protocol"])
        offered = _strings(access.get("pace_offered", []), "pace_offered")
        malformed = _strings(evidence.get("malformed", []), "malformed")
        not_read = evidence.get("not_read", {})
        if not isinstance(not_read, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in not_read.items()
        ):
            raise TypeError("not_read is not an object of strings")
        fallback = access.get("fallback")
        result = AccessResult(
            protocol=protocol,
            card_access_present=access.get("card_access_present") is True,
            pace_offered=offered,
            fallback=fallback if isinstance(fallback, str) else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"{name}: malformed read evidence ({type(exc).__name__}): ignored"
        return None, [Finding("dump.evidence_unusable", detail)]
    present = set(document.labelled())
    contradicted = sorted(label for label in (*not_read, *malformed) if label in present)
    findings = []
    if contradicted:
        findings.append(
            Finding(
                "dump.evidence_contradicted",
                f"{name} says {', '.join(contradicted)} were not read, but the dump holds them: "
                "those entries are ignored",
            )
        )
    link = evidence.get("link")
    summary = ReadSummary(
        access=result,
        link=link if link in ("extended length", "short APDUs") else None,
        not_read={k: v for k, v in not_read.items() if k not in present},
        malformed=tuple(m for m in malformed if m not in present and m in not_read),
        from_evidence=True,
    )
    return summary, findings


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :meth:`Inspection.to_dict`, shipped with the package."""
    import json

    text = resources.files("epass").joinpath("schemas/inspection-1.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
