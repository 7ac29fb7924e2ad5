"""drivers.virtual.vpcd against a fake vpcd (the test plays the reader driver's side of the
socket): framing, control messages, PC/SC pseudo-APDUs, malformed frames, insert/remove,
faults, reconnection, and ``epass emulate`` with its signals. No pcscd needed."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.virtual.builder import specimen
from drivers.virtual.vpcd import (
    GET_ATR,
    POWER_OFF,
    POWER_ON,
    RESET,
    VpcdCard,
    VpcdFrameError,
    ats_for,
    encode_frame,
)
from epass.access.keys import MrzKey
from epass.cli.main import main
from epass.dump import save_dump
from epass.errors import CardRemovedError, TransportError
from epass.inspection import inspect
from epass.lds.files import LdsFile
from epass.transport import Transport

ROOT = Path(__file__).resolve().parent.parent
SELECT_EMRTD = bytes.fromhex("00A4040C07A0000002471001")


class FakeVpcd:
    """The vpcd side: listens, accepts the card, sends frames, reads answers."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self, timeout: float = 5.0) -> socket.socket:
        self.server.settimeout(timeout)
        conn, _ = self.server.accept()
        conn.settimeout(timeout)
        self.conn = conn
        return conn

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(encode_frame(payload))

    def recv(self) -> bytes:
        assert self.conn is not None
        header = self._exact(2)
        (n,) = struct.unpack(">H", header)
        return self._exact(n)

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def exchange(self, apdu: bytes) -> bytes:
        self.send(apdu)
        return self.recv()

    def closed_by_card(self, timeout: float = 2.0) -> bool:
        assert self.conn is not None
        self.conn.settimeout(timeout)
        try:
            return self.conn.recv(1) == b""
        except (TimeoutError, ConnectionResetError):
            return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


class VpcdLink(Transport):
    """A transport through the fake vpcd to the card, so a whole ChipSession can run."""

    def __init__(self, fake: FakeVpcd, atr: bytes) -> None:
        self.fake = fake
        self._atr = atr

    @property
    def atr(self) -> bytes | None:
        return self._atr

    def transmit(self, apdu: bytes) -> bytes:
        try:
            return self.fake.exchange(apdu)
        except (EOFError, ConnectionResetError) as exc:
            raise CardRemovedError("the card closed the connection") from exc


@pytest.fixture
def fake():
    server = FakeVpcd()
    yield server
    server.close()


@pytest.fixture
def doc():
    return specimen()


def start(fake: FakeVpcd, chip, **options) -> VpcdCard:
    card = VpcdCard(chip, port=fake.port, **options).start()
    fake.accept()
    return card


# --------------------------------------------------------------------------------------------


def test_frame_codec():
    assert encode_frame(b"\x04") == b"\x00\x01\x04"
    assert encode_frame(bytes(300))[:2] == b"\x01\x2c"
    with pytest.raises(ValueError):
        encode_frame(b"")
    with pytest.raises(ValueError):
        encode_frame(bytes(65536))


def test_atr_power_and_apdus(fake, doc):
    chip = doc.chip()
    card = start(fake, chip)
    try:
        fake.send(bytes([GET_ATR]))
        assert fake.recv() == chip.atr
        for control in (POWER_OFF, POWER_ON, RESET):
            fake.send(bytes([control]))  # no answer expected
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert fake.exchange(bytes.fromhex("0084000008"))[-2:] == b"\x90\x00"  # GET CHALLENGE
        assert card.stats.apdus == 2
        assert card.stats.connections == 1
    finally:
        card.join(2)
    assert fake.closed_by_card()


def test_whole_bac_read_through_the_vpcd_framing(fake, doc):
    card = start(fake, doc.chip())
    try:
        link = VpcdLink(fake, card.chip.atr)
        result = inspect(link, MrzKey(doc.mrz_information), doc.trust_store())
        assert result.verdict.value == "VALID"
    finally:
        card.join(2)


