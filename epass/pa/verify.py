"""Passive authentication (ICAO Doc 9303-11 §5.1; 9303-10 §4.6.2; 9303-12 §7).

:func:`verify` checks a set of LDS files against their EF.SOD and a trust
store, offline and with the time given explicitly. It runs :data:`STEPS` in
order, each giving one :class:`~epass.pa.report.Check`:

``sod.parse``
    EF.SOD parses as CMS SignedData over an LDSSecurityObject with an allowed
    eContentType (:mod:`epass.lds.sod`).
``dg.hashes``
    every data group given is hashed over its raw bytes with the SOD's hash
    algorithm and compared (9303-11 §5.1 step 3): MATCH, MISMATCH (FAIL),
    NOT_IN_SOD (given but not hashed in the SOD: injection, FAIL) or NOT_READ
    (hashed in the SOD but not given: listed, not a failure).
``sod.message_digest``
    the messageDigest signed attribute equals the hash of the eContent octets
    and the content-type attribute equals the eContentType (RFC 5652 §5.4,
    §11.1, §11.2).
``sod.signature``
    the SignerInfo signature over the DER SET OF signed attributes verifies
    with the DS public key (RFC 5652 §5.4, 9303-11 §5.1 step 2).
``ds.validity``
    the DS certificate was valid when the document was signed (signingTime
    attribute, else DG12's date of issue; :mod:`epass.pa.policy`); validity
    at ``at`` is a finding beside the verdict, never part of it.
``ds.profile``
    the DS certificate is a signer: no critical extension this verifier does
    not process (RFC 5280 §4.2), not a CA, keyUsage (when present) with
    digitalSignature (9303-12 §7.1.1 DS profile).
``ds.issuer``
    the DS certificate's signature verifies under a CA of the trust store
    whose subject is the DS issuer name (RFC 5280 §6.1.3 name chaining) and
    that was valid at the signing time (else when it issued the DS) (9303-11
    §5.1 step 1, 9303-12 §7).
``dg1.issuing_state``
    the issuing state in DG1's MRZ matches the country of that CSCA and the
    country in the DS names (9303-12 §7.1.1: the country in the DS and CSCA
    names).

The steps live by concern in :mod:`epass.pa.signed_data` and
:mod:`epass.pa.chain`; a step whose input is missing (no EF.SOD, no usable
EF.SOD, no DS certificate, no DG1) is a SKIP given by :data:`STEPS` itself
(:mod:`epass.pa.context`), so a new check is one row there.

A failed check is data, never an exception; the verdict follows the rule in
:mod:`epass.verdict`. Deviations that are not failures are
:attr:`Report.findings`. Exceptions are raised only for misuse (a naive
datetime, a file name that is not an LDS file). No flag disables any check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeAlias

from epass.iso3166 import ICAO_TO_ISO_ALPHA2
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.pa.certificates import certificate_info, find_ds_certificate
from epass.pa.chain import (
    check_ds_issuer,
    check_ds_profile,
    check_ds_validity,
    check_issuing_state,
    time_findings,
)
from epass.pa.context import Context, Needs, Step, run
from epass.pa.policy import DEFAULT_POLICY, VerificationPolicy
from epass.pa.report import CertificateInfo, Check, CheckName, Report
from epass.pa.revocation import CARD_SECURITY_REVOCATION_STEP, REVOCATION_STEP
from epass.pa.signed_data import (
    check_card_security,
    check_data_groups,
    check_message_digest,
    check_signature,
    check_sod,
    sod_summary,
)
from epass.pa.trust import TrustAnchor, TrustStore

__all__ = [
    "CARD_SECURITY_STEPS",
    "CHECK_DG_HASHES",
    "CHECK_DS_ISSUER",
    "CHECK_DS_PROFILE",
    "CHECK_DS_VALIDITY",
    "CHECK_ISSUING_STATE",
    "CHECK_MESSAGE_DIGEST",
    "CHECK_SIGNATURE",
    "CHECK_SOD",
    "ICAO_TO_ISO_ALPHA2",
    "STEPS",
    "LdsFiles",
    "certificate_info",
    "find_ds_certificate",
    "verify",
    "verify_card_security",
]

# The check names as they were spelled before :class:`CheckName` (same values).
CHECK_SOD = CheckName.SOD_PARSE
CHECK_DG_HASHES = CheckName.DG_HASHES
CHECK_MESSAGE_DIGEST = CheckName.SOD_MESSAGE_DIGEST
CHECK_SIGNATURE = CheckName.SOD_SIGNATURE
CHECK_DS_VALIDITY = CheckName.DS_VALIDITY
CHECK_DS_PROFILE = CheckName.DS_PROFILE
CHECK_DS_ISSUER = CheckName.DS_ISSUER
CHECK_ISSUING_STATE = CheckName.DG1_ISSUING_STATE

#: Files by name as callers and dumps spell them (``"EF.SOD"``, ``"DG1"``,
#: ``"EF_COM.bin"``) or by :class:`LdsFile`.
LdsFiles: TypeAlias = Mapping[str, bytes] | Mapping[LdsFile, bytes] | Mapping[str | LdsFile, bytes]

# --- what the steps need ----------------------------------------------------------------------

_SOD_SUPPLIED = Needs(
    lambda c: LdsFile.EF_SOD in c.document,
    "EF.SOD was not supplied: nothing can be authenticated",
)
_USABLE_SOD = Needs(lambda c: c.sod is not None, "no usable EF.SOD")
_USABLE_SOD_FOR_HASHES = Needs(
    lambda c: c.sod is not None,
    "no usable EF.SOD: data groups not checked",
    evidence=lambda c: {"unchecked": tuple(f"DG{n}" for n in c.data_groups)},
)
_DS_FOUND = Needs(lambda c: c.ds is not None, "no DS certificate")
_DG1_SUPPLIED = Needs(
    lambda c: 1 in c.data_groups,
    "DG1 not supplied: no issuing state to compare",
    required=False,
)

#: Passive authentication, in order: each row a check and the inputs it needs.
STEPS: tuple[Step, ...] = (
    Step(CheckName.SOD_PARSE, check_sod, (_SOD_SUPPLIED,)),
    Step(CheckName.DG_HASHES, check_data_groups, (_USABLE_SOD_FOR_HASHES,)),
    Step(CheckName.SOD_MESSAGE_DIGEST, check_message_digest, (_USABLE_SOD,)),
    Step(CheckName.SOD_SIGNATURE, check_signature, (_USABLE_SOD,)),
    Step(CheckName.DS_VALIDITY, check_ds_validity, (_USABLE_SOD, _DS_FOUND)),
    Step(CheckName.DS_PROFILE, check_ds_profile, (_USABLE_SOD, _DS_FOUND)),
    Step(CheckName.DS_ISSUER, check_ds_issuer, (_USABLE_SOD, _DS_FOUND)),
    REVOCATION_STEP,
    Step(CheckName.DG1_ISSUING_STATE, check_issuing_state, (_DG1_SUPPLIED, _USABLE_SOD, _DS_FOUND)),
)

_CARD_SECURITY_SUPPLIED = Needs(
    lambda c: LdsFile.EF_CARD_SECURITY in c.document,
    "EF.CardSecurity was not supplied: nothing can be authenticated",
)
_USABLE_SIGNED = Needs(lambda c: c.signed is not None, "no usable EF.CardSecurity")

#: EF.CardSecurity (9303-11 §9.2.11, TR-03110-3 §A.1.2) through the same CMS and DS
#: steps as EF.SOD: its SignedData, messageDigest, signature, DS validity, profile, chain
#: and revocation.
CARD_SECURITY_STEPS: tuple[Step, ...] = (
    Step(CheckName.CARD_SECURITY_PARSE, check_card_security, (_CARD_SECURITY_SUPPLIED,)),
    Step(CheckName.CARD_SECURITY_MESSAGE_DIGEST, check_message_digest, (_USABLE_SIGNED,)),
    Step(CheckName.CARD_SECURITY_SIGNATURE, check_signature, (_USABLE_SIGNED,)),
    Step(CheckName.DS_VALIDITY, check_ds_validity, (_USABLE_SIGNED, _DS_FOUND)),
    Step(CheckName.DS_PROFILE, check_ds_profile, (_USABLE_SIGNED, _DS_FOUND)),
    Step(CheckName.DS_ISSUER, check_ds_issuer, (_USABLE_SIGNED, _DS_FOUND)),
    CARD_SECURITY_REVOCATION_STEP,
)


#: Files by report label (``"EF.SOD"``, ``"DG1"``): the names verify is most often given.
_LABELS: Mapping[object, LdsFile] = {f.label: f for f in LdsFile}


def _document(files: LdsFiles) -> Document:
    """A :class:`Document` from a mapping of names (or :class:`LdsFile`) to bytes.

    :raises ValueError: for a name that is not an LDS file, or two different
        contents under names of the same file.
    :raises TypeError: for content that is not bytes.
    """
    out: dict[LdsFile, bytes] = {}
    for name, data in files.items():
        file = name if isinstance(name, LdsFile) else _LABELS.get(name) or LdsFile.by_name(name)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"{name}: expected bytes, got {type(data).__name__}")
        if file in out and out[file] != bytes(data):
            raise ValueError(f"two different files given for {file.label}")
        out[file] = bytes(data)
    return Document(out)


def verify(
    files: LdsFiles | Document,
    trust_store: TrustStore,
    *,
    at: datetime,
    certificates: Iterable[Any] = (),
    policy: VerificationPolicy = DEFAULT_POLICY,
) -> Report:
    """Passive authentication of *files* (9303-11 §5.1), as the module docstring describes.

    :param files: the files as read: a :class:`~epass.lds.document.Document`
        (its cached EF.SOD and DG1 views are used, so a SOD the reader already
        parsed is not parsed again), or a mapping from file name to bytes with
        names as :func:`epass.lds.files.canonical_name` accepts (``"EF.SOD"``,
        ``"DG1"``, ``"EF_COM.bin"``) or :class:`LdsFile` keys. Files other than
        EF.SOD and DG1..DG16 are accepted and ignored (EF.COM is not signed).
        An EF.SOD larger than :attr:`LdsFile.max_size` is a malformed SOD.
    :param trust_store: the CSCA anchors.
    :param at: the time to check certificate validity at; must be timezone-aware.
    :param certificates: extra certificates (DER or asn1crypto) to find the DS
        in when EF.SOD does not embed it (the trust store's DS certificates
        are searched after them).
    :param policy: what is flagged beside the verdict (:mod:`epass.pa.policy`);
        the report states it.
    :raises ValueError: for a naive *at*, a name that is not an LDS file, or
        two different files under one name.
    :raises TypeError: for a trust store or file content of the wrong type.
    :raises ParseError: if a certificate of *certificates* examined while
        looking for the DS is malformed.
    """
    _check_inputs(trust_store, at)
    document = files if isinstance(files, Document) else _document(files)
    context = Context(document, trust_store, at, tuple(certificates), policy=policy)
    return _report(context, run(STEPS, context))


def verify_card_security(
    data: bytes,
    trust_store: TrustStore,
    *,
    at: datetime,
    certificates: Iterable[Any] = (),
    policy: VerificationPolicy = DEFAULT_POLICY,
) -> Report:
    """Authenticate EF.CardSecurity (9303-11 §9.2.11; TR-03110-3 §A.1.2) like EF.SOD.

    The same CMS path and trust store as :func:`verify`: the file parses as
    SignedData over SecurityInfos (``card_security.parse``), the
    messageDigest binds the eContent (``card_security.message_digest``), the
    signature verifies with the DS key (``card_security.signature``), and
    the DS certificate is checked as for EF.SOD (``ds.validity``,
    ``ds.profile``, ``ds.issuer``, ``ds.revocation``; DS found embedded, in *certificates* or
    among :meth:`TrustStore.document_signers`). PACE-CAM and chip
    authentication rely on the public keys of a VALID EF.CardSecurity.

    :param data: the file's bytes (a bare ContentInfo, no tag ``'77'``).
    :param at: the time to check at; must be timezone-aware.
    :returns: a :class:`Report` with ``sod=None`` and no data groups.
    :raises ValueError: for a naive *at*.
    :raises TypeError: for a trust store or data of the wrong type.
    """
    _check_inputs(trust_store, at)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"EF.CardSecurity: expected bytes, got {type(data).__name__}")
    document = Document({LdsFile.EF_CARD_SECURITY: bytes(data)})
    context = Context(
        document,
        trust_store,
        at,
        tuple(certificates),
        file=LdsFile.EF_CARD_SECURITY.label,
        policy=policy,
    )
    checks = run(CARD_SECURITY_STEPS, context)
    return _report(context, checks)


def _check_inputs(trust_store: TrustStore, at: datetime) -> None:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("verify(at=...) needs a timezone-aware datetime")
    if not isinstance(trust_store, TrustStore):
        raise TypeError(f"trust_store must be a TrustStore, not {type(trust_store).__name__}")


def _report(context: Context, checks: list[Check]) -> Report:
    context.findings.extend(time_findings(context))
    sod, ds, anchor = context.sod, context.ds, context.anchor
    return Report.build(
        checks=checks,
        data_groups=context.data_group_results,
        signer=None if ds is None else context.ds_info(),
        anchor=None if anchor is None else _anchor_info(anchor),
        checked_at=context.at,
        sod=None if sod is None else sod_summary(sod),
        findings=context.findings,
        policy=context.policy.describe(),
    )


def _anchor_info(anchor: TrustAnchor) -> CertificateInfo:
    """The report's view of the anchor: its source, with the date it entered the store."""
    source = anchor.source
    when = anchor.provenance.imported_at
    if when is not None:
        source += f", imported {when.date().isoformat()}"
    return certificate_info(
        anchor.certificate, source=source, provenance=anchor.provenance.to_dict()
    )
