"""Active Authentication bad input: each a typed error or a failed check with a reason, never valid.

9303-11 §6.1: a response of the wrong length (refused, never padded), a
recovered message with the wrong header or trailer or an unknown hash id, a
DG15 with exponent 1, an even exponent or a modulus under 512 bits, an EC key
off its curve or on an unknown curve, a malformed DG15, the chip answering
6A80/6982, an ActiveAuthenticationInfo naming an unknown algorithm, and a
broken rng that repeats a challenge.
"""

from __future__ import annotations

import pytest
from asn1crypto import keys

from drivers.virtual.chip_auth import AaChipKey, ChipAuthResponder, aa_sign_rsa
from epass._crypto.rsa_raw import RsaPublicNumbers
from epass.access import aa
from epass.errors import (
    InvalidSignatureError,
    LocalProtocolError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds import dg15
from tests.aa_ca_chip import MiniAuthChip

CHALLENGE = bytes.fromhex("F173589974BF40C6")


@pytest.fixture(scope="module")
def rsa_key() -> AaChipKey:
    return AaChipKey.generate_rsa(1024)


@pytest.fixture(scope="module")
def ec_key() -> AaChipKey:
    return AaChipKey.generate_ec()


def _rsa_dg15(n: int, e: int) -> bytes:
    info = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "rsa"},
            "public_key": keys.RSAPublicKey({"modulus": n, "public_exponent": e}),
        }
    )
    der = bytes(info.dump())
    return b"\x6f\x82" + len(der).to_bytes(2, "big") + der


def test_wrong_length_refused_never_padded(rsa_key: AaChipKey) -> None:
    signature = rsa_key.sign(CHALLENGE)
    key = aa.aa_public_key(rsa_key.dg15())
    for bad in (signature[1:], b"\x00" + signature, signature[:64], b""):
        check = aa.check_response(key, CHALLENGE, bad)
        assert not check.valid and "bytes" in (check.reason or "")
    assert aa.check_response(key, CHALLENGE, signature).valid


def test_ecdsa_wrong_length(ec_key: AaChipKey) -> None:
    signature = ec_key.sign(CHALLENGE)
    key = aa.aa_public_key(ec_key.dg15())
    for bad in (signature[:-1], signature + b"\x00", b"\x00" + signature[:63]):
        if bad == signature:
            continue
        check = aa.check_response(key, CHALLENGE, bad)
        assert not check.valid and check.reason
    assert aa.check_response(key, CHALLENGE, signature).valid


def test_signature_above_modulus(rsa_key: AaChipKey) -> None:
    check = aa.check_response(aa.aa_public_key(rsa_key.dg15()), CHALLENGE, b"\xff" * 128)
    assert not check.valid and "modulus" in (check.reason or "")


@pytest.mark.parametrize("header", [0x4A, 0x6B, 0x00])
def test_wrong_header(rsa_key: AaChipKey, header: int) -> None:
    signature = aa_sign_rsa(rsa_key.private_key, CHALLENGE, header=header)
    check = aa.check_response(aa.aa_public_key(rsa_key.dg15()), CHALLENGE, signature)
    assert not check.valid
    assert "header" in (check.reason or "") or "trailer" in (check.reason or "")


def _raw_signature(key: AaChipKey, f: bytes) -> bytes:
    from drivers.virtual.chip_auth import rsa_private_operation

    s = rsa_private_operation(key.private_key, int.from_bytes(f, "big"))
    return s.to_bytes(128, "big")


def test_wrong_trailer(rsa_key: AaChipKey) -> None:
    m1 = bytes(106)
    digest = aa._hash("sha1", m1 + CHALLENGE)
    for trailer in (b"\xac", b"\x34\xdc"):
        f = b"\x6a" + m1[: 128 - 1 - 20 - len(trailer)] + digest + trailer
        check = aa.check_response(
            aa.aa_public_key(rsa_key.dg15()), CHALLENGE, _raw_signature(rsa_key, f)
        )
        assert not check.valid and "trailer" in (check.reason or "")


