"""Terminal Authentication version 1: the terminal's side (BSI TR-03110 v1.11, ICAO 9303-11 §7.1).

Terminal Authentication (TA) proves to the chip that the terminal holds the
private key of an inspection-system (IS) certificate that chains to the
chip's trust point, a Country Verifying CA (CVCA) key; the chip then opens
the data groups the chain's CHATs grant (DG3 fingerprints, DG4 iris). In EAC
v1 it runs after Chip Authentication v1, in the secure messaging that CA
started, and binds to CA through the terminal's ephemeral CA key.

Command sequence (TR-03110-3 B.11, all under secure messaging)::

    for each certificate, issuer first (CVCA link certificates, DV, IS):
        MSE:Set DST           00 22 81 B6   83 CAR              B.11 (the key to verify with)
        PSO:Verify Certificate 00 2A 00 BE  7F4E body ‖ 5F37 signature   B.11
    MSE:Set AT                00 22 81 A4   [80 id-TA OID] 83 CHR of the IS certificate
    GET CHALLENGE             00 84 00 00 08                     → r_PICC (8 bytes)
    EXTERNAL AUTHENTICATE     00 82 00 00   s_PCD                B.11

with ``s_PCD = Sign(SK_PCD, ID_PICC ‖ r_PICC ‖ Comp(PK_PCD))`` where

* ``ID_PICC`` is the chip's identifier: after BAC the document number as in
  the MRZ (nine characters, ``<``-filled) followed by its check digit
  (:func:`id_picc_from_document_number`); after PACE ``Comp(PK_PICC)``, the
  compressed ephemeral PACE public key of the chip (:func:`id_picc_from_pace`);
* ``r_PICC`` the chip's 8-byte challenge;
* ``Comp(PK_PCD)`` the compressed ephemeral public key the terminal sent in
  Chip Authentication (:func:`compress_public_key`: ECDH the x-coordinate,
  DH the SHA-1 of the public value; TR-03110-3 Appendix A, key
  agreement: public key compression);

and ``Sign`` the id-TA algorithm of the IS certificate's key (TR-03110-3
A.6.4): ECDSA plain ``r ‖ s`` with SHA-1/224/256/384/512, RSASSA-PKCS1-v1_5 or
RSASSA-PSS with SHA-1/256/512.

Public API:

* ``perform_ta(channel, chain, private_key, *, id_picc, ephemeral_ca_public_key,
  key_agreement="ECDH", trust_points=None, send_protocol_oid=True) -> TaResult``
* ``TerminalCredentials.load(chain_files, key_file, *, password=None)`` and
  ``TerminalCredentials.from_bytes(chain, key, *, password=None, names=None)``:
  what ``epass read --ta-cert-chain FILES --ta-key FILE`` gives ``perform_ta``
* ``select_chain(chain, trust_points) -> list[CvCertificate]``
* ``parse_ef_cvca(data) -> tuple[str, ...]`` (the chip's trust points, EF.CVCA)
* ``id_picc_from_document_number``, ``id_picc_from_pace``, ``compress_public_key``,
  ``signature_input``, ``sign_challenge``, ``mse_set_dst_data``, ``mse_set_at_data``

Errors: a refused or inconsistent step raises
:class:`TerminalAuthenticationError` (an
:class:`~epass.errors.AccessControlError` with ``protocol="TA"``) naming the
step (:data:`TA_STEPS`) and carrying the chip's status word; a bad chain is
refused before any command is sent (step ``"select certificate chain"``).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from epass import tlv
from epass._crypto.signing import PrivateKey, load_private_key
from epass.apdu import CommandApdu, Ins
from epass.channel import Channel
from epass.cvc import (
    MAX_CERTIFICATE_SIZE,
    Chat,
    CvCertificate,
    Role,
    TaAlgorithm,
    check_issuance,
    parse_certificate,
)
from epass.errors import (
    AccessControlError,
    LocalProtocolError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds.mrz import check_digit
from epass.status import StatusWord

__all__ = [
    "CHALLENGE_LENGTH",
    "INS_PSO",
    "MSE_SET_AT",
    "MSE_SET_DST",
    "TA_STEPS",
    "TaResult",
    "TerminalAuthenticationError",
    "TerminalCredentials",
    "compress_public_key",
    "id_picc_from_document_number",
    "id_picc_from_pace",
    "mse_set_at_data",
    "mse_set_dst_data",
    "parse_ef_cvca",
    "perform_ta",
    "select_chain",
    "sign_challenge",
    "signature_input",
]

PROTOCOL = "TA"
STEP_CHAIN = "select certificate chain"
STEP_DST = "MSE:Set DST"
STEP_VERIFY = "PSO:Verify Certificate"
STEP_AT = "MSE:Set AT"
STEP_CHALLENGE = "GET CHALLENGE"
STEP_EXTERNAL = "EXTERNAL AUTHENTICATE"
#: Every step an error from TA can name, in protocol order.
TA_STEPS = (STEP_CHAIN, STEP_DST, STEP_VERIFY, STEP_AT, STEP_CHALLENGE, STEP_EXTERNAL)

#: The chip's challenge r_PICC: 8 bytes (TR-03110-3 B.11, GET CHALLENGE).
CHALLENGE_LENGTH = 8
#: PERFORM SECURITY OPERATION (ISO/IEC 7816-8); P1P2 00BE = verify certificate.
INS_PSO = 0x2A
#: MSE P1P2: Set DST for verification (81 B6) and Set AT for external authentication (81 A4).
MSE_SET_DST = (0x81, 0xB6)
MSE_SET_AT = (0x81, 0xA4)
#: Most certificates accepted in a chain (link certificates, DV, IS).
MAX_CHAIN = 8
#: Largest EF.CVCA accepted (TR-03110 v1.11: two CARs of ≤ 16 characters, padded; 36 bytes).
MAX_EF_CVCA = 256


class TerminalAuthenticationError(AccessControlError):
    """Terminal Authentication failed at :attr:`step` (one of :data:`TA_STEPS`)."""

    def __init__(self, message: str, *, step: str, sw: int | None = None) -> None:
        super().__init__(message, step=step, protocol=PROTOCOL, sw=sw)


def _fail(message: str, step: str, sw: int | None = None) -> TerminalAuthenticationError:
    return TerminalAuthenticationError(message, step=step, sw=sw)


# ---------------------------------------------------------------------------
# pure parts


def compress_public_key(public_key: bytes, key_agreement: str) -> bytes:
    """Comp(PK) of an ephemeral public key (TR-03110-3 Appendix A: public key compression).

    :param public_key: ECDH: the encoded point ``04 ‖ X ‖ Y`` (or compressed
        ``02/03 ‖ X``); DH: the public value as sent.
    :param key_agreement: ``"ECDH"`` (Comp = the x-coordinate) or ``"DH"``
        (Comp = SHA-1 of the public value).
    :raises LocalProtocolError: for a malformed point or an unknown key agreement.
    """
    key = bytes(public_key)
    if key_agreement == "ECDH":
        if len(key) >= 3 and key[0] == 0x04 and len(key) % 2 == 1:
            return key[1 : 1 + (len(key) - 1) // 2]
        if len(key) >= 2 and key[0] in (0x02, 0x03):
            return key[1:]
        raise LocalProtocolError("an ECDH public key must be an encoded point (04/02/03 ‖ X …)")
    if key_agreement == "DH":
        if not key:
            raise LocalProtocolError("empty DH public key")
        return hashlib.sha1(key).digest()  # noqa: S324 - TR-03110-3 names SHA-1 for Comp()
    raise LocalProtocolError(f"unknown key agreement {key_agreement!r} (ECDH or DH)")


def id_picc_from_document_number(document_number: str) -> bytes:
    """ID_PICC after BAC: the MRZ document number field and its check digit, ASCII (9303-11 §7.1).

    :param document_number: as printed (``"L898902C3"``); filled with ``<`` to
        nine characters. A longer number (9303-3 §4.2.2: its rest and check
        digit sit in the optional data) is taken whole with its check digit,
        as for the BAC key seed.
    :raises LocalProtocolError: for characters outside ``A-Z0-9<``.
    """
    number = document_number.strip().upper()
    field_value = number if len(number) > 9 else number.ljust(9, "<")
    try:
        digit = check_digit(field_value)
    except ParseError as exc:
        raise LocalProtocolError(f"not an MRZ document number: {exc.reason}") from None
    return (field_value + digit).encode("ascii")


def id_picc_from_pace(chip_ephemeral_public_key: bytes, key_agreement: str) -> bytes:
    """ID_PICC after PACE: Comp(PK_PICC) of the chip's ephemeral PACE key (9303-11 §7.1)."""
    return compress_public_key(chip_ephemeral_public_key, key_agreement)


