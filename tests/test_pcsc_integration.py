"""The virtual passport read through pyscard → pcscd → vpcd → the virtual card.

Needs pcscd with a vpcd reader (``make test`` starts one: tools/with-pcscd); skips
with the reason otherwise, and fails under ``CI=true``. See tests/pcsc_env.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers import pcsc
from drivers.virtual.builder import VirtualDocument, specimen
from drivers.virtual.chip import ChipConfig, VirtualChip
from drivers.virtual.vpcd import VpcdCard, ats_for
from epass.access.keys import MrzKey
from epass.dump import save_dump
from epass.errors import CardRemovedError, TransportError
from epass.inspection import inspect
from epass.lds.document import Document
from epass.reader import ChipSession, ReadOptions
from tests.pcsc_env import PORT, vpcd_reader

pytestmark = pytest.mark.pcsc

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reader_name() -> str:
    return vpcd_reader()


@pytest.fixture
def doc() -> VirtualDocument:
    return specimen()


@pytest.fixture
def reader(reader_name: str) -> Iterator[pcsc.PcscReader]:
    pcsc.forget_reader_capabilities()
    source = pcsc.PcscReader(reader_name, transmit_timeout=5.0)
    try:
        yield source
    finally:
        # leave the reader empty for the next test
        source.wait_for_removal(3.0)
        source.close()


class Cards:
    """Starts virtual cards in the vpcd reader and takes them out at the end."""

    def __init__(self) -> None:
        self.started: list[VpcdCard] = []

    def start(
        self, chip: VirtualChip, card_class: type[VpcdCard] = VpcdCard, **options
    ) -> VpcdCard:
        card = card_class(chip, port=PORT, **options).start()
        self.started.append(card)
        if options.get("inserted", True):
            assert card.wait_connected(5), "the virtual card could not reach vpcd"
        return card

    def stop(self) -> None:
        for card in self.started:
            card.join(3)


@pytest.fixture
def cards() -> Iterator[Cards]:
    running = Cards()
    try:
        yield running
    finally:
        running.stop()


def read_session(transport, doc: VirtualDocument, **options) -> ChipSession:
    session = ChipSession(transport, options=ReadOptions(**options))
    result = session.read(MrzKey(doc.mrz_information))
    assert result.document.raw == {**doc.files}
    return session


# --------------------------------------------------------------------------------------------


def test_read_and_verify_with_extended_length(reader, cards, doc, reader_name):
    cards.start(doc.chip())
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    with transport:
        assert transport.atr == doc.chip().atr
        assert transport.extended_length is True  # probed: vpcd carries extended APDUs
        assert pcsc.reader_extended_length(reader_name) is True
        session = read_session(transport, doc)
        assert session.extended_length is True
        # ATR/INFO, CardAccess, SELECT, BAC (2), 6 files, then CA (MSE, GA) and AA.
        assert session.stats.apdus == 14
    second = reader.wait_for_card(5.0)
    assert second is not None
    with second:
        result = inspect(second, MrzKey(doc.mrz_information), doc.trust_store())
    assert result.verdict.value == "VALID"
    assert result.to_dict()["read"]["link"] == "extended length"


def test_read_and_verify_with_short_apdus(reader, cards, doc):
    cards.start(doc.chip())
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    with transport:
        session = read_session(transport, doc, extended_length=False)
        assert session.stats.apdus > 50


def test_chip_without_extended_length_is_not_probed(reader, cards, doc):
    card = cards.start(doc.chip(config=ChipConfig(extended_length=False)))
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    with transport:
        assert transport.extended_length is None  # nothing asked: the card says short only
        result = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert result.verdict.value == "VALID"
    assert card.stats.apdus > 50


def test_card_removed_mid_read_then_a_clean_read(reader, cards, doc):
    card = cards.start(doc.chip(), remove_after=12)
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    with transport, pytest.raises(CardRemovedError) as info:
        read_session(transport, doc, extended_length=False)
    assert isinstance(info.value, pcsc.PcscError)
    assert reader.wait_for_removal(3.0) is True
    card.insert()
    again = reader.wait_for_card(5.0)
    assert again is not None
    with again:
        result = inspect(again, MrzKey(doc.mrz_information), doc.trust_store())
    assert result.verdict.value == "VALID"


def test_pcsc_pseudo_apdus_through_pcscd(reader, cards, doc):
    card = cards.start(doc.chip())
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    with transport:
        uid = transport.transmit(bytes.fromhex("FFCA000000"))
        assert uid == card.uid + b"\x90\x00" and uid[0] == 0x08
        assert transport.transmit(bytes.fromhex("FFCA010000")) == (
            ats_for(doc.chip().atr) + b"\x90\x00"
        )
        assert transport.transmit(bytes.fromhex("FF00000000")) == b"\x6e\x00"
        # the chip is undisturbed
        result = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert result.verdict.value == "VALID"


class GarbageCard(VpcdCard):
    """Answers every APDU with one byte: no status word."""

    def handle(self, payload: bytes, *, offset: int = 0) -> bytes | None:
        if len(payload) > 1:
            return b"\x90"
        return super().handle(payload, offset=offset)


class MuteCard(VpcdCard):
    """Never answers an APDU (a chip that stopped talking)."""

    def handle(self, payload: bytes, *, offset: int = 0) -> bytes | None:
        if len(payload) > 1:
            return None
        return super().handle(payload, offset=offset)


def test_card_answering_garbage_is_a_typed_error(reader, cards, doc):
    cards.start(doc.chip(config=ChipConfig(announce_in_atr=False)), GarbageCard)
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    with transport, pytest.raises(TransportError) as info:
        transport.transmit(bytes.fromhex("00A4040C07A0000002471001"))
    assert isinstance(info.value, pcsc.PcscError)


def test_card_answering_nothing_times_out_without_hanging(reader_name, cards, doc):
    card = cards.start(doc.chip(config=ChipConfig(announce_in_atr=False)), MuteCard)
    source = pcsc.PcscReader(reader_name, transmit_timeout=1.0)
    try:
        transport = source.wait_for_card(5.0)
        assert transport is not None
        begin = time.monotonic()
        with pytest.raises(pcsc.PcscTimeoutError):
            transport.transmit(bytes.fromhex("00A4040C07A0000002471001"))
        assert time.monotonic() - begin < 3.0
        transport.close()
        card.remove()  # the document is taken away: the stuck exchange ends
        assert source.wait_for_removal(5.0) is True
    finally:
        source.close()


HOLDER = """
import sys, time
from smartcard import scard
rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
rc, card, proto = scard.SCardConnect(ctx, sys.argv[1], scard.SCARD_SHARE_EXCLUSIVE,
                                     scard.SCARD_PROTOCOL_T1)