@pytest.mark.parametrize(
    ("apdu", "check"),
    [
        ("FFCA000000", lambda r, card: r == card.uid + b"\x90\x00" and r[0] == 0x08),
        ("FFCA000002", lambda r, card: r == b"\x6c\x04"),
        ("FFCA000010", lambda r, card: r == card.uid + b"\x62\x82"),
        ("FFCA010000", lambda r, card: r == ats_for(card.chip.atr) + b"\x90\x00"),
        ("FFCA020000", lambda r, card: r == b"\x6a\x81"),
        ("FFCA000100", lambda r, card: r == b"\x6b\x00"),
        ("FFCA0000", lambda r, card: r == b"\x67\x00"),
        ("FFCA", lambda r, card: r == b"\x67\x00"),
        ("FF00000000", lambda r, card: r == b"\x6e\x00"),
        ("FFC2000100", lambda r, card: r == b"\x6e\x00"),
    ],
)
def test_pcsc_pseudo_apdus_answered_as_a_contactless_reader(fake, doc, apdu, check):
    card = start(fake, doc.chip())
    try:
        response = fake.exchange(bytes.fromhex(apdu))
        assert check(response, card), response.hex()
        assert card.stats.pseudo_apdus == 1
        assert card.stats.apdus == 0  # the chip never saw it
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"  # and the card goes on
    finally:
        card.join(2)


def test_ats_carries_the_atr_historical_bytes(doc):
    ats = ats_for(doc.chip().atr)
    assert ats[0] == len(ats)
    assert ats[1] == 0x78  # TA1 TB1 TC1 present, FSCI 8
    assert ats[5:] == bytes.fromhex("8073802160")


def test_uid_is_random_per_insertion_unless_fixed(fake, doc):
    card = start(fake, doc.chip())
    try:
        first = fake.exchange(bytes.fromhex("FFCA000000"))[:-2]
        card.remove()
        assert fake.closed_by_card()
        card.insert()
        fake.accept()
        second = fake.exchange(bytes.fromhex("FFCA000000"))[:-2]
        assert first[0] == second[0] == 0x08 and len(first) == len(second) == 4
    finally:
        card.join(2)
    fixed = start(fake, doc.chip(), uid=b"\x01\x02\x03\x04")
    try:
        assert fake.exchange(bytes.fromhex("FFCA000000")) == b"\x01\x02\x03\x04\x90\x00"
    finally:
        fixed.join(2)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\x00", "zero-length frame"),
        (b"\x00\x01\x03", "unknown control message 03"),
        (b"\x00\x0a\x00\xa4\x04", "connection closed inside a frame"),
    ],
)
def test_malformed_frame_closes_cleanly_and_the_card_comes_back(fake, doc, raw, reason):
    lines: list[str] = []
    card = start(fake, doc.chip(), log=lines.append)
    try:
        assert fake.conn is not None
        fake.conn.sendall(raw)
        if reason.startswith("connection closed"):
            fake.conn.shutdown(socket.SHUT_WR)
        assert fake.closed_by_card()
        deadline = time.monotonic() + 2
        while card.stats.frame_errors == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert card.stats.frame_errors == 1
        assert card.stats.last_error is not None and reason in card.stats.last_error
        assert any(reason in line and line.startswith("error: vpcd frame") for line in lines)
        fake.accept()  # it reconnects as a fresh card
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
    finally:
        card.join(2)


def test_handle_rejects_unknown_control_with_a_typed_error(doc):
    card = VpcdCard(doc.chip())
    with pytest.raises(VpcdFrameError, match="unknown control message 07") as info:
        card.handle(b"\x07", offset=12)
    assert isinstance(info.value, TransportError)
    assert info.value.offset == 12


def test_chip_exception_is_answered_6f00_not_a_crash(fake, doc, mocker):
    chip = doc.chip()
    card = start(fake, chip)
    try:
        mocker.patch.object(chip, "process", side_effect=RuntimeError("bug"))
        assert fake.exchange(SELECT_EMRTD) == b"\x6f\x00"
    finally:
        card.join(2)


def test_remove_and_insert(fake, doc):
    chip = doc.chip()
    card = start(fake, chip)
    try:
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        card.toggle()
        assert not card.inserted
        assert fake.closed_by_card(1.0)
        card.toggle()
        fake.accept()
        assert card.inserted
        # a fresh power-up: no session, the application must be selected again
        assert fake.exchange(bytes.fromhex("0084000008")) == b"\x69\x85"
        assert card.stats.connections == 2 and card.stats.removals == 1
    finally:
        card.join(2)


def test_start_removed(fake, doc):
    card = VpcdCard(doc.chip(), port=fake.port, inserted=False).start()
    try:
        fake.server.settimeout(0.3)
        with pytest.raises(TimeoutError):
            fake.server.accept()
        card.insert()
        fake.accept()
    finally:
        card.join(2)


