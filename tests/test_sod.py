"""EF.SOD parsing (ICAO Doc 9303-10 §4.6.2; RFC 5652 §5) on the TEST PKI and public samples."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms

from drivers.virtual.pki import TestPki, hash_data_groups, make_test_pki
from epass import cms
from epass.errors import ParseError
from epass.lds import sod
from epass.lds.asn1 import (
    ID_ICAO_LDS_SECURITY_OBJECT,
    ID_ICAO_LDS_SECURITY_OBJECT_LEGACY,
    ID_SDU_LDS_SECURITY_OBJECT,
    LdsSecurityObject,
)
from epass.tlv import encode as tlv_encode
from epass.tlv import encode_length
from tests.conftest import sample_bytes

DGS = {1: b"\x61\x03\x5f\x1f\x00", 2: b"\x75\x04\x7f\x61\x01\x00", 14: b"\x6e\x02\x31\x00"}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki()


@pytest.fixture(scope="module")
def sod_bytes(pki: TestPki) -> bytes:
    return pki.sign_sod(hash_data_groups(DGS))


def _der(cert: Any | None) -> bytes:
    assert cert is not None
    return bytes(cert.dump())


# --- structure ------------------------------------------------------------------------------


def test_parse_v0(pki, sod_bytes):
    s = sod.parse(sod_bytes)
    assert s.raw == sod_bytes
    # 9303-10 §4.6.2.2: "version LDSSecurityObjectVersion" v0 without LDSVersionInfo
    assert s.version == 0
    assert s.lds_version is None and s.unicode_version is None
    assert s.hash_algorithm == "sha256" and s.hash_algorithm_oid == "2.16.840.1.101.3.4.2.1"
    assert dict(s.dg_hashes) == hash_data_groups(DGS)
    assert s.econtent_type == ID_ICAO_LDS_SECURITY_OBJECT and not s.legacy_econtent_type
    assert s.signed_data_version == 3
    assert s.signer_info.signature_algorithm_name == "sha256_ecdsa"
    # the eContent octets sit in the file as received
    assert s.econtent_offset is not None
    assert sod_bytes[s.econtent_offset : s.econtent_offset + len(s.econtent)] == s.econtent
    # RFC 5652 §5.4: the message digest is computed over the eContent octets
    assert s.signer_info.message_digest == hashlib.sha256(s.econtent).digest()
    assert s.signer_info.content_type == ID_ICAO_LDS_SECURITY_OBJECT
    assert len(s.certificates) == 1
    assert _der(s.signer_certificate()) == pki.ds_der


def test_signed_attrs_are_the_received_bytes_retagged(sod_bytes):
    # RFC 5652 §5.4: "the DER encoding of the SignedAttrs value" with an EXPLICIT SET OF tag
    s = sod.parse(sod_bytes)
    sa = s.signed_attrs
    assert sa is not None and sa[0] == 0x31
    assert b"\xa0" + sa[1:] in sod_bytes
    assert sa == asn1_cms.CMSAttributes.load(sa).dump(force=True)


def test_parse_v1_lds_version_info(pki):
    # 9303-10 §4.6.2.2: ldsVersionInfo "if present, version MUST be v1"
    raw = pki.sign_sod(hash_data_groups(DGS, "sha384"), hash_algorithm="sha384", version=1)
    s = sod.parse(raw)
    assert (s.version, s.lds_version, s.unicode_version) == (1, "0108", "040000")
    assert s.hash_algorithm == "sha384"


def test_no_embedded_certificate(pki):
    s = sod.parse(pki.sign_sod(hash_data_groups(DGS), include_certificate=False))
    assert s.certificates == ()
    assert s.signer_certificate() is None
    assert s.signer_info.sid_kind == "issuer_and_serial_number"
    assert s.signer_info.serial_number == pki.ds_cert.serial_number


@pytest.mark.parametrize(
    "oid", [ID_ICAO_LDS_SECURITY_OBJECT_LEGACY, ID_SDU_LDS_SECURITY_OBJECT], ids=["icao", "sdu"]
)
def test_legacy_econtent_types_accepted(pki, oid):
    # JMRTD SODFile accepts the same two pre-standard OIDs; they are reported as legacy.
    s = sod.parse(pki.sign_sod(hash_data_groups(DGS), econtent_type=oid))
    assert s.econtent_type == oid and s.legacy_econtent_type


def test_other_econtent_type_refused(pki):
    # id-SecurityObject (EF.CardSecurity, TR-03110) is not an LDS security object
    raw = pki.sign_sod(hash_data_groups(DGS), econtent_type="0.4.0.127.0.7.3.2.1")
    with pytest.raises(ParseError, match="eContentType") as info:
        sod.parse(raw)
    assert info.value.file == "EF.SOD"


def _ber_econtent_variant(raw: bytes) -> bytes:
    """The same SOD re-encoded with indefinite lengths and a constructed eContent OCTET STRING."""
    s = sod.parse(raw)
    sd = s.content_info["content"]
    half = len(s.econtent) // 2
    chunks = tlv_encode(0x04, s.econtent[:half]) + tlv_encode(0x04, s.econtent[half:])
    eci = (
        b"\x30\x80"
        + sd["encap_content_info"]["content_type"].dump()
        + b"\xa0\x80\x24\x80"
        + chunks
        + b"\x00\x00\x00\x00\x00\x00"
    )
    body = (
        sd["version"].dump()
        + sd["digest_algorithms"].dump()
        + eci
        + sd["certificates"].dump()
        + sd["signer_infos"].dump()
    )
    ci = b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x80\x30\x80" + body + bytes(6)
    return b"\x77" + encode_length(len(ci)) + bytes(ci)


def test_ber_constructed_econtent_is_merged(sod_bytes):
    # X.690 §8.7.3: a constructed OCTET STRING's value is the concatenation of its segments
    ber = _ber_econtent_variant(sod_bytes)
    a, b = sod.parse(sod_bytes), sod.parse(ber)
    assert b.econtent == a.econtent
    assert b.signed_attrs == a.signed_attrs
    assert dict(b.dg_hashes) == dict(a.dg_hashes)


# --- malformed input: always ParseError(file="EF.SOD") ----------------------------------------


def test_empty_and_wrong_tag():
    with pytest.raises(ParseError) as info:
        sod.parse(b"")
    assert (info.value.file, info.value.offset) == ("EF.SOD", 0)
    with pytest.raises(ParseError, match="expected tag 77") as info:
        sod.parse(b"\x30\x03\x02\x01\x00")
    assert info.value.offset == 0


def test_every_truncation(sod_bytes):
    for n in range(len(sod_bytes)):
        with pytest.raises(ParseError) as info:
            sod.parse(sod_bytes[:n])
        assert info.value.file == "EF.SOD"
        assert info.value.offset is not None and 0 <= info.value.offset <= n


def test_trailing_bytes(sod_bytes):
    with pytest.raises(ParseError, match="trailing") as info:
        sod.parse(sod_bytes + b"\x00")
    assert info.value.offset == len(sod_bytes)


def test_garbage_inside_a_valid_wrapper():
    rng = random.Random(9303)
    for _ in range(300):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        with pytest.raises(ParseError):
            sod.parse(tlv_encode(0x77, body))


def test_bit_flips_never_escape_as_other_exceptions(sod_bytes):
    # Every single-byte corruption either still parses or raises ParseError; nothing else.
    for i in range(len(sod_bytes)):
        mutated = bytearray(sod_bytes)
        mutated[i] ^= 0xFF
        try:
            sod.parse(bytes(mutated))
        except ParseError as exc:
            assert exc.file == "EF.SOD"


def test_wrong_content_info_type(pki):
    # RFC 5652 §5.1: the content type must be id-signedData
    ci = asn1_cms.ContentInfo({"content_type": "data", "content": b"\x01\x02"}).dump()
    with pytest.raises(ParseError, match="id-signedData"):
        sod.parse(tlv_encode(0x77, ci))


def test_data_group_number_out_of_range(pki):
    # 9303-10 §4.6.2.2: DataGroupNumber ::= INTEGER {dataGroup1(1) .. dataGroup16(16)}
    raw = pki.sign_sod({1: bytes(32), 17: bytes(32)})
    with pytest.raises(ParseError, match="data group number 17"):
        sod.parse(raw)


def test_duplicate_data_group_refused():
    lso = LdsSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": "sha256"},
            "data_group_hash_values": [
                {"data_group_number": 1, "data_group_hash_value": bytes(32)},
                {"data_group_number": 1, "data_group_hash_value": bytes(32)},
            ],
        }
    ).dump()
    with pytest.raises(ParseError, match="twice"):
        sod._security_object(lso, 0)


# --- public samples (../shared/samples; skipped when absent) ----------------------------------

REAL_WORLD = {
    # README §3: country -> (hash, signature algorithm, LDS version)
    "AT": ("sha256", "sha256_ecdsa", 0),
    "DE": ("sha384", "sha384_ecdsa", 1),
    "FR": ("sha256", "sha256_rsa", 0),
    "NZ": ("sha256", "rsassa_pkcs1v15", 0),
    "NZ2013": ("sha256", "rsassa_pkcs1v15", 0),
    "RU": ("sha1", "sha1_ecdsa", 0),
    "US": ("sha256", "rsassa_pkcs1v15", 0),
}


@pytest.mark.samples
@pytest.mark.parametrize("country", sorted(REAL_WORLD))
def test_real_world_sods_parse(samples: Path, country):
    raw = sample_bytes(samples, f"real_world_sod/{country}_EF_SOD.bin")
    s = sod.parse(raw)
    hash_name, sig, version = REAL_WORLD[country]
    assert (s.hash_algorithm, s.signer_info.signature_algorithm_name, s.version) == (
        hash_name,
        sig,
        version,
    )
    assert s.signer_certificate() is not None
    si = s.signer_info
    assert si.signed_attrs is not None and b"\xa0" + si.signed_attrs[1:] in raw
    # README §3: "every SOD signature + messageDigest verified"
    assert hashlib.new(si.digest_algorithm, s.econtent).digest() == si.message_digest


@pytest.mark.samples
def test_nz_indefinite_length(samples: Path):
    # README §3: NZ uses indefinite-length BER ("30 80") inside the definite '77' wrapper
    raw = sample_bytes(samples, "real_world_sod/NZ_EF_SOD.bin")
    assert raw[4:6] == b"\x30\x80"
    s = sod.parse(raw)
    assert sorted(s.dg_hashes) == [1, 2, 12, 13, 14, 15]


@pytest.mark.samples
def test_de_v1_lds_version(samples: Path):
    s = sod.parse(sample_bytes(samples, "real_world_sod/DE_EF_SOD.bin"))
    assert (s.lds_version, s.unicode_version) == ("0108", "040000")


@pytest.mark.samples
def test_card_security_is_not_an_ef_sod(samples: Path):
    # EF.CardSecurity is a bare ContentInfo (9303-11 §9.2.11), not '77'-wrapped
    with pytest.raises(ParseError, match="tag 77"):
        sod.parse(sample_bytes(samples, "real_world_sod/DE_CardSecurity.bin"))


@pytest.mark.samples
@pytest.mark.parametrize(
    ("folder", "hashed"),
    [
        ("bsi_refset_2008", [1, 2, 3, 14]),
        ("bsi_refset_hjp2013", [1, 2, 3, 14, 4]),
        ("nl_specimen_2006", [1, 2, 15]),
    ],
)
def test_specimen_sods(samples: Path, folder, hashed):
    s = sod.parse(sample_bytes(samples, f"{folder}/EF_SOD.bin"))
    assert list(s.dg_hashes) == hashed  # SOD order, as encoded


@pytest.mark.samples
def test_sample_truncations(samples: Path):
    raw = sample_bytes(samples, "real_world_sod/NZ_EF_SOD.bin")
    for n in range(0, len(raw), 7):
        with pytest.raises(ParseError):
            sod.parse(raw[:n])


def test_signed_data_v1_reads_the_same_econtent(sod_bytes):
    # RFC 5652 §5.1 wants v3 for this eContentType; a v1 SignedData (PKCS #7 style version) is
    # read with the one EncapsulatedContentInfo syntax of §5.2, not mistaken for ContentInfo.
    at = sod_bytes.find(b"\x02\x01\x03")
    v1 = sod_bytes[:at] + b"\x02\x01\x01" + sod_bytes[at + 3 :]
    a, b = sod.parse(sod_bytes), sod.parse(v1)
    assert (a.signed_data_version, b.signed_data_version) == (3, 1)
    assert b.econtent == a.econtent and b.econtent_offset == a.econtent_offset
    assert dict(b.dg_hashes) == dict(a.dg_hashes)


def test_two_elements_inside_tag_77(sod_bytes):
    _, start, length = cms.ber_header(sod_bytes, 0, len(sod_bytes), file="EF.SOD")
    assert length is not None
    inner = sod_bytes[start:] + b"\x05\x00"
    with pytest.raises(ParseError, match="tag 77 holds more than one element") as info:
        sod.parse(b"\x77" + encode_length(len(inner)) + inner)
    assert info.value.offset == len(encode_length(len(inner))) + 1
