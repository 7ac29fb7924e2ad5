"""Passive authentication as a list of steps: the Document path, findings, and each step's failures.

ICAO Doc 9303-11 §5.1; RFC 5652 §5.4 and §11 for the signed attributes; 9303-10 §4.6.2.2
for the SignedData profile the findings compare with.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.virtual.pki import TestPki, hash_data_groups, make_test_pki, sign_sod
from epass._crypto.signatures import EcPublicKey, ExplicitCurveParametersError, load_public_key
from epass.cms import ber_header
from epass.lds import sod as sod_module
from epass.lds.asn1 import (
    ID_ICAO_LDS_SECURITY_OBJECT,
    ID_ICAO_LDS_SECURITY_OBJECT_LEGACY,
    LdsSecurityObject,
)
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.pa import (
    CheckName,
    CheckStatus,
    FindingCode,
    Report,
    TrustStore,
    Verdict,
    verify,
)
from epass.pa.context import Context, Needs, Step, run
from epass.pa.report import Check
from epass.pa.verify import STEPS
from epass.tlv import encode as tlv_encode
from tests.cms_helpers import key_usage, rebuild_signed_data
from tests.conftest import sample_bytes

AT = datetime(2030, 6, 1, tzinfo=UTC)
# the 9303-4 specimen with a date of expiry of 2038-04-15 (check digits recomputed)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F3804151ZE184226B<<<<<16"
DG1 = b"\x61\x5b\x5f\x1f\x58" + MRZ
DG2 = b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"
DG14 = b"\x6e\x05\x31\x03\x02\x01\x01"
DGS = {1: DG1, 2: DG2, 14: DG14}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki()


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    trust = TrustStore()
    trust.add(pki.csca_der, source="test-pki")
    return trust


def _files(sod: bytes, dgs: dict[int, bytes] = DGS) -> dict[str, bytes]:
    return {"EF.SOD": sod, **{f"DG{n}": data for n, data in dgs.items()}}


def _statuses(report: Report) -> dict[str, CheckStatus]:
    return {c.name: c.status for c in report.checks}


def _codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


# --- a SOD built field by field (the fault cases sign_sod does not make) ----------------------


def _custom_sod(
    pki: TestPki,
    *,
    dgs: dict[int, bytes] = DGS,
    lds_hash: str = "sha256",
    lds_version: int = 0,
    digest_algorithm: str = "sha256",
    attrs: list[dict[str, Any]] | str | None = "standard",
    sid: str = "issuer_and_serial_number",
    signer_version: str = "v1",
) -> bytes:
    """An EF.SOD signed by *pki*'s DS (ECDSA-SHA256 over the signed attributes as DER).

    :param attrs: the signed attributes; ``"standard"`` = content-type and the true
        message-digest; ``None`` = no signed attributes (the signature covers the eContent).
    :param sid: the SignerIdentifier choice (``"subject_key_identifier"``: the DS's key id).
    :param signer_version: the SignerInfo version (RFC 5652 §5.3: v1 or v3 by *sid*).
    """
    lso = LdsSecurityObject(
        {
            "version": lds_version,
            "hash_algorithm": {"algorithm": lds_hash},
            "data_group_hash_values": [
                {"data_group_number": n, "data_group_hash_value": h}
                for n, h in sorted(hash_data_groups(dgs, lds_hash).items())
            ],
        }
    )
    econtent = lso.dump()
    if attrs == "standard":
        attrs = [
            {"type": "content_type", "values": [ID_ICAO_LDS_SECURITY_OBJECT]},
            {"type": "message_digest", "values": [hashlib.new("sha256", econtent).digest()]},
        ]
    cert = asn1_x509.Certificate.load(pki.ds_der)
    identifier: dict[str, Any] = (
        {"subject_key_identifier": cert.key_identifier}
        if sid == "subject_key_identifier"
        else {
            "issuer_and_serial_number": {
                "issuer": cert.issuer,
                "serial_number": cert.serial_number,
            }
        }
    )
    signer: dict[str, Any] = {
        "version": signer_version,
        "sid": identifier,
        "digest_algorithm": {"algorithm": digest_algorithm},
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
    }
    if attrs is None:
        to_sign = econtent
    else:
        assert isinstance(attrs, list)
        signed_attrs = asn1_cms.CMSAttributes(attrs)
        signer["signed_attrs"] = signed_attrs
        to_sign = signed_attrs.dump()
    assert isinstance(pki.ds_key, ec.EllipticCurvePrivateKey)
    signer["signature"] = pki.ds_key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    signed_data = asn1_cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": digest_algorithm}],
            "encap_content_info": {
                "content_type": ID_ICAO_LDS_SECURITY_OBJECT,
                "content": econtent,
            },
            "certificates": [cert],
            "signer_infos": [asn1_cms.SignerInfo(signer)],
        }
    )
    ci = asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return tlv_encode(0x77, ci.dump())


def _resealed(sod: bytes, **changes: Any) -> bytes:
    """*sod* with SignedData fields outside the signature replaced (version, lists)."""
    sd = sod_module.parse(sod).content_info["content"]
    return tlv_encode(0x77, rebuild_signed_data(sd, **changes))


# --- the step table -------------------------------------------------------------------------


_SOD_CHECKS = [n for n in CheckName if not n.value.startswith("card_security.")]


def test_steps_are_one_table_in_check_name_order():
    assert [s.name for s in STEPS] == _SOD_CHECKS
    assert [c.value for c in _SOD_CHECKS] == [
        "sod.parse",
        "dg.hashes",
        "sod.message_digest",
        "sod.signature",
        "ds.validity",
        "ds.profile",
        "ds.issuer",
        "ds.revocation",
        "dg1.issuing_state",
    ]


def test_without_a_usable_sod_every_dependent_step_skips_through_the_table(pki, store):
    malformed = verify({"EF.SOD": b"\x77\x03\x30\x01\x00", "DG1": DG1, "DG2": DG2}, store, at=AT)
    checks = {c.name: c for c in malformed.checks}
    assert checks[CheckName.SOD_PARSE].status is CheckStatus.FAIL
    dg = checks[CheckName.DG_HASHES]
    assert (dg.status, dg.detail) == (CheckStatus.SKIP, "no usable EF.SOD: data groups not checked")
    assert dg.evidence["unchecked"] == ("DG1", "DG2")
    for name in _SOD_CHECKS[2:]:
        assert (checks[name].status, checks[name].detail, checks[name].required) == (
            CheckStatus.SKIP,
            "no usable EF.SOD",
            True,
        ), name
    # no DG1: the issuing-state comparison has nothing to compare and is not required
    no_dg1 = verify({"DG2": DG2}, store, at=AT)
    issuing = no_dg1.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is CheckStatus.SKIP and not issuing.required
    assert no_dg1.check(CheckName.SOD_PARSE).detail.startswith("EF.SOD was not supplied")
    assert no_dg1.verdict is Verdict.INDETERMINATE


def test_without_a_ds_certificate_the_chain_steps_skip(pki, store):
    sod = pki.sign_sod(hash_data_groups(DGS), include_certificate=False)
    report = verify(_files(sod), store, at=AT)
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.ERROR
    for name in (CheckName.DS_VALIDITY, CheckName.DS_ISSUER, CheckName.DG1_ISSUING_STATE):
        check = report.check(name)
        assert (check.status, check.detail, check.required) == (
            CheckStatus.SKIP,
            "no DS certificate",
            True,
        )
    assert report.signer is None and report.anchor is None
    assert report.verdict is Verdict.INDETERMINATE


def test_a_new_step_is_one_row(pki, store):
    # e.g. revocation: a row that needs the DS certificate, skipped through the same table
    def revocation(context: Context) -> Check:
        return Check("ds.revocation", CheckStatus.PASS, f"not revoked at {context.at}")

    needs_ds = Needs(lambda c: c.ds is not None, "no DS certificate")
    steps = (*STEPS, Step("ds.revocation", revocation, (needs_ds,)))  # type: ignore[arg-type]
    embedded = pki.sign_sod(hash_data_groups(DGS))
    not_embedded = pki.sign_sod(hash_data_groups(DGS), include_certificate=False)
    for sod, status in ((embedded, CheckStatus.PASS), (not_embedded, CheckStatus.SKIP)):
        document = Document.from_labels(_files(sod))
        context = Context(document, store, AT)
        checks = run(steps, context)
        assert [c.name for c in checks][-1] == "ds.revocation"
        assert checks[-1].status is status


# --- the Document path: EF.SOD parsed once ----------------------------------------------------


def test_document_gives_the_same_report_and_parses_the_sod_once(pki, store, mocker):
    sod = pki.sign_sod(hash_data_groups(DGS), signing_time=datetime(2025, 1, 1, tzinfo=UTC))
    files = _files(sod)
    spy = mocker.spy(sod_module, "parse_signed_data")
    by_mapping = verify(files, store, at=AT)
    assert spy.call_count == 1  # the mapping path parses EF.SOD exactly once
    document = Document.from_labels(files)
    assert document.sod is not None  # as the reader does, to learn the data groups
    assert spy.call_count == 2
    by_document = verify(document, store, at=AT)
    assert spy.call_count == 2  # verify used the document's parsed SOD
    assert by_document.verdict is Verdict.VALID
    assert by_document.to_dict() == by_mapping.to_dict()
    assert verify(document, store, at=AT).to_dict() == by_mapping.to_dict()
    assert spy.call_count == 2


def test_document_parses_each_file_at_most_once(pki, store, mocker):
    document = Document.from_labels(_files(pki.sign_sod(hash_data_groups(DGS))))
    spy = mocker.spy(Document, "_parse")
    first = verify(document, store, at=AT)
    assert sorted(call.args[0].label for call in spy.call_args_list) == ["DG1", "EF.SOD"]
    second = verify(document, store, at=AT)
    assert spy.call_count == 2
    assert first.to_dict() == second.to_dict()
    assert first.check(CheckName.DG1_ISSUING_STATE).status is CheckStatus.PASS


def test_lds_file_keys_and_labels_give_the_same_report(pki, store):
    sod = pki.sign_sod(hash_data_groups(DGS))
    by_label = verify(_files(sod), store, at=AT)
    by_file = verify(
        {LdsFile.EF_SOD: sod, LdsFile.DG1: DG1, LdsFile.DG2: DG2, LdsFile.DG14: DG14}, store, at=AT
    )
    mixed: dict[str | LdsFile, bytes] = {
        LdsFile.EF_SOD: sod,
        "DG1": DG1,
        "EF_DG2.bin": DG2,
        "010E": DG14,  # DG14 by FID
    }
    assert by_file.to_dict() == by_label.to_dict() == verify(mixed, store, at=AT).to_dict()
    with pytest.raises(ValueError, match="two different files"):
        twice: dict[str | LdsFile, bytes] = {LdsFile.DG2: DG2, "DG2": DG14}
        verify(twice, store, at=AT)
    with pytest.raises(TypeError):
        verify({"DG2": "not bytes"}, store, at=AT)  # type: ignore[arg-type]


def test_a_malformed_sod_in_a_document_is_a_fail(pki, store):
    sod = pki.sign_sod(hash_data_groups(DGS))
    document = Document.from_labels(_files(sod[:-1]))
    assert document.parse_error(LdsFile.EF_SOD) is not None  # the reader saw it already
    report = verify(document, store, at=AT)
    check = report.check(CheckName.SOD_PARSE)
    assert check.status is CheckStatus.FAIL and check.detail.startswith("EF.SOD is malformed")
    assert report.verdict is Verdict.INVALID
    assert report.to_dict() == verify(_files(sod[:-1]), store, at=AT).to_dict()


def test_an_oversized_sod_fails_without_being_parsed(pki, store, mocker):
    limit = LdsFile.EF_SOD.max_size
    body = b"\x04\x84" + (limit).to_bytes(4, "big") + bytes(limit)
    big = b"\x77\x84" + len(body).to_bytes(4, "big") + body
    spy = mocker.spy(sod_module, "parse_signed_data")
    report = verify({"EF.SOD": big, "DG2": DG2}, store, at=AT)
    assert spy.call_count == 0
    check = report.check(CheckName.SOD_PARSE)
    assert check.status is CheckStatus.FAIL and "not parsed" in check.detail
    assert check.evidence["offset"] == limit and check.evidence["size"] == len(big)
    assert report.verdict is Verdict.INVALID
    assert report.check(CheckName.DG_HASHES).status is CheckStatus.SKIP


# --- findings ----------------------------------------------------------------------------------


def test_a_conforming_sod_has_no_findings(pki, store):
    report = verify(_files(pki.sign_sod(hash_data_groups(DGS))), store, at=AT)
    assert report.verdict is Verdict.VALID and report.findings == ()
    assert report.to_dict()["findings"] == []


def test_legacy_econtent_type_is_a_finding(pki, store):
    sod = pki.sign_sod(hash_data_groups(DGS), econtent_type=ID_ICAO_LDS_SECURITY_OBJECT_LEGACY)
    report = verify(_files(sod), store, at=AT)
    assert report.verdict is Verdict.VALID  # a finding never changes the verdict
    assert _codes(report) == [FindingCode.LEGACY_ECONTENT_TYPE]
    finding = report.findings[0]
    assert finding.file == "EF.SOD" and ID_ICAO_LDS_SECURITY_OBJECT_LEGACY in finding.detail
    # the detail string still says so, as before findings existed
    assert "pre-standard eContentType" in report.check(CheckName.SOD_PARSE).detail
    data = json.loads(json.dumps(report.to_dict()))
    assert data["findings"] == [
        {"code": "sod.legacy_econtent_type", "file": "EF.SOD", "detail": finding.detail}
    ]


def test_signed_data_deviations_outside_the_signature_are_findings(pki, store):
    sod = pki.sign_sod(hash_data_groups(DGS))
    sd = sod_module.parse(sod).content_info["content"]
    signer = sd["signer_infos"][0]
    odd = _resealed(sod, digest_algorithms=[{"algorithm": "sha512"}], signer_infos=[signer, signer])
    # SignedData version 1 (RFC 5652 §5.1 wants 3 for this eContentType); asn1crypto will not
    # build that with an EncapsulatedContentInfo, so the version INTEGER is patched in place.
    at = odd.find(b"\x02\x01\x03")
    assert at == sod.find(b"\x02\x01\x03") > 0
    odd = odd[:at] + b"\x02\x01\x01" + odd[at + 3 :]
    assert sod_module.parse(odd).signed_data_version == 1
    report = verify(_files(odd), store, at=AT)
    assert report.verdict is Verdict.VALID
    assert _codes(report) == [
        FindingCode.SIGNED_DATA_VERSION,
        FindingCode.SIGNER_INFOS,
        FindingCode.DIGEST_ALGORITHMS,
    ]
    assert all(f.file == "EF.SOD" for f in report.findings)


@pytest.mark.parametrize(
    ("sid", "version", "finding"),
    [
        ("issuer_and_serial_number", "v1", False),
        ("subject_key_identifier", "v3", False),
        ("issuer_and_serial_number", "v3", True),
        ("subject_key_identifier", "v1", True),
        ("issuer_and_serial_number", "v0", True),
    ],
)
def test_signer_info_version_must_fit_the_signer_identifier(pki, store, sid, version, finding):
    # RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier
    sod = _custom_sod(pki, sid=sid, signer_version=version)
    assert sod_module.parse(sod).signer_info.sid_kind == sid
    report = verify(_files(sod), store, at=AT)
    assert report.verdict is Verdict.VALID  # the version is not signed: never a verdict change
    assert _codes(report) == ([FindingCode.SIGNER_INFO_VERSION] if finding else [])
    if finding:
        assert report.findings[0].file == "EF.SOD"
        assert f"SignerInfo version {version[1:]} " in report.findings[0].detail


def _signer_info_version_offset(sod: bytes) -> int:
    """Where the SignerInfo's version INTEGER value byte is, found by parsing *sod*."""
    signer = sod_module.parse(sod).signer_info.asn1
    start = sod.find(signer.dump())
    assert start > 0 and sod.find(signer.dump(), start + 1) == -1
    _, contents, _ = ber_header(sod, start, len(sod), file="EF.SOD")  # SignerInfo SEQUENCE
    _, value, length = ber_header(sod, contents, len(sod), file="EF.SOD")  # version INTEGER
    assert sod[contents] == 0x02 and length == 1
    return value


@pytest.mark.parametrize("version", [7, 0, 3])
def test_signer_info_version_changed_after_signing_is_a_finding(pki, store, version):
    sod = pki.sign_sod(hash_data_groups(DGS))
    at = _signer_info_version_offset(sod)
    assert sod[at] == 1
    odd = sod[:at] + bytes([version]) + sod[at + 1 :]
    assert sod_module.parse(odd).signer_info.version == version
    report = verify(_files(odd), store, at=AT)
    assert report.verdict is Verdict.VALID
    assert _codes(report) == [FindingCode.SIGNER_INFO_VERSION]
    assert "RFC 5652 §5.3" in report.findings[0].detail


def test_signed_data_version_outside_cms_version_names_is_a_finding(pki, store):
    # asn1crypto names CMSVersion v0..v5 only; version 7 once made EF.SOD "malformed"
    sod = pki.sign_sod(hash_data_groups(DGS))
    signed_data = sod_module.parse(sod).content_info["content"]
    start = sod.find(signed_data["version"].dump())
    assert sod[start : start + 3] == b"\x02\x01\x03"
    odd = sod[: start + 2] + b"\x07" + sod[start + 3 :]
    assert sod_module.parse(odd).signed_data_version == 7
    report = verify(_files(odd), store, at=AT)
    assert report.check(CheckName.SOD_PARSE).status is CheckStatus.PASS
    assert report.verdict is Verdict.VALID
    assert _codes(report) == [FindingCode.SIGNED_DATA_VERSION]


def test_lds_v1_without_version_info_is_a_finding(pki, store):
    report = verify(_files(_custom_sod(pki, lds_version=1)), store, at=AT)
    assert report.verdict is Verdict.VALID
    assert _codes(report) == [FindingCode.LDS_VERSION_INFO]


def test_ds_not_embedded_is_a_finding(pki, store):
    sod = pki.sign_sod(hash_data_groups(DGS), include_certificate=False)
    report = verify(_files(sod), store, at=AT, certificates=[pki.ds_der])
    assert report.verdict is Verdict.VALID
    assert _codes(report) == [FindingCode.DS_NOT_EMBEDDED]
    # a malformed certificate among those supplied is the caller's error
    with pytest.raises(Exception, match="certificate #0"):
        verify(_files(sod), store, at=AT, certificates=[b"\x30\x00"])


def test_ds_names_without_country_are_findings(pki):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DS without country")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CSCA without country")])
    ds_cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pki.ds_key.public_key())
        .serial_number(77)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(key_usage(digital_signature=True), critical=True)
        .sign(pki.csca_key, hashes.SHA256())
    )
    sod = sign_sod(hash_data_groups(DGS), ds_key=pki.ds_key, ds_cert=ds_cert)
    report = verify(_files(sod), TrustStore(), at=AT)
    assert _codes(report) == [FindingCode.DS_ISSUER_COUNTRY, FindingCode.DS_SUBJECT_COUNTRY]
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS
    issuing = report.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.status is CheckStatus.ERROR and "names no country" in issuing.detail


