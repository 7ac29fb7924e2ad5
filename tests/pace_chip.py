"""A minimal PACE chip for terminal-side tests, built only from epass.access.pace's pure functions.

Not the virtual chip (drivers/virtual owns that): it answers MSE:Set AT and
the four GENERAL AUTHENTICATE commands of one PACE run, so perform_pace can
be exercised for every mapping, group and cipher, and a test can make it
misbehave (``tamper``) at a named step. Test keys are generated at runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from epass.access import pace
from epass.access.pace_groups import PaceGroup
from epass.apdu import CommandApdu, ResponseApdu
from epass.errors import AccessControlError
from epass.sm import Role, SecureMessaging
from epass.transport import Transport

Tamper = Callable[[str, bytes], bytes]


class MiniPaceChip(Transport):
    """Answer one PACE run for *password* with *algorithm* in *group*.

    :param ca_private_key: the chip authentication private key (CAM); its
        public key is :attr:`ca_public_key`.
    :param tamper: ``tamper(step, response_data) -> response_data`` to corrupt
        a response (step names: ``"nonce"``, ``"map"``, ``"ka"``, ``"mutual"``).
    :param status: ``{step: sw}`` to answer a step with a status word instead.
    """

    def __init__(
        self,
        password: pace.Password,
        algorithm: pace.PaceAlgorithm,
        group: PaceGroup[Any],
        *,
        rng: Callable[[int], bytes] = os.urandom,
        ca_private_key: int | None = None,
        tamper: Tamper | None = None,
        status: dict[str, int] | None = None,
    ) -> None:
        self.password = password
        self.algorithm = algorithm
        self.group = group
        self.rng = rng
        self.tamper = tamper
        self.status = status or {}
        self.ca_private_key = ca_private_key
        self.ca_public_key = (
            None if ca_private_key is None else group.encode(group.multiply(ca_private_key))
        )
        self.step = 0
        self.sm: SecureMessaging | None = None
        self.apdus = 0

    @property
    def atr(self) -> bytes | None:
        return None

    @property
    def extended_length(self) -> bool | None:
        return True

    def _answer(self, step: str, data: bytes) -> bytes:
        if step in self.status:
            return self.status[step].to_bytes(2, "big")
        if self.tamper is not None:
            data = self.tamper(step, data)
        return ResponseApdu(data, 0x9000).to_bytes()

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        command = CommandApdu.from_bytes(apdu)
        alg, group = self.algorithm, self.group
        if command.ins == 0x22:
            mse = pace.parse_mse_set_at(command.data)
            if mse.oid != alg.oid or mse.password_reference != self.password.reference:
                return b"\x6a\x80"
            sw = self.status.get("mse")
            if sw is not None and not 0x63C1 <= sw <= 0x63CF:
                return sw.to_bytes(2, "big")
            self.step = 1
            if sw is not None:  # a retry-counter warning: PACE goes on
                return sw.to_bytes(2, "big")
            return b"\x90\x00"
        if command.ins != 0x86:
            return b"\x6d\x00"
        if self.step == 1:
            self.s = self.rng(pace.nonce_length(alg))
            z = pace.encrypt_nonce(pace.password_key(self.password, alg), self.s, alg)
            self.step = 2
            return self._answer("nonce", pace.dynamic_authentication_data(0x80, z))
        if self.step == 2:
            values = pace.parse_dynamic_authentication_data(
                command.data, step="map", required=(0x81,)
            )
            if alg.mapping is pace.Mapping.IM:
                self.generator = pace.map_integrated(group, self.s, values[0x81], alg)
                out = b"\x7c\x00"
            else:
                if alg.mapping is pace.Mapping.CAM:
                    assert self.ca_private_key is not None
                self.sk_map = group.generate_private_key(self.rng)
                self.pk_map = group.encode(group.multiply(self.sk_map))
                self.generator = pace.map_generic(
                    group, self.s, self.sk_map, group.decode(values[0x81])
                )
                out = pace.dynamic_authentication_data(0x82, self.pk_map)
            self.step = 3
            return self._answer("map", out)
        if self.step == 3:
            values = pace.parse_dynamic_authentication_data(
                command.data, step="ka", required=(0x83,)
            )
            self.pk_ifd = values[0x83]
            sk = group.generate_private_key(self.rng)
            self.pk_ic = group.encode(group.multiply(sk, self.generator))
            shared = pace.key_agreement(group, sk, group.decode(self.pk_ifd))
            self.ks_enc, self.ks_mac = pace.session_keys(shared, alg)
            self.step = 4
            return self._answer("ka", pace.dynamic_authentication_data(0x84, self.pk_ic))
        if self.step == 4:
            values = pace.parse_dynamic_authentication_data(
                command.data, step="mutual", required=(0x85,)
            )
            if "mutual" in self.status:
                return self.status["mutual"].to_bytes(2, "big")
            try:
                pace.check_authentication_token(
                    self.ks_mac, alg, group, self.pk_ic, values[0x85], step="mutual"
                )
            except AccessControlError:
                return b"\x63\x00"
            body = pace.dynamic_authentication_data(
                0x86, pace.authentication_token(self.ks_mac, alg, group, self.pk_ifd)
            )[2:]
            if alg.mapping is pace.Mapping.CAM:
                assert self.ca_private_key is not None
                ca_ic = pace.chip_authentication_data(self.ca_private_key, self.sk_map, group)
                body += pace.dynamic_authentication_data(
                    0x8A, pace.encrypt_chip_authentication_data(self.ks_enc, ca_ic, group)
                )[2:]
            self.sm = pace.start_session(self.ks_enc, self.ks_mac, alg, role=Role.CHIP)
            self.step = 5
            return self._answer("mutual", b"\x7c" + bytes([len(body)]) + body)
        return b"\x69\x85"
