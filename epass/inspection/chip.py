"""The chip-authenticity section: protocol results bound to passive authentication.

A chip proves it is the chip the state issued by proving possession of a
private key whose public key the state signed (ICAO Doc 9303-11 §6):

``chip.chip_authentication``
    Chip Authentication v1 with the key of DG14 (9303-11 §6.2): the chip's
    first protected response under the agreed keys verified.
``chip.active_authentication``
    Active Authentication with the key of DG15 (9303-11 §6.1): the chip signed
    a fresh challenge.
``chip.pace_cam``
    PACE-CAM (9303-11 §4.4.3.5): the chip's authentication data match the
    chip-authentication key of EF.CardSecurity, and EF.CardSecurity passes
    passive authentication (:func:`epass.pa.verify_card_security`, the same
    CMS path and trust store as EF.SOD).
``chip.terminal_authentication``
    Terminal Authentication v1 (informative: it proves the terminal to the
    chip, not the chip; it opens DG3/DG4).

**Binding.** A protocol that passed counts only when the key it used came
from a file passive authentication proved: the file's bytes are the ones the
session used, its hash MATCHes EF.SOD, and EF.SOD itself is proven (parses,
message digest, signature, DS chained to a CSCA); for PACE-CAM, EF.CardSecurity
verified. Each check carries that proof in its evidence (``key_proof``).

Statuses of one check:

* PASS - the protocol passed with a proven key;
* FAIL (required) - the chip refused the protocol or answered wrongly, or it
  passed with a key whose file passive authentication *disproved* (hash
  MISMATCH, a forged EF.CardSecurity: a substituted key, as a clone carries), or,
  on a live read, the chip withheld a DG14/DG15 whose hash the proven EF.SOD
  holds (refused or "not found": a blank chip carrying the files evades chip
  authentication that way);
* SKIP, required - the protocol passed with a key that is not proven (no
  CSCA, DG not in EF.SOD), or the document's key cannot be used by this
  reader: nothing is proven, so the verdict cannot be VALID;
* SKIP, informative - not performed (a dump; disabled by the read options;
  CA skipped because PACE-CAM authenticated the chip).

The section's status (:func:`section_status`): CLONE_SUSPECTED when any check
FAILs; GENUINE_CHIP when at least one of CA, AA, PACE-CAM PASSes; else
NOT_CHECKED, with a sentence saying why (the document offers none, a dump,
keys not proven). The verdict rule that combines this section with the others
is :func:`epass.verdict.decide_inspection`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from epass.access.control import AccessResult
from epass.errors import ParseError
from epass.inspection.model import ChipAuthenticity, ChipAuthenticityStatus, ReadSummary
from epass.lds.card_security import parse as parse_card_security
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.pa import TrustStore, verify_card_security
from epass.pa.report import Report
from epass.reader import AuthOutcome, ProtocolRun
from epass.verdict import Check, CheckStatus, EvidenceValue, Verdict

__all__ = [
    "CHECK_AA",
    "CHECK_CA",
    "CHECK_PACE_CAM",
    "CHECK_TA",
    "PROTOCOL_CHECKS",
    "chip_authenticity",
    "section_status",
]

CHECK_CA = "chip.chip_authentication"
CHECK_AA = "chip.active_authentication"
CHECK_PACE_CAM = "chip.pace_cam"
CHECK_TA = "chip.terminal_authentication"
#: The checks whose PASS makes a chip GENUINE (TA proves the terminal, not the chip).
PROTOCOL_CHECKS = frozenset({CHECK_CA, CHECK_AA, CHECK_PACE_CAM})
#: PA checks that do not bear on EF.SOD's own authenticity (per-file hashes, DG1's state).
_NOT_SOD_AUTHENTICITY = frozenset({"dg.hashes", "dg1.issuing_state"})

_NAMES = {
    "CA": "Chip Authentication",
    "AA": "Active Authentication",
    "TA": "Terminal Authentication",
}


def _parsed(get: Callable[[], Any]) -> Any:
    try:
        return get()
    except ParseError:
        return None


def _sod_unproven(passive: Report) -> list[str]:
    """The required checks that keep EF.SOD itself from being proven (empty: proven)."""
    return [
        c.name
        for c in passive.checks
        if c.required and c.name not in _NOT_SOD_AUTHENTICITY and c.status is not CheckStatus.PASS
    ]


def _withheld_check(name: str, file: LdsFile, passive: Report, read: ReadSummary) -> Check | None:
    """A key file EF.SOD signs that the chip did not serve on this live read.

    A chip that withholds its DG14 or DG15 avoids Chip or Active
    Authentication, which is exactly what a copy of the files on a blank chip
    must do: the document would read as one that "offers no chip
    authentication". When EF.SOD is proven, the issuer put that file on the
    chip, so its absence is a FAIL (clone suspected); when EF.SOD is not
    proven, nothing is proven either way and the check is a required SKIP.
    """
    status = next((r for r in passive.data_groups if r.number == file.number), None)
    if status is None or status.status.value != "NOT_READ":
        return None
    title = _NAMES["CA" if name == CHECK_CA else "AA"]
    key = "Chip Authentication key" if name == CHECK_CA else "Active Authentication key"
    why = read.not_read.get(file.label, "not served")
    evidence: dict[str, EvidenceValue] = {
        "key_file": file.label,
        "not_read": why,
        "sod_hash": status.expected,
        "hash_algorithm": status.algorithm,
    }
    unproven = _sod_unproven(passive)
    if unproven:
        evidence["key_proof"] = f"EF.SOD is not proven ({', '.join(unproven)})"
        return Check(
            name,
            CheckStatus.SKIP,
            f"EF.SOD lists a {file.label} (which may hold the chip's {key}) but the chip did "
            f"not serve it ({why}), and EF.SOD is not proven: {title} could not be run",
            evidence,
        )
    if file.label in read.malformed or why.startswith("not read: the session ended"):
        # a broken link or a dropped session is not proof of a clone; nor is it of a chip
        return Check(
            name,
            CheckStatus.SKIP,
            f"EF.SOD signs a {file.label} (which may hold the chip's {key}) that could not be "
            f"read ({why}): {title} could not be run, so the chip is not proven",
            evidence,
        )
    evidence["key_proof"] = (
        f"{file.label} hash listed in EF.SOD, which passive authentication proved"
    )
    return Check(
        name,
        CheckStatus.FAIL,
        f"the issuer signed a {file.label} for this chip (its hash is in EF.SOD, which passive "
        f"authentication proved), but the chip did not serve it ({why}): a chip that withholds "
        f"its {file.label} evades {title} (clone suspected)",
        evidence,
    )


def _key_proof(
    passive: Report, document: Document, file: LdsFile, used_sha256: bytes | None
) -> tuple[bool | None, str]:
    """Whether passive authentication proved *file* (``None``: not proven; ``False``: disproved).

    :returns: the answer and the sentence that says why (evidence ``key_proof``).
    """
    data = document.get(file)
    if data is None:
        return None, f"{file.label} is not in the document"
    if used_sha256 is not None and hashlib.sha256(data).digest() != used_sha256:
        return False, f"the {file.label} the chip authenticated with is not the {file.label} read"
    status = next((r for r in passive.data_groups if r.number == file.number), None)
    if status is None or status.status.value == "NOT_IN_SOD":
        return None, f"EF.SOD holds no hash of {file.label}"
    if status.status.value == "MISMATCH":
        return False, f"{file.label} hash MISMATCH in EF.SOD ({status.algorithm})"
    if status.status.value != "MATCH":
        return None, f"{file.label} hash {status.status.value}"
    unproven = _sod_unproven(passive)
    if unproven:
        return None, (
            f"{file.label} hash MATCH in EF.SOD, but EF.SOD is not proven ({', '.join(unproven)})"
        )
    chain = ""
    if passive.signer is not None and passive.anchor is not None:
        chain = f", signed by DS {passive.signer.subject} chained to CSCA {passive.anchor.subject}"
    return True, f"{file.label} hash MATCH in EF.SOD ({status.algorithm}){chain}"


def _protocol_check(
    name: str,
    run: ProtocolRun | None,
    *,
    offered: bool,
    file: LdsFile,
    passive: Report,
    document: Document,
    not_run: str,
) -> Check | None:
    protocol = "CA" if name == CHECK_CA else "AA"
    title = _NAMES[protocol]
    if run is None:
        if not offered:
            return None
        return Check(
            name,
            CheckStatus.SKIP,
            f"{file.label} offers {title}; not performed: {not_run}",
            {"key_file": file.label},
            required=False,
        )
    proven, proof = _key_proof(passive, document, file, run.key_file_sha256)
    evidence: dict[str, EvidenceValue] = {
        **dict(run.evidence),
        "key_file": file.label,
        "key_proof": proof,
        "outcome": run.outcome.value,
    }
    if run.step is not None:
        evidence["step"] = run.step
    if run.sw is not None:
        evidence["sw"] = f"{run.sw:04X}"
    if run.outcome is AuthOutcome.FAILED:
        return Check(
            name, CheckStatus.FAIL, f"{title} failed: {run.detail} (clone suspected)", evidence
        )
    if run.outcome is AuthOutcome.NOT_POSSIBLE:
        return Check(
            name,
            CheckStatus.SKIP,
            f"{title} not possible: {run.detail}",
            evidence,
            required=proven is True,
        )
    if proven is True:
        return Check(name, CheckStatus.PASS, f"{run.detail}; the key is proven: {proof}", evidence)
    if proven is False:
        return Check(
            name,
            CheckStatus.FAIL,
            f"{title} passed with a key passive authentication disproves ({proof}): the chip "
            "holds a key the issuer did not sign, so the pass means nothing (clone suspected)",
            evidence,
        )
    return Check(
        name,
        CheckStatus.SKIP,
        f"{title} passed, but its key is not proven ({proof}): the pass proves nothing about "
        "the chip",
        evidence,
    )


def _pace_cam_check(
    access: AccessResult,
    document: Document,
    trust_store: TrustStore,
    at: datetime,
    *,
    recorded: bool,
) -> Check | None:
    pace = access.pace
    if pace is None or pace.mapping != "CAM":
        return None
    cam = pace.chip_authentication
    evidence: dict[str, EvidenceValue] = {
        "pace_protocol": pace.protocol,
        "key_file": "EF.CardSecurity",
    }
    if recorded:
        verified = None if cam is None else cam.verified
        evidence["recorded_verified"] = verified
        if verified is False:
            return Check(
                CHECK_PACE_CAM,
                CheckStatus.FAIL,
                "as the dump's evidence records it: the chip's PACE-CAM data did not match the "
                f"key of EF.CardSecurity: {cam.detail if cam else ''} (clone suspected)",
                evidence,
            )
        return Check(
            CHECK_PACE_CAM,
            CheckStatus.SKIP,
            "PACE-CAM as the dump's evidence records it (not re-verifiable offline)",
            evidence,
            required=False,
        )
    if cam is None or cam.verified is None:
        why = "not checked" if cam is None else cam.detail
        return Check(
            CHECK_PACE_CAM,
            CheckStatus.SKIP,
            f"PACE-CAM ran but its chip authentication data were not checked: {why}",
            evidence,
        )
    evidence["cam_verified"] = cam.verified
    evidence["cam_detail"] = cam.detail
    if not cam.verified:
        return Check(
            CHECK_PACE_CAM,
            CheckStatus.FAIL,
            "the chip's PACE-CAM authentication data do not match the chip-authentication key "
            f"of EF.CardSecurity (9303-11 §4.4.3.5.2): {cam.detail} (clone suspected)",
            evidence,
        )
    data = document.get(LdsFile.EF_CARD_SECURITY)
    if data is None:  # pragma: no cover - the reader keeps the file it checked
        return Check(CHECK_PACE_CAM, CheckStatus.SKIP, "EF.CardSecurity is missing", evidence)
    report = verify_card_security(data, trust_store, at=at)
    evidence["card_security_verdict"] = report.verdict.value
    evidence["card_security_reasons"] = tuple(report.reasons)
    if report.verdict is Verdict.VALID:
        chain = ""
        if report.signer is not None and report.anchor is not None:
            chain = f" (DS {report.signer.subject}, CSCA {report.anchor.subject})"
        evidence["key_proof"] = f"EF.CardSecurity verified by passive authentication{chain}"
        return Check(
            CHECK_PACE_CAM,
            CheckStatus.PASS,
            f"PACE-CAM: {cam.detail}; EF.CardSecurity is verified by passive authentication{chain}",
            evidence,
        )
    if report.verdict is Verdict.INVALID:
        evidence["key_proof"] = "EF.CardSecurity fails passive authentication"
        return Check(
            CHECK_PACE_CAM,
            CheckStatus.FAIL,
            "the chip's PACE-CAM data match the key of EF.CardSecurity, but EF.CardSecurity "
            f"fails passive authentication ({', '.join(report.reasons)}): a forged key file "
            "(clone suspected)",
            evidence,
        )
    evidence["key_proof"] = "EF.CardSecurity is not proven"
    return Check(
        CHECK_PACE_CAM,
        CheckStatus.SKIP,
        "the chip's PACE-CAM data match the key of EF.CardSecurity, but EF.CardSecurity is not "
        f"proven ({', '.join(report.reasons)}): the match proves nothing about the chip",
        evidence,
    )


def _ta_check(run: ProtocolRun | None) -> Check | None:
    if run is None:
        return None
    evidence: dict[str, EvidenceValue] = {**dict(run.evidence), "outcome": run.outcome.value}
    if run.step is not None:
        evidence["step"] = run.step
    status = CheckStatus.PASS if run.passed else CheckStatus.SKIP
    return Check(
        CHECK_TA,
        status,
        f"Terminal Authentication {run.outcome.value.lower()}: {run.detail} (it proves the "
        "terminal to the chip and opens DG3/DG4; it says nothing about the chip)",
        evidence,
        required=False,
    )


def section_status(
    checks: tuple[Check, ...], *, unchecked: str
) -> tuple[ChipAuthenticityStatus, str]:
    """The section's status from its checks (the rule of the module docstring)."""
    failed = [c.name for c in checks if c.status is CheckStatus.FAIL]
    if failed:
        return ChipAuthenticityStatus.CLONE_SUSPECTED, (
            f"CLONE SUSPECTED: {', '.join(failed)} failed; this chip is not proven to be the one "
            "the issuer made"
        )
    passed = [c.name for c in checks if c.name in PROTOCOL_CHECKS and c.status is CheckStatus.PASS]
    if passed:
        return ChipAuthenticityStatus.GENUINE_CHIP, (
            f"GENUINE CHIP: {', '.join(passed)} passed with a key passive authentication proved"
        )
    return ChipAuthenticityStatus.NOT_CHECKED, unchecked


