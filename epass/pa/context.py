"""The steps of passive authentication and what they share (ICAO Doc 9303-11 §5.1).

A step is a function ``(Context) -> Check`` with a name and the inputs it
needs (:class:`Needs`). :func:`run` goes through a list of steps in order: a
step whose input is missing is not called, it is recorded as ``SKIP`` with
the reason that input names. So the steps themselves only handle inputs that
are present, and adding a step (CRL, chip authentication) is one row in the
list of :mod:`epass.pa.verify`.

Steps communicate through the :class:`Context`: ``sod.parse`` sets
:attr:`Context.sod` and :attr:`Context.ds`, ``ds.issuer`` sets
:attr:`Context.anchor`, ``dg.hashes`` fills :attr:`Context.data_group_results`,
and any step may add :attr:`Context.findings`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from epass.cms import SignedData
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.lds.sod import Sod
from epass.pa.certificates import certificate_info
from epass.pa.policy import DEFAULT_POLICY, VerificationPolicy
from epass.pa.report import (
    CertificateInfo,
    Check,
    CheckName,
    DataGroupResult,
    EvidenceValue,
    Finding,
    skipped,
)
from epass.pa.trust import TrustAnchor, TrustStore

__all__ = ["Context", "Needs", "Step", "run"]


@dataclass(eq=False)
class Context:
    """Inputs of passive authentication and what the steps found so far.

    :ivar document: the files, raw bytes by :class:`~epass.lds.files.LdsFile`
        with cached parsed views (EF.SOD and DG1 are parsed at most once).
    :ivar trust_store: the CSCA anchors.
    :ivar at: the time certificates are checked at (timezone-aware).
    :ivar certificates: caller-supplied DER certificates to find the DS in.
    :ivar data_groups: the data groups given, number -> raw bytes, in number order
        (derived from :attr:`document`).
    :ivar policy: what is flagged beside the verdict (:mod:`epass.pa.policy`).
    :ivar file: the signed object's file name (``"EF.SOD"`` or ``"EF.CardSecurity"``),
        as findings and details name it.
    :ivar signed: its CMS SignedData once the parse step passed, else ``None``
        (the steps common to EF.SOD and EF.CardSecurity read only this).
    :ivar sod: the parsed EF.SOD once ``sod.parse`` passed, else ``None``.
    :ivar ds: the DS certificate (asn1crypto) the SignerInfo names, if found.
    :ivar ds_source: where the DS certificate was found: ``"embedded"``,
        ``"supplied"`` (the caller's certificates) or ``"trust store"``.
    :ivar anchor: the CSCA that verified the DS certificate, if any.
    :ivar data_group_results: one result per data group, from ``dg.hashes``.
    :ivar findings: non-fatal deviations, in the order they were noticed.
    """

    document: Document
    trust_store: TrustStore
    at: datetime
    certificates: tuple[Any, ...] = ()
    file: str = LdsFile.EF_SOD.label
    policy: VerificationPolicy = DEFAULT_POLICY
    data_groups: Mapping[int, bytes] = field(init=False)
    signed: SignedData | None = None
    sod: Sod | None = None
    ds: Any | None = None
    ds_source: str | None = None
    anchor: TrustAnchor | None = None
    data_group_results: list[DataGroupResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    _ds_info: CertificateInfo | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        raw = self.document.raw
        self.data_groups = {f.number: raw[f] for f in sorted(raw, key=_number) if f.number}

    def require_signed(self) -> SignedData:
        """The parsed SignedData (of EF.SOD or EF.CardSecurity), for a step that needs it.

        :raises LookupError: if there is none (a step listed without that need).
        """
        if self.signed is None:
            raise LookupError("a step that needs a usable signed object ran without one")
        return self.signed

    def require_sod(self) -> Sod:
        """The parsed EF.SOD, for a step whose :class:`Needs` include it.

        :raises LookupError: if there is none (a step listed without that need).
        """
        if self.sod is None:
            raise LookupError("a step that needs a usable EF.SOD ran without one")
        return self.sod

    def ds_info(self) -> CertificateInfo:
        """The report's summary of the DS certificate, computed once.

        :raises LookupError: if there is no DS certificate.
        """
        if self._ds_info is None:
            self._ds_info = certificate_info(self.require_ds())
        return self._ds_info

    def require_ds(self) -> Any:
        """The DS certificate, for a step whose :class:`Needs` include it.

        :raises LookupError: if there is none (a step listed without that need).
        """
        if self.ds is None:
            raise LookupError("a step that needs the DS certificate ran without it")
        return self.ds


def _number(file: LdsFile) -> int:
    return file.number


@dataclass(frozen=True)
class Needs:
    """An input a step needs; when it is missing the step is a ``SKIP`` saying so.

    :ivar present: whether the input is there.
    :ivar detail: the SKIP detail when it is not.
    :ivar required: the SKIP's ``required`` flag (``False`` only when there is
        nothing to check at all, e.g. no DG1 to compare).
    :ivar evidence: evidence for the SKIP (what was left unchecked), if any.
    """

    present: Callable[[Context], bool]
    detail: str
    required: bool = True
    evidence: Callable[[Context], Mapping[str, EvidenceValue]] | None = None

    def skip(self, name: CheckName, context: Context) -> Check:
        """The SKIP check of step *name* for this missing input."""
        evidence = {} if self.evidence is None else self.evidence(context)
        return skipped(name, self.detail, evidence=evidence, required=self.required)


@dataclass(frozen=True)
class Step:
    """One row of passive authentication: a named check and the inputs it needs, in order.

    :ivar name: the check name; the :class:`Check` the function returns is
        renamed to it, so one function can serve two steps (``sod.signature``
        and ``card_security.signature``).
    :ivar check: the function; called only when every input of :attr:`needs` is present.
    :ivar needs: the inputs, tested in order; the first missing one decides the SKIP.
    """

    name: CheckName
    check: Callable[[Context], Check]
    needs: tuple[Needs, ...] = ()


def run(steps: Iterable[Step], context: Context) -> list[Check]:
    """Run *steps* in order over *context*; one :class:`Check` per step."""
    checks: list[Check] = []
    for step in steps:
        for need in step.needs:
            if not need.present(context):
                checks.append(need.skip(step.name, context))
                break
        else:
            check = step.check(context)
            if check.name != step.name:  # a shared step under another name (EF.CardSecurity)
                check = dataclasses.replace(check, name=step.name)
            checks.append(check)
    return checks
