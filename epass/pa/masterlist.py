"""ICAO CSCA master lists (ICAO Doc 9303-12 §9), read and verified.

A master list is a CMS SignedData (RFC 5652 §5) whose eContent, of type
``id-icao-cscaMasterList`` (2.23.136.1.1.2), is::

    CscaMasterList ::= SEQUENCE {
        version CscaMasterListVersion,   -- v0
        certList SET OF Certificate }

signed by a *Master List Signer* whose certificate a CSCA issued, with
extendedKeyUsage ``id-icao-cscaMasterListSigningKey`` (2.23.136.1.1.3).
:func:`parse_master_list` reads it through :func:`epass.cms.parse_signed_data`;
:func:`verify_master_list` checks, in order:

1. one SignerInfo, whose certificate is embedded; the content-type attribute
   is the eContentType and the message-digest attribute is the hash of the
   eContent (RFC 5652 §5.4, §11.1, §11.2);
2. the signature over the signed attributes under the signer's key;
3. the signer's profile: keyUsage (if present) with digitalSignature,
   extendedKeyUsage with 2.23.136.1.1.3, not a CA, no critical extension
   outside those processed;
4. the signer's certificate verifies under a CSCA **already in the trust
   store** (an anchor itself verified: never one from an unverified list)
   whose subject is the signer's issuer name, and both certificates are
   valid at the list's signing time (signing-time attribute, else the check
   time).

The list's contents are trusted only when all of that holds; the importer
(:mod:`epass.pa.importer`) imports an unverified list only on explicit request,
with every anchor marked unverified. A list whose own CSCA is among its
contents does not vouch for itself: the anchor must be in the store before.

Deviation lists (eContentType 2.23.136.1.1.7) are recognised and reported as
such; their contents are not parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from epass._crypto.signatures import (
    UnsupportedAlgorithmError,
    digest,
    verify_certificate_signature,
)
from epass.cms import SignedData, parse_signed_data, verify_signer
from epass.errors import BUILTIN_PARSE_ERRORS, InvalidSignatureError, ParseError
from epass.lds.asn1 import CscaMasterList, format_name, same_name
from epass.pa.certificates import RECOGNISED_CRITICAL_EXTENSIONS, valid_at, validity
from epass.pa.trust import TrustAnchor, TrustStore, anchor_problem

__all__ = [
    "ID_ICAO_CSCA_MASTER_LIST",
    "ID_ICAO_DEVIATION_LIST",
    "ID_ICAO_MASTER_LIST_SIGNING_KEY",
    "MasterList",
    "MasterListVerification",
    "parse_master_list",
    "verify_master_list",
]

#: eContentType of a CSCA master list (9303-12 §9).
ID_ICAO_CSCA_MASTER_LIST = "2.23.136.1.1.2"
#: extendedKeyUsage of a master list signer (9303-12 §7.1.1, Master List Signer).
ID_ICAO_MASTER_LIST_SIGNING_KEY = "2.23.136.1.1.3"
#: eContentType of a deviation list (9303-12 §10).
ID_ICAO_DEVIATION_LIST = "2.23.136.1.1.7"

#: Extensions a master list signer certificate may mark critical: the DS/CSCA set plus
#: extendedKeyUsage, which is processed here.
_SIGNER_CRITICAL = RECOGNISED_CRITICAL_EXTENSIONS | {"2.5.29.37"}


@dataclass(frozen=True, eq=False)
class MasterList:
    """A parsed CSCA master list.

    :ivar file: where it came from (named in errors and provenance).
    :ivar signed_data: the CMS layer (:class:`epass.cms.SignedData`).
    :ivar version: CscaMasterListVersion (0).
    :ivar certificates: the certList entries, DER as received, in order
        (each is checked when it is imported, so one bad entry refuses only itself).
    """

    file: str
    signed_data: SignedData = field(repr=False)
    version: int
    certificates: tuple[bytes, ...] = field(repr=False)

    @property
    def signing_time(self) -> datetime | None:
        return self.signed_data.signer_info.signing_time

    @property
    def signer(self) -> Any | None:
        """The signer's certificate (asn1crypto) from SignedData.certificates, or ``None``."""
        return self.signed_data.signer_certificate()


@dataclass(frozen=True)
class MasterListVerification:
    """Whether a master list verified, and how.

    :ivar verified: signature, signer profile and signer chain all hold.
    :ivar reason: what failed (``None`` when verified).
    :ivar signer: the signer's subject, or ``None``.
    :ivar anchor: the store anchor the signer chained to, or ``None``.
    :ivar scheme: the list's signature scheme, or ``None``.
    :ivar checked_at: the time the signer and anchor were checked at.
    """

    verified: bool
    reason: str | None
    signer: str | None = None
    anchor: TrustAnchor | None = None
    scheme: str | None = None
    checked_at: datetime | None = None


