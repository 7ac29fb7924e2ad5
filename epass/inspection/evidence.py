"""A dump's evidence file read back into a read summary, as untrusted input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from epass.access.control import AccessProtocol, AccessResult
from epass.inspection.model import EVIDENCE_SCHEMA, ReadSummary
from epass.lds.document import Document
from epass.verdict import Finding

__all__ = ["read_summary_from_evidence"]


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise TypeError(f"{what} is not a list of strings")
    return tuple(value)


def read_summary_from_evidence(
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
    missing = [key for key in ("access", "not_read", "malformed") if key not in evidence]
    if access is None or missing:
        what = ", ".join(missing) or "access"
        detail = f"{name}: incomplete read evidence (no {what}): ignored"
        return None, [Finding("dump.evidence_incomplete", detail)]
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
                f"{name} lists {', '.join(contradicted)} as not read, but the dump holds them: "
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
