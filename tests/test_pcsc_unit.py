"""drivers.pcsc without pcscd: ATR decoding, error mapping, reader names, and the reader and
transport driven through a fake ``smartcard.scard`` (pytest-mock). Runs everywhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from drivers import pcsc
from drivers.virtual.chip import ChipConfig
from epass.errors import CardRemovedError, NoReaderError, TransportError

# --------------------------------------------------------------------------------------------
# ATR decoding


def _with_tck(body: bytes) -> bytes:
    tck = 0
    for b in body[1:]:
        tck ^= b
    return body + bytes([tck])


def contactless_atr(historical: bytes) -> bytes:
    """PC/SC Part 3 §3.1.3.2.3.1: 3B 8n 80 01 <historical bytes> TCK."""
    return _with_tck(bytes([0x3B, 0x80 | len(historical), 0x80, 0x01]) + historical)


def test_virtual_chip_atr_is_contactless_with_extended_length():
    info = pcsc.decode_atr(ChipConfig().atr())
    assert info.kind == "contactless"
    assert info.protocols == (1,)
    assert info.checksum_ok is True
    assert info.problem is None
    assert info.historical_bytes == bytes.fromhex("8073802160")
    assert info.objects == (("card capabilities", bytes.fromhex("802160")),)
    assert info.extended_length is True
    assert info.capabilities.atr_info_present is True
    assert "extended Lc and Le" in info.capability_notes
    assert "extended length information in EF.ATR/INFO" in info.capability_notes
    assert "DF selection by full DF name" in info.capability_notes


def test_short_only_chip_atr_says_no_extended_length():
    info = pcsc.decode_atr(ChipConfig(extended_length=False).atr())
    assert info.extended_length is False
    assert "no extended Lc and Le" in info.capability_notes


def test_contactless_atr_without_capabilities_is_silent():
    # ATS historical bytes in a proprietary format (category byte not 00/80): nothing decoded
    info = pcsc.decode_atr(contactless_atr(bytes.fromhex("4A434F5033")))
    assert info.kind == "contactless"
    assert info.objects == ()
    assert info.extended_length is None


def test_storage_card_atr():
    # PC/SC Part 3 §3.1.3.2.3.2: RID A0 00 00 03 06, standard 03 (ISO 14443 A part 3), name 0001
    hist = bytes.fromhex("804F0CA00000030603000100000000")
    info = pcsc.decode_atr(contactless_atr(hist))
    assert info.kind == "contactless storage card"
    assert ("application identifier", bytes.fromhex("A00000030603000100000000")) in info.objects


def test_contact_t0_atr_without_tck():
    info = pcsc.decode_atr(bytes.fromhex("3B021450"))
    assert info.kind == "contact"
    assert info.protocols == (0,)
    assert info.checksum_ok is None
    assert info.historical_bytes == bytes.fromhex("1450")
    assert info.problem is None


T1_CONTACT_ATR = _with_tck(
    # T0 = D6: TA1 TC1 TD1 present, 6 historical bytes; TD1 = 81 (TD2 follows, T=1);
    # TD2 = 31 (TA3 TB3 follow, T=1); TA3 = FE, TB3 = 45; then the historical bytes
    bytes([0x3B, 0xD6, 0x18, 0xFF, 0x81, 0x31, 0xFE, 0x45]) + bytes.fromhex("0031FE009000")
)


def test_contact_t1_atr_with_interface_bytes_and_status_indicator():
    info = pcsc.decode_atr(T1_CONTACT_ATR)
    assert info.kind == "contact"
    assert info.protocols == (1,)
    assert info.checksum_ok is True
    assert info.historical_bytes == bytes.fromhex("0031FE009000")
    # category 00 (ISO/IEC 7816-4 §8.1.1.1): compact-TLV, then the 3-byte status indicator
    assert info.objects == (
        ("card service data", b"\xfe"),
        ("status indicator", bytes.fromhex("009000")),
    )
    assert info.problem is None


@pytest.mark.parametrize(
    ("atr", "why"),
    [
        (b"", "shorter than TS and T0"),
        (b"\x3b", "shorter than TS and T0"),
        (bytes.fromhex("3C00"), "TS is 3C"),
        (bytes.fromhex("3B8580"), "truncated in the interface bytes"),
        (bytes.fromhex("3B85800180"), "truncated in the historical bytes"),
        (bytes.fromhex("3B8580018073802160"), "no TCK"),
        (bytes.fromhex("3B858001807380216036FF"), "after TCK"),
        (bytes.fromhex("3B02145000"), "after the historical bytes"),
    ],
)
def test_malformed_atrs_are_reported_not_raised(atr, why):
    info = pcsc.decode_atr(atr)
    assert info.kind == "malformed"
    assert info.problem is not None and why in info.problem
    assert info.extended_length is None


def test_bad_tck_is_a_problem_but_still_decoded():
    atr = bytearray(ChipConfig().atr())
    atr[-1] ^= 0xFF
    info = pcsc.decode_atr(bytes(atr))
    assert info.kind == "contactless"
    assert info.checksum_ok is False
    assert info.problem == "TCK does not match"


def test_compact_tlv_running_past_the_end_is_a_problem():
    info = pcsc.decode_atr(contactless_atr(bytes.fromhex("807380")))  # 73 wants 3 bytes, has 1
    assert info.problem is not None and "runs past" in info.problem


def test_endless_td_chain_is_bounded():
    atr = bytes([0x3B, 0x80]) + bytes([0x80]) * 40
    info = pcsc.decode_atr(atr)
    assert info.kind == "malformed"


def test_atr_to_dict_is_json_ready():
    d = pcsc.decode_atr(ChipConfig().atr()).to_dict()
    assert d["atr"] == ChipConfig().atr().hex().upper()
    assert d["kind"] == "contactless"
    assert d["protocols"] == ["T=1"]
    assert d["extended_length"] is True


@pytest.mark.parametrize(
    "atr",
    [
        ChipConfig().atr(),
        ChipConfig(extended_length=False).atr(),
        bytes.fromhex("3B021450"),
        T1_CONTACT_ATR,
    ],
)
def test_agrees_with_pyscards_atr_parser(atr):
    atr_module = pytest.importorskip("smartcard.ATR", reason="pyscard not installed")
    theirs = atr_module.ATR(list(atr))
    ours = pcsc.decode_atr(atr)
    assert bytes(theirs.getHistoricalBytes()) == ours.historical_bytes
    assert theirs.checksumOK in (ours.checksum_ok, None)


# --------------------------------------------------------------------------------------------
# error mapping


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (pcsc.SCARD_W_REMOVED_CARD, pcsc.PcscCardRemovedError),
        (pcsc.SCARD_E_NO_SMARTCARD, pcsc.PcscCardRemovedError),
        (pcsc.SCARD_W_RESET_CARD, pcsc.PcscCardRemovedError),
        (pcsc.SCARD_E_NO_SERVICE, pcsc.PcscNoReaderError),
        (pcsc.SCARD_E_SERVICE_STOPPED, pcsc.PcscNoReaderError),
        (pcsc.SCARD_E_UNKNOWN_READER, pcsc.PcscNoReaderError),
        (pcsc.SCARD_E_READER_UNAVAILABLE, pcsc.PcscNoReaderError),
        (pcsc.SCARD_E_TIMEOUT, pcsc.PcscTimeoutError),
        (pcsc.SCARD_E_SHARING_VIOLATION, pcsc.PcscError),
        (pcsc.SCARD_E_PROTO_MISMATCH, pcsc.PcscError),
        (0x80100099, pcsc.PcscError),
    ],
)
def test_error_for_maps_codes_and_keeps_them(code, kind):
    err = pcsc.error_for(code, "SCardTransmit", "reader 'X'")
    assert type(err) is kind
    assert isinstance(err, TransportError)
    assert err.hresult == code
    assert err.operation == "SCardTransmit"
    assert f"0x{code:08X}" in str(err)
    assert "reader 'X'" in str(err)


def test_error_classes_are_the_core_ones():
    assert issubclass(pcsc.PcscCardRemovedError, CardRemovedError)
    assert issubclass(pcsc.PcscNoReaderError, NoReaderError)
    assert issubclass(pcsc.PyscardMissingError, NoReaderError)
    assert not issubclass(pcsc.PcscError, NoReaderError)


def test_sharing_violation_says_another_program_holds_the_reader():
    err = pcsc.error_for(pcsc.SCARD_E_SHARING_VIOLATION, "SCardConnect")
    assert "held exclusively by another program" in str(err)
    assert "SCARD_E_SHARING_VIOLATION" in str(err)


def test_negative_hresult_is_normalised():
    err = pcsc.error_for(pcsc.SCARD_W_REMOVED_CARD - (1 << 32), "SCardTransmit")
    assert isinstance(err, pcsc.PcscCardRemovedError)
    assert err.hresult == pcsc.SCARD_W_REMOVED_CARD


def _exception(name: str, message: str = "", hresult: int = -1) -> Exception:
    cls: type[Exception] = type(name, (Exception,), {})
    exc = cls(message)
    setattr(exc, "hresult", hresult)  # noqa: B010 - a dynamic class
    return exc


@pytest.mark.parametrize(
    ("exc", "kind", "hresult"),
    [
        (
            _exception("CardConnectionException", "x", pcsc.SCARD_W_REMOVED_CARD),
            pcsc.PcscCardRemovedError,
            pcsc.SCARD_W_REMOVED_CARD,
        ),
        (
            _exception("CardConnectionException", "Card returned no valid response", 0),
            pcsc.PcscCardRemovedError,
            None,
        ),
        (_exception("NoCardException", "no card", -1), pcsc.PcscCardRemovedError, None),
        (_exception("NoReadersException", "none", -1), pcsc.PcscNoReaderError, None),
        (
            _exception("EstablishContextException", "e", pcsc.SCARD_E_NO_SERVICE),
            pcsc.PcscNoReaderError,
            pcsc.SCARD_E_NO_SERVICE,
        ),
        (_exception("error", "swig", -1), pcsc.PcscError, None),
    ],
)
def test_map_pyscard_exception(exc, kind, hresult):
    err = pcsc.map_pyscard_exception(exc, "SCardTransmit")
    assert type(err) is kind
    assert err.hresult == hresult
    assert err.__cause__ is exc


def test_real_pyscard_exceptions_map():
    exceptions = pytest.importorskip("smartcard.Exceptions", reason="pyscard not installed")
    err = pcsc.map_pyscard_exception(
        exceptions.CardConnectionException("gone", hresult=pcsc.SCARD_W_REMOVED_CARD)
    )
    assert isinstance(err, pcsc.PcscCardRemovedError)
    assert err.hresult == pcsc.SCARD_W_REMOVED_CARD
    err = pcsc.map_pyscard_exception(exceptions.NoCardException("no card", hresult=-1))
    assert isinstance(err, pcsc.PcscCardRemovedError)


def test_our_constants_match_pyscards():
    scard = pytest.importorskip("smartcard.scard", reason="pyscard not installed")
    for name in dir(pcsc):
        if name.startswith(("SCARD_E_", "SCARD_W_", "SCARD_F_", "SCARD_STATE_")) and hasattr(
            scard, name
        ):
            assert getattr(pcsc, name) == getattr(scard, name) & 0xFFFFFFFF, name


# --------------------------------------------------------------------------------------------
# bytes and reader names


def test_byte_conversion_in_one_place():
    assert pcsc.to_pcsc(b"\x00\xff\x10") == [0, 255, 16]
    assert pcsc.from_pcsc([0, 255, 16]) == b"\x00\xff\x10"
    assert pcsc.from_pcsc([-1, -128]) == b"\xff\x80"  # signed bytes from some builds
    assert pcsc.from_pcsc(None) == b""
    assert pcsc.from_pcsc(b"\x90\x00") == b"\x90\x00"


NAMES = [
    "ACS ACR122U PICC Interface 00 00",
    "HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422CL Smartcard Reader] 01 00",
    "HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422 Smartcard Reader] 01 01",
]


def test_resolve_exact_name():
    assert pcsc.resolve_reader(NAMES[1], NAMES) == NAMES[1]


def test_resolve_unique_substring_case_insensitive():
    assert pcsc.resolve_reader("acr122", NAMES) == NAMES[0]
    assert pcsc.resolve_reader("5422CL", NAMES) == NAMES[1]


def test_resolve_ambiguous_substring_lists_the_matches():
    with pytest.raises(NoReaderError, match="matches 2 readers") as info:
        pcsc.resolve_reader("omnikey", NAMES)
    assert NAMES[1] in str(info.value) and NAMES[2] in str(info.value)


def test_resolve_no_match_lists_the_readers():
    with pytest.raises(NoReaderError, match="no reader matches 'cyberjack'") as info:
        pcsc.resolve_reader("cyberjack", NAMES)
    assert NAMES[0] in str(info.value)


def test_resolve_without_spec():
    assert pcsc.resolve_reader(None, NAMES[:1]) == NAMES[0]
    assert pcsc.resolve_reader("", NAMES[:1]) == NAMES[0]
    with pytest.raises(NoReaderError, match="3 readers are connected"):
        pcsc.resolve_reader(None, NAMES)
    with pytest.raises(NoReaderError, match="no PC/SC reader is connected"):
        pcsc.resolve_reader(None, [])
    with pytest.raises(NoReaderError, match="no PC/SC reader is connected"):
        pcsc.resolve_reader("acr", [])


def test_known_readers():
    assert pcsc.known_reader(NAMES[0]) == (False, pcsc.KNOWN_READERS["ACR122"][1])
    assert pcsc.known_reader("ACS ACR1252 1S CL Reader PICC 00 00") == pcsc.KNOWN_READERS["ACR1252"]
    assert pcsc.known_reader("Some Other Reader 00 00") is None


# --------------------------------------------------------------------------------------------
# the reader and transport over a fake smartcard.scard

READER = "Fake Reader 00 00"
SW_OK = [0x90, 0x00]


class FakeScard:
    """Enough of ``smartcard.scard`` to drive PcscReader: one reader, one card slot."""

    SCARD_SCOPE_USER = 0
    SCARD_SHARE_EXCLUSIVE = 1
    SCARD_PROTOCOL_T0 = 1
    SCARD_PROTOCOL_T1 = 2
    SCARD_PCI_T0 = "T0"
    SCARD_PCI_T1 = "T1"
    SCARD_LEAVE_CARD = 0
    SCARD_RESET_CARD = 1

    class error(Exception):  # noqa: N801, N818 - pyscard's name
        pass

    def __init__(self) -> None:
        self.readers = [READER]
        self.present = True
        self.reader_state = 0
        self.atr = ChipConfig().atr()
        self.service = True
        self.connect_code = 0
        self.contexts = 0
        self.sent: list[bytes] = []
        self.calls: list[str] = []
        self.respond: Callable[[bytes], tuple[int, list[int]]] = lambda apdu: (0, SW_OK)

    def SCardEstablishContext(self, scope):  # noqa: N802
        if not self.service:
            return pcsc.SCARD_E_NO_SERVICE, None
        self.contexts += 1
        return 0, self.contexts

    def SCardReleaseContext(self, ctx):  # noqa: N802
        return 0

    def SCardListReaders(self, ctx, groups):  # noqa: N802
        if not self.service:
            return pcsc.SCARD_E_NO_SERVICE, []
        return 0, list(self.readers)

    def _state(self, name):
        if name not in self.readers:
            return pcsc.SCARD_STATE_UNKNOWN
        base = pcsc.SCARD_STATE_PRESENT if self.present else pcsc.SCARD_STATE_EMPTY
        return base | self.reader_state

    def SCardGetStatusChange(self, ctx, timeout_ms, states):  # noqa: N802
        if not self.service:
            return pcsc.SCARD_E_NO_SERVICE, []
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            out = [(n, self._state(n), list(self.atr) if self.present else []) for n, _ in states]
            changed = any((s & 0xFFFF) != (known & 0xFFFF & ~2) for (_n, s, _a), (_, known) in
                          zip(out, states, strict=True))  # fmt: skip
            if changed or time.monotonic() >= deadline:
                code = 0 if changed or states[0][1] == 0 else pcsc.SCARD_E_TIMEOUT
                return code, [(n, s | (2 if changed else 0), a) for n, s, a in out]
            time.sleep(0.01)

    def SCardConnect(self, ctx, name, share, protocol):  # noqa: N802
        self.calls.append(f"connect share={share} protocol={protocol}")
        if self.connect_code:
            return self.connect_code, None, 0
        if not self.present:
            return pcsc.SCARD_E_NO_SMARTCARD, None, 0
        return 0, 77, self.SCARD_PROTOCOL_T1

    def SCardReconnect(self, card, share, protocol, disposition):  # noqa: N802
        self.calls.append(f"reconnect disposition={disposition}")
        return 0, self.SCARD_PROTOCOL_T1

    def SCardBeginTransaction(self, card):  # noqa: N802
        self.calls.append("begin")
        return 0

    def SCardEndTransaction(self, card, disposition):  # noqa: N802
        self.calls.append("end")
        return 0

    def SCardDisconnect(self, card, disposition):  # noqa: N802
        self.calls.append(f"disconnect disposition={disposition}")
        return 0

    def SCardStatus(self, card):  # noqa: N802
        if not self.present:
            return pcsc.SCARD_W_REMOVED_CARD, READER, 0, 0, []
        return 0, READER, pcsc.SCARD_STATE_PRESENT, self.SCARD_PROTOCOL_T1, list(self.atr)

    def SCardTransmit(self, card, pci, apdu):  # noqa: N802
        data = bytes(apdu)
        self.sent.append(data)
        return self.respond(data)

    def SCardGetErrorMessage(self, code):  # noqa: N802
        return "Fake error."


@pytest.fixture
def fake(mocker):
    scard = FakeScard()
    mocker.patch.object(pcsc, "_scard", scard)
    pcsc.forget_reader_capabilities()
    yield scard
    pcsc.forget_reader_capabilities()


def test_wait_for_card_connects_t1_exclusive_in_a_transaction_and_probes(fake):
    with pcsc.PcscReader(READER) as reader:
        assert reader.name == READER
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        assert fake.calls[:2] == ["connect share=1 protocol=2", "begin"]
        assert transport.atr == fake.atr
        assert fake.sent == [pcsc.PROBE_APDU]
        assert transport.extended_length is True
        assert pcsc.reader_extended_length(READER) is True
        assert transport.transmit(bytes.fromhex("00A4040C07A0000002471001")) == b"\x90\x00"
        transport.close()
        transport.close()  # idempotent
        assert fake.calls[-2:] == ["end", "disconnect disposition=1"]
        with pytest.raises(TransportError, match="closed"):
            transport.transmit(b"\x00\xa4\x00\x00")
        # the second card is not probed again: the reader is known
        second = reader.wait_for_card(1.0)
        assert second is not None and second.extended_length is True
        assert fake.sent.count(pcsc.PROBE_APDU) == 1
        second.close()


def test_no_probe_when_the_card_does_not_announce_extended_length(fake):
    fake.atr = ChipConfig(extended_length=False, announce_in_atr=False).atr()
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        assert fake.sent == []
        assert transport.extended_length is None
        transport.close()


def test_wait_for_card_times_out_with_none(fake):
    fake.present = False
    with pcsc.PcscReader(READER) as reader:
        start = time.monotonic()
        assert reader.wait_for_card(0.2) is None
        assert time.monotonic() - start < 1.0


def test_card_arriving_while_waiting(fake):
    fake.present = False
    threading.Timer(0.1, lambda: setattr(fake, "present", True)).start()
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(2.0)
        assert transport is not None
        transport.close()


def test_wait_for_removal(fake):
    with pcsc.PcscReader(READER) as reader:
        assert reader.wait_for_removal(0.1) is False
        threading.Timer(0.1, lambda: setattr(fake, "present", False)).start()
        assert reader.wait_for_removal(2.0) is True


def test_reader_held_by_another_program_is_a_typed_error(fake):
    fake.connect_code = pcsc.SCARD_E_SHARING_VIOLATION
    with pcsc.PcscReader(READER) as reader, pytest.raises(pcsc.PcscError) as info:
        reader.wait_for_card(1.0)
    assert info.value.hresult == pcsc.SCARD_E_SHARING_VIOLATION
    assert not isinstance(info.value, CardRemovedError)


def test_card_removed_mid_apdu(fake):
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        fake.respond = lambda apdu: (pcsc.SCARD_W_REMOVED_CARD, [])
        with pytest.raises(CardRemovedError) as info:
            transport.transmit(b"\x00\xb0\x81\x00\x00")
        assert info.value.hresult == pcsc.SCARD_W_REMOVED_CARD  # type: ignore[attr-defined]


def test_response_without_status_word(fake):
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        fake.respond = lambda apdu: (0, [0x90])
        with pytest.raises(pcsc.PcscError, match="without a status word"):
            transport.transmit(b"\x00\xb0\x81\x00\x00")
        fake.present = False  # the same, with the card gone: a removal
        with pytest.raises(pcsc.PcscCardRemovedError):
            transport.transmit(b"\x00\xb0\x81\x00\x00")


def test_extended_apdu_refused_by_the_reader_reads_as_6700_and_is_remembered(fake):
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None and transport.extended_length is True
        fake.respond = lambda apdu: (
            (pcsc.SCARD_E_INSUFFICIENT_BUFFER, []) if len(apdu) > 261 else (0, SW_OK)
        )
        assert transport.transmit(bytes(300)) == b"\x67\x00"
        assert transport.extended_length is False
        assert pcsc.reader_extended_length(READER) is False
        # a short APDU refused the same way is an error, not a made-up status word
        fake.respond = lambda apdu: (pcsc.SCARD_E_INSUFFICIENT_BUFFER, [])
        with pytest.raises(pcsc.PcscError):
            transport.transmit(bytes(10))


def test_probe_refused_at_pcsc_level_resets_the_card_and_remembers(fake):
    fake.respond = lambda apdu: (pcsc.SCARD_E_NOT_TRANSACTED, [])
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        assert transport.extended_length is False
        assert "reconnect disposition=1" in fake.calls
        assert pcsc.reader_extended_length(READER) is False


def test_probe_answered_6700_is_short_for_this_card_only(fake):
    fake.respond = lambda apdu: (0, [0x67, 0x00])
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        assert transport.extended_length is False
        assert pcsc.reader_extended_length(READER) is None


def test_probe_answered_6a82_by_a_bac_only_chip_means_carried(fake):
    fake.respond = lambda apdu: (0, [0x6A, 0x82])
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None and transport.extended_length is True


def test_pcscd_gone_then_back(fake):
    fake.service = False
    reader = pcsc.PcscReader(READER)
    with pytest.raises(NoReaderError) as info:
        reader.wait_for_card(0.1)
    assert info.value.hresult == pcsc.SCARD_E_NO_SERVICE  # type: ignore[attr-defined]
    fake.service = True  # pcscd restarted: the next call opens a new context
    transport = reader.wait_for_card(1.0)
    assert transport is not None
    transport.close()
    fake.service = False  # pcscd stops while the reader is in use
    with pytest.raises(pcsc.PcscNoReaderError):
        reader.wait_for_removal(0.1)
    fake.service = True
    assert reader.wait_for_removal(0.05) is False
    reader.close()


def test_reader_unplugged(fake):
    with pcsc.PcscReader(READER) as reader:
        fake.readers = []
        with pytest.raises(pcsc.PcscNoReaderError, match="not connected"):
            reader.wait_for_card(0.5)


def test_a_reader_that_never_answers_times_out(fake):
    release = threading.Event()

    def hang(apdu: bytes) -> tuple[int, list[int]]:
        release.wait(5)
        return 0, SW_OK

    with pcsc.PcscReader(READER, transmit_timeout=0.2) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        contexts = fake.contexts
        fake.respond = hang
        start = time.monotonic()
        with pytest.raises(pcsc.PcscTimeoutError, match=r"no answer within 0\.2 s"):
            transport.transmit(b"\x00\xb0\x81\x00\x00")
        assert time.monotonic() - start < 2.0
        with pytest.raises(TransportError):
            transport.transmit(b"\x00\xb0\x81\x00\x00")
        transport.close()  # returns at once
        release.set()
        fake.respond = lambda apdu: (0, SW_OK)
        again = reader.wait_for_card(1.0)  # a fresh context: the stuck one is abandoned
        assert again is not None
        assert fake.contexts == contexts + 1
        again.close()


def test_list_readers_decodes_atrs(fake):
    fake.readers = [READER, "ACS ACR122U PICC Interface 00 00"]
    found = pcsc.list_readers()
    assert [r.name for r in found] == fake.readers
    first = found[0]
    assert first.card_present and first.atr == fake.atr
    assert first.atr_info is not None and first.atr_info.kind == "contactless"
    assert "card: extended Lc/Le" in first.extended_length_summary()
    assert found[1].known is not None and found[1].known[0] is False
    assert "short APDUs only" in found[1].extended_length_summary()
    d = first.to_dict()
    assert d["atr"]["kind"] == "contactless"
    assert d["extended_length"]["card"] is True


def test_list_readers_without_readers(fake):
    fake.readers = []
    assert pcsc.list_readers() == []


def test_without_pyscard_every_pcsc_call_says_how_to_install(mocker):
    mocker.patch.object(pcsc, "_scard", None)
    assert pcsc.pyscard_available() is False
    for call in (pcsc.reader_names, pcsc.list_readers, lambda: pcsc.resolve_reader("x")):
        with pytest.raises(pcsc.PyscardMissingError, match=r"pip install 'epass\[pcsc\]'"):
            call()
    with pytest.raises(NoReaderError):
        pcsc.PcscReader(READER).wait_for_card(0.1)


def test_pyscard_exception_from_a_call_is_mapped(fake, mocker):
    exc = _exception("CardConnectionException", "boom", pcsc.SCARD_E_NO_SERVICE)
    mocker.patch.object(pcsc, "_SmartcardException", type(exc))
    mocker.patch.object(fake, "SCardListReaders", side_effect=exc)
    with pytest.raises(pcsc.PcscNoReaderError) as info:
        pcsc.reader_names()
    assert info.value.hresult == pcsc.SCARD_E_NO_SERVICE


def _pcscd_dies(fake: FakeScard) -> None:
    """What pcsc-lite answers on a live context once pcscd died (seen with a killed pcscd)."""
    fake.SCardTransmit = lambda card, pci, apdu: (pcsc.SCARD_F_COMM_ERROR, [])  # type: ignore[method-assign]
    fake.SCardStatus = lambda card: (pcsc.SCARD_F_COMM_ERROR, "", 0, 0, [])  # type: ignore[method-assign]
    fake.SCardGetStatusChange = (  # type: ignore[method-assign]
        lambda ctx, timeout_ms, states: (pcsc.SCARD_F_COMM_ERROR, [])
    )


def test_pcscd_dying_mid_apdu_is_the_reader_gone_not_a_removed_card(fake):
    # seen with a real pcscd killed mid-read: SCardTransmit and SCardStatus answer
    # SCARD_F_COMM_ERROR; that was reported as "the card is no longer in the reader"
    reader = pcsc.PcscReader(READER)
    transport = reader.wait_for_card(1.0)
    assert transport is not None
    _pcscd_dies(fake)
    with pytest.raises(pcsc.PcscNoReaderError, match="pcscd is gone") as info:
        transport.transmit(b"\x00\xb0\x81\x00\x00")
    assert not isinstance(info.value, CardRemovedError)
    assert info.value.hresult == pcsc.SCARD_F_COMM_ERROR
    transport.close()
    reader.close()


def test_pcscd_dying_while_waiting_is_the_reader_gone(fake):
    # was a plain PcscError, which the kiosk took for "a card it cannot open"
    fake.present = False
    with pcsc.PcscReader(READER) as reader:
        assert reader.wait_for_card(0.05) is None
        _pcscd_dies(fake)
        with pytest.raises(pcsc.PcscNoReaderError, match="lost the link to the PC/SC service"):
            reader.wait_for_card(0.05)
        with pytest.raises(pcsc.PcscNoReaderError):
            reader.wait_for_removal(0.05)


def test_empty_response_with_pcscd_gone_is_the_reader_gone(fake):
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        fake.respond = lambda apdu: (0, [])
        fake.SCardStatus = lambda card: (pcsc.SCARD_E_NO_SERVICE, "", 0, 0, [])
        with pytest.raises(pcsc.PcscNoReaderError):
            transport.transmit(b"\x00\xb0\x81\x00\x00")
        transport.close()


# --------------------------------------------------------------------------------------------
# ResolvingReader: a kiosk's reader, found when it comes


def test_resolving_reader_waits_for_a_reader_that_is_not_there_yet(fake):
    fake.readers = []
    source = pcsc.ResolvingReader("fake")
    source.check()  # nothing connected yet is no error: the waits will find it
    assert source.name == "fake"
    with pytest.raises(pcsc.PcscNoReaderError, match="no PC/SC reader is connected"):
        source.wait_for_card(0.05)
    fake.readers = [READER]
    transport = source.wait_for_card(1.0)
    assert transport is not None and source.name == READER
    transport.close()
    source.close()


def test_resolving_reader_finds_a_reader_plugged_back_under_another_name(fake):
    source = pcsc.ResolvingReader("fake")
    assert source.wait_for_removal(0.05) is False  # resolved: the card is in
    fake.readers = []  # unplugged
    with pytest.raises(pcsc.PcscNoReaderError):
        source.wait_for_card(0.05)
    fake.readers = ["Fake Reader 01 00"]  # pcscd numbered it anew
    transport = source.wait_for_card(1.0)
    assert transport is not None and source.name == "Fake Reader 01 00"
    transport.close()
    source.close()


def test_resolving_reader_refuses_at_once_what_waiting_cannot_mend(fake, mocker):
    fake.readers = [READER, "Fake Reader 00 01"]
    with pytest.raises(pcsc.AmbiguousReaderError, match="matches 2 readers"):
        pcsc.ResolvingReader("fake").check()
    with pytest.raises(pcsc.AmbiguousReaderError, match="choose one with --reader"):
        pcsc.ResolvingReader(None).check()
    fake.service = False  # pcscd not running yet: the kiosk waits for it
    pcsc.ResolvingReader("fake").check()
    mocker.patch.object(pcsc, "_scard", None)
    with pytest.raises(pcsc.PyscardMissingError):
        pcsc.ResolvingReader("fake").check()


def test_epass_readers_text_names_each_line_once(fake, capsys):
    # the raw capabilities object and its decoding were both labelled "card capabilities:"
    from epass.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["readers"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert out.count("card capabilities:") == 1
    assert "card capabilities decoded: DF selection by full DF name" in out
    assert "extended Lc and Le" in out


def _removed_after(fake: FakeScard, seconds: float) -> None:
    """The card leaves now, but pcscd reports it only *seconds* later (it polls the reader)."""
    seen_at = time.monotonic() + seconds
    status = fake.SCardStatus

    def late_status(card: object) -> tuple[object, ...]:
        if time.monotonic() >= seen_at:
            fake.present = False
        return tuple(status(card))

    fake.SCardStatus = late_status  # type: ignore[method-assign]


def test_card_pulled_during_an_extended_apdu_is_a_removal_not_a_short_only_reader(fake):
    # seen with two suites at once: SCardTransmit failed (SCARD_E_NOT_TRANSACTED) before
    # pcscd had seen the removal; the reader was then remembered as short-only for the
    # process (a kiosk would read every later document with ~100 APDUs instead of 11)
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None and transport.extended_length is True
        fake.respond = lambda apdu: (pcsc.SCARD_E_NOT_TRANSACTED, [])
        _removed_after(fake, 0.3)
        with pytest.raises(pcsc.PcscCardRemovedError):
            transport.transmit(bytes(300))
        assert pcsc.reader_extended_length(READER) is True
        transport.close()


def test_card_pulled_during_a_short_apdu_is_a_removal_once_pcscd_sees_it(fake):
    # was a plain PcscError when SCardStatus still said "present" right after the failure
    with pcsc.PcscReader(READER) as reader:
        transport = reader.wait_for_card(1.0)
        assert transport is not None
        fake.respond = lambda apdu: (pcsc.SCARD_F_COMM_ERROR, [])
        _removed_after(fake, 0.3)
        with pytest.raises(pcsc.PcscCardRemovedError):
            transport.transmit(b"\x00\xb0\x81\x00\x00")
        transport.close()
