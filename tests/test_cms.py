"""The CMS SignedData layer (RFC 5652 §5) under any file name (EF.CardSecurity, master lists)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from asn1crypto import algos, x509
from asn1crypto import cms as asn1_cms

from drivers.virtual.pki import TestPki, hash_data_groups, make_test_pki
from epass import cms
from epass._crypto.signatures import digest
from epass.errors import (
    InvalidSignatureError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds.asn1 import ID_ICAO_CSCA_MASTER_LIST, ID_ICAO_LDS_SECURITY_OBJECT
from tests.cms_helpers import rebuild_signed_data
from tests.conftest import sample_bytes

DGS = {1: b"\x61\x03\x5f\x1f\x00", 2: b"\x75\x04\x7f\x61\x01\x00"}
NAME = "EF.CardSecurity"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki()


def _content_info(sod: bytes) -> bytes:
    """The ContentInfo inside EF.SOD's tag '77' (a bare CMS object, as EF.CardSecurity is)."""
    _, start, length = cms.ber_header(sod, 0, len(sod), file="EF.SOD")
    assert length is not None
    return sod[start : start + length]


@pytest.fixture(scope="module")
def content_info(pki: TestPki) -> bytes:
    return _content_info(pki.sign_sod(hash_data_groups(DGS)))


def _signed_data_dict(content_info: bytes) -> asn1_cms.ContentInfo:
    return asn1_cms.ContentInfo.load(content_info)


# --- parse ----------------------------------------------------------------------------------


def test_parse_under_another_file_name(pki: TestPki, content_info: bytes):
    sd = cms.parse_signed_data(content_info, file=NAME)
    assert sd.file == NAME and sd.offset == 0
    assert sd.version == 3 and sd.digest_algorithms == ("sha256",)
    assert sd.econtent_type == ID_ICAO_LDS_SECURITY_OBJECT
    assert sd.econtent_offset is not None
    assert content_info[sd.econtent_offset : sd.econtent_offset + len(sd.econtent)] == sd.econtent
    assert len(sd.signer_infos) == 1 and sd.signer_info is sd.signer_infos[0]
    si = sd.signer_info
    # RFC 5652 §5.4: the messageDigest attribute is the digest of the eContent octets
    assert si.message_digest == hashlib.sha256(sd.econtent).digest()
    assert si.content_type == ID_ICAO_LDS_SECURITY_OBJECT
    assert si.signed_attrs is not None and b"\xa0" + si.signed_attrs[1:] in content_info
    assert si.signed_attr_types == (cms.ID_CONTENT_TYPE, cms.ID_MESSAGE_DIGEST)
    cert = sd.signer_certificate()
    assert cert is not None and bytes(cert.dump()) == pki.ds_der


def test_offset_shifts_econtent_and_errors(content_info: bytes):
    # A SignedData that sits 100 bytes into its file reports file offsets.
    sd = cms.parse_signed_data(content_info, file=NAME, offset=100)
    assert sd.econtent_offset == 100 + content_info.find(sd.econtent)
    with pytest.raises(ParseError) as info:
        cms.parse_signed_data(content_info[:-1], file=NAME, offset=100)
    assert info.value.file == NAME
    assert info.value.offset is not None and 100 <= info.value.offset <= 100 + len(content_info)


def test_every_truncation_names_the_file_and_an_offset(content_info: bytes):
    for n in range(len(content_info)):
        with pytest.raises(ParseError) as info:
            cms.parse_signed_data(content_info[:n], file="masterlist.ml")
        assert info.value.file == "masterlist.ml"
        assert info.value.offset is not None and 0 <= info.value.offset <= n
        assert "masterlist.ml" in str(info.value)


def test_bit_flips_raise_only_parse_errors_naming_the_file(content_info: bytes):
    for i in range(len(content_info)):
        mutated = bytearray(content_info)
        mutated[i] ^= 0xFF
        try:
            cms.parse_signed_data(bytes(mutated), file=NAME)
        except ParseError as exc:
            assert exc.file == NAME


def test_trailing_bytes_after_the_content_info(content_info: bytes):
    with pytest.raises(ParseError, match="after the ContentInfo") as info:
        cms.parse_signed_data(content_info + b"\x00\x00\x01", file=NAME, offset=4)
    assert (info.value.file, info.value.offset) == (NAME, 4 + len(content_info))


