"""The chip session against the virtual chip: read strategies, fallbacks and faults.

Protocol references: ICAO Doc 9303-11 §9.8 (secure messaging), ISO/IEC 7816-4 §11.3.3
(READ BINARY: SFI in P1, odd INS B1 with DO'54'/DO'53'), §5.6 (6700, 6Cxx).
"""

from __future__ import annotations

import os

import pytest

from drivers.virtual.chip import ChipConfig, Faults, VirtualChip
from drivers.virtual.transport import VirtualTransport
from epass import tlv
from epass.access.keys import MrzKey
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import (
    AccessControlError,
    CardRemovedError,
    LocalProtocolError,
    ParseError,
    SecureMessagingError,
    StatusWordError,
)
from epass.lds.files import LdsFile
from epass.reader import ChipSession, ReadOptions

MRZ = "L898902C<369080619406236"
COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")


def make_files(dg2_size: int = 20000) -> dict[LdsFile, bytes]:
    return {
        LdsFile.EF_COM: COM,
        LdsFile.DG1: tlv.encode(0x61, tlv.encode(0x5F1F, b"P<UTO" + b"<" * 83)),
        LdsFile.DG2: tlv.encode(0x75, os.urandom(dg2_size)),
        LdsFile.DG3: tlv.encode(0x63, b"fingerprints"),
    }


def session(files=None, *, config=None, faults=None, options=None, reader_ext=None):
    files = files or make_files()
    chip = VirtualChip(files, MRZ, config=config, faults=faults)
    transport = VirtualTransport(chip, reader_extended_length=reader_ext)
    s = ChipSession(transport, options=options)
    s.open(MrzKey(MRZ))
    return s, files, transport


def count(s: ChipSession, fn):
    before = s.stats.apdus
    result = fn()
    return result, s.stats.apdus - before


def test_extended_length_reads_each_file_in_one_command():
    s, files, _ = session()
    assert s.extended_length
    assert s.access_protocol == "BAC"
    for f in (LdsFile.EF_COM, LdsFile.DG1, LdsFile.DG2):
        data, n = count(s, lambda f=f: s.read_file(f))
        assert data == files[f]
        assert n == 1
    # open = EF.ATR/INFO + EF.CardAccess (6A82) + SELECT + GET CHALLENGE + EXTERNAL AUTHENTICATE
    assert s.stats.apdus == 5 + 3


