"""PACE: Password Authenticated Connection Establishment.

ICAO Doc 9303-11 §4.4; BSI TR-03110-2 §3.2, TR-03110-3 A.3, B.1.

Pure, side-independent steps (the virtual chip uses the same functions; no
algorithm exists twice), then :func:`perform_pace`, the only function here
that does I/O (through a :class:`~epass.channel.Channel`).

Protocol (terminal "IFD", chip "IC")::

    MSE:Set AT   80 OID, 83 password reference, [84 parameter id]       §4.4.4.1
    K_pi = KDF(K, 3), K = f(pi)                                        §4.4.1, §9.7.3
    GA 1  <- 80 z;        s = D(K_pi, z)                               §4.4.3.1
    GA 2  GM:  81 PK_map,IFD -> 82 PK_map,IC;  G' = s·G + SK_map·PK_map  §4.4.3.3.1
          IM:  81 t          -> 82 (empty);    G' = f(R_p(s, t))        §4.4.3.3.2
          CAM: as GM                                                    §4.4.3.3.3
    GA 3  83 PK_IFD -> 84 PK_IC (both on G'), PK_IC != PK_IFD;  K = KA(...)  §4.4.3.2
          KS_enc = KDF(K, 1), KS_mac = KDF(K, 2)                        §9.7.1
    GA 4  85 T_IFD -> 86 T_IC [8A A_IC];  T = MAC(KS_mac, 7F49{06 OID, 86/84 PK})  §4.4.3.4
    CAM:  CA_IC = D(KS_enc, A_IC), check PK_map,IC = CA_IC · PK_IC      §4.4.3.5

Public signatures (all pure; *group* is a
:class:`~epass.access.pace_groups.PaceGroup`, elements are its points or ints):

* ``Password.mrz(mrz_information: str) -> Password`` (reference 01, K = SHA-1(MRZ information))
* ``Password.can(can: str) -> Password`` (reference 02, K = the CAN's ASCII bytes)
* ``Password.from_access_key(key: MrzKey | CanKey) -> Password``
* ``PaceAlgorithm.from_oid(oid: str) -> PaceAlgorithm`` (mapping, key agreement, cipher, key length)
* ``pace_group(pace_info, domain_parameter_infos=()) -> PaceGroup`` (standardized or explicit)
* ``password_key(password: Password, algorithm: PaceAlgorithm) -> bytes``          K_pi
* ``encrypt_nonce(k_pi: bytes, nonce: bytes, algorithm) -> bytes``                z (chip)
* ``decrypt_nonce(k_pi: bytes, encrypted: bytes, algorithm) -> bytes``            s (terminal)
* ``nonce_length(algorithm) -> int``                                              bytes of s
* ``pseudo_random(s: bytes, t: bytes, algorithm, prime: int) -> int``            R_p(s, t)
* ``map_generic(group, nonce: bytes, private_key: int, peer_public: E) -> E``     G' (GM, CAM)
* ``map_integrated(group, nonce: bytes, t: bytes, algorithm) -> E``               G' (IM)
* ``key_agreement(group, private_key: int, peer_public: E) -> bytes``            K
* ``session_keys(shared_secret: bytes, algorithm) -> tuple[bytes, bytes]``       KS_enc, KS_mac
* ``authentication_token_input(algorithm, group, public_key: bytes) -> bytes``   7F49 object
* ``authentication_token(ks_mac, algorithm, group, public_key: bytes) -> bytes`` 8-byte token
* ``check_authentication_token(ks_mac, algorithm, group, public_key, token, *, step) -> None``
* ``chip_authentication_data(ca_private_key: int, map_private_key: int, group) -> int`` CA_IC
* ``encrypt_chip_authentication_data(ks_enc, ca_ic: int, group) -> bytes``       A_IC (chip)
* ``decrypt_chip_authentication_data(ks_enc, encrypted: bytes, group) -> int``   CA_IC (terminal)
* ``verify_chip_authentication_mapping(group, ca_ic, ca_public_key: E, map_public_key: E)``
* ``start_session(ks_enc, ks_mac, algorithm, *, role=Role.TERMINAL) -> SecureMessaging`` (SSC 0)
* ``mse_set_at_data(algorithm, password, parameter_id) -> bytes`` / ``parse_mse_set_at(data)``
* ``dynamic_authentication_data(tag: int, value: bytes) -> bytes`` /
  ``parse_dynamic_authentication_data(data, *, step, required, optional=()) -> dict[int, bytes]``

and ``perform_pace(channel, password, pace_info, *, rng=os.urandom,
domain_parameter_infos=(), ca_public_key=None) -> PaceResult``.

Errors: a refused or inconsistent step raises
:class:`~epass.errors.AccessControlError` (``protocol="PACE"``) naming the
step; a wrong password (``6300``/``63Cx``) raises its subclass
:class:`WrongPasswordError` with :attr:`WrongPasswordError.retries_left`.
Points are decoded and checked before any use.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from asn1crypto import core

from epass import tlv
from epass._crypto.symmetric import (
    CipherKind,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_cmac,
    aes_ecb_encrypt_block,
    constant_time_equal,
    des3_cbc_decrypt,
    des3_cbc_encrypt,
    kdf,
    pad,
    retail_mac,
    unpad,
)
from epass.access.keys import AccessKey, CanKey, MrzKey
from epass.access.pace_groups import PaceGroup, group_from_algorithm, standardized_group
from epass.apdu import CommandApdu, Ins, ResponseApdu
from epass.channel import Channel
from epass.errors import (
    AccessControlError,
    InvalidPointError,
    LocalProtocolError,
    ParseError,
    RemoteProtocolError,
    UnsupportedAlgorithmError,
)
from epass.sm import Role, SecureMessaging
from epass.status import StatusWord

__all__ = [
    "PACE_STEPS",
    "PROTOCOL_CIPHERS",
    "CamEvidence",
    "Mapping",
    "PaceAlgorithm",
    "PaceResult",
    "Password",
    "PasswordReference",
    "SecureMessagingAlgorithm",
    "WrongPasswordError",
    "authentication_token",
    "authentication_token_input",
    "check_authentication_token",
    "chip_authentication_data",
    "decrypt_chip_authentication_data",
    "decrypt_nonce",
    "dynamic_authentication_data",
    "encrypt_chip_authentication_data",
    "encrypt_nonce",
    "key_agreement",
    "map_generic",
    "map_integrated",
    "mse_set_at_data",
    "nonce_length",
    "pace_group",
    "parse_dynamic_authentication_data",
    "parse_mse_set_at",
    "password_key",
    "perform_pace",
    "pseudo_random",
    "session_keys",
    "start_session",
    "verify_chip_authentication_mapping",
]

Rng = Callable[[int], bytes]

PROTOCOL = "PACE"
#: The OID arc of PACE protocols (BSI TR-03110-3 A.1.1.1: bsi-de protocols smartcard 4).
ID_PACE = "0.4.0.127.0.7.2.2.4"

STEP_MSE = "MSE:Set AT"
STEP_NONCE = "GENERAL AUTHENTICATE 1 (encrypted nonce)"
STEP_MAP = "GENERAL AUTHENTICATE 2 (map nonce)"
STEP_KA = "GENERAL AUTHENTICATE 3 (key agreement)"
STEP_MUTUAL = "GENERAL AUTHENTICATE 4 (mutual authentication)"
STEP_TOKEN = "verify chip authentication token"  # noqa: S105 - a step name
STEP_CAM = "verify chip authentication data (CAM)"
#: Every step name an :class:`AccessControlError` from PACE can carry, in protocol order.
PACE_STEPS = (STEP_MSE, STEP_NONCE, STEP_MAP, STEP_KA, STEP_MUTUAL, STEP_TOKEN, STEP_CAM)

#: Length of an authentication token (9303-11 §4.4.3.4: 8 bytes for every cipher).
TOKEN_LENGTH = 8
#: The block E(KS_enc, -1) encrypts to give the CAM IV (§4.4.3.5.1): all bits 1.
_ALL_ONES = b"\xff" * 16
#: Tag of the dynamic authentication data object (ISO/IEC 7816-4 §11.5.5).
TAG_DYNAMIC_AUTHENTICATION_DATA = 0x7C


# ---------------------------------------------------------------------------
# errors


class WrongPasswordError(AccessControlError):
    """The chip refused the password (``6300``, or ``63Cx`` with x retries left).

    :ivar retries_left: what the chip said (``x`` of ``63Cx``), or ``None`` for ``6300``.
    """

    def __init__(self, message: str, *, step: str, sw: int, retries_left: int | None) -> None:
        self.retries_left = retries_left
        super().__init__(message, step=step, protocol=PROTOCOL, sw=sw)


def _fail(message: str, step: str, sw: int | None = None) -> AccessControlError:
    return AccessControlError(message, step=step, protocol=PROTOCOL, sw=sw)


def _retries(sw: int) -> int | None:
    """x of ``63Cx`` (ISO/IEC 7816-4 §5.6: counter), ``None`` otherwise."""
    return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None


def _is_wrong_password(sw: int) -> bool:
    return sw == StatusWord.VERIFICATION_FAILED or _retries(sw) is not None


def _password_name(reference: PasswordReference) -> str:
    """How an error names the password: ``"CAN"`` or ``"MRZ password (document number, …)"``."""
    if reference is PasswordReference.MRZ:
        return "MRZ password (document number, date of birth, date of expiry)"
    return reference.name


def _password_refusal(sw: int, step: str, reference: PasswordReference) -> AccessControlError:
    """The error for a status word that refuses the password (TR-03110-3 B.1; 7816-4 §5.6).

    ``6300``/``63Cx`` (x retries left): :class:`WrongPasswordError`; ``6983``
    (blocked): :class:`WrongPasswordError` with no retries left; ``6984``
    (suspended or deactivated) and anything else: :class:`AccessControlError`.
    """
    text = str(StatusWord.from_int(sw))
    name = _password_name(reference)
    if _is_wrong_password(sw):
        retries = _retries(sw)
        if retries is not None:
            blocked = " (the password is now blocked)" if retries == 0 else ""
            message = f"chip answered {text}: wrong {name}, {retries} retries left{blocked}"
        else:
            message = f"chip answered {text}: wrong {name}"
        return WrongPasswordError(message, step=step, sw=sw, retries_left=retries)
    if sw == StatusWord.AUTHENTICATION_METHOD_BLOCKED:
        return WrongPasswordError(
            f"chip answered {text}: the {name} is blocked", step=step, sw=sw, retries_left=0
        )
    if sw == StatusWord.REFERENCE_DATA_NOT_USABLE:
        return _fail(f"chip answered {text}: the {name} is suspended or deactivated", step, sw)
    return _fail(f"chip answered {text}", step, sw)


# ---------------------------------------------------------------------------
# passwords and protocol identifiers


class PasswordReference(IntEnum):
    """PACE password references in MSE:Set AT tag 83 (9303-11 §4.4.4.1, TR-03110-3 D.2.1.2)."""

    MRZ = 0x01
    CAN = 0x02
    PIN = 0x03
    PUK = 0x04


@dataclass(frozen=True, repr=False)
class Password:
    """A PACE password π: its reference and K = f(π) (9303-11 §4.4.1, §9.7.3).

    Build with :meth:`mrz` or :meth:`can`; ``repr`` never shows the secret.

    :ivar reference: :class:`PasswordReference` (MRZ 01, CAN 02).
    :ivar key: K = f(π): SHA-1 of the MRZ information (20 bytes) or the CAN as
        ASCII bytes; K_pi = KDF(K, 3) is derived from it (:func:`password_key`).
    """

    reference: PasswordReference
    key: bytes = field(repr=False)

    @classmethod
    def mrz(cls, mrz_information: str) -> Password:
        """The MRZ password: K = SHA-1(document number ‖ check digit ‖ date of birth ‖ check
        digit ‖ date of expiry ‖ check digit), e.g. ``"T22000129364081251010318"`` (App. G).

        :raises LocalProtocolError: if the MRZ information is malformed (see
            :class:`~epass.access.keys.MrzKey`).
        """
        text = MrzKey(mrz_information).mrz_information
        digest = hashlib.sha1(text.encode("ascii")).digest()  # noqa: S324 - 9303-11 §4.4.1
        return cls(PasswordReference.MRZ, digest)

    @classmethod
    def can(cls, can: str) -> Password:
        """The card access number password: K = the CAN's digits as ASCII (App. H: ``"123456"``).

        :raises LocalProtocolError: if the CAN is not 1-10 digits.
        """
        return cls(PasswordReference.CAN, CanKey(can).can.encode("ascii"))

    @classmethod
    def from_access_key(cls, key: AccessKey) -> Password:
        """The PACE password for an :data:`~epass.access.keys.AccessKey` (MrzKey or CanKey)."""
        if isinstance(key, MrzKey):
            return cls.mrz(key.mrz_information)
        if isinstance(key, CanKey):
            return cls.can(key.can)
        raise LocalProtocolError(f"no PACE password for {type(key).__name__}")

    def __repr__(self) -> str:
        return f"Password({self.reference.name}, <hidden>)"


class Mapping(StrEnum):
    """PACE mappings (9303-11 §4.4.3.3)."""

    GM = "GM"
    IM = "IM"
    CAM = "CAM"


_FAMILIES = {
    "1": ("DH", Mapping.GM),
    "2": ("ECDH", Mapping.GM),
    "3": ("DH", Mapping.IM),
    "4": ("ECDH", Mapping.IM),
    "6": ("ECDH", Mapping.CAM),
}
#: The last arc of a PACE or CA protocol OID: cipher and key bits (9303-11 §9.2.1, §9.2.3).
PROTOCOL_CIPHERS = {
    "1": (CipherKind.DES3, 112),
    "2": (CipherKind.AES, 128),
    "3": (CipherKind.AES, 192),
    "4": (CipherKind.AES, 256),
}


class SecureMessagingAlgorithm:
    """What PACE and Chip Authentication protocol OIDs share: the OID, the cipher and its key.

    A mixin for :class:`PaceAlgorithm` and :class:`epass.access.ca.CaAlgorithm`
    (frozen dataclasses holding ``oid``, ``cipher`` and ``key_length``).
    """

    oid: str
    cipher: CipherKind
    key_length: int

    @property
    def cipher_name(self) -> str:
        """``"3DES"`` or ``"AES-128"``/``"AES-192"``/``"AES-256"``."""
        return "3DES" if self.cipher is CipherKind.DES3 else f"AES-{self.key_length}"

    @property
    def oid_bytes(self) -> bytes:
        """The OID's DER contents (the value of tag 80 in MSE:Set AT and of 06 in 7F49)."""
        return bytes(core.ObjectIdentifier(self.oid).contents)

    def kdf(self, secret: bytes, counter: int) -> bytes:
        """KDF(secret, counter) for this cipher and key length (9303-11 §9.7.1)."""
        return kdf(
            secret, counter, self.cipher, 128 if self.cipher is CipherKind.DES3 else self.key_length
        )


