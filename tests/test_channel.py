"""Channel behaviour on exact APDUs: 61xx GET RESPONSE and 6Cxx re-send (ISO/IEC 7816-4 §5.6)."""

from __future__ import annotations

import pytest

from drivers.replay import ScriptedTransport, ScriptMismatchError
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import RemoteProtocolError, StatusWordError, TransportError
from epass.reader import TrafficStats


def test_6cxx_resends_with_the_exact_length():
    stats = TrafficStats()
    transport = ScriptedTransport([("00B0000000", "6C04"), ("00B0000004", "01020304 9000")])
    response = Channel(transport, tracer=stats).send(CommandApdu(0, 0xB0, 0, 0, le=256))
    assert response.data == bytes.fromhex("01020304")
    assert stats.apdus == 1 and stats.round_trips == 2


def test_61xx_collects_get_response():
    transport = ScriptedTransport([("00A4040C00", "AABB 6103"), ("00C0000003", "CCDDEE 9000")])
    response = Channel(transport).transmit(CommandApdu(0, 0xA4, 4, 0x0C, le=256))
    assert response.data == bytes.fromhex("AABBCCDDEE")


def test_endless_61xx_is_bounded():
    transport = ScriptedTransport([(None, "6101")] * 400)
    with pytest.raises(RemoteProtocolError, match="61xx"):
        Channel(transport).transmit(CommandApdu(0, 0xCA, 0, 0, le=1))


def test_send_raises_status_word_error_with_the_command_name():
    transport = ScriptedTransport([("00A4020C02011E", "6A82")])
    with pytest.raises(StatusWordError) as info:
        Channel(transport).send(
            CommandApdu(0, 0xA4, 2, 0x0C, bytes.fromhex("011E")), name="SELECT EF.COM"
        )
    assert info.value.sw == 0x6A82
    assert str(info.value) == "SELECT EF.COM: 0x6A82 - FILE_NOT_FOUND"


def test_replay_shows_the_unexpected_command():
    transport = ScriptedTransport([("0084000008", "0102030405060708 9000")])
    with pytest.raises(ScriptMismatchError, match="expected command 0084000008, got 00B0000000"):
        Channel(transport).transmit(CommandApdu(0, 0xB0, 0, 0, le=256))


def test_short_transport_answer_is_a_transport_error():
    transport = ScriptedTransport([(None, "90")])
    with pytest.raises(TransportError):
        Channel(transport).transmit(CommandApdu(0, 0xB0, 0, 0, le=1))
