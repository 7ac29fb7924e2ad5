"""A dump's evidence file read back into a read summary, as untrusted input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from epass.access.control import AccessProtocol, AccessResult, CamResult, PaceDetails
from epass.inspection.model import EVIDENCE_SCHEMA, ReadSummary
from epass.lds.document import Document
from epass.verdict import Finding

__all__ = ["read_summary_from_evidence"]


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise TypeError(f"{what} is not a list of strings")
    return tuple(value)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 400:
        raise TypeError(f"{what} is not a short string")
    return value


def _pace_details(value: Any) -> PaceDetails | None:
    """PACE details as the evidence records them (untrusted: every field is type-checked)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("pace is not an object")
    parameter_id = value.get("parameter_id")
    if parameter_id is not None and (type(parameter_id) is not int or not 0 <= parameter_id < 32):
        raise TypeError("pace.parameter_id is not a small integer")
    key_length = value.get("key_length")
    if key_length not in (112, 128, 192, 256):
        raise TypeError("pace.key_length is not a cipher key length")
    mapping = value.get("mapping")
    if mapping not in ("GM", "IM", "CAM"):
        raise TypeError("pace.mapping is not GM, IM or CAM")
    cam_value = value.get("chip_authentication")
    cam = None
    if cam_value is not None:
        if not isinstance(cam_value, dict) or cam_value.get("verified") not in (True, False, None):
            raise TypeError("pace.chip_authentication is malformed")
        cam = CamResult(cam_value.get("verified"), _text(cam_value.get("detail"), "detail"))
    return PaceDetails(
        protocol=_text(value.get("protocol"), "pace.protocol"),
        oid=_text(value.get("oid"), "pace.oid"),
        mapping=mapping,
        key_agreement=_text(value.get("key_agreement"), "pace.key_agreement"),
        parameter_id=parameter_id,
        domain_parameters=_text(value.get("domain_parameters"), "pace.domain_parameters"),
        cipher=_text(value.get("cipher"), "pace.cipher"),
        key_length=key_length,
        password=_text(value.get("password"), "pace.password"),
        chip_authentication=cam,
    )


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
            pace=_pace_details(access.get("pace")) if protocol is AccessProtocol.PACE else None,
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
