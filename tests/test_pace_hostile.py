"""A hostile chip against the terminal's PACE (9303-11 §4.4, TR-03110-3 B.1, B.11).

Found in review: an echo of our mapping key in another encoding (compressed)
was not seen as "equal to ours"; 6300/6983/6984 to MSE:Set AT were a generic
refusal; a wrong-password message did not say which password; a chip that
answers 61xx forever failed without naming the PACE step; a proprietary
parameterId above 255 could not be sent. Then a seeded mutation fuzz of every
GENERAL AUTHENTICATE response: only typed errors naming a PACE step, never a
session on an unverified token.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from epass.access import pace
from epass.access.pace_groups import standardized_group
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import AccessControlError, EpassError
from epass.transport import Transport
from tests.pace_chip import MiniPaceChip
from tests.test_pace_worked_examples import ECDH_GM_AES128, pace_info

MRZ = "L898902C<369080619406236"
DH_GM_AES128 = "0.4.0.127.0.7.2.2.4.1.2"
ECDH_IM_AES256 = "0.4.0.127.0.7.2.2.4.4.4"
ECDH_CAM_AES128 = "0.4.0.127.0.7.2.2.4.6.2"


def _password(kind: str = "mrz") -> pace.Password:
    return pace.Password.mrz(MRZ) if kind == "mrz" else pace.Password.can("123456")


class _Recording(MiniPaceChip):
    """The minimal chip, keeping every command it received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return super().transmit(apdu)


def _chip(oid: str, parameter_id: int, kind: str = "mrz", **kwargs: Any) -> _Recording:
    algorithm = pace.PaceAlgorithm.from_oid(oid)
    group = standardized_group(parameter_id)
    if algorithm.mapping is pace.Mapping.CAM:
        kwargs.setdefault("ca_private_key", 0x1234567)
    return _Recording(_password(kind), algorithm, group, **kwargs)


def _run(chip: Transport, oid: str, parameter_id: int, kind: str = "mrz") -> pace.PaceResult:
    return pace.perform_pace(Channel(chip), _password(kind), pace_info(oid, parameter_id))


def _ours(chip: _Recording, tag: int) -> bytes:
    data = CommandApdu.from_bytes(chip.sent[-1]).data
    return pace.parse_dynamic_authentication_data(data, step="test", required=(tag,))[tag]


def _compressed(point: bytes) -> bytes:
    size = (len(point) - 1) // 2
    return bytes([2 + (point[-1] & 1)]) + point[1 : 1 + size]


@pytest.mark.parametrize(
    ("chip_step", "tag_in", "tag_out", "step"),
    [("map", 0x81, 0x82, pace.STEP_MAP), ("ka", 0x83, 0x84, pace.STEP_KA)],
)
def test_our_key_echoed_in_compressed_form_is_refused(
    chip_step: str, tag_in: int, tag_out: int, step: str
) -> None:
    """02/03 || X of our own key is our key (SEC 1 §2.3.4): refused at the step, not later."""
    holder: list[_Recording] = []

    def echo(s: str, data: bytes) -> bytes:
        if s != chip_step:
            return data
        return pace.dynamic_authentication_data(tag_out, _compressed(_ours(holder[0], tag_in)))

    chip = _chip(ECDH_GM_AES128, 13, tamper=echo)
    holder.append(chip)
    with pytest.raises(AccessControlError, match="equals ours") as err:
        _run(chip, ECDH_GM_AES128, 13)
    assert err.value.step == step


@pytest.mark.parametrize(
    ("sw", "error", "words", "retries"),
    [
        (0x6300, pace.WrongPasswordError, "wrong MRZ password", None),
        (0x63C0, pace.WrongPasswordError, "0 retries left (the password is now blocked)", 0),
        (0x6983, pace.WrongPasswordError, "the MRZ password (document number", 0),
        (0x6984, AccessControlError, "suspended or deactivated", None),
        (0x6A80, AccessControlError, "WRONG_DATA", None),
    ],
)
def test_mse_set_at_refusals_say_what_happened_to_the_password(
    sw: int, error: type[AccessControlError], words: str, retries: int | None
) -> None:
    with pytest.raises(error) as err:
        _run(_chip(ECDH_GM_AES128, 13, status={"mse": sw}), ECDH_GM_AES128, 13)
    assert type(err.value) is error
    assert (err.value.step, err.value.sw) == (pace.STEP_MSE, sw)
    assert words in str(err.value)
    if isinstance(err.value, pace.WrongPasswordError):
        assert err.value.retries_left == retries