def test_unknown_hash_id(rsa_key: AaChipKey) -> None:
    f = b"\x6a" + bytes(105) + bytes(20) + b"\x39\xcc"
    check = aa.check_response(
        aa.aa_public_key(rsa_key.dg15()), CHALLENGE, _raw_signature(rsa_key, f)
    )
    assert not check.valid and "unknown hash id 39" in (check.reason or "")


def test_ripemd_trailer_is_not_allowed_for_aa(rsa_key: AaChipKey) -> None:
    f = b"\x6a" + bytes(105) + bytes(20) + b"\x31\xcc"
    try:
        check = aa.check_response(
            aa.aa_public_key(rsa_key.dg15()), CHALLENGE, _raw_signature(rsa_key, f)
        )
    except UnsupportedAlgorithmError:
        return  # no RIPEMD-160 in this OpenSSL
    assert not check.valid and "not a hash ICAO allows" in (check.reason or "")


def test_digest_mismatch(rsa_key: AaChipKey) -> None:
    """A genuine signature over another challenge (a replayed answer)."""
    signature = rsa_key.sign(bytes(8))
    check = aa.check_response(aa.aa_public_key(rsa_key.dg15()), CHALLENGE, signature)
    assert not check.valid and "H(M1 || challenge)" in (check.reason or "")
    assert check.recovered_digest is not None


def test_hash_too_big_for_key() -> None:
    """A 512-bit key cannot carry a SHA-512 digest and M1: refused with that reason."""
    from drivers.virtual.chip_auth import rsa_private_operation, rsa_test_key

    key = rsa_test_key(512)
    f = b"\x6a" + bytes(61) + b"\x35\xcc"  # 64 bytes: header, no room, SHA-512 trailer
    signature = rsa_private_operation(key, int.from_bytes(f, "big")).to_bytes(64, "big")
    numbers = RsaPublicNumbers(key.public_key().public_numbers().n, 65537)
    with pytest.raises(InvalidSignatureError, match="leaves no room for M1"):
        aa.recover_message(numbers, signature)


