"""The verification policy of passive authentication, in one place (ICAO Doc 9303-12 §7, §5).

The verdict answers one question: are these chip data issued by the state
and unaltered? **An expired document is not a forgery.** So certificates are
judged at the time the document was signed, and their validity at the time
of the check is reported beside the verdict, never folded into it:

* **signing time** (:func:`find_signing_time`): the SOD's signingTime attribute
  (RFC 5652 §11.3), else DG12's date of issue (tag ``5F26``, 9303-10
  §4.7.12) when DG12 is given, else unknown;
* ``ds.validity``: a document signed outside its DS certificate's validity
  FAILS; with the signing time unknown, a DS certificate whose validity
  starts after the check time FAILS, and one that has since expired passes
  with the warning "signing time unknown, DS expired at the check time";
* ``ds.issuer``: the CSCA is judged at the signing time, or (unknown) at the
  DS certificate's notBefore, when it issued the DS (chain model);
* findings (:func:`epass.pa.chain.time_findings`): "document expired (date of expiry in
  DG1)"; "DS certificate expired on DATE, before the document's own
  expiry" (an issuer error, a warning); "DS certificate expired on DATE";
  "CSCA certificate expired on DATE".

Flagged, never failed (:class:`VerificationPolicy`): SHA-1 (or any hash in
:attr:`VerificationPolicy.weak_hashes`), RSA keys under
:attr:`VerificationPolicy.min_rsa_bits`, an extendedKeyUsage in a DS or
CSCA certificate (9303-12 §7.1.1 profiles none), a data group listed in
EF.COM but not hashed in EF.SOD. Failed: a data group given but not hashed
in EF.SOD (injection), DG1's issuing state against the DS and CSCA country
(:data:`epass.iso3166.ISSUING_STATE_COUNTRIES` holds the exceptions: ``D``,
``GBR/GBD/GBN/GBO/GBS/GBP``, ``UNO/UNA/UNK``, ``XXA/XXB/XXC``, ``EUE``).
No field of the policy disables a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from epass.errors import BUILTIN_PARSE_ERRORS, EpassError
from epass.iso3166 import ISSUING_STATE_COUNTRIES
from epass.lds import dg12

#: What reading DG1 or DG12 may raise (then the date is unknown).
_ERRORS: tuple[type[Exception], ...] = (EpassError, *BUILTIN_PARSE_ERRORS)

__all__ = [
    "DEFAULT_POLICY",
    "SigningTime",
    "VerificationPolicy",
    "dg12_date_of_issue",
    "find_signing_time",
]


@dataclass(frozen=True)
class VerificationPolicy:
    """What passive authentication flags beside the verdict; shown in every report.

    :ivar min_rsa_bits: RSA keys (DS or CSCA) under this many bits are flagged.
    :ivar weak_hashes: hashes (asn1crypto names) flagged in SOD and certificate signatures.
    :ivar use_dg12_date_of_issue: take DG12's date of issue as the signing time
        when the SOD has no signingTime attribute.
    :ivar issuing_state_countries: MRZ issuing-state codes whose certificate
        country is not the ISO 3166 alpha-2 code of the same country (an
        empty set: the code names no country to compare, e.g. ``XXA``).
    """

    min_rsa_bits: int = 2048
    weak_hashes: frozenset[str] = frozenset({"sha1"})
    use_dg12_date_of_issue: bool = True
    issuing_state_countries: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: ISSUING_STATE_COUNTRIES
    )

    def describe(self) -> tuple[str, ...]:
        """The policy in words, for :attr:`epass.pa.Report.policy`."""
        sources = "signingTime attribute" + (
            ", else DG12 date of issue" if self.use_dg12_date_of_issue else ""
        )
        return (
            f"certificates judged at the signing time ({sources}); validity at the check "
            "time reported as findings, not in the verdict",
            "document signed outside its DS certificate's validity: FAIL",
            "data group given but not hashed in EF.SOD: FAIL (injection); listed in EF.COM "
            "but not hashed: finding",
            f"weak: hashes {', '.join(sorted(self.weak_hashes))}; RSA under "
            f"{self.min_rsa_bits} bits (findings)",
            "DG1 issuing state against the DS and CSCA country, exceptions: "
            + ", ".join(
                f"{code}={'/'.join(sorted(c)) or 'none'}"
                for code, c in sorted(self.issuing_state_countries.items())
            ),
        )


DEFAULT_POLICY = VerificationPolicy()


@dataclass(frozen=True)
class SigningTime:
    """When the document was signed, and how that is known.

    :ivar when: the time (UTC; DG12's date of issue as midnight UTC), or ``None``.
    :ivar source: ``"signingTime"``, ``"DG12 date of issue"`` or ``"unknown"``.
    :ivar day_only: only the date is known (DG12): compare by calendar day.
    """

    when: datetime | None
    source: str
    day_only: bool = False

    def within(self, not_before: datetime, not_after: datetime) -> bool:
        """Whether the signing time lies in [not_before, not_after] (by day for DG12)."""
        if self.when is None:
            raise ValueError("signing time unknown")
        if self.day_only:
            return not_before.date() <= self.when.date() <= not_after.date()
        return not_before <= self.when <= not_after

    def __str__(self) -> str:
        if self.when is None:
            return "signing time unknown"
        text = self.when.date().isoformat() if self.day_only else self.when.isoformat()
        return f"{text} ({self.source})"


def dg12_date_of_issue(data: bytes) -> date | None:
    """DG12's date of issue (tag ``5F26``, ``CCYYMMDD`` in ASCII or BCD; 9303-10 §4.7.12).

    Read by :func:`epass.lds.dg12.parse`; ``None`` when absent, not a valid
    date, or DG12 is malformed (never an error).
    """
    try:
        return dg12.parse(data).issue_date
    except _ERRORS:
        return None


def find_signing_time(
    attribute: datetime | None, dg12: bytes | None, policy: VerificationPolicy
) -> SigningTime:
    """The signing time: the signingTime *attribute*, else DG12's date of issue, else unknown.

    :param attribute: the SignerInfo's signing-time attribute, if any.
    :param dg12: DG12's bytes, if given.
    """
    if attribute is not None:
        return SigningTime(attribute, "signingTime")
    if policy.use_dg12_date_of_issue and dg12 is not None:
        issued = dg12_date_of_issue(dg12)
        if issued is not None:
            when = datetime(issued.year, issued.month, issued.day, tzinfo=UTC)
            return SigningTime(when, "DG12 date of issue", day_only=True)
    return SigningTime(None, "unknown")
