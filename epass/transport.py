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

__all__ = ["Transport"]


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
