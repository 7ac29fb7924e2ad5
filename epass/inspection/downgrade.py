"""Downgrade detection: EF.CardAccess as read against the signed PACEInfos (ICAO Doc 9303-11 §9.2).

EF.CardAccess is not signed: a relay between reader and chip can strip its
PACEInfos (or answer ``6A82``) so that the reader falls back to BAC, or strip
the PACE-CAM option so that it runs PACE-GM and loses chip authentication.
The same PACEInfos are also carried in signed files: DG14 (hashed in EF.SOD;
9303-11 §9.2.11 and 9303-10 §4.7.14: DG14 holds the SecurityInfos of the
protocols the chip supports, PACE among them) and EF.CardSecurity (a CMS
SignedData, 9303-11 §9.2.11, BSI TR-03110-3 A.1.2.5), when it was read.

``access.downgrade`` compares them after the read:

* **FAIL** (the verdict is then INVALID): a PACE option of a signed file that
  passive authentication proves (DG14 hash MATCH, or EF.CardSecurity verified)
  is absent from EF.CardAccess as read, or differs from it (other protocol or
  domain parameters). The data may still be genuine, but a session opened on
  a doctored EF.CardAccess is an attack in progress (or, at best, a chip the
  issuer got wrong): the document is not accepted. The detail says whether the
  chip was then opened with BAC (the classic downgrade) or with a weaker PACE.
* **PASS** (informative): every signed PACE option is in EF.CardAccess.
* **SKIP** (informative): no signed file carries PACEInfos (a chip without
  PACE, or whose DG14 does not repeat them): a stripped EF.CardAccess cannot be
  detected; or the signed file that carries them is not proven (its hash does
  not match: passive authentication already fails it), said with a finding.

EF.CardAccess options the signed files do not list are reported as the
finding ``access.card_access_extra`` (a relay could add a weaker option; the
reader prefers the strongest one, so this alone is not a downgrade).

Options are compared by (protocol OID, parameterId, version).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from epass.errors import ParseError
from epass.inspection.model import ReadSummary
from epass.lds.card_security import parse as parse_card_security
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.lds.security_infos import PaceInfo
from epass.pa import TrustStore, verify_card_security
from epass.pa.report import Report
from epass.verdict import Check, CheckStatus, EvidenceValue, Finding

__all__ = ["CHECK_DOWNGRADE", "downgrade_check"]

CHECK_DOWNGRADE = "access.downgrade"

_T = TypeVar("_T")
Option = tuple[str, int | None, int]


def _option(info: PaceInfo) -> Option:
    return (info.protocol, info.parameter_id, info.version)


def _label(option: Option, names: dict[Option, str]) -> str:
    name = names.get(option, option[0])
    return name if option[1] is None else f"{name} (parameterId {option[1]})"


@dataclass(frozen=True)
class _Signed:
    source: str
    options: tuple[Option, ...]
    proven: bool
    proof: str


def _parsed(get: Callable[[], _T]) -> _T | None:
    try:
        return get()
    except ParseError:
        return None


def _dg14_source(document: Document, passive: Report, names: dict[Option, str]) -> _Signed | None:
    dg14 = _parsed(lambda: document.dg14)
    if dg14 is None or not dg14.security_infos.pace_infos:
        return None
    infos = dg14.security_infos.pace_infos
    names.update({_option(i): i.name for i in infos})
    status = next((dg.status.value for dg in passive.data_groups if dg.number == 14), None)
    proven = status == "MATCH"
    return _Signed("DG14", tuple(_option(i) for i in infos), proven, f"DG14 hash {status}")


def _card_security_source(
    document: Document, trust_store: TrustStore, at: datetime, names: dict[Option, str]
) -> _Signed | None:
    data = document.get(LdsFile.EF_CARD_SECURITY)
    if data is None:
        return None
    parsed = _parsed(lambda: parse_card_security(data))
    if parsed is None or not parsed.security_infos.pace_infos:
        return None
    infos = parsed.security_infos.pace_infos
    names.update({_option(i): i.name for i in infos})
    report = verify_card_security(data, trust_store, at=at)
    failed = any(c.status is CheckStatus.FAIL for c in report.checks)
    signature = next((c for c in report.checks if c.name == "card_security.signature"), None)
    proven = not failed and signature is not None and signature.status is CheckStatus.PASS
    proof = f"EF.CardSecurity {'signature verified' if proven else 'not proven'}"
    return _Signed("EF.CardSecurity", tuple(_option(i) for i in infos), proven, proof)


def downgrade_check(
    read: ReadSummary,
    document: Document,
    passive: Report,
    trust_store: TrustStore,
    at: datetime,
) -> tuple[Check, list[Finding]]:
    """``access.downgrade``: EF.CardAccess as read against the signed PACEInfos (module docstring).

    :param read: the read summary (the protocol used; whether EF.CardAccess was there).
    :param document: the files read (EF.CardAccess as the chip served it, DG14,
        EF.CardSecurity when read).
    """
    names: dict[Option, str] = {}
    sources = [
        s
        for s in (
            _dg14_source(document, passive, names),
            _card_security_source(document, trust_store, at, names),
        )
        if s is not None
    ]
    card_access = _parsed(lambda: document.card_access)
    read_infos = () if card_access is None else card_access.pace_infos
    names.update({_option(i): i.name for i in read_infos})
    offered = {_option(i) for i in read_infos}
    access = read.access
    evidence: dict[str, EvidenceValue] = {
        "protocol": str(access.protocol),
        "card_access_present": access.card_access_present,
        "card_access_pace": tuple(_label(o, names) for o in sorted(offered, key=str)),
    }
    recorded = "as the dump's evidence records it: " if read.from_evidence else ""
    findings: list[Finding] = []
    if card_access is None and access.card_access_present and access.pace_offered:
        # a dump whose evidence says EF.CardAccess offered PACE, without the file: use the names
        offered_names = set(access.pace_offered)
        read_names = True
    else:
        offered_names = set()
        read_names = False
    if not sources:
        return (
            Check(
                CHECK_DOWNGRADE,
                CheckStatus.SKIP,
                "no signed file (DG14, EF.CardSecurity) carries PACEInfos: a stripped "
                "EF.CardAccess cannot be detected",
                evidence,
                required=False,
            ),
            findings,
        )
    signed_all: set[Option] = set()
    missing: dict[Option, list[str]] = {}
    unproven: list[str] = []
    for source in sources:
        evidence[f"{source.source.lower().replace('.', '_')}_pace"] = tuple(
            _label(o, names) for o in source.options
        )
        evidence[f"{source.source.lower().replace('.', '_')}_proof"] = source.proof
        if not source.proven:
            unproven.append(source.source)
            continue
        signed_all.update(source.options)
        for option in source.options:
            present = names.get(option) in offered_names if read_names else option in offered
            if not present:
                missing.setdefault(option, []).append(source.source)
    extra = offered - signed_all if signed_all else set()
    if extra:
        findings.append(
            Finding(
                "access.card_access_extra",
                "EF.CardAccess offers PACE options no signed file lists: "
                + ", ".join(_label(o, names) for o in sorted(extra, key=str)),
                "EF.CardAccess",
            )
        )
    if missing:
        listed = "; ".join(
            f"{_label(o, names)} (signed in {', '.join(where)})" for o, where in missing.items()
        )
        evidence["missing"] = tuple(_label(o, names) for o in missing)
        if str(access.protocol) == "BAC":
            how = "the chip was then opened with BAC: a downgrade from PACE"
        elif str(access.protocol) == "PACE":
            used = access.pace.protocol if access.pace is not None else "PACE"
            how = f"the chip was then opened with {used}: a downgrade to a weaker option"
        else:
            how = "no access control ran"
        what = "lacks" if access.card_access_present else "is absent, so it lacks"
        return (
            Check(
                CHECK_DOWNGRADE,
                CheckStatus.FAIL,
                f"{recorded}EF.CardAccess as read {what} PACE options the signed data "
                f"announce ({listed}); {how}. EF.CardAccess is unsigned: a relay stripped "
                "it, or the issuer made it wrong (9303-11 §9.2.11)",
                evidence,
            ),
            findings,
        )
    if not signed_all:
        detail = (
            f"the PACEInfos of {', '.join(unproven)} are not proven by passive authentication: "
            "EF.CardAccess is not compared with them"
        )
        findings.append(Finding("access.downgrade_unproven", detail, unproven[0]))
        return Check(CHECK_DOWNGRADE, CheckStatus.SKIP, detail, evidence, required=False), findings
    return (
        Check(
            CHECK_DOWNGRADE,
            CheckStatus.PASS,
            f"{recorded}EF.CardAccess offers every PACE option the signed "
            f"{' and '.join(s.source for s in sources if s.proven)} announce",
            evidence,
            required=False,
        ),
        findings,
    )