@pytest.mark.parametrize(("kind", "name"), [("can", "wrong CAN"), ("mrz", "wrong MRZ password")])
def test_a_wrong_password_names_the_password_used(kind: str, name: str) -> None:
    chip = _chip(ECDH_GM_AES128, 13, kind, status={"mutual": 0x63C2})
    with pytest.raises(pace.WrongPasswordError) as err:
        _run(chip, ECDH_GM_AES128, 13, kind)
    assert err.value.retries_left == 2 and err.value.step == pace.STEP_MUTUAL
    assert f"{name}" in str(err.value) and "2 retries left" in str(err.value)


class _Endless61(Transport):
    """Accepts MSE:Set AT, then answers every command with 61 10 (more data) forever."""

    atr = None
    extended_length = True

    def __init__(self) -> None:
        self.count = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.count += 1
        return b"\x90\x00" if apdu[1] == 0x22 else b"\x61\x10"


def test_a_chip_answering_61xx_forever_fails_the_step_without_hanging() -> None:
    chip = _Endless61()
    with pytest.raises(AccessControlError) as err:
        _run(chip, ECDH_GM_AES128, 13)
    assert err.value.step == pace.STEP_NONCE and "broke the protocol" in str(err.value)
    assert chip.count < 1000  # bounded by the channel (a response of at most 64 KiB)


@pytest.mark.parametrize("parameter_id", [0, 13, 255, 256, 0xFFFF])
def test_parameter_id_round_trips_through_tag_84(parameter_id: int) -> None:
    alg = pace.PaceAlgorithm.from_oid(ECDH_GM_AES128)
    data = pace.mse_set_at_data(alg, pace.PasswordReference.CAN, parameter_id)
    assert pace.parse_mse_set_at(data).parameter_id == parameter_id
    size = 1 if parameter_id < 256 else 2
    assert data[-2 - size :] == bytes([0x84, size]) + parameter_id.to_bytes(size, "big")


# --- seeded mutation fuzz of the chip's answers ---------------------------------------------------


def _mutate(rnd: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    kind = rnd.randrange(6)
    if kind == 0 and out:
        out[rnd.randrange(len(out))] ^= 1 << rnd.randrange(8)
    elif kind == 1:
        del out[rnd.randrange(len(out) + 1) :]
    elif kind == 2:
        out += rnd.randbytes(rnd.randrange(1, 40))
    elif kind == 3 and out:
        out[rnd.randrange(len(out))] = rnd.randrange(256)
    elif kind == 4:
        out = bytearray(rnd.randbytes(rnd.randrange(300)))
    elif kind == 5 and len(out) > 1:
        out[1] = rnd.randrange(256)  # the 7C length
    return bytes(out)


_FUZZ_TARGETS = [
    (ECDH_GM_AES128, 13),
    (DH_GM_AES128, 0),
    (ECDH_IM_AES256, 13),
    (ECDH_CAM_AES128, 13),
]


@pytest.mark.parametrize(("oid", "parameter_id"), _FUZZ_TARGETS)
def test_mutated_general_authenticate_answers_give_typed_errors(
    oid: str, parameter_id: int
) -> None:
    rnd = random.Random(f"{oid}/{parameter_id}")
    outcomes: set[str] = set()
    for _ in range(60):
        target = rnd.choice(["nonce", "map", "ka", "mutual"])
        changed: list[bool] = []

        def tamper(
            step: str, data: bytes, target: str = target, changed: list[bool] = changed
        ) -> bytes:
            if step != target:
                return data
            mutated = _mutate(rnd, data)
            changed.append(mutated != data)
            return mutated

        chip = _chip(oid, parameter_id, tamper=tamper)
        try:
            result = _run(chip, oid, parameter_id)
        except AccessControlError as exc:
            assert exc.step in pace.PACE_STEPS and exc.protocol == "PACE"
            outcomes.add(exc.step)
            continue
        except EpassError as exc:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"{type(exc).__name__} without a PACE step: {exc}")
        # Success only when nothing was changed, or (CAM) only the unverified A_IC.
        if changed and changed[0]:
            assert target == "mutual" and oid == ECDH_CAM_AES128
            assert result.cam is not None and not result.chip_authenticated
            assert chip.ca_public_key is not None
            with pytest.raises(AccessControlError):
                result.cam.verify(chip.ca_public_key)
    assert len(outcomes) >= 3, outcomes
