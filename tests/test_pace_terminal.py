"""perform_pace end to end against a minimal chip, and its refusals (9303-11 §4.4, TR-03110-3 B.11).

Every mapping x group kind x cipher x password runs against
:class:`tests.pace_chip.MiniPaceChip` (the chip side built from the same pure
functions); then each check of the terminal is made to fail: wrong password
(6300 / 63Cx), 6A80 at every step, bad tokens, malformed data objects, points
off the curve, the identity, a chip key equal to ours, wrong nonce lengths.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from drivers.replay import ScriptedTransport
from epass.access import pace
from epass.access.keys import CanKey, MrzKey
from epass.access.pace_groups import standardized_group
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import (
    AccessControlError,
    EpassError,
    LocalProtocolError,
    UnsupportedAlgorithmError,
)
from epass.lds import security_infos as si
from epass.sm import SecureMessaging
from tests.pace_chip import MiniPaceChip
from tests.test_pace_worked_examples import (
    ECDH_GM_AES128,
    G1,
    G_MRZ,
    g1_script,
    pace_info,
    scripted_rng,
)

MRZ = "L898902C<369080619406236"
CAN = "123456"


def _password(kind: str) -> pace.Password:
    return pace.Password.mrz(MRZ) if kind == "mrz" else pace.Password.can(CAN)


def _run(
    oid: str,
    parameter_id: int,
    password: str = "mrz",  # noqa: S107 - which password kind
    **chip_args: Any,
) -> tuple[pace.PaceResult, MiniPaceChip, Channel]:
    algorithm = pace.PaceAlgorithm.from_oid(oid)
    group = standardized_group(parameter_id)
    ca_key = (
        group.generate_private_key(os.urandom) if algorithm.mapping is pace.Mapping.CAM else None
    )
    chip = MiniPaceChip(_password(password), algorithm, group, ca_private_key=ca_key, **chip_args)
    channel = Channel(chip)
    result = pace.perform_pace(channel, _password(password), pace_info(oid, parameter_id))
    return result, chip, channel


_COMBOS = [
    (f"0.4.0.127.0.7.2.2.4.{family}.{cipher}", pid)
    for family, pids in (
        ("1", (0, 2)),
        ("2", (12, 13)),
        ("3", (0,)),
        ("4", (13, 14)),
        ("6", (12, 13)),
    )
    for cipher in ("1", "2", "3", "4")
    for pid in pids
    if not (family == "6" and cipher == "1")
]


@pytest.mark.parametrize(("oid", "parameter_id"), _COMBOS)
@pytest.mark.parametrize("password", ["mrz", "can"])
def test_end_to_end(oid: str, parameter_id: int, password: str) -> None:
    """Both sides agree on keys for GM/IM/CAM x ECDH/DH x 3DES/AES-128/192/256 x MRZ/CAN."""
    result, chip, _ = _run(oid, parameter_id, password)
    algorithm = pace.PaceAlgorithm.from_oid(oid)
    assert chip.sm is not None and chip.apdus == 5
    assert (result.sm.ks_enc, result.sm.ks_mac) == (chip.sm.ks_enc, chip.sm.ks_mac)
    assert len(result.sm.ks_enc) == algorithm.key_bytes
    assert result.sm.ssc == 0 and result.sm.cipher is algorithm.cipher
    assert result.mapping is algorithm.mapping
    assert result.parameter_id == parameter_id
    # the sessions interoperate: a protected command round-trips through both ends
    wire = result.sm.wrap(CommandApdu(0, 0xB0, 0, 0, le=4).to_bytes())
    assert CommandApdu.from_bytes(chip.sm.unwrap(wire)).le == 4
    if algorithm.mapping is pace.Mapping.CAM:
        assert result.cam is not None and not result.chip_authenticated
        verified = result.cam.verify(chip.ca_public_key)
        assert verified.verified_key == chip.ca_public_key
        other = standardized_group(parameter_id)
        wrong = other.encode(other.multiply(other.generate_private_key(os.urandom)))
        with pytest.raises(AccessControlError) as err:
            result.cam.verify(wrong)
        assert err.value.step == pace.STEP_CAM
    else:
        assert result.cam is None


def test_cam_key_given_up_front() -> None:
    oid = "0.4.0.127.0.7.2.2.4.6.2"
    algorithm = pace.PaceAlgorithm.from_oid(oid)
    group = standardized_group(13)
    chip = MiniPaceChip(_password("can"), algorithm, group, ca_private_key=12345)
    assert chip.ca_public_key is not None
    result = pace.perform_pace(
        Channel(chip), _password("can"), pace_info(oid, 13), ca_public_key=chip.ca_public_key
    )
    assert result.chip_authenticated
    bad = MiniPaceChip(_password("can"), algorithm, group, ca_private_key=12345)
    with pytest.raises(AccessControlError) as err:
        pace.perform_pace(
            Channel(bad),
            _password("can"),
            pace_info(oid, 13),
            ca_public_key=group.encode(group.multiply(7)),
        )
    assert err.value.step == pace.STEP_CAM


def test_password_from_access_keys() -> None:
    assert pace.Password.from_access_key(MrzKey(MRZ)) == pace.Password.mrz(MRZ)
    assert pace.Password.from_access_key(CanKey(CAN)).key == b"123456"
    with pytest.raises(LocalProtocolError):
        pace.Password.can("12a456")
    with pytest.raises(LocalProtocolError):
        pace.Password.mrz("short")


# --- the chip refuses ------------------------------------------------------------------------


def test_wrong_password_6300() -> None:
    """A wrong password: the chip's token check fails and it answers 6300 (step GA 4)."""
    algorithm = pace.PaceAlgorithm.from_oid(ECDH_GM_AES128)
    chip = MiniPaceChip(pace.Password.can("654321"), algorithm, standardized_group(13))
    with pytest.raises(pace.WrongPasswordError) as err:
        pace.perform_pace(Channel(chip), _password("can"), pace_info(ECDH_GM_AES128, 13))
    assert err.value.step == pace.STEP_MUTUAL
    assert err.value.sw == 0x6300 and err.value.retries_left is None
    assert err.value.protocol == "PACE"


