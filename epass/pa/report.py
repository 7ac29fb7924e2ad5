"""The passive-authentication report (ICAO Doc 9303-11 §5.1; DESIGN.md "Verification").

A :class:`Report` is plain frozen data: the verdict, one :class:`Check` per
step in the order they ran (named by :class:`CheckName`), one
:class:`DataGroupResult` per data group, the signer (DS) and anchor (CSCA)
certificates, a summary of EF.SOD, and the :class:`~epass.verdict.Finding`
values for deviations that are not failures (codes in :class:`FindingCode`).
:meth:`Report.to_dict` gives a JSON-serialisable dict with stable keys (bytes
as lowercase hex, datetimes as ISO 8601).

Verdict rule (fail closed), applied by :func:`decide`:

``INVALID``
    some check *failed*, i.e. the bytes prove a defect: EF.SOD malformed, a
    data-group hash mismatch, a data group present but not in the SOD
    (injection), messageDigest or content-type attribute mismatch, a bad SOD
    signature, a DS certificate outside the DS profile (an unprocessed
    critical extension, a CA, no digitalSignature), a DS certificate whose
    signature does not verify under the CSCA that matches it or verifies
    only under a CSCA of another name, a document signed outside its DS or
    CSCA certificate's validity (:mod:`epass.pa.policy`), or a DG1
    issuing state that differs from the CSCA's or the DS names' country.
    Every ``FAIL`` status means exactly this, so ``INVALID`` is "any required check is FAIL".
``INDETERMINATE``
    nothing failed, but something required was not proven: a check is
    ``ERROR`` (unsupported algorithm, explicit EC parameters, no DS
    certificate) or ``SKIP`` (no CSCA for this issuer in the trust store,
    EF.SOD not supplied, no data group supplied). "No CSCA for this country"
    is not forgery.
``VALID``
    every required check is ``PASS``.

A check can be marked ``required=False`` only when there was nothing to
check (the DG1 issuing-state comparison when DG1 was not supplied); a
non-required check still makes the verdict ``INVALID`` if it fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from epass.verdict import Check, CheckStatus, EvidenceValue, Finding, Verdict, decide, find_check

__all__ = [
    "SCHEMA",
    "CertificateInfo",
    "Check",
    "CheckName",
    "CheckStatus",
    "DataGroupResult",
    "DataGroupStatus",
    "EvidenceValue",
    "Finding",
    "FindingCode",
    "Report",
    "SodSummary",
    "Verdict",
    "decide",
    "skipped",
]

#: Identifies the layout of :meth:`Report.to_dict`; bumped on incompatible changes
#: (``"findings"`` was added compatibly: readers of /1 ignore unknown keys).
SCHEMA = "epass.pa.report/1"


class CheckName(StrEnum):
    """The stable names of the passive-authentication checks, in the order they run.

    9303-11 §5.1; :mod:`epass.pa.verify` describes each step.
    """

    SOD_PARSE = "sod.parse"
    DG_HASHES = "dg.hashes"
    SOD_MESSAGE_DIGEST = "sod.message_digest"
    SOD_SIGNATURE = "sod.signature"
    DS_VALIDITY = "ds.validity"
    DS_PROFILE = "ds.profile"
    DS_ISSUER = "ds.issuer"
    DS_REVOCATION = "ds.revocation"
    DG1_ISSUING_STATE = "dg1.issuing_state"
    #: EF.CardSecurity (:func:`epass.pa.verify_card_security`; 9303-11 §9.2.11).
    CARD_SECURITY_PARSE = "card_security.parse"
    CARD_SECURITY_MESSAGE_DIGEST = "card_security.message_digest"
    CARD_SECURITY_SIGNATURE = "card_security.signature"


class FindingCode(StrEnum):
    """Deviations passive authentication notices that do not change the verdict."""

    #: eContentType is one of the accepted pre-standard OIDs (:mod:`epass.lds.sod`).
    LEGACY_ECONTENT_TYPE = "sod.legacy_econtent_type"
    #: SignedData version other than v3 (9303-10 §4.6.2.2).
    SIGNED_DATA_VERSION = "sod.signed_data_version"
    #: more than one SignerInfo; only the first is verified (9303-10 §4.6.2.2).
    SIGNER_INFOS = "sod.signer_infos"
    #: SignerInfo version other than the one its SignerIdentifier calls for (RFC 5652 §5.3:
    #: 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier).
    SIGNER_INFO_VERSION = "sod.signer_info_version"
    #: the SignerInfo's digestAlgorithm is not listed in digestAlgorithms (RFC 5652 §5.1).
    DIGEST_ALGORITHMS = "sod.digest_algorithms"
    #: an LDSSecurityObject v1 without LDSVersionInfo (9303-10 §4.6.2.2: v1 is for LDS 1.8).
    LDS_VERSION_INFO = "sod.lds_version_info"
    #: the DS certificate is not in SignedData.certificates; it came from the caller or the
    #: trust store's DS certificates, or was not found.
    DS_NOT_EMBEDDED = "sod.ds_not_embedded"
    #: the SignerInfo names its DS sloppily (issuer string types, case, spacing, RDN order; a
    #: key identifier the certificate does not carry); matched all the same (RFC 5652 §5.3).
    SIGNER_IDENTIFIER = "sod.signer_identifier"
    #: the DS certificate's issuer name has no country (9303-12 §7.1.1 requires C).
    DS_ISSUER_COUNTRY = "ds.issuer_country"
    #: the DS certificate's subject name has no country (9303-12 §7.1.1 requires C).
    DS_SUBJECT_COUNTRY = "ds.subject_country"
    #: the signing-time attribute lies after the time checked at (RFC 5652 §11.3).
    SIGNING_TIME_FUTURE = "sod.signing_time_future"
    #: the SOD signature or its digest algorithm uses SHA-1 (deprecated; old passports use it).
    SOD_SHA1 = "sod.sha1"
    #: the CSCA signed the DS certificate with SHA-1 (deprecated; old passports use it).
    DS_SHA1 = "ds.sha1"
    #: the DS key is RSA with fewer than 2048 bits (weak; old passports use such keys).
    DS_RSA_KEY_SIZE = "ds.rsa_key_size"
    #: the DS certificate has no keyUsage extension (9303-12 §7.1.1 makes it mandatory).
    DS_KEY_USAGE_MISSING = "ds.key_usage_missing"
    #: the CRL used is past its nextUpdate (or before its thisUpdate): later revocations unknown.
    CRL_NOT_CURRENT = "ds.crl_not_current"
    #: the CSCA came from a master list that did not verify, imported on explicit request.
    ANCHOR_UNVERIFIED = "ds.anchor_unverified"
    #: the DS / CSCA certificate carries an extendedKeyUsage (9303-12 §7.1.1 profiles none).
    DS_EXTENDED_KEY_USAGE = "ds.extended_key_usage"
    CSCA_EXTENDED_KEY_USAGE = "csca.extended_key_usage"
    #: a weak hash other than SHA-1 (VerificationPolicy.weak_hashes) signs the certificate.
    DS_WEAK_HASH = "ds.weak_hash"
    CSCA_WEAK_HASH = "csca.weak_hash"
    #: the CSCA signed itself with SHA-1, or its key is RSA under the policy's minimum.
    CSCA_SHA1 = "csca.sha1"
    CSCA_RSA_KEY_SIZE = "csca.rsa_key_size"
    #: time validity, beside the verdict (epass.pa.policy): the document has expired.
    DOCUMENT_EXPIRED = "document.expired"
    #: the DS certificate expired before the document's own expiry (an issuer error).
    DS_EXPIRED_BEFORE_DOCUMENT = "ds.expired_before_document"
    #: the DS certificate has expired since the signing time.
    DS_EXPIRED = "ds.expired"
    #: the signing time is unknown and the DS certificate had expired at the check time.
    DS_EXPIRED_SIGNING_TIME_UNKNOWN = "ds.expired_signing_time_unknown"
    #: the CSCA certificate has expired since (it was judged at the signing time).
    CSCA_EXPIRED = "csca.expired"
    #: a data group listed in EF.COM is not hashed in EF.SOD (9303-10 §4.6.1).
    COM_NOT_IN_SOD = "com.dg_not_in_sod"


def skipped(name: CheckName, detail: str, **kwargs: Any) -> Check:
    """A ``SKIP`` check: *name* was not run because its input is missing (*detail* says which)."""
    return Check(name, CheckStatus.SKIP, detail, **kwargs)


class DataGroupStatus(StrEnum):
    """How one data group compares with EF.SOD (9303-11 §5.1 step 3)."""

    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_IN_SOD = "NOT_IN_SOD"
    NOT_READ = "NOT_READ"


@dataclass(frozen=True)
class DataGroupResult:
    """One data group against EF.SOD.

    :ivar name: ``"DG1"`` .. ``"DG16"``.
    :ivar number: 1 .. 16.
    :ivar status: MATCH, MISMATCH, NOT_IN_SOD (given but not hashed in the
        SOD: a FAIL) or NOT_READ (hashed in the SOD but not given: listed only).
        Data groups that could not be compared at all (no usable EF.SOD, an
        unsupported hash algorithm) have no result; the ``dg.hashes`` check
        lists them in its evidence.
    :ivar algorithm: the SOD's hash algorithm (``None`` if the SOD did not parse).
    :ivar expected: the hash in EF.SOD, hex, or ``None``.
    :ivar actual: the hash of the bytes given, hex, or ``None``.
    :ivar size: length of the bytes given, or ``None``.
    """

    name: str
    number: int
    status: DataGroupStatus
    algorithm: str | None
    expected: str | None
    actual: str | None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "status": self.status.value,
            "algorithm": self.algorithm,
            "expected": self.expected,
            "actual": self.actual,
            "size": self.size,
        }


@dataclass(frozen=True)
class CertificateInfo:
    """What the report shows of a certificate (DS or CSCA).

    :ivar subject: distinguished name, ``"C=UT, O=..., CN=..."`` in encoded order.
    :ivar issuer: same form.
    :ivar serial: serial number, hex.
    :ivar key_identifier: subjectKeyIdentifier, hex, or ``None``.
    :ivar authority_key_identifier: authorityKeyIdentifier keyIdentifier, hex, or ``None``.
    :ivar not_before: validity start.
    :ivar not_after: validity end.
    :ivar signature_algorithm: the certificate's signature algorithm.
    :ivar public_key_algorithm: ``"rsa"``, ``"ec"``, ...
    :ivar public_key_size: bits, or ``None``.
    :ivar curve: named curve, ``"explicit parameters"``, or ``None``.
    :ivar country: subject country (C), or ``None``.
    :ivar sha256: SHA-256 fingerprint of the DER, hex.
    :ivar source: where an anchor came from (file path, master list), or ``None``.
    :ivar provenance: an anchor's provenance (file, entry, master list and its
        signer, verified, date of import, note), or ``None``.
    """

    subject: str
    issuer: str
    serial: str
    key_identifier: str | None
    authority_key_identifier: str | None
    not_before: datetime
    not_after: datetime
    signature_algorithm: str
    public_key_algorithm: str
    public_key_size: int | None
    curve: str | None
    country: str | None
    sha256: str
    source: str | None = None
    provenance: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "key_identifier": self.key_identifier,
            "authority_key_identifier": self.authority_key_identifier,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "signature_algorithm": self.signature_algorithm,
            "public_key_algorithm": self.public_key_algorithm,
            "public_key_size": self.public_key_size,
            "curve": self.curve,
            "country": self.country,
            "sha256": self.sha256,
            "source": self.source,
            "provenance": None if self.provenance is None else dict(self.provenance),
        }


@dataclass(frozen=True)
class SodSummary:
    """EF.SOD at a glance (9303-10 §4.6.2).

    :ivar econtent_type: dotted OID.
    :ivar version: LDSSecurityObject version.
    :ivar hash_algorithm: data-group hash algorithm.
    :ivar digest_algorithm: SignerInfo digestAlgorithm.
    :ivar signature_algorithm: SignerInfo signatureAlgorithm.
    :ivar data_groups: numbers hashed in the SOD, in SOD order.
    :ivar lds_version: v1 only.
    :ivar unicode_version: v1 only.
    :ivar signing_time: signing-time attribute, if present.
    :ivar size: bytes of EF.SOD.
    :ivar sha256: SHA-256 of EF.SOD, hex (to tie a report to the dump).
    """

    econtent_type: str
    version: int
    hash_algorithm: str
    digest_algorithm: str
    signature_algorithm: str
    data_groups: tuple[int, ...]
    lds_version: str | None
    unicode_version: str | None
    signing_time: datetime | None
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "econtent_type": self.econtent_type,
            "version": self.version,
            "hash_algorithm": self.hash_algorithm,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "data_groups": list(self.data_groups),
            "lds_version": self.lds_version,
            "unicode_version": self.unicode_version,
            "signing_time": None if self.signing_time is None else self.signing_time.isoformat(),
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Report:
    """The result of :func:`epass.pa.verify`.

    Build it with :meth:`build`, which applies :func:`decide`; the verdict is
    never set independently of the checks. :attr:`findings` never change it;
    :attr:`policy` states, in words, the policy it was judged by
    (:meth:`epass.pa.policy.VerificationPolicy.describe`).
    """

    verdict: Verdict
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    data_groups: tuple[DataGroupResult, ...]
    signer: CertificateInfo | None
    anchor: CertificateInfo | None
    checked_at: datetime
    sod: SodSummary | None
    findings: tuple[Finding, ...] = ()
    policy: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        checks: Sequence[Check],
        data_groups: Sequence[DataGroupResult],
        signer: CertificateInfo | None,
        anchor: CertificateInfo | None,
        checked_at: datetime,
        sod: SodSummary | None,
        findings: Sequence[Finding] = (),
        policy: Sequence[str] = (),
    ) -> Report:
        verdict, reasons = decide(checks)
        return cls(
            verdict=verdict,
            reasons=reasons,
            checks=tuple(checks),
            data_groups=tuple(data_groups),
            signer=signer,
            anchor=anchor,
            checked_at=checked_at,
            sod=sod,
            findings=tuple(findings),
            policy=tuple(policy),
        )

    def check(self, name: str) -> Check:
        """The check called *name*.

        :raises KeyError: if there is none.
        """
        return find_check(self.checks, name)

    def data_group(self, name: str) -> DataGroupResult:
        """The result for data group *name* (``"DG2"``).

        :raises KeyError: if there is none.
        """
        for dg in self.data_groups:
            if dg.name == name:
                return dg
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with stable keys (``json.dumps`` works as is)."""
        return {
            "schema": SCHEMA,
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "checked_at": self.checked_at.isoformat(),
            "checks": [c.to_dict() for c in self.checks],
            "data_groups": [dg.to_dict() for dg in self.data_groups],
            "signer": None if self.signer is None else self.signer.to_dict(),
            "anchor": None if self.anchor is None else self.anchor.to_dict(),
            "sod": None if self.sod is None else self.sod.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "policy": list(self.policy),
        }