@dataclass(frozen=True)
class PaceAlgorithm(SecureMessagingAlgorithm):
    """What a PACE protocol OID says (9303-11 §9.2.1, TR-03110-3 A.1.1.1).

    ``id-PACE-<KA>-<mapping>-<cipher>``: ``0.4.0.127.0.7.2.2.4.F.C`` with F 1
    DH-GM, 2 ECDH-GM, 3 DH-IM, 4 ECDH-IM, 6 ECDH-CAM and C 1 3DES-CBC-CBC,
    2/3/4 AES-CBC-CMAC-128/192/256 (CAM has no 3DES).

    :ivar key_length: 112 for two-key 3DES, else the AES key size in bits.
    """

    oid: str
    key_agreement: str
    mapping: Mapping
    cipher: CipherKind
    key_length: int

    @classmethod
    def from_oid(cls, oid: str) -> PaceAlgorithm:
        """Parse a PACE protocol OID.

        :raises UnsupportedAlgorithmError: for an OID that is not one of the above.
        """
        parts = oid[len(ID_PACE) + 1 :].split(".") if oid.startswith(ID_PACE + ".") else []
        if len(parts) != 2 or parts[0] not in _FAMILIES or parts[1] not in PROTOCOL_CIPHERS:
            raise UnsupportedAlgorithmError(f"{oid} is not a PACE protocol this reader knows")
        key_agreement, mapping = _FAMILIES[parts[0]]
        cipher, bits = PROTOCOL_CIPHERS[parts[1]]
        if mapping is Mapping.CAM and cipher is CipherKind.DES3:
            raise UnsupportedAlgorithmError("PACE-CAM is not defined with 3DES")
        return cls(oid, key_agreement, mapping, cipher, bits)

    @property
    def name(self) -> str:
        """E.g. ``"PACE-ECDH-GM-AES-128"``."""
        return f"PACE-{self.key_agreement}-{self.mapping.value}-{self.cipher_name}"

    @property
    def key_bytes(self) -> int:
        """Bytes of a session key: 16 for 3DES and AES-128, 24, 32."""
        return 16 if self.cipher is CipherKind.DES3 else self.key_length // 8


