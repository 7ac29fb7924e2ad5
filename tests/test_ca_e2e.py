"""Chip Authentication v1 end to end against the in-test chip, and the DG14 samples.

9303-11 §6.2: ECDH and DH, 3DES (MSE:Set KAT) and AES-128/192/256 (MSE:Set AT +
GENERAL AUTHENTICATE), over a 3DES session (as after BAC) and an AES session
(as after PACE); the new session starts with SSC 0 and a protected command
proves it (prove_session); a clone (another private key behind the same DG14)
is caught by that proof; keyId selection with several keys; the DG14 samples
(BSI 2008 with explicit brainpoolP224r1, jmrtd's spec sample with PKCS #3 DH)
give a usable key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.virtual.chip_auth import CaChipKey, ChipAuthResponder
from epass._crypto.symmetric import CipherKind
from epass.access import ca
from epass.access.pace_groups import PaceGroup, standardized_group
from epass.lds import dg14
from epass.lds.security_infos import SecurityInfos, encode_security_infos, parse_security_infos
from tests.aa_ca_chip import MiniAuthChip
from tests.conftest import sample_bytes

_KEYS: dict[tuple[int, int | None], CaChipKey] = {}


def _key(parameter_id: int, key_id: int | None = None) -> CaChipKey:
    if (parameter_id, key_id) not in _KEYS:
        _KEYS[parameter_id, key_id] = CaChipKey.generate(
            standardized_group(parameter_id), key_id=key_id
        )
    return _KEYS[parameter_id, key_id]


def _dg14(*elements: bytes) -> SecurityInfos:
    return parse_security_infos(encode_security_infos(list(elements)), file="DG14")


GROUPS = {"P-256": 12, "brainpoolP256r1": 13, "brainpoolP384r1": 16, "DH-1024": 0, "DH-2048/256": 2}


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("cipher", [1, 2, 3, 4])
@pytest.mark.parametrize("session", [CipherKind.DES3, CipherKind.AES])
def test_every_group_and_cipher(group: str, cipher: int, session: CipherKind) -> None:
    key = _key(GROUPS[group])
    infos = _dg14(key.public_key_info(), key.ca_info(cipher))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[key]), cipher=session)
    channel = chip.channel()
    old = channel.sm
    result = ca.perform_ca(channel, infos)
    assert channel.sm is result.sm and result.sm is not old
    assert result.sm.ssc == 0
    assert result.key_agreement == ("DH" if group.startswith("DH") else "ECDH")
    assert result.cipher == ("3DES" if cipher == 1 else "AES")
    assert result.key_length == {1: 112, 2: 128, 3: 192, 4: 256}[cipher]
    assert result.commands == (
        ("MSE:Set KAT",) if cipher == 1 else ("MSE:Set AT", "GENERAL AUTHENTICATE")
    )
    assert chip.log == (["kat"] if cipher == 1 else ["at", "ga"])  # MSE and GA, nothing else
    assert not result.proven
    proven = ca.prove_session(channel, result)
    assert proven.proven and proven.proof and "SUCCESS" in proven.proof
    assert chip.log[-1] == "other"
    assert proven.sm.ssc == 2  # one command and one response under the new keys


def test_evidence_fields() -> None:
    key = _key(13, 7)
    infos = _dg14(key.public_key_info(), key.ca_info(2))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[key]))
    result = ca.perform_ca(chip.channel(), infos, rng=lambda n: (5).to_bytes(n, "big"))
    assert result.protocol == "0.4.0.127.0.7.2.2.3.2.2"
    assert (result.key_id, result.group_name) == (7, "brainpoolP256r1")
    group = standardized_group(13)
    assert result.ephemeral_public_key == group.encode(group.multiply(5))
    assert result.chip_public_key == key.public_key
    assert result.public_key_info.key_id == 7 and result.public_key_info.raw


def test_ephemeral_key_redrawn_while_out_of_range() -> None:
    """int.from_bytes(rng(L)) with L the order's byte length, drawn again while not in [1, n-1]."""
    key = _key(12)
    infos = _dg14(key.public_key_info(), key.ca_info(2))
    group: PaceGroup[Any] = standardized_group(12)
    draws = [bytes(32), b"\xff" * 32, (9).to_bytes(32, "big")]
    asked: list[int] = []

    def rng(n: int) -> bytes:
        asked.append(n)
        return draws.pop(0)

    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[key]))
    result = ca.perform_ca(chip.channel(), infos, rng=rng)
    assert asked == [32, 32, 32]
    assert result.ephemeral_public_key == group.encode(group.multiply(9))