def test_remove_after_n_apdus_then_a_clean_read(fake, doc):
    card = start(fake, doc.chip(), remove_after=8)
    try:
        link = VpcdLink(fake, card.chip.atr)
        with pytest.raises(CardRemovedError):
            inspect(link, MrzKey(doc.mrz_information), doc.trust_store())
        assert not card.inserted
        card.insert()
        fake.accept()
        result = inspect(link, MrzKey(doc.mrz_information), doc.trust_store())
        assert result.verdict.value == "VALID"  # the fault fires once
    finally:
        card.join(2)


def test_remove_after_must_count_from_one(doc):
    with pytest.raises(ValueError):
        VpcdCard(doc.chip(), remove_after=0)


def test_delay(fake, doc):
    card = start(fake, doc.chip(), delay_ms=60)
    try:
        begin = time.monotonic()
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert time.monotonic() - begin >= 0.05
    finally:
        card.join(2)


def test_removal_and_stop_cut_a_slow_answer_short(fake, doc):
    # a mute chip (--delay-ms 60000) kept the card in the reader and 'epass emulate' alive
    # after SIGTERM for the whole delay: removal and stop now end the wait
    card = start(fake, doc.chip(), delay_ms=30_000)
    try:
        fake.send(SELECT_EMRTD)
        time.sleep(0.2)
        begin = time.monotonic()
        card.remove()
        assert fake.closed_by_card(5)  # no answer, the card left at once
        assert time.monotonic() - begin < 2.0
        card.insert()
        fake.accept()
        fake.send(SELECT_EMRTD)
        time.sleep(0.2)
        begin = time.monotonic()
        card.join(5)
        assert card._thread is not None and not card._thread.is_alive()
        assert time.monotonic() - begin < 2.0
    finally:
        card.join(2)


def test_reconnects_when_vpcd_restarts(fake, doc):
    lines: list[str] = []
    card = start(fake, doc.chip(), log=lines.append)
    port = fake.port
    try:
        fake.close()  # pcscd stops: the card sees the connection end and keeps trying
        time.sleep(0.4)
        again = FakeVpcd(port)
        try:
            again.accept()
            assert again.exchange(SELECT_EMRTD) == b"\x90\x00"
        finally:
            again.close()
    finally:
        card.join(2)
    assert any("reconnecting" in line for line in lines)
    assert any("not reachable" in line for line in lines)


def test_stop_ends_the_thread(fake, doc):
    card = start(fake, doc.chip())
    card.join(2)
    assert card._thread is not None and not card._thread.is_alive()
    assert fake.closed_by_card()


# --------------------------------------------------------------------------------------------
# epass emulate (its own process, so its signal handlers are real)


