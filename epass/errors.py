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
``VerificationInputError``
    a signature or certificate could not be checked (unsupported algorithm,
    explicit EC parameters) or does not verify; passive authentication turns
    these into check results, never lets them escape.
``DumpError``
    a saved dump folder cannot be read or written.

A failed *verification* is not an exception: :func:`epass.pa.verify` records it
in its report. Exceptions mean misuse or unreadable input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from epass.status import StatusWord

__all__ = [
    "BUILTIN_PARSE_ERRORS",
    "AccessControlError",
    "CardRemovedError",
    "DumpError",
    "EpassError",
    "ExplicitCurveParametersError",
    "InvalidPointError",
    "InvalidSignatureError",
    "LocalProtocolError",
    "NoReaderError",
    "ParseError",
    "ProtocolError",
    "ReadBudgetExceededError",
    "RemoteProtocolError",
    "SecureMessagingError",
    "StatusWordError",
    "TransportError",
    "UnsupportedAlgorithmError",
    "VerificationInputError",
    "parsing",
]


class EpassError(Exception):
    """Root of every error epass raises."""


class TransportError(EpassError):
    """The transport to the card failed; the original error is chained as ``__cause__``."""


class NoReaderError(TransportError):
    """No (matching) card reader is available."""


class CardRemovedError(TransportError):
    """The card left the field (or was removed) during or before an exchange."""


class ReadBudgetExceededError(TransportError):
    """A read used up its budget of APDUs or seconds (:class:`epass.reader.ReadOptions`).

    A chip cannot talk the reader into a crawl (one byte per command, endless
    ``61xx`` chains): every transport exchange counts, and the read ends here.

    :param resource: ``"apdus"`` or ``"seconds"``.
    :param limit: the budget (``ReadOptions.max_apdus`` or ``ReadOptions.max_seconds``).
    :param used: what was used when the read was stopped.
    """

    def __init__(self, resource: str, limit: float, used: float) -> None:
        self.resource = resource
        self.limit = limit
        self.used = used
        if resource == "apdus":
            text = f"read stopped after {int(used)} APDUs (budget: {int(limit)})"
        else:
            text = f"read stopped after {used:.1f} s (budget: {limit:g} s)"
        super().__init__(text)


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
    :param protocol: ``"BAC"`` or ``"PACE"`` (required: no protocol is assumed).
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


#: The builtin exceptions a parser library (asn1crypto, int.from_bytes, struct)
#: raises on malformed input. :func:`parsing` turns them into :class:`ParseError`.
BUILTIN_PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
)


@contextmanager
def parsing(file: str | None, offset: int | None = None, what: str = "") -> Iterator[None]:
    """Turn a parser library's builtin exceptions into :class:`ParseError`.

    The one place that knows which builtin exceptions mean "malformed input"
    (:data:`BUILTIN_PARSE_ERRORS`)::

        with parsing("DG15", what="SubjectPublicKeyInfo"):
            key = keys.PublicKeyInfo.load(raw).native

    A :class:`ParseError` raised inside passes through unchanged; any other
    :class:`EpassError` too.

    :param file: the file being parsed (``"EF.SOD"``), for the message.
    :param offset: the offset of the structure in that file, when known.
    :param what: the structure, prefixed to the message (``"SignerInfo"``).
    :raises ParseError: chained from the builtin exception.
    """
    try:
        yield
    except EpassError:
        raise
    except BUILTIN_PARSE_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        raise ParseError(
            f"{what}: {message}" if what else message, file=file, offset=offset
        ) from exc


class VerificationInputError(EpassError):
    """A signature or certificate cannot be verified as given.

    Raised by :mod:`epass._crypto` and caught by the verifiers, which turn it into
    a FAIL (:class:`InvalidSignatureError`) or an ERROR (the others) check.
    """


class InvalidSignatureError(VerificationInputError):
    """The signature does not verify under the given key (or cannot be valid for it)."""


class UnsupportedAlgorithmError(VerificationInputError):
    """The algorithm or key cannot be verified here; this says nothing about validity."""


class ExplicitCurveParametersError(UnsupportedAlgorithmError):
    """The EC key carries explicit domain parameters (9303-12 §5) that are not mapped to a curve.

    :ivar parameters: the asn1crypto ``SpecifiedECDomain``, for a mapper.
    """

    def __init__(self, message: str, *, parameters: Any = None) -> None:
        self.parameters = parameters
        super().__init__(message)


class InvalidPointError(EpassError):
    """An elliptic-curve point is malformed, off its curve, the identity, or outside the subgroup.

    Raised by :mod:`epass._crypto.ec` before the point is used; protocol code
    (PACE, Chip Authentication) re-raises it as its own error naming the step.
    """


class DumpError(EpassError):
    """A dump folder cannot be read or written; the message names the folder or file."""