# --- each step's failures -------------------------------------------------------------------


def test_custom_sod_builder_is_valid(pki, store):
    # the baseline for the fault cases below
    report = verify(_files(_custom_sod(pki)), store, at=AT)
    assert report.verdict is Verdict.VALID, report.to_dict()


def test_content_type_attribute_differs(pki, store):
    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": [ID_ICAO_LDS_SECURITY_OBJECT_LEGACY]},
        {"type": "message_digest", "values": [bytes(32)]},
    ]
    report = verify(_files(_custom_sod(pki, attrs=attrs)), store, at=AT)
    check = report.check(CheckName.SOD_MESSAGE_DIGEST)
    assert check.status is CheckStatus.FAIL and "RFC 5652 §11.1" in check.detail
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.PASS
    assert report.verdict is Verdict.INVALID


def test_message_digest_attribute_missing(pki, store):
    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": [ID_ICAO_LDS_SECURITY_OBJECT]}
    ]
    report = verify(_files(_custom_sod(pki, attrs=attrs)), store, at=AT)
    check = report.check(CheckName.SOD_MESSAGE_DIGEST)
    assert check.status is CheckStatus.FAIL and "message-digest" in check.detail
    assert report.verdict is Verdict.INVALID


def test_no_signed_attributes(pki, store):
    # RFC 5652 §5.4: the signature then covers the eContent itself, and it verifies; but
    # §5.3 (and 9303-10 §4.6.2.2) require signed attributes for this eContentType: nothing
    # signed says what the content is, so the document is not proven (nor forged)
    report = verify(_files(_custom_sod(pki, attrs=None)), store, at=AT)
    digest_check = report.check(CheckName.SOD_MESSAGE_DIGEST)
    assert digest_check.status is CheckStatus.SKIP and "no signed attributes" in digest_check.detail
    signature = report.check(CheckName.SOD_SIGNATURE)
    assert signature.status is CheckStatus.PASS and "over the eContent" in signature.detail
    assert report.verdict is Verdict.INDETERMINATE