def chip_authenticity(
    *,
    read: ReadSummary | None,
    document: Document,
    passive: Report,
    trust_store: TrustStore,
    at: datetime,
) -> ChipAuthenticity:
    """The chip-authenticity section of an inspection (see the module docstring).

    :param read: the read summary (``None`` or from a dump's evidence: not performed).
    """
    dg14 = _parsed(lambda: document.dg14)
    offers_ca = dg14 is not None and bool(dg14.ca_public_keys)
    offers_aa = LdsFile.DG15 in document
    card_security = document.get(LdsFile.EF_CARD_SECURITY)
    offers_cam = card_security is not None and bool(
        _parsed(lambda: parse_card_security(card_security).security_infos.ca_public_keys)
    )
    recorded = read is None or read.from_evidence
    chip_result = None if read is None else read.chip_authentication
    runs: Mapping[str, ProtocolRun] = (
        {} if chip_result is None else {r.protocol: r for r in chip_result.runs}
    )
    checks: list[Check] = []
    if read is not None:
        cam = _pace_cam_check(read.access, document, trust_store, at, recorded=recorded)
        if cam is not None:
            checks.append(cam)
    if recorded:
        not_run = "a dump cannot prove the chip (only a live read can challenge it)"
    elif chip_result is not None and not chip_result.performed:
        not_run = chip_result.detail
    else:
        not_run = "the read did not run it"
    cam_passed = bool(checks) and checks[0].status is CheckStatus.PASS
    ca_not_run = "PACE-CAM authenticated the chip" if cam_passed and not recorded else not_run
    for name, protocol, offered, file, why in (
        (CHECK_CA, "CA", offers_ca, LdsFile.DG14, ca_not_run),
        (CHECK_AA, "AA", offers_aa, LdsFile.DG15, not_run),
    ):
        check = _protocol_check(
            name,
            None if recorded else runs.get(protocol),
            offered=offered,
            file=file,
            passive=passive,
            document=document,
            not_run=why,
        )
        if check is None and not recorded and read is not None and file not in document:
            check = _withheld_check(name, file, passive, read)
        if check is not None:
            checks.append(check)
    ta = _ta_check(None if recorded else runs.get("TA"))
    if ta is not None:
        checks.append(ta)
    if not (offers_ca or offers_aa or offers_cam or checks):
        unchecked = (
            "NOT CHECKED: the document offers no chip authentication (no Chip Authentication "
            "key in DG14, no DG15, no PACE-CAM): the data can be proven, the chip cannot (a copy "
            "of these files on another chip would pass)"
        )
    elif recorded:
        unchecked = (
            "NOT CHECKED: a dump cannot prove the chip; only a live read can challenge it "
            "(Active or Chip Authentication)"
        )
    elif chip_result is not None and not chip_result.performed and not checks:
        unchecked = f"NOT CHECKED: {chip_result.detail}"
    else:
        unchecked = (
            "NOT CHECKED: no chip-authentication protocol passed with a key passive "
            "authentication proved, so the chip is not proven genuine"
        )
    status, detail = section_status(tuple(checks), unchecked=unchecked)
    return ChipAuthenticity(status, detail, tuple(checks))