print("held" if rc == 0 else f"failed {rc:#x}", flush=True)
time.sleep(60)
"""


def test_reader_held_exclusively_by_another_process(reader, cards, doc, reader_name):
    cards.start(doc.chip())
    assert reader.wait_for_presence(5.0) is True
    holder = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", HOLDER, reader_name],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        begin = time.monotonic()
        with pytest.raises(pcsc.PcscError) as info:
            reader.wait_for_card(5.0)
        assert time.monotonic() - begin < 5.0
        assert info.value.hresult == pcsc.SCARD_E_SHARING_VIOLATION
        assert "another program" in str(info.value)
    finally:
        holder.kill()
        holder.wait(5)
    # pcscd releases the card once it sees the holder's connection gone: then a read works
    deadline = time.monotonic() + 10
    while True:
        try:
            transport = reader.wait_for_card(5.0)
            break
        except pcsc.PcscError as exc:
            assert exc.hresult == pcsc.SCARD_E_SHARING_VIOLATION
            assert time.monotonic() < deadline, "pcscd never released the card"
            time.sleep(0.1)
    assert transport is not None
    transport.close()


# --------------------------------------------------------------------------------------------
# the commands, in their own processes


def _epass(*args: str, **popen) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "epass.cli.main", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return process.returncode, err


def test_epass_emulate_serves_pcsc_applications(reader, doc):
    process = _epass("emulate", "--port", str(PORT), "--no-keyboard", stdin=subprocess.DEVNULL)
    try:
        transport = reader.wait_for_card(20.0)
        assert transport is not None
        with transport:
            result = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
        assert result.verdict.value == "VALID"
        process.send_signal(signal.SIGUSR1)  # take the card out
        assert reader.wait_for_removal(5.0) is True
        process.send_signal(signal.SIGUSR1)  # and put it back
        again = reader.wait_for_card(5.0)
        assert again is not None
        again.close()
    finally:
        code, err = _stop(process)
    assert code == 0, err
    assert "stopped: 2 insertion(s)" in err


def test_epass_emulate_from_dump(reader, doc, tmp_path):
    folder = tmp_path / "dump"
    save_dump(Document(dict(doc.files)), folder)
    process = _epass(
        "emulate", "--port", str(PORT), "--from-dump", str(folder), "--no-keyboard",
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        transport = reader.wait_for_card(20.0)
        assert transport is not None
        with transport:
            result = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
        # A replayed dump carries the data, not the chip's private keys: the data are
        # proven, the chip is a copy - exactly what a clone looks like.
        assert result.passive.verdict.value == "VALID"
        assert result.to_dict()["chip_authenticity"]["status"] == "CLONE_SUSPECTED"
        assert result.verdict.value == "INVALID"
    finally:
        code, err = _stop(process)
    assert code == 0, err


def test_epass_readers_json(reader, cards, doc, reader_name):
    cards.start(doc.chip())
    assert reader.wait_for_presence(5.0) is True
    process = _epass("readers", "--json")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    listed = {r["name"]: r for r in json.loads(out)["readers"]}
    ours = listed[reader_name]
    assert ours["card_present"] is True
    assert ours["atr"]["kind"] == "contactless"
    assert ours["atr"]["atr"] == doc.chip().atr.hex().upper()
    assert ours["extended_length"]["card"] is True
    text = _epass("readers")
    out, err = text.communicate(timeout=30)
    assert text.returncode == 0, err
    assert reader_name in out and "extended Lc and Le" in out


def test_many_cards_in_a_row(reader, cards, doc):
    """A kiosk's rhythm: present, read, remove, next."""
    for _ in range(3):
        card = cards.start(doc.chip())
        transport = reader.wait_for_card(5.0)
        assert transport is not None
        with transport:
            read_session(transport, doc)
        card.join(3)
        assert reader.wait_for_removal(3.0) is True


