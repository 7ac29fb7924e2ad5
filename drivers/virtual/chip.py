"""The card side of an eMRTD: a virtual chip that answers APDUs as a real one does.

Implemented (ICAO Doc 9303-11 and ISO/IEC 7816-4):

* SELECT of the master file, the eMRTD application (AID ``A0000002471001``)
  and EFs by FID (§ 7816-4 §11.2.2); selecting the application drops any session.
* BAC: GET CHALLENGE and EXTERNAL AUTHENTICATE (9303-11 §4.3, §9.7), using
  the same pure code as the terminal (:class:`epass.access.bac.BacChip`);
  refused with ``6982`` when :attr:`ChipConfig.bac` is false (a PACE-only chip).
* PACE: MSE:Set AT and the chained GENERAL AUTHENTICATE steps (9303-11 §4.4)
  for every PACEInfo of EF.CardAccess, with the MRZ or the CAN, GM, IM and
  CAM, ECDH and DH, 3DES and AES (:class:`drivers.virtual.pace.ChipPace`,
  the same pure functions as the terminal), a retry counter per password;
  selecting the application under PACE keeps the session (9303-11 §4.2);
  EF.CardSecurity is readable under PACE only.
* Secure messaging with :class:`epass.sm.SecureMessaging` in the chip role: a
  command without SM or with a bad MAC ends the session with a plain
  ``6988``/``6987``, as chips do (§9.8).
* READ BINARY: even INS with SFI (P1 b8 set, offset in P2) or with a 15-bit
  offset on the current EF, odd INS ``B1`` with DO'54' offset and DO'53'
  response (ISO/IEC 7816-4 §11.3.3); short and extended Le; a short response
  never exceeds 256 bytes after SM (the chip returns fewer bytes than asked,
  as real chips do); ``6282`` at the end of the file, ``6B00`` past it.
* Active Authentication (INTERNAL AUTHENTICATE, 9303-11 §6.1) and Chip
  Authentication v1 (MSE:Set KAT, or MSE:Set AT + GENERAL AUTHENTICATE,
  9303-11 §6.2) under secure messaging, through
  :class:`drivers.virtual.chip_auth.ChipAuthResponder`: the answer to the last
  CA command is protected under the old keys, then the chip switches to the
  new session (SSC 0).
* Terminal Authentication v1 (BSI TR-03110 v1.11) after Chip Authentication:
  MSE:Set DST, PSO:Verify Certificate, MSE:Set AT, GET CHALLENGE and EXTERNAL
  AUTHENTICATE, through :class:`drivers.virtual.ta.TaChip`; its trust points are
  announced in PACE step 4 (tags ``87``/``88``, TR-03110-3 B.11.2).
* Access control: nothing in the application is readable before BAC; DG3 and
  DG4 need Terminal Authentication granting them (the effective CHAT), else
  ``6982``.
* EF.CardAccess (only when :attr:`ChipConfig.card_access` or the files give
  one; otherwise ``6A82``, a BAC-only chip) and EF.ATR/INFO in the master
  file, readable without authentication.

Fault switches (:class:`Faults`) let tests provoke what real chips and
readers do wrong. No I/O happens here: transports call :meth:`VirtualChip.process`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from drivers.virtual.chip_auth import AaChipKey, CaChipKey, ChipAuthResponder
from drivers.virtual.pace import ChipPace
from drivers.virtual.ta import TaChip
from epass import tlv
from epass.access import ca as ca_protocol
from epass.access import ta as ta_protocol
from epass.access.bac import BacChip
from epass.access.pace import Password, parse_dynamic_authentication_data
from epass.apdu import CommandApdu, Ins
from epass.errors import (
    AccessControlError,
    LocalProtocolError,
    ParseError,
    SecureMessagingError,
)
from epass.lds.files import EAC_PROTECTED, EMRTD_AID, LdsFile
from epass.lds.security_infos import SecurityInfos, parse_security_infos
from epass.sm import SecureMessaging, max_plain_response
from epass.status import StatusWord

__all__ = ["ChipConfig", "Faults", "VirtualChip"]

MF_FID = 0x3F00


def _wrong_le(available: int) -> int:
    """``6Cxx``: wrong Le, xx bytes available (ISO/IEC 7816-4 §5.6; 00 means 256)."""
    return 0x6C00 | (available & 0xFF)


def _contactless_atr(historical: bytes) -> bytes:
    """PC/SC Part 3 §3.1.3.2.3: 3B 8n 80 01 <historical bytes> TCK."""
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes([tck])


@dataclass
class ChipConfig:
    """How the chip behaves on the link.

    :ivar extended_length: accept extended Lc/Le and announce it in the ATR
        and EF.ATR/INFO.
    :ivar max_response: the most bytes one response may carry (the chip's
        buffer); with extended length up to 65536.
    :ivar announce_in_atr: put the card capabilities byte in the ATR.
    :ivar card_access: the content of EF.CardAccess in the master file
        (SecurityInfos, 9303-11 §9.2.11), e.g. one offering PACE; ``None``
        (default) for a BAC-only chip, which answers ``6A82``. A file given
        to :class:`VirtualChip` directly takes precedence.
    :ivar bac: accept BAC; ``False`` answers EXTERNAL AUTHENTICATE with
        ``6982`` (a PACE-only chip).
    :ivar pace_passwords: the PACE passwords the chip accepts (``"MRZ"``,
        ``"CAN"``); MSE:Set AT naming another answers ``6A88``.
    :ivar pace_retries: tries of each PACE password before it is blocked
        (``63Cx`` counts down after a wrong one, ``6983`` once blocked; a
        successful PACE resets the counter; BSI TR-03110-2 §3.5 for the
        counter, ISO/IEC 7816-4 §5.6 for the status words).
    :ivar mse_set_at_error: answer MSE:Set AT for PACE with this status word
        (a chip whose PACE is broken, e.g. ``6A80``).
    :ivar internal_authenticate_error: answer INTERNAL AUTHENTICATE with this
        status word although the chip holds an AA key (e.g. ``6D00``).
    :ivar chip_authentication_error: answer the Chip Authentication MSE
        (Set KAT / Set AT) with this status word (a chip that refuses CA).
    """

    extended_length: bool = True
    max_response: int = 65536
    announce_in_atr: bool = True
    card_access: bytes | None = None
    bac: bool = True
    pace_passwords: frozenset[str] = frozenset({"MRZ", "CAN"})
    pace_retries: int = 3
    mse_set_at_error: int | None = None
    internal_authenticate_error: int | None = None
    chip_authentication_error: int | None = None

    def atr(self) -> bytes:
        third = 0x40 | 0x20 if self.extended_length else 0x00
        caps = bytes([0x73, 0x80, 0x21, third]) if self.announce_in_atr else b""
        return _contactless_atr(b"\x80" + caps)

    def atr_info(self) -> bytes:
        """EF.ATR/INFO content: DO'7F66' with max command/response lengths (ISO 7816-4 §12.7.1)."""
        max_cmd = 65535 if self.extended_length else 261
        max_rsp = self.max_response if self.extended_length else 258
        ints = tlv.encode(0x02, max_cmd.to_bytes(3, "big").lstrip(b"\x00") or b"\x00")
        ints += tlv.encode(0x02, max_rsp.to_bytes(3, "big").lstrip(b"\x00") or b"\x00")
        return tlv.encode(0x7F66, ints)


@dataclass
class Faults:
    """Switches for misbehaviour, each off by default.

    :ivar corrupt_mac_after: corrupt the MAC of the SM response to the Nth
        protected command (1-based) and every later one.
    :ivar plain_error_on_read: answer READ BINARY number N under SM with a
        plain ``6988`` (as if the chip dropped the session).
    :ivar reject_le_above: answer ``6700`` when a READ BINARY asks for more
        than this many bytes (chips that dislike large Le).
    :ivar hint_le_above: answer ``6Cxx`` (xx = this limit) when a READ BINARY
        asks for more: "wrong Le, xx bytes available" (ISO/IEC 7816-4 §5.6).
    :ivar exact_le_at_eof: answer ``6Cxx`` (xx = bytes left) instead of a short
        read with ``6282`` when Le reaches past the end of the file.
    :ivar reject_extended: answer ``6700`` to any extended-length APDU even
        if the ATR says otherwise.
    :ivar reject_extended_secure: answer a plain ``6700`` to an extended-length
        APDU under secure messaging (ending the session), though plain
        extended APDUs are taken (a chip whose SM buffer is short).
    :ivar refuse_sfi: answer ``6A86`` to READ BINARY with an SFI.
    :ivar remove_after: the transport reports card removal on APDU number N.
    :ivar truncate: serve these files cut to this many bytes (the header
        still announces the full length).
    :ivar pace_error_at_step: answer GENERAL AUTHENTICATE step N (1-4: nonce,
        mapping, key agreement, mutual authentication) with :attr:`pace_error_sw`.
    :ivar pace_error_sw: the status word of :attr:`pace_error_at_step` (``6A80``).
    :ivar pace_bad_token: send a wrong authentication token T_IC in step 4.
    :ivar pace_cam_mismatch: send PACE-CAM authentication data made with
        another key than the one of EF.CardSecurity (a cloned chip).
    """

    corrupt_mac_after: int | None = None
    plain_error_on_read: int | None = None
    reject_le_above: int | None = None
    hint_le_above: int | None = None
    exact_le_at_eof: bool = False
    reject_extended: bool = False
    reject_extended_secure: bool = False
    refuse_sfi: bool = False
    remove_after: int | None = None
    truncate: dict[LdsFile, int] = field(default_factory=dict)
    pace_error_at_step: int | None = None
    pace_error_sw: int = 0x6A80
    pace_bad_token: bool = False
    pace_cam_mismatch: bool = False


class VirtualChip:
    """An eMRTD chip in memory.

    :param files: the content of the application's EFs (EF.COM, EF.SOD, DGs)
        and, optionally, of master-file EFs (EF.CardAccess).
    :param mrz_information: the BAC key seed input (9303-11 §9.7.2), also
        the MRZ password of PACE (9303-11 §9.7.3).
    :param can: the card access number (PACE password), if the document has one.
    :param cam_keys: the PACE-CAM private keys by standardized parameter id.
    :param aa_key: the Active Authentication key (``None``: INTERNAL AUTHENTICATE
        is not supported, ``6D00``).
    :param ca_keys: the Chip Authentication v1 keys (their keyIds as in DG14).
    :param ta: the Terminal Authentication state (its trust points, the test
        CVCA); ``None``: no TA, DG3/DG4 are never readable.
    :param config: link behaviour; :param faults: misbehaviour switches.
    :param rng: randomness for challenges and keys (inject for known answers).
    """

    def __init__(
        self,
        files: Mapping[LdsFile, bytes],
        mrz_information: str,
        *,
        can: str | None = None,
        cam_keys: Mapping[int, int] | None = None,
        aa_key: AaChipKey | None = None,
        ca_keys: Sequence[CaChipKey] = (),
        ta: TaChip | None = None,
        config: ChipConfig | None = None,
        faults: Faults | None = None,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.config = config or ChipConfig()
        self.faults = faults or Faults()
        self.files = dict(files)
        if LdsFile.EF_ATR_INFO not in self.files:
            self.files[LdsFile.EF_ATR_INFO] = self.config.atr_info()
        if self.config.card_access is not None:
            self.files.setdefault(LdsFile.EF_CARD_ACCESS, self.config.card_access)
        self.mrz_information = mrz_information
        self.can = can
        self.cam_keys = dict(cam_keys or {})
        #: Tries left per PACE password (``"MRZ"``, ``"CAN"``).
        self.pace_tries = dict.fromkeys(("MRZ", "CAN"), self.config.pace_retries)
        self.rng = rng
        #: AA and CA v1 (one responder per chip).
        self.auth = ChipAuthResponder(aa_key=aa_key, ca_keys=ca_keys, rng=rng)
        self.ta = ta
        self.atr = self.config.atr()
        self.apdu_count = 0
        self.protected_count = 0
        self.read_count = 0
        self.power_on()

    # -- state ---------------------------------------------------------------------

    def power_on(self) -> None:
        """Reset to the state after activation: master file selected, no session."""
        self.in_applet = False
        self.current: LdsFile | None = None
        self.sm: SecureMessaging | None = None
        #: ``"BAC"`` or ``"PACE"`` while a session is up.
        self.session_protocol: str | None = None
        #: Whether Chip Authentication replaced the session's keys.
        self.chip_authenticated = False
        #: The session to switch to after the current answer is protected (CA).
        self._next_session: SecureMessaging | None = None
        #: The chip's ephemeral PACE public key and key agreement (ID_PICC after PACE).
        self._pace_public: tuple[bytes, str] | None = None
        self.auth.reset()
        if self.ta is not None:
            self.ta.reset()
        self.bac = BacChip(self.mrz_information, rng=self.rng)
        self.pace = ChipPace(
            self._card_access_infos(),
            self._pace_passwords(),
            accepted=self.config.pace_passwords,
            tries=self.pace_tries,
            retries=self.config.pace_retries,
            cam_keys=self.cam_keys,
            rng=self.rng,
            faults=self.faults,
            mse_error=self.config.mse_set_at_error,
        )

    def _card_access_infos(self) -> SecurityInfos | None:
        data = self.files.get(LdsFile.EF_CARD_ACCESS)
        if data is None:
            return None
        try:
            return parse_security_infos(data, file="EF.CardAccess")
        except ParseError:
            return None

    def _pace_passwords(self) -> dict[str, Password]:
        passwords = {"MRZ": Password.mrz(self.mrz_information)}
        if self.can is not None:
            passwords["CAN"] = Password.can(self.can)
        return passwords

    def _end_session(self) -> None:
        self.sm = None
        self.session_protocol = None
        self.current = None
        self.chip_authenticated = False
        self._next_session = None
        self.auth.reset()
        if self.ta is not None:
            self.ta.reset()

    # -- entry point --------------------------------------------------------------

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with a response APDU (data + SW1 SW2)."""
        self.apdu_count += 1
        try:
            command = CommandApdu.from_bytes(apdu)
        except ParseError:
            return self._sw(StatusWord.WRONG_LENGTH)
        refused = self.faults.reject_extended or (
            self.faults.reject_extended_secure and bool(command.cla & 0x0C)
        )
        if command.is_extended and (not self.config.extended_length or refused):
            # The chip cannot take the frame at all, so it cannot check an SM MAC either:
            # a plain error, and any session is over.
            self._end_session()
            return self._sw(StatusWord.WRONG_LENGTH)
        if command.cla & 0x0C:
            return self._process_protected(apdu)
        if self.sm is not None:
            # A plain command in a secure session: the chip drops the session (9303-11 §9.8).
            self._end_session()
            return self._sw(StatusWord.SM_DATA_OBJECTS_MISSING)
        return self._dispatch(command, secure=False)

    def _process_protected(self, apdu: bytes) -> bytes:
        sm = self.sm
        if sm is None:
            return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        try:
            plain = CommandApdu.from_bytes(sm.unwrap(apdu))
        except (SecureMessagingError, ParseError):
            self._end_session()
            return self._sw(StatusWord.SM_DATA_OBJECTS_INCORRECT)
        self.protected_count += 1
        response = self._dispatch(plain, secure=True)
        if self.sm is None:  # the command ended the session (e.g. SELECT applet)
            return response
        if plain.ins in (Ins.READ_BINARY, Ins.READ_BINARY_ODD):
            if self.read_count == self.faults.plain_error_on_read:
                self._end_session()
                return self._sw(StatusWord.SM_DATA_OBJECTS_INCORRECT)
        protected = self.sm.wrap(response)  # the last CA command: still under the old keys
        after = self.faults.corrupt_mac_after
        if after is not None and self.protected_count >= after:
            protected = protected[:-3] + bytes([protected[-3] ^ 0xFF]) + protected[-2:]
        if self._next_session is not None:
            self.sm, self._next_session = self._next_session, None
            self.chip_authenticated = True
            self.current = None
        return protected

    @staticmethod
    def _sw(sw: int, data: bytes = b"") -> bytes:
        return data + sw.to_bytes(2, "big")

    # -- commands -------------------------------------------------------------------

    def _dispatch(self, command: CommandApdu, *, secure: bool) -> bytes:
        chained = bool(command.cla & 0x10)
        if command.cla & 0xE3 != 0x00 or (chained and command.ins != Ins.GENERAL_AUTHENTICATE):
            return self._sw(StatusWord.CLA_NOT_SUPPORTED)
        ins = command.ins
        if secure and self.sm is not None:
            answer = self._chip_authentication(command)
            if answer is not None:
                return answer
        if ins == Ins.MSE and command.p1 == 0xC1 and command.p2 == 0xA4:
            return self._mse_set_at(command, secure=secure)
        if ins == Ins.GENERAL_AUTHENTICATE:
            return self._general_authenticate(command, chained=chained, secure=secure)
        if ins == Ins.SELECT:
            return self._select(command, secure=secure)
        if ins == Ins.GET_CHALLENGE:
            return self._get_challenge(command)
        if ins == Ins.EXTERNAL_AUTHENTICATE:
            return self._external_authenticate(command)
        if ins in (Ins.READ_BINARY, Ins.READ_BINARY_ODD):
            return self._read_binary(command, secure=secure)
        return self._sw(StatusWord.INS_NOT_SUPPORTED)

    def _select(self, command: CommandApdu, *, secure: bool) -> bytes:
        p1 = command.p1
        if p1 == 0x04:  # by DF name
            if command.data != EMRTD_AID:
                return self._sw(StatusWord.FILE_NOT_FOUND)
            self.in_applet = True
            self.current = None
            self.bac.rnd_ic = None
            if not (secure and self.session_protocol == "PACE"):
                # PACE keeps its session across the selection (9303-11 §4.2); BAC starts anew.
                self._end_session()
            return self._sw(StatusWord.SUCCESS)
        if p1 == 0x00 and command.data in (b"", MF_FID.to_bytes(2, "big")):
            self.in_applet = False
            self._end_session()
            return self._sw(StatusWord.SUCCESS)
        if p1 in (0x00, 0x02) and len(command.data) == 2:
            fid = int.from_bytes(command.data, "big")
            target = self._lookup(lambda f: f.fid == fid)
            if target is None:
                return self._sw(StatusWord.FILE_NOT_FOUND)
            if not self._readable(target, secure=secure):
                return self._sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
            self.current = target
            return self._sw(StatusWord.SUCCESS)
        return self._sw(StatusWord.WRONG_P1P2)

    def _lookup(self, match: Callable[[LdsFile], bool]) -> LdsFile | None:
        for f in self.files:
            if f.in_applet == self.in_applet and match(f):
                return f
        return None

    def _readable(self, f: LdsFile, *, secure: bool) -> bool:
        if f is LdsFile.EF_CARD_SECURITY:  # after PACE only (TR-03110-3 A.1.2.5)
            return secure and self.session_protocol == "PACE"
        if not f.in_applet:
            return True
        if f in EAC_PROTECTED:  # Terminal Authentication and its effective CHAT decide
            return secure and self.ta is not None and self.ta.may_read(f.number)
        return secure

    def _get_challenge(self, command: CommandApdu) -> bytes:
        if command.le != 8 or command.data:
            return self._sw(StatusWord.WRONG_LENGTH)
        if not self.in_applet:
            return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        return self._sw(StatusWord.SUCCESS, self.bac.challenge())

    def _external_authenticate(self, command: CommandApdu) -> bytes:
        if not self.in_applet:
            return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        if not self.config.bac:
            return self._sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        try:
            response, session = self.bac.authenticate(command.data)
        except AccessControlError:
            return self._sw(StatusWord.VERIFICATION_FAILED)
        self.sm = session
        self.session_protocol = "BAC"
        self.current = None
        return self._sw(StatusWord.SUCCESS, response)

    def _mse_set_at(self, command: CommandApdu, *, secure: bool) -> bytes:
        """MSE:Set AT for PACE (9303-11 §4.4.4.1); a new PACE ends any session."""
        if secure:
            self._end_session()
            return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        answer = self.pace.mse_set_at(command.data)
        return self._sw(answer.sw, answer.data)

    def _general_authenticate(self, command: CommandApdu, *, chained: bool, secure: bool) -> bytes:
        """One GENERAL AUTHENTICATE of PACE (9303-11 §4.4.4.2); step 4 starts the session."""
        if secure:
            self._end_session()
            return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        run = self.pace.run
        answer = self.pace.general_authenticate(command.data, chained=chained)
        data = answer.data
        if answer.session is not None:
            self.sm = answer.session
            self.session_protocol = "PACE"
            self.current = None
            if run is not None:
                self._pace_public = (run.public, run.group.kind)
            data = self._with_trust_points(data)
        return self._sw(answer.sw, data)

    def _with_trust_points(self, data: bytes) -> bytes:
        """Add the CARs of the TA trust points to PACE step 4 (TR-03110-3 B.11.2: 87, 88)."""
        if self.ta is None:
            return data
        outer = tlv.decode_single(data, expected_tag=0x7C)
        references = self.ta.trust_point_references[:2]
        extra = b"".join(
            tlv.encode(tag, car.encode("latin-1"))
            for tag, car in zip((0x87, 0x88), references, strict=False)
        )
        return tlv.encode(0x7C, bytes(outer.value) + extra)

    # -- chip authentication (AA, CA v1) and terminal authentication ------------------------

    def _chip_authentication(self, command: CommandApdu) -> bytes | None:
        """AA, CA v1 and TA under secure messaging; ``None`` when *command* is none of them."""
        config = self.config
        if (
            command.ins == Ins.INTERNAL_AUTHENTICATE
            and config.internal_authenticate_error is not None
        ):
            return self._sw(config.internal_authenticate_error)
        auth = self.auth
        if auth.handles(command):
            is_mse = command.ins == Ins.MSE
            if is_mse and config.chip_authentication_error is not None:
                return self._sw(config.chip_authentication_error)
            if self.chip_authenticated and command.ins != Ins.INTERNAL_AUTHENTICATE:
                return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)  # CA once a session
            pending = auth.pending
            answer = auth.process(command, secure=True)
            if answer.session is not None and answer.sw == StatusWord.SUCCESS:
                self._next_session = answer.session
                self._start_terminal_authentication(command, pending)
            return self._sw(answer.sw, answer.data)
        ta = self.ta
        if ta is not None and ta.handles(command):
            if not ta.started:
                return self._sw(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
            return ta.handle(command).to_bytes()
        return None

    def _start_terminal_authentication(
        self, command: CommandApdu, pending: tuple[ca_protocol.CaAlgorithm, CaChipKey] | None
    ) -> None:
        """Enable TA for the session CA just started (ID_PICC, Comp(PK_PCD); TR-03110-3 B.3)."""
        if self.ta is None:
            return
        try:
            if command.ins == Ins.MSE:  # 3DES: MSE:Set KAT carries PK_PCD in 91
                public, key_id = ca_protocol.parse_mse_set_kat(command.data)
                keys = [k for k in self.auth.ca_keys if key_id is None or k.key_id == key_id]
                kind = keys[0].group.kind if keys else "ECDH"
            else:
                public = parse_dynamic_authentication_data(
                    command.data, step="CA", required=(ca_protocol.TAG_EPHEMERAL_GA,)
                )[ca_protocol.TAG_EPHEMERAL_GA]
                kind = pending[1].group.kind if pending is not None else "ECDH"
            if self.session_protocol == "PACE" and self._pace_public is not None:
                id_picc = ta_protocol.id_picc_from_pace(*self._pace_public)
            else:
                id_picc = ta_protocol.id_picc_from_document_number(self.mrz_information[:9])
            self.ta.start(id_picc=id_picc, terminal_ephemeral_public_key=public, key_agreement=kind)
        except (AccessControlError, LocalProtocolError, ParseError):  # pragma: no cover
            # CA parsed the same data already
            self.ta.reset()

    def _response_budget(self, command: CommandApdu, *, secure: bool) -> int:
        """How many plain data bytes fit in the response to *command*."""
        wire_limit = 65536 if command.is_extended else 256
        limit = min(wire_limit, self.config.max_response)
        if secure and self.sm is not None:
            return max_plain_response(limit, self.sm.block_size, odd_ins=bool(command.ins & 1))
        return limit

    def _read_binary(self, command: CommandApdu, *, secure: bool) -> bytes:
        self.read_count += 1
        if command.le is None:
            return self._sw(StatusWord.WRONG_LENGTH)
        limit = self.faults.reject_le_above
        if limit is not None and command.le > limit:
            return self._sw(StatusWord.WRONG_LENGTH)
        hint = self.faults.hint_le_above
        if hint is not None and command.le > hint:
            return self._sw(_wrong_le(hint))
        odd = command.ins == Ins.READ_BINARY_ODD
        if odd:
            target, offset, error = self._odd_target(command)
        else:
            target, offset, error = self._even_target(command)
        if error is not None:
            return self._sw(error)
        assert target is not None  # noqa: S101 - error is None implies a target
        if not self._readable(target, secure=secure):
            return self._sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        self.current = target
        content = self.files[target]
        cut = self.faults.truncate.get(target)
        if cut is not None:
            content = content[:cut]
        if offset > len(content):
            return self._sw(StatusWord.WRONG_P1P2)
        budget = self._response_budget(command, secure=secure)
        want = command.le
        if odd:  # the response is DO'53' around the data
            want = min(want, budget)
            header = 4 if want > 0xFF + 4 else 3 if want > 0x7F + 3 else 2
            n = min(want - header, len(content) - offset)
            if n < 0:
                return self._sw(StatusWord.WRONG_LENGTH)
            chunk = content[offset : offset + n]
            eof = offset + n >= len(content) and n < want - header
            sw = StatusWord.END_OF_FILE if eof else StatusWord.SUCCESS
            return self._sw(sw, tlv.encode(0x53, chunk))
        n = min(want, budget, len(content) - offset)
        if self.faults.exact_le_at_eof and n < min(want, budget) and 0 < n < 256:
            return self._sw(_wrong_le(n))
        chunk = content[offset : offset + n]
        sw = StatusWord.END_OF_FILE if n < min(want, budget) else StatusWord.SUCCESS
        return self._sw(sw, chunk)

    def _even_target(self, command: CommandApdu) -> tuple[LdsFile | None, int, int | None]:
        if command.p1 & 0x80:
            if command.p1 & 0x60:
                return None, 0, StatusWord.WRONG_P1P2
            if self.faults.refuse_sfi:
                return None, 0, StatusWord.INCORRECT_P1P2
            sfi = command.p1 & 0x1F
            target = self._lookup(lambda f: f.sfi == sfi)
            if target is None:
                return None, 0, StatusWord.FILE_NOT_FOUND
            return target, command.p2, None
        if self.current is None:
            return None, 0, StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED
        return self.current, (command.p1 << 8) | command.p2, None

    def _odd_target(self, command: CommandApdu) -> tuple[LdsFile | None, int, int | None]:
        try:
            do54 = tlv.decode_single(command.data, expected_tag=0x54)
        except ParseError:
            return None, 0, StatusWord.WRONG_DATA
        if not 1 <= len(do54.value) <= 3:
            return None, 0, StatusWord.WRONG_DATA
        offset = int.from_bytes(do54.value, "big")
        p1p2 = (command.p1 << 8) | command.p2
        if p1p2 == 0:
            if self.current is None:
                return None, 0, StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED
            return self.current, offset, None
        if command.p1 == 0 and command.p2 & 0x07 == 0 and command.p2 >> 3:
            sfi = command.p2 >> 3
            target = self._lookup(lambda f: f.sfi == sfi)
        else:
            target = self._lookup(lambda f: f.fid == p1p2)
        if target is None:
            return None, 0, StatusWord.FILE_NOT_FOUND
        return target, offset, None