def test_no_signed_attributes_and_an_altered_econtent_is_invalid(pki, store):
    sod = _custom_sod(pki, attrs=None)
    # the last data group hash of the LDSSecurityObject, flipped: the signature covers it
    tampered = bytearray(sod)
    econtent = sod_module.parse(sod).econtent
    at = sod.find(econtent) + len(econtent) - 1
    tampered[at] ^= 0x01
    report = verify(_files(bytes(tampered)), store, at=AT)
    assert report.check(CheckName.SOD_SIGNATURE).status is CheckStatus.FAIL
    assert report.verdict is Verdict.INVALID


def test_unsupported_digest_algorithm_is_an_error(pki, store):
    report = verify(_files(_custom_sod(pki, digest_algorithm="md5")), store, at=AT)
    assert report.check(CheckName.SOD_MESSAGE_DIGEST).status is CheckStatus.ERROR
    assert report.check(CheckName.DG_HASHES).status is CheckStatus.PASS
    assert report.verdict is Verdict.INDETERMINATE


def test_unsupported_data_group_hash_is_an_error(pki, store):
    report = verify(_files(_custom_sod(pki, lds_hash="md5")), store, at=AT)
    check = report.check(CheckName.DG_HASHES)
    assert check.status is CheckStatus.ERROR and "md5" in check.detail
    assert check.evidence["unchecked"] == ("DG1", "DG2", "DG14")
    assert report.data_groups == ()
    assert _statuses(report)[CheckName.SOD_SIGNATURE] is CheckStatus.PASS
    assert report.verdict is Verdict.INDETERMINATE