def test_wait_for_card_times_out_on_an_empty_reader(reader):
    begin = time.monotonic()
    assert reader.wait_for_card(0.5) is None
    assert time.monotonic() - begin < 2.0


def test_card_removed_while_waiting_in_another_thread(reader, cards, doc):
    card = cards.start(doc.chip())
    transport = reader.wait_for_card(5.0)
    assert transport is not None
    transport.close()
    threading.Timer(0.3, card.remove).start()
    assert reader.wait_for_removal(5.0) is True


# --------------------------------------------------------------------------------------------
# PACE through PC/SC (issue 8: "BAC, and PACE once it has landed")


@pytest.mark.parametrize("extended", [True, False])
def test_pace_through_pcscd(reader, cards, extended):
    from drivers.virtual import profiles
    from epass.access.keys import CanKey

    pace_doc = profiles.document("bac-pace")
    card = cards.start(pace_doc.chip(config=ChipConfig(extended_length=extended)))
    keys = ((MrzKey(pace_doc.mrz_information), "MRZ"), (CanKey(pace_doc.can or ""), "CAN"))
    for key, password in keys:
        transport = reader.wait_for_card(5.0)
        assert transport is not None
        with transport:
            result = inspect(transport, key, pace_doc.trust_store())
        report = result.to_dict()
        assert result.verdict.value == "VALID"
        assert report["read"]["access"]["protocol"] == "PACE"
        assert report["read"]["access"]["pace"]["password"] == password
        assert report["read"]["link"] == ("extended length" if extended else "short APDUs")
    assert card.stats.apdus > 0


