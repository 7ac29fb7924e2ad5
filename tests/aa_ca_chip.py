"""A minimal chip for AA and CA terminal tests, built from drivers.virtual.chip_auth.

Not the virtual chip (drivers/virtual/chip.py owns that): it starts with a
secure messaging session already up (as after BAC or PACE: both ends share
random keys), answers INTERNAL AUTHENTICATE, MSE:Set KAT, MSE:Set AT and
GENERAL AUTHENTICATE through :class:`ChipAuthResponder` under that session,
switches to the CA session after answering, and answers any other protected
command (SELECT, the proof after CA) with ``9000``. A test can make a step
answer a status word instead (``status``) or corrupt a response (``tamper``).
Keys are generated at runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from drivers.virtual.chip_auth import ChipAuthResponder
from epass._crypto.symmetric import CipherKind
from epass.apdu import CommandApdu, Ins
from epass.channel import Channel
from epass.errors import SecureMessagingError
from epass.sm import Role, SecureMessaging
from epass.transport import Transport

Tamper = Callable[[str, bytes], bytes]


def _step(command: CommandApdu) -> str:
    if command.ins == Ins.INTERNAL_AUTHENTICATE:
        return "aa"
    if command.ins == Ins.MSE:
        return "kat" if command.p2 == 0xA6 else "at"
    if command.ins == Ins.GENERAL_AUTHENTICATE:
        return "ga"
    return "other"


class MiniAuthChip(Transport):
    """Answer AA and CA under a pre-established session.

    :param responder: the chip-side AA/CA handling.
    :param cipher: the existing session's cipher (3DES as after BAC, AES as after PACE).
    :param status: ``{step: sw}`` answers a step (``aa``, ``kat``, ``at``, ``ga``,
        ``other``) with a status word (protected, as chips do in a session).
    :param tamper: ``tamper(step, response_data) -> response_data``.
    :param plain_after_ca: answer the first command after CA without SM (a chip
        that could not derive the keys).
    """

    def __init__(
        self,
        responder: ChipAuthResponder,
        *,
        cipher: CipherKind = CipherKind.DES3,
        status: dict[str, int] | None = None,
        tamper: Tamper | None = None,
        plain_after_ca: bool = False,
    ) -> None:
        self.responder = responder
        size = 16 if cipher is CipherKind.DES3 else 32
        ks_enc, ks_mac = os.urandom(size), os.urandom(size)
        ssc = int.from_bytes(os.urandom(8), "big") if cipher is CipherKind.DES3 else 0
        self.terminal_sm = SecureMessaging(cipher, ks_enc, ks_mac, ssc)
        self.sm: SecureMessaging | None = SecureMessaging(
            cipher, ks_enc, ks_mac, ssc, role=Role.CHIP
        )
        self.status = status or {}
        self.tamper = tamper
        self.plain_after_ca = plain_after_ca
        self.switched = False
        self.apdus = 0
        self.log: list[str] = []

    def channel(self) -> Channel:
        """A terminal channel running the pre-established session."""
        return Channel(self, sm=self.terminal_sm)

    @property
    def atr(self) -> bytes | None:
        return None

    @property
    def extended_length(self) -> bool | None:
        return True

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        if self.sm is None:
            return b"\x69\x88"
        if self.switched and self.plain_after_ca:
            self.sm = None
            return b"\x69\x88"
        try:
            command = CommandApdu.from_bytes(self.sm.unwrap(apdu))
        except SecureMessagingError:
            self.sm = None
            return b"\x69\x88"
        step = _step(command)
        self.log.append(step)
        session = None
        if step in self.status:
            data, sw = b"", self.status[step]
        elif self.responder.handles(command):
            answer = self.responder.process(command, secure=True)
            data, sw, session = answer.data, answer.sw, answer.session
        else:
            data, sw = b"", 0x9000
        if self.tamper is not None:
            data = self.tamper(step, data)
        protected = self.sm.wrap(data + sw.to_bytes(2, "big"))
        if session is not None:
            self.sm = session
            self.switched = True
        return protected