@pytest.mark.parametrize(
    ("time", "reason"),
    [
        (b"\x18\x0e20300101000000", "time without a time zone"),  # GeneralizedTime, no Z
        (b"\x18\x0f00000101000000Z", "outside the years 1 to 9999"),  # year 0000
    ],
)
def test_signing_time_that_cannot_be_compared_is_a_malformed_sod(pki, store, time, reason):
    # RFC 5652 §11.3: signing-time in UTC. A naive local time could not be compared with
    # the DS validity; it is refused when EF.SOD is parsed, not raised from ds.validity.
    message_digest = sod_module.parse(_custom_sod(pki)).signer_info.message_digest  # same eContent
    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": [ID_ICAO_LDS_SECURITY_OBJECT]},
        {"type": "message_digest", "values": [message_digest]},
        {
            "type": "signing_time",
            "values": [asn1_cms.Time.load(time)],
        },
    ]
    report = verify(_files(_custom_sod(pki, attrs=attrs)), store, at=AT)
    parse = report.check(CheckName.SOD_PARSE)
    assert parse.status is CheckStatus.FAIL
    assert "signing-time" in parse.detail and reason in parse.detail
    assert report.verdict is Verdict.INVALID
    json.dumps(report.to_dict())


# --- keys with explicit EC parameters: mapped to the named curve, or a clean ERROR ---------------

