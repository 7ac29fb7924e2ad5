"""The transport contract: raw C-APDU bytes in, raw R-APDU bytes out.

Drivers (``drivers.pcsc``, ``drivers.virtual``, ``drivers.replay``) implement
:class:`Transport`; the core never imports them. A transport fails loudly: it
raises :class:`~epass.errors.TransportError` (chained with ``from``), or
:class:`~epass.errors.CardRemovedError` when the card has gone, and never
returns empty bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

__all__ = ["CardSource", "Transport"]


class Transport(ABC):
    """A link to one card.

    Subclasses implement :meth:`transmit` and usually :meth:`close`.
    """

    @abstractmethod
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU and return the whole response (data + SW1 SW2).

        :raises TransportError: if the exchange failed; the response is then
            unknown and any secure messaging session must be considered lost.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release the link. Idempotent; the default does nothing."""

    @property
    def atr(self) -> bytes | None:
        """The card's ATR (for contactless cards, the reader's synthesised ATR), if known."""
        return None

    @property
    def extended_length(self) -> bool | None:
        """Whether the link carries extended-length APDUs: ``None`` when unknown.

        A reader that cannot (many contactless readers cap APDUs at 261
        bytes) returns ``False`` so the session never asks for more.
        """
        return None

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CardSource(ABC):
    """One reader slot that documents are presented to (a PC/SC reader, a virtual slot).

    The kiosk loop and ``epass read --reader`` are written against this, so a
    test drives them with virtual chips and a border post with ``drivers.pcsc``.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """The reader's name as the user knows it (PC/SC reader name)."""

    @abstractmethod
    def wait_for_card(self, timeout: float) -> Transport | None:
        """Wait up to *timeout* seconds for a card and open a :class:`Transport` to it.

        The transport holds the card exclusively until it is closed.

        :returns: ``None`` when no card came within *timeout*.
        :raises NoReaderError: when the reader is gone (unplugged, pcscd stopped).
        :raises TransportError: when a card is present but cannot be opened.
        """

    @abstractmethod
    def wait_for_removal(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds until no card is present.

        :returns: ``True`` when the slot is empty, ``False`` on timeout.
        :raises NoReaderError: when the reader is gone.
        """
