"""Reader hardening: capability floors, the APDU and time budget, one file never loses the rest.

Issue 8 "Bad input": one lying EF.ATR/INFO must not make the reader crawl, every read
has a budget that ends it with a typed error, and an EF.SOD of indefinite length
(``77 80``, BER X.690 §8.1.3.6) is read to its end.
"""

from __future__ import annotations

import time

import pytest

from drivers.replay import ScriptedTransport
from drivers.virtual.builder import specimen
from drivers.virtual.chip import ChipConfig, VirtualChip
from drivers.virtual.transport import VirtualTransport
from epass import tlv
from epass.access.keys import MrzKey
from epass.capabilities import (
    MIN_COMMAND_CLAIM,
    MIN_RESPONSE_CLAIM,
    CardCapabilities,
    parse_atr_info,
)
from epass.channel import Channel
from epass.errors import ReadBudgetExceededError, TransportError
from epass.filesystem import FileReader
from epass.inspection import inspect
from epass.lds.files import LdsFile
from epass.reader import (
    DEFAULT_MAX_APDUS,
    DEFAULT_MAX_SECONDS,
    BudgetedTransport,
    ChipSession,
    ReadOptions,
)
from epass.transport import Transport
from epass.verdict import Verdict


def atr_info(max_command: int, max_response: int) -> bytes:
    ints = tlv.encode(0x02, max_command.to_bytes(3, "big").lstrip(b"\x00") or b"\x00")
    ints += tlv.encode(0x02, max_response.to_bytes(3, "big").lstrip(b"\x00") or b"\x00")
    return tlv.encode(0x7F66, ints)


def indefinite(sod: bytes, padding: bytes = b"") -> bytes:
    """The same EF.SOD with its outer tag '77' in the indefinite form (X.690 §8.1.3.6)."""
    _tag, header, _length = tlv.header(sod)
    return b"\x77\x80" + sod[header:] + b"\x00\x00" + padding


# -- capability claims below the floor ----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "response", "ignored"),
    [
        (1, 1, 2),
        (65535, 1, 1),
        (5, 65535, 1),
        (MIN_COMMAND_CLAIM - 1, MIN_RESPONSE_CLAIM - 1, 2),
        (MIN_COMMAND_CLAIM, MIN_RESPONSE_CLAIM, 0),
        (65535, 65536 - 1, 0),
    ],
)
def test_claims_below_the_floor_are_ignored(command, response, ignored):
    base = CardCapabilities(extended_length=True, atr_info_present=True)
    caps = parse_atr_info(atr_info(command, response), base)
    assert len(caps.ignored) == ignored
    if command < MIN_COMMAND_CLAIM:
        assert caps.max_command is None
        assert any(f"commands of at most {command} bytes" in why for why in caps.ignored)
    else:
        assert caps.max_command == command
    if response < MIN_RESPONSE_CLAIM:
        assert caps.max_response is None
        assert any(f"responses of at most {response} bytes" in why for why in caps.ignored)
    else:
        assert caps.max_response == response
    if ignored:
        assert caps.extended_length is True  # the ATR's word, not the lying file's


def test_a_lying_atr_info_does_not_make_the_reader_crawl():
    doc = specimen()
    files = dict(doc.files)
    files[LdsFile.EF_ATR_INFO] = atr_info(1, 1)  # "responses of at most 1 byte"
    chip = VirtualChip(files, doc.mrz_information, aa_key=doc.aa_chip_key, ca_keys=doc.ca_chip_keys)
    with VirtualTransport(chip) as transport:
        inspection = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert inspection.verdict is Verdict.VALID
    assert inspection.read is not None
    assert inspection.read.traffic["apdus"] < 30  # not 21,982 one-byte reads
    ignored = inspection.read.capabilities["ignored"]
    assert len(ignored) == 2 and "responses of at most 1 bytes" in ignored[1]
    codes = [f.code for f in inspection.findings]
    assert codes.count("read.capability_ignored") == 2
    assert inspection.to_dict()["read"]["capabilities"]["ignored"] == ignored


def test_an_honest_atr_info_is_no_finding():
    doc = specimen()
    with doc.transport(config=ChipConfig(max_response=4096)) as transport:
        inspection = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert inspection.read is not None
    assert inspection.read.capabilities["ignored"] == []
    assert inspection.read.capabilities["max_response"] == 4096
    assert "read.capability_ignored" not in [f.code for f in inspection.findings]


