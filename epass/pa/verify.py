"""Passive authentication (ICAO Doc 9303-11 §5.1; 9303-10 §4.6.2; 9303-12 §7).

:func:`verify` checks a set of LDS files against their EF.SOD and a trust
store, offline and with the time given explicitly. Each step is one
:class:`~epass.pa.report.Check`, in this order:

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
    the DS certificate is valid at ``at`` and, if the SOD carries a
    signing-time attribute, at that time (shell model; RFC 5280 §4.1.2.5).
``ds.issuer``
    the DS certificate's signature verifies under a CSCA of the trust store
    that is itself valid at ``at`` (9303-11 §5.1 step 1, 9303-12 §7).
``dg1.issuing_state``
    the issuing state in DG1's MRZ matches the DS certificate's issuer
    country (9303-12 §7.1.1: the country in the DS and CSCA names).

A failed check is data, never an exception; the verdict follows the rule in
:mod:`epass.pa.report`. Exceptions are raised only for misuse (a naive
datetime, a file name that is not an LDS file). No flag disables any check.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from epass._crypto.signatures import (
    ExplicitCurveParametersError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
    describe_public_key,
    digest,
    resolve_signature_algorithm,
    verify_certificate_signature,
    verify_signature,
)
from epass.errors import EpassError, ParseError
from epass.lds import sod as sod_module
from epass.lds.asn1 import format_name, load_certificate, name_country
from epass.lds.files import canonical_name
from epass.pa.report import (
    CertificateInfo,
    Check,
    CheckStatus,
    DataGroupResult,
    DataGroupStatus,
    EvidenceValue,
    Report,
    SodSummary,
)
from epass.pa.trust import TrustAnchor, TrustStore

__all__ = [
    "CHECK_DG_HASHES",
    "CHECK_DS_ISSUER",
    "CHECK_DS_VALIDITY",
    "CHECK_ISSUING_STATE",
    "CHECK_MESSAGE_DIGEST",
    "CHECK_SIGNATURE",
    "CHECK_SOD",
    "ICAO_TO_ISO_ALPHA2",
    "certificate_info",
    "find_ds_certificate",
    "verify",
]

CHECK_SOD = "sod.parse"
CHECK_DG_HASHES = "dg.hashes"
CHECK_MESSAGE_DIGEST = "sod.message_digest"
CHECK_SIGNATURE = "sod.signature"
CHECK_DS_VALIDITY = "ds.validity"
CHECK_DS_ISSUER = "ds.issuer"
CHECK_ISSUING_STATE = "dg1.issuing_state"

_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)

# ISO 3166-1 alpha-3 -> alpha-2 (all 249 codes; from the Debian iso-codes ISO 3166-1 table),
# packed as "AAABB" tokens.
_ISO3166 = """
ABWAW AFGAF AGOAO AIAAI ALAAX ALBAL ANDAD AREAE ARGAR ARMAM ASMAS ATAAQ ATFTF ATGAG AUSAU
AUTAT AZEAZ BDIBI BELBE BENBJ BESBQ BFABF BGDBD BGRBG BHRBH BHSBS BIHBA BLMBL BLRBY BLZBZ
BMUBM BOLBO BRABR BRBBB BRNBN BTNBT BVTBV BWABW CAFCF CANCA CCKCC CHECH CHLCL CHNCN CIVCI
CMRCM CODCD COGCG COKCK COLCO COMKM CPVCV CRICR CUBCU CUWCW CXRCX CYMKY CYPCY CZECZ DEUDE
DJIDJ DMADM DNKDK DOMDO DZADZ ECUEC EGYEG ERIER ESHEH ESPES ESTEE ETHET FINFI FJIFJ FLKFK
FRAFR FROFO FSMFM GABGA GBRGB GEOGE GGYGG GHAGH GIBGI GINGN GLPGP GMBGM GNBGW GNQGQ GRCGR
GRDGD GRLGL GTMGT GUFGF GUMGU GUYGY HKGHK HMDHM HNDHN HRVHR HTIHT HUNHU IDNID IMNIM INDIN
IOTIO IRLIE IRNIR IRQIQ ISLIS ISRIL ITAIT JAMJM JEYJE JORJO JPNJP KAZKZ KENKE KGZKG KHMKH
KIRKI KNAKN KORKR KWTKW LAOLA LBNLB LBRLR LBYLY LCALC LIELI LKALK LSOLS LTULT LUXLU LVALV
MACMO MAFMF MARMA MCOMC MDAMD MDGMG MDVMV MEXMX MHLMH MKDMK MLIML MLTMT MMRMM MNEME MNGMN
MNPMP MOZMZ MRTMR MSRMS MTQMQ MUSMU MWIMW MYSMY MYTYT NAMNA NCLNC NERNE NFKNF NGANG NICNI
NIUNU NLDNL NORNO NPLNP NRUNR NZLNZ OMNOM PAKPK PANPA PCNPN PERPE PHLPH PLWPW PNGPG POLPL
PRIPR PRKKP PRTPT PRYPY PSEPS PYFPF QATQA REURE ROURO RUSRU RWARW SAUSA SDNSD SENSN SGPSG
SGSGS SHNSH SJMSJ SLBSB SLESL SLVSV SMRSM SOMSO SPMPM SRBRS SSDSS STPST SURSR SVKSK SVNSI
SWESE SWZSZ SXMSX SYCSC SYRSY TCATC TCDTD TGOTG THATH TJKTJ TKLTK TKMTM TLSTL TONTO TTOTT
TUNTN TURTR TUVTV TWNTW TZATZ UGAUG UKRUA UMIUM URYUY USAUS UZBUZ VATVA VCTVC VENVE VGBVG
VIRVI VNMVN VUTVU WLFWF WSMWS YEMYE ZAFZA ZMBZM ZWEZW
"""
#: MRZ issuing-state code (9303-3 §5) -> the ISO 3166-1 alpha-2 code in certificates.
#: Adds the Doc 9303 codes outside ISO 3166-1 alpha-3 that have a certificate country:
#: ``D`` (Germany), the ``GB?`` British codes, ``EUE`` (European Union), ``RKS``
#: (Kosovo, C=XK) and ``UTO`` (Utopia, the fictional state of 9303 specimens and of
#: the epass TEST PKI, C=UT).
ICAO_TO_ISO_ALPHA2: Mapping[str, str] = {
    **{tok[:3]: tok[3:] for tok in _ISO3166.split()},
    "D": "DE",
    "GBD": "GB",
    "GBN": "GB",
    "GBO": "GB",
    "GBP": "GB",
    "GBS": "GB",
    "EUE": "EU",
    "RKS": "XK",
    "UTO": "UT",
}


# --- helpers -----------------------------------------------------------------------------------


def _hex(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).hex()


def _validity(cert: Any) -> tuple[datetime, datetime]:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native, validity["not_after"].native


def _valid_at(cert: Any, when: datetime) -> bool:
    not_before, not_after = _validity(cert)
    return bool(not_before <= when <= not_after)


def _signature_algorithm_name(algorithm: Any, digest_algorithm: str | None = None) -> str:
    try:
        return str(resolve_signature_algorithm(algorithm, digest_algorithm=digest_algorithm))
    except UnsupportedAlgorithmError:
        return str(algorithm["algorithm"].native)


def certificate_info(cert: Any, *, source: str | None = None) -> CertificateInfo:
    """Summarise an asn1crypto certificate for a report."""
    not_before, not_after = _validity(cert)
    key = describe_public_key(cert.public_key)
    return CertificateInfo(
        subject=format_name(cert.subject),
        issuer=format_name(cert.issuer),
        serial=format(int(cert.serial_number), "x"),
        key_identifier=_hex(cert.key_identifier),
        authority_key_identifier=_hex(cert.authority_key_identifier),
        not_before=not_before,
        not_after=not_after,
        signature_algorithm=_signature_algorithm_name(cert["signature_algorithm"]),
        public_key_algorithm=key.algorithm,
        public_key_size=key.size,
        curve=key.curve,
        country=name_country(cert.subject),
        sha256=hashlib.sha256(cert.dump()).hexdigest(),
        source=source,
    )


def find_ds_certificate(
    signer_info: sod_module.SignerInfo, certificates: Iterable[Any]
) -> Any | None:
    """The certificate the SignerIdentifier names, from a caller-supplied list.

    For SODs that do not embed their DS certificate (RFC 5652 §5.3 allows
    that; 9303-10 §4.6.2.2 recommends embedding it).

    :param certificates: DER bytes or asn1crypto certificates.
    :raises ParseError: if a supplied DER certificate is malformed.
    """
    for index, item in enumerate(certificates):
        cert = (
            load_certificate(bytes(item), file=f"certificate #{index}")
            if isinstance(item, bytes | bytearray | memoryview)
            else item
        )
        if signer_info.matches(cert):
            return cert
    return None


def _normalise_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, data in files.items():
        label = canonical_name(name)  # ValueError for a name that is not an LDS file
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"{name}: expected bytes, got {type(data).__name__}")
        if label in out and out[label] != bytes(data):
            raise ValueError(f"two different files given for {label}")
        out[label] = bytes(data)
    return out


def _skipped(name: str, why: str) -> Check:
    return Check(name, CheckStatus.SKIP, why)


# --- the steps ---------------------------------------------------------------------------------


def _check_parse(raw: bytes | None) -> tuple[Check, sod_module.Sod | None]:
    if raw is None:
        return _skipped(CHECK_SOD, "EF.SOD was not supplied: nothing can be authenticated"), None
    try:
        sod = sod_module.parse(raw)
    except ParseError as exc:
        return (
            Check(
                CHECK_SOD,
                CheckStatus.FAIL,
                f"EF.SOD is malformed: {exc.reason}",
                {"offset": exc.offset, "size": len(raw), "sha256": hashlib.sha256(raw).digest()},
            ),
            None,
        )
    si = sod.signer_info
    algorithm = _signature_algorithm_name(si.signature_algorithm, si.digest_algorithm)
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
    return Check(CHECK_SOD, CheckStatus.PASS, detail, evidence), sod


def _check_data_groups(
    sod: sod_module.Sod | None, given: Mapping[int, bytes]
) -> tuple[Check, list[DataGroupResult]]:
    results: list[DataGroupResult] = []
    if sod is None:
        return (
            Check(
                CHECK_DG_HASHES,
                CheckStatus.SKIP,
                "no usable EF.SOD: data groups not checked",
                {"unchecked": tuple(f"DG{n}" for n in sorted(given))},
            ),
            results,
        )

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
                _hex(expected),
                _hex(actual),
                None if data is None else len(data),
            )
        )

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
        return Check(CHECK_DG_HASHES, CheckStatus.FAIL, "; ".join(parts), evidence), results
    if not supported:
        return (
            Check(
                CHECK_DG_HASHES,
                CheckStatus.ERROR,
                f"hash algorithm {algorithm} is not supported: data groups not checked",
                evidence,
            ),
            results,
        )
    if not matched:
        return (
            Check(CHECK_DG_HASHES, CheckStatus.SKIP, "no data group was supplied", evidence),
            results,
        )
    detail = f"{len(matched)} data group hashes ({algorithm}) match: {', '.join(matched)}"
    if not_read:
        detail += f"; in EF.SOD but not supplied: {', '.join(not_read)}"
    return Check(CHECK_DG_HASHES, CheckStatus.PASS, detail, evidence), results


def _check_message_digest(sod: sod_module.Sod) -> Check:
    si = sod.signer_info
    evidence: dict[str, EvidenceValue] = {
        "digest_algorithm": si.digest_algorithm,
        "econtent_type": sod.econtent_type,
        "content_type_attribute": si.content_type,
        "message_digest_attribute": si.message_digest,
        "signed_attributes": tuple(si.signed_attr_types),
    }
    if si.signed_attrs is None:
        return Check(
            CHECK_MESSAGE_DIGEST,
            CheckStatus.FAIL,
            "SignerInfo has no signed attributes (9303-10 §4.6.2.2 requires them)",
            evidence,
        )
    if si.content_type is None or si.message_digest is None:
        missing = "content-type" if si.content_type is None else "message-digest"
        return Check(
            CHECK_MESSAGE_DIGEST,
            CheckStatus.FAIL,
            f"signed attributes lack the {missing} attribute (RFC 5652 §5.3)",
            evidence,
        )
    if si.content_type != sod.econtent_type:
        return Check(
            CHECK_MESSAGE_DIGEST,
            CheckStatus.FAIL,
            f"content-type attribute {si.content_type} differs from eContentType "
            f"{sod.econtent_type} (RFC 5652 §11.1)",
            evidence,
        )
    try:
        actual = digest(si.digest_algorithm, sod.econtent)
    except UnsupportedAlgorithmError as exc:
        return Check(CHECK_MESSAGE_DIGEST, CheckStatus.ERROR, str(exc), evidence)
    evidence["econtent_digest"] = actual
    if actual != si.message_digest:
        return Check(
            CHECK_MESSAGE_DIGEST,
            CheckStatus.FAIL,
            f"messageDigest attribute does not equal the {si.digest_algorithm} of the eContent "
            "(RFC 5652 §11.2): the data group hashes are not the ones signed",
            evidence,
        )
    return Check(
        CHECK_MESSAGE_DIGEST,
        CheckStatus.PASS,
        f"messageDigest equals the {si.digest_algorithm} of the eContent; content-type matches",
        evidence,
    )


def _check_signature(sod: sod_module.Sod, ds: Any | None) -> Check:
    si = sod.signer_info
    evidence: dict[str, EvidenceValue] = {
        "signature_algorithm": _signature_algorithm_name(
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
            CHECK_SIGNATURE,
            CheckStatus.ERROR,
            "the DS certificate named by the SignerInfo is neither in EF.SOD nor supplied",
            evidence,
        )
    evidence["ds_subject"] = format_name(ds.subject)
    evidence["ds_serial"] = format(int(ds.serial_number), "x")
    key = describe_public_key(ds.public_key)
    evidence["ds_public_key"] = f"{key.algorithm} {key.size or '?'}" + (
        f" {key.curve}" if key.curve else ""
    )
    if si.signed_attrs is None:
        return Check(
            CHECK_SIGNATURE,
            CheckStatus.FAIL,
            "no signed attributes to verify (9303-10 §4.6.2.2 requires them)",
            evidence,
        )
    evidence["signed_attributes_sha256"] = hashlib.sha256(si.signed_attrs).digest()
    try:
        scheme = verify_signature(
            ds.public_key,
            si.signature_algorithm,
            si.signed_attrs,
            si.signature,
            digest_algorithm=si.digest_algorithm,
        )
    except ExplicitCurveParametersError:
        return Check(
            CHECK_SIGNATURE,
            CheckStatus.ERROR,
            "the DS key uses explicit EC parameters: not yet supported, signature not checked",
            evidence,
        )
    except UnsupportedAlgorithmError as exc:
        return Check(CHECK_SIGNATURE, CheckStatus.ERROR, f"signature not checked: {exc}", evidence)
    except InvalidSignatureError as exc:
        return Check(
            CHECK_SIGNATURE,
            CheckStatus.FAIL,
            f"the SOD signature does not verify with the DS key: {exc}",
            evidence,
        )
    evidence["signature_algorithm"] = str(scheme)
    return Check(
        CHECK_SIGNATURE,
        CheckStatus.PASS,
        f"the {scheme} signature over the signed attributes verifies with the DS key",
        evidence,
    )


def _check_ds_validity(sod: sod_module.Sod, ds: Any | None, at: datetime) -> Check:
    if ds is None:
        return _skipped(CHECK_DS_VALIDITY, "no DS certificate")
    not_before, not_after = _validity(ds)
    signing_time = sod.signer_info.signing_time
    evidence: dict[str, EvidenceValue] = {
        "not_before": not_before,
        "not_after": not_after,
        "checked_at": at,
        "signing_time": signing_time,
        "ds_serial": format(int(ds.serial_number), "x"),
    }
    if not _valid_at(ds, at):
        when = "expired on" if at > not_after else "not valid before"
        edge = not_after if at > not_after else not_before
        return Check(
            CHECK_DS_VALIDITY,
            CheckStatus.FAIL,
            f"DS certificate {when} {edge.isoformat()} (checked at {at.isoformat()})",
            evidence,
        )
    if signing_time is not None and not _valid_at(ds, signing_time):
        return Check(
            CHECK_DS_VALIDITY,
            CheckStatus.FAIL,
            f"signing time {signing_time.isoformat()} is outside the DS certificate's validity",
            evidence,
        )
    detail = f"DS certificate valid at {at.isoformat()}"
    if signing_time is not None:
        detail += f" and at the signing time {signing_time.isoformat()}"
    return Check(CHECK_DS_VALIDITY, CheckStatus.PASS, detail, evidence)


def _check_ds_issuer(
    ds: Any | None, trust_store: TrustStore, at: datetime
) -> tuple[Check, TrustAnchor | None]:
    if ds is None:
        return _skipped(CHECK_DS_ISSUER, "no DS certificate"), None
    aki = ds.authority_key_identifier
    country = name_country(ds.issuer)
    evidence: dict[str, EvidenceValue] = {
        "ds_issuer": format_name(ds.issuer),
        "ds_authority_key_identifier": _hex(aki),
        "issuer_country": country,
        "ds_signature_algorithm": _signature_algorithm_name(ds["signature_algorithm"]),
        "trust_store_size": len(trust_store),
    }
    candidates = trust_store.issuers_of(ds)
    evidence["candidates"] = tuple(
        f"{c.anchor.subject} [{c.match}{', other key id' if c.key_identifier_conflict else ''}] "
        f"from {c.anchor.source}"
        for c in candidates
    )
    if not candidates:
        same_country = len(trust_store.by_country(country)) if country else 0
        return (
            Check(
                CHECK_DS_ISSUER,
                CheckStatus.SKIP,
                f"no CSCA in the trust store for issuer {format_name(ds.issuer)}"
                + (f" (key id {aki.hex()})" if aki else "")
                + f"; {same_country} anchors for country {country or '?'}",
                evidence,
            ),
            None,
        )
    invalid_strong: list[str] = []
    unsupported: list[str] = []
    rejected_weak: list[str] = []
    for cand in candidates:
        anchor = cand.anchor
        try:
            scheme = verify_certificate_signature(ds, anchor.certificate)
        except UnsupportedAlgorithmError as exc:
            reason = (
                "explicit EC parameters not yet supported"
                if isinstance(exc, ExplicitCurveParametersError)
                else str(exc)
            )
            unsupported.append(f"{anchor.subject}: {reason}")
            continue
        except InvalidSignatureError:
            strong = cand.match == "key_identifier" or not cand.key_identifier_conflict
            (invalid_strong if strong else rejected_weak).append(anchor.subject)
            continue
        evidence.update(
            {
                "csca_subject": anchor.subject,
                "csca_serial": format(int(anchor.certificate.serial_number), "x"),
                "csca_key_identifier": _hex(anchor.key_identifier),
                "csca_source": anchor.source,
                "csca_match": cand.match,
                "signature_algorithm": str(scheme),
            }
        )
        not_before, not_after = _validity(anchor.certificate)
        evidence["csca_not_before"] = not_before
        evidence["csca_not_after"] = not_after
        if not _valid_at(anchor.certificate, at):
            return (
                Check(
                    CHECK_DS_ISSUER,
                    CheckStatus.FAIL,
                    f"DS certificate verifies under CSCA {anchor.subject}, but that CSCA is not "
                    f"valid at {at.isoformat()} ({not_before.isoformat()} .. "
                    f"{not_after.isoformat()})",
                    evidence,
                ),
                anchor,
            )
        return (
            Check(
                CHECK_DS_ISSUER,
                CheckStatus.PASS,
                f"DS certificate signature ({scheme}) verifies under CSCA {anchor.subject} "
                f"from {anchor.source}",
                evidence,
            ),
            anchor,
        )
    evidence["invalid_under"] = tuple(invalid_strong)
    evidence["unsupported"] = tuple(unsupported)
    evidence["other_keys"] = tuple(rejected_weak)
    if invalid_strong:
        return (
            Check(
                CHECK_DS_ISSUER,
                CheckStatus.FAIL,
                "DS certificate signature does not verify under the matching CSCA "
                + "; ".join(invalid_strong),
                evidence,
            ),
            None,
        )
    if unsupported:
        return (
            Check(
                CHECK_DS_ISSUER,
                CheckStatus.ERROR,
                "DS certificate signature not checked: " + "; ".join(unsupported),
                evidence,
            ),
            None,
        )
    return (
        Check(
            CHECK_DS_ISSUER,
            CheckStatus.SKIP,
            "no CSCA with the DS certificate's key identifier in the trust store; CSCAs of the "
            "same name but another key do not verify it",
            evidence,
        ),
        None,
    )


def _dg1_issuing_state(dg1: bytes) -> str:
    """The issuing-state code of DG1's MRZ via :mod:`epass.lds.dg1`.

    :raises ImportError: if the DG1 parser is not available.
    :raises LookupError: if its result carries no issuing state.
    """
    module = importlib.import_module("epass.lds.dg1")
    parsed = module.parse(dg1)
    for holder in (parsed, getattr(parsed, "mrz", None)):
        if holder is None:
            continue
        for attr in ("issuing_state", "issuing_country", "issuer"):
            value = getattr(holder, attr, None)
            if value is not None:
                return str(getattr(value, "value", value))
    raise LookupError("the DG1 parser exposes no issuing state")


def _check_issuing_state(dg1: bytes | None, ds: Any | None) -> Check:
    if dg1 is None:
        return Check(
            CHECK_ISSUING_STATE,
            CheckStatus.SKIP,
            "DG1 not supplied: no issuing state to compare",
            required=False,
        )
    if ds is None:
        return _skipped(CHECK_ISSUING_STATE, "no DS certificate")
    issuer_country = name_country(ds.issuer)
    subject_country = name_country(ds.subject)
    # 9303-12 §7.1.1 requires C in both names; some test PKIs (BSI 2008) omit it in the issuer,
    # then the DS subject's country (also set by the CSCA) is compared instead.
    ds_country = issuer_country or subject_country
    evidence: dict[str, EvidenceValue] = {
        "ds_issuer_country": issuer_country,
        "ds_subject_country": subject_country,
        "compared_with": "ds_issuer_country" if issuer_country else "ds_subject_country",
    }
    try:
        code = _dg1_issuing_state(dg1)
    except ImportError:
        return Check(
            CHECK_ISSUING_STATE,
            CheckStatus.SKIP,
            "DG1 parser (epass.lds.dg1) not available: issuing state not compared",
            evidence,
        )
    except (EpassError, LookupError, *_ASN1_ERRORS) as exc:
        # The parser's message may quote MRZ content: report only the error type.
        return Check(
            CHECK_ISSUING_STATE,
            CheckStatus.ERROR,
            f"issuing state not read from DG1 ({type(exc).__name__})",
            evidence,
        )
    code = code.replace("<", "").strip().upper()
    evidence["dg1_issuing_state"] = code
    alpha2 = ICAO_TO_ISO_ALPHA2.get(code)
    evidence["dg1_issuing_state_alpha2"] = alpha2
    if alpha2 is None or ds_country is None:
        what = (
            f"issuing state {code!r} has no ISO 3166 code"
            if alpha2 is None
            else "the DS certificate names no country"
        )
        return Check(CHECK_ISSUING_STATE, CheckStatus.ERROR, f"cannot compare: {what}", evidence)
    if alpha2 != ds_country:
        return Check(
            CHECK_ISSUING_STATE,
            CheckStatus.FAIL,
            f"DG1 issuing state {code} ({alpha2}) differs from the DS certificate's country "
            f"{ds_country}",
            evidence,
        )
    return Check(
        CHECK_ISSUING_STATE,
        CheckStatus.PASS,
        f"DG1 issuing state {code} matches the DS certificate's country {ds_country}",
        evidence,
    )


def _sod_summary(sod: sod_module.Sod) -> SodSummary:
    si = sod.signer_info
    return SodSummary(
        econtent_type=sod.econtent_type,
        version=sod.version,
        hash_algorithm=sod.hash_algorithm,
        digest_algorithm=si.digest_algorithm,
        signature_algorithm=_signature_algorithm_name(si.signature_algorithm, si.digest_algorithm),
        data_groups=tuple(sod.dg_hashes),
        lds_version=sod.lds_version,
        unicode_version=sod.unicode_version,
        signing_time=si.signing_time,
        size=len(sod.raw),
        sha256=hashlib.sha256(sod.raw).hexdigest(),
    )


# --- entry point -------------------------------------------------------------------------------


def verify(
    files: Mapping[str, bytes],
    trust_store: TrustStore,
    *,
    at: datetime,
    certificates: Iterable[bytes] = (),
) -> Report:
    """Passive authentication of *files* (9303-11 §5.1), as the module docstring describes.

    :param files: file name -> bytes as read; names as :func:`epass.lds.files.canonical_name`
        accepts (``"EF.SOD"``, ``"DG1"``, ``"EF_COM.bin"``). Files other than
        EF.SOD and DG1..DG16 are accepted and ignored (EF.COM is not signed).
    :param trust_store: the CSCA anchors.
    :param at: the time to check certificate validity at; must be timezone-aware.
    :param certificates: extra DER certificates to find the DS in when EF.SOD
        does not embed it.
    :raises ValueError: for a naive *at*, a name that is not an LDS file, or
        two different files under one name.
    :raises TypeError: for a trust store or file content of the wrong type.
    """
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("verify(at=...) needs a timezone-aware datetime")
    if not isinstance(trust_store, TrustStore):
        raise TypeError(f"trust_store must be a TrustStore, not {type(trust_store).__name__}")
    named = _normalise_files(files)
    extra = tuple(certificates)
    given: dict[int, bytes] = {}
    for label, data in named.items():
        if label.startswith("DG"):
            given[int(label[2:])] = data

    checks: list[Check] = []
    parse_check, sod = _check_parse(named.get(sod_module.FILE))
    checks.append(parse_check)
    dg_check, dg_results = _check_data_groups(sod, given)
    checks.append(dg_check)
    signer_info: CertificateInfo | None = None
    anchor_info: CertificateInfo | None = None
    summary: SodSummary | None = None
    if sod is None:
        why = "no usable EF.SOD"
        for name in (CHECK_MESSAGE_DIGEST, CHECK_SIGNATURE, CHECK_DS_VALIDITY, CHECK_DS_ISSUER):
            checks.append(_skipped(name, why))
        if 1 in given:
            checks.append(_skipped(CHECK_ISSUING_STATE, why))
        else:
            checks.append(_check_issuing_state(None, None))
    else:
        summary = _sod_summary(sod)
        ds = sod.signer_certificate()
        if ds is None and extra:
            ds = find_ds_certificate(sod.signer_info, extra)
        checks.append(_check_message_digest(sod))
        checks.append(_check_signature(sod, ds))
        checks.append(_check_ds_validity(sod, ds, at))
        issuer_check, anchor = _check_ds_issuer(ds, trust_store, at)
        checks.append(issuer_check)
        checks.append(_check_issuing_state(given.get(1), ds))
        if ds is not None:
            signer_info = certificate_info(ds)
        if anchor is not None:
            anchor_info = certificate_info(anchor.certificate, source=anchor.source)
    return Report.build(
        checks=checks,
        data_groups=dg_results,
        signer=signer_info,
        anchor=anchor_info,
        checked_at=at,
        sod=summary,
    )
