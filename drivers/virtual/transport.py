"""An in-process transport to a :class:`~drivers.virtual.chip.VirtualChip`.

It behaves like a PC/SC connection: bytes in, bytes out, and a typed error when
the card is gone (the chip's ``Faults.remove_after`` switch, or :meth:`remove`).
"""

from __future__ import annotations

from drivers.virtual.chip import VirtualChip
from epass.errors import CardRemovedError, TransportError
from epass.transport import Transport

__all__ = ["VirtualTransport"]


class VirtualTransport(Transport):
    """Carry APDUs to a virtual chip in the same process.

    :param chip: the chip to talk to.
    :param reader_extended_length: what the (virtual) reader supports:
        ``None`` = no limit known, ``False`` = short APDUs only.
    """

    def __init__(self, chip: VirtualChip, *, reader_extended_length: bool | None = None) -> None:
        self.chip = chip
        self._reader_extended = reader_extended_length
        self.present = True
        self.closed = False
        self.apdus = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def atr(self) -> bytes | None:
        return self.chip.atr if self.present else None

    @property
    def extended_length(self) -> bool | None:
        return self._reader_extended

    def remove(self) -> None:
        """Take the card out of the field."""
        self.present = False

    def insert(self) -> None:
        """Put the card back: it powers up afresh."""
        self.present = True
        self.chip.power_on()

    def transmit(self, apdu: bytes) -> bytes:
        if self.closed:
            raise TransportError("virtual transport is closed")
        if not self.present:
            raise CardRemovedError("card removed")
        if self._reader_extended is False and (len(apdu) > 261):
            raise TransportError(f"reader cannot send a {len(apdu)}-byte APDU")
        self.apdus += 1
        remove_after = self.chip.faults.remove_after
        if remove_after is not None and self.apdus >= remove_after:
            self.present = False
            raise CardRemovedError(f"card removed during APDU {self.apdus}")
        self.bytes_sent += len(apdu)
        response = self.chip.process(apdu)
        self.bytes_received += len(response)
        return response

    def close(self) -> None:
        self.closed = True