# -- the APDU and time budget -------------------------------------------------------------------


def test_defaults_are_sane():
    options = ReadOptions()
    assert options.max_apdus == DEFAULT_MAX_APDUS and 200 <= DEFAULT_MAX_APDUS <= 5000
    assert options.max_seconds == DEFAULT_MAX_SECONDS and 5 <= DEFAULT_MAX_SECONDS <= 120
    doc = specimen()  # the demo document reads well within the default budget
    for extended in (None, False):
        session = ChipSession(doc.transport(), options=ReadOptions(extended_length=extended))
        result = session.read(MrzKey(doc.mrz_information))
        assert result.stats.apdus < DEFAULT_MAX_APDUS // 5


@pytest.mark.parametrize("bad", [{"max_apdus": 0}, {"max_seconds": 0}, {"max_seconds": -1.0}])
def test_nonsense_budgets_are_refused(bad):
    with pytest.raises(ValueError, match="max_"):
        ReadOptions(**bad)


def test_the_apdu_budget_ends_a_crawling_read():
    doc = specimen()
    transport = doc.transport()
    options = ReadOptions(extended_length=False, chunk=32, max_apdus=50)
    session = ChipSession(transport, options=options)
    with pytest.raises(ReadBudgetExceededError) as info:
        session.read(MrzKey(doc.mrz_information))
    assert isinstance(info.value, TransportError)
    assert info.value.resource == "apdus" and info.value.limit == 50 and info.value.used == 50
    assert transport.apdus == 50  # not one more went out
    assert "50 APDUs" in str(info.value)


def test_no_budget_means_no_limit():
    doc = specimen()
    options = ReadOptions(extended_length=False, chunk=32, max_apdus=None, max_seconds=None)
    result = ChipSession(doc.transport(), options=options).read(MrzKey(doc.mrz_information))
    assert result.stats.apdus > DEFAULT_MAX_APDUS // 2


def test_endless_get_response_chains_count_against_the_budget():
    # A chip answering 61 01 ("one more byte") to everything: each round is an exchange.
    transport = ScriptedTransport([("*", "AA 6101")] * 500)
    session = ChipSession(transport, options=ReadOptions(max_apdus=40))
    with pytest.raises(ReadBudgetExceededError):
        session.read(MrzKey(specimen().mrz_information))
    assert len(transport.sent) == 40