def signature_input(id_picc: bytes, challenge: bytes, compressed_terminal_key: bytes) -> bytes:
    """``ID_PICC ‖ r_PICC ‖ Comp(PK_PCD)``: what the terminal signs (9303-11 §7.1)."""
    if len(challenge) != CHALLENGE_LENGTH:
        raise LocalProtocolError(
            f"challenge of {len(challenge)} bytes, {CHALLENGE_LENGTH} expected"
        )
    if not id_picc or not compressed_terminal_key:
        raise LocalProtocolError("ID_PICC and Comp(PK_PCD) must not be empty")
    return bytes(id_picc) + bytes(challenge) + bytes(compressed_terminal_key)


def sign_challenge(private_key: PrivateKey, algorithm: TaAlgorithm, data: bytes) -> bytes:
    """s_PCD: *data* signed with the terminal key under its certificate's id-TA *algorithm*.

    :raises LocalProtocolError: when the key type does not fit the algorithm.
    """
    if algorithm.is_ec != (private_key.kind == "ec"):
        raise LocalProtocolError(
            f"the terminal key is {private_key.kind.upper()}, its certificate says {algorithm.name}"
        )
    kind = "ecdsa-plain" if algorithm.is_ec else algorithm.kind
    return private_key.sign(data, kind=kind, hash_name=algorithm.hash)  # type: ignore[arg-type]