def pace_group(pace_info: Any, domain_parameter_infos: Iterable[Any] = ()) -> PaceGroup[Any]:
    """The domain parameters a PACEInfo names (9303-11 §9.2.1-2, §9.5.1).

    A parameterId 0-31 is a standardized id; otherwise it names the
    PACEDomainParameterInfo with the same parameterId (and the same
    key agreement family); with no parameterId the single
    PACEDomainParameterInfo for this protocol family is used.

    :param pace_info: a :class:`~epass.lds.security_infos.PaceInfo`.
    :param domain_parameter_infos: the PACEDomainParameterInfos of the same EF.CardAccess.
    :raises UnsupportedAlgorithmError: when no usable parameters are named,
        the parameters' kind (DH/ECDH) does not match the protocol, or the
        mapping is not defined in the group (IM on secp224r1: App. B needs
        p ≡ 3 mod 4). Raised before any command is sent.
    """
    algorithm = PaceAlgorithm.from_oid(pace_info.protocol)
    parameter_id = pace_info.parameter_id
    if parameter_id is not None and 0 <= parameter_id <= 31:
        group = standardized_group(parameter_id)
    else:
        family = algorithm.oid.rsplit(".", 1)[0]
        candidates = [
            d
            for d in domain_parameter_infos
            if d.protocol == family and (parameter_id is None or d.parameter_id == parameter_id)
        ]
        if len(candidates) != 1:
            which = "no" if not candidates else "more than one"
            raise UnsupportedAlgorithmError(
                f"{which} PACEDomainParameterInfo for {algorithm.name}"
                + ("" if parameter_id is None else f" with parameterId {parameter_id}")
            )
        group = group_from_algorithm(candidates[0].domain_parameter)
    if group.kind != algorithm.key_agreement:
        raise UnsupportedAlgorithmError(
            f"{algorithm.name} with {group.kind} domain parameters ({group.name})"
        )
    problem = group.integrated_mapping_problem if algorithm.mapping is Mapping.IM else None
    if problem is not None:
        raise UnsupportedAlgorithmError(
            f"{algorithm.name} is not defined on {group.name}: {problem}"
        )
    return group


