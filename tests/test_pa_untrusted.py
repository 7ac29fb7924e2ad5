"""Chip-supplied certificates that asn1crypto reads but cannot compare: reports, never exceptions.

RFC 5280 §7.1 compares names after the RFC 4518 string preparation, which refuses code
points unassigned in Unicode 3.2 (U+2066..U+2069, U+D7FF), private-use and non-character
code points. A DS certificate (or a CSCA) carrying such a name must still give a report:
the name then matches only a byte-identical name. RFC 5280 §4.1.2.5 and RFC 5652 §11.3
require validity and signing times in UTC; a time without a zone, or in year 0000, is a
malformed certificate or SignerInfo, not a crash (the signing time: tests/test_pa_steps.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import epass
from drivers.virtual.builder import build_document
from drivers.virtual.pki import TestPki, hash_data_groups, make_test_pki, sign_sod
from epass.access.keys import MrzKey
from epass.errors import ParseError
from epass.inspection import json_schema
from epass.lds.asn1 import aware_time, format_name, name_country, prepared_name, same_name
from epass.pa import CheckName, CheckStatus, TrustStore, Verdict, verify
from epass.pa.report import Report
from epass.tlv import encode as tlv_encode

AT = datetime(2026, 6, 1, tzinfo=UTC)
DG1 = b"\x61\x5b\x5f\x1f\x58" + (
    b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
DGS = {1: DG1}

#: Characters RFC 4518 string preparation (as asn1crypto implements it) refuses.
REFUSED = {
    "bidi isolates U+2066..U+2069": "CSCA \u2066isolated\u2069",
    "unassigned U+D7FF": "CSCA \ud7ff",
    "private use U+E000": "CSCA \ue000",
    "non-character U+FDD0": "CSCA \ufdd0",
}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(seed=b"untrusted names")


def _store(pki: TestPki) -> TrustStore:
    store = TrustStore()
    store.add(pki.csca_der, source="test-pki")
    return store


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def _ds(
    pki: TestPki,
    *,
    issuer: x509.Name | None = None,
    subject: x509.Name | None = None,
    authority_key_id: bool = False,
    signer: Any = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or pki.ds_cert.subject)
        .issuer_name(issuer or pki.csca_cert.subject)
        .public_key(pki.ds_key.public_key())
        .serial_number(4242)
        .not_valid_before(pki.ds_cert.not_valid_before_utc)
        .not_valid_after(pki.ds_cert.not_valid_after_utc)
    )
    if authority_key_id:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(pki.csca_cert)),
            critical=False,
        )
    return builder.sign(signer or pki.csca_key, hashes.SHA256())


def _files(ds: Any, pki: TestPki) -> dict[str, bytes]:
    sod = sign_sod(hash_data_groups(DGS), ds_key=pki.ds_key, ds_cert=ds)
    return {"EF.SOD": sod, "DG1": DG1}


def _json_round_trip(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return data


# --- the name helpers -------------------------------------------------------------------------


@pytest.mark.parametrize("common_name", REFUSED.values(), ids=REFUSED.keys())
def test_name_helpers_never_raise_on_refused_names(common_name: str):
    refused = asn1_x509.Name.load(_name(common_name).public_bytes())
    with pytest.raises(ValueError, match=r"X\.509 Name objects may not contain"):
        refused.hashable  # noqa: B018 - what the helpers must not let through
    assert prepared_name(refused) is None
    copy = asn1_x509.Name.load(refused.dump())
    assert same_name(refused, copy)  # byte-identical: equal without string preparation
    plain = asn1_x509.Name.build({"country_name": "UT", "common_name": "CSCA"})
    assert not same_name(refused, plain) and not same_name(plain, refused)
    assert common_name in format_name(refused)
    assert name_country(refused) == "UT"


def test_same_name_still_uses_the_rfc_5280_comparison():
    a = asn1_x509.Name.build({"country_name": "UT", "common_name": "Test  CSCA"})
    b = asn1_x509.Name.build({"country_name": "ut", "common_name": "test csca"})
    assert a.dump() != b.dump()
    assert prepared_name(a) is not None and same_name(a, b)


# --- the trust store -------------------------------------------------------------------------


@pytest.mark.parametrize("common_name", REFUSED.values(), ids=REFUSED.keys())
def test_trust_store_lookups_never_raise(pki: TestPki, common_name: str):
    store = _store(pki)
    ds = asn1_x509.Certificate.load(
        _ds(pki, issuer=_name(common_name)).public_bytes(serialization.Encoding.DER)
    )
    assert store.by_subject(ds.issuer) == ()
    assert store.issuers_of(ds) == ()


@pytest.mark.parametrize("common_name", REFUSED.values(), ids=REFUSED.keys())
def test_a_csca_with_a_refused_name_is_an_anchor_matched_by_encoding(
    pki: TestPki, common_name: str
):
    name = _name(common_name)
    csca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pki.csca_key.public_key())
        .serial_number(99)
        .not_valid_before(pki.csca_cert.not_valid_before_utc)
        .not_valid_after(pki.csca_cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(pki.csca_key, hashes.SHA256())
    )
    store = TrustStore()
    anchor = store.add(csca.public_bytes(serialization.Encoding.DER), source="odd-csca")
    assert anchor is not None
    assert common_name in anchor.subject and anchor.country == "UT"
    assert store.by_subject(anchor.certificate.subject) == (anchor,)
    ds = _ds(pki, issuer=name)  # no authorityKeyIdentifier: found by name only
    report = verify(_files(ds, pki), store, at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.PASS, issuer.detail
    assert issuer.evidence["csca_match"] == "name"
    assert report.verdict is Verdict.VALID
    _json_round_trip(report)


# --- verify, end to end ----------------------------------------------------------------------


@pytest.mark.parametrize("common_name", REFUSED.values(), ids=REFUSED.keys())
def test_ds_issuer_name_refused_by_string_preparation_is_reported(pki: TestPki, common_name: str):
    files = _files(_ds(pki, issuer=_name(common_name)), pki)
    report = verify(files, _store(pki), at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.SKIP
    assert "string preparation refuses" in issuer.detail
    assert "1 anchors for country UT" in issuer.detail
    assert issuer.evidence["issuer_compared_by"] == "der"
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS
    assert report.verdict is Verdict.INDETERMINATE and report.reasons == (CheckName.DS_ISSUER,)
    assert report.signer is not None and common_name in report.signer.issuer
    assert _json_round_trip(report)["signer"]["issuer"] == report.signer.issuer
    # with no anchor at all
    empty = verify(files, TrustStore(), at=AT).check(CheckName.DS_ISSUER)
    assert empty.status is CheckStatus.SKIP
    assert empty.detail.startswith("the trust store is empty: no CSCA was given")


def test_ds_with_refused_issuer_name_matches_by_key_identifier_but_does_not_chain(pki: TestPki):
    # found by key identifier and signed by the CSCA key, but the issuer name is not the CSCA's
    # subject: no name chaining (RFC 5280 §6.1.3), compared without raising on the odd name
    ds = _ds(pki, issuer=_name(REFUSED["bidi isolates U+2066..U+2069"]), authority_key_id=True)
    report = verify(_files(ds, pki), _store(pki), at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.FAIL and issuer.evidence["csca_match"] == "key_identifier"
    assert "name chaining" in issuer.detail
    assert report.verdict is Verdict.INVALID
    _json_round_trip(report)


def test_forged_ds_with_refused_issuer_name_and_the_csca_key_id_is_invalid(pki: TestPki):
    forger = ec.generate_private_key(ec.SECP256R1())
    ds = _ds(pki, issuer=_name("CSCA \u2066"), authority_key_id=True, signer=forger)
    report = verify(_files(ds, pki), _store(pki), at=AT)
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.FAIL
    assert report.verdict is Verdict.INVALID


@pytest.mark.parametrize("common_name", REFUSED.values(), ids=REFUSED.keys())
def test_ds_subject_name_refused_by_string_preparation_is_still_valid(
    pki: TestPki, common_name: str
):
    report = verify(_files(_ds(pki, subject=_name(common_name)), pki), _store(pki), at=AT)
    assert report.verdict is Verdict.VALID
    assert report.signer is not None and common_name in report.signer.subject
    _json_round_trip(report)


def test_inspect_reports_a_document_whose_ds_names_are_refused(pki: TestPki):
    ds = _ds(pki, issuer=_name("CSCA \u2066\u2069\ud7ff"), subject=_name("DS \u2067"))
    doc = build_document(pki=replace(pki, ds_cert=ds))
    with doc.transport() as transport:
        inspection = epass.inspect(transport, MrzKey.from_mrz(doc.mrz), doc.trust_store(), at=AT)
    assert inspection.verdict is Verdict.INDETERMINATE
    assert inspection.passive.check(CheckName.DS_ISSUER).status is CheckStatus.SKIP
    data = json.loads(json.dumps(inspection.to_dict()))
    jsonschema.validate(data, json_schema())


# --- the trust store is empty ------------------------------------------------------------------


def test_empty_trust_store_says_so(pki: TestPki):
    files = _files(pki.ds_cert, pki)
    empty = verify(files, TrustStore(), at=AT).check(CheckName.DS_ISSUER)
    assert empty.status is CheckStatus.SKIP
    assert empty.detail.startswith("the trust store is empty: no CSCA was given")
    assert "anchors for country" not in empty.detail
    # a store with anchors, none of them this issuer: the count for the country, as before
    other = TrustStore()
    other.add(make_test_pki(seed=b"another CSCA", country="XA").csca_der, source="other")
    some = verify(files, other, at=AT).check(CheckName.DS_ISSUER)
    assert some.status is CheckStatus.SKIP
    assert some.detail.startswith("no CSCA in the trust store for issuer C=UT")
    assert some.detail.endswith("; 0 anchors for country UT")
    assert "empty" not in some.detail


# --- times that cannot be compared -------------------------------------------------------------


def _with_validity(pki: TestPki, field: str, time_der: bytes) -> bytes:
    """The DS certificate of *pki* with one validity time replaced, re-signed by the CSCA."""
    cert = asn1_x509.Certificate.load(pki.ds_der)
    tbs = cert["tbs_certificate"]
    validity = tbs["validity"]
    times = {name: validity[name].dump() for name in ("not_before", "not_after")}
    times[field] = time_der
    before = b"".join(tbs[k].dump() for k in ("version", "serial_number", "signature", "issuer"))
    after_start = tbs.contents.index(validity.dump()) + len(validity.dump())
    new_validity = tlv_encode(0x30, times["not_before"] + times["not_after"])
    new_tbs = tlv_encode(0x30, before + new_validity + tbs.contents[after_start:])
    assert isinstance(pki.csca_key, ec.EllipticCurvePrivateKey)
    signature = pki.csca_key.sign(new_tbs, ec.ECDSA(hashes.SHA256()))
    return tlv_encode(
        0x30, new_tbs + cert["signature_algorithm"].dump() + tlv_encode(0x03, b"\x00" + signature)
    )


class _Der:
    """What sign_sod reads of a certificate, for DER cryptography will not load."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    def public_bytes(self, encoding: object) -> bytes:
        return self.der