def mse_set_dst_data(car: str) -> bytes:
    """``83 CAR``: the public key PSO:Verify Certificate is to use (TR-03110-3 B.11)."""
    return tlv.encode(0x83, car.encode("latin-1"))


def mse_set_at_data(terminal_chr: str, algorithm: TaAlgorithm | None = None) -> bytes:
    """``[80 id-TA OID] 83 CHR``: MSE:Set AT for TA (TR-03110-3 B.11).

    TA v1 (after CA v1) needs only the reference of the terminal's public key
    (83); the protocol OID (80) is optional there and is sent when *algorithm*
    is given.
    """
    data = tlv.encode(0x80, algorithm.oid_bytes) if algorithm is not None else b""
    return data + tlv.encode(0x83, terminal_chr.encode("latin-1"))


def parse_ef_cvca(data: bytes) -> tuple[str, ...]:
    """The trust points named in EF.CVCA: one or two CARs (tag 42), then ``00`` padding.

    EF.CVCA (TR-03110 v1.11; FID 011C, SFI 1C, named by the
    TerminalAuthenticationInfo of DG14) holds at most two CVCA references,
    the most recent first, padded with ``00`` to 36 bytes.

    :raises ParseError: (file ``"EF.CVCA"``) for malformed TLV, another tag,
        more than two references, or a file over :data:`MAX_EF_CVCA` bytes.
    """
    name = "EF.CVCA"
    if len(data) > MAX_EF_CVCA:
        raise ParseError(f"{len(data)} bytes (at most {MAX_EF_CVCA})", file=name, offset=0)
    references: list[str] = []
    for item in tlv.iter_decode(data, file=name, padding=True):
        if item.tag != 0x42:
            raise ParseError(
                f"tag {item.tag:02X} where 42 (CAR) was expected", file=name, offset=item.offset
            )
        value = item.value
        if not 1 <= len(value) <= 16 or any(b < 0x20 or b == 0x7F for b in value):
            raise ParseError("a CAR is 1-16 printable characters", file=name, offset=item.offset)
        references.append(value.decode("latin-1"))
        if len(references) > 2:
            raise ParseError("more than two CARs", file=name, offset=item.offset)
    return tuple(references)


