"""Serve a :class:`~drivers.virtual.chip.VirtualChip` to pcscd through the vsmartcard vpcd driver.

vpcd (Debian package ``vsmartcard-vpcd``) is a pcscd reader driver that
listens on TCP (port 35963 for its first reader, ``Virtual PCD 00 00``); the
virtual *card* connects to it as a client, and any PC/SC application then sees
a card in that reader. The protocol, both directions: a 2-byte big-endian
length, then the payload. From vpcd, a 1-byte payload is a control message
(:data:`POWER_OFF`, :data:`POWER_ON`, :data:`RESET`, :data:`GET_ATR`; only the
last is answered, with the ATR); anything longer is a command APDU, answered
with the response APDU. Closing the connection is card removal.

Speed: Debian's vpcd writes the length and the APDU in two sends, so the card
sets ``TCP_NODELAY`` (and answers in one send) and re-arms ``TCP_QUICKACK``
after each read: without them every APDU waits for a delayed ACK (about 44 ms);
with them a round trip through pyscard → pcscd → vpcd → card takes well under
a millisecond.

The card also answers what a contactless *reader* answers itself (PC/SC Part 3
§3.2.2.1.3, GET DATA): ``FF CA 00 00 Le`` the UID (a random single-size UID,
``08`` + 3 random bytes, new at each insertion, as eMRTDs do), ``FF CA 01 00 Le``
the ATS (without CRC); any other ``CLA FF`` command ``6E00``. A frame from the
peer that breaks the framing (a zero length, an unknown control byte, a frame
cut short) raises :class:`VpcdFrameError` and the connection is closed cleanly.

:class:`VpcdCard` runs the connection: insert/remove (:meth:`~VpcdCard.insert`,
:meth:`~VpcdCard.remove`, :meth:`~VpcdCard.toggle`, from any thread or a signal
handler), reconnects when pcscd restarts, and fault switches (a slow chip, the
card removed at the Nth APDU) on top of the chip's own :class:`Faults`.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.virtual.chip import VirtualChip
from epass.capabilities import historical_bytes
from epass.errors import TransportError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "GET_ATR",
    "POWER_OFF",
    "POWER_ON",
    "RESET",
    "VpcdCard",
    "VpcdFrameError",
    "VpcdStats",
    "ats_for",
    "encode_frame",
    "read_frame",
]

DEFAULT_HOST = "127.0.0.1"
#: vpcd's first reader (reader.conf ``CHANNELID 0x8C7B``); the second listens on 35964.
DEFAULT_PORT = 35963

POWER_OFF = 0x00
POWER_ON = 0x01
RESET = 0x02
GET_ATR = 0x04
_CONTROL = frozenset({POWER_OFF, POWER_ON, RESET, GET_ATR})

#: Seconds the rest of a frame may take once its length has arrived.
FRAME_TIMEOUT = 5.0
#: Seconds between polls of the insert/remove/stop flags while the link is idle.
POLL_INTERVAL = 0.05
#: Seconds between attempts to reach vpcd (pcscd not running or restarting).
RECONNECT_DELAY = 0.25
#: Least time between a removal and the next insertion (seconds). vpcd asks for the card
#: about every 0.4 s; a card back sooner than two of those polls can go unseen by pcscd,
#: which then keeps the old (unpowered) card's state and never powers the new one.
REINSERT_SETTLE = 1.0

SW_SUCCESS = b"\x90\x00"
SW_END_OF_DATA = b"\x62\x82"
SW_WRONG_LENGTH = b"\x67\x00"
SW_FUNCTION_NOT_SUPPORTED = b"\x6a\x81"
SW_WRONG_P1P2 = b"\x6b\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"
SW_NO_DIAGNOSIS = b"\x6f\x00"


class VpcdFrameError(TransportError):
    """The vpcd peer sent a frame that breaks the framing; the connection is closed.

    :ivar offset: bytes received on the connection before the bad frame.
    """

    def __init__(self, message: str, *, offset: int = 0) -> None:
        self.offset = offset
        super().__init__(f"vpcd frame at byte {offset}: {message}")


class _PeerClosedError(Exception):
    """vpcd closed the connection between frames (pcscd stopped or restarted)."""


class _RemoveCardError(Exception):
    """The remove-after fault fired: leave the reader without answering."""


class _InterruptedError(Exception):
    """The card was removed or stopped while a slow answer was pending: do not answer."""


def encode_frame(payload: bytes) -> bytes:
    """Length-prefix *payload* (2 bytes, big-endian).

    :raises ValueError: if *payload* is empty or longer than 65535 bytes.
    """
    if not 0 < len(payload) <= 0xFFFF:
        raise ValueError(f"a vpcd frame carries 1 to 65535 bytes, not {len(payload)}")
    return struct.pack(">H", len(payload)) + payload


def _quickack(sock: socket.socket) -> None:
    option = getattr(socket, "TCP_QUICKACK", None)
    if option is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)
        except OSError:
            pass


def _recv_exact(sock: socket.socket, n: int, offset: int, *, deadline: float) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise VpcdFrameError(f"frame cut short: {got} of {n} bytes in time", offset=offset)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(n - got)
        except TimeoutError:
            continue
        if not chunk:
            raise VpcdFrameError(
                f"connection closed inside a frame ({got} of {n} bytes)", offset=offset
            )
        chunks.append(chunk)
        got += len(chunk)
        _quickack(sock)
    return b"".join(chunks)


def read_frame(sock: socket.socket, offset: int = 0, *, timeout: float = FRAME_TIMEOUT) -> bytes:
    """Read one frame whose first byte is ready on *sock*.

    :param offset: bytes received before (for the error message).
    :returns: the payload (1 to 65535 bytes).
    :raises VpcdFrameError: a zero length, or a frame that does not complete
        within *timeout* seconds or before the peer closes.
    :raises _PeerClosedError: the peer closed the connection before a new frame.
    """
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    try:
        first = sock.recv(2)
    except TimeoutError as exc:
        raise VpcdFrameError("no frame header in time", offset=offset) from exc
    if not first:
        raise _PeerClosedError()
    header = first if len(first) == 2 else first + _recv_exact(sock, 1, offset, deadline=deadline)
    _quickack(sock)
    (length,) = struct.unpack(">H", header)
    if length == 0:
        raise VpcdFrameError("zero-length frame", offset=offset)
    return _recv_exact(sock, length, offset + 2, deadline=deadline)


def ats_for(atr: bytes) -> bytes:
    """The ISO/IEC 14443-4 ATS (without CRC) of a card whose PC/SC ATR is *atr*.

    ``TL T0 TA1 TB1 TC1`` + the ATR's historical bytes (PC/SC Part 3 §3.1.3.2.3
    builds the ATR from them): FSCI 8 (256-byte frames), 106 kbit/s both ways,
    FWI 8, CID supported (ISO/IEC 14443-4 §5.2).
    """
    historical = historical_bytes(atr)[:15]
    body = bytes([0x78, 0x80, 0x80, 0x02]) + historical
    return bytes([len(body) + 1]) + body


@dataclass
class VpcdStats:
    """What happened on the link (for the CLI, tests and the benchmark)."""

    connections: int = 0
    apdus: int = 0
    pseudo_apdus: int = 0
    removals: int = 0
    frame_errors: int = 0
    last_error: str | None = None


class VpcdCard:
    """A virtual card plugged into a vpcd reader.

    :param chip: the chip to serve; it is powered on afresh at each insertion
        and at each power-on or reset from the reader.
    :param host: / :param port: where vpcd listens (always connect to 127.0.0.1:
        vpcd binds every interface).
    :param delay_ms: wait this long before each answer (a slow chip).
    :param remove_after: take the card out when the Nth APDU of the next
        insertion arrives, without answering it (card removal mid-APDU); once.
    :param inserted: start with the card in the reader.
    :param log: told one line per event (no personal data; default: nothing).
    :param uid: the UID answered to ``FF CA 00 00`` (default: random per insertion).

    :meth:`run` blocks until :meth:`stop`; :meth:`start` runs it on a thread.
    """

    def __init__(
        self,
        chip: VirtualChip,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        delay_ms: float = 0.0,
        remove_after: int | None = None,
        inserted: bool = True,
        log: Callable[[str], None] | None = None,
        uid: bytes | None = None,
    ) -> None:
        if remove_after is not None and remove_after < 1:
            raise ValueError("remove_after counts APDUs from 1")
        self.chip = chip
        self.host = host
        self.port = port
        self.delay_ms = max(0.0, delay_ms)
        self.remove_after = remove_after
        self.stats = VpcdStats()
        self._fixed_uid = uid
        self.uid = uid or self._random_uid()
        self._log = log or (lambda _line: None)
        # re-entrant: a signal handler may call insert/remove while the main thread is inside one
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._inserted = inserted
        self._removals = 0  # remove() calls so far: a slow answer stops at the next one
        self._removed_at: float | None = None  # time.monotonic() of the last removal
        self._stopping = False
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._session_apdus = 0
        self.connected = threading.Event()

    # -- control (any thread, signal handlers) ------------------------------------------

    @property
    def inserted(self) -> bool:
        """Whether the card is meant to be in the reader."""
        return self._inserted

    def insert(self) -> None:
        """Put the card in the reader (connect to vpcd)."""
        with self._changed:
            self._inserted = True
            self._changed.notify_all()

    def remove(self) -> None:
        """Take the card out (close the connection: pcscd sees the removal in about 0.3 s)."""
        with self._changed:
            self._inserted = False
            self._removals += 1
            self._removed_at = time.monotonic()
            self._shutdown_socket()
            self._changed.notify_all()

    def toggle(self) -> None:
        """Insert the card if it is out, remove it if it is in."""
        if self._inserted:
            self.remove()
        else:
            self.insert()

    def stop(self) -> None:
        """End :meth:`run`: the card is removed and nothing reconnects."""
        with self._changed:
            self._stopping = True
            self._shutdown_socket()
            self._changed.notify_all()

    def _shutdown_socket(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- threads ------------------------------------------------------------------------

    def start(self) -> VpcdCard:
        """Run :meth:`run` on a daemon thread; returns self."""
        self._thread = threading.Thread(target=self.run, name="epass-vpcd", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Stop and wait for the thread started by :meth:`start`."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_connected(self, timeout: float) -> bool:
        """Wait until vpcd accepted the card (the reader shows it soon after)."""
        return self.connected.wait(timeout)

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Keep the card in the reader while inserted; reconnect when pcscd restarts.

        Returns after :meth:`stop`. A malformed frame closes the connection
        (counted in :attr:`stats`), and the card reconnects like a fresh one.
        """
        unreachable_logged = False
        while True:
            with self._changed:
                while not self._stopping and not self._inserted:
                    self._changed.wait()
                if self._stopping:
                    return
            if self._removed_at is not None:
                settle = REINSERT_SETTLE - (time.monotonic() - self._removed_at)
                if settle > 0:
                    self._sleep(settle)
                    continue  # look again: removed or stopped meanwhile
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
            except OSError as exc:
                if not unreachable_logged:
                    self._log(
                        f"vpcd at {self.host}:{self.port} not reachable ({exc.strerror or exc}); "
                        "retrying (is pcscd running with the vpcd driver?)"
                    )
                    unreachable_logged = True
                self._sleep(RECONNECT_DELAY)
                continue
            unreachable_logged = False
            self._serve(sock)
            if not self._stopping and self._inserted:
                self._sleep(RECONNECT_DELAY)  # vpcd went away: pcscd stopped or restarted

    def _sleep(self, seconds: float) -> None:
        with self._changed:
            if not self._stopping:
                self._changed.wait(seconds)

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._changed:
            if self._stopping or not self._inserted:
                sock.close()
                return
            self._sock = sock
        self.stats.connections += 1
        self.chip.power_on()
        self.uid = self._fixed_uid or self._random_uid()
        self._session_apdus = 0
        self.connected.set()
        self._log(f"card inserted (vpcd {self.host}:{self.port})")
        try:
            self.serve_connection(sock)
        except VpcdFrameError as exc:
            self.stats.frame_errors += 1
            self.stats.last_error = str(exc)
            self._log(f"error: {exc}; connection closed")
        except _PeerClosedError:
            if self._inserted and not self._stopping:
                self._log("vpcd closed the connection (pcscd stopped?); reconnecting")
        except OSError as exc:
            if self._inserted and not self._stopping:
                self._log(f"connection lost ({exc.strerror or exc}); reconnecting")
        finally:
            with self._changed:
                self._sock = None
            self.connected.clear()
            try:
                sock.close()
            except OSError:
                pass
            self.stats.removals += 1
            self._log("card removed")

    def serve_connection(self, sock: socket.socket) -> None:
        """Answer frames on one connection until removal, :meth:`stop` or the peer closes.

        :raises VpcdFrameError: on a malformed frame (the caller closes the socket).
        :raises _PeerClosedError: when vpcd closes the connection.
        """
        received = 0
        while True:
            if self._stopping or not self._inserted:
                return
            ready, _w, _x = select.select([sock], [], [], POLL_INTERVAL)
            if not ready:
                continue
            payload = read_frame(sock, received)
            try:
                answer = self.handle(payload, offset=received)
            except _InterruptedError:
                return  # removed or stopped during --delay-ms: the card is gone, no answer
            except _RemoveCardError:
                with self._changed:
                    self._inserted = False
                    self._removed_at = time.monotonic()
                self._log(f"fault: card removed at APDU {self._session_apdus}")
                return
            received += 2 + len(payload)
            if answer is not None:
                sock.sendall(encode_frame(answer))

    # -- one frame ---------------------------------------------------------------------

    def handle(self, payload: bytes, *, offset: int = 0) -> bytes | None:
        """The answer to one frame's payload (``None`` when vpcd expects none).

        :raises VpcdFrameError: for an unknown control byte.
        """
        if len(payload) == 1:
            code = payload[0]
            if code not in _CONTROL:
                raise VpcdFrameError(f"unknown control message {code:02X}", offset=offset)
            if code == GET_ATR:
                return self.chip.atr
            self.chip.power_on()  # power off, power on and reset all end any session
            return None
        self._session_apdus += 1
        if self.remove_after is not None and self._session_apdus >= self.remove_after:
            self.remove_after = None  # once
            raise _RemoveCardError()
        if self.delay_ms:
            self._slow_chip()
        if payload[0] == 0xFF:
            self.stats.pseudo_apdus += 1
            return self._pseudo_apdu(payload)
        self.stats.apdus += 1
        try:
            response = self.chip.process(payload)
        except Exception as exc:
            self._log(f"chip error on APDU {self._session_apdus}: {type(exc).__name__}")
            return SW_NO_DIAGNOSIS
        return response if len(response) >= 2 else SW_NO_DIAGNOSIS

    def _slow_chip(self) -> None:
        """Wait ``delay_ms`` before answering, unless the card is removed or stopped first.

        :raises _InterruptedError: when :meth:`remove` or :meth:`stop` came during the wait
            (a slow or mute chip must not keep the card in the reader, nor ``epass emulate``
            alive after SIGTERM, for up to a minute).
        """
        deadline = time.monotonic() + self.delay_ms / 1000
        with self._changed:
            removals = self._removals  # a remove() then insert() in a row still ends the wait
            while not self._stopping and self._inserted and self._removals == removals:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)
        raise _InterruptedError()

    def _pseudo_apdu(self, apdu: bytes) -> bytes:
        """PC/SC Part 3 §3.2.2.1.3: GET DATA answered by the (contactless) reader."""
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        ins, p1, p2 = apdu[1], apdu[2], apdu[3]
        if ins != 0xCA:
            return SW_CLA_NOT_SUPPORTED
        if len(apdu) != 5:
            return SW_WRONG_LENGTH
        if p2 != 0x00:
            return SW_WRONG_P1P2
        if p1 == 0x00:
            data = self.uid
        elif p1 == 0x01:
            data = ats_for(self.chip.atr)
        else:
            return SW_FUNCTION_NOT_SUPPORTED
        le = apdu[4] or 256
        if le < len(data):
            return bytes([0x6C, len(data)])
        if apdu[4] and le > len(data):
            return data + SW_END_OF_DATA
        return data + SW_SUCCESS

    @staticmethod
    def _random_uid() -> bytes:
        """A random single-size UID (ISO/IEC 14443-3 §6.5.4: first byte ``08``)."""
        return b"\x08" + os.urandom(3)
