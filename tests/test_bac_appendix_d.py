"""ICAO Doc 9303-11 (8th ed., 2021) Appendix D, "Worked example: Basic Access Control".

Every value below is quoted from Appendix D.2 (key derivation), D.3 (authentication and
session keys) and D.4 (secure messaging: SELECT EF.COM, READ BINARY of 4 and 18 bytes).
"""

from __future__ import annotations

import hashlib

import pytest

from drivers.replay import ScriptedTransport
from epass._crypto.symmetric import adjust_parity, kdf, retail_mac
from epass.access import bac
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import AccessControlError, SecureMessagingError
from epass.sm import SecureMessaging

H = bytes.fromhex

# D.2 -- "MRZ_information = L898902C<369080619406236"
MRZ_INFORMATION = "L898902C<369080619406236"
SHA1_MRZ = H("239AB9CB282DAF66231DC5A4DF6BFBAEDF477565")
K_SEED = H("239AB9CB282DAF66231DC5A4DF6BFBAE")
# D.2 "Compute Kenc": Ka = AB94FDECF2674FDF, Kb = B9B391F85D7F76F2 (after parity adjustment)
K_ENC = H("AB94FDECF2674FDFB9B391F85D7F76F2")
# D.2 "Compute Kmac": Ka = 7962D9ECE03D1ACD, Kb = 4C76089DCE131543
K_MAC = H("7962D9ECE03D1ACD4C76089DCE131543")

# D.3
RND_IC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
E_IFD = H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
M_IFD = H("5F1448EEA8AD90A7")
CHIP_RESPONSE = H(
    "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449"
)
K_IC = H("0B4F80323EB3191CB04970CB4052790B")
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226

# D.4
SELECT_EF_COM = "00A4020C02011E"
SELECT_EF_COM_PROTECTED = "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
SELECT_RESPONSE = "990290008E08FA855A5D4C50A8ED9000"
READ_4 = "00B0000004"
READ_4_PROTECTED = "0CB000000D9701048E08ED6705417E96BA5500"
READ_4_RESPONSE = "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"
READ_4_PLAIN = H("60145F01")
READ_18 = "00B0000412"
READ_18_PROTECTED = "0CB000040D9701128E082EA28A70F3C7B53500"
READ_18_RESPONSE = (
    "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"
)
READ_18_PLAIN = H("04303130365F36063034303030305C026175")