def _emulate(port: int, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "epass.cli.main", "emulate", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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


def test_emulate_signals_toggle_and_stop(fake, doc):
    process = _emulate(fake.port, "--no-keyboard")
    try:
        fake.accept(timeout=20)
        fake.send(bytes([GET_ATR]))
        assert fake.recv() == doc.chip().atr
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        process.send_signal(signal.SIGUSR1)  # remove
        assert fake.closed_by_card(5)
        process.send_signal(signal.SIGUSR1)  # insert
        fake.accept(timeout=5)
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
    finally:
        code, err = _stop(process)
    assert code == 0, err
    assert "serving profile 'specimen'" in err
    assert "stopped: 2 insertion(s), 2 APDU(s)" in err
    assert "L898902C" not in err  # no personal data in the log


def test_emulate_stops_at_once_on_sigterm_while_a_slow_answer_is_pending(fake):
    process = _emulate(fake.port, "--no-keyboard", "--delay-ms", "60000")
    try:
        fake.accept(timeout=20)
        fake.send(SELECT_EMRTD)
        time.sleep(0.3)
        begin = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(5)  # was: the whole 60 s delay
        assert time.monotonic() - begin < 3.0
    finally:
        code, err = _stop(process)
    assert code == 0, err


def test_emulate_keyboard_commands(fake):
    process = _emulate(fake.port)
    try:
        fake.accept(timeout=20)
        assert process.stdin is not None
        process.stdin.write("r\n")
        process.stdin.flush()
        assert fake.closed_by_card(5)
        process.stdin.write("i\n")
        process.stdin.flush()
        fake.accept(timeout=5)
        process.stdin.write("q\n")
        process.stdin.flush()
        process.wait(10)
    finally:
        code, err = _stop(process)
    assert code == 0, err


def test_emulate_from_dump_serves_the_saved_files_with_bac(fake, doc, tmp_path):
    folder = tmp_path / "dump"
    files = {f: d for f, d in doc.files.items()}
    from epass.lds.document import Document

    save_dump(Document(files), folder)
    process = _emulate(fake.port, "--from-dump", str(folder), "--no-keyboard")
    try:
        fake.accept(timeout=20)
        fake.send(bytes([GET_ATR]))
        atr = fake.recv()
        result = inspect(VpcdLink(fake, atr), MrzKey(doc.mrz_information), doc.trust_store())
        # The saved files pass passive authentication, but a dump served by an emulator
        # is a copy without the chip's keys: Chip and Active Authentication catch the clone.
        assert result.passive.verdict.value == "VALID"
        assert result.chip.status.value == "CLONE_SUSPECTED"
        assert result.verdict.value == "INVALID"
        assert set(result.document.raw) >= {LdsFile.EF_SOD, LdsFile.DG1, LdsFile.DG2}
    finally:
        code, err = _stop(process)
    assert code == 0, err
    assert "serving dump" in err


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_emulate_unknown_profile(capsys):
    code, _out, err = run_cli(capsys, "emulate", "--profile", "nope", "--no-keyboard")
    assert code == 3
    assert "unknown profile 'nope'" in err and "specimen" in err


def test_emulate_profile_and_dump_exclude_each_other(capsys, tmp_path):
    code, _out, err = run_cli(
        capsys, "emulate", "--profile", "other", "--from-dump", str(tmp_path), "--no-keyboard"
    )
    assert code == 3
    assert "not both" in err


def test_emulate_dump_without_dg1(capsys, tmp_path, doc):
    from epass.lds.document import Document

    folder = tmp_path / "dump"
    save_dump(Document({LdsFile.EF_SOD: doc.files[LdsFile.EF_SOD]}), folder)
    code, _out, err = run_cli(capsys, "emulate", "--from-dump", str(folder), "--no-keyboard")
    assert code == 3
    assert "no DG1" in err


def test_emulate_dump_missing_folder(capsys, tmp_path):
    code, _out, err = run_cli(
        capsys, "emulate", "--from-dump", str(tmp_path / "absent"), "--no-keyboard"
    )
    assert code == 3
    assert "not a folder" in err


def test_emulate_serves_every_virtual_document_profile():
    """``--profile`` takes the profiles ``epass demo --list-profiles`` shows (PACE ones too)."""
    from drivers.virtual import profiles
    from drivers.virtual.chip import ChipConfig, Faults
    from epass.cli.emulate import _profile_chip

    for name in profiles.PROFILES:
        chip = _profile_chip(name, ChipConfig(extended_length=False), Faults())
        own = profiles.document(name).chip_config or ChipConfig()
        assert chip.config == replace(own, extended_length=False), name


def test_emulate_in_the_background_does_not_read_the_terminal(monkeypatch):
    # 'epass emulate &' (as drivers/README shows) read the terminal from the background:
    # SIGTTIN stops the whole process, and the card stops answering pcscd
    from epass.cli import emulate as emulate_cli

    class Tty:
        def fileno(self) -> int:
            return 0

    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr("os.isatty", lambda fd: True)
    monkeypatch.setattr("os.getpgrp", lambda: 100)
    monkeypatch.setattr("os.tcgetpgrp", lambda fd: 200)  # another process group: background
    assert emulate_cli._keyboard_wanted() is False
    monkeypatch.setattr("os.tcgetpgrp", lambda fd: 100)  # the foreground
    assert emulate_cli._keyboard_wanted() is True
    monkeypatch.setattr("os.isatty", lambda fd: False)  # a pipe is read
    assert emulate_cli._keyboard_wanted() is True


def test_a_card_put_back_at_once_waits_until_pcscd_saw_it_go(fake, doc):
    """vpcd polls about every 0.4 s: a card back sooner could go unseen (never powered)."""
    from drivers.virtual.vpcd import REINSERT_SETTLE

    card = start(fake, doc.chip())
    try:
        card.remove()
        assert fake.closed_by_card()
        removed = time.monotonic()
        card.insert()
        fake.accept()
        assert time.monotonic() - removed >= REINSERT_SETTLE - 0.05
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
    finally:
        card.join(2)