# ---------------------------------------------------------------------------
# nonce (§4.4.3.1) and pseudo-random function (§4.4.3.3.2)


def password_key(password: Password, algorithm: PaceAlgorithm) -> bytes:
    """K_pi = KDF(K, 3) (9303-11 §9.7.3), e.g. ``89DED1B2…`` for App. G's MRZ."""
    return algorithm.kdf(password.key, 3)


def nonce_length(algorithm: PaceAlgorithm) -> int:
    """Bytes of the chip's nonce s: 16 for 3DES and AES-128, 32 for AES-192/256.

    These are the nonce lengths l the pseudo-random function's constants are
    defined for (9303-11 §4.4.3.3.2). The terminal accepts any multiple of the
    block size up to 32 bytes (:func:`decrypt_nonce`).
    """
    return 16 if algorithm.key_length <= 128 else 32


def _block_encrypt(
    algorithm: PaceAlgorithm, key: bytes, data: bytes, iv: bytes | None = None
) -> bytes:
    if algorithm.cipher is CipherKind.DES3:
        return des3_cbc_encrypt(key, data) if iv is None else des3_cbc_encrypt(key, data, iv)
    return aes_cbc_encrypt(key, data, bytes(16) if iv is None else iv)


def encrypt_nonce(k_pi: bytes, nonce: bytes, algorithm: PaceAlgorithm) -> bytes:
    """z = E(K_pi, s): CBC with a zero IV, no padding (9303-11 §4.4.3.1). The chip's side.

    :raises LocalProtocolError: if *nonce* is not a non-empty multiple of the block size.
    """
    if not nonce or len(nonce) % algorithm.cipher.block_size:
        raise LocalProtocolError(f"a nonce of {len(nonce)} bytes is not a whole number of blocks")
    return _block_encrypt(algorithm, k_pi, nonce)


def decrypt_nonce(k_pi: bytes, encrypted: bytes, algorithm: PaceAlgorithm) -> bytes:
    """s = D(K_pi, z) (9303-11 §4.4.3.1). The terminal's side.

    :raises AccessControlError: (step GA 1) for a z that is empty, longer than
        32 bytes or not a whole number of cipher blocks.
    """
    size = len(encrypted)
    if not 0 < size <= 32 or size % algorithm.cipher.block_size:
        raise _fail(f"encrypted nonce of {size} bytes", STEP_NONCE)
    if algorithm.cipher is CipherKind.DES3:
        return des3_cbc_decrypt(k_pi, encrypted)
    return aes_cbc_decrypt(k_pi, encrypted, bytes(16))


#: Constants c0, c1 of the pseudo-random function by nonce bit length l (9303-11 §4.4.3.3.2).
_PRF_CONSTANTS = {
    128: (
        bytes.fromhex("a668892a7c41e3ca739f40b057d85904"),
        bytes.fromhex("a4e136ac725f738b01c1f60217c188ad"),
    ),
    256: (
        bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"),
        bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517"),
    ),
}