NO_ZONE = b"\x18\x0e20240101000000"  # GeneralizedTime without Z: a naive local time
YEAR_ZERO = b"\x18\x0f00000101000000Z"  # asn1crypto extended_datetime


@pytest.mark.parametrize(
    ("field", "time_der", "reason"),
    [
        ("not_before", NO_ZONE, "time without a time zone"),
        ("not_after", NO_ZONE.replace(b"2024", b"2099"), "time without a time zone"),
        ("not_before", YEAR_ZERO, "outside the years 1 to 9999"),
    ],
)
def test_ds_validity_that_cannot_be_compared_is_a_malformed_certificate(
    pki: TestPki, field: str, time_der: bytes, reason: str
):
    der = _with_validity(pki, field, time_der)
    report = verify(_files(_Der(der), pki), _store(pki), at=AT)
    parse = report.check(CheckName.SOD_PARSE)
    assert parse.status is CheckStatus.FAIL
    assert "validity" in parse.detail and reason in parse.detail
    assert report.verdict is Verdict.INVALID
    _json_round_trip(report)
    with pytest.raises(ParseError, match=reason):
        TrustStore().add(der, source="odd.cer")


def test_offset_validity_times_still_compare(pki: TestPki):
    der = _with_validity(pki, "not_after", b"\x18\x1399991231235959-0100")
    report = verify(_files(_Der(der), pki), _store(pki), at=AT)
    assert report.verdict is Verdict.VALID
    _json_round_trip(report)


def test_aware_time_refuses_what_cannot_be_compared():
    assert aware_time(core.UTCTime.load(b"\x17\x0d250101000000Z"), "t") == datetime(
        2025, 1, 1, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="t: time without a time zone"):
        aware_time(core.GeneralizedTime.load(NO_ZONE), "t")
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        aware_time(core.GeneralizedTime.load(YEAR_ZERO), "t")
