"""The channel: the one stateful I/O piece between protocols and a transport.

A :class:`Channel` sends :class:`~epass.apdu.CommandApdu` objects over a
:class:`~epass.transport.Transport`, protecting them with secure messaging
once a session is up, follows ``61xx`` (GET RESPONSE) at the transport level
and ``6Cxx`` for plain commands (ISO/IEC 7816-4 §5.3.4, §5.6), records every
exchange for a tracer, and raises :class:`~epass.errors.StatusWordError` for
unexpected status words when asked to.

After a secure messaging failure the channel is dead: the chip has dropped
its keys, and every further call raises
:class:`~epass.errors.LocalProtocolError`. Re-establishing access control is
done on a fresh channel over the same transport.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from epass.apdu import CommandApdu, Ins, ResponseApdu
from epass.errors import (
    LocalProtocolError,
    ParseError,
    RemoteProtocolError,
    SecureMessagingError,
    StatusWordError,
    TransportError,
)
from epass.sm import SecureMessaging
from epass.status import StatusWord
from epass.transport import Transport

__all__ = ["TRAFFIC", "Channel", "Exchange", "Tracer"]

#: Log level for APDU traffic: below DEBUG, so traces are opt-in.
TRAFFIC = 5
logging.addLevelName(TRAFFIC, "TRAFFIC")
logger = logging.getLogger(__name__)

#: Longest response accepted when collecting 61xx GET RESPONSE chains.
MAX_RESPONSE = 65536 + 2
#: Most GET RESPONSE rounds followed for one command.
MAX_GET_RESPONSE = 300
#: SW1 of "61xx: xx more bytes available" (ISO/IEC 7816-4 §5.6; GET RESPONSE collects them).
SW1_BYTES_REMAINING = 0x61
#: SW1 of "6Cxx: wrong Le, xx bytes available" (ISO/IEC 7816-4 §5.6).
SW1_WRONG_LE = 0x6C


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command/response round, for traces and benchmarks.

    ``wire_command`` and ``wire_response`` are what crossed the transport
    (protected when secure messaging was on; several transport round trips
    when GET RESPONSE was needed, counted in ``round_trips``). The plain
    command is kept; the plain response data is not, so traces carry no
    personal data unless the caller asks for it.
    """

    command: CommandApdu
    wire_command: bytes
    wire_response: bytes
    sw: int
    response_length: int
    protected: bool
    round_trips: int
    seconds: float


Tracer = Callable[[Exchange], None]


class Channel:
    """Send commands to a card, with or without secure messaging.

    :param transport: the link to the card.
    :param sm: a secure messaging session to start with, if any.
    :param tracer: called with an :class:`Exchange` after every command.
    """

    def __init__(
        self,
        transport: Transport,
        sm: SecureMessaging | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.transport = transport
        self.sm = sm
        self.tracer = tracer
        self.dead: str | None = None

    @property
    def secure(self) -> bool:
        """Whether commands are sent under secure messaging."""
        return self.sm is not None

    def start_secure_messaging(self, sm: SecureMessaging) -> None:
        """Protect every following command with *sm* (after BAC, PACE or CA)."""
        self._check_alive()
        self.sm = sm

    def _check_alive(self) -> None:
        if self.dead is not None:
            raise LocalProtocolError(
                f"channel is dead after a secure messaging failure: {self.dead}"
            )

    def _raw(self, wire: bytes) -> tuple[bytes, int]:
        """One transport exchange plus any 61xx GET RESPONSE rounds."""
        response = self.transport.transmit(wire)
        if len(response) < 2:
            raise TransportError(f"transport returned {len(response)} bytes, no status word")
        rounds = 1
        collected = bytearray()
        while response[-2] == SW1_BYTES_REMAINING:
            collected += response[:-2]
            if rounds > MAX_GET_RESPONSE or len(collected) > MAX_RESPONSE:
                raise RemoteProtocolError("chip keeps answering 61xx: response too long")
            le = response[-1] or 256
            cla = wire[0] & 0x03  # keep the logical channel, plain CLA
            get = CommandApdu(cla, Ins.GET_RESPONSE, 0, 0, le=le).to_bytes()
            response = self.transport.transmit(get)
            if len(response) < 2:
                raise TransportError(f"transport returned {len(response)} bytes, no status word")
            rounds += 1
        if collected:
            response = bytes(collected) + response
        return response, rounds

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send *command* and return the (unprotected) response, whatever its status word.

        :raises TransportError: the link failed.
        :raises SecureMessagingError: the response failed secure messaging
            checks; the channel is dead from now on.
        :raises LocalProtocolError: the channel is already dead.
        """
        self._check_alive()
        start = time.perf_counter()
        plain_wire = command.to_bytes()
        sm = self.sm
        wire = sm.wrap(plain_wire) if sm is not None else plain_wire
        raw, rounds = self._raw(wire)
        try:
            if sm is not None:
                try:
                    plain = sm.unwrap(raw)
                except SecureMessagingError as exc:
                    self.dead = str(exc)
                    raise
                response = ResponseApdu.from_bytes(plain)
            else:
                response = ResponseApdu.from_bytes(raw)
                if response.sw1 == SW1_WRONG_LE and command.le is not None:
                    # Wrong Le: the chip tells the exact length (ISO/IEC 7816-4 §5.6).
                    retry = CommandApdu(
                        command.cla,
                        command.ins,
                        command.p1,
                        command.p2,
                        command.data,
                        le=response.sw2 or 256,
                    )
                    raw, more = self._raw(retry.to_bytes())
                    rounds += more
                    wire = retry.to_bytes()
                    response = ResponseApdu.from_bytes(raw)
        except ParseError as exc:
            raise RemoteProtocolError(f"malformed response: {exc}") from exc
        elapsed = time.perf_counter() - start
        exchange = Exchange(
            command=command,
            wire_command=wire,
            wire_response=raw,
            sw=response.sw,
            response_length=len(response.data),
            protected=sm is not None,
            round_trips=rounds,
            seconds=elapsed,
        )
        if logger.isEnabledFor(TRAFFIC):
            logger.log(
                TRAFFIC,
                "%s %s -> %d bytes, SW %04X%s (%.1f ms)",
                command.describe(),
                command.header.hex().upper(),
                len(response.data),
                response.sw,
                " [SM]" if sm is not None else "",
                elapsed * 1000,
            )
        if self.tracer is not None:
            self.tracer(exchange)
        return response

    def send(
        self,
        command: CommandApdu,
        *,
        accept: Collection[int] = (StatusWord.SUCCESS,),
        name: str | None = None,
    ) -> ResponseApdu:
        """Like :meth:`transmit`, but raise :class:`StatusWordError` for a SW not in *accept*."""
        response = self.transmit(command)
        if response.sw not in accept:
            raise StatusWordError(response.sw, response.data, name or command.describe())
        return response