def _as_certificates(chain: Sequence[bytes | CvCertificate]) -> list[CvCertificate]:
    if len(chain) > MAX_CHAIN:
        raise _fail(f"{len(chain)} certificates (at most {MAX_CHAIN})", STEP_CHAIN)
    out = []
    for i, item in enumerate(chain):
        if isinstance(item, CvCertificate):
            out.append(item)
        else:
            try:
                out.append(parse_certificate(item, file=f"chain[{i}]"))
            except ParseError as exc:
                raise _fail(f"unreadable certificate: {exc}", STEP_CHAIN) from exc
    return out


def select_chain(
    chain: Sequence[CvCertificate], trust_points: Sequence[str] | None = None
) -> list[CvCertificate]:
    """The certificates to send, issuer first, checked for consistency.

    *chain* is issuer first and ends with the terminal (IS) certificate; each
    certificate's CAR must be the CHR of the one before. Self-signed CVCA
    certificates are never sent (the chip holds its trust points). With
    *trust_points* (the CARs of EF.CVCA, or of PACE's GENERAL AUTHENTICATE
    tags 87/88), the chain is cut to start at the last certificate whose CAR
    names one of them (the shortest chain the chip can verify).

    :raises TerminalAuthenticationError: (step ``"select certificate chain"``)
        for an empty chain, a last certificate that is not a terminal's, a
        broken CAR/CHR link, a role that may not issue the next certificate,
        or a chain not rooted at any of *trust_points*.
    """
    if not chain:
        raise _fail("no certificates", STEP_CHAIN)
    if chain[-1].role is not Role.TERMINAL:
        raise _fail(
            f"the last certificate ({chain[-1].chr}) is a {chain[-1].role.name}, not a terminal's",
            STEP_CHAIN,
        )
    for previous, cert in itertools.pairwise(chain):
        if cert.car != previous.chr:
            raise _fail(f"{cert.chr} names {cert.car} as issuer, not {previous.chr}", STEP_CHAIN)
        why = check_issuance(previous.role, cert)
        if why is not None:
            raise _fail(f"{cert.chr}: {why}", STEP_CHAIN)
    start = 0
    if trust_points is not None:
        starts = [i for i, cert in enumerate(chain) if cert.car in trust_points]
        if not starts:
            names = ", ".join(trust_points) or "none"
            raise _fail(f"the chain is not rooted at the chip's trust point ({names})", STEP_CHAIN)
        start = starts[-1]  # the shortest chain the chip can verify
    selected = [cert for cert in chain[start:] if not cert.self_signed]
    if not selected:
        raise _fail("nothing left to send", STEP_CHAIN)
    return selected


# ---------------------------------------------------------------------------
# credentials: what `epass read --ta-cert-chain FILES --ta-key FILE` loads