def scripted_rng(*chunks: bytes):
    """An rng that hands out the given byte strings in order, checking the sizes asked for."""
    queue = list(chunks)

    def rng(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == n
        return value

    return rng


def test_d2_key_seed_and_basic_access_keys():
    assert hashlib.sha1(MRZ_INFORMATION.encode()).digest() == SHA1_MRZ
    assert bac.key_seed(MRZ_INFORMATION) == K_SEED
    assert bac.derive_keys(MRZ_INFORMATION) == (K_ENC, K_MAC)
    # D.2: before parity adjustment Ka = AB94FCEDF2664EDF, Kb = B9B291F85D7F77F2
    assert adjust_parity(H("AB94FCEDF2664EDFB9B291F85D7F77F2")) == K_ENC
    assert kdf(K_SEED, 1, "3DES") == K_ENC


def test_d3_terminal_cryptogram_and_mac():
    data = bac.build_authentication_data(K_ENC, K_MAC, RND_IC, RND_IFD, K_IFD)
    assert data == E_IFD + M_IFD
    assert retail_mac(K_MAC, E_IFD) == M_IFD


def test_d3_session_keys_from_chip_response():
    sm = bac.open_chip_response(K_ENC, K_MAC, CHIP_RESPONSE, RND_IC, RND_IFD, K_IFD)
    assert (sm.ks_enc, sm.ks_mac, sm.ssc) == (KS_ENC, KS_MAC, SSC)


def test_d3_chip_side_produces_the_published_response():
    chip = bac.BacChip(MRZ_INFORMATION, rng=scripted_rng(RND_IC, K_IC))
    assert chip.challenge() == RND_IC
    response, chip_sm = chip.authenticate(E_IFD + M_IFD)
    assert response == CHIP_RESPONSE
    assert (chip_sm.ks_enc, chip_sm.ks_mac, chip_sm.ssc) == (KS_ENC, KS_MAC, SSC)


def appendix_d_script() -> list[tuple[str, str]]:
    return [
        ("0084000008", RND_IC.hex() + "9000"),
        ("0082000028" + (E_IFD + M_IFD).hex() + "28", CHIP_RESPONSE.hex() + "9000"),
        (SELECT_EF_COM_PROTECTED, SELECT_RESPONSE),
        (READ_4_PROTECTED, READ_4_RESPONSE),
        (READ_18_PROTECTED, READ_18_RESPONSE),
    ]


def test_d3_d4_full_exchange_through_a_scripted_transport():
    transport = ScriptedTransport(appendix_d_script())
    channel = Channel(transport)
    sm = bac.perform_bac(channel, MRZ_INFORMATION, rng=scripted_rng(RND_IFD, K_IFD))
    assert (sm.ks_enc, sm.ks_mac) == (KS_ENC, KS_MAC)
    assert channel.secure

    select = channel.send(CommandApdu.from_bytes(H(SELECT_EF_COM)))
    assert select.data == b""
    head = channel.send(CommandApdu.from_bytes(H(READ_4)))
    assert head.data == READ_4_PLAIN
    rest = channel.send(CommandApdu.from_bytes(H(READ_18)))
    assert rest.data == READ_18_PLAIN
    # EF.COM as a whole: tag 60, 0x14 bytes, LDS 0106, Unicode 040000, DG1 and DG2
    assert head.data + rest.data == H("60145F0104303130365F36063034303030305C026175")
    assert transport.done
    assert sm.ssc == SSC + 6  # three commands, three responses


def test_d4_wrap_and_unwrap_step_by_step():
    sm = SecureMessaging("3DES", KS_ENC, KS_MAC, SSC)
    assert sm.wrap(H(SELECT_EF_COM)) == H(SELECT_EF_COM_PROTECTED)
    assert sm.ssc == 0x887022120C06C227  # D.4 "Increment SSC with 1"
    assert sm.unwrap(H(SELECT_RESPONSE)) == H("9000")
    assert sm.ssc == 0x887022120C06C228
    assert sm.wrap(H(READ_4)) == H(READ_4_PROTECTED)
    assert sm.unwrap(H(READ_4_RESPONSE)) == READ_4_PLAIN + H("9000")
    assert sm.wrap(H(READ_18)) == H(READ_18_PROTECTED)
    assert sm.unwrap(H(READ_18_RESPONSE)) == READ_18_PLAIN + H("9000")


def test_d4_chip_side_reproduces_the_protected_responses():
    from epass.sm import Role

    chip = SecureMessaging("3DES", KS_ENC, KS_MAC, SSC, role=Role.CHIP)
    assert chip.unwrap(H(SELECT_EF_COM_PROTECTED)) == H(SELECT_EF_COM)
    assert chip.wrap(H("9000")) == H(SELECT_RESPONSE)
    assert chip.unwrap(H(READ_4_PROTECTED)) == H(READ_4)
    assert chip.wrap(READ_4_PLAIN + H("9000")) == H(READ_4_RESPONSE)
    assert chip.unwrap(H(READ_18_PROTECTED)) == H(READ_18)
    assert chip.wrap(READ_18_PLAIN + H("9000")) == H(READ_18_RESPONSE)


def test_wrong_mrz_names_the_step():
    # The chip refuses EXTERNAL AUTHENTICATE with 6300 when the terminal's MAC is wrong.
    transport = ScriptedTransport([("0084000008", RND_IC.hex() + "9000"), ("*", "6300")])
    with pytest.raises(AccessControlError) as info:
        bac.perform_bac(
            Channel(transport), "L898902C<369080619406244", rng=scripted_rng(RND_IFD, K_IFD)
        )
    assert info.value.step == "EXTERNAL AUTHENTICATE"
    assert info.value.sw == 0x6300
    assert "date of birth" in str(info.value)


def test_forged_chip_response_is_rejected():
    forged = bytearray(CHIP_RESPONSE)
    forged[5] ^= 0x01
    transport = ScriptedTransport(
        [("0084000008", RND_IC.hex() + "9000"), ("*", forged.hex() + "9000")]
    )
    with pytest.raises(AccessControlError) as info:
        bac.perform_bac(Channel(transport), MRZ_INFORMATION, rng=scripted_rng(RND_IFD, K_IFD))
    assert info.value.step == "verify chip response"


def test_get_challenge_refused():
    transport = ScriptedTransport([("0084000008", "6D00")])
    with pytest.raises(AccessControlError) as info:
        bac.perform_bac(Channel(transport), MRZ_INFORMATION)
    assert info.value.step == "GET CHALLENGE"


def test_wrong_mac_from_chip_kills_the_channel():
    bad = bytearray(H(READ_4_RESPONSE))
    bad[-4] ^= 0xFF  # inside DO'8E'
    script = [*appendix_d_script()[:3], (READ_4_PROTECTED, bad.hex())]
    transport = ScriptedTransport(script)
    channel = Channel(transport)
    bac.perform_bac(channel, MRZ_INFORMATION, rng=scripted_rng(RND_IFD, K_IFD))
    channel.send(CommandApdu.from_bytes(H(SELECT_EF_COM)))
    with pytest.raises(SecureMessagingError, match="MAC"):
        channel.send(CommandApdu.from_bytes(H(READ_4)))
    from epass.errors import LocalProtocolError

    with pytest.raises(LocalProtocolError, match="dead"):
        channel.send(CommandApdu.from_bytes(H(READ_18)))
    assert len(transport.sent) == 4  # nothing was sent after the failure
