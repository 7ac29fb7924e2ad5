"""Inspection: the one flow every front end calls (DESIGN.md "Verification").

:func:`inspect` reads a chip through a transport and verifies what it read;
:func:`inspect_dump` verifies a saved dump offline. Both return an
:class:`Inspection`: frozen data holding

* the read summary (access protocol and what the chip offered, card
  capabilities, traffic, files not read and why) — ``None`` for a dump
  without read evidence;
* the document (raw bytes and parsed views, parsed once);
* the passive-authentication :class:`~epass.pa.report.Report` (9303-11 §5.1);
* the chip-authenticity section (Chip and Active Authentication, PACE-CAM,
  9303-11 §6, §4.4.3.5; :mod:`epass.inspection.chip`): GENUINE CHIP, CLONE
  SUSPECTED or NOT CHECKED, each protocol bound to passive authentication of
  its key's file;
* the document checks (DG1 and DG2 are mandatory, 9303-10 §4.7), the access
  checks, and the findings that are not failures;
* one verdict over all checks, decided by :func:`epass.verdict.decide_inspection`, and
  beside it what was *not* checked and the document's time validity, so
  that VALID is never read as more than it is.

:meth:`Inspection.to_dict` has one versioned layout, :data:`SCHEMA`, described
by the JSON Schema in ``epass/schemas/inspection-1.schema.json``.

The package: :mod:`~epass.inspection.model` (the frozen result and its JSON
layout), :mod:`~epass.inspection.checks` (the checks beside passive
authentication), :mod:`~epass.inspection.evidence` (a dump's evidence file read
back, untrusted); this module runs the flow.

Personal data (names, numbers, dates of the holder) appears in
:attr:`Inspection.holder` and ``to_dict()`` because the caller asked to
inspect the document; it never appears in check details, findings or logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from epass.access.keys import AccessKey
from epass.dump import EVIDENCE_FILE, read_dump
from epass.inspection.checks import (
    access_check,
    document_findings,
    face_views,
    holder_view,
    mandatory_check,
    not_checked,
    read_check,
    time_validity,
)
from epass.inspection.chip import chip_authenticity
from epass.inspection.crosscheck import dg11_checks, parse_printed_mrz, printed_mrz_checks
from epass.inspection.downgrade import downgrade_check
from epass.inspection.evidence import read_summary_from_evidence
from epass.inspection.model import (
    EVIDENCE_SCHEMA,
    SCHEMA,
    ChipAuthenticity,
    ChipAuthenticityStatus,
    FaceView,
    HolderView,
    Inspection,
    NotChecked,
    ReadSummary,
    TimeValidity,
    dump_evidence,
    json_schema,
)
from epass.lds.document import Document
from epass.pa import TrustStore, verify
from epass.reader import ChipSession, Progress, ReadOptions
from epass.verdict import Check, Finding, decide_inspection

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


def _now() -> datetime:
    return datetime.now(UTC)


def _check_at(at: datetime | None) -> datetime:
    if at is None:
        return _now()
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("inspect(at=...) needs a timezone-aware datetime")
    return at


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
    holder = holder_view(document, at)
    findings: list[Finding] = [*extra_findings, *passive.findings]
    findings += document_findings(document)
    read_checks: list[Check] = []
    if read is not None:
        checks, access_findings = access_check(read.access, recorded=read.from_evidence)
        downgrade, downgrade_findings = downgrade_check(read, document, passive, trust_store, at)
        read_checks += [*checks, downgrade, read_check(read, document, passive)]
        findings += access_findings + downgrade_findings
    not_read = read.not_read if read is not None else {}
    document_checks = [mandatory_check(document, passive, not_read)]
    if mrz is not None:
        document_checks += printed_mrz_checks(document, mrz)
    cross_checks, cross_findings = dg11_checks(document)
    document_checks += cross_checks
    findings += cross_findings
    chip = chip_authenticity(
        read=read, document=document, passive=passive, trust_store=trust_store, at=at
    )
    validity, time_findings = time_validity(document, passive, at)
    findings += time_findings
    # the same order as Inspection.checks: read, passive, document, chip
    verdict, reasons = decide_inspection(
        (*read_checks, *passive.checks, *document_checks, *chip.checks),
        clone_suspected=chip.status is ChipAuthenticityStatus.CLONE_SUSPECTED,
    )
    unchecked = chip.detail if chip.status is ChipAuthenticityStatus.NOT_CHECKED else None
    return Inspection(
        source=source,
        source_detail=source_detail,
        checked_at=at,
        read=read,
        document=document,
        holder=holder,
        faces=face_views(document),
        passive=passive,
        chip=chip,
        document_checks=tuple(document_checks),
        read_checks=tuple(read_checks),
        findings=tuple(findings),
        verdict=verdict,
        reasons=reasons,
        not_checked=not_checked(mrz is not None, read, live=source == "chip", chip=unchecked),
        time_validity=validity,
    )


def inspect(
    transport: Any,
    key: AccessKey,
    trust_store: TrustStore,
    *,
    at: datetime | None = None,
    options: ReadOptions | None = None,
    progress: Progress | None = None,
    mrz: str | None = None,
) -> Inspection:
    """Read a chip and verify what was read: the whole inspection (9303-11 §4-§5).

    Steps: read EF.CardAccess, access control (PACE when offered, then select
    the eMRTD application; or select, then BAC: see
    :class:`epass.access.control.AccessPolicy` in *options*), read EF.COM,
    EF.SOD and every data group either lists, chip authentication (not
    performed in this version; PACE-CAM's data are checked against
    EF.CardSecurity as ``access.pace_cam``), then passive authentication over
    the document parsed once, and one verdict.

    :param transport: an open :class:`epass.transport.Transport` (the caller closes it).
    :param key: the MRZ key (:class:`epass.access.keys.MrzKey`) or a CAN
        (:class:`epass.access.keys.CanKey`, PACE only).
    :param trust_store: CSCA anchors.
    :param at: the time to judge validity at (timezone-aware; default now).
    :param options: how to read (:class:`epass.reader.ReadOptions`).
    :param progress: called with each :class:`epass.reader.ProgressEvent`.
    :param mrz: the MRZ as printed on the data page (all lines), scanned or typed;
        when given it is compared with DG1 field by field
        (``mrz.printed_vs_chip.<field>``, :mod:`epass.inspection.crosscheck`).
    :raises ParseError: if *mrz* does not parse (before the chip is touched).
    :raises AccessControlError: if the chip refuses the key.
    :raises TransportError: if the link fails (card removed: ``CardRemovedError``).
    :raises EpassError: if EF.COM or EF.SOD cannot be read, or the chip breaks the protocol.
    """
    when = _check_at(at)
    if mrz is not None:
        parse_printed_mrz(mrz)  # a typo is the caller's to fix before the chip is read
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
        mrz=mrz,
        extra_findings=[
            Finding("read.capability_ignored", claim, "EF.ATR/INFO")
            for claim in result.capabilities.ignored
        ],
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
        compared with DG1 field by field (``mrz.printed_vs_chip.<field>``).
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
            read, evidence_findings = read_summary_from_evidence(dump.evidence, name, document)
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