def test_nesting_depth_is_bounded():
    # X.690 allows any depth; a chip file gets MAX_DEPTH levels, and the error says where.
    deep = b"\x30\x80" * (cms.MAX_DEPTH + 2) + b"\x00\x00" * (cms.MAX_DEPTH + 2)
    with pytest.raises(ParseError, match="nesting deeper") as info:
        cms.parse_signed_data(deep, file=NAME)
    assert info.value.file == NAME and info.value.offset == 2 * (cms.MAX_DEPTH + 1)
    # the allowance counts from the depth the caller gives (1 inside EF.SOD's tag '77')
    ok_depth = b"\x30\x80" * (cms.MAX_DEPTH + 1) + b"\x00\x00" * (cms.MAX_DEPTH + 1)
    assert cms.ber_walk(ok_depth, 0, len(ok_depth), file=NAME) == len(ok_depth)
    with pytest.raises(ParseError, match="nesting deeper"):
        cms.ber_walk(ok_depth, 0, len(ok_depth), file=NAME, depth=1)


@pytest.mark.parametrize(
    ("data", "reason", "offset"),
    [
        (b"", "tag expected", 0),
        (b"\x30", "length expected", 1),
        (b"\x30\x85\x00\x00\x00\x00\x01", "length field of 5 bytes", 1),
        (b"\x30\x82\x01", "inside a length field", 1),
        (b"\x30\x05\x02\x01", "exceeds", 0),
        (b"\x04\x80\x00\x00", "indefinite length on a primitive", 0),
        (b"\x1f\x81\x82\x83\x84\x05\x00", "tag number too long", 0),
        (b"\x30\x80\x02\x01\x00", "end-of-contents", 5),
    ],
)
def test_ber_walk_errors(data: bytes, reason: str, offset: int):
    with pytest.raises(ParseError, match=reason) as info:
        cms.ber_walk(data, 0, len(data), file=NAME)
    assert (info.value.file, info.value.offset) == (NAME, offset)


def test_not_signed_data(content_info: bytes):
    ci = asn1_cms.ContentInfo({"content_type": "data", "content": b"\x01\x02"}).dump()
    with pytest.raises(ParseError, match="id-signedData") as info:
        cms.parse_signed_data(ci, file=NAME, offset=7)
    assert (info.value.file, info.value.offset) == (NAME, 7)
    with pytest.raises(ParseError, match="not a CMS ContentInfo") as info:
        cms.parse_signed_data(b"\x02\x01\x00", file=NAME)
    assert info.value.file == NAME


def _rebuild(content_info: bytes, **changes: object) -> bytes:
    return rebuild_signed_data(_signed_data_dict(content_info)["content"], **changes)


def test_detached_signature_refused(content_info: bytes):
    eci = {"content_type": ID_ICAO_LDS_SECURITY_OBJECT}
    with pytest.raises(ParseError, match="eContent absent") as info:
        cms.parse_signed_data(_rebuild(content_info, encap_content_info=eci), file=NAME)
    assert info.value.file == NAME


def test_no_signer_info_refused(content_info: bytes):
    with pytest.raises(ParseError, match="no SignerInfo") as info:
        cms.parse_signed_data(_rebuild(content_info, signer_infos=[]), file=NAME, offset=3)
    assert (info.value.file, info.value.offset) == (NAME, 3)


def test_repeated_signed_attribute_refused(content_info: bytes):
    # RFC 5652 §11.2: "The SignedAttributes ... MUST include only one instance of the
    # message-digest attribute"
    si = _signed_data_dict(content_info)["content"]["signer_infos"][0]
    attrs = list(si["signed_attrs"])
    doubled = asn1_cms.CMSAttributes([*attrs, attrs[-1]])
    bad = asn1_cms.SignerInfo(
        {
            "version": si["version"],
            "sid": si["sid"],
            "digest_algorithm": si["digest_algorithm"],
            "signed_attrs": doubled,
            "signature_algorithm": si["signature_algorithm"],
            "signature": si["signature"],
        }
    )
    with pytest.raises(ParseError, match="appears twice") as info:
        cms.parse_signed_data(_rebuild(content_info, signer_infos=[bad]), file=NAME)
    assert info.value.file == NAME and info.value.offset == 0


def test_no_embedded_certificate(pki: TestPki):
    ci = _content_info(pki.sign_sod(hash_data_groups(DGS), include_certificate=False))
    sd = cms.parse_signed_data(ci, file=NAME)
    assert sd.certificates == () and sd.signer_certificate() is None
    # a caller-held list: DER, loaded lazily, the signer found by issuer and serial
    found = sd.signer_certificate(extra=[pki.csca_der, pki.ds_der])
    assert found is not None and bytes(found.dump()) == pki.ds_der


# --- signer certificate lookup --------------------------------------------------------------


