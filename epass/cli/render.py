"""Text rendering of an :class:`~epass.inspection.Inspection` for a terminal.

Every string that comes from a chip or a dump (certificate subjects, DG
fields, parser messages) goes through :func:`safe`, which escapes control
characters, line and paragraph separators and bidirectional overrides. A
value therefore stays on its own line behind its label, and no line that a
chip controls can begin with ``Verdict:`` or hide the real verdict with ANSI
sequences: the verdict line is written only here, last, and once.

Colour is used only on a terminal, never when ``NO_COLOR`` is set
(https://no-color.org) or ``color=False``.

Holder data is shown because the user asked to inspect the document; it is
never logged.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable

import click

from epass.inspection import Inspection
from epass.pa.report import DataGroupStatus
from epass.verdict import Check, CheckStatus, Verdict

__all__ = ["render_text", "safe", "use_colour"]

_STATUS_COLOURS = {
    CheckStatus.PASS: "green",
    CheckStatus.FAIL: "red",
    CheckStatus.SKIP: "yellow",
    CheckStatus.ERROR: "magenta",
}
_VERDICT_COLOURS = {Verdict.VALID: "green", Verdict.INVALID: "red", Verdict.INDETERMINATE: "yellow"}
_CHIP_COLOURS = {"GENUINE_CHIP": "green", "CLONE_SUSPECTED": "red", "NOT_CHECKED": "yellow"}
#: Evidence shown under a chip-authentication check (hex cut to a line).
_CHIP_EVIDENCE = (
    "key_proof",
    "algorithm",
    "protocol",
    "key_id",
    "hash",
    "challenge",
    "signature",
    "recovered_digest",
    "terminal",
    "sw",
)
_DG_COLOURS = {
    DataGroupStatus.MATCH: "green",
    DataGroupStatus.MISMATCH: "red",
    DataGroupStatus.NOT_IN_SOD: "red",
    DataGroupStatus.NOT_READ: "yellow",
}
#: Longest untrusted value shown on one line before it is cut.
MAX_VALUE = 400
#: Printable characters that look blank (Hangul fillers, the braille blank): escaped like
#: spaces, so that chip text cannot pad itself onto a wrapped line of its own.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def safe(value: object, *, limit: int = MAX_VALUE) -> str:
    """*value* as one printable line: control and format characters escaped, length bounded.

    C0/C1 controls (newline, carriage return, ESC ...), DEL, the Unicode line
    and paragraph separators and every format character (bidirectional
    overrides, zero-width joiners) become ``\\xNN`` / ``\\uNNNN`` /
    ``\\UNNNNNNNN`` escapes. A run of spaces keeps its first space and escapes
    the rest, and printable characters that look blank (Hangul fillers, the
    braille blank) are escaped, so padding cannot push chip text onto a line of
    its own when the terminal wraps.
    """
    text = str(value)
    out: list[str] = []
    previous = ""
    for ch in text[: limit + 1]:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == " " and previous == " ":
            out.append("\\x20")
        elif ch in _BLANK_LOOKING:
            out.append(f"\\u{code:04x}")
        elif ch.isprintable() and unicodedata.category(ch) != "Cf":
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
        previous = ch
    line = "".join(out)
    return line if len(text) <= limit else line[:limit] + "…"


def use_colour(color: bool | None = None) -> bool | None:
    """``False`` when ``NO_COLOR`` is set (any non-empty value), else *color* (None = auto)."""
    if os.environ.get("NO_COLOR"):
        return False
    return color


def _line(label: str, value: str) -> str:
    return f"  {label:<14} {value}"


def render_text(inspection: Inspection, *, title: str, color: bool | None = None) -> str:
    """A terminal rendering: read, holder, every check with its section, the verdict last."""
    colour = use_colour(color)

    def s(text: str, fg: str | None = None, bold: bool = False) -> str:
        if colour is False:
            return text
        return click.style(text, fg=fg, bold=bold)

    out: list[str] = [s(safe(title), bold=True), ""]
    read = inspection.read
    if read is not None:
        out.append(s("Chip", bold=True))
        access = read.access
        line = str(access.protocol)
        if access.pace_offered:
            line += f" (chip offers PACE: {safe(', '.join(access.pace_offered))})"
        out.append(_line("access", line))
        traffic = read.traffic
        if traffic:
            wire = int(traffic.get("bytes_sent", 0)) + int(traffic.get("bytes_received", 0))
            out.append(
                _line("link", f"{read.link or '-'}: {traffic.get('apdus')} APDUs, {wire:,} bytes")
            )
        if read.files_read:
            out.append(_line("files read", " ".join(read.files_read)))
        for name, reason in read.not_read.items():
            out.append(_line("not read", f"{safe(name)}: {safe(reason)}"))
        out.append("")

    holder = inspection.holder
    proof = {dg.number: dg.status.value for dg in inspection.passive.data_groups}
    if holder is not None:
        heading = "Holder"
        if proof.get(1) != "MATCH":
            heading += f" (NOT PROVEN: DG1 {proof.get(1, 'not checked')})"
        elif inspection.verdict is not Verdict.VALID:
            heading += f" (not proven: verdict {inspection.verdict.value})"
        out.append(s(heading, bold=True, fg=None if heading == "Holder" else "red"))
        document = "  ".join(
            safe(part)
            for part in (holder.document_code, holder.issuing_state, holder.document_number)
        )
        out.append(_line("document", f"{document}  ({holder.format})"))
        name = holder.primary_identifier
        if holder.secondary_identifier:
            name += ", " + holder.secondary_identifier
        out.append(_line("name", safe(name)))
        out.append(
            _line("nationality", f"{safe(holder.nationality)}    sex {safe(holder.sex or '-')}")
        )
        out.append(_line("born", safe(holder.date_of_birth)))
        out.append(_line("expires", safe(holder.date_of_expiry)))
    for face in inspection.faces:
        size = f"{face.width}x{face.height}" if face.width and face.height else "size not stated"
        unproven = "" if proof.get(2) == "MATCH" else f"  NOT PROVEN: DG2 {proof.get(2, '-')}"
        out.append(
            _line("face", f"{face.format} {size} (as declared), {face.size:,} bytes{unproven}")
        )
    if holder is not None or inspection.faces:
        out.append("")

    if inspection.findings:
        out.append(s("Findings (not failures)", bold=True))
        for finding in inspection.findings:
            where = f"{finding.file}: " if finding.file else ""
            out.append(f"  - {safe(where + finding.detail)}")
        out.append("")

    chip = inspection.chip
    status = chip.status.value.replace("_", " ")
    out.append(
        s("Chip authenticity: ", bold=True) + s(status, _CHIP_COLOURS[chip.status.value], True)
    )
    out.append(f"  {safe(chip.detail)}")
    for c in chip.checks:
        mark = s(f"{c.status.value:<5}", _STATUS_COLOURS[c.status], True)
        out.append(f"  {mark} {c.name}" + ("" if c.required else " (informative)"))
        for name in _CHIP_EVIDENCE:
            value = c.evidence.get(name)
            if value is None or value == "":
                continue
            text = value.hex() if isinstance(value, bytes) else str(value)
            out.append(f"        {name:<16} {safe(text, limit=96)}")
    out.append("")

    report = inspection.passive
    out.append(s(f"Checks (at {inspection.checked_at.isoformat()})", bold=True))
    checks = inspection.checks
    width = max((len(c.name) for c in checks), default=10)
    for c in checks:
        out.append(_check_line(c, width, s))
    if report.data_groups:
        out.append("")
        out.append(s("Data groups (hash in EF.SOD / hash of the bytes read)", bold=True))
        for dg in report.data_groups:
            status = s(f"{dg.status.value:<10}", _DG_COLOURS[dg.status])
            out.append(f"  {dg.name:<5} {status} {dg.algorithm or ''}")
            if dg.expected is not None:
                out.append(f"        expected {dg.expected}")
            if dg.actual is not None and dg.actual != dg.expected:
                out.append(f"        actual   {dg.actual}")
    if report.signer is not None:
        out.append("")
        out.append(_line("signer (DS)", safe(report.signer.subject)))
        out.append(
            _line(
                "",
                f"serial {safe(report.signer.serial)}, "
                f"{report.signer.not_before.date()} .. {report.signer.not_after.date()}",
            )
        )
    if report.anchor is not None:
        out.append(_line("anchor (CSCA)", safe(report.anchor.subject)))
        if report.anchor.source:
            out.append(_line("", f"from {safe(report.anchor.source)}"))

    out.append("")
    out.append(s("Not checked", bold=True))
    for item in inspection.not_checked:
        out.append(f"  - {item.detail}")
    out.append(_line("time validity", safe(inspection.time_validity.detail)))
    out.append("")
    verdict = s(inspection.verdict.value, _VERDICT_COLOURS[inspection.verdict], bold=True)
    reasons = f"  ({', '.join(safe(r) for r in inspection.reasons)})" if inspection.reasons else ""
    out.append(f"Verdict: {verdict}{reasons}")
    return "\n".join(out)


def _check_line(c: Check, width: int, style: Callable[[str, str | None, bool], str]) -> str:
    status = style(f"{c.status.value:<5}", _STATUS_COLOURS[c.status], True)
    optional = "" if c.required else " (informative)"
    return f"  {status} {c.name:<{width}}  {safe(c.detail)}{optional}"
