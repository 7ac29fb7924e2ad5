"""The EF.SOD steps of passive authentication (ICAO Doc 9303-11 §5.1 steps 2-3; RFC 5652 §5).

``sod.parse``
    EF.SOD parses as CMS SignedData over an LDSSecurityObject with an allowed
    eContentType (:mod:`epass.lds.sod`); its signer certificate is located.
``dg.hashes``
    every data group given is hashed over its raw bytes and compared with EF.SOD.
``sod.message_digest``
    the messageDigest and content-type signed attributes bind the signature
    to the eContent (RFC 5652 §5.4, §11.1, §11.2).
``sod.signature``
    the SignerInfo signature over the DER SET OF signed attributes verifies
    with the DS public key (:func:`epass.cms.verify_signer`).

Each step is ``(Context) -> Check`` and runs only when its inputs are present
(:mod:`epass.pa.context`); :mod:`epass.pa.verify` lists them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from epass._crypto.signatures import (
    CurveParameters,
    ExplicitCurveParametersError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
    describe_public_key,
    digest,
    resolve_signature_algorithm,
    verify_certificate_signature,
)
from epass.cms import (
    SignedData,
    SignerMatch,
    locate_signer,
    parse_signed_data,
    verify_signer,
)
from epass.errors import BUILTIN_PARSE_ERRORS, ParseError
from epass.lds import sod as sod_module
from epass.lds.asn1 import ID_ICAO_LDS_SECURITY_OBJECT, format_name
from epass.lds.files import LdsFile
from epass.lds.security_infos import parse_security_infos
from epass.pa.certificates import ds_name_findings, hex_or_none, signature_algorithm_name
from epass.pa.context import Context
from epass.pa.report import (
    Check,
    CheckName,
    CheckStatus,
    DataGroupResult,
    DataGroupStatus,
    EvidenceValue,
    Finding,
    FindingCode,
    SodSummary,
)

__all__ = [
    "ID_SECURITY_OBJECT",
    "check_card_security",
    "check_data_groups",
    "check_message_digest",
    "check_signature",
    "check_sod",
    "locate_ds",
    "sod_findings",
    "sod_summary",
]

_SOD = LdsFile.EF_SOD.label

#: What resolving an untrusted signature algorithm may raise (then no finding is given).
_ALGORITHM_ERRORS: tuple[type[Exception], ...] = (UnsupportedAlgorithmError, *BUILTIN_PARSE_ERRORS)

#: The SignerInfo version each SignerIdentifier kind calls for (RFC 5652 §5.3).
_SIGNER_INFO_VERSIONS = {
    "issuer_and_serial_number": ("issuerAndSerialNumber", 1),
    "subject_key_identifier": ("subjectKeyIdentifier", 3),
}


def check_sod(context: Context) -> Check:
    """``sod.parse``: parse EF.SOD (once, via the document) and locate the DS certificate.

    Sets :attr:`Context.sod` and :attr:`Context.ds` and records the findings
    of :func:`sod_findings`. A SOD larger than :attr:`LdsFile.max_size` is a
    malformed SOD: the document refuses it before parsing.

    :raises ParseError: if a caller-supplied certificate examined while
        looking for the DS is malformed (EF.SOD's own errors are a FAIL).
    """
    name = CheckName.SOD_PARSE
    raw = context.document.get(LdsFile.EF_SOD) or b""
    try:
        sod = context.document.sod
    except ParseError as exc:
        return Check(
            name,
            CheckStatus.FAIL,
            f"EF.SOD is malformed: {exc.reason}",
            {"offset": exc.offset, "size": len(raw), "sha256": hashlib.sha256(raw).digest()},
        )
    if sod is None:  # the step runs only when EF.SOD is present
        raise LookupError("sod.parse ran without EF.SOD")
    si = sod.signer_info
    context.sod = sod
    context.findings.extend(sod_findings(sod))
    locate_ds(context, sod.signed_data)

    algorithm = signature_algorithm_name(si.signature_algorithm, si.digest_algorithm)
    evidence: dict[str, EvidenceValue] = {
        "econtent_type": sod.econtent_type,
        "econtent_type_name": sod_module.ALLOWED_ECONTENT_TYPES[sod.econtent_type],
        "legacy_econtent_type": sod.legacy_econtent_type,
        "lds_security_object_version": sod.version,
        "hash_algorithm": sod.hash_algorithm,
        "digest_algorithm": si.digest_algorithm,
        "signature_algorithm": algorithm,
        "signature_algorithm_oid": si.signature_algorithm["algorithm"].dotted,
        "signer_infos": len(sod.signer_infos),
        "certificates": len(sod.certificates),
        "data_groups": tuple(f"DG{n}" for n in sod.dg_hashes),
        "size": len(raw),
        "sha256": hashlib.sha256(raw).digest(),
    }
    if sod.lds_version is not None:
        evidence["lds_version"] = sod.lds_version
        evidence["unicode_version"] = sod.unicode_version
    detail = (
        f"EF.SOD parsed: LDSSecurityObject v{sod.version}, {sod.hash_algorithm} hashes of "
        f"{len(sod.dg_hashes)} data groups, signed with {algorithm}"
    )
    if sod.legacy_econtent_type:
        detail += f" (pre-standard eContentType {sod.econtent_type} accepted)"
    return Check(name, CheckStatus.PASS, detail, evidence)


def locate_ds(context: Context, signed: SignedData) -> None:
    """Set :attr:`Context.signed` and find the DS certificate the SignerInfo names.

    Looked up in SignedData.certificates, then in the caller's certificates,
    then in :meth:`TrustStore.document_signers` (9303-12 §4.1 lets a SOD leave
    it out; the PKD publishes DS certificates), by issuerAndSerialNumber or
    subjectKeyIdentifier (RFC 5652 §5.3). A sloppy identification (issuer
    differing in string types, case, spacing or RDN order; a key identifier
    computed from the key) still finds it, with a finding: the signature
    decides. Records the findings of the signing time and the DS names.

    :raises ParseError: if a caller-supplied certificate examined is malformed.
    """
    context.signed = signed
    file = context.file
    si = signed.signer_info
    if si.signing_time is not None and si.signing_time > context.at:
        context.findings.append(
            Finding(
                FindingCode.SIGNING_TIME_FUTURE,
                f"the signing time {si.signing_time.isoformat()} is after the time checked at "
                f"{context.at.isoformat()}",
                file,
            )
        )
    sources: tuple[tuple[str, Iterable[Any]], ...] = (
        ("embedded", signed.certificates),
        ("supplied", context.certificates),
        ("trust store", context.trust_store.document_signers()),
    )
    found = None
    source = ""
    for where_from, certificates in sources:
        found = locate_signer(si, certificates)
        if found is not None:
            source = where_from
            break
    if found is None or source != "embedded":
        where = (
            ""
            if found is None
            else "; it was found among the certificates supplied"
            if source == "supplied"
            else "; it was found among the trust store's DS certificates"
        )
        context.findings.append(
            Finding(
                FindingCode.DS_NOT_EMBEDDED,
                f"{file} does not embed the DS certificate its SignerInfo names "
                f"(9303-10 §4.6.2.2 profiles SignedData.certificates to carry it){where}",
                file,
            )
        )
    if found is None:
        context.ds = None
        return
    ds, how = found
    context.ds_source = source
    if how.sloppy:
        context.findings.append(
            Finding(
                FindingCode.SIGNER_IDENTIFIER,
                f"the SignerInfo names its DS certificate sloppily ({_SLOPPY[how]}); the "
                "certificate was matched all the same and its signature decides "
                "(RFC 5652 §5.3)",
                file,
            )
        )
    context.findings.extend(ds_name_findings(ds, file=file if source == "embedded" else None))
    context.ds = ds


#: What a sloppy SignerIdentifier match means, for its finding.
_SLOPPY: Mapping[SignerMatch, str] = {
    SignerMatch.NAME_PREPARED: "its issuer name differs from the certificate's in string "
    "types, case or spacing",
    SignerMatch.NAME_REORDERED: "its issuer name lists the certificate's RDNs in another order",
    SignerMatch.KEY_IDENTIFIER_COMPUTED: "by a subjectKeyIdentifier the certificate does not "
    "carry, equal to the SHA-1 of its public key",
}


#: id-SecurityObject, the eContentType of EF.CardSecurity (BSI TR-03110-3 §A.1.2).
ID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"


def check_card_security(context: Context) -> Check:
    """``card_security.parse``: EF.CardSecurity is SignedData over SecurityInfos.

    9303-11 §9.2.11 and TR-03110-3 §A.1.2: a ContentInfo of type SignedData
    (no tag ``'77'``), eContentType id-SecurityObject, eContent a DER
    ``SecurityInfos``. Sets :attr:`Context.signed` and :attr:`Context.ds`
    (:func:`locate_ds`). A malformed file is a FAIL.
    """
    name = CheckName.CARD_SECURITY_PARSE
    file = LdsFile.EF_CARD_SECURITY
    raw = context.document.get(file) or b""
    evidence: dict[str, EvidenceValue] = {
        "size": len(raw),
        "sha256": hashlib.sha256(raw).digest(),
    }
    try:
        if len(raw) > file.max_size:
            raise ParseError(f"{len(raw)} bytes, more than {file.max_size}", file=file.label)
        signed = parse_signed_data(raw, file=file.label)
        evidence["econtent_type"] = signed.econtent_type
        if signed.econtent_type != ID_SECURITY_OBJECT:
            raise ParseError(
                f"eContentType {signed.econtent_type} is not id-SecurityObject "
                f"{ID_SECURITY_OBJECT} (TR-03110-3 §A.1.2)",
                file=file.label,
            )
        infos = parse_security_infos(
            signed.econtent, file=file.label, base=signed.econtent_offset or 0
        )
    except ParseError as exc:
        evidence["offset"] = exc.offset
        return Check(name, CheckStatus.FAIL, f"{file.label} is malformed: {exc.reason}", evidence)
    locate_ds(context, signed)
    si = signed.signer_info
    algorithm = signature_algorithm_name(si.signature_algorithm, si.digest_algorithm)
    evidence.update(
        {
            "digest_algorithm": si.digest_algorithm,
            "signature_algorithm": algorithm,
            "signer_infos": len(signed.signer_infos),
            "certificates": len(signed.certificates),
            "security_infos": len(infos.infos),
        }
    )
    return Check(
        name,
        CheckStatus.PASS,
        f"{file.label} parsed: SignedData over {len(infos.infos)} SecurityInfos, "
        f"signed with {algorithm}",
        evidence,
    )


def sod_findings(sod: sod_module.Sod) -> list[Finding]:
    """Deviations of a parsed EF.SOD from the 9303-10 §4.6.2.2 profile that are not failures."""
    out: list[Finding] = []
    if sod.legacy_econtent_type:
        out.append(
            Finding(
                FindingCode.LEGACY_ECONTENT_TYPE,
                f"pre-standard eContentType {sod.econtent_type} "
                f"({sod_module.ALLOWED_ECONTENT_TYPES[sod.econtent_type]}) accepted; "
                f"9303-10 §4.6.2.2 specifies {ID_ICAO_LDS_SECURITY_OBJECT}",
                _SOD,
            )
        )
    if sod.signed_data_version != 3:
        out.append(
            Finding(
                FindingCode.SIGNED_DATA_VERSION,
                f"SignedData version {sod.signed_data_version} (9303-10 §4.6.2.2 specifies v3)",
                _SOD,
            )
        )
    if len(sod.signer_infos) > 1:
        out.append(
            Finding(
                FindingCode.SIGNER_INFOS,
                f"{len(sod.signer_infos)} SignerInfos; only the first is verified "
                "(9303-10 §4.6.2.2 recommends exactly one)",
                _SOD,
            )
        )
    signer = sod.signer_info
    sid_type, expected = _SIGNER_INFO_VERSIONS[signer.sid_kind]
    if signer.version != expected:
        out.append(
            Finding(
                FindingCode.SIGNER_INFO_VERSION,
                f"SignerInfo version {signer.version} (RFC 5652 §5.3 specifies version "
                f"{expected} for a SignerIdentifier of type {sid_type})",
                _SOD,
            )
        )
    if sod.signer_info.digest_algorithm not in sod.digest_algorithms:
        out.append(
            Finding(
                FindingCode.DIGEST_ALGORITHMS,
                f"the SignerInfo's digestAlgorithm {sod.signer_info.digest_algorithm} is not "
                f"listed in SignedData.digestAlgorithms {list(sod.digest_algorithms)} "
                "(RFC 5652 §5.1)",
                _SOD,
            )
        )
    try:
        signature_hash: str | None = resolve_signature_algorithm(
            signer.signature_algorithm, digest_algorithm=signer.digest_algorithm
        ).hash
    except _ALGORITHM_ERRORS:
        signature_hash = None
    if "sha1" in (signature_hash, signer.digest_algorithm):
        out.append(
            Finding(
                FindingCode.SOD_SHA1,
                f"the SOD signature uses SHA-1 (digestAlgorithm {signer.digest_algorithm}, "
                f"signature hash {signature_hash or '?'}), which is deprecated",
                _SOD,
            )
        )
    if sod.version == 1 and sod.lds_version is None:
        out.append(
            Finding(
                FindingCode.LDS_VERSION_INFO,
                "LDSSecurityObject v1 without ldsVersionInfo (9303-10 §4.6.2.2: v1 carries it)",
                _SOD,
            )
        )
    return out


def check_data_groups(context: Context) -> Check:
    """``dg.hashes``: hash each data group given and compare it with EF.SOD (9303-11 §5.1 step 3).

    MATCH, MISMATCH (FAIL), NOT_IN_SOD (given but not hashed in the SOD:
    injection, FAIL) or NOT_READ (hashed in the SOD but not given: listed,
    not a failure). Fills :attr:`Context.data_group_results`.
    """
    name = CheckName.DG_HASHES
    sod = context.require_sod()
    given = context.data_groups
    results = context.data_group_results
    algorithm = sod.hash_algorithm
    supported = True
    try:
        digest(algorithm, b"")
    except UnsupportedAlgorithmError:
        supported = False
    unchecked: list[str] = []
    for n in sorted(set(given) | set(sod.dg_hashes)):
        expected = sod.dg_hashes.get(n)
        data = given.get(n)
        actual = None
        if data is None:
            status = DataGroupStatus.NOT_READ
        elif expected is None:
            status = DataGroupStatus.NOT_IN_SOD
            actual = digest(algorithm, data) if supported else None
        elif not supported:
            unchecked.append(f"DG{n}")
            continue
        else:
            actual = digest(algorithm, data)
            status = DataGroupStatus.MATCH if actual == expected else DataGroupStatus.MISMATCH
        results.append(
            DataGroupResult(
                f"DG{n}",
                n,
                status,
                algorithm,
                hex_or_none(expected),
                hex_or_none(actual),
                None if data is None else len(data),
            )
        )

    _com_findings(context, sod.dg_hashes)

    def names(status: DataGroupStatus) -> tuple[str, ...]:
        return tuple(r.name for r in results if r.status is status)

    matched = names(DataGroupStatus.MATCH)
    mismatched = names(DataGroupStatus.MISMATCH)
    injected = names(DataGroupStatus.NOT_IN_SOD)
    not_read = names(DataGroupStatus.NOT_READ)
    evidence: dict[str, EvidenceValue] = {
        "algorithm": algorithm,
        "match": matched,
        "mismatch": mismatched,
        "not_in_sod": injected,
        "not_read": not_read,
        "unchecked": tuple(unchecked),
    }
    if mismatched or injected:
        parts = []
        if mismatched:
            parts.append(f"hash mismatch in {', '.join(mismatched)}")
        if injected:
            parts.append(f"{', '.join(injected)} present but not hashed in EF.SOD")
        return Check(name, CheckStatus.FAIL, "; ".join(parts), evidence)
    if not supported:
        return Check(
            name,
            CheckStatus.ERROR,
            f"hash algorithm {algorithm} is not supported: data groups not checked",
            evidence,
        )
    if not matched:
        return Check(name, CheckStatus.SKIP, "no data group was supplied", evidence)
    detail = f"{len(matched)} data group hashes ({algorithm}) match: {', '.join(matched)}"
    if not_read:
        detail += f"; in EF.SOD but not supplied: {', '.join(not_read)}"
    return Check(name, CheckStatus.PASS, detail, evidence)


def _com_findings(context: Context, hashed: Mapping[int, bytes]) -> None:
    """A finding for each data group EF.COM lists but EF.SOD does not hash (9303-10 §4.6.1).

    EF.COM is not signed, so this is a deviation, never a failure; a data group
    *given* but not hashed is the injection ``dg.hashes`` fails.
    """
    if LdsFile.EF_COM not in context.document:
        return
    try:
        com = context.document.com
    except ParseError:
        return  # reported by the inspection as a parse error
    if com is None:
        return
    missing = [n for n in com.data_groups if n not in hashed]
    if missing:
        context.findings.append(
            Finding(
                FindingCode.COM_NOT_IN_SOD,
                "EF.COM lists "
                + ", ".join(f"DG{n}" for n in missing)
                + " but EF.SOD hashes no such data group (EF.COM is not signed)",
                LdsFile.EF_COM.label,
            )
        )


def check_message_digest(context: Context) -> Check:
    """``sod.message_digest``: the signed attributes bind the eContent (RFC 5652 §5.4, §11).

    The messageDigest attribute must equal the digest of the eContent octets
    and the content-type attribute the eContentType.
    """
    name = CheckName.SOD_MESSAGE_DIGEST
    sod = context.require_signed()
    si = sod.signer_info
    evidence: dict[str, EvidenceValue] = {
        "digest_algorithm": si.digest_algorithm,
        "econtent_type": sod.econtent_type,
        "content_type_attribute": si.content_type,
        "message_digest_attribute": si.message_digest,
        "signed_attributes": tuple(si.signed_attr_types),
    }
    if si.signed_attrs is None:
        # RFC 5652 §5.4: the signature then covers the eContent itself (sod.signature checks
        # it), but nothing signed says what the content is: §5.3 requires signed attributes
        # for every eContentType but id-data, and so do 9303-10 §4.6.2.2 and TR-03110-3
        # §A.1.2. Not a forgery, not proven either.
        return Check(
            name,
            CheckStatus.SKIP,
            "SignerInfo has no signed attributes: the signature covers the eContent directly "
            "(RFC 5652 §5.4), so no content-type attribute binds it to "
            f"{sod.econtent_type} (RFC 5652 §5.3, 9303-10 §4.6.2.2 and TR-03110-3 §A.1.2 "
            "require signed attributes for it)",
            evidence,
        )
    if si.content_type is None or si.message_digest is None:
        missing = "content-type" if si.content_type is None else "message-digest"
        return Check(
            name,
            CheckStatus.FAIL,
            f"signed attributes lack the {missing} attribute (RFC 5652 §5.3)",
            evidence,
        )
    if si.content_type != sod.econtent_type:
        return Check(
            name,
            CheckStatus.FAIL,
            f"content-type attribute {si.content_type} differs from eContentType "
            f"{sod.econtent_type} (RFC 5652 §11.1)",
            evidence,
        )
    try:
        actual = digest(si.digest_algorithm, sod.econtent)
    except UnsupportedAlgorithmError as exc:
        return Check(name, CheckStatus.ERROR, str(exc), evidence)
    evidence["econtent_digest"] = actual
    if actual != si.message_digest:
        return Check(
            name,
            CheckStatus.FAIL,
            f"messageDigest attribute does not equal the {si.digest_algorithm} of the eContent "
            "(RFC 5652 §11.2): the data group hashes are not the ones signed",
            evidence,
        )
    return Check(
        name,
        CheckStatus.PASS,
        f"messageDigest equals the {si.digest_algorithm} of the eContent; content-type matches",
        evidence,
    )


def check_signature(context: Context) -> Check:
    """``sod.signature``: the SignerInfo signature verifies with the DS key (9303-11 §5.1 step 2).

    ERROR when the DS certificate is neither embedded nor supplied, or its key
    or algorithm cannot be checked; FAIL when the signature does not verify.
    """
    name = CheckName.SOD_SIGNATURE
    sod = context.require_signed()
    ds = context.ds
    si = sod.signer_info
    evidence: dict[str, EvidenceValue] = {
        "signature_algorithm": signature_algorithm_name(
            si.signature_algorithm, si.digest_algorithm
        ),
        "digest_algorithm": si.digest_algorithm,
        "signer_identifier": si.sid_kind,
        "signature": si.signature,
    }
    if si.serial_number is not None:
        evidence["signer_serial"] = format(si.serial_number, "x")
    if si.subject_key_identifier is not None:
        evidence["signer_key_identifier"] = si.subject_key_identifier
    if ds is None:
        return Check(
            name,
            CheckStatus.ERROR,
            f"the DS certificate named by the SignerInfo is neither in {context.file} nor "
            "supplied nor among the trust store's DS certificates",
            evidence,
        )
    info = context.ds_info()
    evidence["ds_subject"] = info.subject
    evidence["ds_serial"] = info.serial
    evidence["ds_public_key"] = f"{info.public_key_algorithm} {info.public_key_size or '?'}" + (
        f" {info.curve}" if info.curve else ""
    )
    covered = "signed attributes"
    if si.signed_attrs is None:
        covered = "eContent (no signed attributes)"
        evidence["signed_over"] = "econtent"
    else:
        evidence["signed_attributes_sha256"] = hashlib.sha256(si.signed_attrs).digest()
    issuer = _parameter_issuer(context, ds)
    try:
        scheme = verify_signer(si, ds, issuer=issuer, econtent=sod.econtent)
    except ExplicitCurveParametersError as exc:
        return Check(
            name,
            CheckStatus.ERROR,
            f"the DS key's {exc}: signature not checked",
            evidence,
        )
    except UnsupportedAlgorithmError as exc:
        return Check(name, CheckStatus.ERROR, f"signature not checked: {exc}", evidence)
    except InvalidSignatureError as exc:
        return Check(
            name,
            CheckStatus.FAIL,
            f"the {context.file} signature does not verify with the DS key: {exc}",
            evidence,
        )
    evidence["signature_algorithm"] = str(scheme)
    on = ""
    if scheme.curve is not None:
        evidence["ds_curve"] = scheme.curve
        on = f" ({scheme.curve})"
    if issuer is not None and scheme.curve is not None:
        evidence["ds_curve_parameters_from"] = format_name(issuer.subject)
    return Check(
        name,
        CheckStatus.PASS,
        f"the {scheme} signature over the {covered} verifies with the DS key{on}",
        evidence,
    )


def _parameter_issuer(context: Context, ds: Any) -> Any | None:
    """For a DS key that inherits its EC parameters (implicitlyCA), the CSCA to take them from.

    RFC 3279 §2.3.5: the parameters are those of the CA that issued the
    certificate. Of the trust-store candidate issuers with an EC key, the one
    under whose key the DS certificate's signature verifies (the check
    ``ds.issuer`` repeats, from the same cache); when none does, the first of
    them (the chain then fails or is not proven, whatever the SOD signature
    says). Never the parameters of a same-name CSCA of another key that did
    not issue the DS. ``None`` for every other key.
    """
    if describe_public_key(ds).parameters is not CurveParameters.INHERITED:
        return None
    first = None
    for candidate in context.trust_store.issuers_of(ds):
        issuer = candidate.anchor.certificate
        if describe_public_key(issuer).algorithm != "ec":
            continue
        if first is None:
            first = issuer
        try:
            verify_certificate_signature(ds, issuer)
        except (InvalidSignatureError, UnsupportedAlgorithmError):
            continue
        return issuer
    return first


def sod_summary(sod: sod_module.Sod) -> SodSummary:
    """EF.SOD at a glance, for :attr:`Report.sod`."""
    si = sod.signer_info
    return SodSummary(
        econtent_type=sod.econtent_type,
        version=sod.version,
        hash_algorithm=sod.hash_algorithm,
        digest_algorithm=si.digest_algorithm,
        signature_algorithm=signature_algorithm_name(si.signature_algorithm, si.digest_algorithm),
        data_groups=tuple(sod.dg_hashes),
        lds_version=sod.lds_version,
        unicode_version=sod.unicode_version,
        signing_time=si.signing_time,
        size=len(sod.raw),
        sha256=hashlib.sha256(sod.raw).hexdigest(),
    )
