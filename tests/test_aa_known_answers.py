"""Active Authentication known answers (ICAO 9303-11 Appendix F; ISO/IEC 9796-2 vectors).

* ICAO Doc 9303-11 (8th ed.) Appendix F, "Worked example: Active Authentication":
  RSA-1024, SHA-1, RND.IFD = F173589974BF40C6; c = k - Lh - 8t - 4 = 852 bits,
  M1 of c - 4 = 848 bits (106 bytes), D = SHA-1(M1 ‖ RND.IFD), F = 6A ‖ M1 ‖ D ‖ BC.
  The appendix gives no key, so F is signed here with a runtime test key and
  recovered through epass.access.aa; every published value is compared.
* ISO/IEC 9796-2:1997 (edition 1) example via Bouncy Castle's ISO9796Test
  (test 5): a 640-bit key with e = 3, RIPEMD-160, implicit trailer BC, partial
  recovery of a 112-byte message.
* Generated vectors: every hash's trailer (BC, 33CC, 34CC, 35CC, 36CC, 38CC).
"""

from __future__ import annotations

import hashlib

import pytest

from drivers.virtual.chip_auth import AaChipKey, aa_sign_rsa, rsa_test_key
from epass._crypto.rsa_raw import RsaPublicNumbers
from epass.access import aa
from epass.errors import InvalidSignatureError
from epass.lds import dg15

# --- 9303-11 Appendix F -----------------------------------------------------------------------

RND_IFD = bytes.fromhex("F173589974BF40C6")
M1 = bytes.fromhex(
    "9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991"
    "B543F1696546C5524CF23A5303CD6C98599F40B79F377B5F3A1406B3B4D8F967"
    "84D23AA88DB7E1032A405E69325FA91A6E86F5C71AEA978264C4A207446DAD4E"
    "7292E2DCDA3024B47DA8"
)
DIGEST = bytes.fromhex("C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127")
F = bytes.fromhex(
    "6A9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC19"
    "91B543F1696546C5524CF23A5303CD6C98599F40B79F377B5F3A1406B3B4D8F9"
    "6784D23AA88DB7E1032A405E69325FA91A6E86F5C71AEA978264C4A207446DAD"
    "4E7292E2DCDA3024B47DA8C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127BC"
)


@pytest.fixture(scope="module")
def key_1024() -> AaChipKey:
    return AaChipKey.generate_rsa(1024)


def test_appendix_f_sizes_and_digest() -> None:
    """c = 1024 - 160 - 8 - 4 = 852, M1 has c - 4 = 848 bits; D = SHA-1(M1 ‖ RND.IFD)."""
    assert 1024 - 160 - 8 * 1 - 4 == 852
    assert len(M1) * 8 == 848
    assert hashlib.sha1(M1 + RND_IFD).digest() == DIGEST
    assert bytes([0x6A]) + M1 + DIGEST + b"\xbc" == F


def test_appendix_f_internal_authenticate_command() -> None:
    """The command of the example: 00 88 00 00 08 F173589974BF40C6 00."""
    command = aa.internal_authenticate_command(RND_IFD)
    assert command.to_bytes() == bytes.fromhex("0088000008F173589974BF40C600")


def test_appendix_f_recovery(key_1024: AaChipKey) -> None:
    """Sign F (the chip's step 10), recover it (steps 12-15) and check D (steps 16-18)."""
    signature = aa_sign_rsa(key_1024.private_key, RND_IFD, rng=lambda n: M1[:n])
    assert len(signature) == 128
    numbers = aa.aa_public_key(key_1024.dg15()).rsa
    assert numbers is not None
    recovered = aa.recover_message(numbers, signature)
    assert recovered.representative == F
    assert recovered.m1 == M1
    assert recovered.digest == DIGEST
    assert (recovered.hash, recovered.trailer) == ("sha1", b"\xbc")
    check = aa.check_response(aa.aa_public_key(key_1024.dg15()), RND_IFD, signature)
    assert check.valid and check.recovered_digest == DIGEST
    assert check.recovered_message == M1
    assert aa.verify_response(key_1024.dg15(), RND_IFD, signature)
    # the same signature does not answer another challenge
    assert not aa.verify_response(key_1024.dg15(), bytes(8), signature)