def test_short_reads_fill_each_response():
    s, files, _ = session(config=ChipConfig(extended_length=False))
    assert not s.extended_length
    data, n = count(s, lambda: s.read_file(LdsFile.DG2))
    assert data == files[LdsFile.DG2]
    assert n == -(-len(data) // 231)  # 231 plain bytes per 3DES-protected short response


def test_reader_without_extended_length_wins_over_the_card():
    s, files, _ = session(reader_ext=False)
    assert not s.extended_length
    data, n = count(s, lambda: s.read_file(LdsFile.DG2))
    assert data == files[LdsFile.DG2] and n == -(-len(data) // 231)


@pytest.mark.parametrize("extended", [True, False])
def test_file_over_32k_uses_odd_ins(extended):
    files = make_files(dg2_size=60000)
    config = ChipConfig(extended_length=extended, max_response=16384)
    s, _, _ = session(files, config=config)
    data = s.read_file(LdsFile.DG2)
    assert data == files[LdsFile.DG2]
    assert s.stats.by_command.get("READ BINARY ODD", 0) >= 1


def test_wrong_length_shrinks_the_chunk_and_keeps_the_session():
    s, files, _ = session(
        config=ChipConfig(extended_length=False), faults=Faults(reject_le_above=160)
    )
    data = s.read_file(LdsFile.DG2)
    assert data == files[LdsFile.DG2]
    assert s.recoveries == 0  # 6700 came protected: the SSC stayed in step
    assert s.read_file(LdsFile.DG1) == files[LdsFile.DG1]


def test_wrong_le_hint_6cxx_is_followed_under_sm():
    s, files, _ = session(
        config=ChipConfig(extended_length=False), faults=Faults(hint_le_above=0xC8)
    )
    data, n = count(s, lambda: s.read_file(LdsFile.DG2))
    assert data == files[LdsFile.DG2]
    assert s.recoveries == 0
    # one refused read, then 200-byte chunks as the chip said
    assert n == 1 + -(-len(data) // 0xC8)


def test_6cxx_at_end_of_file_does_not_shrink_later_reads():
    s, files, _ = session(
        config=ChipConfig(extended_length=False), faults=Faults(exact_le_at_eof=True)
    )
    data, n = count(s, lambda: s.read_file(LdsFile.DG1))
    assert data == files[LdsFile.DG1] and n == 2  # 6C5F, then exactly 95 bytes
    data, n = count(s, lambda: s.read_file(LdsFile.DG2))
    assert data == files[LdsFile.DG2]
    assert n == -(-len(data) // 231)  # full 231-byte chunks again


def test_extended_refused_despite_atr_falls_back_to_short_reads():
    # EF.ATR/INFO is read first (plain): its 6700 already teaches the session to read short.
    s, files, _ = session(faults=Faults(reject_extended=True))
    data, n = count(s, lambda: s.read_file(LdsFile.DG2))
    assert data == files[LdsFile.DG2]
    assert n == -(-len(data) // 231)
    assert s.recoveries == 0


def test_extended_refused_under_sm_reopens_the_session():
    # A chip that takes extended APDUs plain (EF.CardAccess) but not under SM: the first
    # protected extended read gets a plain 6700, which ends the session; it is re-opened and
    # the file is read with short APDUs. (A chip refusing every extended APDU is caught at the
    # plain EF.CardAccess read instead: test_reader_steps.py.)
    s, files, _ = session(
        faults=Faults(reject_extended_secure=True), options=ReadOptions(read_atr_info=False)
    )
    assert s.read_file(LdsFile.DG2) == files[LdsFile.DG2]
    assert s.recoveries == 1
    assert s.read_file(LdsFile.DG1) == files[LdsFile.DG1]


def test_chip_without_sfi_support_is_read_by_select():
    s, files, _ = session(faults=Faults(refuse_sfi=True))
    assert s.read_file(LdsFile.DG1) == files[LdsFile.DG1]
    assert s.read_file(LdsFile.DG2) == files[LdsFile.DG2]
    assert s.stats.by_command["SELECT"] >= 3


def test_session_dropped_by_chip_is_reopened_and_read_resumes():
    s, files, _ = session(
        config=ChipConfig(extended_length=False), faults=Faults(plain_error_on_read=5)
    )
    assert s.read_file(LdsFile.DG2) == files[LdsFile.DG2]
    assert s.recoveries == 1


def test_bad_mac_from_chip_is_not_retried():
    s, _, _ = session(faults=Faults(corrupt_mac_after=1))
    with pytest.raises(SecureMessagingError, match="MAC"):
        s.read_file(LdsFile.DG1)
    with pytest.raises(LocalProtocolError, match="dead"):
        s.channel.transmit(CommandApdu(0, 0xB0, 0x81, 0, le=4))


def test_card_removed_mid_read():
    s, _, transport = session(
        config=ChipConfig(extended_length=False), faults=Faults(remove_after=12)
    )
    with pytest.raises(CardRemovedError):
        s.read_file(LdsFile.DG2)
    assert not transport.present


def test_truncated_file_is_a_parse_error():
    files = make_files()
    s, _, _ = session(files, faults=Faults(truncate={LdsFile.DG2: 5000}))
    with pytest.raises(ParseError) as info:
        s.read_file(LdsFile.DG2)
    assert info.value.file == "DG2"


def test_declared_length_beyond_limit_is_refused_before_reading():
    files = make_files()
    files[LdsFile.DG2] = bytes.fromhex("7584FFFFFFF0") + bytes(100)
    s, _, _ = session(files, options=ReadOptions(max_file_size=1 << 20))
    with pytest.raises(ParseError, match="limit"):
        s.read_file(LdsFile.DG2)
    # EF.ATR/INFO, EF.CardAccess (6A82), then the one DG2 read
    assert s.stats.by_command["READ BINARY"] == 1 + 1 + 1


def test_eac_protected_and_missing_files():
    s, _, _ = session()
    with pytest.raises(StatusWordError) as info:
        s.read_file(LdsFile.DG3)
    assert info.value.sw == 0x6982
    with pytest.raises(StatusWordError) as info:
        s.read_file(LdsFile.DG11)
    assert info.value.sw == 0x6A82


def test_nothing_readable_before_bac():
    chip = VirtualChip(make_files(), MRZ)
    channel = Channel(VirtualTransport(chip))
    channel.send(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("A0000002471001")))
    response = channel.transmit(CommandApdu(0, 0xB0, 0x81, 0, le=256))
    assert response.sw == 0x6982


def test_wrong_mrz_fails_naming_the_step():
    chip = VirtualChip(make_files(), MRZ)
    s = ChipSession(VirtualTransport(chip))
    with pytest.raises(AccessControlError) as info:
        s.open(MrzKey("L898902C<369080619406244"))
    assert info.value.step == "EXTERNAL AUTHENTICATE"
    assert info.value.sw == 0x6300