def parse_master_list(data: bytes, *, file: str) -> MasterList:
    """Parse a CSCA master list (.ml / .mls: DER ContentInfo of SignedData).

    :raises ParseError: naming *file*: not a SignedData, a deviation list, an
        eContentType other than id-icao-cscaMasterList, or an eContent that is
        not a CscaMasterList (its certificates are split, not yet checked).
    """
    signed = parse_signed_data(data, file=file)
    if signed.econtent_type == ID_ICAO_DEVIATION_LIST:
        raise ParseError(
            "a deviation list (9303-12 §10), not a CSCA master list: nothing to import",
            file=file,
        )
    if signed.econtent_type != ID_ICAO_CSCA_MASTER_LIST:
        raise ParseError(
            f"eContentType {signed.econtent_type} is not id-icao-cscaMasterList "
            f"({ID_ICAO_CSCA_MASTER_LIST}, 9303-12 §9)",
            file=file,
        )
    try:
        content = CscaMasterList.load(signed.econtent, strict=True)
        version_value = content["version"].native
        certificates = tuple(bytes(child.dump()) for child in content["cert_list"])
    except BUILTIN_PARSE_ERRORS as exc:
        raise ParseError(f"malformed CscaMasterList (9303-12 §9): {exc}", file=file) from exc
    if version_value != 0:
        raise ParseError(f"CscaMasterList version {version_value}, expected v0 (0)", file=file)
    return MasterList(file=file, signed_data=signed, version=0, certificates=certificates)


def verify_master_list(
    master_list: MasterList, trust_store: TrustStore, *, at: datetime
) -> MasterListVerification:
    """Verify *master_list*'s signature and its signer's chain to *trust_store* (module docstring).

    :param at: the check time (aware), used when the list has no signing time.
    :returns: the outcome; never raises for a list that does not verify.
    """
    signed = master_list.signed_data
    when = master_list.signing_time or at

    def refused(reason: str, **kwargs: Any) -> MasterListVerification:
        return MasterListVerification(False, reason, checked_at=when, **kwargs)

    if len(signed.signer_infos) != 1:
        return refused(f"{len(signed.signer_infos)} SignerInfos; a master list has one")
    info = signed.signer_info
    signer = master_list.signer
    if signer is None:
        return refused("the signer's certificate is not in the master list")
    subject = format_name(signer.subject)
    if info.content_type != signed.econtent_type:
        return refused("the content-type attribute is not the eContentType", signer=subject)
    try:
        expected = digest(info.digest_algorithm, signed.econtent)
    except UnsupportedAlgorithmError as exc:
        return refused(f"digest algorithm: {exc}", signer=subject)
    if info.message_digest != expected:
        return refused(
            "the message-digest attribute is not the hash of the list: its content was altered",
            signer=subject,
        )
    try:
        scheme = str(verify_signer(info, signer))
    except InvalidSignatureError as exc:
        return refused(f"the list's signature does not verify ({exc})", signer=subject)
    except UnsupportedAlgorithmError as exc:
        return refused(f"the list's signature cannot be checked: {exc}", signer=subject)
    problem = _signer_problem(signer)
    if problem is not None:
        return refused(f"the signer is not a master list signer: {problem}", signer=subject)
    if not valid_at(signer, when):
        start, end = validity(signer)
        return refused(
            f"the signer's certificate ({start.date()} .. {end.date()}) is not valid at "
            f"{when.isoformat()}",
            signer=subject,
            scheme=scheme,
        )
    reasons: list[str] = []
    for candidate in trust_store.issuers_of(signer):
        anchor = candidate.anchor
        if not anchor.verified:
            reasons.append(f"{anchor.subject} is itself from an unverified master list")
            continue
        if anchor_problem(anchor.certificate) is not None:
            continue
        try:
            verify_certificate_signature(signer, anchor.certificate)
        except (InvalidSignatureError, UnsupportedAlgorithmError) as exc:
            reasons.append(f"not under {anchor.subject} ({exc})")
            continue
        if not same_name(signer.issuer, anchor.certificate.subject):
            reasons.append(f"{anchor.subject} is not the signer's issuer by name")
            continue
        if not valid_at(anchor.certificate, when):
            reasons.append(f"{anchor.subject} is not valid at {when.isoformat()}")
            continue
        return MasterListVerification(
            True, None, signer=subject, anchor=anchor, scheme=scheme, checked_at=when
        )
    issuer = format_name(signer.issuer)
    detail = "; ".join(reasons) if reasons else "no such CSCA in the trust store"
    return refused(
        f"the signer's certificate does not chain to a trusted CSCA {issuer}: {detail} "
        "(import that CSCA first)",
        signer=subject,
        scheme=scheme,
    )


def _signer_problem(signer: Any) -> str | None:
    """Why *signer* (asn1crypto) is not a master list signer, or ``None``."""
    try:
        critical = [
            ext["extn_id"].dotted
            for ext in signer["tbs_certificate"]["extensions"]
            if ext["critical"].native
        ]
        constraints = signer.basic_constraints_value
        key_usage = signer.key_usage_value
        eku = signer.extended_key_usage_value
        purposes = None if eku is None else [purpose.dotted for purpose in eku]
    except BUILTIN_PARSE_ERRORS:
        return "its extensions are unreadable"
    unknown = [oid for oid in critical if oid not in _SIGNER_CRITICAL]
    if unknown:
        return "unprocessed critical extensions " + ", ".join(unknown)
    if constraints is not None and bool(constraints["ca"].native):
        return "it is a CA certificate"
    if key_usage is not None and "digital_signature" not in set(key_usage.native):
        return "keyUsage lacks digitalSignature"
    if purposes is None or ID_ICAO_MASTER_LIST_SIGNING_KEY not in purposes:
        return (
            "extendedKeyUsage lacks id-icao-cscaMasterListSigningKey "
            f"({ID_ICAO_MASTER_LIST_SIGNING_KEY})"
        )
    return None