#: NIST P-256 domain parameters (FIPS 186-4 §D.1.2.3; SEC 2 §2.4.2 secp256r1).
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_P256_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_P256_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _explicit_spki(
    public_key: ec.EllipticCurvePublicKey, *, order: int = _P256_N
) -> asn1_keys.PublicKeyInfo:
    """*public_key* (P-256) with its curve given as explicit parameters (SEC 1 §C.2).

    Another *order* gives parameters that match no named curve.
    """
    a = _P256_P - 3
    assert (_P256_GY**2 - (_P256_GX**3 + a * _P256_GX + _P256_B)) % _P256_P == 0
    point = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    domain = {
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": _P256_P},
        "curve": {"a": a.to_bytes(32, "big"), "b": _P256_B.to_bytes(32, "big")},
        "base": b"\x04" + _P256_GX.to_bytes(32, "big") + _P256_GY.to_bytes(32, "big"),
        "order": order,
        "cofactor": 1,
    }
    return asn1_keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("specified", domain)},
            "public_key": point,
        }
    )


def _with_public_key(cert_der: bytes, spki: asn1_keys.PublicKeyInfo, signer: Any) -> bytes:
    """*cert_der* with another subjectPublicKeyInfo, re-signed (ECDSA-SHA256) by *signer*."""
    cert = asn1_x509.Certificate.load(cert_der)
    tbs = cert["tbs_certificate"].copy()
    tbs["subject_public_key_info"] = spki
    signature = signer.sign(tbs.dump(), ec.ECDSA(hashes.SHA256()))
    rebuilt = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": cert["signature_algorithm"],
            "signature_value": signature,
        }
    )
    return bytes(rebuilt.dump())


