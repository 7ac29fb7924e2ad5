"""Chip Authentication version 1: the chip proves it holds the private key of DG14.

ICAO Doc 9303-11 §6.2 (protocol), §9.2.3-9.2.4 (ChipAuthenticationInfo,
ChipAuthenticationPublicKeyInfo), §9.7.1 (KDF), §9.8 (secure messaging);
BSI TR-03110-3 B.1 (Chip Authentication) and B.11.1/B.11.2 (MSE, GENERAL
AUTHENTICATE); TR-03110 v1.11 §3.1 and A.1.1.2 (3DES default).

Protocol (over the secure messaging of BAC or PACE)::

    terminal: SK_IFD = int.from_bytes(rng(L)) in [1, order-1], PK_IFD = SK_IFD·G (g^SK_IFD)
    3DES:  MSE:Set KAT  00 22 41 A6  91 PK_IFD [84 keyId]                 -> 9000
    AES:   MSE:Set AT   00 22 41 A4  80 <id-CA OID> [84 keyId]             -> 9000
           GENERAL AUTHENTICATE 00 86 00 00  7C { 80 PK_IFD }            -> 7C 00
    both:  K = KA(SK_IFD, PK_IC) (x-coordinate / full DH value, §9.6)
           KS_enc = KDF(K, 1), KS_mac = KDF(K, 2); SSC = 0
    The chip answers the last command under the old keys, then switches.

The new keys are proven only by the chip's next protected response: the
caller sends a protected command (:func:`prove_session` sends SELECT EF.COM
and checks the response's MAC) before counting CA as passed. A chip that
fails here has failed chip authenticity, not merely the read.

Public signatures (pure unless noted):

* ``CaAlgorithm.from_oid(oid) -> CaAlgorithm`` (key agreement, cipher, key length)
* ``ca_options(infos: SecurityInfos) -> list[CaOption]`` / ``select_ca(infos) -> CaOption``
* ``ca_group(public_key_info: CaPublicKeyInfo) -> PaceGroup`` (named, explicit, standardized, DH)
* ``chip_public_key(option) -> element`` (checked: on the curve / in the group)
* ``encode_key_id(key_id: int) -> bytes``
* ``mse_set_kat_data(ephemeral_public_key: bytes, key_id) -> bytes`` / ``parse_mse_set_kat(data)``
* ``mse_set_at_data(algorithm, key_id) -> bytes`` / ``parse_mse_set_at(data)``
* ``general_authenticate_data(ephemeral_public_key: bytes) -> bytes``
* ``key_agreement(group, private_key, peer_public) -> bytes``                 K
* ``session_keys(shared_secret, algorithm, nonce=b"") -> (KS_enc, KS_mac)``    KDF(K [‖ r], c)
* ``start_session(ks_enc, ks_mac, algorithm, *, role) -> SecureMessaging``  (SSC 0)
* ``perform_ca(channel, dg14: SecurityInfos, *, rng=os.urandom) -> CaResult`` (I/O)
* ``prove_session(channel, result, command=PROOF_COMMAND) -> CaResult`` (I/O)

Errors: a refused or malformed step raises
:class:`~epass.errors.AccessControlError` with ``protocol="CA"`` and the
step; a DG14 without a usable option raises
:class:`~epass.errors.UnsupportedAlgorithmError`; a chip authentication
public key that is not on its curve (or not in its DH group) raises
:class:`~epass.errors.ParseError` naming DG14 and the element's offset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from asn1crypto import core

from epass import tlv
from epass._crypto.dh import DhGroup
from epass._crypto.symmetric import CipherKind
from epass.access import pace
from epass.access.pace_groups import DhPaceGroup, PaceGroup, group_from_algorithm
from epass.apdu import CommandApdu, Ins
from epass.channel import Channel
from epass.errors import (
    BUILTIN_PARSE_ERRORS,
    AccessControlError,
    InvalidPointError,
    LocalProtocolError,
    ParseError,
    RemoteProtocolError,
    SecureMessagingError,
    UnsupportedAlgorithmError,
)
from epass.lds.dg14 import Dg14
from epass.lds.security_infos import ID_CA, CaInfo, CaPublicKeyInfo, SecurityInfos
from epass.sm import Role, SecureMessaging
from epass.status import StatusWord

__all__ = [
    "CA_STEPS",
    "PROOF_COMMAND",
    "CaAlgorithm",
    "CaOption",
    "CaResult",
    "ca_group",
    "ca_options",
    "chip_public_key",
    "encode_key_id",
    "general_authenticate_data",
    "key_agreement",
    "mse_set_at_data",
    "mse_set_kat_data",
    "parse_mse_set_at",
    "parse_mse_set_kat",
    "perform_ca",
    "prove_session",
    "select_ca",
    "session_keys",
    "start_session",
]

Rng = Callable[[int], bytes]

PROTOCOL = "CA"
STEP_KAT = "MSE:Set KAT"
STEP_AT = "MSE:Set AT"
STEP_GA = "GENERAL AUTHENTICATE"
STEP_PROOF = "first command under the new keys"
#: Every step name an :class:`AccessControlError` from CA can carry.
CA_STEPS = (STEP_KAT, STEP_AT, STEP_GA, STEP_PROOF)

#: Tags (TR-03110-3 B.11.1, 9303-11 §6.2.4): 80 protocol OID, 84 private key
#: reference (keyId), 91 ephemeral public key (MSE:Set KAT), 80 in 7C (GA).
TAG_OID = 0x80
TAG_KEY_ID = 0x84
TAG_EPHEMERAL_KAT = 0x91
TAG_EPHEMERAL_GA = 0x80

#: The protected command :func:`prove_session` sends: SELECT EF.COM by file
#: identifier, no response data (ISO/IEC 7816-4 §11.2.2, P2 0C).
PROOF_COMMAND = CommandApdu(0x00, Ins.SELECT, 0x02, 0x0C, b"\x01\x1e")

_KEY_AGREEMENTS = {"1": "DH", "2": "ECDH"}


def _fail(message: str, step: str, sw: int | None = None) -> AccessControlError:
    return AccessControlError(message, step=step, protocol=PROTOCOL, sw=sw)


# ---------------------------------------------------------------------------
# protocol identifiers and options


@dataclass(frozen=True)
class CaAlgorithm(pace.SecureMessagingAlgorithm):
    """What an id-CA protocol OID says (9303-11 §9.2.3, TR-03110-3 A.1.1.2).

    ``id-CA-<KA>-<cipher>`` = ``0.4.0.127.0.7.2.2.3.K.C``: K 1 DH, 2 ECDH; C 1
    3DES-CBC-CBC, 2/3/4 AES-CBC-CMAC-128/192/256.

    :ivar key_length: 112 for two-key 3DES, else the AES key size in bits.
    """

    oid: str
    key_agreement: str
    cipher: CipherKind
    key_length: int

    @classmethod
    def from_oid(cls, oid: str) -> CaAlgorithm:
        """:raises UnsupportedAlgorithmError: for an OID that is not id-CA-{DH,ECDH}-<cipher>."""
        parts = oid[len(ID_CA) + 1 :].split(".") if oid.startswith(ID_CA + ".") else []
        ciphers = pace.PROTOCOL_CIPHERS
        if len(parts) != 2 or parts[0] not in _KEY_AGREEMENTS or parts[1] not in ciphers:
            raise UnsupportedAlgorithmError(f"{oid} is not a chip authentication protocol")
        cipher, bits = ciphers[parts[1]]
        return cls(oid, _KEY_AGREEMENTS[parts[0]], cipher, bits)

    @classmethod
    def default_3des(cls, key_agreement: str) -> CaAlgorithm:
        """id-CA-DH/ECDH-3DES-CBC-CBC, assumed when DG14 has no ChipAuthenticationInfo
        (TR-03110 v1.11 A.1.1.2: 3DES is the default for version 1)."""
        family = "1" if key_agreement == "DH" else "2"
        return cls.from_oid(f"{ID_CA}.{family}.1")

    @property
    def name(self) -> str:
        """E.g. ``"CA-ECDH-AES-128"``."""
        return f"CA-{self.key_agreement}-{self.cipher_name}"

    @property
    def uses_kat(self) -> bool:
        """3DES runs with MSE:Set KAT; AES with MSE:Set AT + GENERAL AUTHENTICATE."""
        return self.cipher is CipherKind.DES3


@dataclass(frozen=True)
class CaOption:
    """One way to run CA with a DG14: a protocol, a key and its group.

    :ivar algorithm: the :class:`CaAlgorithm`.
    :ivar public_key: the ChipAuthenticationPublicKeyInfo used.
    :ivar ca_info: the ChipAuthenticationInfo that named the protocol, or
        ``None`` when DG14 has none (3DES assumed).
    :ivar key_id: the keyId sent in tag 84 (``None``: not sent).
    :ivar problems: what is odd about this option (defaults assumed, weak parameters).
    """

    algorithm: CaAlgorithm
    public_key: CaPublicKeyInfo = field(repr=False)
    ca_info: CaInfo | None = field(repr=False)
    key_id: int | None
    problems: tuple[str, ...] = ()


def _pkcs3_group(public_key_info: CaPublicKeyInfo) -> tuple[PaceGroup[Any], str] | None:
    algorithm = public_key_info.public_key_info["algorithm"]
    if algorithm["algorithm"].native != "dh_pkcs3":
        return None
    params = algorithm["parameters"]
    p, g = int(params["p"].native), int(params["g"].native)
    # PKCS #3 parameters carry no subgroup order: exponents are taken modulo p - 1
    # (a multiple of g's order), so the "order" of this group is p - 1.
    group = DhPaceGroup(DhGroup(p, g, p - 1, name=f"PKCS #3 {p.bit_length()}-bit MODP group"))
    return group, (
        "PKCS #3 DH parameters carry no subgroup order q: the chip's public value "
        "was range-checked only (no subgroup check)"
    )


def ca_group(public_key_info: CaPublicKeyInfo) -> PaceGroup[Any]:
    """The group of a chip authentication public key (9303-11 §9.2.4, TR-03110-3 A.2.1).

    Named and explicit curves (explicit parameters matched to a named curve
    when they are one), standardized domain parameter ids, X9.42 DH with q,
    and PKCS #3 DH (without q; see :attr:`CaOption.problems`).

    :raises UnsupportedAlgorithmError: for an unknown curve or unusable parameters.
    """
    pkcs3 = _pkcs3_group(public_key_info)
    if pkcs3 is not None:
        return pkcs3[0]
    return group_from_algorithm(public_key_info.public_key_info["algorithm"])


def chip_public_key(option: CaOption | CaPublicKeyInfo, group: PaceGroup[Any] | None = None) -> Any:
    """PK_IC decoded and checked: on the curve and in the subgroup (EC), in the group (DH).

    :raises ParseError: (file DG14, the element's offset) when it is not.
    :raises UnsupportedAlgorithmError: when its group is unusable.
    """
    info = option.public_key if isinstance(option, CaOption) else option
    group = group or ca_group(info)
    raw = info.public_key
    where = f"chip authentication public key{'' if info.key_id is None else f' {info.key_id}'}"
    try:
        if group.kind == "DH":
            try:
                y = int(core.Integer.load(raw, strict=True).native)
            except BUILTIN_PARSE_ERRORS as exc:
                raise InvalidPointError(f"the DH public value is not a DER INTEGER: {exc}") from exc
            if not 1 < y < group.prime - 1:
                raise InvalidPointError("the DH public value is not in [2, p-2]")
            raw = group.encode(y)
        return group.decode(raw)
    except InvalidPointError as exc:
        raise ParseError(f"{where} rejected: {exc}", file="DG14", offset=info.offset) from exc


def ca_options(infos: SecurityInfos) -> list[CaOption]:
    """The usable CA version 1 options of a DG14, strongest cipher first (9303-11 §9.2.3).

    Each ChipAuthenticationInfo of version 1 is paired with the public key of
    the same keyId, or the only key of its key agreement when it names none.
    Without any ChipAuthenticationInfo each key runs 3DES (the version 1
    default). Options whose group is unusable are left out.

    :raises UnsupportedAlgorithmError: when no option is usable (the message
        says why for each candidate).
    """
    keys = infos.ca_public_keys
    if not keys:
        raise UnsupportedAlgorithmError("no ChipAuthenticationPublicKeyInfo: CA is not offered")
    reasons: list[str] = []
    candidates: list[CaOption] = []
    ca_infos = infos.ca_infos
    if not ca_infos:
        for key in keys:
            if key.key_agreement is None:
                continue
            candidates.append(
                CaOption(
                    CaAlgorithm.default_3des(key.key_agreement),
                    key,
                    None,
                    key.key_id,
                    ("no ChipAuthenticationInfo: 3DES assumed (TR-03110 v1.11 A.1.1.2)",),
                )
            )
    for info in ca_infos:
        if info.version != 1:
            reasons.append(f"{info.name} is version {info.version} (only version 1 is run here)")
            continue
        try:
            algorithm = CaAlgorithm.from_oid(info.protocol)
        except UnsupportedAlgorithmError as exc:
            reasons.append(str(exc))
            continue
        if info.key_id is not None:
            matching = [k for k in keys if k.key_id == info.key_id]
        else:
            matching = [k for k in keys if k.key_agreement == algorithm.key_agreement]
        if len(matching) != 1:
            which = "no" if not matching else "more than one"
            reasons.append(f"{info.name}: {which} matching public key")
            continue
        key = matching[0]
        if key.key_agreement != algorithm.key_agreement:
            reasons.append(f"{info.name}: the key with keyId {info.key_id} is {key.key_agreement}")
            continue
        candidates.append(
            CaOption(algorithm, key, info, info.key_id if info.key_id is not None else key.key_id)
        )
    usable: list[CaOption] = []
    for option in candidates:
        try:
            pkcs3 = _pkcs3_group(option.public_key)
            group = ca_group(option.public_key)
        except UnsupportedAlgorithmError as exc:
            reasons.append(f"{option.algorithm.name}: {exc}")
            continue
        if group.kind != option.algorithm.key_agreement:
            reasons.append(f"{option.algorithm.name} with a {group.kind} key")
            continue
        if pkcs3 is not None:
            option = replace(option, problems=(*option.problems, pkcs3[1]))
        usable.append(option)
    if not usable:
        raise UnsupportedAlgorithmError(
            "no usable chip authentication option: " + ("; ".join(reasons) or "none offered")
        )
    order = {CipherKind.AES: 1, CipherKind.DES3: 0}
    return sorted(
        usable, key=lambda o: (order[o.algorithm.cipher], o.algorithm.key_length), reverse=True
    )


def select_ca(infos: SecurityInfos) -> CaOption:
    """The option :func:`perform_ca` runs: the first of :func:`ca_options`."""
    return ca_options(infos)[0]


# ---------------------------------------------------------------------------
# command data (9303-11 §6.2.4, TR-03110-3 B.11)


def encode_key_id(key_id: int) -> bytes:
    """The keyId as the value of tag 84: its unsigned big-endian bytes, at least one."""
    if key_id < 0:
        raise LocalProtocolError(f"keyId {key_id} is negative")
    return key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big")


def mse_set_kat_data(ephemeral_public_key: bytes, key_id: int | None = None) -> bytes:
    """MSE:Set KAT data: ``91 PK_IFD [84 keyId]`` (9303-11 §6.2.4.1, 3DES)."""
    data = tlv.encode(TAG_EPHEMERAL_KAT, ephemeral_public_key)
    if key_id is not None:
        data += tlv.encode(TAG_KEY_ID, encode_key_id(key_id))
    return data


def mse_set_at_data(algorithm: CaAlgorithm, key_id: int | None = None) -> bytes:
    """MSE:Set AT data for CA: ``80 <id-CA OID> [84 keyId]`` (9303-11 §6.2.4.2, AES)."""
    data = tlv.encode(TAG_OID, algorithm.oid_bytes)
    if key_id is not None:
        data += tlv.encode(TAG_KEY_ID, encode_key_id(key_id))
    return data


def general_authenticate_data(ephemeral_public_key: bytes) -> bytes:
    """GENERAL AUTHENTICATE data: ``7C { 80 PK_IFD }`` (TR-03110-3 B.11.2)."""
    return pace.dynamic_authentication_data(TAG_EPHEMERAL_GA, ephemeral_public_key)


def _objects(data: bytes, name: str, allowed: Sequence[int]) -> dict[int, bytes]:
    values: dict[int, bytes] = {}
    for obj in tlv.decode_all(data, file=name):
        if obj.tag not in allowed:
            raise ParseError(f"unexpected tag {obj.tag:02X}", file=name, offset=obj.offset)
        if obj.tag in values:
            raise ParseError(f"repeated tag {obj.tag:02X}", file=name, offset=obj.offset)
        values[obj.tag] = obj.value
    return values


def _key_id(values: dict[int, bytes], name: str) -> int | None:
    raw = values.get(TAG_KEY_ID)
    if raw is None:
        return None
    if not 1 <= len(raw) <= 8:
        raise ParseError("tag 84 (keyId) must hold 1 to 8 bytes", file=name)
    return int.from_bytes(raw, "big")


def parse_mse_set_kat(data: bytes) -> tuple[bytes, int | None]:
    """The chip's side of :func:`mse_set_kat_data`: (PK_IFD, keyId).

    :raises ParseError: (file ``"MSE:Set KAT"``) for malformed TLV, a missing 91,
        or other tags.
    """
    name = "MSE:Set KAT"
    values = _objects(data, name, (TAG_EPHEMERAL_KAT, TAG_KEY_ID))
    if not values.get(TAG_EPHEMERAL_KAT):
        raise ParseError("tag 91 (ephemeral public key) is required", file=name)
    return values[TAG_EPHEMERAL_KAT], _key_id(values, name)


def parse_mse_set_at(data: bytes) -> tuple[str, int | None]:
    """The chip's side of :func:`mse_set_at_data`: (protocol OID, keyId).

    :raises ParseError: (file ``"MSE:Set AT"``) for malformed TLV, a missing 80,
        or other tags.
    """
    name = "MSE:Set AT"
    values = _objects(data, name, (TAG_OID, TAG_KEY_ID))
    if TAG_OID not in values:
        raise ParseError("tag 80 (protocol) is required", file=name)
    try:
        oid = core.ObjectIdentifier.load(tlv.encode(0x06, values[TAG_OID])).dotted
    except BUILTIN_PARSE_ERRORS as exc:
        raise ParseError(f"malformed protocol OID: {exc}", file=name) from exc
    return oid, _key_id(values, name)


# ---------------------------------------------------------------------------
# key agreement and session keys


def key_agreement(group: PaceGroup[Any], private_key: int, peer_public: Any) -> bytes:
    """K = KA(SK, PK_peer): ECDH x-coordinate or the DH value (9303-11 §9.6, as PACE)."""
    return pace.key_agreement(group, private_key, peer_public)


def session_keys(
    shared_secret: bytes, algorithm: CaAlgorithm, nonce: bytes = b""
) -> tuple[bytes, bytes]:
    """(KS_enc, KS_mac) = (KDF(K, 1), KDF(K, 2)) (9303-11 §9.7.1).

    CA version 1 has no nonce. *nonce* r is for CA version 2 (TR-03110-2
    §3.4.1: KDF(K, r, c) hashes K ‖ r ‖ c), used here only to reproduce the
    BSI EAC worked example.
    """
    seed = shared_secret + nonce
    return algorithm.kdf(seed, 1), algorithm.kdf(seed, 2)


def start_session(
    ks_enc: bytes, ks_mac: bytes, algorithm: CaAlgorithm, *, role: Role = Role.TERMINAL
) -> SecureMessaging:
    """Secure messaging with the new keys; SSC = 0 (9303-11 §6.2, §9.8.2)."""
    return SecureMessaging(algorithm.cipher, ks_enc, ks_mac, 0, role=role)


# ---------------------------------------------------------------------------
# the terminal's run


@dataclass(frozen=True)
class CaResult:
    """The outcome of :func:`perform_ca`.

    :ivar sm: the new :class:`~epass.sm.SecureMessaging` (already active on the channel).
    :ivar protocol: the id-CA OID run (dotted).
    :ivar algorithm: its :class:`CaAlgorithm` (key agreement, cipher, key length).
    :ivar key_id: the keyId of the chip's key (``None`` when DG14 gives none).
    :ivar group_name: the curve or DH group (``"brainpoolP256r1"``).
    :ivar ephemeral_public_key: PK_IFD as sent.
    :ivar chip_public_key: PK_IC as encoded in DG14's BIT STRING.
    :ivar public_key_info: the ChipAuthenticationPublicKeyInfo used (its ``raw``
        and ``offset`` tie the result to the DG14 passive authentication proved).
    :ivar commands: what was sent, e.g. ``("MSE:Set KAT",)``.
    :ivar problems: what was odd (3DES assumed, PKCS #3 DH without subgroup check).
    :ivar proven: whether a protected response under the new keys verified
        (set by :func:`prove_session`); until then CA is not passed.
    :ivar proof: what proved it, or why not.
    """

    sm: SecureMessaging = field(repr=False)
    protocol: str
    algorithm: CaAlgorithm
    key_id: int | None
    group_name: str
    ephemeral_public_key: bytes = field(repr=False)
    chip_public_key: bytes = field(repr=False)
    public_key_info: CaPublicKeyInfo = field(repr=False)
    commands: tuple[str, ...]
    problems: tuple[str, ...] = ()
    proven: bool = False
    proof: str | None = None

    @property
    def key_agreement(self) -> str:
        return self.algorithm.key_agreement

    @property
    def cipher(self) -> str:
        """``"3DES"`` or ``"AES"``."""
        return self.algorithm.cipher.value

    @property
    def key_length(self) -> int:
        return self.algorithm.key_length


def _send(channel: Channel, command: CommandApdu, step: str) -> bytes:
    response = channel.transmit(command)
    if response.sw != StatusWord.SUCCESS:
        raise _fail(f"chip answered {StatusWord.from_int(response.sw)}", step, response.sw)
    return response.data


def perform_ca(channel: Channel, dg14: SecurityInfos | Dg14, *, rng: Rng = os.urandom) -> CaResult:
    """Run Chip Authentication version 1 over *channel* (terminal side, 9303-11 §6.2).

    The option is :func:`select_ca`'s. The terminal's ephemeral private key
    is ``int.from_bytes(rng(L), "big")`` with L the byte length of the group
    order, drawn again while not in [1, order-1]. Sends MSE:Set KAT (3DES) or
    MSE:Set AT and GENERAL AUTHENTICATE (AES), under the channel's current
    secure messaging, and nothing else; then starts the new session (SSC 0)
    on the channel. Prove the keys with :func:`prove_session` (or any
    protected command whose response verifies) before counting CA as passed.

    :param channel: a channel with secure messaging (after BAC or PACE).
    :param dg14: the SecurityInfos of DG14 (``Dg14.security_infos``; a parsed
        :class:`~epass.lds.dg14.Dg14` is accepted too).
    :raises LocalProtocolError: without secure messaging on *channel*.
    :raises UnsupportedAlgorithmError: when DG14 offers no usable option.
    :raises ParseError: when the chip authentication public key is not a valid
        element of its group (DG14 and the offset named).
    :raises AccessControlError: (protocol ``"CA"``) naming the step the chip
        refused or answered wrongly.
    :raises TransportError, SecureMessagingError: if the link or the old session fails.
    """
    if channel.sm is None:
        raise LocalProtocolError("chip authentication runs under secure messaging (BAC or PACE)")
    infos = dg14.security_infos if isinstance(dg14, Dg14) else dg14
    option = select_ca(infos)
    algorithm = option.algorithm
    group = ca_group(option.public_key)
    pk_ic = chip_public_key(option, group)
    sk_ifd = group.generate_private_key(rng)
    pk_ifd = group.encode(group.multiply(sk_ifd))
    if algorithm.uses_kat:
        mse = CommandApdu(0x00, Ins.MSE, 0x41, 0xA6, mse_set_kat_data(pk_ifd, option.key_id))
        _send(channel, mse, STEP_KAT)
        commands: tuple[str, ...] = (STEP_KAT,)
    else:
        mse = CommandApdu(0x00, Ins.MSE, 0x41, 0xA4, mse_set_at_data(algorithm, option.key_id))
        _send(channel, mse, STEP_AT)
        data = general_authenticate_data(pk_ifd)
        ga = CommandApdu(
            0x00, Ins.GENERAL_AUTHENTICATE, 0x00, 0x00, data, le=65536 if len(data) > 255 else 256
        )
        answer = _send(channel, ga, STEP_GA)
        if answer:
            try:
                extra = pace.parse_dynamic_authentication_data(
                    answer, step=STEP_GA, required=(), optional=(0x81, 0x82)
                )
            except AccessControlError as exc:
                raise _fail(f"malformed response data ({exc})", STEP_GA) from None
            if extra:
                raise _fail(
                    "the chip answered with a nonce and token (Chip Authentication version 2) "
                    "to version 1",
                    STEP_GA,
                )
        commands = (STEP_AT, STEP_GA)
    try:
        shared = key_agreement(group, sk_ifd, pk_ic)
    except InvalidPointError as exc:  # pragma: no cover - pk_ic checked, sk in range
        raise _fail(f"key agreement failed: {exc}", commands[-1]) from exc
    ks_enc, ks_mac = session_keys(shared, algorithm)
    sm = start_session(ks_enc, ks_mac, algorithm)
    channel.start_secure_messaging(sm)
    return CaResult(
        sm=sm,
        protocol=algorithm.oid,
        algorithm=algorithm,
        key_id=option.key_id,
        group_name=group.name,
        ephemeral_public_key=pk_ifd,
        chip_public_key=option.public_key.public_key,
        public_key_info=option.public_key,
        commands=commands,
        problems=option.problems,
    )


def prove_session(
    channel: Channel, result: CaResult, command: CommandApdu = PROOF_COMMAND
) -> CaResult:
    """Send one protected command under the new keys and check the chip's answer.

    A response whose MAC verifies under KS_mac proves the chip derived the same
    K, which needs the private key of DG14 (9303-11 §6.2: "the terminal verifies
    the chip by a successfully protected response"). Any status word counts
    once the MAC verified; a plain or badly MACed answer does not (and ends
    the channel, as after every secure messaging failure).

    :param command: the plain command to send; default SELECT EF.COM (P2 0C).
    :returns: *result* with :attr:`CaResult.proven` and :attr:`CaResult.proof` set.
    :raises TransportError: if the link fails.
    """
    if channel.sm is not result.sm:
        raise LocalProtocolError("the channel is not running the session of this CA result")
    try:
        response = channel.transmit(command)
    except SecureMessagingError as exc:
        return replace(result, proven=False, proof=f"{STEP_PROOF}: {exc}")
    except RemoteProtocolError as exc:
        return replace(result, proven=False, proof=f"{STEP_PROOF}: {exc}")
    return replace(
        result,
        proven=True,
        proof=f"{command.describe()} answered {StatusWord.from_int(response.sw)} "
        "under the new keys",
    )