def test_epass_read_reader_uses_pace_through_pcscd(reader, reader_name):
    process = _epass(
        "emulate", "--port", str(PORT), "--profile", "bac-pace", "--no-keyboard",
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert reader.wait_for_presence(20.0)
        line2 = specimen().mrz.splitlines()[1]
        read = _epass("read", "--reader", reader_name, "--mrz", line2, "--json", "--wait", "10")
        out, err = read.communicate(timeout=60)
        assert read.returncode == 2, err  # INDETERMINATE: no --trust for the TEST CSCA
        access = json.loads(out)["read"]["access"]
        assert access["protocol"] == "PACE" and access["fallback"] is None
        assert access["pace"]["mapping"] == "GM"
    finally:
        code, err = _stop(process)
    assert code == 0, err


# --------------------------------------------------------------------------------------------
# the kiosk through pcscd: documents in a row, a removal mid-read, pcscd stopped and restarted


class KioskProcess:
    """``epass kiosk --reader`` in its own process; its events collected on a thread."""

    def __init__(self, reader_name: str, *args: str) -> None:
        self.process = _epass(
            "kiosk", "--reader", reader_name, "--trust", str(ROOT / "certs" / "test"),
            "--poll", "0.2", *args, stdin=subprocess.PIPE,
        )  # fmt: skip
        self.events: list[dict[str, object]] = []
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        from tests.test_kiosk import VALIDATOR

        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            VALIDATOR.validate(event)  # every event, against the schema
            self.events.append(event)

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait(
        self,
        event: str,
        since: int = 0,
        *,
        timeout: float = 30.0,
        for_: str | None = None,
        **fields: object,
    ) -> int:
        """Wait for an event (with *fields*; ``for_``: its ``for``) at index >= *since*."""
        if for_ is not None:
            fields["for"] = for_
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i in range(since, len(self.events)):
                e = self.events[i]
                if e["event"] == event and all(e.get(k) == v for k, v in fields.items()):
                    return i
            if self.process.poll() is not None and not self._thread.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no {event} {fields} after #{since}; events: {self.events[since:]}")

    def finish(self) -> str:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._thread.join(5)
        assert self.process.stderr is not None
        return self.process.stderr.read()


SECRETS = ("L898902C", "ERIKSSON", "ANNA", "7408122", "3404159", "123456")


def test_kiosk_documents_in_a_row_with_a_removal_mid_read(reader_name, cards, doc):
    card = cards.start(doc.chip(), inserted=False)
    kiosk = KioskProcess(reader_name)
    line1, line2 = doc.mrz.splitlines()
    try:
        at = 0
        for _ in range(3):
            kiosk.type(line1)
            kiosk.type(line2)
            at = kiosk.wait("waiting", at, for_="document")
            card.insert()
            at = kiosk.wait("verdict", at, verdict="VALID")
            card.remove()
            at = kiosk.wait("document_removed", at)
        card.delay_ms = 100  # slow enough to be pulled mid-read
        kiosk.type(line2)
        at = kiosk.wait("waiting", at, for_="document")
        card.insert()
        at = kiosk.wait("access_granted", at)
        card.remove()
        at = kiosk.wait("error", at, stage="read")
        assert kiosk.events[at]["type"] == "PcscCardRemovedError", kiosk.events[at]
        at = kiosk.wait("document_removed", at)
        card.delay_ms = 0
        kiosk.type(line2)  # and the next document reads cleanly
        at = kiosk.wait("waiting", at, for_="document")
        card.insert()
        at = kiosk.wait("verdict", at, verdict="VALID")
        card.remove()
        kiosk.wait("document_removed", at)
    finally:
        err = kiosk.finish()
    assert kiosk.events[-1]["event"] == "stopped" and kiosk.events[-1]["cycles"] == 5
    assert sum(e["event"] == "verdict" for e in kiosk.events) == 4
    for secret in SECRETS:
        assert secret not in err


def _pcscd(action: str) -> None:
    control = os.environ.get("EPASS_PCSCD_CONTROL")
    if not control:
        from tests.pcsc_env import unavailable

        unavailable("EPASS_PCSCD_CONTROL is not set: run the suite through tools/with-pcscd")
        return
    subprocess.run([control, action], check=True, timeout=30)  # noqa: S603 - ours


def _reader_back(name: str, timeout: float = 20.0) -> None:
    from epass.errors import NoReaderError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if name in pcsc.reader_names():
                return
        except NoReaderError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"pcscd did not come back with {name!r}")