def test_several_keys_chosen_by_key_id() -> None:
    """Two keys; the ChipAuthenticationInfo names keyId 2 (the DH one) and 84 carries it."""
    ec_key, dh_key = _key(12, 1), _key(2, 2)
    infos = _dg14(ec_key.public_key_info(), dh_key.public_key_info(), dh_key.ca_info(4))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[ec_key, dh_key]))
    result = ca.perform_ca(chip.channel(), infos)
    assert (result.key_id, result.key_agreement, result.key_length) == (2, "DH", 256)
    options = ca.ca_options(infos)
    assert [o.key_id for o in options] == [2]


def test_strongest_option_first() -> None:
    key = _key(12)
    infos = _dg14(key.public_key_info(), key.ca_info(1), key.ca_info(3))
    assert [o.algorithm.name for o in ca.ca_options(infos)] == ["CA-ECDH-AES-192", "CA-ECDH-3DES"]


def test_without_ca_info_3des_is_assumed() -> None:
    key = _key(12)
    infos = _dg14(key.public_key_info())
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[key]))
    channel = chip.channel()
    result = ca.perform_ca(channel, infos)
    assert result.cipher == "3DES" and "3DES assumed" in result.problems[0]
    assert ca.prove_session(channel, result).proven


@pytest.mark.parametrize("cipher", [1, 2])
@pytest.mark.parametrize("parameter_id", [12, 0])
def test_clone_fails_the_proof(cipher: int, parameter_id: int) -> None:
    """The specimen's DG14 on a chip holding another private key: the new keys differ, the
    chip's first protected answer does not verify, the channel is dead."""
    genuine = _key(parameter_id)
    clone = CaChipKey.generate(standardized_group(parameter_id))
    infos = _dg14(genuine.public_key_info(), genuine.ca_info(cipher))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[clone]))
    channel = chip.channel()
    result = ca.perform_ca(channel, infos)  # the chip accepts MSE/GA: nothing shows yet
    proof = ca.prove_session(channel, result)
    assert not proof.proven and proof.proof
    assert channel.dead is not None


def test_chip_that_cannot_answer_after_ca() -> None:
    key = _key(12)
    infos = _dg14(key.public_key_info(), key.ca_info(2))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[key]), plain_after_ca=True)
    channel = chip.channel()
    proof = ca.prove_session(channel, ca.perform_ca(channel, infos))
    assert not proof.proven and "first command under the new keys" in (proof.proof or "")


# --- samples ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name", "group", "problem"),
    [
        ("bsi_refset_2008/DG14.bin", "CA-ECDH-3DES", "brainpoolP224r1", False),
        ("bsi_refset_hjp2013/DG14.bin", "CA-ECDH-3DES", "brainpoolP224r1", False),
        (
            "cardaccess_misc/DG14_jmrtd_spec_sample.bin",
            "CA-DH-3DES",
            "PKCS #3 1024-bit MODP group",
            True,
        ),
    ],
)
def test_sample_dg14_usable(samples: Path, path: str, name: str, group: str, problem: bool) -> None:
    """Explicit brainpoolP224r1 is matched to the named curve; PKCS #3 DH runs without a
    subgroup check (reported). The terminal side runs against a chip that accepts MSE:Set KAT
    (no private key exists for these files, so the proof cannot succeed)."""
    parsed = dg14.parse(sample_bytes(samples, path))
    infos = parsed.security_infos
    option = ca.select_ca(infos)
    assert option.algorithm.name == name
    assert ca.ca_group(option.public_key).name == group
    assert ca.chip_public_key(option) is not None
    assert bool(option.problems) is problem
    chip = MiniAuthChip(ChipAuthResponder(), status={"kat": 0x9000})
    channel = chip.channel()
    result = ca.perform_ca(channel, parsed)  # a parsed Dg14 is accepted as well
    assert result.group_name == group and chip.log == ["kat"]
    assert not ca.prove_session(channel, result).proven