def test_wrong_password_63c2_from_the_example_script() -> None:
    """App. G.1's exchange, the chip answering the last step 63C2: 2 retries left."""
    transport = ScriptedTransport(g1_script(last="63C2"))
    with pytest.raises(pace.WrongPasswordError) as err:
        pace.perform_pace(
            Channel(transport),
            pace.Password.mrz(G_MRZ),
            pace_info(ECDH_GM_AES128, 13),
            rng=scripted_rng(G1["sk_map_ifd"], G1["sk_ifd"]),
        )
    assert (err.value.retries_left, err.value.sw, err.value.step) == (2, 0x63C2, pace.STEP_MUTUAL)
    assert "2 retries left" in str(err.value)


def test_bad_chip_token() -> None:
    """App. G.1 with the chip's token T_IC altered: the terminal refuses it."""
    bad = bytes([G1["t_ic"][0] ^ 1]) + G1["t_ic"][1:]
    transport = ScriptedTransport(g1_script(t_ic=bad))
    channel = Channel(transport)
    with pytest.raises(AccessControlError) as err:
        pace.perform_pace(
            channel,
            pace.Password.mrz(G_MRZ),
            pace_info(ECDH_GM_AES128, 13),
            rng=scripted_rng(G1["sk_map_ifd"], G1["sk_ifd"]),
        )
    assert err.value.step == pace.STEP_TOKEN
    assert channel.sm is None  # no session started


@pytest.mark.parametrize(
    ("chip_step", "step"),
    [
        ("mse", pace.STEP_MSE),
        ("nonce", pace.STEP_NONCE),
        ("map", pace.STEP_MAP),
        ("ka", pace.STEP_KA),
        ("mutual", pace.STEP_MUTUAL),
    ],
)
def test_6a80_at_each_step(chip_step: str, step: str) -> None:
    with pytest.raises(AccessControlError) as err:
        _run(ECDH_GM_AES128, 13, status={chip_step: 0x6A80})
    assert not isinstance(err.value, pace.WrongPasswordError)
    assert (err.value.step, err.value.sw) == (step, 0x6A80)


def test_mse_63c0_blocked_and_63c3_warning() -> None:
    with pytest.raises(pace.WrongPasswordError) as err:
        _run(ECDH_GM_AES128, 13, status={"mse": 0x63C0})
    assert (err.value.step, err.value.retries_left) == (pace.STEP_MSE, 0)
    result, _, _ = _run(ECDH_GM_AES128, 13, status={"mse": 0x63C3})
    assert result.retries_left == 3


# --- malformed chip responses -----------------------------------------------------------------


