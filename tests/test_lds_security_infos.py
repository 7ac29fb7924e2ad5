"""SecurityInfos (9303-11 §9.2, TR-03110-3 A.1), DG14 and DG15 against the public samples."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from asn1crypto import cms, keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from epass import tlv
from epass.errors import ParseError
from epass.lds import dg14, dg15
from epass.lds import security_infos as si
from tests.conftest import sample_bytes

PACE_ECDH_GM_AES128 = "0.4.0.127.0.7.2.2.4.2.2"
PACE_ECDH_IM_AES256 = "0.4.0.127.0.7.2.2.4.4.4"
PACE_ECDH_GM = "0.4.0.127.0.7.2.2.4.2"
CA_ECDH_AES128 = "0.4.0.127.0.7.2.2.3.2.2"
CA_ECDH = "0.4.0.127.0.7.2.2.3.2"
PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"

_CARD_ACCESS = [
    "cardaccess_misc/EF_CardAccess_openpace_ca3.bin",
    "cardaccess_misc/EF_CardAccess_openpace_new_testcard.bin",
    "cardaccess_misc/EF_CardAccess_openpace_old_testcard.bin",
    "cardaccess_misc/EF_CardAccess_openpace_slowenia.bin",
    "bsi_eac_worked_example/ecdh/EF_CardAccess.bin",
    "bsi_eac_worked_example/dh/EF_CardAccess.bin",
    "de_eid_dan/EF_CardAccess.bin",
]
_CARD_SECURITY = [
    "bsi_eac_worked_example/ecdh/EF_CardSecurity.bin",
    "bsi_eac_worked_example/dh/EF_CardSecurity.bin",
    "de_eid_dan/EF_CardSecurity.bin",
    "real_world_sod/DE_CardSecurity.bin",
    "cardaccess_misc/EF_CardSecurity_jmrtd.bin",
]


def _card_security_content(der: bytes) -> bytes:
    """The signed SecurityInfos inside EF.CardSecurity (CMS eContent)."""
    info = cms.ContentInfo.load(der)["content"]["encap_content_info"]
    assert info["content_type"].dotted == "0.4.0.127.0.7.3.2.1"  # id-SecurityObject
    content: bytes = info["content"].native
    return content


# --- names ------------------------------------------------------------------


def test_protocol_names() -> None:
    assert si.protocol_name(CA_ECDH_AES128) == "id-CA-ECDH-AES-CBC-CMAC-128"
    assert si.protocol_name("0.4.0.127.0.7.2.2.3.1.1") == "id-CA-DH-3DES-CBC-CBC"
    assert si.protocol_name(PACE_ECDH_GM_AES128) == "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    assert si.protocol_name("0.4.0.127.0.7.2.2.4.6.4") == "id-PACE-ECDH-CAM-AES-CBC-CMAC-256"
    assert si.protocol_name("0.4.0.127.0.7.2.2.4.3.1") == "id-PACE-DH-IM-3DES-CBC-CBC"
    assert si.protocol_name(PK_ECDH) == "id-PK-ECDH"
    assert si.protocol_name("2.23.136.1.1.5") == "id-icao-mrtd-security-aaProtocolObject"
    assert si.protocol_name("1.2.3.4") == "1.2.3.4"
    assert si.STANDARDIZED_DOMAIN_PARAMETERS[13].name == "brainpoolP256r1"


# --- EF.CardAccess samples --------------------------------------------------------


@pytest.mark.parametrize("path", _CARD_ACCESS)
def test_card_access_samples_parse(samples: Path, path: str) -> None:
    raw = sample_bytes(samples, path)
    parsed = si.parse_security_infos(raw, file="EF.CardAccess")
    assert parsed.raw == raw
    assert parsed.pace_infos or parsed.pace_domain_parameter_infos or parsed.ca_infos
    for info in parsed.infos:
        assert raw[info.offset : info.offset + len(info.raw)] == info.raw
        assert info.name


@pytest.mark.parametrize(
    ("path", "protocol", "parameter_id"),
    [
        ("bsi_eac_worked_example/ecdh/EF_CardAccess.bin", PACE_ECDH_GM_AES128, 13),
        ("bsi_eac_worked_example/dh/EF_CardAccess.bin", "0.4.0.127.0.7.2.2.4.1.2", 0),
        ("de_eid_dan/EF_CardAccess.bin", PACE_ECDH_GM_AES128, 13),
        ("cardaccess_misc/EF_CardAccess_openpace_new_testcard.bin", PACE_ECDH_GM_AES128, 13),
    ],
)
def test_card_access_pace_info(samples: Path, path: str, protocol: str, parameter_id: int) -> None:
    parsed = si.parse_security_infos(sample_bytes(samples, path), file="EF.CardAccess")
    (pace,) = parsed.pace_infos
    assert pace.protocol == protocol
    assert pace.version == 2
    assert pace.parameter_id == parameter_id
    assert pace.mapping == "GM"
    assert (pace.cipher, pace.key_length) == ("AES", 128)
    assert pace.parameter is not None


def test_card_access_ca3_has_cam_and_unknown_infos(samples: Path) -> None:
    parsed = si.parse_security_infos(
        sample_bytes(samples, "cardaccess_misc/EF_CardAccess_openpace_ca3.bin"),
        file="EF.CardAccess",
    )
    mappings = {p.mapping for p in parsed.pace_infos}
    assert mappings == {"GM", "CAM"}
    assert [c.key_id for c in parsed.ca_infos] == [72, 79]
    assert [c.version for c in parsed.ca_infos] == [2, 3]
    assert {u.protocol for u in parsed.unknown} == {
        "0.4.0.127.0.7.2.2.11.1.2.3",  # PSA
        "0.4.0.127.0.7.2.2.6",  # CardInfoLocator
        "0.4.0.127.0.7.2.2.8",  # PrivilegedTerminalInfo
    }
    assert all(d.curve_name == "brainpoolP256r1" for d in parsed.ca_domain_parameter_infos)


def test_card_access_slowenia_national_oid_and_ta_v1(samples: Path) -> None:
    raw = sample_bytes(samples, "cardaccess_misc/EF_CardAccess_openpace_slowenia.bin")
    parsed = si.parse_security_infos(raw, file="EF.CardAccess")
    assert parsed.unknown[0].protocol == "1.0.24727.3.0.9"
    (ta,) = parsed.ta_infos
    assert ta.version == 1
    assert (ta.ef_cvca_fid, ta.ef_cvca_sfid) == (b"\x01\x1a", b"\x1a")
    (ca,) = parsed.ca_infos
    assert (ca.name, ca.key_id) == ("id-CA-ECDH-3DES-CBC-CBC", 3)
    assert parsed.trailing == b"\x62\x82"  # a status word captured with the file
    assert parsed.problems
    with pytest.raises(ParseError, match="trailing"):
        si.parse_security_infos(raw, file="EF.CardAccess", allow_trailing=False)


def test_card_access_old_testcard_explicit_domain_parameters(samples: Path) -> None:
    parsed = si.parse_security_infos(
        sample_bytes(samples, "cardaccess_misc/EF_CardAccess_openpace_old_testcard.bin"),
        file="EF.CardAccess",
    )
    (pace,) = parsed.pace_infos
    assert pace.version == 1 and pace.parameter_id is None
    (dp,) = parsed.pace_domain_parameter_infos
    assert dp.protocol == PACE_ECDH_GM
    assert dp.explicit and dp.standardized_id is None
    assert parsed.ca_domain_parameter_infos[0].explicit


# --- EF.CardSecurity content ---------------------------------------------------------


@pytest.mark.parametrize("path", _CARD_SECURITY)
def test_card_security_content_parses(samples: Path, path: str) -> None:
    content = _card_security_content(sample_bytes(samples, path))
    parsed = si.parse_security_infos(content, file="EF.CardSecurity")
    assert parsed.ca_public_keys
    assert parsed.trailing == b""


def test_card_security_worked_example_keys(samples: Path) -> None:
    ecdh = si.parse_security_infos(
        _card_security_content(sample_bytes(samples, _CARD_SECURITY[0])), file="EF.CardSecurity"
    )
    (key,) = ecdh.ca_public_keys
    assert (key.key_agreement, key.curve_name, key.key_size, key.key_id) == (
        "ECDH",
        "brainpoolP256r1",
        256,
        1,
    )
    assert key.standardized_id == 13
    assert len(key.public_key) == 65 and key.public_key[0] == 0x04
    dh = si.parse_security_infos(
        _card_security_content(sample_bytes(samples, _CARD_SECURITY[1])), file="EF.CardSecurity"
    )
    (dh_key,) = dh.ca_public_keys
    assert (dh_key.key_agreement, dh_key.key_size, dh_key.standardized_id) == ("DH", 1024, 0)


def test_card_security_jmrtd_flattened_key_is_reported(samples: Path) -> None:
    content = _card_security_content(sample_bytes(samples, _CARD_SECURITY[4]))
    (key,) = si.parse_security_infos(content, file="EF.CardSecurity").ca_public_keys
    assert key.curve_name == "brainpoolP256r1"
    assert key.problems  # non-conforming encoding noted, not hidden


# --- DG14 -----------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["bsi_refset_2008", "bsi_refset_hjp2013"])
def test_dg14_bsi_samples(samples: Path, folder: str) -> None:
    raw = sample_bytes(samples, f"{folder}/DG14.bin")
    parsed = dg14.parse(raw)
    assert parsed.raw == raw
    (key,) = parsed.ca_public_keys
    assert key.protocol == PK_ECDH
    assert key.algorithm == "1.2.840.10045.2.1"  # id-ecPublicKey
    assert key.explicit  # explicit brainpoolP224r1 domain parameters
    assert key.curve_name is None
    assert key.key_size == 224
    assert key.key_id is None
    assert key.offset == 8
    (ca,) = parsed.ca_infos
    assert ca.name == "id-CA-ECDH-3DES-CBC-CBC"
    assert (ca.version, ca.cipher, ca.key_length) == (1, "3DES", 112)
    (ta,) = parsed.security_infos.ta_infos
    assert ta.version == 1
    assert parsed.aa_info is None


def test_dg14_doc9303_sample_dh(samples: Path) -> None:
    parsed = dg14.parse(sample_bytes(samples, "cardaccess_misc/DG14_jmrtd_spec_sample.bin"))
    (key,) = parsed.ca_public_keys
    assert key.key_agreement == "DH"
    assert key.algorithm == "1.2.840.113549.1.3.1"  # PKCS #3 dhKeyAgreement
    assert key.key_size == 1024
    assert parsed.ca_infos[0].name == "id-CA-DH-3DES-CBC-CBC"


def test_dg14_round_trip_from_sample(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG14.bin")
    parsed = dg14.parse(raw)
    # The sample's SET OF is not in DER order: keep its order to reproduce it.
    assert dg14.encode(parsed.security_infos.infos, sort=False) == raw
    resorted = dg14.encode(parsed.security_infos.infos)
    assert resorted != raw
    assert dg14.parse(resorted).security_infos.infos[0].name == "id-TA"


def test_dg14_round_trip_built() -> None:
    key = ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    elements = [
        si.encode_ca_public_key_info(spki, key_id=7),
        si.encode_ca_info(CA_ECDH_AES128, version=1, key_id=7),
        si.encode_ca_domain_parameter_info(CA_ECDH, 13, key_id=7),
        si.encode_ta_info(version=1, ef_cvca_fid=b"\x01\x1c"),
        si.encode_aa_info(ECDSA_PLAIN_SHA256),
        si.encode_pace_info(PACE_ECDH_IM_AES256, parameter_id=13),
        si.encode_pace_domain_parameter_info(PACE_ECDH_GM, 12, parameter_id=12),
    ]
    raw = dg14.encode(elements)
    parsed = dg14.parse(raw)
    infos = parsed.security_infos
    (pk,) = infos.ca_public_keys
    assert (pk.key_id, pk.curve_name, pk.explicit, pk.key_size) == (
        7,
        "brainpoolp256r1",
        False,
        256,
    )
    assert pk.subject_public_key_info == spki
    assert (infos.ca_infos[0].key_id, infos.ca_infos[0].version) == (7, 1)
    assert infos.ca_domain_parameter_infos[0].standardized_id == 13
    assert infos.ta_infos[0].ef_cvca_fid == b"\x01\x1c"
    aa = parsed.aa_info
    assert aa is not None
    assert (aa.version, aa.signature_algorithm_name) == (1, "ecdsa-plain-SHA256")
    (pace,) = infos.pace_infos
    assert (pace.mapping, pace.cipher, pace.key_length, pace.parameter_id) == ("IM", "AES", 256, 13)
    (pdp,) = infos.pace_domain_parameter_infos
    assert (pdp.standardized_id, pdp.parameter_id, pdp.curve_name) == (12, 12, "secp256r1")
    assert len(infos.infos) == len(elements)
    # DER SET OF: elements sorted, so the order of the input does not matter
    assert dg14.encode(list(reversed(elements))) == raw
    # parsed infos re-encode to the same bytes
    assert dg14.encode(infos.infos) == raw


def test_unknown_security_info_kept() -> None:
    unknown = tlv.encode(0x30, bytes.fromhex("0603550403") + tlv.encode(0x0C, b"hello"))
    parsed = si.parse_security_infos(si.encode_security_infos([unknown]), file="DG14")
    (info,) = parsed.unknown
    assert info.protocol == "2.5.4.3"
    assert info.raw == unknown


def test_encode_security_infos_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        si.encode_security_infos([b"\x02\x01\x01"])
    with pytest.raises(ValueError):
        si.encode_ca_public_key_info(b"\x30\x00")


# --- malformed SecurityInfos / DG14 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("der", "match"),
    [
        (bytes.fromhex("3000"), "SET"),  # not a SET
        (tlv.encode(0x31, tlv.encode(0x02, b"\x01")), "SEQUENCE"),  # element not a SEQUENCE
        (tlv.encode(0x31, tlv.encode(0x30, tlv.encode(0x02, b"\x01"))), "SecurityInfo"),
        # PACEInfo without its version (not even a generic SecurityInfo)
        (
            tlv.encode(0x31, tlv.encode(0x30, bytes.fromhex("060a04007f00070202040202"))),
            "SecurityInfo",
        ),
        # PACEInfo whose version is an OCTET STRING
        (
            tlv.encode(
                0x31,
                tlv.encode(0x30, bytes.fromhex("060a04007f00070202040202") + b"\x04\x01\x02"),
            ),
            "PACE",
        ),
        # ActiveAuthenticationInfo with an INTEGER where the OID belongs
        (
            tlv.encode(0x31, tlv.encode(0x30, bytes.fromhex("06066781080101050201010201ff"))),
            "ActiveAuthentication",
        ),
    ],
)
def test_malformed_security_infos(der: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match) as info:
        si.parse_security_infos(der, file="DG14")
    assert info.value.file == "DG14"


def test_malformed_element_offset(samples: Path) -> None:
    raw = bytearray(sample_bytes(samples, "bsi_refset_2008/DG14.bin"))
    # break the CA info's version INTEGER (offset 316) into a BOOLEAN
    assert raw[316] == 0x02
    raw[316] = 0x01
    with pytest.raises(ParseError) as info:
        dg14.parse(bytes(raw))
    assert info.value.offset == 302
    assert info.value.file == "DG14"


@pytest.mark.parametrize(
    "path",
    ["bsi_refset_2008/DG14.bin", "cardaccess_misc/DG14_jmrtd_spec_sample.bin"],
)
def test_dg14_every_truncation(samples: Path, path: str) -> None:
    raw = sample_bytes(samples, path)
    for cut in range(len(raw)):
        with pytest.raises(ParseError):
            dg14.parse(raw[:cut])
    # truncated inside a DG14 whose outer length was fixed up
    content = tlv.decode_single(raw).value
    for cut in range(1, len(content)):
        with pytest.raises(ParseError):
            dg14.parse(tlv.encode(0x6E, content[:cut]))


def test_dg14_wrong_tag_huge_length_trailing(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG14.bin")
    with pytest.raises(ParseError, match="expected tag 6E"):
        dg14.parse(b"\x6f" + raw[1:])
    with pytest.raises(ParseError):
        dg14.parse(b"\x6e\x84\xff\xff\xff\xf0" + raw[4:])
    with pytest.raises(ParseError, match="trailing"):
        dg14.parse(tlv.encode(0x6E, tlv.decode_single(raw).value + b"\x00\x00"))


@pytest.mark.parametrize("path", _CARD_ACCESS[:4])
def test_card_access_every_truncation(samples: Path, path: str) -> None:
    raw = sample_bytes(samples, path)
    end = tlv.decode(raw).end
    for cut in range(end):
        with pytest.raises(ParseError):
            si.parse_security_infos(raw[:cut], file="EF.CardAccess")


@pytest.mark.parametrize(
    "path", ["bsi_refset_2008/DG14.bin", "cardaccess_misc/EF_CardAccess_openpace_ca3.bin"]
)
def test_random_corruption_only_raises_parse_error(samples: Path, path: str) -> None:
    raw = sample_bytes(samples, path)
    rng = random.Random(0xD614)
    caught = 0
    for _ in range(500):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            if path.endswith("DG14.bin"):
                dg14.parse(bytes(data))
            else:
                si.parse_security_infos(bytes(data), file="EF.CardAccess")
        except ParseError:
            caught += 1
    assert caught > 0


# --- DG15 --------------------------------------------------------------------------------------


def test_dg15_bsi_2008_rsa_key_read_as_unsigned(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG15.bin")
    parsed = dg15.parse(raw)
    assert parsed.raw == raw
    assert parsed.algorithm == "RSA"
    # samples/README.md calls it 1022-bit: that is the bit length of the *negative* INTEGER
    # its modulus encodes (128 content octets, top bit set, no leading 00); as the unsigned
    # modulus the chip uses, it is 1024 bits.
    assert parsed.key_size == 1024
    assert parsed.curve_name is None
    assert not parsed.explicit_parameters
    assert isinstance(parsed.public_key_info, keys.PublicKeyInfo)
    assert parsed.public_key_info["public_key"].parsed["public_exponent"].native == 65537
    assert parsed.subject_public_key_info == raw[3:]


@pytest.mark.parametrize("folder", ["bsi_refset_hjp2013", "nl_specimen_2006"])
def test_dg15_rsa_1024(samples: Path, folder: str) -> None:
    parsed = dg15.parse(sample_bytes(samples, f"{folder}/DG15.bin"))
    assert (parsed.algorithm, parsed.key_size) == ("RSA", 1024)


def test_dg15_round_trip_named_ec() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    parsed = dg15.parse(dg15.encode(spki))
    assert (parsed.algorithm, parsed.curve_name, parsed.key_size) == ("EC", "secp256r1", 256)
    assert not parsed.explicit_parameters
    assert parsed.subject_public_key_info == spki


def test_dg15_round_trip_rsa() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    parsed = dg15.parse(dg15.encode(spki))
    assert (parsed.algorithm, parsed.key_size) == ("RSA", 2048)


def test_dg15_explicit_ec_parameters(samples: Path) -> None:
    # The DG14 CA key of the BSI set has explicit brainpoolP224r1 parameters.
    spki = dg14.parse(sample_bytes(samples, "bsi_refset_2008/DG14.bin")).ca_public_keys[0]
    parsed = dg15.parse(dg15.encode(spki.subject_public_key_info))
    assert parsed.algorithm == "EC"
    assert parsed.explicit_parameters
    assert parsed.curve_name is None
    assert parsed.key_size == 224


def test_dg15_every_truncation(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG15.bin")
    for cut in range(len(raw)):
        with pytest.raises(ParseError):
            dg15.parse(raw[:cut])
    spki = dg15.parse(raw).subject_public_key_info
    for cut in range(len(spki)):
        with pytest.raises(ParseError) as info:
            dg15.parse(tlv.encode(0x6F, spki[:cut]))
        assert info.value.file == "DG15"


@pytest.mark.parametrize(
    "raw",
    [
        tlv.encode(0x6E, b"\x30\x00"),  # wrong outer tag
        tlv.encode(0x6F, b""),
        tlv.encode(0x6F, b"\x30\x00"),
        tlv.encode(0x6F, b"\x02\x01\x01"),
        b"\x6f\x84\xff\xff\xff\xff\x30",  # huge declared length
    ],
)
def test_dg15_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError) as info:
        dg15.parse(raw)
    assert info.value.file == "DG15"


def test_dg15_rsa_key_with_broken_modulus(samples: Path) -> None:
    raw = bytearray(sample_bytes(samples, "bsi_refset_2008/DG15.bin"))
    # RSAPublicKey inside the BIT STRING: turn the modulus INTEGER into an OCTET STRING
    index = raw.index(b"\x02\x81\x80")
    raw[index] = 0x04
    with pytest.raises(ParseError):
        dg15.parse(bytes(raw))


def test_dg15_random_corruption_only_raises_parse_error(samples: Path) -> None:
    raw = sample_bytes(samples, "bsi_refset_2008/DG15.bin")
    rng = random.Random(0xD615)
    caught = 0
    for _ in range(300):
        data = bytearray(raw)
        data[rng.randrange(40)] = rng.randrange(256)
        try:
            dg15.parse(bytes(data))
        except ParseError:
            caught += 1
    assert caught > 0


def test_dg14_encode_chip_authentication() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    parsed = dg14.parse(dg14.encode_chip_authentication(spki, active_authentication_ec=True))
    (pk,) = parsed.ca_public_keys
    assert (pk.protocol, pk.curve_name) == (PK_ECDH, "secp256r1")
    (ca,) = parsed.ca_infos
    assert (ca.protocol, ca.version) == (CA_ECDH_AES128, 1)
    aa = parsed.aa_info
    assert aa is not None and aa.signature_algorithm == ECDSA_PLAIN_SHA256
    plain = dg14.parse(dg14.encode_chip_authentication(spki, key_id=3, cipher=4))
    assert plain.aa_info is None
    assert plain.ca_infos[0].name == "id-CA-ECDH-AES-CBC-CMAC-256"
    assert plain.ca_infos[0].key_id == 3 and plain.ca_public_keys[0].key_id == 3
    with pytest.raises(ValueError):
        dg14.encode_chip_authentication(spki, cipher=5)
