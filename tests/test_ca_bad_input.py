"""Chip Authentication bad input: typed errors naming the step or the file, never a pass.

9303-11 §6.2, TR-03110-3 B.11: the chip answering 6A80/6982 to MSE:Set KAT,
MSE:Set AT or GENERAL AUTHENTICATE; a GA answer with version 2 data or
malformed; a DG14 whose key is on an unknown curve, not on its curve, or
outside its DH group; DG14 without a CA key, with only version 2 infos, or a
keyId that names no key; CA without secure messaging; the chip side refusing
bad command data.
"""

from __future__ import annotations

import pytest
from asn1crypto import core

from drivers.virtual.chip_auth import CaChipKey, ChipAuthResponder
from epass.access import ca
from epass.access.pace_groups import standardized_group
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import (
    AccessControlError,
    LocalProtocolError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds import security_infos as si
from epass.lds.security_infos import encode_security_infos, parse_security_infos
from tests.aa_ca_chip import MiniAuthChip


@pytest.fixture(scope="module")
def ec_key() -> CaChipKey:
    return CaChipKey.generate(standardized_group(12))


@pytest.fixture(scope="module")
def dh_key() -> CaChipKey:
    return CaChipKey.generate(standardized_group(0))


def _dg14(*elements: bytes) -> si.SecurityInfos:
    return parse_security_infos(encode_security_infos(list(elements)), file="DG14")


@pytest.mark.parametrize("sw", [0x6A80, 0x6982])
@pytest.mark.parametrize(
    ("cipher", "step", "name"),
    [(1, "kat", "MSE:Set KAT"), (2, "at", "MSE:Set AT"), (2, "ga", "GENERAL AUTHENTICATE")],
)
def test_chip_refuses_a_step(ec_key: CaChipKey, sw: int, cipher: int, step: str, name: str) -> None:
    infos = _dg14(ec_key.public_key_info(), ec_key.ca_info(cipher))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[ec_key]), status={step: sw})
    channel = chip.channel()
    old = channel.sm
    with pytest.raises(AccessControlError) as err:
        ca.perform_ca(channel, infos)
    assert (err.value.protocol, err.value.step, err.value.sw) == ("CA", name, sw)
    assert channel.sm is old  # no switch to new keys


def test_ga_answer_with_version_2_data(ec_key: CaChipKey) -> None:
    infos = _dg14(ec_key.public_key_info(), ec_key.ca_info(2))
    chip = MiniAuthChip(
        ChipAuthResponder(ca_keys=[ec_key]),
        tamper=lambda step, data: (
            (b"\x7c\x0c\x81\x08" + bytes(8) + b"\x82\x00") if step == "ga" else data
        ),
    )
    with pytest.raises(AccessControlError, match="version 2") as err:
        ca.perform_ca(chip.channel(), infos)
    assert err.value.step == "GENERAL AUTHENTICATE"


@pytest.mark.parametrize("answer", [b"\x7c", b"\x30\x00", b"\x7c\x02\x99\x00"])
def test_ga_answer_malformed(ec_key: CaChipKey, answer: bytes) -> None:
    infos = _dg14(ec_key.public_key_info(), ec_key.ca_info(2))
    chip = MiniAuthChip(
        ChipAuthResponder(ca_keys=[ec_key]),
        tamper=lambda step, data: answer if step == "ga" else data,
    )
    with pytest.raises(AccessControlError) as err:
        ca.perform_ca(chip.channel(), infos)
    assert err.value.protocol == "CA"


def test_ga_answer_empty_is_accepted(ec_key: CaChipKey) -> None:
    infos = _dg14(ec_key.public_key_info(), ec_key.ca_info(2))
    chip = MiniAuthChip(
        ChipAuthResponder(ca_keys=[ec_key]), tamper=lambda s, d: b"" if s == "ga" else d
    )
    channel = chip.channel()
    assert ca.prove_session(channel, ca.perform_ca(channel, infos)).proven


def test_key_not_on_curve(ec_key: CaChipKey) -> None:
    info = parse_security_infos(encode_security_infos([ec_key.public_key_info()]), file="DG14")
    element = bytearray(info.ca_public_keys[0].raw)
    element[-1] ^= 0x01  # last byte of the point's Y
    infos = _dg14(bytes(element), ec_key.ca_info(2))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[ec_key]))
    with pytest.raises(ParseError, match="not on the curve") as err:
        ca.perform_ca(chip.channel(), infos)
    assert err.value.file == "DG14" and err.value.offset is not None
    assert chip.apdus == 0


def test_dh_key_outside_group(dh_key: CaChipKey) -> None:
    spki = si.SubjectPublicKeyInfo.load(dh_key.subject_public_key_info())
    for bad in (1, standardized_group(0).prime - 1, 2):  # 2 is not in the order-q subgroup
        spki2 = si.SubjectPublicKeyInfo(
            {"algorithm": spki["algorithm"], "public_key": core.Integer(bad).dump()}
        )
        infos = _dg14(si.encode_ca_public_key_info(spki2.dump()), dh_key.ca_info(2))
        with pytest.raises(ParseError, match="DG14"):
            ca.chip_public_key(ca.select_ca(infos))


