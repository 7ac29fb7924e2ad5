"""Chip Authentication known answers: the BSI EAC worked example, command encodings.

BSI "Worked Example for Extended Access Control (EAC)", version 1.01/1.02 (HJP
test card, ../shared/samples/bsi_eac_worked_example, samples/README.md §2.1),
section "Chip Authentication" for ECDH (brainpoolP256r1) and DH (1024-bit
MODP group, RFC 5114 §2.1): the chip's static key pair, the terminal's
ephemeral key pair, the shared secret K and the session keys. The example runs
CA version 2, whose keys are KDF(K ‖ r_PICC, c) (TR-03110-2 §3.4.1); the values
are as transcribed in frankmorgner/openpace src/eactest.c (tc_ecdh_ca_*,
tc_dh_ca_*; the DH chip key there replaces a wrong one in the PDF, per its
note). Each is reproduced through epass.access.ca's pure functions, and the
chip's public key equals the one in the sample's EF.CardSecurity.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms, core

from epass._crypto.symmetric import CipherKind, aes_cmac, kdf
from epass.access import ca, pace
from epass.access.pace_groups import standardized_group
from epass.lds import security_infos as si
from tests.conftest import sample_bytes

ECDH = {
    "picc_private": "7984674CF3B3A524BF929CE8A67FCF22173DA0BAD595EED6DEB72D22C542FA9D",
    "picc_public": "04A44EBE5451DF7AADB01E459B8C928A87746A57927C8C28A6775C97A7E1FE8D9A"
    "46FF4A1CC7E4D1389AEA19758E4F75C28C598FD734AEBEB135337CF95BE12E94",
    "pcd_private": "00A6A4D255C5BF7A77EC3D0553DB74F693CF044E18C98364D4977A296108AF19BD",
    "pcd_public": "045A7A377FC9CAFC03AC7FF45441A8B2909D88EAB8E6B0173847AB49B949DF3799"
    "A34EE57EC55268CF8B1C3EC489F8BF4CF4C68D3FD9670E89C0D5D3FFF1AAF89F",
    "nonce": "4287B3072A3EDC60",
    "token": "FF0117D68DEE8E72",
    "k": "791DA04273CCFE862E52DF60347E2557192E1F8D7517822CE3D306056C1CDEB4",
    "k_mac": "78B5709E7ABEDB185B424D0EE3A82499",
    "k_enc": "94ABCD271AB7D9A5590BA52CB518B831",
}
DH = {
    "picc_private": "00D0E5A95ECA541DEF4FE92B9FF9920D49A454C297",
    "picc_public_prefix": "1B3345F8DC04341BF8B2C97F652FA680",
    "pcd_private": "00A2CFFD06C34AFD622EEE0FC31F093FDFDA609C67121CACF0A8F52291DE6853BB5C93CF"
    "76705775ECF408A74302613BEECB381447D36494C9E18951EC17252DD2A807AAE09FA4DC30183339013D9C91"
    "91303CACEE3C91E926A36D014A5CFA94950CADB37B534F32A9BF76B379809793"
    "04C5663871BD746EB9E95A47CA471B4EDE",
    "pcd_public": "A2830947A6FCAACDE2FCB88B29AB38E07C3453ABC4BCB466087E11C79F32A19E"
    "6EF22BE108F8DD18FE8249C960951511200DC985AA3EC0CCAD59A5F9BBCC33EE"
    "5F1577E20330B4DD10EB06B740277C97A189180EDE52BEE9D429F10FB77F180F"
    "05D6A99C499CB5E1ECEEB8E92284F66EA98479674CE73F53C567A03B0D297833",
    "nonce": "1A1AC1AB04D96965",
    "k": "2A4FC2D11490DF4773DDFA6FF705557C51F4AD4533E8D8A66A3001BFDD271DB8"
    "7BE3C1CAC22A05E8AF1A066DD0298E75DB928AAFDF00EB4BFB1BD12F372313C1"
    "CA649056517305638515D5A4FBE0AC59BDC80E8C5A5F46254D231916EA77F80A"
    "C58E6B63A26198EE4387F10981E8E46FFBA23790C81E679363C589587D30BBB3",
    "k_mac": "066721F3EBEA787B4F1C6DCA431EC229",
    "k_enc": "E813D09DF69FFCC63763C537F828985C",
}


def _h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def _card_security_key(samples: Path, kind: str) -> si.CaPublicKeyInfo:
    raw = sample_bytes(samples, f"bsi_eac_worked_example/{kind}/EF_CardSecurity.bin")
    content = cms.ContentInfo.load(raw)["content"]["encap_content_info"]["content"].native
    return si.parse_security_infos(content, file="EF.CardSecurity").ca_public_keys[0]


AES128 = ca.CaAlgorithm.from_oid("0.4.0.127.0.7.2.2.3.2.2")  # id-CA-ECDH-AES-CBC-CMAC-128


def test_ecdh_worked_example() -> None:
    group = standardized_group(13)  # brainpoolP256r1, as in the example's EF.CardAccess
    pk_picc = group.decode(_h(ECDH["picc_public"]))
    assert group.encode(group.multiply(int(ECDH["picc_private"], 16))) == _h(ECDH["picc_public"])
    sk_pcd = int(ECDH["pcd_private"], 16)
    assert group.encode(group.multiply(sk_pcd)) == _h(ECDH["pcd_public"])
    k = ca.key_agreement(group, sk_pcd, pk_picc)
    assert k == _h(ECDH["k"])
    # the chip computes the same K from its static key and the terminal's ephemeral key
    assert (
        ca.key_agreement(group, int(ECDH["picc_private"], 16), group.decode(_h(ECDH["pcd_public"])))
        == k
    )
    ks_enc, ks_mac = ca.session_keys(k, AES128, _h(ECDH["nonce"]))
    assert (ks_enc, ks_mac) == (_h(ECDH["k_enc"]), _h(ECDH["k_mac"]))
    # CA v2's token T_PICC = CMAC(KS_mac, 7F49 {06 OID, 86 PK_PCD}) (TR-03110-2 §3.4.1)
    body = core.ObjectIdentifier(AES128.oid).dump() + b"\x86\x41" + _h(ECDH["pcd_public"])
    token_input = b"\x7f\x49" + bytes([len(body)]) + body
    assert aes_cmac(ks_mac, token_input)[:8] == _h(ECDH["token"])
    # CA version 1 (no nonce) is KDF(K, 1), KDF(K, 2) of the same K
    assert ca.session_keys(k, AES128) == (kdf(k, 1, CipherKind.AES), kdf(k, 2, CipherKind.AES))


def test_dh_worked_example(samples: Path) -> None:
    group = standardized_group(0)  # 1024-bit MODP group with 160-bit subgroup (RFC 5114 §2.1)
    info = _card_security_key(samples, "dh")
    y = core.Integer.load(info.public_key).native
    pk_raw = group.encode(y)
    assert pk_raw.startswith(_h(DH["picc_public_prefix"]))
    assert group.encode(group.multiply(int(DH["picc_private"], 16))) == pk_raw
    pk_picc = ca.chip_public_key(info, group)
    sk_pcd = int(DH["pcd_private"], 16)
    assert group.encode(group.multiply(sk_pcd)) == _h(DH["pcd_public"])
    k = ca.key_agreement(group, sk_pcd, pk_picc)
    assert k == _h(DH["k"])
    algorithm = ca.CaAlgorithm.from_oid("0.4.0.127.0.7.2.2.3.1.2")  # id-CA-DH-AES-CBC-CMAC-128
    ks_enc, ks_mac = ca.session_keys(k, algorithm, _h(DH["nonce"]))
    assert (ks_enc, ks_mac) == (_h(DH["k_enc"]), _h(DH["k_mac"]))


def test_worked_example_chip_key_is_the_card_security_key(samples: Path) -> None:
    info = _card_security_key(samples, "ecdh")
    assert info.public_key == _h(ECDH["picc_public"])
    assert ca.ca_group(info).name == "brainpoolP256r1"
    assert ca.chip_public_key(info) is not None


# --- command encodings (9303-11 §6.2.4, TR-03110-3 B.11) ------------------------------------


def test_mse_set_kat_data() -> None:
    pk = _h(ECDH["pcd_public"])
    assert ca.mse_set_kat_data(pk) == b"\x91\x41" + pk
    assert ca.mse_set_kat_data(pk, 1) == b"\x91\x41" + pk + b"\x84\x01\x01"
    assert ca.mse_set_kat_data(pk, 0x1234) == b"\x91\x41" + pk + b"\x84\x02\x12\x34"
    assert ca.parse_mse_set_kat(ca.mse_set_kat_data(pk, 300)) == (pk, 300)


def test_mse_set_at_and_general_authenticate_data() -> None:
    assert ca.mse_set_at_data(AES128) == _h("800A04007F00070202030202")
    assert ca.mse_set_at_data(AES128, 13) == _h("800A04007F00070202030202 84010D")
    assert ca.parse_mse_set_at(ca.mse_set_at_data(AES128, 13)) == (AES128.oid, 13)
    pk = _h(ECDH["pcd_public"])
    assert ca.general_authenticate_data(pk) == b"\x7c\x43\x80\x41" + pk


@pytest.mark.parametrize(
    ("oid", "name", "kat"),
    [
        ("0.4.0.127.0.7.2.2.3.1.1", "CA-DH-3DES", True),
        ("0.4.0.127.0.7.2.2.3.2.1", "CA-ECDH-3DES", True),
        ("0.4.0.127.0.7.2.2.3.2.2", "CA-ECDH-AES-128", False),
        ("0.4.0.127.0.7.2.2.3.1.3", "CA-DH-AES-192", False),
        ("0.4.0.127.0.7.2.2.3.2.4", "CA-ECDH-AES-256", False),
    ],
)
def test_algorithms(oid: str, name: str, kat: bool) -> None:
    algorithm = ca.CaAlgorithm.from_oid(oid)
    assert (algorithm.name, algorithm.uses_kat) == (name, kat)
    ks_enc, _ = ca.session_keys(bytes(32), algorithm)
    assert len(ks_enc) == (16 if kat else algorithm.key_length // 8)


@pytest.mark.parametrize(
    "oid",
    ["0.4.0.127.0.7.2.2.3.2.5", "0.4.0.127.0.7.2.2.3.3.2", "0.4.0.127.0.7.2.2.4.2.2", "1.2.3"],
)
def test_unknown_algorithms(oid: str) -> None:
    from epass.errors import UnsupportedAlgorithmError

    with pytest.raises(UnsupportedAlgorithmError):
        ca.CaAlgorithm.from_oid(oid)


def test_general_authenticate_data_is_pace_dynamic_authentication_data() -> None:
    """One builder for 7C objects (PACE's), so no encoding exists twice."""
    assert ca.general_authenticate_data(b"\x01") == pace.dynamic_authentication_data(0x80, b"\x01")