# --- ISO/IEC 9796-2 (edition 1) example, via Bouncy Castle ISO9796Test test 5 ----------------

MOD3 = int(
    "ffffffff78f6c55506c59785e871211ee120b0b5dd644aa796d82413a47b24573f1be5745b5cd9950f6b389b"
    "52350d4e01e90009669a8720bf265a2865994190a661dea3c7828e2e7ca1b19651adc2d5",
    16,
)
MSG5 = bytes.fromhex("fedcba9876543210" * 14)
SIG5 = bytes.fromhex(
    "5cf9a01854dbacaec83aae8efc563d74538192e95466babacd361d7c86000fe42dcb4581e48e4feb862d0469"
    "8da9203b1803b262105104d510b365ee9c660857ba1c001aa57abfd1c8de92e47c275cae"
)


def test_iso9796_2_public_vector_partial_recovery() -> None:
    try:
        hashlib.new("ripemd160")
    except ValueError:
        pytest.skip("RIPEMD-160 not available in this OpenSSL")
    key = RsaPublicNumbers(MOD3, 3)
    recovered = aa.recover_message(key, SIG5, implicit_hash="ripemd160")
    assert key.bits == 640 and len(recovered.representative) == 80
    assert recovered.representative[0] == 0x6A and recovered.trailer == b"\xbc"
    assert len(recovered.m1) == 80 - 1 - 20 - 1
    assert recovered.m1 == MSG5[: len(recovered.m1)]
    assert recovered.digest == hashlib.new("ripemd160", MSG5).digest()
    assert not recovered.complement
    # one bit off in the signature breaks the structure or the digest
    bad = bytes([SIG5[0] ^ 1]) + SIG5[1:]
    try:
        other = aa.recover_message(key, bad, implicit_hash="ripemd160")
    except InvalidSignatureError:
        return
    assert other.digest != hashlib.new("ripemd160", other.m1 + MSG5[len(other.m1) :]).digest()


# --- generated: trailers of every hash --------------------------------------------------------


@pytest.mark.parametrize(
    ("hash_name", "explicit", "trailer"),
    [
        ("sha1", False, "bc"),
        ("sha1", True, "33cc"),
        ("sha224", None, "38cc"),
        ("sha256", None, "34cc"),
        ("sha384", None, "36cc"),
        ("sha512", None, "35cc"),
    ],
)
def test_trailers(hash_name: str, explicit: bool | None, trailer: str) -> None:
    key = rsa_test_key(1536)
    challenge = bytes(range(8))
    signature = aa_sign_rsa(key, challenge, hash_name=hash_name, explicit_trailer=explicit)
    numbers = RsaPublicNumbers(key.public_key().public_numbers().n, 65537)
    recovered = aa.recover_message(numbers, signature)
    assert recovered.trailer.hex() == trailer and recovered.hash == hash_name
    assert recovered.representative[0] == 0x6A
    assert len(recovered.representative) == 1536 // 8
    size = hashlib.new(hash_name).digest_size
    assert len(recovered.m1) == 1536 // 8 - 1 - size - len(trailer) // 2
    assert recovered.digest == hashlib.new(hash_name, recovered.m1 + challenge).digest()


def test_minimal_signature_is_recovered_from_n_minus_j() -> None:
    """ISO/IEC 9796-2 signers may send min(s, n - s); then J ≢ 12 (mod 16) and F = n - J."""
    key = rsa_test_key(1024)
    dg = dg15.encode(AaChipKey(key).subject_public_key_info())
    challenge = b"\x01" * 8
    for _ in range(8):  # until min() picked n - s (about half the time)
        signature = aa_sign_rsa(key, challenge, minimal=True)
        numbers = aa.aa_public_key(dg).rsa
        assert numbers is not None
        recovered = aa.recover_message(numbers, signature)
        assert aa.verify_response(dg, challenge, signature)
        if recovered.complement:
            return
    pytest.fail("min(s, n - s) never chose n - s in 8 signatures")
