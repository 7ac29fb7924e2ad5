"""The DS certificate steps of passive authentication (ICAO Doc 9303-11 §5.1 step 1; 9303-12 §7).

``ds.validity``
    the DS certificate is valid at the checked time and, if the SOD carries a
    signing-time attribute, at that time (shell model; RFC 5280 §4.1.2.5).
``ds.issuer``
    the DS certificate's signature verifies under a CSCA of the trust store
    that is itself valid at the checked time (9303-12 §7).
``dg1.issuing_state``
    the issuing state in DG1's MRZ matches the DS certificate's country
    (9303-12 §7.1.1: the country is in the DS and CSCA names).

Each step is ``(Context) -> Check`` and runs only when its inputs are present
(:mod:`epass.pa.context`); :mod:`epass.pa.verify` lists them. Revocation
(CRLs) is not checked.
"""

from __future__ import annotations

from epass._crypto.signatures import (
    ExplicitCurveParametersError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
    verify_certificate_signature,
)
from epass.errors import BUILTIN_PARSE_ERRORS, EpassError
from epass.iso3166 import alpha2
from epass.lds.asn1 import format_name, name_country, prepared_name
from epass.pa.certificates import hex_or_none, signature_algorithm_name, valid_at, validity
from epass.pa.context import Context
from epass.pa.report import Check, CheckName, CheckStatus, EvidenceValue

__all__ = ["check_ds_issuer", "check_ds_validity", "check_issuing_state"]

#: What reading DG1's issuing state may raise: the parser's ParseError (or, from a
#: parser defect, a builtin error); reported as an ERROR naming only the type.
_DG1_ERRORS: tuple[type[Exception], ...] = (EpassError, *BUILTIN_PARSE_ERRORS)


def check_ds_validity(context: Context) -> Check:
    """``ds.validity``: the DS certificate at the checked time and at the signing time."""
    name = CheckName.DS_VALIDITY
    ds = context.require_ds()
    at = context.at
    not_before, not_after = validity(ds)
    signing_time = context.require_sod().signer_info.signing_time
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


def check_ds_issuer(context: Context) -> Check:
    """``ds.issuer``: the DS certificate verifies under a CSCA valid at the checked time.

    Candidates come from :meth:`TrustStore.issuers_of` (key identifier first,
    then name). A signature that fails under a CSCA matched by key identifier
    (or by name without a conflicting key identifier) is a FAIL; failing only
    under same-name CSCAs with another key proves nothing (SKIP). Sets
    :attr:`Context.anchor` to the CSCA that verified.
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
    for cand in candidates:
        anchor = cand.anchor
        try:
            scheme = verify_certificate_signature(ds, anchor.certificate)
        except UnsupportedAlgorithmError as exc:
            reason = (
                "keys with explicit EC parameters are not supported"
                if isinstance(exc, ExplicitCurveParametersError)
                else str(exc)
            )
            unsupported.append(f"{anchor.subject}: {reason}")
            continue
        except InvalidSignatureError:
            strong = cand.match == "key_identifier" or not cand.key_identifier_conflict
            (invalid_strong if strong else rejected_weak).append(anchor.subject)
            continue
        context.anchor = anchor
        evidence.update(
            {
                "csca_subject": anchor.subject,
                "csca_serial": format(int(anchor.certificate.serial_number), "x"),
                "csca_key_identifier": hex_or_none(anchor.key_identifier),
                "csca_source": anchor.source,
                "csca_match": cand.match,
                "signature_algorithm": str(scheme),
            }
        )
        not_before, not_after = validity(anchor.certificate)
        evidence["csca_not_before"] = not_before
        evidence["csca_not_after"] = not_after
        if not valid_at(anchor.certificate, at):
            return Check(
                name,
                CheckStatus.FAIL,
                f"DS certificate verifies under CSCA {anchor.subject}, but that CSCA is not "
                f"valid at {at.isoformat()} ({not_before.isoformat()} .. "
                f"{not_after.isoformat()})",
                evidence,
            )
        return Check(
            name,
            CheckStatus.PASS,
            f"DS certificate signature ({scheme}) verifies under CSCA {anchor.subject} "
            f"from {anchor.source}",
            evidence,
        )
    evidence["invalid_under"] = tuple(invalid_strong)
    evidence["unsupported"] = tuple(unsupported)
    evidence["other_keys"] = tuple(rejected_weak)
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
    return Check(
        name,
        CheckStatus.SKIP,
        "no CSCA with the DS certificate's key identifier in the trust store; CSCAs of the "
        "same name but another key do not verify it",
        evidence,
    )


def check_issuing_state(context: Context) -> Check:
    """``dg1.issuing_state``: DG1's issuing state against the DS certificate's country.

    9303-12 §7.1.1 requires C in both DS names; some test PKIs (BSI 2008) omit
    it in the issuer, and then the DS subject's country (also set by the CSCA)
    is compared instead. DG1 is the document's parsed view (parsed once); a
    DG1 that does not parse is an ERROR naming only the exception type, since
    a parser message may quote MRZ content.
    """
    name = CheckName.DG1_ISSUING_STATE
    ds = context.require_ds()
    issuer_country = name_country(ds.issuer)
    subject_country = name_country(ds.subject)
    ds_country = issuer_country or subject_country
    evidence: dict[str, EvidenceValue] = {
        "ds_issuer_country": issuer_country,
        "ds_subject_country": subject_country,
        "compared_with": "ds_issuer_country" if issuer_country else "ds_subject_country",
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
    if code_alpha2 is None or ds_country is None:
        what = (
            f"issuing state {code!r} has no ISO 3166 code"
            if code_alpha2 is None
            else "the DS certificate names no country"
        )
        return Check(name, CheckStatus.ERROR, f"cannot compare: {what}", evidence)
    if code_alpha2 != ds_country:
        return Check(
            name,
            CheckStatus.FAIL,
            f"DG1 issuing state {code} ({code_alpha2}) differs from the DS certificate's country "
            f"{ds_country}",
            evidence,
        )
    return Check(
        name,
        CheckStatus.PASS,
        f"DG1 issuing state {code} matches the DS certificate's country {ds_country}",
        evidence,
    )
