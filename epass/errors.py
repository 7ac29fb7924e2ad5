"""The one exception tree of epass.

Every failure the library raises is an :class:`EpassError`. Callers catch the
branch they can act on:

``TransportError``
    the link to the card failed (reader gone, card removed, timeout).
``StatusWordError``
    the chip answered with a status word other than success.
``ProtocolError``
    ``LocalProtocolError`` means the caller misused the API (wrong state, bad
    key format); ``RemoteProtocolError`` means the chip broke the protocol
    (bad MAC: ``SecureMessagingError``; BAC/PACE refused or inconsistent:
    ``AccessControlError``).
``ParseError``
    malformed bytes from a chip or a file (TLV, ASN.1, LDS), with the file
    name and byte offset where known.

A failed *verification* is not an exception: :func:`epass.pa.verify` records it
in its report. Exceptions mean misuse or unreadable input.
"""

from __future__ import annotations

__all__ = [
    "AccessControlError",
    "CardRemovedError",
    "EpassError",
    "LocalProtocolError",
    "NoReaderError",
    "ParseError",
    "ProtocolError",
    "RemoteProtocolError",
    "SecureMessagingError",
    "StatusWordError",
    "TransportError",
]


class EpassError(Exception):
    """Root of every error epass raises."""


class TransportError(EpassError):
    """The transport to the card failed; the original error is chained as ``__cause__``."""


class NoReaderError(TransportError):
    """No (matching) card reader is available."""


class CardRemovedError(TransportError):
    """The card left the field (or was removed) during or before an exchange."""


class StatusWordError(EpassError):
    """The chip answered a command with a status word other than 9000.

    ``str()`` reads like ``0x6982 - SECURITY_STATUS_NOT_SATISFIED``.

    :param sw: the status word SW1SW2 as an int.
    :param data: the response data that came with it (usually empty).
    :param command: a short description of the command, e.g. ``"READ BINARY"``.
    """

    def __init__(self, sw: int, data: bytes = b"", command: str | None = None) -> None:
        self.sw = sw
        self.data = data
        self.command = command
        super().__init__(self._message())

    def _message(self) -> str:
        from epass.apdu import StatusWord  # local import: apdu imports this module

        text = str(StatusWord.from_int(self.sw))
        return f"{self.command}: {text}" if self.command else text


class ProtocolError(EpassError):
    """A protocol rule was broken; abstract, raise one of the two subclasses."""

    def __new__(cls, *args: object, **kwargs: object) -> ProtocolError:
        if cls is ProtocolError:
            raise TypeError(
                "ProtocolError is abstract: raise LocalProtocolError or RemoteProtocolError"
            )
        return super().__new__(cls, *args)


class LocalProtocolError(ProtocolError):
    """The caller misused the API: wrong state, wrong key length, a closed channel."""


class RemoteProtocolError(ProtocolError):
    """The chip (or whatever answers in its place) broke the protocol."""


class SecureMessagingError(RemoteProtocolError):
    """Secure messaging failed: bad or missing MAC, missing DO'99', bad padding.

    After this error the secure channel is dead (ICAO Doc 9303-11 §9.8: the
    session keys are no longer usable) and the channel refuses further use.

    :param sw: the status word when the chip answered without secure
        messaging (e.g. ``6988``: SM data objects incorrect).
    """

    def __init__(self, message: str, *, sw: int | None = None) -> None:
        self.sw = sw
        super().__init__(message)


class AccessControlError(RemoteProtocolError):
    """BAC or PACE failed at a named step.

    :param step: which step failed, e.g. ``"EXTERNAL AUTHENTICATE"`` or
        ``"verify chip cryptogram"``.
    :param protocol: ``"BAC"`` or ``"PACE"``.
    :param sw: the status word, when the chip refused the step with one.
    """

    def __init__(
        self, message: str, *, step: str, protocol: str = "BAC", sw: int | None = None
    ) -> None:
        self.step = step
        self.protocol = protocol
        self.sw = sw
        super().__init__(f"{protocol} failed at {step}: {message}")


class ParseError(EpassError):
    """Malformed bytes: bad TLV, ASN.1 or LDS content.

    :param message: what is wrong.
    :param file: the file it was found in (``"EF.SOD"``, ``"DG2"``), when known.
    :param offset: the byte offset in that file, when known.
    """

    def __init__(self, message: str, *, file: str | None = None, offset: int | None = None) -> None:
        self.file = file
        self.offset = offset
        self.reason = message
        where = []
        if file is not None:
            where.append(file)
        if offset is not None:
            where.append(f"offset {offset}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def within(self, file: str, base: int = 0) -> ParseError:
        """Return this error re-anchored in *file*, its offset shifted by *base*.

        Used when a nested structure was parsed on its own and the caller knows
        where it sits in the enclosing file.
        """
        offset = None if self.offset is None else self.offset + base
        err = ParseError(self.reason, file=self.file or file, offset=offset)
        err.__cause__ = self.__cause__
        return err
