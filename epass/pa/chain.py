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

from typing import Any

from epass._crypto.signatures import (
    ExplicitCurveParametersError,
    InvalidSignatureError,
    SignatureScheme,
    UnsupportedAlgorithmError,
    resolve_signature_algorithm,
    verify_certificate_signature,
)
from epass.errors import BUILTIN_PARSE_ERRORS, EpassError
from epass.iso3166 import alpha2
from epass.lds.asn1 import format_name, name_country, prepared_name, same_name
from epass.pa.certificates import (
    RECOGNISED_CRITICAL_EXTENSIONS,
    hex_or_none,
    signature_algorithm_name,
    valid_at,
    validity,
)
from epass.pa.context import Context
from epass.pa.report import Check, CheckName, CheckStatus, EvidenceValue, Finding, FindingCode
from epass.pa.trust import TrustAnchor, anchor_problem

__all__ = [
    "DS_RECOGNISED_EXTENSIONS",
    "check_ds_issuer",
    "check_ds_profile",
    "check_ds_validity",
    "check_issuing_state",
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
    """``ds.validity``: the DS certificate at the checked time and at the signing time."""
    name = CheckName.DS_VALIDITY
    ds = context.require_ds()
    at = context.at
    not_before, not_after = validity(ds)
    signing_time = context.require_signed().signer_info.signing_time
    evidence: dict[str, EvidenceValue] = {
        "not_before": not_before,
        "not_after": not_after,
        "checked_at": at,
        "signing_time": signing_time,
        "ds_serial": format(int(ds.serial_number), "x"),
    }
    if not valid_at(ds, at):
        when = "expired on" if at > not_after else "not valid before"
        edge = not_after if at > not_after else not_before
        return Check(
            name,
            CheckStatus.FAIL,
            f"DS certificate {when} {edge.isoformat()} (checked at {at.isoformat()})",
            evidence,
        )
    if signing_time is not None and not valid_at(ds, signing_time):
        return Check(
            name,
            CheckStatus.FAIL,
            f"signing time {signing_time.isoformat()} is outside the DS certificate's validity",
            evidence,
        )
    detail = f"DS certificate valid at {at.isoformat()}"
    if signing_time is not None:
        detail += f" and at the signing time {signing_time.isoformat()}"
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
    _ds_crypto_findings(context, ds, info.public_key_algorithm, info.public_key_size)
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


def _ds_crypto_findings(context: Context, ds: Any, algorithm: str, size: int | None) -> None:
    """Findings for a weak DS key or a SHA-1 DS certificate signature (not verdict changes)."""
    file = context.file if context.ds_source == "embedded" else None
    if algorithm == "rsa" and size is not None and size < MIN_RSA_BITS:
        context.findings.append(
            Finding(
                FindingCode.DS_RSA_KEY_SIZE,
                f"the DS key is RSA-{size}, under {MIN_RSA_BITS} bits",
                file,
            )
        )
    try:
        hash_name = resolve_signature_algorithm(ds["signature_algorithm"]).hash
    except _ALGORITHM_ERRORS:
        return
    if hash_name == "sha1":
        context.findings.append(
            Finding(
                FindingCode.DS_SHA1,
                "the DS certificate is signed with SHA-1, which is deprecated",
                file,
            )
        )


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
    at = context.at
    aki = ds.authority_key_identifier
    country = name_country(ds.issuer)
    evidence: dict[str, EvidenceValue] = {
        "ds_issuer": format_name(ds.issuer),
        "ds_authority_key_identifier": hex_or_none(aki),
        "issuer_country": country,
        "ds_signature_algorithm": signature_algorithm_name(ds["signature_algorithm"]),
        "trust_store_size": len(trust_store),
    }
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
        if not valid_at(anchor.certificate, at):
            # a link certificate or an older issue of the same CSCA key may have expired
            # while another certificate of that key is valid: try them all first
            expired.append((anchor, cand.match, scheme))
            continue
        context.anchor = anchor
        _anchor_evidence(evidence, anchor, cand.match, scheme)
        return Check(
            name,
            CheckStatus.PASS,
            f"DS certificate signature ({_scheme_text(scheme)}) verifies under CSCA "
            f"{anchor.subject} "
            f"from {anchor.source}",
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
            f"of that CSCA is valid at {at.isoformat()} ({not_before.isoformat()} .. "
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
    code_alpha2 = alpha2(code)
    evidence["dg1_issuing_state_alpha2"] = code_alpha2
    if code_alpha2 is None or not compared:
        what = (
            f"issuing state {code!r} has no ISO 3166 code"
            if code_alpha2 is None
            else "the DS certificate names no country and no CSCA verified it"
        )
        return Check(name, CheckStatus.ERROR, f"cannot compare: {what}", evidence)
    labels = {
        "csca_country": "the CSCA's country",
        "ds_issuer_country": "the DS certificate's issuer country",
        "ds_subject_country": "the DS certificate's subject country",
    }
    differing = [
        f"{labels[key]} {value}" for key, value in compared.items() if value != code_alpha2
    ]
    if differing:
        return Check(
            name,
            CheckStatus.FAIL,
            f"DG1 issuing state {code} ({code_alpha2}) differs from " + ", ".join(differing),
            evidence,
        )
    what = " and ".join(labels[key] for key in compared)
    return Check(
        name,
        CheckStatus.PASS,
        f"DG1 issuing state {code} matches {what} {code_alpha2}",
        evidence,
    )
