"""End to end: test documents from the builder, read through the whole stack, verified.

virtual chip -> VirtualTransport -> Channel/SM -> BAC -> ChipSession -> LDS -> epass.pa.verify.
Negative cases follow ICAO Doc 9303-11 §5.1 (passive authentication): a changed data group,
a broken SOD signature and an unknown CSCA must never give VALID.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from drivers.virtual.builder import build_document, specimen, td3_mrz
from drivers.virtual.chip import ChipConfig
from drivers.virtual.pki import make_test_pki
from epass.access.keys import MrzKey
from epass.errors import AccessControlError
from epass.lds import dg2, mrz
from epass.lds.files import LdsFile
from epass.pa import TrustStore, verify
from epass.pa.report import CheckStatus, DataGroupStatus, Verdict
from epass.reader import ChipSession, ReadOptions

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def read(document, *, config=None, options=None):
    session = ChipSession(document.transport(config=config), options=options)
    session.open(MrzKey(document.mrz_information))
    return session, session.read_document()


def test_specimen_mrz_is_the_icao_holder_with_valid_check_digits():
    doc = specimen()
    parsed = mrz.parse(doc.mrz)
    assert parsed.primary_identifier == "ERIKSSON"
    assert parsed.secondary_identifier == "ANNA MARIA"
    assert parsed.issuing_state == "UTO"
    assert parsed.document_number == "L898902C"
    assert parsed.check_digit_errors == ()
    # Doc 9303-4 specimen line 2 with the expiry moved from 120415 to 340415.
    assert doc.mrz.splitlines()[1].startswith("L898902C<3UTO7408122F3404159ZE184226B")


def test_td3_mrz_matches_the_part_4_specimen():
    from drivers.virtual.builder import Holder

    # Doc 9303-4's TD3 specimen has the nine-character number L898902C3; the built-in
    # passport uses the eight-character L898902C< of Doc 9303-11 Appendix D instead.
    text = td3_mrz(Holder(document_number="L898902C3", date_of_expiry="120415"))
    assert text == (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    )


def test_specimen_is_deterministic_and_matches_the_committed_test_csca():
    doc = specimen()
    again = build_document()
    assert again.dump() == doc.dump()
    committed = (ROOT / "certs" / "test" / "epass-virtual-test-csca.pem").read_bytes()
    assert doc.pki.csca_cert.public_bytes(serialization.Encoding.PEM) == committed


def test_demo_document_reads_in_eleven_apdus_and_verifies():
    doc = specimen()
    _session, result = read(doc)
    assert result.files == doc.dump()
    assert result.access_protocol == "BAC"
    # EF.ATR/INFO, EF.CardAccess (6A82: BAC only; 9303-11 §4.2 reads it before choosing),
    # SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, then one READ per file.
    assert result.stats.apdus == 5 + 6 <= 12
    report = verify(result.files, doc.trust_store(), at=AT)
    assert report.verdict is Verdict.VALID
    assert {dg.name for dg in report.data_groups} == {"DG1", "DG2", "DG14", "DG15"}
    assert all(dg.status is DataGroupStatus.MATCH for dg in report.data_groups)
    faces = dg2.parse(result.files["DG2"]).faces
    assert faces[0].image_format == "JPEG" and faces[0].size > 15000


def test_short_apdus_reach_the_minimum_count():
    doc = specimen()
    _, result = read(doc, config=ChipConfig(extended_length=False))
    assert result.files == doc.dump()
    reads = sum(-(-len(data) // 231) for data in doc.files.values())
    # EF.CardAccess (6A82), SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE
    assert result.stats.apdus == 4 + reads


@pytest.mark.parametrize("extended", [True, False])
def test_jpeg2000_face_over_32k_is_read_with_odd_ins(extended):
    doc = build_document(face_format="JPEG2000", face_size=40000, face_width=480, face_height=640)
    assert len(doc.files[LdsFile.DG2]) > 32767
    config = ChipConfig(extended_length=extended, max_response=4096)
    session, result = read(doc, config=config)
    assert result.files["DG2"] == doc.files[LdsFile.DG2]
    assert session.stats.by_command["READ BINARY ODD"] >= 1
    assert verify(result.files, doc.trust_store(), at=AT).verdict is Verdict.VALID
    face = dg2.parse(result.files["DG2"]).faces[0]
    assert face.image_format == "JPEG2000" and (face.width, face.height) == (480, 640)


@pytest.mark.parametrize("kind", ["rsa", "rsa-pss"])
def test_rsa_signed_documents_verify(kind):
    doc = build_document(pki=make_test_pki(kind), aa_algorithm="rsa", face_size=None)
    _, result = read(doc)
    report = verify(result.files, doc.trust_store(), at=AT)
    assert report.verdict is Verdict.VALID
    assert report.check("sod.signature").status is CheckStatus.PASS


def test_sod_version_1_verifies():
    doc = build_document(sod_version=1, face_size=None)
    report = verify(doc.dump(), doc.trust_store(), at=AT)
    assert report.verdict is Verdict.VALID
    assert report.sod is not None and report.sod.lds_version == "0108"


@pytest.mark.parametrize("dg", [LdsFile.DG1, LdsFile.DG2, LdsFile.DG15])
def test_one_flipped_byte_in_a_data_group_is_invalid_naming_it(dg):
    doc = specimen().tampered(dg, offset=-1)
    _, result = read(doc)
    report = verify(result.files, doc.trust_store(), at=AT)
    assert report.verdict is Verdict.INVALID
    assert report.data_group(dg.label).status is DataGroupStatus.MISMATCH
    assert report.check("dg.hashes").status is CheckStatus.FAIL
    assert dg.label in report.check("dg.hashes").detail


def test_altered_sod_signature_is_invalid():
    doc = specimen()
    sod = bytearray(doc.files[LdsFile.EF_SOD])
    sod[-10] ^= 0x01  # inside the SignerInfo signature, the SOD's last element
    tampered = doc.with_file(LdsFile.EF_SOD, bytes(sod))
    _, result = read(tampered)
    report = verify(result.files, doc.trust_store(), at=AT)
    assert report.verdict is Verdict.INVALID
    assert report.check("sod.signature").status is CheckStatus.FAIL


def test_missing_csca_is_indeterminate():
    doc = specimen()
    _, result = read(doc)
    report = verify(result.files, TrustStore(), at=AT)
    assert report.verdict is Verdict.INDETERMINATE
    assert report.check("ds.issuer").status is CheckStatus.SKIP


def test_document_signed_by_another_pki_is_not_valid():
    other = make_test_pki(seed=b"someone else's test PKI")
    doc = build_document(pki=other, face_size=None)
    report = verify(doc.dump(), specimen().trust_store(), at=AT)
    assert report.verdict is not Verdict.VALID


def test_injected_data_group_is_invalid():
    doc = specimen()
    files = doc.dump()
    files["DG11"] = bytes.fromhex("6B035F0E00")
    report = verify(files, doc.trust_store(), at=AT)
    assert report.verdict is Verdict.INVALID
    assert report.data_group("DG11").status is DataGroupStatus.NOT_IN_SOD


def test_wrong_mrz_names_the_step():
    doc = specimen()
    session = ChipSession(doc.transport())
    wrong = MrzKey.from_fields("L898902C", "740813", "340415")
    with pytest.raises(AccessControlError) as info:
        session.open(wrong)
    assert info.value.step == "EXTERNAL AUTHENTICATE"


def test_mrz_key_from_fields_matches_the_document():
    doc = specimen()
    key = MrzKey.from_fields("L898902C", "740812", "340415")
    assert key.mrz_information == doc.mrz_information
    assert "L898902C" not in repr(key)
    session = ChipSession(doc.transport(), options=ReadOptions(extended_length=False))
    session.open(key)
    assert session.read_file(LdsFile.DG1) == doc.files[LdsFile.DG1]
