"""Text and JSON rendering of what the CLI read and verified.

The JSON layout (``epass.cli.result/1``)::

    {"schema": ..., "source": ..., "verdict": ...,
     "document": {"fields": holder data, "faces": [...], "problems": [...]},
     "read": {access protocol, files, not_read, traffic} or null,
     "passive_authentication": Report.to_dict()}

Holder data is shown because the user asked for it on the command line; it
is never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from epass.errors import EpassError
from epass.pa.report import CheckStatus, DataGroupStatus, Report, Verdict

__all__ = ["SCHEMA", "DocumentView", "describe_document", "render_text", "result_dict"]

SCHEMA = "epass.cli.result/1"

_STATUS_COLOURS = {
    CheckStatus.PASS: "green",
    CheckStatus.FAIL: "red",
    CheckStatus.SKIP: "yellow",
    CheckStatus.ERROR: "magenta",
}
_VERDICT_COLOURS = {Verdict.VALID: "green", Verdict.INVALID: "red", Verdict.INDETERMINATE: "yellow"}
_DG_COLOURS = {
    DataGroupStatus.MATCH: "green",
    DataGroupStatus.MISMATCH: "red",
    DataGroupStatus.NOT_IN_SOD: "red",
    DataGroupStatus.NOT_READ: "yellow",
}


@dataclass(frozen=True)
class DocumentView:
    """The human-facing content of a document, as far as it parsed."""

    fields: dict[str, str]
    faces: list[dict[str, Any]]
    problems: list[str]


def describe_document(files: Mapping[str, bytes]) -> DocumentView:
    """Parse DG1 and DG2 for display; parse failures are listed, not raised."""
    fields: dict[str, str] = {}
    faces: list[dict[str, Any]] = []
    problems: list[str] = []
    if "DG1" in files:
        from epass.lds import dg1

        try:
            m = dg1.parse(files["DG1"]).mrz
        except EpassError as exc:
            problems.append(f"DG1: {exc}")
        else:
            fields.update(
                {
                    "format": m.format,
                    "document_code": m.document_code,
                    "issuing_state": m.issuing_state,
                    "document_number": m.document_number,
                    "primary_identifier": m.primary_identifier,
                    "secondary_identifier": m.secondary_identifier,
                    "nationality": m.nationality,
                    "date_of_birth": _date(m.date_of_birth),
                    "sex": m.sex,
                    "date_of_expiry": _date(m.date_of_expiry),
                }
            )
            errors = getattr(m, "check_digit_errors", ())
            if errors:
                problems.append("DG1 check digits wrong: " + ", ".join(errors))
    if "DG2" in files:
        from epass.lds import dg2

        try:
            parsed = dg2.parse(files["DG2"])
        except EpassError as exc:
            problems.append(f"DG2: {exc}")
        else:
            for face in parsed.faces:
                faces.append(
                    {
                        "format": face.image_format,
                        "width": face.width,
                        "height": face.height,
                        "size": face.size,
                        "offset": face.offset,
                    }
                )
    return DocumentView(fields, faces, problems)


def _date(value: object) -> str:
    to_date = getattr(value, "to_date", None)
    if callable(to_date):
        try:
            return str(to_date().isoformat())
        except (ValueError, EpassError):
            pass
    return str(value)


def result_dict(
    *,
    source: str,
    view: DocumentView,
    report: Report,
    read: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The CLI's JSON result."""
    return {
        "schema": SCHEMA,
        "source": source,
        "verdict": report.verdict.value,
        "document": {"fields": view.fields, "faces": view.faces, "problems": view.problems},
        "read": dict(read) if read is not None else None,
        "passive_authentication": report.to_dict(),
    }


def _line(label: str, value: str) -> str:
    return f"  {label:<14} {value}"


def render_text(
    *,
    title: str,
    view: DocumentView,
    report: Report,
    read: Mapping[str, Any] | None = None,
    color: bool | None = None,
) -> str:
    """A terminal rendering: holder, chip/link facts, every check, the verdict."""

    def s(text: str, colour: str | None = None, bold: bool = False) -> str:
        if color is False:
            return text
        return click.style(text, fg=colour, bold=bold)

    out: list[str] = [s(title, bold=True), ""]
    if read is not None:
        out.append(s("Chip", bold=True))
        out.append(_line("access", str(read.get("access_protocol"))))
        traffic = read.get("traffic", {})
        if isinstance(traffic, Mapping):
            out.append(
                _line(
                    "link",
                    f"{read.get('link', '')}: {traffic.get('apdus')} APDUs, "
                    f"{traffic.get('bytes_sent', 0) + traffic.get('bytes_received', 0):,} bytes",
                )
            )
        out.append(_line("files read", " ".join(read.get("files", []))))
        for name, reason in dict(read.get("not_read", {})).items():
            out.append(_line("not read", f"{name}: {reason}"))
        out.append("")
    f = view.fields
    if f:
        out.append(s("Holder", bold=True))
        document = f"{f['document_code']}  {f['issuing_state']}  {f['document_number']}"
        out.append(_line("document", f"{document}  ({f['format']})"))
        name = f["primary_identifier"]
        if f["secondary_identifier"]:
            name += ", " + f["secondary_identifier"]
        out.append(_line("name", name))
        out.append(_line("nationality", f"{f['nationality']}    sex {f['sex'] or '-'}"))
        out.append(_line("born", f["date_of_birth"]))
        out.append(_line("expires", f["date_of_expiry"]))
    for face in view.faces:
        out.append(
            _line(
                "face", f"{face['format']} {face['width']}x{face['height']}, {face['size']:,} bytes"
            )
        )
    for problem in view.problems:
        out.append(_line("problem", s(problem, "red")))
    if f or view.faces or view.problems:
        out.append("")

    out.append(s(f"Passive authentication (at {report.checked_at.isoformat()})", bold=True))
    width = max((len(c.name) for c in report.checks), default=10)
    for c in report.checks:
        status = s(f"{c.status.value:<5}", _STATUS_COLOURS[c.status], bold=True)
        out.append(f"  {status} {c.name:<{width}}  {c.detail}")
    if report.data_groups:
        out.append("")
        for dg in report.data_groups:
            status = s(f"{dg.status.value:<10}", _DG_COLOURS[dg.status])
            digest = dg.actual or dg.expected or ""
            out.append(f"  {dg.name:<5} {status} {dg.algorithm or '':<7} {digest[:32]}")
    if report.signer is not None:
        out.append("")
        out.append(_line("signer (DS)", report.signer.subject))
        out.append(
            _line(
                "",
                f"serial {report.signer.serial}, "
                f"{report.signer.not_before.date()} .. {report.signer.not_after.date()}",
            )
        )
    if report.anchor is not None:
        out.append(_line("anchor (CSCA)", report.anchor.subject))
        if report.anchor.source:
            out.append(_line("", f"from {report.anchor.source}"))
    out.append("")
    verdict = s(report.verdict.value, _VERDICT_COLOURS[report.verdict], bold=True)
    reasons = f"  ({', '.join(report.reasons)})" if report.reasons else ""
    out.append(f"Verdict: {verdict}{reasons}")
    return "\n".join(out)
