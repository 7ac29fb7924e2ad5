"""The chip's side of Terminal Authentication v1 (BSI TR-03110 v1.11; TR-03110-3 B.11, C).

Pure handlers, no transport: :class:`TaChip` answers the TA commands (a
plain :class:`~epass.apdu.CommandApdu` in, a :class:`~epass.apdu.ResponseApdu`
out; secure messaging stays with the chip that embeds it) and says which
EAC-protected data groups the terminal may read. The virtual chip
(drivers/virtual/chip.py) dispatches to it::

    ta = TaChip([cvca_certificate], current_date=date(2025, 1, 1))
    # after BAC/PACE and Chip Authentication v1 succeeded in this session:
    ta.start(id_picc=..., terminal_ephemeral_public_key=pk_pcd, key_agreement="ECDH")
    if ta.handles(command):            # MSE 81B6/81A4, PSO 00BE, and after start()
        return ta.handle(command)      # GET CHALLENGE and EXTERNAL AUTHENTICATE
    ...
    if dg in (3, 4) and not ta.may_read(dg): answer 6982
    # at the end of the session (new SELECT, SM error, power off):
    ta.reset()

GET CHALLENGE and EXTERNAL AUTHENTICATE are TA's only after :meth:`TaChip.start`
(BAC uses the same instructions before secure messaging starts).

What the chip checks (TR-03110 v1.11, certificate validation by the chip; TR-03110-3 C):

* MSE:Set DST names the verification key: a trust point (a CVCA public key)
  or a DV key imported earlier in this session; anything else ``6A88``.
* PSO:Verify Certificate: the body and signature parse (else ``6A80``); the
  CAR is the key MSE:Set DST named, the certificate's terminal type is the
  chip's (id-IS), the issuer's role may issue the subject's (CVCA → CVCA link
  or DV, DV → terminal), the certificate has not expired by the chip's
  current date (else ``6A80``); the signature verifies with the named key,
  EC domain parameters inherited from the CVCA (else ``6300``). Then a CVCA
  link certificate becomes a trust point (at most two are kept, the newest
  first), a DV key is imported for this session, a terminal key is held for
  MSE:Set AT; the chip's current date moves forward to the effective date of
  an accepted CVCA, DV or domestic terminal certificate (issued by a DV with
  role "official domestic"), never backward.
* MSE:Set AT: ``83`` names the imported terminal certificate (else ``6A88``),
  an optional ``80`` its algorithm (else ``6A80``); before :meth:`TaChip.start`, ``6985``.
* GET CHALLENGE: 8 random bytes (Le must be 8, else ``6700``).
* EXTERNAL AUTHENTICATE: the terminal's signature over
  ``ID_PICC ‖ r_PICC ‖ Comp(PK_PCD)`` verifies (else ``6300``); the challenge
  is used once. Commands out of order answer ``6985``.

The effective authorization is the bitwise AND of the rights in the CHATs of
the CVCA (the trust point the chain started from), the DV and the terminal
certificate (TR-03110-3 C.4): bit 0 DG3, bit 1 DG4.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from epass import tlv
from epass.access.ta import (
    CHALLENGE_LENGTH,
    INS_PSO,
    MSE_SET_AT,
    MSE_SET_DST,
    compress_public_key,
    signature_input,
)
from epass.apdu import CommandApdu, Ins, ResponseApdu
from epass.cvc import (
    ID_IS,
    CvCertificate,
    CvPublicKey,
    Role,
    check_issuance,
    encode_certificate,
    parse_certificate,
)
from epass.errors import (
    InvalidSignatureError,
    LocalProtocolError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.status import StatusWord

__all__ = ["MAX_TRUST_POINTS", "TaChip"]

#: Trust points a chip keeps (TR-03110 v1.11: the current and the previous CVCA key).
MAX_TRUST_POINTS = 2
#: The data groups TA protects (9303-10: DG3 fingerprints, DG4 iris) and their CHAT bits.
PROTECTED_DATA_GROUPS = {3: 0x01, 4: 0x02}


@dataclass(frozen=True)
class _Key:
    """A public key the chip may verify with: a trust point or an imported certificate's."""

    certificate: CvCertificate
    key: CvPublicKey  # with EC domain parameters filled in
    rights: int  # AND of the rights from the trust point down to this certificate
    issuer_role: Role | None  # None for a trust point


def _response(sw: int, data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data, sw)