@pytest.mark.parametrize(
    ("e", "bits", "words"),
    [(1, 1024, "exponent is 1"), (4, 1024, "not an odd number"), (65537, 504, "at least 512")],
)
def test_weak_rsa_keys(e: int, bits: int, words: str) -> None:
    n = (1 << (bits - 1)) | 0xF1  # odd, exact size; never factored, only checked
    raw = _rsa_dg15(n, e)
    dg15.parse(raw)  # parses as a DG15
    with pytest.raises(UnsupportedAlgorithmError, match=words):
        aa.aa_public_key(raw)
    with pytest.raises(UnsupportedAlgorithmError):
        aa.verify_response(raw, CHALLENGE, bytes((bits + 7) // 8))


@pytest.mark.parametrize("raw", [b"", b"\x6f\x00", b"\x6f\x03\x30\x01\x00", b"\x70\x02\x30\x00"])
def test_unreadable_dg15(raw: bytes) -> None:
    with pytest.raises(ParseError):
        aa.verify_response(raw, CHALLENGE, bytes(128))


def test_key_bit_string_with_unused_bits(ec_key: AaChipKey) -> None:
    raw = bytearray(ec_key.dg15())
    index = raw.index(b"\x03\x42\x00\x04") + 2
    raw[index] = 0x02
    with pytest.raises(ParseError, match="unused"):
        aa.verify_response(bytes(raw), CHALLENGE, ec_key.sign(CHALLENGE))


def test_ec_point_not_on_curve(ec_key: AaChipKey) -> None:
    raw = bytearray(ec_key.dg15())
    raw[-1] ^= 0x01  # last byte of Y
    with pytest.raises(ParseError, match="DG15"):
        aa.aa_public_key(bytes(raw))


def test_ec_unknown_curve(ec_key: AaChipKey) -> None:
    spki = keys.PublicKeyInfo.load(ec_key.subject_public_key_info())
    spki["algorithm"]["parameters"] = keys.ECDomainParameters(
        name="named",
        value="1.3.132.0.10",  # secp256k1, not an ICAO curve
    )
    raw = dg15.encode(spki.dump(force=True))
    with pytest.raises(UnsupportedAlgorithmError, match="unknown EC curve"):
        aa.aa_public_key(raw)


def test_unknown_aa_info_algorithm(ec_key: AaChipKey) -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        aa.hashes_for("1.2.840.113549.1.1.11")
    chip = MiniAuthChip(ChipAuthResponder(aa_key=ec_key))
    with pytest.raises(UnsupportedAlgorithmError):
        aa.perform_aa(chip.channel(), ec_key.dg15(), aa_info="0.4.0.127.0.7.1.1.4.1.6")
    assert chip.apdus == 0  # refused before sending


@pytest.mark.parametrize("sw", [0x6A80, 0x6982, 0x6D00])
def test_chip_refuses_internal_authenticate(rsa_key: AaChipKey, sw: int) -> None:
    chip = MiniAuthChip(ChipAuthResponder(aa_key=rsa_key), status={"aa": sw})
    result = aa.perform_aa(chip.channel(), rsa_key.dg15())
    assert not result.valid and result.sw == sw
    assert f"{sw:04X}" in (result.reason or "")
    assert result.signature == b""


def test_chip_answers_success_without_signature(rsa_key: AaChipKey) -> None:
    chip = MiniAuthChip(ChipAuthResponder())  # no AA key: the test chip answers 9000, no data
    result = aa.perform_aa(chip.channel(), rsa_key.dg15())
    assert not result.valid and result.sw == 0x9000
    assert "got 0" in (result.reason or "")


def test_tampered_response(rsa_key: AaChipKey) -> None:
    chip = MiniAuthChip(
        ChipAuthResponder(aa_key=rsa_key),
        tamper=lambda step, data: data[:-1] + bytes([data[-1] ^ 1]) if data else data,
    )
    result = aa.perform_aa(chip.channel(), rsa_key.dg15())
    assert not result.valid and result.reason


def test_repeated_challenge_refused(rsa_key: AaChipKey) -> None:
    chip = MiniAuthChip(ChipAuthResponder(aa_key=rsa_key))
    channel = chip.channel()
    assert aa.perform_aa(channel, rsa_key.dg15(), rng=lambda n: b"\x11" * n).valid
    with pytest.raises(LocalProtocolError, match="repeated"):
        aa.perform_aa(channel, rsa_key.dg15(), rng=lambda n: b"\x11" * n)
    assert chip.apdus == 1
    with pytest.raises(LocalProtocolError):
        aa.perform_aa(channel, rsa_key.dg15(), rng=lambda n: b"\x11" * (n - 1))


def test_challenge_must_be_8_bytes(rsa_key: AaChipKey) -> None:
    key = aa.aa_public_key(rsa_key.dg15())
    with pytest.raises(LocalProtocolError):
        aa.check_response(key, bytes(7), bytes(128))
    with pytest.raises(LocalProtocolError):
        aa.internal_authenticate_command(bytes(9))


def test_mutated_inputs_never_crash_never_pass(rsa_key: AaChipKey, ec_key: AaChipKey) -> None:
    """Every single-byte change of DG15 or of the response: a typed error or a failed check."""
    import random

    from epass.errors import EpassError

    rnd = random.Random(9303)
    for key in (rsa_key, ec_key):
        raw = key.dg15()
        signature = key.sign(CHALLENGE)
        for _ in range(150):
            bad = bytearray(raw)
            bad[rnd.randrange(len(bad))] ^= 1 << rnd.randrange(8)
            try:
                assert not aa.verify_response(bytes(bad), CHALLENGE, signature)
            except EpassError:
                pass
            response = bytearray(signature)
            response[rnd.randrange(len(response))] ^= 1 << rnd.randrange(8)
            assert not aa.verify_response(raw, CHALLENGE, bytes(response))
            cut = signature[: rnd.randrange(len(signature))]
            assert not aa.verify_response(raw, CHALLENGE, cut)
