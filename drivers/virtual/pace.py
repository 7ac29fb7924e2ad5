"""The chip's side of PACE for the virtual chip (ICAO Doc 9303-11 §4.4, BSI TR-03110-3 B.1, B.11).

Every cryptographic step is a pure function of :mod:`epass.access.pace`, the
same code the terminal runs (password key, nonce encryption, generic and
integrated mapping, key agreement, session keys, tokens, CAM data); this
module only keeps the chip's state between the commands and answers them:

* **MSE:Set AT** (``00 22 C1 A4``, 9303-11 §4.4.4.1): the protocol OID must
  be one of the PACEInfos of the chip's EF.CardAccess (tag 84 picks the
  parameterId, and is needed only when the OID is offered with several);
  the password (tag 83: 01 MRZ, 02 CAN) must be one the chip accepts
  (``6A88`` otherwise) and not blocked (``6983``). After a wrong password
  the answer is ``63Cx`` with x tries left (a warning, TR-03110-3 B.11.1).
* **GENERAL AUTHENTICATE** ``x0 86 00 00``, four commands chained with CLA
  ``10`` on the first three (9303-11 §4.4.4.2): 1 encrypted nonce (``80``),
  2 mapping data (``81`` → ``82``), 3 ephemeral public keys (``83`` → ``84``,
  refused when equal to the chip's), 4 tokens (``85`` → ``86`` and, for CAM,
  ``8A`` encrypted chip-authentication data). A wrong terminal token is a
  wrong password: ``63Cx`` (x tries left; ``63C0`` when it was the last).
  Malformed data, a bad point or a step out of order answers ``6A80`` or
  ``6985`` and ends the run.

Fault switches (:class:`~drivers.virtual.chip.Faults`) make the chip answer
a status word at a chosen step, send a wrong token, or send CAM data made
with another key than the one of EF.CardSecurity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from epass import tlv
from epass.access.pace import (
    Mapping as PaceMapping,
)
from epass.access.pace import (
    PaceAlgorithm,
    Password,
    PasswordReference,
    authentication_token,
    check_authentication_token,
    chip_authentication_data,
    dynamic_authentication_data,
    encrypt_chip_authentication_data,
    encrypt_nonce,
    key_agreement,
    map_generic,
    map_integrated,
    nonce_length,
    pace_group,
    parse_dynamic_authentication_data,
    parse_mse_set_at,
    password_key,
    session_keys,
    start_session,
)
from epass.access.pace_groups import PaceGroup
from epass.errors import (
    AccessControlError,
    InvalidPointError,
    LocalProtocolError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds.security_infos import PaceInfo, SecurityInfos
from epass.sm import Role, SecureMessaging
from epass.status import StatusWord

__all__ = ["ChipPace", "PaceAnswer"]

Rng = Callable[[int], bytes]

#: ISO/IEC 7816-4 §5.6: "last command of the chain expected".
SW_LAST_COMMAND_EXPECTED = 0x6883
#: ISO/IEC 7816-4 §5.6: "command chaining not supported" (a chained last step).
SW_CHAINING_NOT_SUPPORTED = 0x6884


@dataclass(frozen=True)
class PaceAnswer:
    """The chip's answer to one PACE command.

    :ivar sw: the status word; :ivar data: the response data.
    :ivar session: the chip's secure messaging after a successful step 4.
    """

    sw: int
    data: bytes = b""
    session: SecureMessaging | None = None


@dataclass
class _Run:
    """The state of one PACE run, from MSE:Set AT to step 4."""

    algorithm: PaceAlgorithm
    group: PaceGroup[Any]
    reference: str  # "MRZ" or "CAN"
    k_pi: bytes = field(repr=False)
    step: int = 0  # GENERAL AUTHENTICATE steps done
    nonce: bytes = field(default=b"", repr=False)
    map_private: int | None = field(default=None, repr=False)
    map_public: bytes = b""
    generator: Any = field(default=None, repr=False)
    private: int | None = field(default=None, repr=False)
    public: bytes = b""
    peer_public: bytes = b""
    ks_enc: bytes = field(default=b"", repr=False)
    ks_mac: bytes = field(default=b"", repr=False)


class ChipPace:
    """The chip's PACE: MSE:Set AT and the four GENERAL AUTHENTICATE steps.

    :param card_access: the chip's EF.CardAccess, parsed (its PACEInfos are what it runs).
    :param passwords: the PACE passwords the chip knows, by name (``"MRZ"``, ``"CAN"``).
    :param accepted: the password names the chip accepts for PACE.
    :param tries: tries left per password name (shared with the chip, kept across runs).
    :param retries: the counter's start value (a successful PACE resets to it).
    :param cam_keys: PACE-CAM private keys by standardized parameter id.
    :param rng: the chip's randomness.
    :param faults: the chip's :class:`~drivers.virtual.chip.Faults` (PACE switches).
    :param mse_error: answer every MSE:Set AT with this status word (a broken PACE).
    """

    def __init__(
        self,
        card_access: SecurityInfos | None,
        passwords: Mapping[str, Password],
        *,
        accepted: frozenset[str],
        tries: dict[str, int],
        retries: int,
        cam_keys: Mapping[int, int],
        rng: Rng,
        faults: Any,
        mse_error: int | None = None,
    ) -> None:
        self.card_access = card_access
        self.passwords = dict(passwords)
        self.accepted = accepted
        self.tries = tries
        self.retries = retries
        self.cam_keys = dict(cam_keys)
        self.rng = rng
        self.faults = faults
        self.mse_error = mse_error
        self.run: _Run | None = None
        #: GENERAL AUTHENTICATE commands answered in this run (for the fault switch).
        self.ga_count = 0

    # -- MSE:Set AT ---------------------------------------------------------------------

    def _offer(self, oid: str, parameter_id: int | None) -> PaceInfo | None:
        infos = () if self.card_access is None else self.card_access.pace_infos
        matching = [i for i in infos if i.protocol == oid]
        if parameter_id is not None:
            matching = [i for i in matching if i.parameter_id == parameter_id]
        return matching[0] if len(matching) == 1 else None

    def mse_set_at(self, data: bytes) -> PaceAnswer:
        """Answer MSE:Set AT for PACE (9303-11 §4.4.4.1): select protocol and password."""
        self.run = None
        self.ga_count = 0
        if self.card_access is None or not self.card_access.pace_infos:
            return PaceAnswer(StatusWord.INS_NOT_SUPPORTED)
        if self.mse_error is not None:
            return PaceAnswer(self.mse_error)
        try:
            mse = parse_mse_set_at(data)
        except ParseError:
            return PaceAnswer(StatusWord.WRONG_DATA)
        info = self._offer(mse.oid, mse.parameter_id)
        if info is None:
            return PaceAnswer(StatusWord.WRONG_DATA)
        try:
            reference = PasswordReference(mse.password_reference).name
        except ValueError:
            return PaceAnswer(StatusWord.REFERENCED_DATA_NOT_FOUND)
        password = self.passwords.get(reference)
        if password is None or reference not in self.accepted:
            return PaceAnswer(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if self.tries.get(reference, self.retries) <= 0:
            return PaceAnswer(StatusWord.AUTHENTICATION_METHOD_BLOCKED)
        try:
            algorithm = PaceAlgorithm.from_oid(info.protocol)
            group = pace_group(info, self.card_access.pace_domain_parameter_infos)
        except UnsupportedAlgorithmError:
            return PaceAnswer(StatusWord.WRONG_DATA)
        self.run = _Run(algorithm, group, reference, password_key(password, algorithm))
        left = self.tries.get(reference, self.retries)
        if left < self.retries:  # a warning with the retry counter (TR-03110-3 B.11.1)
            return PaceAnswer(0x63C0 | min(left, 0x0F))
        return PaceAnswer(StatusWord.SUCCESS)

    # -- GENERAL AUTHENTICATE ----------------------------------------------------------------

    def general_authenticate(self, data: bytes, *, chained: bool) -> PaceAnswer:
        """Answer one GENERAL AUTHENTICATE of the chain (9303-11 §4.4.4.2).

        :param chained: the command had CLA bit 0x10 (more commands follow).
        """
        run = self.run
        if run is None:
            return PaceAnswer(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        self.ga_count += 1
        step = run.step + 1
        if self.faults.pace_error_at_step == step:
            self.run = None
            return PaceAnswer(self.faults.pace_error_sw)
        if chained != (step < 4):
            self.run = None
            return PaceAnswer(SW_CHAINING_NOT_SUPPORTED if chained else SW_LAST_COMMAND_EXPECTED)
        handlers = {1: self._nonce, 2: self._map, 3: self._agree, 4: self._mutual}
        try:
            answer = handlers[step](run, data)
        except (
            AccessControlError,
            InvalidPointError,
            LocalProtocolError,
            ParseError,
            UnsupportedAlgorithmError,
        ):
            answer = PaceAnswer(StatusWord.WRONG_DATA)
        if answer.sw != StatusWord.SUCCESS or step == 4:
            self.run = None
        else:
            run.step = step
        return answer

    def _nonce(self, run: _Run, data: bytes) -> PaceAnswer:
        parse_dynamic_authentication_data(data, step="GA 1", required=())
        run.nonce = self.rng(nonce_length(run.algorithm))
        z = encrypt_nonce(run.k_pi, run.nonce, run.algorithm)
        return PaceAnswer(StatusWord.SUCCESS, dynamic_authentication_data(0x80, z))

    def _map(self, run: _Run, data: bytes) -> PaceAnswer:
        value = parse_dynamic_authentication_data(data, step="GA 2", required=(0x81,))[0x81]
        group, algorithm = run.group, run.algorithm
        if algorithm.mapping is PaceMapping.IM:
            if len(value) != len(run.nonce):
                return PaceAnswer(StatusWord.WRONG_DATA)
            run.generator = map_integrated(group, run.nonce, value, algorithm)
            return PaceAnswer(StatusWord.SUCCESS, dynamic_authentication_data(0, b""))
        peer = group.decode(value)  # checked: on the curve / in the group
        run.map_private = group.generate_private_key(self.rng)
        run.map_public = group.encode(group.multiply(run.map_private))
        if run.map_public == value:
            return PaceAnswer(StatusWord.WRONG_DATA)
        run.generator = map_generic(group, run.nonce, run.map_private, peer)
        return PaceAnswer(StatusWord.SUCCESS, dynamic_authentication_data(0x82, run.map_public))

    def _agree(self, run: _Run, data: bytes) -> PaceAnswer:
        value = parse_dynamic_authentication_data(data, step="GA 3", required=(0x83,))[0x83]
        group = run.group
        peer = group.decode(value)
        run.private = group.generate_private_key(self.rng)
        run.public = group.encode(group.multiply(run.private, run.generator))
        if run.public == value:
            return PaceAnswer(StatusWord.WRONG_DATA)
        run.peer_public = value
        shared = key_agreement(group, run.private, peer)
        run.ks_enc, run.ks_mac = session_keys(shared, run.algorithm)
        return PaceAnswer(StatusWord.SUCCESS, dynamic_authentication_data(0x84, run.public))

    def _mutual(self, run: _Run, data: bytes) -> PaceAnswer:
        token = parse_dynamic_authentication_data(data, step="GA 4", required=(0x85,))[0x85]
        algorithm, group = run.algorithm, run.group
        try:
            check_authentication_token(run.ks_mac, algorithm, group, run.public, token)
        except AccessControlError:
            # The terminal derived other keys: a wrong password (9303-11 §4.4.3.4).
            left = max(self.tries.get(run.reference, self.retries) - 1, 0)
            self.tries[run.reference] = left
            return PaceAnswer(0x63C0 | min(left, 0x0F))
        self.tries[run.reference] = self.retries
        t_ic = authentication_token(run.ks_mac, algorithm, group, run.peer_public)
        if self.faults.pace_bad_token:
            t_ic = bytes([t_ic[0] ^ 0x01]) + t_ic[1:]
        body = tlv.encode(0x86, t_ic)
        if algorithm.mapping is PaceMapping.CAM:
            body += tlv.encode(0x8A, self._cam_data(run))
        session = start_session(run.ks_enc, run.ks_mac, algorithm, role=Role.CHIP)
        return PaceAnswer(StatusWord.SUCCESS, tlv.encode(0x7C, body), session)

    def _cam_data(self, run: _Run) -> bytes:
        """A_IC = E(KS_enc, CA_IC) with CA_IC = SK_IC⁻¹ · SK_map,IC mod n (9303-11 §4.4.3.5.1)."""
        group = run.group
        parameter_id = group.parameter_id
        key = None if parameter_id is None else self.cam_keys.get(parameter_id)
        if key is None or run.map_private is None:
            raise LocalProtocolError("no chip-authentication key for this curve")
        if self.faults.pace_cam_mismatch:
            key = key % (group.order - 1) + 1  # another key: a chip that is not the document's
        ca_ic = chip_authentication_data(key, run.map_private, group)
        return encrypt_chip_authentication_data(run.ks_enc, ca_ic, group)
