"""Known answers for the symmetric primitives and AES secure messaging.

Sources quoted per test: ICAO Doc 9303-11 (8th ed.) §9.7.1 (KDF), §9.8 (secure messaging),
Appendix G.1 (PACE ECDH-GM worked example: K_pi and session keys), RFC 4493 §4 (AES-CMAC
test vectors, identical to NIST SP 800-38B D.1).
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from epass._crypto.symmetric import aes_cmac, kdf, pad, retail_mac, unpad
from epass.errors import LocalProtocolError, SecureMessagingError
from epass.sm import Role, SecureMessaging, max_plain_response, protected_response_length

H = bytes.fromhex

# ICAO 9303-11 Appendix G.1: "the shared secret K = 28768D20...7DB84925" and the derived
# "KSEnc = F5F0E35C0D7161EE6724EE513A0D9A7F", "KSMAC = FE251C7858B356B24514B3BD5F4297D1".
G1_SHARED_SECRET = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
G1_KS_ENC = H("F5F0E35C0D7161EE6724EE513A0D9A7F")
G1_KS_MAC = H("FE251C7858B356B24514B3BD5F4297D1")


def test_kdf_pace_worked_example_g1():
    # G.1: MRZ password "T22000129364081251010318" -> K_pi = 89DED1B26624EC1E634C1989302849DD
    k = hashlib.sha1(b"T22000129364081251010318").digest()
    assert kdf(k, 3, "AES", 128) == H("89DED1B26624EC1E634C1989302849DD")
    assert kdf(G1_SHARED_SECRET, 1, "AES", 128) == G1_KS_ENC
    assert kdf(G1_SHARED_SECRET, 2, "AES", 128) == G1_KS_MAC


def test_kdf_aes_192_256_use_sha256():
    # 9303-11 §9.7.1: AES-192 and AES-256 keys are the first 24 / all 32 bytes of SHA-256.
    seed = H("00112233445566778899AABBCCDDEEFF")
    digest = hashlib.sha256(seed + H("00000001")).digest()
    assert kdf(seed, 1, "AES", 192) == digest[:24]
    assert kdf(seed, 1, "AES", 256) == digest
    with pytest.raises(LocalProtocolError):
        kdf(seed, 1, "AES", 160)


def test_aes_cmac_rfc4493():
    key = H("2B7E151628AED2A6ABF7158809CF4F3C")
    assert aes_cmac(key, b"") == H("BB1D6929E95937287FA37D129B756746")
    assert aes_cmac(key, H("6BC1BEE22E409F96E93D7E117393172A")) == H(
        "070A16B46B4D4144F79BDD9DD04A287C"
    )


def test_retail_mac_rejects_bad_key_and_pads():
    with pytest.raises(LocalProtocolError):
        retail_mac(b"short", b"data")
    assert len(retail_mac(bytes(16), b"")) == 8  # one padding block


def test_padding_method_2():
    assert pad(b"", 8) == H("8000000000000000")
    assert pad(H("011E"), 8) == H("011E800000000000")
    assert pad(bytes(8), 8) == bytes(8) + H("8000000000000000")
    assert unpad(H("011E800000000000")) == H("011E")
    for bad in (b"", bytes(8), H("0102030405060708")):
        with pytest.raises(ValueError):
            unpad(bad)


def _aes_reference_wrap(
    ks_enc: bytes, ks_mac: bytes, ssc: int, header: bytes, data: bytes, le: int
) -> bytes:
    """An independent construction of a protected command, step by step from 9303-11 §9.8.

    SSC is 16 bytes (§9.8.2); the IV is E(KS_enc, SSC) (§9.8.6.2); DO'87' = 01 || CBC(pad(data));
    the MAC is AES-CMAC over pad(SSC || pad(masked header) || DO'87' || DO'97'), first 8 bytes.
    """
    ssc_bytes = ssc.to_bytes(16, "big")
    ecb = Cipher(algorithms.AES(ks_enc), modes.ECB()).encryptor()  # noqa: S305
    iv = ecb.update(ssc_bytes) + ecb.finalize()
    enc = Cipher(algorithms.AES(ks_enc), modes.CBC(iv)).encryptor()
    cryptogram = enc.update(pad(data, 16)) + enc.finalize()
    do87 = bytes([0x87, len(cryptogram) + 1, 0x01]) + cryptogram
    do97 = bytes([0x97, 0x01, le])
    masked = bytes([header[0] | 0x0C]) + header[1:]
    c = CMAC(algorithms.AES(ks_mac))
    c.update(pad(ssc_bytes + pad(masked, 16) + do87 + do97, 16))
    mac = c.finalize()[:8]
    body = do87 + do97 + bytes([0x8E, 0x08]) + mac
    return masked + bytes([len(body)]) + body + b"\x00"


# Derived vector: the G.1 session keys with SSC = 0 (after PACE the SSC starts at zero,
# 9303-11 §9.8.2), protecting "SELECT EF.COM" with Le = 0x10 (a case 4 command). The expected
# bytes were computed once and agree with the independent construction above.
AES_SELECT = H("00A4020C02011E10")
AES_SELECT_PROTECTED = H(
    "0CA4020C20871101EE0E4724F4465C1BE9C2F73ABDD73A3D9701108E086BF9DB7A0D07A0CD00"
)


def test_aes_wrap_matches_independent_construction():
    sm = SecureMessaging("AES", G1_KS_ENC, G1_KS_MAC, 0)
    wrapped = sm.wrap(AES_SELECT)
    reference = _aes_reference_wrap(G1_KS_ENC, G1_KS_MAC, 1, AES_SELECT[:4], H("011E"), 0x10)
    assert wrapped == reference
    assert wrapped == AES_SELECT_PROTECTED
    assert sm.ssc == 1


@pytest.mark.parametrize("key_len", [16, 24, 32])
def test_aes_round_trip_terminal_and_chip(key_len):
    ks_enc, ks_mac = bytes(range(key_len)), bytes(range(100, 100 + key_len))
    term = SecureMessaging("AES", ks_enc, ks_mac, 0)
    chip = SecureMessaging("AES", ks_enc, ks_mac, 0, role=Role.CHIP)
    for command, response in [
        (H("00A4020C02011E"), H("9000")),
        (H("00B0000000"), bytes(range(200)) + H("9000")),
        (H("00B10000045402010000"), H("53820100") + bytes(256) + H("9000")),
        (H("00B08100000000"), bytes(300) + H("6282")),
    ]:
        protected = term.wrap(command)
        assert chip.unwrap(protected) == command
        assert term.unwrap(chip.wrap(response)) == response
    assert term.ssc == chip.ssc == 8


def test_aes_ssc_is_16_bytes_and_iv_depends_on_it():
    sm1 = SecureMessaging("AES", G1_KS_ENC, G1_KS_MAC, 0)
    sm2 = SecureMessaging("AES", G1_KS_ENC, G1_KS_MAC, 5)
    assert len(sm1.ssc_bytes) == 16
    # Same plaintext, different SSC -> different IV -> different cryptogram.
    assert sm1.wrap(AES_SELECT)[6:22] != sm2.wrap(AES_SELECT)[6:22]
    with pytest.raises(LocalProtocolError):
        SecureMessaging("AES", G1_KS_ENC, G1_KS_MAC, 1 << 128)


def test_ssc_wraps_around():
    sm = SecureMessaging("3DES", bytes(16), bytes(16), (1 << 64) - 1)
    sm.wrap(H("00B0000004"))
    assert sm.ssc == 0


def _pair(cipher="AES"):
    n = 16
    term = SecureMessaging(cipher, bytes(n), bytes(range(n)), 0)
    chip = SecureMessaging(cipher, bytes(n), bytes(range(n)), 0, role=Role.CHIP)
    return term, chip


def test_unwrap_rejects_flipped_mac_and_closes():
    term, chip = _pair()
    chip.unwrap(term.wrap(H("00B0000004")))
    response = bytearray(chip.wrap(H("01020304") + H("9000")))
    response[-3] ^= 1
    with pytest.raises(SecureMessagingError, match="MAC"):
        term.unwrap(bytes(response))
    assert term.closed
    with pytest.raises(LocalProtocolError, match="closed"):
        term.wrap(H("00B0000004"))


@pytest.mark.parametrize(
    "response, message",
    [
        (H("6988"), "without secure messaging"),
        (H("99029000") + H("9000"), "DO'8E'"),
        (H("8E080102030405060708") + H("9000"), "DO'99'"),
        (H("99029000990290008E080102030405060708") + H("9000"), "repeated"),
        (H("870901AABBCCDDEEFF00118E080102030405060708") + H("9000"), "DO'99'"),
        (H("990290008E0401020304") + H("9000"), "8E"),
        (H("9903") + H("9000"), "malformed"),
    ],
)
def test_unwrap_rejects_malformed_responses(response, message):
    term, _ = _pair()
    term.wrap(H("00B0000004"))
    with pytest.raises(SecureMessagingError, match=message):
        term.unwrap(response)
    assert term.closed


def test_chip_rejects_plain_and_tampered_commands():
    term, chip = _pair("3DES")
    with pytest.raises(SecureMessagingError, match="without secure messaging"):
        chip.unwrap(H("00B0000004"))
    term, chip = _pair("3DES")
    protected = bytearray(term.wrap(H("00B0000004")))
    protected[2] ^= 0x01  # P1 is covered by the MAC
    with pytest.raises(SecureMessagingError, match="MAC"):
        chip.unwrap(bytes(protected))


def test_extended_length_protection():
    term, chip = _pair()
    command = H("00B081000000 00".replace(" ", ""))  # READ BINARY SFI 1, Le = 65536
    protected = term.wrap(command)
    assert protected[4] == 0x00  # extended Lc
    assert protected[-2:] == H("0000")  # extended Le
    assert chip.unwrap(protected) == command
    big = bytes(range(256)) * 200 + H("9000")
    assert term.unwrap(chip.wrap(big)) == big


def test_short_response_capacity():
    # A short response carries at most 256 bytes: 231 plain bytes with 3DES, 223 with AES.
    assert max_plain_response(256, 8) == 231
    assert max_plain_response(256, 16) == 223
    assert protected_response_length(231, 8) == 250
    assert protected_response_length(232, 8) == 258
    assert protected_response_length(223, 16) == 242
    assert protected_response_length(224, 16) == 258


def test_keys_never_in_repr():
    sm = SecureMessaging("3DES", H("979EC13B1CBFE9DCD01AB0FED307EAE5"), bytes(16), 0)
    assert "979E" not in repr(sm).upper()
