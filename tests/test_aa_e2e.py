"""Active Authentication end to end against the in-test chip (tests/aa_ca_chip.py), and samples.

9303-11 §6.1: RSA (ISO/IEC 9796-2 scheme 1) with moduli of 1024, 2048 and the
odd sizes found in the field (1022, 1792 bits) with each hash; ECDSA P-256 with
plain r‖s (BSI TR-03111) and DER signatures, with and without DG14's
ActiveAuthenticationInfo; a clone (another private key behind the same DG15)
fails; the BSI 2008 reference DG15 (a 1024-bit modulus encoded as a negative
INTEGER, reported as 1022 bits by a signed reading) gives a usable key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.virtual.chip_auth import AaChipKey, ChipAuthResponder
from epass._crypto.symmetric import CipherKind
from epass.access import aa
from epass.lds.security_infos import AaInfo, parse_security_infos
from tests.aa_ca_chip import MiniAuthChip
from tests.conftest import sample_bytes

_KEYS: dict[int, AaChipKey] = {}


def _rsa(bits: int, hash_name: str) -> AaChipKey:
    if bits not in _KEYS:
        _KEYS[bits] = AaChipKey.generate_rsa(bits)
    return AaChipKey(_KEYS[bits].private_key, hash_name)


def _aa_info(der: bytes | None) -> AaInfo | None:
    if der is None:
        return None
    return parse_security_infos(b"\x31" + bytes([len(der)]) + der, file="DG14").aa_info


@pytest.mark.parametrize("bits", [1024, 2048, 1022, 1792])
@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_rsa_each_size_and_hash(bits: int, hash_name: str) -> None:
    key = _rsa(bits, hash_name)
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    result = aa.perform_aa(chip.channel(), key.dg15())
    assert result.valid, result.reason
    assert result.reason is None and result.sw == 0x9000
    assert (result.algorithm, result.hash, result.key_bits) == ("RSA", hash_name, bits)
    assert result.signature_format == "ISO/IEC 9796-2 scheme 1"
    assert len(result.signature) == (bits + 7) // 8
    assert result.recovered_digest is not None and result.recovered_message is not None
    assert result.key_description == f"RSA-{bits} (e=65537)"
    assert chip.responder.challenges == [result.challenge]
    assert chip.apdus == 1


def test_rsa_explicit_sha1_trailer_and_aes_session() -> None:
    key = AaChipKey(_rsa(1024, "sha1").private_key, "sha1", explicit_trailer=True)
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key), cipher=CipherKind.AES)
    result = aa.perform_aa(chip.channel(), key.dg15())
    assert result.valid and result.hash == "sha1"


@pytest.mark.parametrize("der", [False, True])
@pytest.mark.parametrize("announce", [True, False])
def test_ecdsa_p256_plain_and_der(der: bool, announce: bool) -> None:
    key = AaChipKey.generate_ec("secp256r1", hash_name="sha256", der=der)
    info = _aa_info(key.aa_info()) if announce else None
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    result = aa.perform_aa(chip.channel(), key.dg15(), aa_info=info)
    assert result.valid, result.reason
    assert result.signature_format == ("DER" if der else "plain r||s")
    assert (result.algorithm, result.hash, result.curve) == ("ECDSA", "sha256", "secp256r1")
    assert result.hashes_tried == (("sha256",) if announce else ("sha1", "sha224", "sha256"))
    if not der:
        assert len(result.signature) == 64


@pytest.mark.parametrize(
    ("curve", "hash_name"),
    [("secp256r1", "sha1"), ("secp384r1", "sha512"), ("brainpoolP256r1", "sha384")],
)
def test_ecdsa_hash_not_matching_key_size_found_without_aa_info(curve: str, hash_name: str) -> None:
    """Chips sign with a hash not matching the key size; without DG14's info each is tried."""
    key = AaChipKey.generate_ec(curve, hash_name=hash_name)
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    result = aa.perform_aa(chip.channel(), key.dg15())
    assert result.valid and result.hash == hash_name
    assert result.hashes_tried[-1] == hash_name


