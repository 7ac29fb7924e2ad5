"""A scripted transport: replay exact (command, response) pairs.

Used for APDU-exact tests (ICAO Doc 9303-11 Appendix D and recorded traces).
An unexpected command fails with both the expected and the actual bytes, so a
test shows exactly where the exchange diverged.
"""

from __future__ import annotations

from collections.abc import Iterable

from epass.errors import TransportError
from epass.transport import Transport

__all__ = ["ScriptMismatchError", "ScriptedTransport"]


class ScriptMismatchError(TransportError):
    """The command sent is not the one the script expected (or the script ran out)."""


def _hex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


class ScriptedTransport(Transport):
    """Answer each command with the next scripted response, checking the command.

    :param pairs: ``(command_hex, response_hex)`` pairs; whitespace in the hex
        is ignored. A command of ``None`` (or ``"*"``) accepts any command.
    :param atr: the ATR to report.
    :param extended_length: what :attr:`extended_length` reports.
    """

    def __init__(
        self,
        pairs: Iterable[tuple[str | None, str]],
        *,
        atr: bytes | None = None,
        extended_length: bool | None = None,
    ) -> None:
        self.script: list[tuple[bytes | None, bytes]] = [
            (None if cmd in (None, "*") else _hex(cmd), _hex(rsp)) for cmd, rsp in pairs
        ]
        self.position = 0
        self.sent: list[bytes] = []
        self.closed = False
        self._atr = atr
        self._extended = extended_length

    @property
    def atr(self) -> bytes | None:
        return self._atr

    @property
    def extended_length(self) -> bool | None:
        return self._extended

    @property
    def done(self) -> bool:
        """Whether every scripted exchange has happened."""
        return self.position == len(self.script)

    def transmit(self, apdu: bytes) -> bytes:
        if self.closed:
            raise TransportError("scripted transport is closed")
        self.sent.append(bytes(apdu))
        if self.position >= len(self.script):
            raise ScriptMismatchError(
                f"script exhausted after {len(self.script)} exchanges; unexpected command "
                f"{apdu.hex().upper()}"
            )
        expected, response = self.script[self.position]
        if expected is not None and expected != apdu:
            raise ScriptMismatchError(
                f"exchange {self.position + 1}: expected command {expected.hex().upper()}, "
                f"got {apdu.hex().upper()}"
            )
        self.position += 1
        return response

    def close(self) -> None:
        self.closed = True