def _swap(step: str, make: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda s, data: make(data) if s == step else data


def _off_curve(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


_MALFORMED = [
    ("nonce", lambda d: b"\x7c\x00", pace.STEP_NONCE, "80 missing"),
    ("nonce", lambda d: b"\x7c\x11\x80\x0f" + d[4:19], pace.STEP_NONCE, "15 bytes"),
    ("nonce", lambda d: b"\x7c\x22\x80\x20" + d[4:] * 2, pace.STEP_NONCE, None),  # 32 bytes: fine
    ("nonce", lambda d: d[2:], pace.STEP_NONCE, "expected tag 7C"),
    ("nonce", lambda d: d + b"\x00", pace.STEP_NONCE, "trailing"),
    ("nonce", lambda d: d[:-1], pace.STEP_NONCE, "malformed"),
    ("map", lambda d: b"\x7c\x00", pace.STEP_MAP, "82 missing"),
    ("map", _off_curve, pace.STEP_MAP, "not on the curve"),
    ("map", lambda d: b"\x7c\x03\x82\x01\x00", pace.STEP_MAP, "identity"),
    ("map", lambda d: d[:-10], pace.STEP_MAP, "malformed"),
    ("map", lambda d: d[:-2] + b"\x83\x00", pace.STEP_MAP, None),
    ("ka", lambda d: b"\x7c\x00", pace.STEP_KA, "84 missing"),
    ("ka", _off_curve, pace.STEP_KA, "not on the curve"),
    ("ka", lambda d: b"\x7c\x03\x84\x01\x00", pace.STEP_KA, "identity"),
    ("ka", lambda d: d + b"\x84\x00", pace.STEP_KA, None),
    ("mutual", lambda d: b"\x7c\x00", pace.STEP_MUTUAL, "86 missing"),
    ("mutual", lambda d: b"\x7c\x09\x86\x07" + d[4:11], pace.STEP_TOKEN, "does not verify"),
    ("mutual", lambda d: b"\x7c\x0c" + d[2:] + b"\x99\x00", pace.STEP_MUTUAL, "unexpected tag 99"),
]


@pytest.mark.parametrize(("chip_step", "make", "step", "text"), _MALFORMED)
def test_malformed_responses(
    chip_step: str, make: Callable[[bytes], bytes], step: str, text: str | None
) -> None:
    if text is None and chip_step == "nonce":  # a 32-byte nonce is a valid length: keys differ
        with pytest.raises(AccessControlError) as err:
            _run(ECDH_GM_AES128, 13, tamper=_swap(chip_step, make))
        assert err.value.step in (pace.STEP_MUTUAL, pace.STEP_TOKEN)
        return
    with pytest.raises(AccessControlError) as err:
        _run(ECDH_GM_AES128, 13, tamper=_swap(chip_step, make))
    assert err.value.step == step
    assert err.value.protocol == "PACE"
    if text is not None:
        assert text in str(err.value)


def test_chip_key_equal_to_ours() -> None:
    """The chip echoes our ephemeral key (GA 3) or our mapping key (GA 2): refused (§4.4.1 d)."""
    sent: list[bytes] = []

    class Echo(MiniPaceChip):
        def transmit(self, apdu: bytes) -> bytes:
            sent.append(apdu)
            return super().transmit(apdu)

    for step, tag_in, tag_out, where in (
        ("ka", 0x83, 0x84, pace.STEP_KA),
        ("map", 0x81, 0x82, pace.STEP_MAP),
    ):

        def echo(
            s: str, data: bytes, step: str = step, tag_in: int = tag_in, tag_out: int = tag_out
        ) -> bytes:
            if s != step:
                return data
            command = CommandApdu.from_bytes(sent[-1])
            ours = pace.parse_dynamic_authentication_data(command.data, step=s, required=(tag_in,))[
                tag_in
            ]
            return pace.dynamic_authentication_data(tag_out, ours)

        chip = Echo(
            _password("mrz"),
            pace.PaceAlgorithm.from_oid(ECDH_GM_AES128),
            standardized_group(13),
            tamper=echo,
        )
        with pytest.raises(AccessControlError) as err:
            pace.perform_pace(Channel(chip), _password("mrz"), pace_info(ECDH_GM_AES128, 13))
        assert err.value.step == where
        assert "equals ours" in str(err.value)


@pytest.mark.parametrize("value", [1, 2, -1])
def test_dh_public_value_checks(value: int) -> None:
    """DH: 1 < y < p-1 and y^q = 1 are checked before use (1, p-1, and 2 outside the subgroup)."""
    group = standardized_group(0)
    y = group.prime - 1 if value == -1 else value
    encoded = y.to_bytes(128, "big")
    with pytest.raises(AccessControlError) as err:
        _run(
            "0.4.0.127.0.7.2.2.4.1.2",
            0,
            tamper=_swap("ka", lambda d: pace.dynamic_authentication_data(0x84, encoded)),
        )
    assert err.value.step == pace.STEP_KA


def test_nothing_hangs_on_a_script_that_stops() -> None:
    """A chip that goes silent after GA 2: a typed error, no hang."""
    transport = ScriptedTransport(g1_script()[:3])
    with pytest.raises(EpassError):
        pace.perform_pace(
            Channel(transport),
            pace.Password.mrz(G_MRZ),
            pace_info(ECDH_GM_AES128, 13),
            rng=scripted_rng(G1["sk_map_ifd"], G1["sk_ifd"]),
        )


# --- protocol identifiers, parameters, MSE ---------------------------------------------------


def test_algorithm_from_oid() -> None:
    alg = pace.PaceAlgorithm.from_oid("0.4.0.127.0.7.2.2.4.6.4")
    assert (alg.key_agreement, alg.mapping, alg.cipher.value, alg.key_length) == (
        "ECDH",
        pace.Mapping.CAM,
        "AES",
        256,
    )
    assert alg.name == "PACE-ECDH-CAM-AES-256"
    assert pace.PaceAlgorithm.from_oid("0.4.0.127.0.7.2.2.4.3.1").name == "PACE-DH-IM-3DES"
    for bad in (
        "0.4.0.127.0.7.2.2.4.6.1",
        "0.4.0.127.0.7.2.2.4.5.2",
        "0.4.0.127.0.7.2.2.3.2.2",
        "1.2.3",
    ):
        with pytest.raises(UnsupportedAlgorithmError):
            pace.PaceAlgorithm.from_oid(bad)


def test_standardized_ids() -> None:
    """9303-11 §9.5.1: ids 0-2 RFC 5114 groups, 8-18 curves (14 is brainpoolP320r1)."""
    names = {pid: standardized_group(pid).name for pid in (*range(3), *range(8, 19))}
    assert names[14] == "brainpoolP320r1"
    assert names[12] == "secp256r1" and names[18] == "secp521r1" and names[9] == "brainpoolP192r1"
    assert standardized_group(2).order_size == 32
    for reserved in (3, 7, 19, 31, 32):
        with pytest.raises(UnsupportedAlgorithmError):
            standardized_group(reserved)
    with pytest.raises(UnsupportedAlgorithmError):  # ECDH protocol with DH parameters
        pace.pace_group(pace_info(ECDH_GM_AES128, 0))


def test_im_on_p224_is_refused() -> None:
    """The point encoding of App. B needs p ≡ 3 (mod 4); secp224r1 does not have it."""
    with pytest.raises(UnsupportedAlgorithmError):
        standardized_group(10).map_integrated(12345)


def test_mse_set_at_round_trip() -> None:
    alg = pace.PaceAlgorithm.from_oid(ECDH_GM_AES128)
    data = pace.mse_set_at_data(alg, pace.Password.can(CAN), 13)
    assert data == bytes.fromhex("800A04007F00070202040202 830102 84010D".replace(" ", ""))
    parsed = pace.parse_mse_set_at(data)
    assert (parsed.oid, parsed.password_reference, parsed.parameter_id, parsed.chat) == (
        alg.oid,
        2,
        13,
        None,
    )
    assert b"\x84" not in pace.mse_set_at_data(alg, pace.PasswordReference.MRZ, None)[-3:-2]


def test_explicit_domain_parameters() -> None:
    """A proprietary parameterId (>= 32) names a PACEDomainParameterInfo (9303-11 §9.2.2)."""
    oid = ECDH_GM_AES128
    raw = si.encode_security_infos(
        [
            si.encode_pace_info(oid, parameter_id=40),
            si.encode_pace_domain_parameter_info("0.4.0.127.0.7.2.2.4.2", 13, parameter_id=40),
        ]
    )
    infos = si.parse_security_infos(raw, file="EF.CardAccess")
    group = pace.pace_group(infos.pace_infos[0], infos.pace_domain_parameter_infos)
    assert group.name == "brainpoolP256r1"
    with pytest.raises(UnsupportedAlgorithmError):
        pace.pace_group(infos.pace_infos[0], ())
    chip = MiniPaceChip(_password("mrz"), pace.PaceAlgorithm.from_oid(oid), group)
    result = pace.perform_pace(
        Channel(chip),
        _password("mrz"),
        infos.pace_infos[0],
        domain_parameter_infos=infos.pace_domain_parameter_infos,
    )
    assert isinstance(result.sm, SecureMessaging)