def _read_bounded(path: Path, limit: int, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise LocalProtocolError(f"cannot read the {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise LocalProtocolError(f"the {what} {path} is larger than {limit} bytes")
    return data


def _split_certificates(data: bytes, name: str) -> list[bytes]:
    """One file may hold several certificates back to back (each a 7F21 object)."""
    try:
        items = tlv.decode_all(data, file=name)
    except ParseError as exc:
        raise LocalProtocolError(f"{name}: not CV certificates: {exc}") from exc
    if not items:
        raise LocalProtocolError(f"{name}: empty")
    return [item.encoded for item in items]


def _order_chain(certs: list[CvCertificate]) -> list[CvCertificate]:
    """Issuer first, ending with the one terminal certificate; every certificate used."""
    terminals = [c for c in certs if c.role is Role.TERMINAL]
    if len(terminals) != 1:
        raise LocalProtocolError(
            f"the chain must hold exactly one terminal certificate, found {len(terminals)}"
        )
    by_chr: dict[str, CvCertificate] = {}
    for cert in certs:
        if cert.chr in by_chr:
            raise LocalProtocolError(f"two certificates with CHR {cert.chr}")
        by_chr[cert.chr] = cert
    ordered = [terminals[0]]
    while not ordered[-1].self_signed and ordered[-1].car in by_chr:
        issuer = by_chr[ordered[-1].car]
        if issuer in ordered:
            raise LocalProtocolError(f"the chain loops at {issuer.chr}")
        ordered.append(issuer)
    unused = [c.file or c.chr for c in certs if c not in ordered]
    if unused:
        raise LocalProtocolError(f"not part of the terminal's chain: {', '.join(unused)}")
    ordered.reverse()
    return ordered


def _key_matches(key: PrivateKey, cert: CvCertificate) -> bool:
    public = cert.public_key
    if key.kind == "rsa":
        return public.modulus is not None and key.rsa_public_numbers == (
            public.modulus,
            public.exponent,
        )
    point = public.point
    if point is None:
        return False
    own = key.ec_public_point  # 04 ‖ X ‖ Y
    if point[:1] == b"\x04":
        return point == own
    size = (len(own) - 1) // 2
    return (
        len(point) == 1 + size
        and point[1:] == own[1 : 1 + size]
        and point[0] == 0x02 | (own[-1] & 1)
    )


@dataclass(frozen=True)
class TerminalCredentials:
    """An inspection system's certificate chain and private key, checked for use with TA.

    :ivar chain: issuer first (CVCA certificates, DV, then the terminal's); a
        self-signed CVCA root may be included and is not sent.
    :ivar private_key: the terminal's key; it matches the terminal
        certificate's public key (checked on load).
    """

    chain: tuple[CvCertificate, ...]
    private_key: PrivateKey = field(repr=False)

    @property
    def terminal(self) -> CvCertificate:
        """The terminal (IS) certificate: the last of :attr:`chain`."""
        return self.chain[-1]

    @property
    def chat(self) -> Chat:
        """The terminal certificate's CHAT (what it asks for; the chip ANDs the chain's)."""
        return self.terminal.chat

    @classmethod
    def from_bytes(
        cls,
        chain: Sequence[bytes],
        key: bytes,
        *,
        password: bytes | None = None,
        names: Sequence[str] | None = None,
    ) -> TerminalCredentials:
        """Build from certificate bytes (any order; one or more certificates each) and a key.

        :param chain: CV certificates, each item one file's bytes.
        :param key: the terminal's private key, PEM or DER (PKCS#8 or traditional).
        :param names: file names for messages, one per *chain* item.
        :raises ParseError: for a malformed certificate (naming file and offset).
        :raises LocalProtocolError: for an unreadable key, a key that does not
            match the terminal certificate or does not fit its algorithm,
            certificates that do not form one chain ending at exactly one
            terminal certificate, or more than :data:`MAX_CHAIN` certificates.
        """
        labels = list(names) if names is not None else [f"chain[{i}]" for i in range(len(chain))]
        if len(labels) != len(chain):
            raise LocalProtocolError("one name per chain item")
        certs: list[CvCertificate] = []
        for data, label in zip(chain, labels, strict=True):
            parts = _split_certificates(bytes(data), label)
            for j, part in enumerate(parts):
                name = label if len(parts) == 1 else f"{label}[{j}]"
                certs.append(parse_certificate(part, file=name))
                if len(certs) > MAX_CHAIN:
                    raise LocalProtocolError(f"more than {MAX_CHAIN} certificates")
        ordered = _order_chain(certs)
        try:
            select_chain(ordered)
        except TerminalAuthenticationError as exc:
            raise LocalProtocolError(f"not a usable chain: {exc}") from None
        private_key = load_private_key(key, password=password)
        terminal = ordered[-1]
        algorithm = terminal.public_key.algorithm
        if algorithm is None:
            raise UnsupportedAlgorithmError(
                f"the terminal certificate's key algorithm {terminal.public_key.oid} is unknown"
            )
        if algorithm.is_ec != (private_key.kind == "ec") or not _key_matches(private_key, terminal):
            raise LocalProtocolError(
                f"the private key does not match the terminal certificate {terminal.chr}"
            )
        return cls(tuple(ordered), private_key)

    @classmethod
    def load(
        cls,
        chain_files: Sequence[str | Path],
        key_file: str | Path,
        *,
        password: bytes | None = None,
    ) -> TerminalCredentials:
        """Load from files, with bounded reads (nothing larger is read whole).

        Each certificate file may hold one or more certificates, at most
        :data:`MAX_CHAIN` × :data:`~epass.cvc.MAX_CERTIFICATE_SIZE` bytes; the
        key file at most 16 KiB.

        :raises LocalProtocolError: for a missing or oversized file, or as :meth:`from_bytes`.
        :raises ParseError: as :meth:`from_bytes`.
        """
        from epass._crypto.signing import MAX_KEY_FILE

        paths = [Path(p) for p in chain_files]
        if not paths:
            raise LocalProtocolError("no certificate files")
        if len(paths) > MAX_CHAIN:
            raise LocalProtocolError(f"more than {MAX_CHAIN} certificate files")
        blobs = [
            _read_bounded(p, MAX_CHAIN * MAX_CERTIFICATE_SIZE, "certificate file") for p in paths
        ]
        key = _read_bounded(Path(key_file), MAX_KEY_FILE, "key file")
        return cls.from_bytes(blobs, key, password=password, names=[p.name for p in paths])


# ---------------------------------------------------------------------------
# the terminal's run


@dataclass(frozen=True)
class TaResult:
    """The outcome of :func:`perform_ta` (it succeeded: the chip accepted the signature).

    :ivar terminal: the CHR of the terminal certificate.
    :ivar trust_point: the CAR the first sent certificate named (the chip's CVCA).
    :ivar certificates: the CHRs sent with PSO:Verify Certificate, in order.
    :ivar algorithm: the id-TA algorithm name of the terminal key.
    :ivar chat: the terminal certificate's CHAT (the chip grants at most this,
        ANDed with the DV's and the CVCA's).
    :ivar challenge: r_PICC; :ivar signature: s_PCD (evidence for a report).
    :ivar apdus: commands sent.
    """

    terminal: str
    trust_point: str
    certificates: tuple[str, ...]
    algorithm: str
    chat: Chat
    challenge: bytes
    signature: bytes = field(repr=False)
    apdus: int = 0


def _send(channel: Channel, command: CommandApdu, step: str) -> bytes:
    response = channel.transmit(command)
    if response.sw != StatusWord.SUCCESS:
        text = str(StatusWord.from_int(response.sw))
        reasons: dict[int, str] = {
            StatusWord.VERIFICATION_FAILED: "the chip refused the signature",
            StatusWord.REFERENCED_DATA_NOT_FOUND: "the chip does not know the key reference",
            StatusWord.SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied",
        }
        reason = reasons.get(response.sw, "refused")
        raise _fail(f"{reason} ({text})", step, response.sw)
    return response.data


def perform_ta(
    channel: Channel,
    chain: Sequence[bytes | CvCertificate],
    private_key: PrivateKey,
    *,
    id_picc: bytes,
    ephemeral_ca_public_key: bytes,
    key_agreement: str = "ECDH",
    trust_points: Sequence[str] | None = None,
    send_protocol_oid: bool = True,
) -> TaResult:
    """Run Terminal Authentication v1 over *channel* (terminal side).

    :param channel: the channel in the secure messaging of Chip Authentication.
    :param chain: CV certificates issuer first, ending with the terminal (IS)
        certificate (bytes or parsed); a self-signed CVCA root is skipped.
        :attr:`TerminalCredentials.chain` fits.
    :param private_key: the terminal's private key
        (:attr:`TerminalCredentials.private_key`, or
        :func:`epass._crypto.signing.load_private_key`). It is not compared
        with the certificate here: the chip judges the signature.
    :param id_picc: ID_PICC (:func:`id_picc_from_document_number` after BAC,
        :func:`id_picc_from_pace` after PACE).
    :param ephemeral_ca_public_key: PK_PCD, the ephemeral public key the
        terminal sent in Chip Authentication, encoded as sent.
    :param key_agreement: ``"ECDH"`` or ``"DH"``: how to compress PK_PCD.
    :param trust_points: the chip's CVCA references (EF.CVCA via
        :func:`parse_ef_cvca`, or PACE's 87/88); the chain is cut to start
        there, and refused before any command when it cannot.
    :param send_protocol_oid: put ``80`` (the terminal key's id-TA OID) in
        MSE:Set AT; TA v1 chips need only ``83``.
    :returns: :class:`TaResult`.
    :raises TerminalAuthenticationError: naming the step (:data:`TA_STEPS`)
        with the chip's status word, for a refused command, a challenge that
        is not 8 bytes, or a chain that cannot be used.
    :raises LocalProtocolError: for a key that does not fit the terminal
        certificate's algorithm, or a malformed PK_PCD.
    :raises TransportError: if the link fails.
    """
    certificates = select_chain(_as_certificates(chain), trust_points)
    terminal = certificates[-1]
    algorithm = terminal.public_key.algorithm
    if algorithm is None:
        raise _fail(
            f"unknown key algorithm {terminal.public_key.oid} in {terminal.chr}", STEP_CHAIN
        )
    if algorithm.is_ec != (private_key.kind == "ec"):
        raise LocalProtocolError(
            f"the terminal key is {private_key.kind.upper()}, its certificate says {algorithm.name}"
        )
    comp_pk_pcd = compress_public_key(ephemeral_ca_public_key, key_agreement)
    apdus = 0

    for cert in certificates:
        _send(
            channel, CommandApdu(0x00, Ins.MSE, *MSE_SET_DST, mse_set_dst_data(cert.car)), STEP_DST
        )
        data = cert.body + tlv.encode(0x5F37, cert.signature)
        _send(channel, CommandApdu(0x00, INS_PSO, 0x00, 0xBE, data), STEP_VERIFY)
        apdus += 2

    at = mse_set_at_data(terminal.chr, algorithm if send_protocol_oid else None)
    _send(channel, CommandApdu(0x00, Ins.MSE, *MSE_SET_AT, at), STEP_AT)
    challenge = _send(
        channel,
        CommandApdu(0x00, Ins.GET_CHALLENGE, 0x00, 0x00, le=CHALLENGE_LENGTH),
        STEP_CHALLENGE,
    )
    apdus += 2
    if len(challenge) != CHALLENGE_LENGTH:
        raise _fail(
            f"challenge of {len(challenge)} bytes, {CHALLENGE_LENGTH} expected", STEP_CHALLENGE
        )

    signature = sign_challenge(
        private_key, algorithm, signature_input(id_picc, challenge, comp_pk_pcd)
    )
    _send(
        channel, CommandApdu(0x00, Ins.EXTERNAL_AUTHENTICATE, 0x00, 0x00, signature), STEP_EXTERNAL
    )
    apdus += 1
    return TaResult(
        terminal=terminal.chr,
        trust_point=certificates[0].car,
        certificates=tuple(c.chr for c in certificates),
        algorithm=algorithm.name,
        chat=terminal.chat,
        challenge=challenge,
        signature=signature,
        apdus=apdus,
    )
