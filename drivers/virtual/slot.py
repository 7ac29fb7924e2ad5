"""A virtual reader slot: virtual chips presented one after another (a :class:`CardSource`).

The kiosk loop and ``epass read --reader`` are written against
:class:`epass.transport.CardSource`; this slot drives them without pcscd. It
plays a script of events, one per call that needs one:

* :class:`Presentation` — a document laid on the reader (optionally removed
  on APDU *n*, going mute on APDU *n* as a chip out of the field's sweet spot
  does, slow, or with the reader unplugged on APDU *n*);
* :class:`NoCard` — a wait that times out with nothing on the reader;
* :class:`ReaderGone` — the reader unplugged (or pcscd stopped) for some
  calls, each raising :class:`~epass.errors.NoReaderError`, then back.

The script may be endless (a generator). When it runs out, ``on_exhausted``
is called (a test stops its loop there) and waits time out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from drivers.virtual.chip import VirtualChip
from drivers.virtual.transport import VirtualTransport
from epass.errors import CardRemovedError, NoReaderError, TransportError
from epass.transport import CardSource, Transport

__all__ = ["NoCard", "Presentation", "ReaderGone", "SlotEvent", "SlotTransport", "VirtualSlot"]


@dataclass
class Presentation:
    """One document laid on the reader.

    :ivar chip: the document's chip.
    :ivar remove_after: the card leaves the field on APDU number *n* (1-based;
        that APDU raises :class:`~epass.errors.CardRemovedError`).
    :ivar mute_after: from APDU number *n* on the chip does not answer: the
        reader's timeout raises :class:`~epass.errors.TransportError`.
    :ivar unplug_after: on APDU number *n* the reader is unplugged
        (:class:`~epass.errors.NoReaderError`) for ``unplugged_polls`` slot calls.
    :ivar unplugged_polls: see *unplug_after*.
    :ivar delay: seconds each APDU takes.
    :ivar stays: polls of :meth:`VirtualSlot.wait_for_removal` that still see
        the card before the holder takes it away.
    """

    chip: VirtualChip
    remove_after: int | None = None
    mute_after: int | None = None
    unplug_after: int | None = None
    unplugged_polls: int = 1
    delay: float = 0.0
    stays: int = 0
    removed: bool = False


@dataclass(frozen=True)
class NoCard:
    """A wait for a card that times out (nobody put a document on the reader)."""


@dataclass(frozen=True)
class ReaderGone:
    """The reader is unplugged for *polls* slot calls (each raises ``NoReaderError``)."""

    polls: int = 1


SlotEvent = Presentation | NoCard | ReaderGone


class SlotTransport(VirtualTransport):
    """The link to the chip of one :class:`Presentation`, with its misbehaviour."""

    def __init__(
        self,
        slot: VirtualSlot,
        presentation: Presentation,
        *,
        reader_extended_length: bool | None = None,
    ) -> None:
        super().__init__(presentation.chip, reader_extended_length=reader_extended_length)
        self.slot = slot
        self.presentation = presentation

    def transmit(self, apdu: bytes) -> bytes:
        if self.closed:
            raise TransportError("virtual slot transport is closed")
        card = self.presentation
        if self.slot.gone:
            raise NoReaderError(f"reader {self.slot.name!r} is gone")
        if card.removed:
            raise CardRemovedError("card removed")
        n = self.apdus + 1
        if card.unplug_after is not None and n >= card.unplug_after:
            self.slot.unplug(card.unplugged_polls)
            card.removed = True
            raise NoReaderError(f"reader {self.slot.name!r} was unplugged during APDU {n}")
        if card.remove_after is not None and n >= card.remove_after:
            card.removed = True
            raise CardRemovedError(f"card removed during APDU {n}")
        if card.mute_after is not None and n >= card.mute_after:
            self.apdus = n
            raise TransportError(f"the card did not answer APDU {n} within the reader's timeout")
        if card.delay:
            self.slot.sleep(card.delay)
        return super().transmit(apdu)


class VirtualSlot(CardSource):
    """A reader slot that plays a script of :data:`SlotEvent` s.

    :param events: the script (may be endless).
    :param name: the reader name.
    :param reader_extended_length: what the virtual reader carries (``False``:
        short APDUs only).
    :param sleep: how waits pass time (tests pass a no-op); a wait that times
        out sleeps its whole timeout, as a real reader would.
    :param on_exhausted: called when the script has run out (before the wait
        times out).
    """

    def __init__(
        self,
        events: Iterable[SlotEvent],
        *,
        name: str = "epass virtual slot 00 00",
        reader_extended_length: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_exhausted: Callable[[], None] | None = None,
    ) -> None:
        self._events: Iterator[SlotEvent] = iter(events)
        self._name = name
        self.reader_extended_length = reader_extended_length
        self.sleep = sleep
        self.on_exhausted = on_exhausted
        self.current: Presentation | None = None
        self._gone = 0
        #: Counters for tests: connections opened, cards taken away, waits timed out.
        self.connections = 0
        self.removals = 0
        self.timeouts = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def gone(self) -> bool:
        """Whether the reader is unplugged now."""
        return self._gone > 0

    def unplug(self, polls: int = 1) -> None:
        """Unplug the reader for the next *polls* slot calls."""
        self._gone = max(self._gone, polls)

    def _check_reader(self) -> None:
        if self._gone > 0:
            self._gone -= 1
            raise NoReaderError(f"reader {self._name!r} is gone")

    def _connect(self, card: Presentation) -> Transport:
        self.connections += 1
        card.chip.power_on()
        return SlotTransport(self, card, reader_extended_length=self.reader_extended_length)

    def wait_for_card(self, timeout: float) -> Transport | None:
        self._check_reader()
        card = self.current
        if card is not None and not card.removed:
            return self._connect(card)
        event = next(self._events, None)
        if event is None:
            if self.on_exhausted is not None:
                self.on_exhausted()
            self._timeout(timeout)
            return None
        if isinstance(event, ReaderGone):
            self.unplug(event.polls)
            self._check_reader()
        if isinstance(event, NoCard):
            self._timeout(timeout)
            return None
        assert isinstance(event, Presentation)  # noqa: S101 - the union is exhausted
        self.current = event
        return self._connect(event)

    def _timeout(self, timeout: float) -> None:
        self.timeouts += 1
        self.sleep(timeout)
        return None

    def wait_for_removal(self, timeout: float) -> bool:
        self._check_reader()
        card = self.current
        if card is None or card.removed:
            self.current = None
            return True
        if card.stays > 0:
            card.stays -= 1
            self.sleep(timeout)
            return False
        card.removed = True
        self.current = None
        self.removals += 1
        return True