class SlowTransport(Transport):
    """A transport whose every exchange takes *delay* seconds (a slow or stalling chip)."""

    def __init__(self, inner: Transport, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    @property
    def atr(self) -> bytes | None:
        return self.inner.atr

    def transmit(self, apdu: bytes) -> bytes:
        time.sleep(self.delay)
        return self.inner.transmit(apdu)


def test_the_time_budget_ends_a_slow_read():
    doc = specimen()
    slow = SlowTransport(doc.transport(), delay=0.01)
    session = ChipSession(slow, options=ReadOptions(extended_length=False, max_seconds=0.1))
    start = time.monotonic()
    with pytest.raises(ReadBudgetExceededError) as info:
        session.read(MrzKey(doc.mrz_information))
    assert info.value.resource == "seconds" and info.value.limit == 0.1
    assert info.value.used > 0.1
    assert time.monotonic() - start < 1.0  # ended within one exchange of the budget


def test_budgeted_transport_with_a_fake_clock():
    now = [100.0]
    inner = ScriptedTransport([("*", "9000")] * 10, atr=b"\x3b\x00", extended_length=False)
    budget = BudgetedTransport(inner, max_apdus=None, max_seconds=2.0, clock=lambda: now[0])
    assert budget.atr == b"\x3b\x00" and budget.extended_length is False
    assert budget.transmit(b"\x00\xa4\x00\x00") == b"\x90\x00"
    now[0] = 102.0  # exactly at the budget: still allowed
    budget.transmit(b"\x00\xa4\x00\x00")
    now[0] = 102.5
    with pytest.raises(ReadBudgetExceededError, match=r"2\.5 s"):
        budget.transmit(b"\x00\xa4\x00\x00")
    assert budget.apdus == 2 and len(inner.sent) == 2
    budget.close()
    assert inner.closed


# -- one file never loses the rest --------------------------------------------------------------


@pytest.mark.parametrize(
    ("extended", "chunk"),
    [(None, None), (False, None), (None, 50), (None, 0), (False, 2), (None, 33)],
)
def test_an_indefinite_length_sod_is_read_to_its_end(extended, chunk):
    doc = specimen()
    sod = indefinite(doc.files[LdsFile.EF_SOD])
    if chunk is not None and chunk < 3:  # 0: the file ends on a chunk boundary (one more READ)
        chunk += len(sod)
    odd = doc.with_file(LdsFile.EF_SOD, sod)
    options = ReadOptions(extended_length=extended, chunk=chunk)
    with odd.transport() as transport:
        inspection = inspect(
            transport, MrzKey(doc.mrz_information), doc.trust_store(), options=options
        )
    assert inspection.read is not None and inspection.read.not_read == {}
    assert inspection.document.get(LdsFile.EF_SOD) == sod
    assert inspection.verdict is Verdict.VALID


def test_an_indefinite_length_sod_with_padding_is_cut_after_its_end():
    doc = specimen()
    sod = indefinite(doc.files[LdsFile.EF_SOD])
    odd = doc.with_file(LdsFile.EF_SOD, sod + b"\xff" * 40)
    with odd.transport() as transport:
        inspection = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert inspection.document.get(LdsFile.EF_SOD) == sod
    assert inspection.verdict is Verdict.VALID


def test_an_indefinite_length_file_past_its_limit_is_not_read_and_the_rest_is():
    doc = specimen()
    endless = b"\x77\x80" + b"\x04\x7f" + bytes(127) * 600  # no end-of-contents, 76 KB
    odd = doc.with_file(LdsFile.EF_SOD, endless)
    result = ChipSession(odd.transport()).read(MrzKey(doc.mrz_information))
    assert (
        "indefinite-length file longer than the 65536-byte limit" in result.not_read[LdsFile.EF_SOD]
    )
    assert LdsFile.EF_SOD in result.malformed
    assert result.document.get(LdsFile.DG2) == doc.files[LdsFile.DG2]  # EF.COM's list is read


def test_an_indefinite_length_file_ended_by_6b00():
    # A chip that answers a READ BINARY past the end with 6B00 (ISO/IEC 7816-4 §5.6).
    body = b"\x30\x80" + b"\x04\x04abcd" + b"\x00\x00"
    sod = b"\x77\x80" + body + b"\x00\x00"  # 14 bytes: two full 7-byte chunks
    transport = ScriptedTransport(
        [
            ("00 B0 9D 00 07", sod[:7].hex() + "9000"),
            ("00 B0 00 07 07", sod[7:].hex() + "9000"),
            ("00 B0 00 0E 07", "6B00"),
        ]
    )
    reader = FileReader(Channel(transport), chunk=7)
    assert reader.read_file(LdsFile.EF_SOD) == sod
    assert transport.done


def test_an_indefinite_length_file_ended_by_a_short_answer():
    sod = b"\x77\x80\x04\x02ab\x00\x00" + b"\x00" * 3  # padding after the end is cut
    transport = ScriptedTransport(
        [("00 B0 9D 00 08", sod[:8].hex() + "9000"), ("00 B0 00 08 08", sod[8:].hex() + "9000")]
    )
    events: list[tuple[int, int | None]] = []
    reader = FileReader(
        Channel(transport), chunk=8, progress=lambda f, done, total: events.append((done, total))
    )
    assert reader.read_file(LdsFile.EF_SOD) == sod[:8]
    assert events[0] == (0, None) and events[-1] == (8, 8)


def test_a_refused_sod_is_recorded_and_the_rest_read():
    doc = specimen()
    odd = doc.with_file(LdsFile.EF_SOD, None)  # the chip answers 6A82
    with odd.transport() as transport:
        inspection = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert inspection.read is not None
    assert inspection.read.not_read == {"EF.SOD": "not on the chip (6A82)"}
    assert inspection.read.malformed == ()
    assert set(inspection.read.files_read) >= {"EF.COM", "DG1", "DG2", "DG14", "DG15"}
    assert inspection.verdict is not Verdict.VALID


def test_neither_list_readable_reads_the_mandatory_groups():
    doc = specimen()
    odd = doc.with_file(LdsFile.EF_SOD, None).with_file(LdsFile.EF_COM, None)
    result = ChipSession(odd.transport()).read(MrzKey(doc.mrz_information))
    assert set(result.not_read) == {LdsFile.EF_COM, LdsFile.EF_SOD}
    assert set(result.files) == {"DG1", "DG2"}
