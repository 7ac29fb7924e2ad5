"""The chip's side of Active Authentication and Chip Authentication version 1.

Pure computations and one stateful responder, written so the virtual chip can
dispatch to them (ICAO Doc 9303-11 §6.1, §6.2; ISO/IEC 9796-2 scheme 1; BSI
TR-03111 §5.2.1). The terminal side is :mod:`epass.access.aa` and
:mod:`epass.access.ca`; both sides share the protocol's pure functions
(command data, key agreement, KDF, secure messaging), so no algorithm exists twice.

* :func:`aa_sign_rsa` - ISO/IEC 9796-2 scheme 1 signature F^d mod n with
  F = 6A ‖ M1 ‖ H(M1 ‖ RND.IFD) ‖ BC (SHA-1) or ‖ xx CC (other hashes).
* :func:`aa_sign_ecdsa` - ECDSA over H(RND.IFD), plain r ‖ s or DER.
* :class:`AaChipKey` - an AA private key with its DG15 and DG14 entries.
* :class:`CaChipKey` - a chip authentication key pair (ECDH or DH) with its
  ChipAuthenticationPublicKeyInfo and ChipAuthenticationInfo.
* :class:`ChipAuthResponder` - answers INTERNAL AUTHENTICATE, MSE:Set KAT,
  MSE:Set AT (id-CA) and GENERAL AUTHENTICATE.

Wiring into the virtual chip (one responder per chip, :meth:`ChipAuthResponder.reset`
on power-on and on SELECT of the application)::

    if responder.handles(plain):
        answer = responder.process(plain, secure=self.sm is not None)
        response = answer.data + answer.sw.to_bytes(2, "big")
        protected = self.sm.wrap(response)          # under the OLD keys
        if answer.session is not None:
            self.sm = answer.session                 # CA: SSC 0, new keys from now on
        return protected

Test keys are made at runtime (:meth:`AaChipKey.generate_rsa`,
:meth:`AaChipKey.generate_ec`, :meth:`CaChipKey.generate`); nothing here is a
real issuer's key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import core, keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from drivers.virtual.pki import rsa_key_from_rng
from epass._crypto.signatures import CRYPTOGRAPHY_CURVES
from epass.access import aa as aa_protocol
from epass.access import ca as ca_protocol
from epass.access import pace
from epass.access.pace_groups import DhPaceGroup, EcPaceGroup, PaceGroup
from epass.apdu import CommandApdu, Ins
from epass.errors import (
    AccessControlError,
    InvalidPointError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds import dg15 as dg15_module
from epass.lds.security_infos import (
    ID_CA,
    DomainParameterAlgorithm,
    SubjectPublicKeyInfo,
    encode_aa_info,
    encode_ca_info,
    encode_ca_public_key_info,
)
from epass.sm import Role, SecureMessaging
from epass.status import StatusWord

__all__ = [
    "AaChipKey",
    "CaChipKey",
    "ChipAuthAnswer",
    "ChipAuthResponder",
    "aa_sign_ecdsa",
    "aa_sign_rsa",
    "rsa_private_operation",
    "rsa_test_key",
]

Rng = Callable[[int], bytes]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_HASH_ID = {name: hid for hid, name in aa_protocol.HASH_IDS.items()}
#: ecdsa-plain-SHA* (BSI TR-03111 §5.2.1), what ActiveAuthenticationInfo names (9303-11 §9.2.6).
ECDSA_PLAIN_OIDS = {
    "sha1": "0.4.0.127.0.7.1.1.4.1.1",
    "sha224": "0.4.0.127.0.7.1.1.4.1.2",
    "sha256": "0.4.0.127.0.7.1.1.4.1.3",
    "sha384": "0.4.0.127.0.7.1.1.4.1.4",
    "sha512": "0.4.0.127.0.7.1.1.4.1.5",
}


# ---------------------------------------------------------------------------
# test RSA keys of any size (cryptography makes none below 1024 bits)


def rsa_test_key(bits: int, public_exponent: int = 65537) -> rsa.RSAPrivateKey:
    """An RSA TEST key with a modulus of exactly *bits* bits (e.g. 1022, 1792).

    ``cryptography`` generates keys of at least 1024 bits; odd sizes below that
    (1022-bit AA keys are reported in the field) come from
    :func:`drivers.virtual.pki.rsa_key_from_rng`.
    """
    if bits >= 1024:
        key = rsa.generate_private_key(public_exponent, bits)
        if key.key_size == bits:
            return key
    return rsa_key_from_rng(os.urandom, bits, public_exponent)


# ---------------------------------------------------------------------------
# Active Authentication (9303-11 §6.1)


def rsa_private_operation(key: rsa.RSAPrivateKey, value: int) -> int:
    """value^d mod n by the CRT (cryptography offers no raw private operation)."""
    nums = key.private_numbers()
    m1 = pow(value, nums.dmp1, nums.p)
    m2 = pow(value, nums.dmq1, nums.q)
    h = nums.iqmp * (m1 - m2) % nums.p
    return m2 + h * nums.q


def aa_sign_rsa(
    key: rsa.RSAPrivateKey,
    challenge: bytes,
    *,
    hash_name: str = "sha1",
    explicit_trailer: bool | None = None,
    minimal: bool = False,
    rng: Rng = os.urandom,
    header: int = aa_protocol.HEADER,
) -> bytes:
    """ISO/IEC 9796-2 scheme 1 signature over M1 ‖ RND.IFD (9303-11 §6.1.2).

    F = 6A ‖ M1 ‖ D ‖ T with M1 = ``rng(⌊k/8⌋ - 1 - Lh - len(T))``, D = H(M1 ‖
    challenge) and T = BC (implicit, SHA-1) or ``xx CC``; the signature is
    F^d mod n on the modulus' byte length.

    :param explicit_trailer: force ``33 CC`` for SHA-1 (default: BC for SHA-1,
        explicit for the others).
    :param minimal: send min(s, n - s) as ISO/IEC 9796-2 allows.
    :param header: the first byte of F (tests use a wrong one).
    """
    n = key.public_key().public_numbers().n
    length = n.bit_length() // 8
    explicit = hash_name != "sha1" if explicit_trailer is None else explicit_trailer
    trailer = bytes([_HASH_ID[hash_name], aa_protocol.TRAILER_EXPLICIT]) if explicit else b"\xbc"
    size = hashlib.new(hash_name).digest_size
    m1 = rng(length - 1 - size - len(trailer))
    digest = hashlib.new(hash_name, m1 + challenge).digest()
    f = bytes([header]) + m1 + digest + trailer
    s = rsa_private_operation(key, int.from_bytes(f, "big"))
    if minimal:
        s = min(s, n - s)
    return s.to_bytes((n.bit_length() + 7) // 8, "big")


def aa_sign_ecdsa(
    key: ec.EllipticCurvePrivateKey,
    challenge: bytes,
    *,
    hash_name: str = "sha256",
    der: bool = False,
) -> bytes:
    """ECDSA over H(RND.IFD): plain r ‖ s (BSI TR-03111 §5.2.1) or DER (9303-11 §6.1.2)."""
    signature = key.sign(challenge, ec.ECDSA(_HASHES[hash_name]()))
    if der:
        return signature
    r, s = decode_dss_signature(signature)
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


@dataclass
class AaChipKey:
    """An Active Authentication private key and how the chip signs with it.

    :ivar private_key: a cryptography RSA or EC private key (TEST key).
    :ivar hash_name: the hash the chip uses.
    :ivar der: ECDSA only: answer DER instead of plain r ‖ s.
    :ivar explicit_trailer, minimal: RSA only, see :func:`aa_sign_rsa`.
    :ivar announce_hash: ECDSA: the hash named in ActiveAuthenticationInfo
        (default *hash_name*; ``None`` in :meth:`aa_info` omits the info).
    """

    private_key: Any = field(repr=False)
    hash_name: str = "sha1"
    der: bool = False
    explicit_trailer: bool | None = None
    minimal: bool = False

    @classmethod
    def generate_rsa(cls, bits: int = 1024, *, hash_name: str = "sha1", **kw: Any) -> AaChipKey:
        """A fresh RSA TEST key of exactly *bits* bits."""
        return cls(rsa_test_key(bits), hash_name, **kw)

    @classmethod
    def generate_ec(
        cls, curve: str = "secp256r1", *, hash_name: str = "sha256", der: bool = False
    ) -> AaChipKey:
        """A fresh EC TEST key on a named curve."""
        return cls(ec.generate_private_key(CRYPTOGRAPHY_CURVES[curve]()), hash_name, der=der)

    @property
    def is_rsa(self) -> bool:
        return isinstance(self.private_key, rsa.RSAPrivateKey)

    def subject_public_key_info(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the public key."""
        return bytes(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def dg15(self) -> bytes:
        """DG15 holding the public key (9303-10 §4.7.15)."""
        return dg15_module.encode(self.subject_public_key_info())

    def aa_info(self, hash_name: str | None = None) -> bytes | None:
        """DER ActiveAuthenticationInfo for DG14 (ECDSA keys; ``None`` for RSA)."""
        if self.is_rsa:
            return None
        return encode_aa_info(ECDSA_PLAIN_OIDS[hash_name or self.hash_name])

    def sign(self, challenge: bytes, rng: Rng = os.urandom) -> bytes:
        """The INTERNAL AUTHENTICATE response data for *challenge*."""
        if self.is_rsa:
            return aa_sign_rsa(
                self.private_key,
                challenge,
                hash_name=self.hash_name,
                explicit_trailer=self.explicit_trailer,
                minimal=self.minimal,
                rng=rng,
            )
        return aa_sign_ecdsa(self.private_key, challenge, hash_name=self.hash_name, der=self.der)


# ---------------------------------------------------------------------------
# Chip Authentication version 1 (9303-11 §6.2)


@dataclass
class CaChipKey:
    """A chip authentication key pair in *group* (ECDH or DH).

    :ivar group: the :class:`~epass.access.pace_groups.PaceGroup` (named curve or DH group).
    :ivar private_key: SK_IC; :ivar key_id: the keyId in DG14, if any.
    """

    group: PaceGroup[Any] = field(repr=False)
    private_key: int = field(repr=False)
    key_id: int | None = None

    @classmethod
    def generate(
        cls, group: PaceGroup[Any], *, key_id: int | None = None, rng: Rng = os.urandom
    ) -> CaChipKey:
        """A fresh TEST key pair."""
        return cls(group, group.generate_private_key(rng), key_id)

    @property
    def public_key(self) -> bytes:
        """PK_IC encoded as on the wire (EC point, or the DH value on len(p) bytes)."""
        return self.group.encode(self.group.multiply(self.private_key))

    def subject_public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo: id-ecPublicKey with the named curve, or X9.42
        dhpublicnumber {p, g, q} with the value as a DER INTEGER (TR-03110-3 A.2.1)."""
        group = self.group
        if isinstance(group, EcPaceGroup):
            oid = group.curve.oid
            if oid is None:
                raise UnsupportedAlgorithmError("only named curves are encoded here")
            algorithm = DomainParameterAlgorithm(
                {"algorithm": "ec", "parameters": keys.ECDomainParameters(name="named", value=oid)}
            )
            public = self.public_key
        elif isinstance(group, DhPaceGroup):
            dh = group.group
            algorithm = DomainParameterAlgorithm(
                {
                    "algorithm": "dh",
                    "parameters": keys.DomainParameters({"p": dh.p, "g": dh.g, "q": dh.q}),
                }
            )
            public = core.Integer(group.multiply(self.private_key)).dump()
        else:  # pragma: no cover - the two kinds above are all there is
            raise UnsupportedAlgorithmError(f"no encoding for {group!r}")
        return bytes(SubjectPublicKeyInfo({"algorithm": algorithm, "public_key": public}).dump())

    def public_key_info(self) -> bytes:
        """DER ChipAuthenticationPublicKeyInfo for DG14 (9303-11 §9.2.4)."""
        return encode_ca_public_key_info(self.subject_public_key_info(), key_id=self.key_id)

    def ca_info(self, cipher: int = 2) -> bytes:
        """DER ChipAuthenticationInfo version 1 (9303-11 §9.2.3); *cipher* 1 3DES .. 4 AES-256."""
        family = "1" if self.group.kind == "DH" else "2"
        return encode_ca_info(f"{ID_CA}.{family}.{cipher}", version=1, key_id=self.key_id)

    def session(
        self, algorithm: ca_protocol.CaAlgorithm, ephemeral_public_key: bytes
    ) -> SecureMessaging:
        """The chip's new session for a terminal's PK_IFD (9303-11 §6.2; SSC 0).

        :raises InvalidPointError: when PK_IFD is not a valid element of the group.
        """
        peer = self.group.decode(ephemeral_public_key)
        shared = ca_protocol.key_agreement(self.group, self.private_key, peer)
        ks_enc, ks_mac = ca_protocol.session_keys(shared, algorithm)
        return ca_protocol.start_session(ks_enc, ks_mac, algorithm, role=Role.CHIP)


# ---------------------------------------------------------------------------
# the responder


@dataclass(frozen=True)
class ChipAuthAnswer:
    """One answer: response data and status word, and the session to switch to
    *after* this answer has been protected under the old keys (CA only)."""

    data: bytes
    sw: int
    session: SecureMessaging | None = field(default=None, repr=False)


def _answer(sw: int, data: bytes = b"", session: SecureMessaging | None = None) -> ChipAuthAnswer:
    return ChipAuthAnswer(data, int(sw), session)


class ChipAuthResponder:
    """The chip's AA and CA v1 command handling (stateful: the MSE:Set AT for CA).

    :param aa_key: the AA key (``None``: INTERNAL AUTHENTICATE is not supported).
    :param ca_keys: the CA keys (their keyIds as in DG14).
    :param rng: randomness for M1 of RSA signatures.
    :param require_secure: refuse AA and CA outside secure messaging (``6982``),
        as chips do after BAC/PACE only.
    """

    def __init__(
        self,
        *,
        aa_key: AaChipKey | None = None,
        ca_keys: Sequence[CaChipKey] = (),
        rng: Rng = os.urandom,
        require_secure: bool = True,
    ) -> None:
        self.aa_key = aa_key
        self.ca_keys = list(ca_keys)
        self.rng = rng
        self.require_secure = require_secure
        self.pending: tuple[ca_protocol.CaAlgorithm, CaChipKey] | None = None
        self.challenges: list[bytes] = []

    def reset(self) -> None:
        """Forget a pending MSE:Set AT (power-on, SELECT of the application)."""
        self.pending = None

    @staticmethod
    def _is_ca_set_at(command: CommandApdu) -> bool:
        try:
            oid, _ = ca_protocol.parse_mse_set_at(command.data)
        except ParseError:
            return False
        return oid.startswith(ID_CA + ".")

    def handles(self, command: CommandApdu) -> bool:
        """Whether *command* is AA or CA v1 (the chip routes other MSE/GA to PACE)."""
        if command.ins == Ins.INTERNAL_AUTHENTICATE:
            return self.aa_key is not None
        if command.ins == Ins.MSE and (command.p1, command.p2) == (0x41, 0xA6):
            return bool(self.ca_keys)
        if command.ins == Ins.MSE and (command.p1, command.p2) == (0x41, 0xA4):
            return bool(self.ca_keys) and self._is_ca_set_at(command)
        if command.ins == Ins.GENERAL_AUTHENTICATE:
            return self.pending is not None
        return False

    def process(self, command: CommandApdu, *, secure: bool) -> ChipAuthAnswer:
        """Answer one AA/CA command (call only when :meth:`handles` said yes)."""
        if self.require_secure and not secure:
            return _answer(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        if command.ins == Ins.INTERNAL_AUTHENTICATE:
            return self._internal_authenticate(command)
        if command.ins == Ins.MSE and command.p2 == 0xA6:
            return self._set_kat(command)
        if command.ins == Ins.MSE:
            return self._set_at(command)
        if command.ins == Ins.GENERAL_AUTHENTICATE:
            return self._general_authenticate(command)
        return _answer(StatusWord.INS_NOT_SUPPORTED)

    def _internal_authenticate(self, command: CommandApdu) -> ChipAuthAnswer:
        if self.aa_key is None:
            return _answer(StatusWord.INS_NOT_SUPPORTED)
        if (command.p1, command.p2) != (0, 0):
            return _answer(StatusWord.INCORRECT_P1P2)
        if len(command.data) != aa_protocol.CHALLENGE_LENGTH:
            return _answer(StatusWord.WRONG_LENGTH)
        self.challenges.append(command.data)
        return _answer(StatusWord.SUCCESS, self.aa_key.sign(command.data, self.rng))

    def _key(self, key_id: int | None, kind: str) -> CaChipKey | None:
        if key_id is not None:
            return next((k for k in self.ca_keys if k.key_id == key_id), None)
        matching = [k for k in self.ca_keys if k.group.kind == kind]
        return matching[0] if len(matching) == 1 else None

    def _set_kat(self, command: CommandApdu) -> ChipAuthAnswer:
        self.pending = None
        try:
            public, key_id = ca_protocol.parse_mse_set_kat(command.data)
        except ParseError:
            return _answer(StatusWord.WRONG_DATA)
        candidates = [self._key(key_id, kind) for kind in ("ECDH", "DH")]
        key = next((k for k in candidates if k is not None), None)
        if key is None:
            return _answer(StatusWord.REFERENCED_DATA_NOT_FOUND)
        algorithm = ca_protocol.CaAlgorithm.default_3des(key.group.kind)
        try:
            session = key.session(algorithm, public)
        except InvalidPointError:
            return _answer(StatusWord.WRONG_DATA)
        return _answer(StatusWord.SUCCESS, session=session)

    def _set_at(self, command: CommandApdu) -> ChipAuthAnswer:
        self.pending = None
        try:
            oid, key_id = ca_protocol.parse_mse_set_at(command.data)
            algorithm = ca_protocol.CaAlgorithm.from_oid(oid)
        except (ParseError, UnsupportedAlgorithmError):
            return _answer(StatusWord.WRONG_DATA)
        key = self._key(key_id, algorithm.key_agreement)
        if key is None or key.group.kind != algorithm.key_agreement:
            return _answer(StatusWord.REFERENCED_DATA_NOT_FOUND)
        self.pending = (algorithm, key)
        return _answer(StatusWord.SUCCESS)

    def _general_authenticate(self, command: CommandApdu) -> ChipAuthAnswer:
        pending, self.pending = self.pending, None
        if pending is None:
            return _answer(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED)
        algorithm, key = pending
        try:
            values = pace.parse_dynamic_authentication_data(
                command.data, step="CA", required=(ca_protocol.TAG_EPHEMERAL_GA,)
            )
            session = key.session(algorithm, values[ca_protocol.TAG_EPHEMERAL_GA])
        except (AccessControlError, InvalidPointError):
            return _answer(StatusWord.WRONG_DATA)
        return _answer(StatusWord.SUCCESS, b"\x7c\x00", session)