class TaChip:
    """Terminal Authentication state of one chip.

    :param trust_points: the chip's CVCA certificates (role CVCA, with EC
        domain parameters for EC keys), bytes or parsed, most recent first.
    :param current_date: the chip's notion of today; default the latest
        effective date among the trust points.
    :param terminal_type: the CHAT OID certificates must carry (``id-IS``).
    :param rng: randomness for the challenge.
    :raises LocalProtocolError: for a trust point that is not a usable CVCA certificate.
    """

    def __init__(
        self,
        trust_points: Sequence[CvCertificate | bytes],
        *,
        current_date: datetime.date | None = None,
        terminal_type: str = ID_IS,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.terminal_type = terminal_type
        self.rng = rng
        self._trust: list[_Key] = []
        for item in trust_points:
            cert = item if isinstance(item, CvCertificate) else parse_certificate(item, file="CVCA")
            if cert.role is not Role.CVCA:
                raise LocalProtocolError(f"trust point {cert.chr} is not a CVCA certificate")
            if cert.public_key.is_ec and cert.public_key.domain is None:
                raise LocalProtocolError(f"trust point {cert.chr} has no EC domain parameters")
            self._trust.append(_Key(cert, cert.public_key, cert.chat.rights, None))
        if not self._trust or len(self._trust) > MAX_TRUST_POINTS:
            raise LocalProtocolError(f"a chip holds 1 to {MAX_TRUST_POINTS} trust points")
        self.current_date = current_date or max(k.certificate.effective_date for k in self._trust)
        self.reset()

    # --- session ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget this session's TA state (imported keys, challenge, authentication).

        Trust points learnt from link certificates and the current date stay.
        """
        self._id_picc: bytes | None = None
        self._comp_pk_pcd: bytes | None = None
        self._dst: _Key | None = None
        self._imported: dict[str, _Key] = {}
        self._terminal: _Key | None = None
        self._at_set = False
        self._challenge: bytes | None = None
        self.authenticated = False
        self.effective_rights = 0
        self.commands = 0

    def start(
        self,
        *,
        id_picc: bytes,
        terminal_ephemeral_public_key: bytes,
        key_agreement: str = "ECDH",
    ) -> None:
        """Enable TA for this session, after Chip Authentication v1 succeeded.

        :param id_picc: the chip's ID_PICC (document number + check digit after
            BAC; Comp of the chip's ephemeral PACE key after PACE).
        :param terminal_ephemeral_public_key: PK_PCD as the terminal sent it in CA.
        :param key_agreement: ``"ECDH"`` or ``"DH"`` (how Comp() is computed).
        """
        self.reset()
        self._id_picc = bytes(id_picc)
        self._comp_pk_pcd = compress_public_key(terminal_ephemeral_public_key, key_agreement)

    @property
    def started(self) -> bool:
        return self._id_picc is not None

    # --- what the rest of the chip asks -------------------------------------------------

    @property
    def trust_points(self) -> tuple[CvCertificate, ...]:
        """The trust points (CVCA certificates), most recent first."""
        return tuple(k.certificate for k in self._trust)

    @property
    def trust_point_references(self) -> tuple[str, ...]:
        """Their CHRs: what EF.CVCA and PACE's 87/88 announce."""
        return tuple(k.certificate.chr for k in self._trust)

    def ef_cvca(self) -> bytes:
        """EF.CVCA: ``42 CAR`` per trust point, most recent first, ``00``-padded to 36 bytes."""
        data = b"".join(tlv.encode(0x42, r.encode("latin-1")) for r in self.trust_point_references)
        return data.ljust(36, b"\x00")

    def may_read(self, data_group: int) -> bool:
        """Whether the terminal may read DG *data_group*.

        DG3 and DG4 need a successful TA whose effective authorization grants
        them; other data groups are not TA's to refuse.
        """
        bit = PROTECTED_DATA_GROUPS.get(data_group)
        if bit is None:
            return True
        return self.authenticated and bool(self.effective_rights & bit)

    # --- commands -----------------------------------------------------------------------

    def handles(self, command: CommandApdu) -> bool:
        """Whether *command* is TA's (GET CHALLENGE / EXTERNAL AUTHENTICATE only after start)."""
        p1p2 = (command.p1, command.p2)
        if command.ins == Ins.MSE:
            return p1p2 in (MSE_SET_DST, MSE_SET_AT)
        if command.ins == INS_PSO:
            return p1p2 == (0x00, 0xBE)
        if command.ins in (Ins.GET_CHALLENGE, Ins.EXTERNAL_AUTHENTICATE):
            return self.started
        return False

    def handle(self, command: CommandApdu) -> ResponseApdu:
        """Answer one TA command (see the module docstring for the status words)."""
        self.commands += 1
        p1p2 = (command.p1, command.p2)
        if command.ins == Ins.MSE and p1p2 == MSE_SET_DST:
            return self._set_dst(command.data)
        if command.ins == Ins.MSE and p1p2 == MSE_SET_AT:
            return self._set_at(command.data)
        if command.ins == INS_PSO and p1p2 == (0x00, 0xBE):
            return self._verify_certificate(command.data)
        if command.ins == Ins.GET_CHALLENGE and self.started:
            if command.data or command.le != CHALLENGE_LENGTH or p1p2 != (0, 0):
                return _response(StatusWord.WRONG_LENGTH)
            self._challenge = self.rng(CHALLENGE_LENGTH)
            return _response(StatusWord.SUCCESS, self._challenge)
        if command.ins == Ins.EXTERNAL_AUTHENTICATE and self.started:
            return self._external_authenticate(command)
        return _response(StatusWord.INS_NOT_SUPPORTED)

    def _reference(self, data: bytes, tag: int, *, allowed: Sequence[int] = ()) -> dict[int, bytes]:
        items = tlv.decode_all(data, file="MSE")
        values: dict[int, bytes] = {}
        for item in items:
            if (item.tag != tag and item.tag not in allowed) or item.tag in values:
                raise ParseError(f"unexpected tag {item.tag:02X}", file="MSE", offset=item.offset)
            values[item.tag] = item.value
        if tag not in values:
            raise ParseError(f"tag {tag:02X} missing", file="MSE")
        return values

    def _set_dst(self, data: bytes) -> ResponseApdu:
        try:
            name = self._reference(data, 0x83)[0x83].decode("latin-1")
        except ParseError:
            return _response(StatusWord.WRONG_DATA)
        self._dst = None
        for key in self._trust:
            if key.certificate.chr == name:
                self._dst = key
        if self._dst is None:
            self._dst = self._imported.get(name)
        if self._dst is None:
            return _response(StatusWord.REFERENCED_DATA_NOT_FOUND)
        return _response(StatusWord.SUCCESS)

    def _verify_certificate(self, data: bytes) -> ResponseApdu:
        issuer = self._dst
        if issuer is None:
            return _response(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        try:
            items = tlv.decode_all(data, file="PSO:Verify Certificate")
            if [i.tag for i in items] != [0x7F4E, 0x5F37]:
                return _response(StatusWord.WRONG_DATA)
            cert = parse_certificate(
                encode_certificate(items[0].encoded, items[1].value), file="PSO:Verify Certificate"
            )
        except ParseError:
            return _response(StatusWord.WRONG_DATA)
        if (
            cert.car != issuer.certificate.chr
            or cert.chat.oid != self.terminal_type
            or check_issuance(issuer.certificate.role, cert) is not None
            or cert.expiration_date < self.current_date
        ):
            return _response(StatusWord.WRONG_DATA)
        domain = issuer.key.domain
        try:
            cert.verify_signature(issuer.key)
        except (InvalidSignatureError, UnsupportedAlgorithmError):
            return _response(StatusWord.VERIFICATION_FAILED)
        if cert.role is Role.CVCA and cert.public_key.domain is not None:
            domain = cert.public_key.domain
        key = cert.public_key.with_domain(domain)
        rights = issuer.rights & cert.chat.rights
        if len(cert.chat.template) != len(issuer.certificate.chat.template):
            rights = 0
        accepted = _Key(cert, key, rights, issuer.certificate.role)
        domestic = cert.role is Role.TERMINAL and issuer.certificate.role is Role.DV_DOMESTIC
        if cert.effective_date > self.current_date and (
            cert.role is Role.CVCA or cert.role.is_dv or domestic
        ):
            self.current_date = cert.effective_date
        if cert.role is Role.CVCA:
            trust = _Key(cert, key, cert.chat.rights, None)
            self._trust = [trust, *(k for k in self._trust if k.certificate.chr != cert.chr)]
            del self._trust[MAX_TRUST_POINTS:]
        elif cert.role.is_dv:
            self._imported[cert.chr] = accepted
        else:
            self._terminal = accepted
            self._at_set = False
        return _response(StatusWord.SUCCESS)

    def _set_at(self, data: bytes) -> ResponseApdu:
        if not self.started:
            return _response(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        try:
            values = self._reference(data, 0x83, allowed=(0x80,))
        except ParseError:
            return _response(StatusWord.WRONG_DATA)
        terminal = self._terminal
        if terminal is None or values[0x83] != terminal.certificate.chr_bytes:
            return _response(StatusWord.REFERENCED_DATA_NOT_FOUND)
        algorithm = terminal.key.algorithm
        if 0x80 in values and (algorithm is None or values[0x80] != algorithm.oid_bytes):
            return _response(StatusWord.WRONG_DATA)
        self._at_set = True
        self._challenge = None
        return _response(StatusWord.SUCCESS)

    def _external_authenticate(self, command: CommandApdu) -> ResponseApdu:
        terminal, challenge = self._terminal, self._challenge
        self._challenge = None  # a challenge is good for one attempt
        if not self._at_set or terminal is None or challenge is None:
            return _response(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        assert self._id_picc is not None and self._comp_pk_pcd is not None  # noqa: S101 - started
        message = signature_input(self._id_picc, challenge, self._comp_pk_pcd)
        try:
            terminal.key.verify(message, command.data)
        except (InvalidSignatureError, UnsupportedAlgorithmError):
            return _response(StatusWord.VERIFICATION_FAILED)
        self.authenticated = True
        self.effective_rights = terminal.rights
        return _response(StatusWord.SUCCESS)