def pseudo_random(s: bytes, t: bytes, algorithm: PaceAlgorithm, prime: int) -> int:
    """R_p(s, t), the integrated mapping's pseudo-random number (9303-11 §4.4.3.3.2).

    With E the PACE cipher in CBC mode (zero IV, no padding) keyed with the
    first k bits of its key, l the bit length of s and t, and
    n = ⌈(⌈log2 p⌉ + 64) / l⌉::

        k_0 = E(t, s);  for i in 0..n-1: k_{i+1} = E(k_i, c0), x_i = E(k_i, c1)
        R_p(s, t) = (x_0 ‖ … ‖ x_{n-1}) mod p

    :raises LocalProtocolError: when s and t differ in length or l is neither 128 nor 256.
    """
    bits = len(s) * 8
    if len(t) != len(s) or bits not in _PRF_CONSTANTS:
        raise LocalProtocolError(f"R_p needs nonces of 16 or 32 bytes each ({len(s)}, {len(t)})")
    c0, c1 = _PRF_CONSTANTS[bits]
    size = algorithm.key_bytes
    n = -(-(prime.bit_length() + 64) // bits)
    key = _block_encrypt(algorithm, t[:size], s)
    out = bytearray()
    for _ in range(n):
        out += _block_encrypt(algorithm, key[:size], c1)
        key = _block_encrypt(algorithm, key[:size], c0)
    return int.from_bytes(out, "big") % prime


# ---------------------------------------------------------------------------
# mappings (§4.4.3.3), key agreement (§4.4.3.2), session keys (§9.7.1)


def map_generic(group: PaceGroup[Any], nonce: bytes, private_key: int, peer_public: Any) -> Any:
    """Generic mapping: G' = s·G + H with H = SK_map · PK_map,peer (DH: g^s · h) (§4.4.3.3.1).

    The same for both sides (each with its own mapping private key and the
    other's mapping public key); CAM maps the same way (§4.4.3.3.3).

    :param peer_public: already decoded (and so checked) with ``group.decode``.
    :raises InvalidPointError: if H or G' is the identity.
    """
    shared = group.multiply(private_key, peer_public)
    s = int.from_bytes(nonce, "big")
    return group.add(group.multiply(s, None), shared)


def map_integrated(group: PaceGroup[Any], nonce: bytes, t: bytes, algorithm: PaceAlgorithm) -> Any:
    """Integrated mapping: G' = f_G(R_p(s, t)) (ECDH, App. B) or R_p(s,t)^((p-1)/q) (DH).

    9303-11 §4.4.3.3.2; *t* is the terminal's nonce, sent in GA 2 tag 81.
    """
    return group.map_integrated(pseudo_random(nonce, t, algorithm, group.prime))


def key_agreement(group: PaceGroup[Any], private_key: int, peer_public: Any) -> bytes:
    """K = KA(SK, PK_peer, D') on the mapped generator (9303-11 §4.4.3.2, §9.6)."""
    return group.shared_secret(private_key, peer_public)


def session_keys(shared_secret: bytes, algorithm: PaceAlgorithm) -> tuple[bytes, bytes]:
    """(KS_enc, KS_mac) = (KDF(K, 1), KDF(K, 2)) (9303-11 §9.7.1)."""
    return algorithm.kdf(shared_secret, 1), algorithm.kdf(shared_secret, 2)


def start_session(
    ks_enc: bytes, ks_mac: bytes, algorithm: PaceAlgorithm, *, role: Role = Role.TERMINAL
) -> SecureMessaging:
    """The secure messaging session after PACE: SSC = 0 for 3DES and AES (9303-11 §9.8.2)."""
    return SecureMessaging(algorithm.cipher, ks_enc, ks_mac, 0, role=role)


# ---------------------------------------------------------------------------
# authentication tokens (§4.4.3.4)


def authentication_token_input(
    algorithm: PaceAlgorithm, group: PaceGroup[Any], public_key: bytes
) -> bytes:
    """The public key data object the token is computed over (9303-11 §4.4.3.4, §9.4.2)::

    7F49 L { 06 L <PACE OID>, 86 L <EC point> | 84 L <DH value> }
    """
    body = tlv.encode(0x06, algorithm.oid_bytes) + tlv.encode(group.public_key_tag, public_key)
    return tlv.encode(0x7F49, body)


def authentication_token(
    ks_mac: bytes, algorithm: PaceAlgorithm, group: PaceGroup[Any], public_key: bytes
) -> bytes:
    """T = MAC(KS_mac, 7F49 …) truncated to 8 bytes (§4.4.3.4).

    The terminal's T_IFD is computed over the chip's ephemeral public key, the
    chip's T_IC over the terminal's. 3DES: retail MAC with padding method 2
    (§9.8.3.1); AES: CMAC (§9.8.3.2).
    """
    data = authentication_token_input(algorithm, group, public_key)
    if algorithm.cipher is CipherKind.DES3:
        return retail_mac(ks_mac, data)
    return aes_cmac(ks_mac, data)[:TOKEN_LENGTH]


def check_authentication_token(
    ks_mac: bytes,
    algorithm: PaceAlgorithm,
    group: PaceGroup[Any],
    public_key: bytes,
    token: bytes,
    *,
    step: str = STEP_TOKEN,
) -> None:
    """Check the peer's token over *our* ephemeral public key (constant-time compare).

    :raises AccessControlError: naming *step* when it does not verify.
    """
    expected = authentication_token(ks_mac, algorithm, group, public_key)
    if len(token) != TOKEN_LENGTH or not constant_time_equal(expected, token):
        raise _fail("the authentication token does not verify", step)


# ---------------------------------------------------------------------------
# chip authentication mapping (§4.4.3.5)


def chip_authentication_data(
    ca_private_key: int, map_private_key: int, group: PaceGroup[Any]
) -> int:
    """CA_IC = SK_IC⁻¹ · SK_map,IC mod n (9303-11 §4.4.3.5.1). The chip's side.

    So that CA_IC · PK_IC = SK_map,IC · G = PK_map,IC, which the terminal checks.
    """
    n = group.order
    return pow(ca_private_key, -1, n) * map_private_key % n


def _cam_iv(ks_enc: bytes) -> bytes:
    return aes_ecb_encrypt_block(ks_enc, _ALL_ONES)


def encrypt_chip_authentication_data(ks_enc: bytes, ca_ic: int, group: PaceGroup[Any]) -> bytes:
    """A_IC = E(KS_enc, CA_IC): AES-CBC, IV = E(KS_enc, -1), padding method 2 (§4.4.3.5.1).

    CA_IC is encoded on the byte length of the group order.
    """
    plain = pad(ca_ic.to_bytes(group.order_size, "big"), 16)
    return aes_cbc_encrypt(ks_enc, plain, _cam_iv(ks_enc))


def decrypt_chip_authentication_data(ks_enc: bytes, encrypted: bytes, group: PaceGroup[Any]) -> int:
    """CA_IC = D(KS_enc, A_IC) (§4.4.3.5.2). The terminal's side.

    :raises AccessControlError: (step CAM) for a length that is not whole
        blocks, bad padding, or a value outside [1, n-1].
    """
    if not encrypted or len(encrypted) % 16 or len(encrypted) > group.order_size + 16:
        raise _fail(f"encrypted chip authentication data of {len(encrypted)} bytes", STEP_CAM)
    try:
        plain = unpad(aes_cbc_decrypt(ks_enc, encrypted, _cam_iv(ks_enc)))
    except ValueError:
        raise _fail("bad padding in the chip authentication data", STEP_CAM) from None
    value = int.from_bytes(plain, "big")
    if not plain or not 0 < value < group.order:
        raise _fail("chip authentication data out of range", STEP_CAM)
    return value


def verify_chip_authentication_mapping(
    group: PaceGroup[Any], ca_ic: int, ca_public_key: Any, map_public_key: Any
) -> None:
    """Check PK_map,IC = CA_IC · PK_IC (9303-11 §4.4.3.5.2).

    :param ca_public_key: PK_IC, the chip authentication public key of
        EF.CardSecurity (decoded in *group*); only passive authentication of
        EF.CardSecurity makes this evidence of a genuine chip.
    :raises AccessControlError: (step CAM) when the relation does not hold.
    """
    if group.encode(group.multiply(ca_ic, ca_public_key)) != group.encode(map_public_key):
        raise _fail("PK_map,IC != CA_IC · PK_IC: the chip does not hold the CA key", STEP_CAM)


# ---------------------------------------------------------------------------
# command data (§4.4.4)


def mse_set_at_data(
    algorithm: PaceAlgorithm, password: Password | PasswordReference, parameter_id: int | None
) -> bytes:
    """MSE:Set AT data for PACE (9303-11 §4.4.4.1, TR-03110-3 B.11.1): 80 OID, 83 reference,
    84 parameter id when given (one byte, two for a proprietary id above 255, as
    :func:`parse_mse_set_at` reads it); never a CHAT (no terminal authentication here).

    :raises LocalProtocolError: for a parameter id outside 0-65535.
    """
    ref = password.reference if isinstance(password, Password) else password
    data = tlv.encode(0x80, algorithm.oid_bytes) + tlv.encode(0x83, bytes([int(ref)]))
    if parameter_id is not None:
        if not 0 <= parameter_id <= 0xFFFF:
            raise LocalProtocolError(f"parameterId {parameter_id} does not fit tag 84")
        data += tlv.encode(0x84, parameter_id.to_bytes(1 if parameter_id <= 0xFF else 2, "big"))
    return data


@dataclass(frozen=True)
class MseSetAt:
    """A parsed MSE:Set AT for PACE (the chip's side of :func:`mse_set_at_data`).

    :ivar oid: the protocol OID, dotted; :ivar password_reference: tag 83;
    :ivar parameter_id: tag 84 or ``None``; :ivar chat: tag 7F4C or ``None``.
    """

    oid: str
    password_reference: int
    parameter_id: int | None
    chat: bytes | None


def parse_mse_set_at(data: bytes) -> MseSetAt:
    """Parse MSE:Set AT data (tags 80, 83, optional 84, 7F4C, 67, 65 …).

    :raises ParseError: (file ``"MSE:Set AT"``) for malformed TLV, a missing
        80 or 83, or a repeated tag.
    """
    name = "MSE:Set AT"
    objects = tlv.decode_all(data, file=name)
    seen: dict[int, bytes] = {}
    for obj in objects:
        if obj.tag in seen:
            raise ParseError(f"repeated tag {obj.tag:02X}", file=name, offset=obj.offset)
        seen[obj.tag] = obj.value
    if 0x80 not in seen or 0x83 not in seen or len(seen[0x83]) != 1:
        raise ParseError("tag 80 (protocol) and 83 (password reference) are required", file=name)
    try:
        oid = core.ObjectIdentifier.load(tlv.encode(0x06, seen[0x80])).dotted
    except (ValueError, TypeError) as exc:
        raise ParseError(f"malformed protocol OID: {exc}", file=name) from exc
    pid = seen.get(0x84)
    if pid is not None and not 1 <= len(pid) <= 2:
        raise ParseError("tag 84 must hold one or two bytes", file=name)
    return MseSetAt(
        oid, seen[0x83][0], None if pid is None else int.from_bytes(pid, "big"), seen.get(0x7F4C)
    )


def dynamic_authentication_data(tag: int, value: bytes) -> bytes:
    """``7C L { tag L value }`` (``7C 00`` when *tag* is 0: the empty first command)."""
    return tlv.encode(TAG_DYNAMIC_AUTHENTICATION_DATA, tlv.encode(tag, value) if tag else b"")


def parse_dynamic_authentication_data(
    data: bytes, *, step: str, required: Sequence[int], optional: Sequence[int] = ()
) -> dict[int, bytes]:
    """Parse ``7C { … }`` of a GENERAL AUTHENTICATE command or response (TR-03110-3 B.11.2).

    :returns: the values by tag (every *required* tag present).
    :raises AccessControlError: naming *step* for malformed TLV, a missing
        required tag, an unexpected or repeated tag.
    """
    try:
        outer = tlv.decode_single(data, file=step, expected_tag=TAG_DYNAMIC_AUTHENTICATION_DATA)
        children = tlv.decode_all(outer.view, file=step)
    except ParseError as exc:
        raise _fail(f"malformed dynamic authentication data: {exc}", step) from exc
    values: dict[int, bytes] = {}
    allowed = set(required) | set(optional)
    for child in children:
        if child.tag not in allowed:
            raise _fail(f"unexpected tag {child.tag:02X} in dynamic authentication data", step)
        if child.tag in values:
            raise _fail(f"repeated tag {child.tag:02X} in dynamic authentication data", step)
        values[child.tag] = child.value
    missing = [f"{t:02X}" for t in required if t not in values]
    if missing:
        raise _fail(f"tag {', '.join(missing)} missing from dynamic authentication data", step)
    return values


# ---------------------------------------------------------------------------
# the terminal's run


@dataclass(frozen=True)
class CamEvidence:
    """What the chip proved with CAM, for binding to passive authentication of EF.CardSecurity.

    :ivar ca_ic: CA_IC decrypted from A_IC.
    :ivar map_public_key: PK_map,IC as sent by the chip (encoded).
    :ivar verified_key: the encoded chip authentication public key PK_IC that
        satisfied PK_map,IC = CA_IC · PK_IC, or ``None`` until one has been checked.
    :ivar key_id: that key's keyId, when known.
    """

    ca_ic: int = field(repr=False)
    map_public_key: bytes = field(repr=False)
    group: PaceGroup[Any] = field(repr=False)
    verified_key: bytes | None = field(default=None, repr=False)
    key_id: int | None = None

    def verify(self, ca_public_key: Any) -> CamEvidence:
        """Check the CAM relation against a chip authentication public key.

        :param ca_public_key: a :class:`~epass.lds.security_infos.CaPublicKeyInfo`
            (from EF.CardSecurity) or the encoded public key bytes.
        :returns: a copy with :attr:`verified_key` and :attr:`key_id` set.
        :raises AccessControlError: (step CAM) when the key is of another group,
            malformed, or does not satisfy the relation.
        """
        key_id = getattr(ca_public_key, "key_id", None)
        raw = getattr(ca_public_key, "public_key", ca_public_key)
        if not isinstance(raw, bytes | bytearray):
            raise LocalProtocolError("a CA public key must be a CaPublicKeyInfo or bytes")
        try:
            pk_ic = self.group.decode(bytes(raw))
            pk_map = self.group.decode(self.map_public_key)
        except InvalidPointError as exc:
            raise _fail(f"chip authentication public key unusable: {exc}", STEP_CAM) from exc
        verify_chip_authentication_mapping(self.group, self.ca_ic, pk_ic, pk_map)
        return CamEvidence(self.ca_ic, self.map_public_key, self.group, bytes(raw), key_id)


@dataclass(frozen=True)
class PaceResult:
    """The outcome of :func:`perform_pace`.

    :ivar sm: the session's :class:`~epass.sm.SecureMessaging` (already active on the channel).
    :ivar algorithm: the :class:`PaceAlgorithm` run (``.mapping``, ``.cipher``, ``.key_length``).
    :ivar group_name: the curve or group (``"brainpoolP256r1"``).
    :ivar key_agreement: ``"ECDH"`` or ``"DH"``.
    :ivar parameter_id: the domain parameter id used (``None`` for explicit parameters).
    :ivar password_reference: MRZ or CAN.
    :ivar cam: for CAM, the :class:`CamEvidence` (verified when a key was given).
    :ivar retries_left: a retry counter the chip reported with MSE:Set AT (63Cx), if any.
    :ivar chip_ephemeral_public_key: PK_IC, the chip's ephemeral public key of
        step 3 as sent (encoded); Terminal Authentication after PACE uses
        ID_PICC = Comp(PK_IC) (BSI TR-03110-3 B.11.1, :func:`epass.access.ta.id_picc_from_pace`).
    :ivar trust_points: the certification authority references the chip sent in
        step 4 (``87`` most recent, ``88`` previous; TR-03110-3 B.11.2): the CVCA
        keys Terminal Authentication must chain to. Empty when the chip sent none.
    """

    sm: SecureMessaging
    algorithm: PaceAlgorithm
    group_name: str
    key_agreement: str
    parameter_id: int | None
    password_reference: PasswordReference
    cam: CamEvidence | None = None
    retries_left: int | None = None
    chip_ephemeral_public_key: bytes = field(default=b"", repr=False)
    trust_points: tuple[str, ...] = ()

    @property
    def mapping(self) -> Mapping:
        return self.algorithm.mapping

    @property
    def cipher(self) -> str:
        """``"3DES"`` or ``"AES"``."""
        return self.algorithm.cipher.value

    @property
    def key_length(self) -> int:
        return self.algorithm.key_length

    @property
    def chip_authenticated(self) -> bool:
        """Whether CAM's relation was checked against a CA public key (binding to PA remains)."""
        return self.cam is not None and self.cam.verified_key is not None


#: The longest certification authority reference (TR-03110-3 D.2.1.1: 16 characters).
MAX_CAR_LENGTH = 16


def _transmit(channel: Channel, command: CommandApdu, step: str) -> ResponseApdu:
    """Send one PACE command; a chip that breaks the link protocol fails *step*."""
    try:
        return channel.transmit(command)
    except AccessControlError:
        raise
    except RemoteProtocolError as exc:  # e.g. endless 61xx: name the PACE step
        raise _fail(f"the chip broke the protocol: {exc}", step) from exc


def _general_authenticate(
    channel: Channel, data: bytes, *, last: bool, step: str, reference: PasswordReference
) -> bytes:
    """Send one GENERAL AUTHENTICATE of the chain (CLA 10 on all but the last, §4.4.4.2)."""
    command = CommandApdu(
        0x00 if last else 0x10,
        Ins.GENERAL_AUTHENTICATE,
        0x00,
        0x00,
        data,
        le=65536 if len(data) > 255 else 256,
    )
    response = _transmit(channel, command, step)
    if response.sw != StatusWord.SUCCESS:
        raise _password_refusal(response.sw, step, reference)
    return response.data


def _decode(group: PaceGroup[Any], data: bytes, step: str, what: str) -> Any:
    try:
        return group.decode(data)
    except InvalidPointError as exc:
        raise _fail(f"{what} rejected: {exc}", step) from exc


def perform_pace(
    channel: Channel,
    password: Password,
    pace_info: Any,
    *,
    rng: Rng = os.urandom,
    domain_parameter_infos: Iterable[Any] = (),
    ca_public_key: Any = None,
) -> PaceResult:
    """Run PACE over *channel* (terminal side) and start secure messaging on it.

    Randomness is drawn from *rng* in protocol order: for GM and CAM the
    mapping private key, then the key-agreement private key; for IM the nonce
    t (``rng(len(s))``), then the key-agreement private key. Each private key
    is ``int.from_bytes(rng(L), "big")`` with L the byte length of the group
    order, drawn again while not in [1, order-1].

    :param channel: a channel without secure messaging, the eMRTD application
        (or the MF, for EF.CardAccess-driven PACE) selected.
    :param password: :meth:`Password.mrz` or :meth:`Password.can`.
    :param pace_info: a :class:`~epass.lds.security_infos.PaceInfo` from EF.CardAccess.
    :param domain_parameter_infos: the PACEDomainParameterInfos of EF.CardAccess,
        needed when the PACEInfo names proprietary (explicit) parameters.
    :param ca_public_key: for CAM, the chip authentication public key
        (CaPublicKeyInfo or bytes) to check CA_IC against now; without it
        :attr:`PaceResult.cam` holds unverified evidence for
        :meth:`CamEvidence.verify` once EF.CardSecurity has been read.
    :returns: a :class:`PaceResult`; its ``sm`` is active on *channel*.
    :raises WrongPasswordError: when the chip answers ``6300``/``63Cx``.
    :raises AccessControlError: naming the step for any other refusal or
        inconsistency (bad token, bad point, equal keys, malformed data).
    :raises UnsupportedAlgorithmError: for a PACEInfo this reader cannot run.
    :raises TransportError: if the link fails.
    """
    algorithm = PaceAlgorithm.from_oid(pace_info.protocol)
    group = pace_group(pace_info, domain_parameter_infos)
    parameter_id = pace_info.parameter_id
    ref = password.reference

    # MSE:Set AT (case 3: no Le)
    mse = CommandApdu(0x00, Ins.MSE, 0xC1, 0xA4, mse_set_at_data(algorithm, password, parameter_id))
    response = _transmit(channel, mse, STEP_MSE)
    retries_left: int | None = None
    if response.sw != StatusWord.SUCCESS:
        retries = _retries(response.sw)
        if retries is not None and retries > 0:
            retries_left = retries  # a warning with the retry counter (TR-03110-3 B.11.1)
        else:  # 63C0, 6300, 6983 blocked, 6984 deactivated, 6A80, 6D00 ...
            raise _password_refusal(response.sw, STEP_MSE, password.reference)

    # GA 1: encrypted nonce
    k_pi = password_key(password, algorithm)
    data = _general_authenticate(
        channel, dynamic_authentication_data(0, b""), last=False, step=STEP_NONCE, reference=ref
    )
    z = parse_dynamic_authentication_data(data, step=STEP_NONCE, required=(0x80,))[0x80]
    s = decrypt_nonce(k_pi, z, algorithm)

    # GA 2: map nonce
    map_public_ic: Any = None
    map_public_ic_bytes = b""
    if algorithm.mapping is Mapping.IM:
        t = rng(len(s))
        if len(t) != len(s):
            raise LocalProtocolError(f"rng returned {len(t)} bytes, asked for {len(s)}")
        data = _general_authenticate(
            channel, dynamic_authentication_data(0x81, t), last=False, step=STEP_MAP, reference=ref
        )
        extra = parse_dynamic_authentication_data(
            data, step=STEP_MAP, required=(), optional=(0x82,)
        )
        if extra.get(0x82):
            raise _fail("mapping data from the chip in the integrated mapping", STEP_MAP)
        try:
            generator = map_integrated(group, s, t, algorithm)
        except InvalidPointError as exc:
            raise _fail(f"integrated mapping failed: {exc}", STEP_MAP) from exc
    else:
        sk_map = group.generate_private_key(rng)
        pk_map = group.encode(group.multiply(sk_map))
        data = _general_authenticate(
            channel,
            dynamic_authentication_data(0x81, pk_map),
            last=False,
            step=STEP_MAP,
            reference=ref,
        )
        map_public_ic_bytes = parse_dynamic_authentication_data(
            data, step=STEP_MAP, required=(0x82,)
        )[0x82]
        map_public_ic = _decode(
            group, map_public_ic_bytes, STEP_MAP, "the chip's mapping public key"
        )
        if group.encode(map_public_ic) == pk_map:  # in any encoding (compressed, short DH)
            raise _fail("the chip's mapping public key equals ours", STEP_MAP)
        try:
            generator = map_generic(group, s, sk_map, map_public_ic)
        except InvalidPointError as exc:
            raise _fail(f"generic mapping failed: {exc}", STEP_MAP) from exc

    # GA 3: key agreement on the mapped generator
    sk = group.generate_private_key(rng)
    try:
        pk_ifd = group.encode(group.multiply(sk, generator))
    except InvalidPointError as exc:
        raise _fail(f"ephemeral key on the mapped generator: {exc}", STEP_KA) from exc
    data = _general_authenticate(
        channel, dynamic_authentication_data(0x83, pk_ifd), last=False, step=STEP_KA, reference=ref
    )
    pk_ic_bytes = parse_dynamic_authentication_data(data, step=STEP_KA, required=(0x84,))[0x84]
    pk_ic = _decode(group, pk_ic_bytes, STEP_KA, "the chip's ephemeral public key")
    if group.encode(pk_ic) == pk_ifd:  # in any encoding (compressed, short DH)
        raise _fail("the chip's ephemeral public key equals ours", STEP_KA)
    try:
        shared = key_agreement(group, sk, pk_ic)
    except InvalidPointError as exc:
        raise _fail(f"key agreement failed: {exc}", STEP_KA) from exc
    ks_enc, ks_mac = session_keys(shared, algorithm)

    # GA 4: mutual authentication
    t_ifd = authentication_token(ks_mac, algorithm, group, pk_ic_bytes)
    cam = algorithm.mapping is Mapping.CAM
    data = _general_authenticate(
        channel,
        dynamic_authentication_data(0x85, t_ifd),
        last=True,
        step=STEP_MUTUAL,
        reference=ref,
    )
    values = parse_dynamic_authentication_data(
        data,
        step=STEP_MUTUAL,
        required=(0x86, 0x8A) if cam else (0x86,),
        optional=(0x87, 0x88),  # certification authority references (TR-03110-3 B.11.2)
    )
    check_authentication_token(ks_mac, algorithm, group, pk_ifd, values[0x86])

    evidence: CamEvidence | None = None
    if cam:
        ca_ic = decrypt_chip_authentication_data(ks_enc, values[0x8A], group)
        evidence = CamEvidence(ca_ic, map_public_ic_bytes, group)
        if ca_public_key is not None:
            evidence = evidence.verify(ca_public_key)

    sm = start_session(ks_enc, ks_mac, algorithm)
    channel.start_secure_messaging(sm)
    return PaceResult(
        sm=sm,
        algorithm=algorithm,
        group_name=group.name,
        key_agreement=group.kind,
        parameter_id=parameter_id if parameter_id is not None else group.parameter_id,
        password_reference=password.reference,
        cam=evidence,
        retries_left=retries_left,
        chip_ephemeral_public_key=pk_ic_bytes,
        trust_points=tuple(
            values[tag].decode("latin-1")
            for tag in (0x87, 0x88)
            if 0 < len(values.get(tag, b"")) <= MAX_CAR_LENGTH
        ),
    )