def test_find_signer_certificate(pki: TestPki, content_info: bytes):
    si = cms.parse_signed_data(content_info, file=NAME).signer_info
    assert cms.find_signer_certificate(si, []) is None
    assert cms.find_signer_certificate(si, [pki.csca_der]) is None
    found = cms.find_signer_certificate(si, [pki.csca_der, pki.ds_der, b"never loaded"])
    assert found is not None and bytes(found.dump()) == pki.ds_der
    with pytest.raises(ParseError) as info:
        cms.find_signer_certificate(si, [pki.csca_der, b"\x30\x03\x02\x01\x00"])
    assert info.value.file == "certificate #1"


def test_signer_matched_by_subject_key_identifier(pki: TestPki, content_info: bytes):
    si = cms.parse_signed_data(content_info, file=NAME).signer_info
    ds = cms.find_signer_certificate(si, [pki.ds_der])
    assert ds is not None
    by_ski = dataclasses.replace(
        si, sid_kind="subject_key_identifier", subject_key_identifier=ds.key_identifier
    )
    assert by_ski.matches(ds)
    other = dataclasses.replace(by_ski, subject_key_identifier=b"\x00" * 20)
    assert not other.matches(ds)
    other_serial = dataclasses.replace(si, serial_number=(si.serial_number or 0) + 1)
    assert not other_serial.matches(ds)
    assert not si.matches(object())  # unreadable: no match, no exception


# --- verify_signer --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ecdsa-p256", "rsa", "rsa-pss"])
def test_verify_signer(kind: str):
    pki = make_test_pki(kind)
    sd = cms.parse_signed_data(_content_info(pki.sign_sod(hash_data_groups(DGS))), file=NAME)
    scheme = cms.verify_signer(sd.signer_info, sd.signer_certificate())
    assert scheme.hash == "sha256"
    assert scheme.kind == {"ecdsa-p256": "ecdsa", "rsa": "rsa-pkcs1v15", "rsa-pss": "rsa-pss"}[kind]


def test_verify_signer_failures(pki: TestPki, content_info: bytes):
    sd = cms.parse_signed_data(content_info, file=NAME)
    si, ds = sd.signer_info, sd.signer_certificate()
    flipped = bytearray(si.signature)
    flipped[-1] ^= 0x01
    with pytest.raises(InvalidSignatureError):
        cms.verify_signer(dataclasses.replace(si, signature=bytes(flipped)), ds)
    assert si.signed_attrs is not None
    altered = si.signed_attrs[:-1] + bytes([si.signed_attrs[-1] ^ 0x01])
    with pytest.raises(InvalidSignatureError):
        cms.verify_signer(dataclasses.replace(si, signed_attrs=altered), ds)
    with pytest.raises(InvalidSignatureError, match="no signed attributes"):
        cms.verify_signer(dataclasses.replace(si, signed_attrs=None), ds)
    # the right signature under another key
    other = make_test_pki(seed=b"someone else")
    with pytest.raises(InvalidSignatureError):
        cms.verify_signer(si, x509.Certificate.load(other.ds_der))
    md5 = algos.SignedDigestAlgorithm({"algorithm": "md5_rsa"})
    with pytest.raises(UnsupportedAlgorithmError):
        cms.verify_signer(dataclasses.replace(si, signature_algorithm=md5), ds)


# --- public samples ---------------------------------------------------------------------------


@pytest.mark.samples
def test_card_security_sample(samples: Path):
    # EF.CardSecurity is a bare ContentInfo (9303-11 §9.2.11) over id-SecurityObject
    # (BSI TR-03110-3 §A.1.2); the CMS layer reads it under its own name.
    raw = sample_bytes(samples, "real_world_sod/DE_CardSecurity.bin")
    sd = cms.parse_signed_data(raw, file=NAME)
    assert sd.econtent_type == "0.4.0.127.0.7.3.2.1"
    si = sd.signer_info
    assert digest(si.digest_algorithm, sd.econtent) == si.message_digest
    scheme = cms.verify_signer(si, sd.signer_certificate())
    assert scheme.curve is not None and scheme.curve.startswith("explicit parameters = ")
    with pytest.raises(ParseError) as info:
        cms.parse_signed_data(raw[:-10], file=NAME)
    assert info.value.file == NAME


@pytest.mark.samples
def test_master_list_sample(samples: Path):
    # 9303-12 §9: a CSCA master list is SignedData over id-icao-cscaMasterList
    raw = sample_bytes(samples, "master_lists/NL_MASTERLIST_20211207.mls")
    sd = cms.parse_signed_data(raw, file="NL_MASTERLIST_20211207.mls")
    assert sd.econtent_type == ID_ICAO_CSCA_MASTER_LIST
    si = sd.signer_info
    assert si.sid_kind == "subject_key_identifier"
    assert digest(si.digest_algorithm, sd.econtent) == si.message_digest
    assert str(cms.verify_signer(si, sd.signer_certificate())) == "rsa-pkcs1v15-sha256"
