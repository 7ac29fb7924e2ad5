"""Checks, their statuses and the one verdict rule (DESIGN.md "Verification").

Every section of an inspection (passive authentication, chip authenticity,
access control) reports :class:`Check` values; :func:`decide` turns any
sequence of them into a :class:`Verdict`. This is the only place the rule
lives:

``INVALID``
    some check has status ``FAIL``: the bytes prove a defect (a hash mismatch,
    a bad signature, a certificate outside its validity, ...). ``FAIL`` means
    exactly this and nothing weaker, so a non-required check that fails still
    makes the verdict ``INVALID``.
``INDETERMINATE``
    nothing failed, but a *required* check is ``SKIP`` or ``ERROR``: something
    was not proven (no CSCA for the issuer, an unsupported algorithm, a file
    not read). Unproven is not forged, and it is not genuine either.
``VALID``
    there is at least one check and every required check is ``PASS``.

A :class:`Finding` is a deviation that is not a failure (a legacy eContentType,
a wrong check digit in an otherwise signed DG1, an image header that disagrees
with the codestream). Findings never change the verdict; they are shown beside
it so that nothing the parsers noticed is hidden in a detail string.

The inspection verdict (:func:`decide_inspection`) is this same rule over the
checks of every section - access control and the read (``access.*``,
``read.*``), passive authentication (EF.SOD, data groups, DS, CSCA), the
document (mandatory data groups, printed MRZ) and chip authenticity
(``chip.*``) - with one addition, so that it reads:

1. **INVALID** when any check FAILs. Chip authenticity FAILs when Chip
   Authentication, Active Authentication or PACE-CAM failed (refused, a bad
   signature, keys the chip does not hold), or passed with a key passive
   authentication disproves: the chip section is then CLONE SUSPECTED, and a
   suspected clone is never VALID, whatever passive authentication says.
2. **INDETERMINATE** when nothing failed but a required check is not PASS:
   nothing unproven is VALID (no CSCA, a file not read, a chip-authentication
   pass with a key whose file passive authentication does not prove - a key
   from an unproven file gives no GENUINE CHIP).
3. **VALID** otherwise.

Beside the verdict, never folded into it: the chip section's status (GENUINE
CHIP, CLONE SUSPECTED, NOT CHECKED - a document that offers no chip
authentication, or a dump, is NOT CHECKED and says so under "not checked");
the access protocol (PACE or BAC, and BAC asked for or after PACE failed, reported
as ``access.protocol`` and a finding: how the channel was opened proves nothing
about the data or the chip); the document's expiry. A downgrade the signed data
prove - EF.CardAccess lacking PACE options DG14 or EF.CardSecurity sign - is not
beside the verdict: ``access.downgrade`` FAILs (:mod:`epass.inspection.downgrade`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

__all__ = [
    "Check",
    "CheckStatus",
    "EvidenceValue",
    "Finding",
    "Verdict",
    "decide",
    "decide_inspection",
    "find_check",
    "json_value",
]

EvidenceValue: TypeAlias = str | int | bool | bytes | datetime | tuple[str, ...] | None


class Verdict(StrEnum):
    """The overall outcome: are these chip data issued by the state, unaltered?"""

    VALID = "VALID"
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"


class CheckStatus(StrEnum):
    """The outcome of one check."""

    PASS = "PASS"  # noqa: S105 - not a password
    FAIL = "FAIL"
    SKIP = "SKIP"
    ERROR = "ERROR"


def json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Check:
    """One verification step.

    :ivar name: stable identifier (``"sod.signature"``).
    :ivar status: PASS, FAIL, SKIP or ERROR.
    :ivar detail: one human-readable sentence.
    :ivar evidence: algorithms, hashes (hex), subjects, serials, dates.
    :ivar required: whether a non-PASS status keeps the verdict from VALID.
    """

    name: str
    status: CheckStatus
    detail: str
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict)
    required: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "required": self.required,
            "detail": self.detail,
            "evidence": json_value(self.evidence),
        }


@dataclass(frozen=True)
class Finding:
    """A deviation noticed while parsing or reading that is not a failure.

    :ivar code: stable identifier (``"sod.legacy_econtent_type"``, ``"dg1.check_digit"``).
    :ivar detail: one human-readable sentence (never personal data).
    :ivar file: the LDS file it concerns (``"DG2"``), or ``None``.
    """

    code: str
    detail: str
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "file": self.file, "detail": self.detail}


def decide(checks: Iterable[Check]) -> tuple[Verdict, tuple[str, ...]]:
    """Apply the verdict rule of the module docstring.

    :returns: the verdict and the names of the checks that decided it (the
        FAILs for INVALID; the required non-PASS checks for INDETERMINATE;
        empty for VALID).
    """
    checks = tuple(checks)
    failed = tuple(c.name for c in checks if c.status is CheckStatus.FAIL)
    if failed:
        return Verdict.INVALID, failed
    unproven = tuple(c.name for c in checks if c.required and c.status is not CheckStatus.PASS)
    if unproven or not checks:
        return Verdict.INDETERMINATE, unproven
    return Verdict.VALID, ()


def decide_inspection(
    checks: Iterable[Check], *, clone_suspected: bool
) -> tuple[Verdict, tuple[str, ...]]:
    """The one inspection verdict (rule in the module docstring).

    :param checks: every section's checks, in report order.
    :param clone_suspected: the chip section says CLONE SUSPECTED; the verdict
        is then INVALID even if (by a defect elsewhere) no check FAILed.
    :returns: the verdict and the checks that decided it.
    """
    checks = tuple(checks)
    verdict, reasons = decide(checks)
    if clone_suspected and verdict is not Verdict.INVALID:
        chip = tuple(c.name for c in checks if c.name.startswith("chip."))
        return Verdict.INVALID, chip or ("chip.authenticity",)
    return verdict, reasons


def find_check(checks: Iterable[Check], name: str) -> Check:
    """The check called *name* among *checks*.

    :raises KeyError: if there is none.
    """
    for c in checks:
        if c.name == name:
            return c
    raise KeyError(name)
