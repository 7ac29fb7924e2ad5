"""The inspection result: :class:`Inspection` and its sections, frozen data with one JSON layout.

:meth:`Inspection.to_dict` has the layout :data:`SCHEMA`, described by the JSON
Schema ``epass/schemas/inspection-1.schema.json`` (:func:`json_schema`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from typing import Any

from epass._version import __version__
from epass.access.control import AccessResult
from epass.lds.document import Document
from epass.lds.files import lds_order
from epass.lds.mrz import Mrz
from epass.pa.report import Report
from epass.reader import ChipAuthenticationResult, ReadResult
from epass.verdict import Check, Finding, Verdict, find_check, json_value

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
    "access_dict",
    "dump_evidence",
    "json_schema",
    "mrz_date",
]

#: Identifies the layout of :meth:`Inspection.to_dict`; bumped on incompatible changes.
SCHEMA = "epass.inspection/1"
#: Identifies the layout of the evidence file a dump carries (see :func:`dump_evidence`).
EVIDENCE_SCHEMA = "epass.dump.evidence/1"


class ChipAuthenticityStatus(StrEnum):
    """The outcome of the chip-authenticity section (9303-11 §6)."""

    GENUINE_CHIP = "GENUINE_CHIP"
    CLONE_SUSPECTED = "CLONE_SUSPECTED"
    NOT_CHECKED = "NOT_CHECKED"


@dataclass(frozen=True)
class ChipAuthenticity:
    """Whether the chip is the one the state issued (Active / Chip Authentication, PACE-CAM).

    Built by :func:`epass.inspection.chip.chip_authenticity`, which binds each
    protocol's result to passive authentication of its key's file.

    :ivar status: one of :class:`ChipAuthenticityStatus`.
    :ivar detail: one sentence.
    :ivar checks: the chip-authentication checks (``chip.chip_authentication``,
        ``chip.active_authentication``, ``chip.pace_cam``,
        ``chip.terminal_authentication``), each with its evidence (challenge,
        signature, recovered digest, key id, algorithm, ``key_proof``: the
        passive-authentication result that proved the key).
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
            date_of_birth=mrz_date(mrz.date_of_birth, pivot_year=pivot),
            sex=mrz.sex,
            date_of_expiry=mrz_date(mrz.date_of_expiry),
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
    :ivar chip_authentication: the chip-authentication runs of the read (CA,
        AA, TA with their evidence); ``None`` for a dump.
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
    chip_authentication: ChipAuthenticationResult | None = None

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
                "ignored": list(caps.ignored),
            },
            traffic=result.stats.to_dict(),
            files_read=tuple(result.document.labelled()),
            not_read={f.label: why for f, why in result.not_read.items()},
            recoveries=result.recoveries,
            seconds=round(result.seconds, 6),
            malformed=tuple(f.label for f in sorted(result.malformed, key=lds_order)),
            chip_authentication=result.chip_authentication,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "access": access_dict(self.access),
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


def access_dict(access: AccessResult) -> dict[str, Any]:
    """The ``read.access`` object: protocol, what was offered, any fallback, how PACE ran."""
    return {
        "protocol": str(access.protocol),
        "card_access_present": access.card_access_present,
        "pace_offered": list(access.pace_offered),
        "fallback": access.fallback,
        "pace": None if access.pace is None else access.pace.to_dict(),
    }


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


def mrz_date(value: Any, *, pivot_year: int | None = None) -> str:
    try:
        return str(value.to_date(pivot_year=pivot_year).isoformat())
    except ValueError:
        return str(value)


def dump_evidence(read: ReadSummary | None) -> dict[str, Any]:
    """The evidence file's content for a dump of this read (:data:`EVIDENCE_SCHEMA`).

    It carries what the bytes alone cannot: how the chip was opened (and what it
    offered), and which files were not read and why. Chip-authentication
    challenges and responses will join it when those protocols are performed.
    """
    out: dict[str, Any] = {"schema": EVIDENCE_SCHEMA, "epass_version": __version__}
    if read is not None:
        out["access"] = access_dict(read.access)
        out["not_read"] = dict(read.not_read)
        out["malformed"] = list(read.malformed)
        out["link"] = read.link
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :meth:`Inspection.to_dict`, shipped with the package."""
    text = resources.files("epass").joinpath("schemas/inspection-1.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
