"""The DS certificate steps of passive authentication (ICAO Doc 9303-11 §5.1 step 1; 9303-12 §7).

``ds.validity``
    the DS certificate is valid at the checked time and, if the SOD carries a
    signing-time attribute, at that time (shell model; RFC 5280 §4.1.2.5).
``ds.profile``
    the DS certificate is an end-entity signer: no critical extension this
    verifier does not process (RFC 5280 §4.2), not a CA, and keyUsage (when
    present) includes digitalSignature (9303-12 §7.1.1 DS profile).
``ds.issuer``
    the DS certificate's signature verifies under a CSCA of the trust store
    whose subject name is the DS issuer name (RFC 5280 §6.1.3 name chaining)
    and that is itself valid at the checked time (9303-12 §7).
``dg1.issuing_state``
    the issuing state in DG1's MRZ matches the country of the CSCA that
    verified the DS certificate and the country in the DS names (9303-12
    §7.1.1: the country is in the DS and CSCA names).

Each step is ``(Context) -> Check`` and runs only when its inputs are present
(:mod:`epass.pa.context`); :mod:`epass.pa.verify` lists them. Revocation
(CRLs) is not checked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from epass._crypto.signatures import (
    ExplicitCurveParametersError,
    InvalidSignatureError,
    SignatureScheme,
    UnsupportedAlgorithmError,
    describe_public_key,
    resolve_signature_algorithm,
    verify_certificate_signature,
)
from epass.errors import BUILTIN_PARSE_ERRORS, EpassError
from epass.iso3166 import alpha2, certificate_countries
from epass.lds.asn1 import format_name, name_country, prepared_name, same_name
from epass.lds.files import LdsFile
from epass.pa.certificates import (
    RECOGNISED_CRITICAL_EXTENSIONS,
    hex_or_none,
    signature_algorithm_name,
    valid_at,
    validity,
)
from epass.pa.context import Context
from epass.pa.policy import SigningTime, find_signing_time
from epass.pa.report import Check, CheckName, CheckStatus, EvidenceValue, Finding, FindingCode
from epass.pa.trust import TrustAnchor, anchor_problem

__all__ = [
    "DS_RECOGNISED_EXTENSIONS",
    "check_ds_issuer",
    "check_ds_profile",
    "check_ds_validity",
    "check_issuing_state",
    "signing_time",
    "time_findings",
]

#: Extensions a DS certificate may mark critical (RFC 5280 §4.2); any other critical
#: extension (extendedKeyUsage, the documentTypeList of 9303-12 §7.1.1.3, which is not
#: enforced) fails ``ds.profile``.
DS_RECOGNISED_EXTENSIONS = RECOGNISED_CRITICAL_EXTENSIONS

#: What resolving an untrusted signature algorithm may raise (then no finding is given).
_ALGORITHM_ERRORS: tuple[type[Exception], ...] = (UnsupportedAlgorithmError, *BUILTIN_PARSE_ERRORS)

#: Smallest RSA modulus, in bits, that is not reported as weak (the DS key signs the SOD).
MIN_RSA_BITS = 2048

#: What reading DG1's issuing state may raise: the parser's ParseError (or, from a
#: parser defect, a builtin error); reported as an ERROR naming only the type.
_DG1_ERRORS: tuple[type[Exception], ...] = (EpassError, *BUILTIN_PARSE_ERRORS)


def check_ds_validity(context: Context) -> Check:
    """``ds.validity``: the DS certificate at the time the document was signed.

    :mod:`epass.pa.policy`: the signing time is the signingTime attribute,
    else DG12's date of issue, else unknown. Signed outside the DS
    certificate's validity: FAIL. Unknown: FAIL only if the DS validity
    starts after the check time (nothing can have been signed yet); a DS
    certificate that has since expired passes, with a warning finding
    (:func:`~epass.pa.policy.time_findings`). Validity at the check time is
    never part of this check.
    """
    name = CheckName.DS_VALIDITY
    ds = context.require_ds()
    at = context.at
    not_before, not_after = validity(ds)
    signed_at = signing_time(context)
    evidence: dict[str, EvidenceValue] = {
        "not_before": not_before,
        "not_after": not_after,
        "checked_at": at,
        "signing_time": signed_at.when,
        "signing_time_source": signed_at.source,
        "valid_at_check_time": valid_at(ds, at),
        "ds_serial": format(int(ds.serial_number), "x"),
    }
    period = f"{not_before.isoformat()} .. {not_after.isoformat()}"
    if signed_at.when is not None:
        if not signed_at.within(not_before, not_after):
            return Check(
                name,
                CheckStatus.FAIL,
                f"the document was signed at {signed_at}, outside the DS certificate's "
                f"validity {period}",
                evidence,
            )
        return Check(
            name,
            CheckStatus.PASS,
            f"DS certificate valid at the signing time {signed_at} ({period})",
            evidence,
        )
    if at < not_before:
        return Check(
            name,
            CheckStatus.FAIL,
            f"signing time unknown, and the DS certificate is not valid before "
            f"{not_before.isoformat()} (checked at {at.isoformat()}): nothing can have been "
            "signed with it yet",
            evidence,
        )
    detail = f"signing time unknown; DS certificate validity {period}"
    detail += (
        f" includes the check time {at.isoformat()}"
        if at <= not_after
        else " has ended since (reported as a finding)"
    )
    return Check(name, CheckStatus.PASS, detail, evidence)


def check_ds_profile(context: Context) -> Check:
    """``ds.profile``: the DS certificate is a signer, not a CA (9303-12 §7.1.1; RFC 5280 §4.2).

    FAIL when the DS certificate marks critical an extension outside
    :data:`DS_RECOGNISED_EXTENSIONS` (RFC 5280 §4.2: such a certificate must
    be rejected), is a CA (basicConstraints cA=TRUE: e.g. a CSCA certificate
    embedded as the signer), or has a keyUsage without digitalSignature, or
    when its extensions cannot be read. Weak but real-world choices are
    findings, not failures: an RSA key under :data:`MIN_RSA_BITS` bits
    (``ds.rsa_key_size``) and a SHA-1 certificate signature (``ds.sha1``).
    """
    name = CheckName.DS_PROFILE
    ds = context.require_ds()
    info = context.ds_info()
    evidence: dict[str, EvidenceValue] = {
        "ds_subject": info.subject,
        "public_key": f"{info.public_key_algorithm} {info.public_key_size or '?'}",
    }
    problems: list[str] = []
    try:
        extensions = [
            (ext["extn_id"].dotted, ext["extn_id"].native, bool(ext["critical"].native))
            for ext in ds["tbs_certificate"]["extensions"]
        ]
        constraints = ds.basic_constraints_value
        is_ca = constraints is not None and bool(constraints["ca"].native)
        key_usage = ds.key_usage_value
        usages = None if key_usage is None else sorted(key_usage.native)
    except BUILTIN_PARSE_ERRORS as exc:
        return Check(
            name,
            CheckStatus.FAIL,
            f"the DS certificate's extensions cannot be read ({type(exc).__name__})",
            evidence,
        )
    unknown = [
        oid if label == oid else f"{label} ({oid})"
        for oid, label, critical in extensions
        if critical and oid not in DS_RECOGNISED_EXTENSIONS
    ]
    evidence["critical_extensions"] = tuple(label for _, label, critical in extensions if critical)
    evidence["ca"] = is_ca
    evidence["key_usage"] = None if usages is None else tuple(usages)
    if unknown:
        problems.append(
            "critical extensions this verifier does not process: "
            + ", ".join(unknown)
            + " (RFC 5280 §4.2)"
        )
    if is_ca:
        problems.append("it is a CA certificate (basicConstraints cA=TRUE), not a DS")
    if usages is not None and "digital_signature" not in usages:
        problems.append(f"keyUsage {', '.join(usages) or '(empty)'} lacks digitalSignature")
    if usages is None:
        context.findings.append(
            Finding(
                FindingCode.DS_KEY_USAGE_MISSING,
                "the DS certificate has no keyUsage extension (9303-12 §7.1.1 requires it, "
                "critical, with digitalSignature)",
                context.file if context.ds_source == "embedded" else None,
            )
        )
    _ds_crypto_findings(context, ds)
    if problems:
        return Check(
            name,
            CheckStatus.FAIL,
            "the DS certificate does not fit the DS profile (9303-12 §7.1.1): "
            + "; ".join(problems),
            evidence,
        )
    return Check(
        name,
        CheckStatus.PASS,
        "the DS certificate is an end-entity signer: no unprocessed critical extension, "
        "not a CA" + (", keyUsage digitalSignature" if usages is not None else ""),
        evidence,
    )


def _ds_crypto_findings(context: Context, ds: Any) -> None:
    """Findings for a weak DS key, a weak DS certificate hash or an extendedKeyUsage."""
    file = context.file if context.ds_source == "embedded" else None
    context.findings.extend(_key_findings(context, ds, "DS", "ds", file))


def check_ds_issuer(context: Context) -> Check:
    """``ds.issuer``: the DS certificate chains to a CSCA valid at the checked time.

    Candidates come from :meth:`TrustStore.issuers_of` (key identifier first,
    then name). The DS certificate chains to a candidate when its signature
    verifies under the candidate's key *and* its issuer name is the
    candidate's subject name (RFC 5280 §6.1.3 (a)(4) name chaining; compared
    with :func:`~epass.lds.asn1.same_name`) and the candidate is a CA
    (:func:`~epass.pa.trust.anchor_problem`; the store admits no other).

    FAIL: the signature fails under a CSCA matched by key identifier (or by
    name without a conflicting key identifier); it verifies only under CSCAs
    of another name (a certificate naming one issuer but signed by another);
    or the CSCA it chains to is not valid at the checked time. Failing only
    under same-name CSCAs with another key proves nothing (SKIP). Sets
    :attr:`Context.anchor` to the CSCA whose key verified the signature.
    """
    name = CheckName.DS_ISSUER
    ds = context.require_ds()
    trust_store = context.trust_store
    aki = ds.authority_key_identifier
    country = name_country(ds.issuer)
    evidence: dict[str, EvidenceValue] = {
        "ds_issuer": format_name(ds.issuer),
        "ds_authority_key_identifier": hex_or_none(aki),
        "issuer_country": country,
        "ds_signature_algorithm": signature_algorithm_name(ds["signature_algorithm"]),
        "trust_store_size": len(trust_store),
    }
    signed_at = signing_time(context)
    csca_time = signed_at.when if signed_at.when is not None else validity(ds)[0]
    csca_time_label = (
        f"the signing time {signed_at}"
        if signed_at.when is not None
        else f"the DS certificate's issue ({csca_time.isoformat()}; signing time unknown)"
    )
    evidence["csca_judged_at"] = csca_time
    candidates = trust_store.issuers_of(ds)
    evidence["candidates"] = tuple(
        f"{c.anchor.subject} [{c.match}{', other key id' if c.key_identifier_conflict else ''}] "
        f"from {c.anchor.source}"
        for c in candidates
    )
    if not candidates:
        key_id = f" (key id {aki.hex()})" if aki else ""
        if not len(trust_store):
            detail = (
                "the trust store is empty: no CSCA was given to verify the DS certificate of "
                f"issuer {format_name(ds.issuer)}{key_id}"
            )
        else:
            same_country = len(trust_store.by_country(country)) if country else 0
            detail = (
                f"no CSCA in the trust store for issuer {format_name(ds.issuer)}{key_id}; "
                f"{same_country} anchors for country {country or '?'}"
            )
        if trust_store.rejected:
            evidence["trust_store_rejected"] = tuple(
                f"{source}: {reason}" for source, reason in trust_store.rejected
            )
            detail += (
                f"; {len(trust_store.rejected)} certificates offered as anchors are not CAs "
                "and were left out"
            )
        if prepared_name(ds.issuer) is None:
            evidence["issuer_compared_by"] = "der"
            detail += (
                "; the issuer name holds characters that RFC 4518 string preparation refuses, "
                "so it matches only a CSCA subject with the same encoding"
            )
        return Check(name, CheckStatus.SKIP, detail, evidence)
    invalid_strong: list[str] = []
    unsupported: list[str] = []
    rejected_weak: list[str] = []
    not_a_ca: list[str] = []
    other_name: list[tuple[TrustAnchor, str, SignatureScheme]] = []
    expired: list[tuple[TrustAnchor, str, SignatureScheme]] = []
    good: list[tuple[TrustAnchor, str, SignatureScheme]] = []
    for cand in candidates:
        anchor = cand.anchor
        problem = anchor_problem(anchor.certificate)
        if problem is not None:  # the store admits none; never trust one all the same
            not_a_ca.append(f"{anchor.subject}: {problem}")
            continue
        try:
            scheme = verify_certificate_signature(ds, anchor.certificate)
        except UnsupportedAlgorithmError as exc:
            what = "the CSCA key's " if isinstance(exc, ExplicitCurveParametersError) else ""
            unsupported.append(f"{anchor.subject}: {what}{exc}")
            continue
        except InvalidSignatureError:
            strong = cand.match == "key_identifier" or not cand.key_identifier_conflict
            (invalid_strong if strong else rejected_weak).append(anchor.subject)
            continue
        if not same_name(ds.issuer, anchor.certificate.subject):
            other_name.append((anchor, cand.match, scheme))
            continue
        if not valid_at(anchor.certificate, csca_time):
            # a link certificate or an older issue of the same CSCA key may have expired
            # while another certificate of that key is valid: try them all first
            expired.append((anchor, cand.match, scheme))
            continue
        good.append((anchor, cand.match, scheme))
    if good:
        # of the certificates of the key valid then, prefer one still valid now (a link
        # certificate that has since expired is shown only when it is the only one)
        anchor, match, scheme = next(
            (g for g in good if valid_at(g[0].certificate, context.at)), good[0]
        )
        context.anchor = anchor
        _anchor_evidence(evidence, anchor, match, scheme)
        _csca_findings(context, anchor)
        return Check(
            name,
            CheckStatus.PASS,
            f"DS certificate signature ({_scheme_text(scheme)}) verifies under CSCA "
            f"{anchor.subject} from {anchor.source}, valid at {csca_time_label}",
            evidence,
        )
    if expired:
        anchor, match, verified_with = expired[0]
        context.anchor = anchor
        _anchor_evidence(evidence, anchor, match, verified_with)
        not_before, not_after = validity(anchor.certificate)
        others = f" (and {len(expired) - 1} more of that key)" if len(expired) > 1 else ""
        return Check(
            name,
            CheckStatus.FAIL,
            f"DS certificate verifies under CSCA {anchor.subject}{others}, but no certificate "
            f"of that CSCA is valid at {csca_time_label} ({not_before.isoformat()} .. "
            f"{not_after.isoformat()})",
            evidence,
        )
    evidence["invalid_under"] = tuple(invalid_strong)
    evidence["unsupported"] = tuple(unsupported)
    evidence["other_keys"] = tuple(rejected_weak)
    evidence["not_a_ca"] = tuple(not_a_ca)
    if other_name:
        anchor, match, verified_with = other_name[0]
        context.anchor = anchor
        _anchor_evidence(evidence, anchor, match, verified_with)
        return Check(
            name,
            CheckStatus.FAIL,
            f"DS certificate signature verifies under CSCA {anchor.subject} from "
            f"{anchor.source}, but the DS certificate names another issuer "
            f"({format_name(ds.issuer)}): the issuer name must be the CSCA's subject name "
            "(RFC 5280 §6.1.3 name chaining)",
            evidence,
        )
    if invalid_strong:
        return Check(
            name,
            CheckStatus.FAIL,
            "DS certificate signature does not verify under the matching CSCA "
            + "; ".join(invalid_strong),
            evidence,
        )
    if unsupported:
        return Check(
            name,
            CheckStatus.ERROR,
            "DS certificate signature not checked: " + "; ".join(unsupported),
            evidence,
        )
    if not_a_ca and not rejected_weak:
        return Check(
            name,
            CheckStatus.SKIP,
            "no CA in the trust store for the DS certificate: " + "; ".join(not_a_ca),
            evidence,
        )
    return Check(
        name,
        CheckStatus.SKIP,
        "no CSCA with the DS certificate's key identifier in the trust store; CSCAs of the "
        "same name but another key do not verify it",
        evidence,
    )


def _extended_key_usage(cert: Any) -> tuple[str, ...] | None:
    """The extendedKeyUsage purposes of *cert* (dotted), or ``None`` when absent/unreadable."""
    try:
        value = cert.extended_key_usage_value
        return None if value is None else tuple(p.dotted for p in value)
    except BUILTIN_PARSE_ERRORS:
        return None


def _key_findings(
    context: Context, cert: Any, who: str, code: str, file: str | None
) -> list[Finding]:
    """Weak-key, weak-hash and extendedKeyUsage findings for a DS or CSCA certificate."""
    out: list[Finding] = []
    policy = context.policy
    key = describe_public_key(cert.public_key)
    if key.algorithm == "rsa" and key.size is not None and key.size < policy.min_rsa_bits:
        out.append(
            Finding(
                FindingCode(f"{code}.rsa_key_size"),
                f"the {who} key is RSA-{key.size}, under {policy.min_rsa_bits} bits",
                file,
            )
        )
    try:
        hash_name: str | None = resolve_signature_algorithm(cert["signature_algorithm"]).hash
    except _ALGORITHM_ERRORS:
        hash_name = None
    if hash_name in policy.weak_hashes:
        label = "SHA-1" if hash_name == "sha1" else str(hash_name)
        out.append(
            Finding(
                FindingCode(f"{code}.sha1" if hash_name == "sha1" else f"{code}.weak_hash"),
                f"the {who} certificate is signed with {label}, which is deprecated",
                file,
            )
        )
    purposes = _extended_key_usage(cert)
    if purposes is not None:
        out.append(
            Finding(
                FindingCode(f"{code}.extended_key_usage"),
                f"the {who} certificate has an extendedKeyUsage ({', '.join(purposes)}), which "
                "the 9303-12 §7.1.1 profile does not include",
                file,
            )
        )
    return out


def _csca_findings(context: Context, anchor: TrustAnchor) -> None:
    """Findings for the CSCA that verified the DS certificate (key, hash, EKU)."""
    context.findings.extend(_key_findings(context, anchor.certificate, "CSCA", "csca", None))


def _scheme_text(scheme: SignatureScheme) -> str:
    """``ecdsa-sha384 on explicit parameters = brainpoolP384r1``, or the scheme alone."""
    return str(scheme) if scheme.curve is None else f"{scheme} on {scheme.curve}"


def _anchor_evidence(
    evidence: dict[str, EvidenceValue], anchor: TrustAnchor, match: str, scheme: SignatureScheme
) -> None:
    not_before, not_after = validity(anchor.certificate)
    evidence.update(
        {
            "csca_subject": anchor.subject,
            "csca_serial": format(int(anchor.certificate.serial_number), "x"),
            "csca_key_identifier": hex_or_none(anchor.key_identifier),
            "csca_source": anchor.source,
            "csca_match": match,
            "signature_algorithm": str(scheme),
            "csca_curve": scheme.curve,
            "csca_not_before": not_before,
            "csca_not_after": not_after,
        }
    )


def check_issuing_state(context: Context) -> Check:
    """``dg1.issuing_state``: DG1's issuing state against the CSCA's and the DS names' country.

    Compared with every country that is known: the subject country of the
    CSCA whose key verified the DS certificate (:attr:`Context.anchor`, when
    ``ds.issuer`` found one: the country that actually vouched for the
    document), the DS issuer country and the DS subject country (9303-12
    §7.1.1 requires C in both DS names; some test PKIs, BSI 2008, omit it in
    the issuer, and then the others are compared). Any disagreement is a
    FAIL; no country at all is an ERROR. DG1 is the document's parsed view
    (parsed once); a DG1 that does not parse is an ERROR naming only the
    exception type, since a parser message may quote MRZ content.
    """
    name = CheckName.DG1_ISSUING_STATE
    ds = context.require_ds()
    anchor = context.anchor
    countries = {
        "csca_country": None if anchor is None else anchor.country,
        "ds_issuer_country": name_country(ds.issuer),
        "ds_subject_country": name_country(ds.subject),
    }
    compared = {key: value for key, value in countries.items() if value is not None}
    evidence: dict[str, EvidenceValue] = {
        **countries,
        "compared_with": tuple(compared),
    }
    try:
        dg1 = context.document.dg1
    except _DG1_ERRORS as exc:
        return Check(
            name,
            CheckStatus.ERROR,
            f"issuing state not read from DG1 ({type(exc).__name__})",
            evidence,
        )
    if dg1 is None:  # the step runs only when DG1 is present
        raise LookupError("dg1.issuing_state ran without DG1")
    code = dg1.mrz.issuing_state.replace("<", "").strip().upper()
    evidence["dg1_issuing_state"] = code
    allowed = certificate_countries(code, context.policy.issuing_state_countries)
    evidence["dg1_issuing_state_alpha2"] = alpha2(code)
    evidence["accepted_countries"] = None if allowed is None else tuple(sorted(allowed))
    if allowed is not None and not allowed:
        return Check(
            name,
            CheckStatus.SKIP,
            f"issuing state {code} names no country (9303-3 §5), so there is nothing to compare",
            evidence,
            required=False,
        )
    if allowed is None or not compared:
        what = (
            f"issuing state {code!r} has no ISO 3166 code"
            if allowed is None
            else "the DS certificate names no country and no CSCA verified it"
        )
        return Check(name, CheckStatus.ERROR, f"cannot compare: {what}", evidence)
    code_alpha2 = "/".join(sorted(allowed))
    labels = {
        "csca_country": "the CSCA's country",
        "ds_issuer_country": "the DS certificate's issuer country",
        "ds_subject_country": "the DS certificate's subject country",
    }
    differing = [
        f"{labels[key]} {value}" for key, value in compared.items() if value not in allowed
    ]
    if differing:
        return Check(
            name,
            CheckStatus.FAIL,
            f"DG1 issuing state {code} ({code_alpha2}) differs from " + ", ".join(differing),
            evidence,
        )
    what = " and ".join(labels[key] for key in compared)
    countries_seen = "/".join(sorted(set(compared.values())))
    return Check(
        name,
        CheckStatus.PASS,
        f"DG1 issuing state {code} matches {what} {countries_seen}",
        evidence,
    )


# --- time: the signing time and validity at the check time (epass.pa.policy) ---------------


def signing_time(context: Context) -> SigningTime:
    """The signing time of the signed object in *context* (:mod:`epass.pa.policy`)."""
    signed = context.signed
    attribute = None if signed is None else signed.signer_info.signing_time
    return find_signing_time(attribute, context.data_groups.get(12), context.policy)


def _document_expiry(context: Context) -> date | None:
    if LdsFile.DG1 not in context.document:
        return None
    try:
        dg1 = context.document.dg1
        return None if dg1 is None else dg1.mrz.date_of_expiry.to_date()
    except _DG1_ERRORS:
        return None


def time_findings(context: Context) -> list[Finding]:
    """Validity at the check time, beside the verdict (never part of it).

    ``document.expired`` (the date is not repeated: it is personal data),
    ``ds.expired_before_document`` (warning: an issuer error),
    ``ds.expired_signing_time_unknown`` (warning), ``ds.expired`` (the DS
    certificate has expired since the signing time), ``csca.expired``.
    """
    at = context.at
    out: list[Finding] = []
    expiry = _document_expiry(context)
    if expiry is not None and at.date() > expiry:
        out.append(
            Finding(
                FindingCode.DOCUMENT_EXPIRED,
                "the document has expired (see its date of expiry): an expired document is "
                "not a forgery; its expiry is reported here, beside the verdict",
                LdsFile.DG1.label,
            )
        )
    ds = context.ds
    if ds is not None:
        _, ds_not_after = validity(ds)
        if expiry is not None and ds_not_after.date() < expiry:
            verb = "expired" if at > ds_not_after else "expires"
            out.append(
                Finding(
                    FindingCode.DS_EXPIRED_BEFORE_DOCUMENT,
                    f"DS certificate {verb} on {ds_not_after.date().isoformat()}, before the "
                    "document's own expiry (an issuer error: 9303-12 §7.1 makes the DS "
                    "certificate outlive the documents it signs)",
                    None,
                )
            )
        elif at > ds_not_after and signing_time(context).when is None:
            out.append(
                Finding(
                    FindingCode.DS_EXPIRED_SIGNING_TIME_UNKNOWN,
                    f"signing time unknown, DS certificate expired at the check time (on "
                    f"{ds_not_after.date().isoformat()}): the document may have been signed "
                    "within its validity, which nothing here proves or disproves",
                    None,
                )
            )
        elif at > ds_not_after:
            out.append(
                Finding(
                    FindingCode.DS_EXPIRED,
                    f"DS certificate expired on {ds_not_after.date().isoformat()}, after the "
                    "signing time: normal for an older document, not part of the verdict",
                    None,
                )
            )
    anchor = context.anchor
    if anchor is not None:
        _, csca_not_after = validity(anchor.certificate)
        if at > csca_not_after:
            out.append(
                Finding(
                    FindingCode.CSCA_EXPIRED,
                    f"CSCA certificate {anchor.subject} expired on "
                    f"{csca_not_after.date().isoformat()} (judged at the signing time)",
                    None,
                )
            )
    return out
