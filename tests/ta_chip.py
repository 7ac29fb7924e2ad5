"""A minimal chip for Terminal Authentication tests, built from drivers.virtual.ta.TaChip.

Not the virtual chip: it stands in a secure messaging session (fixed AES keys,
as if Chip Authentication had just run), forwards TA commands to
:class:`~drivers.virtual.ta.TaChip`, and answers SELECT of DG3 (FID 0103) and
DG4 (0104) with 9000 or 6982 as TA allows. Everything else is ``6D00``.
Test keys and certificates are generated at runtime.
"""

from __future__ import annotations

import os

from drivers.virtual.ta import TaChip
from epass.apdu import CommandApdu, Ins, ResponseApdu
from epass.channel import Channel
from epass.sm import Role, SecureMessaging
from epass.status import StatusWord
from epass.transport import Transport

#: Data group FIDs (9303-10 §4.7: EF.DG3 0103, EF.DG4 0104; DG1 0101 for contrast).
DG_FIDS = {0x0101: 1, 0x0103: 3, 0x0104: 4}


class MiniTaChip(Transport):
    """A transport that answers TA under secure messaging.

    :param ta: the chip-side TA state.
    :param secure: run under AES secure messaging (the channel from :meth:`channel`).
    """

    def __init__(self, ta: TaChip, *, secure: bool = True) -> None:
        self.ta = ta
        self.secure = secure
        self.sm: SecureMessaging | None = None
        self.sent: list[CommandApdu] = []

    def channel(self) -> Channel:
        """A terminal channel in a fresh secure messaging session (new keys, SSC 0)."""
        if not self.secure:
            return Channel(self)
        keys = os.urandom(16), os.urandom(16)
        self.sm = SecureMessaging("AES", *keys, 0, role=Role.CHIP)
        return Channel(self, SecureMessaging("AES", *keys, 0, role=Role.TERMINAL))

    @property
    def atr(self) -> bytes | None:
        return None

    @property
    def extended_length(self) -> bool | None:
        return True

    def _answer(self, command: CommandApdu) -> ResponseApdu:
        self.sent.append(command)
        if self.ta.handles(command):
            return self.ta.handle(command)
        if command.ins == Ins.SELECT and command.p1 == 0x02 and len(command.data) == 2:
            dg = DG_FIDS.get(int.from_bytes(command.data, "big"))
            if dg is None:
                return ResponseApdu(b"", StatusWord.FILE_NOT_FOUND)
            if not self.ta.may_read(dg):
                return ResponseApdu(b"", StatusWord.SECURITY_STATUS_NOT_SATISFIED)
            return ResponseApdu(b"", StatusWord.SUCCESS)
        return ResponseApdu(b"", StatusWord.INS_NOT_SUPPORTED)

    def transmit(self, apdu: bytes) -> bytes:
        if self.sm is None:
            return self._answer(CommandApdu.from_bytes(apdu)).to_bytes()
        command = CommandApdu.from_bytes(self.sm.unwrap(apdu))
        return self.sm.wrap(self._answer(command).to_bytes())