class _Der:
    """What sign_sod reads of a certificate, for one cryptography will not load."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    def public_bytes(self, encoding: object) -> bytes:
        return self.der


_PLANS = ("yet", "later", "pending", "coming", "future")


def test_explicit_parameters_in_the_ds_key_are_mapped(pki, store):
    ds = _with_public_key(pki.ds_der, _explicit_spki(pki.ds_key.public_key()), pki.csca_key)
    ds_cert = cast(x509.Certificate, _Der(ds))
    sod = sign_sod(hash_data_groups(DGS), ds_key=pki.ds_key, ds_cert=ds_cert)
    report = verify(_files(sod), store, at=AT)
    signature = report.check(CheckName.SOD_SIGNATURE)
    assert signature.status is CheckStatus.PASS
    assert signature.evidence["ds_curve"] == "explicit parameters = secp256r1"
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.signer is not None
    assert report.signer.curve == "explicit parameters = secp256r1"
    assert report.verdict is Verdict.VALID


def test_explicit_parameters_matching_no_curve_in_the_ds_key_are_an_error(pki, store):
    spki = _explicit_spki(pki.ds_key.public_key(), order=_P256_N - 2)
    ds = _with_public_key(pki.ds_der, spki, pki.csca_key)
    ds_cert = cast(x509.Certificate, _Der(ds))
    sod = sign_sod(hash_data_groups(DGS), ds_key=pki.ds_key, ds_cert=ds_cert)
    report = verify(_files(sod), store, at=AT)
    signature = report.check(CheckName.SOD_SIGNATURE)
    assert signature.status is CheckStatus.ERROR
    assert "match no named curve" in signature.detail
    assert not [w for w in _PLANS if w in signature.detail]
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.signer is not None
    assert report.signer.curve == "explicit parameters matching no named curve"
    assert report.verdict is Verdict.INDETERMINATE


def test_explicit_parameters_in_the_csca_key(pki):
    csca = _with_public_key(pki.csca_der, _explicit_spki(pki.csca_key.public_key()), pki.csca_key)
    trust = TrustStore()
    trust.add(csca, source="explicit-csca")
    report = verify(_files(pki.sign_sod(hash_data_groups(DGS))), trust, at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.PASS
    assert issuer.evidence["csca_curve"] == "explicit parameters = secp256r1"
    assert "explicit parameters = secp256r1" in issuer.detail
    assert report.verdict is Verdict.VALID
    key = load_public_key(_explicit_spki(pki.csca_key.public_key()))
    assert isinstance(key, EcPublicKey) and key.resolved.name == "secp256r1"


def test_explicit_parameters_matching_no_curve_in_the_csca_key(pki):
    bad = _explicit_spki(pki.csca_key.public_key(), order=_P256_N - 2)
    csca = _with_public_key(pki.csca_der, bad, pki.csca_key)
    trust = TrustStore()
    trust.add(csca, source="explicit-csca")
    report = verify(_files(pki.sign_sod(hash_data_groups(DGS))), trust, at=AT)
    issuer = report.check(CheckName.DS_ISSUER)
    assert issuer.status is CheckStatus.ERROR
    assert issuer.detail.endswith(
        "match no named curve (p, a, b, G, n and h compared with the "
        "NIST and brainpool r1 curves of 9303-12 §5)"
    )
    assert not [w for w in _PLANS if w in issuer.detail]
    assert report.verdict is Verdict.INDETERMINATE
    with pytest.raises(ExplicitCurveParametersError) as info:
        load_public_key(bad)
    assert "match no named curve" in str(info.value)


# --- public samples (../shared/samples) ---------------------------------------------------------


@pytest.mark.samples
def test_bsi2008_ds_issuer_without_country_is_a_finding(samples: Path):
    # README §1.1: issuer DN "CN=CSCA BDR TEST 19.09.07" carries no C; DG1 is compared with the
    # DS subject's C=DE instead, and the deviation is reported beside the verdict.
    files = {
        "EF.SOD": sample_bytes(samples, "bsi_refset_2008/EF_SOD.bin"),
        "DG1": sample_bytes(samples, "bsi_refset_2008/DG1.bin"),
    }
    report = verify(files, TrustStore(), at=datetime(2008, 6, 1, tzinfo=UTC))
    # ECDSA-SHA1 throughout (2008): reported beside the verdict, not failed
    assert [(f.code, f.file) for f in report.findings] == [
        (FindingCode.SOD_SHA1, "EF.SOD"),
        (FindingCode.DS_ISSUER_COUNTRY, "EF.SOD"),
        (FindingCode.DS_KEY_USAGE_MISSING, "EF.SOD"),  # the 2008 DS has no keyUsage
        (FindingCode.DS_SHA1, "EF.SOD"),
        # DS valid 2008-01-28..2009-01-27, document until 2013-10-31: an issuer error
        ("ds.expired_before_document", None),
    ]
    issuing = report.check(CheckName.DG1_ISSUING_STATE)
    assert issuing.evidence["compared_with"] == ("ds_subject_country",)
    assert issuing.status is CheckStatus.PASS


@pytest.mark.samples
@pytest.mark.parametrize("country", ["AT", "DE", "FR", "NZ", "NZ2013", "RU", "US"])
def test_real_world_sods_findings(samples: Path, country: str):
    sod = sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin")
    report = verify({"EF.SOD": sod}, TrustStore(), at=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.check(CheckName.SOD_PARSE).status is CheckStatus.PASS
    assert report.check(CheckName.DS_PROFILE).status is CheckStatus.PASS
    # RU (2020) signs the SOD with ECDSA-SHA1 and its CSCA signed the DS with SHA-1
    expected = [FindingCode.SOD_SHA1, FindingCode.DS_SHA1] if country == "RU" else []
    if country == "NZ2013":  # signed within its DS validity, which ended before 2025
        expected.append(FindingCode.DS_EXPIRED)
    assert _codes(report) == expected