def test_unknown_curve(ec_key: CaChipKey) -> None:
    spki = si.SubjectPublicKeyInfo.load(ec_key.subject_public_key_info())
    from asn1crypto import keys

    algorithm = si.DomainParameterAlgorithm(
        {
            "algorithm": "ec",
            "parameters": keys.ECDomainParameters(name="named", value="1.3.132.0.10"),
        }
    )
    spki2 = si.SubjectPublicKeyInfo({"algorithm": algorithm, "public_key": spki["public_key"]})
    infos = _dg14(si.encode_ca_public_key_info(spki2.dump()), ec_key.ca_info(2))
    with pytest.raises(UnsupportedAlgorithmError, match="unknown named curve"):
        ca.select_ca(infos)
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[ec_key]))
    with pytest.raises(UnsupportedAlgorithmError):
        ca.perform_ca(chip.channel(), infos)
    assert chip.apdus == 0


def test_no_ca_key(ec_key: CaChipKey) -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="not offered"):
        ca.select_ca(_dg14(ec_key.ca_info(2)))


def test_only_version_2_and_key_id_mismatch() -> None:
    key = CaChipKey.generate(standardized_group(12), key_id=1)
    v2 = si.encode_ca_info("0.4.0.127.0.7.2.2.3.2.2", version=2, key_id=1)
    with pytest.raises(UnsupportedAlgorithmError, match="version 2"):
        ca.select_ca(_dg14(key.public_key_info(), v2))
    other = si.encode_ca_info("0.4.0.127.0.7.2.2.3.2.2", version=1, key_id=9)
    with pytest.raises(UnsupportedAlgorithmError, match="no matching public key"):
        ca.select_ca(_dg14(key.public_key_info(), other))
    dh_info = si.encode_ca_info("0.4.0.127.0.7.2.2.3.1.2", version=1, key_id=1)
    with pytest.raises(UnsupportedAlgorithmError, match="ECDH"):
        ca.select_ca(_dg14(key.public_key_info(), dh_info))


def test_without_secure_messaging(ec_key: CaChipKey) -> None:
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[ec_key]))
    with pytest.raises(LocalProtocolError):
        ca.perform_ca(Channel(chip), _dg14(ec_key.public_key_info(), ec_key.ca_info(2)))
    assert chip.apdus == 0


def test_prove_session_needs_the_ca_session(ec_key: CaChipKey) -> None:
    infos = _dg14(ec_key.public_key_info(), ec_key.ca_info(2))
    chip = MiniAuthChip(ChipAuthResponder(ca_keys=[ec_key]))
    channel = chip.channel()
    result = ca.perform_ca(channel, infos)
    with pytest.raises(LocalProtocolError):
        ca.prove_session(chip.channel(), result)


# --- the chip side refuses bad command data ----------------------------------------------------


def _process(responder: ChipAuthResponder, apdu: str, secure: bool = True) -> int:
    command = CommandApdu.from_bytes(bytes.fromhex(apdu))
    assert responder.handles(command) or command.ins == 0x86
    return responder.process(command, secure=secure).sw


def test_chip_side_refusals(ec_key: CaChipKey) -> None:
    responder = ChipAuthResponder(ca_keys=[ec_key])
    point = ec_key.public_key.hex()
    bad_point = point[:-2] + f"{int(point[-2:], 16) ^ 1:02x}"
    assert _process(responder, "002241A643" + "9141" + point, secure=False) == 0x6982
    assert _process(responder, "002241A643" + "9141" + bad_point) == 0x6A80
    assert _process(responder, "002241A603" + "910100") == 0x6A80
    assert _process(responder, "002241A646" + "9141" + point + "840107") == 0x6A88
    assert _process(responder, "002241A40F" + "800A04007F00070202030202" + "840109") == 0x6A88
    assert _process(responder, "002241A40C" + "800A04007F00070202030209") == 0x6A80
    assert not responder.handles(CommandApdu.from_bytes(bytes.fromhex("0086000002" + "7C00")))
    assert _process(responder, "002241A40C" + "800A04007F00070202030202") == 0x9000
    assert _process(responder, "0086000045" + "7C438041" + bad_point) == 0x6A80
    assert responder.pending is None
    # PACE's MSE:Set AT is not CA's
    pace_mse = CommandApdu.from_bytes(bytes.fromhex("002241A40F800A04007F00070202040202830101"))
    assert not responder.handles(pace_mse)


def test_chip_side_survives_random_command_data(ec_key: CaChipKey, dh_key: CaChipKey) -> None:
    """Random data in MSE:Set KAT / MSE:Set AT / GA: a status word, never an exception."""
    import os
    import random

    rnd = random.Random(6)
    responder = ChipAuthResponder(ca_keys=[ec_key, dh_key])
    for _ in range(300):
        data = os.urandom(rnd.randrange(1, 80))
        p2 = rnd.choice([0xA6, 0xA4])
        for command in (
            CommandApdu(0x00, 0x22, 0x41, p2, data),
            CommandApdu(0x00, 0x86, 0x00, 0x00, data, le=256),
        ):
            if command.ins == 0x86:
                responder.pending = (ca.CaAlgorithm.from_oid("0.4.0.127.0.7.2.2.3.2.2"), ec_key)
            answer = responder.process(command, secure=True)
            assert answer.sw != 0x9000 or answer.session is None or command.ins == 0x22