@pytest.fixture
def restartable(reader_name: str) -> Iterator[None]:
    """pcscd may be stopped by the test; it runs again (with the reader) afterwards."""
    if not os.environ.get("EPASS_PCSCD_CONTROL"):
        _pcscd("check")  # skips, or fails under CI=true
    try:
        yield
    finally:
        if not _pcscd_running():
            _pcscd("start")
        _reader_back(reader_name)


def _pcscd_running() -> bool:
    from epass.errors import NoReaderError

    try:
        pcsc.reader_names()
    except NoReaderError:
        return False
    return True


def test_pcscd_restart_under_a_reader(restartable, reader_name, cards, doc):
    cards.start(doc.chip())
    source = pcsc.PcscReader(reader_name, transmit_timeout=5.0)
    try:
        transport = source.wait_for_card(5.0)
        assert transport is not None
        transport.close()
        _pcscd("stop")
        with pytest.raises(pcsc.PcscNoReaderError):
            source.wait_for_card(1.0)
        _pcscd("start")
        _reader_back(reader_name)
        deadline = time.monotonic() + 15
        while True:  # the card reconnects to the new vpcd by itself
            transport = source.wait_for_card(1.0)
            if transport is not None or time.monotonic() > deadline:
                break
        assert transport is not None
        with transport:
            result = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
        assert result.verdict.value == "VALID"
    finally:
        source.close()


def test_kiosk_survives_pcscd_down_at_start_and_stopped_mid_read(
    restartable, reader_name, cards, doc
):
    card = cards.start(doc.chip())
    line2 = doc.mrz.splitlines()[1]
    _pcscd("stop")
    # was: 'epass kiosk' exited with one error line when pcscd or the reader was missing
    kiosk = KioskProcess(reader_name)
    try:
        kiosk.type(line2)
        at = kiosk.wait("error", 0, stage="wait")
        assert kiosk.events[at]["type"] == "PcscNoReaderError"
        at = kiosk.wait("waiting", at, for_="reader")
        _pcscd("start")
        at = kiosk.wait("reader_ready", at, reader=reader_name)
        at = kiosk.wait("verdict", at, verdict="VALID")
        card.remove()
        at = kiosk.wait("document_removed", at)
        # pcscd stops while a (slow) document is read: the reader is gone, not the card
        card.delay_ms = 150
        kiosk.type(line2)
        at = kiosk.wait("waiting", at, for_="document")
        card.insert()
        at = kiosk.wait("access_granted", at)
        _pcscd("stop")
        at = kiosk.wait("error", at, stage="read")
        assert kiosk.events[at]["type"] == "PcscNoReaderError"
        _pcscd("start")
        card.delay_ms = 0
        kiosk.type(line2)
        at = kiosk.wait("verdict", at, timeout=40, verdict="VALID")
        card.remove()  # the kiosk ends at the end of its input once the cycle is over
        kiosk.wait("document_removed", at)
    finally:
        err = kiosk.finish()
    assert kiosk.events[-1]["event"] == "stopped"
    for secret in SECRETS:
        assert secret not in err


def test_kiosk_gives_up_a_mute_chip_within_its_apdu_timeout_and_goes_on(reader_name, cards, doc):
    mute = cards.start(doc.chip(config=ChipConfig(announce_in_atr=False)), MuteCard)
    kiosk = KioskProcess(reader_name, "--apdu-timeout", "1")
    line2 = doc.mrz.splitlines()[1]
    try:
        kiosk.type(line2)
        at = kiosk.wait("document_detected", 0)
        begin = time.monotonic()
        at = kiosk.wait("error", at, stage="read")
        assert time.monotonic() - begin < 4.0  # not the default 15 s
        assert kiosk.events[at]["type"] == "PcscTimeoutError"
        mute.remove()  # the holder takes the document away: the stuck exchange ends
        at = kiosk.wait("document_removed", at)
        card = cards.start(doc.chip(), inserted=False)
        kiosk.type(line2)
        at = kiosk.wait("waiting", at, for_="document")
        card.insert()
        at = kiosk.wait("verdict", at, verdict="VALID")
        card.remove()
        kiosk.wait("document_removed", at)
    finally:
        kiosk.finish()