def test_ecdsa_announced_hash_is_the_only_one_tried() -> None:
    """DG14 names SHA-256 but the chip signs with SHA-1: invalid, SHA-1 is not tried."""
    key = AaChipKey.generate_ec("secp256r1", hash_name="sha1")
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    result = aa.perform_aa(chip.channel(), key.dg15(), aa_info=_aa_info(key.aa_info("sha256")))
    assert not result.valid and result.hashes_tried == ("sha256",)
    assert "sha256" in (result.reason or "")


@pytest.mark.parametrize("kind", ["rsa1024", "rsa2048", "ec"])
def test_clone_with_another_private_key_fails(kind: str) -> None:
    """The specimen's DG15 on a chip holding a different private key (a cloned chip)."""
    if kind == "ec":
        genuine = AaChipKey.generate_ec()
        clone = AaChipKey.generate_ec()
    else:
        bits = int(kind[3:])
        genuine = _rsa(bits, "sha1")
        clone = AaChipKey.generate_rsa(bits)
    chip = MiniAuthChip(ChipAuthResponder(aa_key=clone))
    result = aa.perform_aa(chip.channel(), genuine.dg15())
    assert not result.valid
    assert result.reason


def test_fresh_challenge_each_run() -> None:
    key = _rsa(1024, "sha1")
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    channel = chip.channel()
    first = aa.perform_aa(channel, key.dg15())
    second = aa.perform_aa(channel, key.dg15())
    assert first.valid and second.valid
    assert first.challenge != second.challenge
    assert chip.responder.challenges == [first.challenge, second.challenge]


def test_rng_draw_is_the_challenge() -> None:
    key = _rsa(1024, "sha1")
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    result = aa.perform_aa(chip.channel(), key.dg15(), rng=lambda n: b"\xa5" * n)
    assert result.challenge == b"\xa5" * 8 and result.valid


# --- samples ---------------------------------------------------------------------------------


SAMPLE_DG15 = (
    "bsi_refset_2008/DG15.bin",
    "bsi_refset_hjp2013/DG15.bin",
    "nl_specimen_2006/DG15.bin",
)


def test_sample_dg15_keys(samples: Path) -> None:
    sizes = {name: aa.aa_public_key(sample_bytes(samples, name)) for name in SAMPLE_DG15}
    # The BSI 2008 modulus is 128 bytes with the top bit set but no leading 00: DER reads a
    # negative INTEGER (whose bit length, 1022, is the "1022-bit" of samples/README.md).
    # The key is the unsigned 1024-bit value, and the deviation is reported.
    bsi = sizes["bsi_refset_2008/DG15.bin"]
    assert bsi.bits == 1024 and bsi.signature_length == 128
    assert bsi.problems and "negative INTEGER" in bsi.problems[0]
    assert not sizes["bsi_refset_hjp2013/DG15.bin"].problems
    assert sizes["bsi_refset_hjp2013/DG15.bin"].bits == 1024
    assert sizes["nl_specimen_2006/DG15.bin"].algorithm == "RSA"
    for key in sizes.values():
        assert key.rsa is not None and key.rsa.problem() is None


def test_sample_dg15_refuses_a_foreign_signature(samples: Path) -> None:
    """A signature made by another key never verifies under the BSI key (no private key exists)."""
    raw = sample_bytes(samples, "bsi_refset_2008/DG15.bin")
    other = AaChipKey.generate_rsa(1024)
    challenge = bytes(8)
    assert not aa.verify_response(raw, challenge, other.sign(challenge))


@pytest.mark.parametrize("bits", [3072, 4096])
def test_rsa_large_keys_use_extended_le(bits: int) -> None:
    """Signatures over 256 bytes: INTERNAL AUTHENTICATE asks with an extended Le (0000)."""
    key = AaChipKey.generate_rsa(bits, hash_name="sha256")
    chip = MiniAuthChip(ChipAuthResponder(aa_key=key))
    result = aa.perform_aa(chip.channel(), key.dg15())
    assert result.valid and len(result.signature) == bits // 8
    command = aa.internal_authenticate_command(result.challenge, aa.aa_public_key(key.dg15()))
    assert command.le == 65536 and command.to_bytes()[-2:] == b"\x00\x00"
