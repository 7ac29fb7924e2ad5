"""Active Authentication: the chip proves it holds the private key of DG15.

ICAO Doc 9303-11 §6.1 (protocol), §9.2.6 (ActiveAuthenticationInfo); ISO/IEC
9796-2 digital signature scheme 1 (RSA with message recovery); BSI TR-03111
§5.2.1 (ECDSA, plain r‖s signatures).

Protocol::

    terminal: RND.IFD = rng(8), never reused on a channel
    INTERNAL AUTHENTICATE  00 88 00 00 08 <RND.IFD> 00    ->  signature
    RSA:   F = s^e mod n (or n - that, ISO/IEC 9796-2 min(J, n-J) signatures)
           F = 6A ‖ M1 ‖ D ‖ BC          (SHA-1, trailer BC)
             = 6A ‖ M1 ‖ D ‖ xx CC       (xx: ISO/IEC 10118-3 hash id)
           D = H(M1 ‖ RND.IFD)           (M2 = RND.IFD is not recoverable)
    ECDSA: signature over H(RND.IFD), H named by ActiveAuthenticationInfo
           (else SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 in turn); plain
           r ‖ s (TR-03111) or a DER Ecdsa-Sig-Value, as some chips return

For RSA the representative F has ⌊k/8⌋ bytes for a k-bit modulus (128 for
1024 bits; 127 for a 1022-bit modulus, the largest byte string starting
``6A`` below n). The signature must have exactly the byte length of the
modulus (RSA) or 2·L bytes for plain ECDSA (L the byte length of the order);
a response of any other length is refused, never padded.

Public signatures (pure unless noted):

* ``aa_public_key(dg15: bytes) -> AaPublicKey``
* ``hashes_for(aa_info) -> tuple[str, ...]``  hashes to try for ECDSA
* ``recover_message(key: RsaPublicNumbers, signature, *, implicit_hash="sha1") -> RecoveredMessage``
* ``check_response(key, challenge, response, *, aa_info=None) -> AaCheck`` (never raises
  for a bad signature: ``.valid`` and ``.reason``)
* ``verify_response(dg15, challenge, response, *, aa_info=None) -> bool``  (public API)
* ``internal_authenticate_command(challenge, key) -> CommandApdu``
* ``perform_aa(channel, dg15, *, aa_info=None, rng=os.urandom) -> AaResult`` (I/O)

Errors: an unreadable DG15 raises :class:`~epass.errors.ParseError`; a key
this reader cannot use (DSA, an unknown curve, an RSA exponent of 1, a
modulus under 512 bits) raises :class:`~epass.errors.UnsupportedAlgorithmError`;
a signature that does not verify is a failed check (``valid`` False with a
reason), never an exception.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos

from epass._crypto.ec import Curve, DomainParameters, EcPoint, curve_by_oid, match_named_curve
from epass._crypto.rsa_raw import RsaPublicNumbers
from epass._crypto.symmetric import constant_time_equal
from epass.apdu import CommandApdu, Ins
from epass.channel import Channel
from epass.errors import (
    BUILTIN_PARSE_ERRORS,
    InvalidPointError,
    InvalidSignatureError,
    LocalProtocolError,
    ParseError,
    UnsupportedAlgorithmError,
)
from epass.lds import dg15 as dg15_module
from epass.status import StatusWord

__all__ = [
    "ALLOWED_HASHES",
    "CHALLENGE_LENGTH",
    "HASH_IDS",
    "AaCheck",
    "AaPublicKey",
    "AaResult",
    "RecoveredMessage",
    "aa_public_key",
    "check_response",
    "hashes_for",
    "internal_authenticate_command",
    "perform_aa",
    "recover_message",
    "verify_response",
]

Rng = Callable[[int], bytes]

#: RND.IFD is 8 bytes (9303-11 §6.1.2).
CHALLENGE_LENGTH = 8
#: The ISO/IEC 9796-2 header for partial message recovery with no padding (9303-11 §6.1.2).
HEADER = 0x6A
#: Trailer of an implicit hash (SHA-1 for ICAO), and the last byte of an explicit trailer.
TRAILER_IMPLICIT = 0xBC
TRAILER_EXPLICIT = 0xCC

#: ISO/IEC 10118-3 hash-function identifiers in the explicit trailer ``xx CC``
#: (the last arc of 1.0.10118.3.0.xx; IEEE 1363 uses the same numbers).
HASH_IDS: dict[int, str] = {
    0x31: "ripemd160",
    0x33: "sha1",
    0x34: "sha256",
    0x35: "sha512",
    0x36: "sha384",
    0x38: "sha224",
}
#: The hashes 9303-11 allows for Active Authentication, in the order tried for
#: ECDSA when DG14 names none (§6.1, §9.2.6).
ALLOWED_HASHES = ("sha1", "sha224", "sha256", "sha384", "sha512")

#: Signature algorithm OIDs an ActiveAuthenticationInfo may name, and their hash:
#: BSI TR-03111 §5.2.1 ecdsa-plain-SHA* (what 9303-11 §9.2.6 specifies) and the
#: X9.62 ecdsa-with-SHA* some issuers write instead.
_AA_SIGNATURE_HASHES: dict[str, str] = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}

SCHEME_9796_2 = "ISO/IEC 9796-2 scheme 1"
FORMAT_PLAIN = "plain r||s"
FORMAT_DER = "DER"


def _hash(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def _hash_size(name: str) -> int:
    try:
        return hashlib.new(name).digest_size
    except ValueError as exc:  # e.g. RIPEMD-160 on an OpenSSL without it
        raise UnsupportedAlgorithmError(f"hash {name} is not available here") from exc


# ---------------------------------------------------------------------------
# the key


@dataclass(frozen=True)
class AaPublicKey:
    """The Active Authentication key of DG15, checked and ready to verify with.

    :ivar algorithm: ``"RSA"`` or ``"ECDSA"``.
    :ivar bits: RSA modulus bits (exact) or the EC order's bit length.
    :ivar rsa: the RSA numbers (RSA only).
    :ivar curve: the curve, :ivar point: the public point (ECDSA only).
    :ivar curve_name: the named curve (``"brainpoolP256r1"``), or ``None`` for
        explicit parameters that match no named curve.
    """

    algorithm: str
    bits: int
    rsa: RsaPublicNumbers | None = field(default=None, repr=False)
    curve: Curve | None = field(default=None, repr=False)
    point: EcPoint | None = field(default=None, repr=False)
    curve_name: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """Deviations in the key's encoding that did not stop its use."""
        return () if self.rsa is None else self.rsa.problems

    @property
    def signature_length(self) -> int:
        """Expected signature bytes: the modulus' length (RSA) or 2·L (plain ECDSA)."""
        if self.rsa is not None:
            return self.rsa.size
        assert self.curve is not None  # noqa: S101 - set for ECDSA
        return 2 * self.curve.parameters.order_size

    @property
    def description(self) -> str:
        """E.g. ``"RSA-1024 (e=65537)"`` or ``"ECDSA secp256r1"``."""
        if self.rsa is not None:
            return f"RSA-{self.bits} (e={self.rsa.e})"
        return f"ECDSA {self.curve_name or f'explicit {self.bits}-bit curve'}"


def _ec_curve(params: Any) -> tuple[Curve, str | None]:
    if params.name == "named":
        named = curve_by_oid(params.chosen.dotted)
        if named is None:
            raise UnsupportedAlgorithmError(f"DG15: unknown EC curve {params.chosen.dotted}")
        return named.curve, named.name
    if params.name == "specified":
        prm = DomainParameters.from_specified(params.chosen)
        match = match_named_curve(prm)
        if match is not None:
            return match.curve, match.name
        return Curve(prm), None
    raise UnsupportedAlgorithmError("DG15: implicitly-CA EC parameters are not usable")


def aa_public_key(dg15: bytes) -> AaPublicKey:
    """Parse DG15 (tag 6F) and check its key (9303-10 §4.7.15, 9303-11 §6.1).

    :raises ParseError: (file DG15) for malformed bytes, a key BIT STRING with
        unused bits, or an EC point that is not on its curve.
    :raises UnsupportedAlgorithmError: for a key that is neither RSA nor EC, an
        unknown curve, or a weak RSA key (exponent 1, even, modulus < 512 bits).
    """
    parsed = dg15_module.parse(dg15)
    info = parsed.public_key_info
    unused = bytes(info["public_key"].contents[:1])
    if unused != b"\x00":
        raise ParseError(
            f"subjectPublicKey BIT STRING with {unused.hex() or 'no'} unused-bits byte "
            "(a key is whole bytes: 00)",
            file="DG15",
        )
    algorithm = info["algorithm"]["algorithm"].native
    if algorithm in ("rsa", "rsassa_pss"):
        numbers = RsaPublicNumbers.from_public_key_info(info).check()
        return AaPublicKey("RSA", numbers.bits, rsa=numbers)
    if algorithm == "ec":
        try:
            curve, name = _ec_curve(info["algorithm"]["parameters"])
            raw = bytes(info["public_key"].native)
        except BUILTIN_PARSE_ERRORS as exc:
            raise UnsupportedAlgorithmError(f"DG15: unusable EC key: {exc}") from exc
        try:
            point = curve.decode_point(raw)
        except InvalidPointError as exc:
            raise ParseError(f"EC public key rejected: {exc}", file="DG15") from exc
        return AaPublicKey(
            "ECDSA", curve.parameters.bits, curve=curve, point=point, curve_name=name
        )
    raise UnsupportedAlgorithmError(f"DG15 holds a {parsed.algorithm} key (RSA or EC expected)")


def hashes_for(aa_info: Any) -> tuple[str, ...]:
    """The hashes to try for an ECDSA response (9303-11 §9.2.6).

    :param aa_info: an :class:`~epass.lds.security_infos.AaInfo` of DG14 (or its
        signature algorithm OID, dotted), or ``None``.
    :returns: the one hash it names, or every allowed hash in order when ``None``.
    :raises UnsupportedAlgorithmError: when it names an algorithm that is not ECDSA
        with an allowed hash.
    """
    if aa_info is None:
        return ALLOWED_HASHES
    oid = getattr(aa_info, "signature_algorithm", aa_info)
    name = _AA_SIGNATURE_HASHES.get(str(oid))
    if name is None:
        raise UnsupportedAlgorithmError(
            f"ActiveAuthenticationInfo names {oid}, not an ECDSA algorithm with an allowed hash"
        )
    return (name,)


# ---------------------------------------------------------------------------
# ISO/IEC 9796-2 scheme 1 message recovery


@dataclass(frozen=True)
class RecoveredMessage:
    """What an ISO/IEC 9796-2 scheme 1 signature recovers.

    :ivar representative: F as bytes (⌊k/8⌋ of them).
    :ivar m1: the recovered message part M1.
    :ivar digest: D, the hash over M1 ‖ M2 carried in F.
    :ivar hash: the hash named by the trailer (asn1crypto/hashlib name).
    :ivar trailer: ``BC`` or ``xx CC``.
    :ivar complement: whether F = n - J (the signer sent min(J, n - J), ISO/IEC 9796-2).
    """

    representative: bytes = field(repr=False)
    m1: bytes = field(repr=False)
    digest: bytes
    hash: str
    trailer: bytes
    complement: bool


def recover_message(
    key: RsaPublicNumbers, signature: bytes, *, implicit_hash: str = "sha1"
) -> RecoveredMessage:
    """Recover F from an ISO/IEC 9796-2 scheme 1 signature and split it (9303-11 §6.1.2).

    F = 6A ‖ M1 ‖ D ‖ T with T = BC (the implicit hash: SHA-1 for ICAO) or
    T = xx CC (xx the ISO/IEC 10118-3 id of the hash). J = s^e mod n; when
    J ≢ 12 (mod 16) the signer sent n - J, so F = n - J.

    :raises InvalidSignatureError: naming what is wrong: the signature length,
        a value >= n, a representative too long, the header, the trailer, an
        unknown hash id, or no room for M1.
    :raises UnsupportedAlgorithmError: for an unusable key.
    """
    j = key.public_operation(signature)
    complement = j % 16 != 12
    value = key.n - j if complement else j
    length = key.bits // 8
    if value >= 1 << (8 * length):
        raise InvalidSignatureError(
            f"the recovered representative does not fit {length} bytes (wrong key or signature)"
        )
    f = value.to_bytes(length, "big")
    if f[0] != HEADER:
        raise InvalidSignatureError(
            f"the recovered message has header {f[0]:02X}, expected 6A (ISO/IEC 9796-2 "
            "partial recovery)"
        )
    if f[-1] == TRAILER_IMPLICIT:
        hash_name, trailer = implicit_hash, f[-1:]
    elif f[-1] == TRAILER_EXPLICIT:
        hash_id = f[-2]
        if hash_id not in HASH_IDS:
            raise InvalidSignatureError(f"the trailer names unknown hash id {hash_id:02X}")
        hash_name, trailer = HASH_IDS[hash_id], f[-2:]
    else:
        raise InvalidSignatureError(
            f"the recovered message ends in {f[-1]:02X}, expected the trailer BC or xxCC"
        )
    size = _hash_size(hash_name)
    end = length - len(trailer)
    if end - size <= 1:
        raise InvalidSignatureError(
            f"a {size * 8}-bit digest leaves no room for M1 in a {key.bits}-bit key"
        )
    return RecoveredMessage(
        f, f[1 : end - size], f[end - size : end], hash_name, trailer, complement
    )


# ---------------------------------------------------------------------------
# checking a response


@dataclass(frozen=True)
class AaCheck:
    """The outcome of checking one INTERNAL AUTHENTICATE response (pure, no I/O).

    :ivar valid: whether the signature verified over the challenge.
    :ivar reason: why not (``None`` when valid).
    :ivar algorithm: ``"RSA"`` or ``"ECDSA"``.
    :ivar hash: the hash that verified (or, for RSA, the one the trailer named).
    :ivar signature_format: ``"ISO/IEC 9796-2 scheme 1"``, ``"plain r||s"`` or ``"DER"``.
    :ivar recovered_digest: RSA: D from the recovered message.
    :ivar recovered_message: RSA: M1.
    :ivar hashes_tried: ECDSA: the hashes tried, in order.
    """

    valid: bool
    reason: str | None
    algorithm: str
    hash: str | None = None
    signature_format: str | None = None
    recovered_digest: bytes | None = None
    recovered_message: bytes | None = field(default=None, repr=False)
    hashes_tried: tuple[str, ...] = ()


def _check_rsa(key: AaPublicKey, challenge: bytes, response: bytes) -> AaCheck:
    assert key.rsa is not None  # noqa: S101
    try:
        recovered = recover_message(key.rsa, response)
    except InvalidSignatureError as exc:
        return AaCheck(False, str(exc), "RSA", signature_format=SCHEME_9796_2)
    fail = AaCheck(
        False,
        None,
        "RSA",
        hash=recovered.hash,
        signature_format=SCHEME_9796_2,
        recovered_digest=recovered.digest,
        recovered_message=recovered.m1,
    )
    if recovered.hash not in ALLOWED_HASHES:
        return _with_reason(fail, f"the trailer names {recovered.hash}, not a hash ICAO allows")
    expected = _hash(recovered.hash, recovered.m1 + challenge)
    if not constant_time_equal(expected, recovered.digest):
        return _with_reason(fail, "the recovered digest is not H(M1 || challenge)")
    return AaCheck(
        True,
        None,
        "RSA",
        hash=recovered.hash,
        signature_format=SCHEME_9796_2,
        recovered_digest=recovered.digest,
        recovered_message=recovered.m1,
    )


def _with_reason(check: AaCheck, reason: str) -> AaCheck:
    return AaCheck(
        False,
        reason,
        check.algorithm,
        check.hash,
        check.signature_format,
        check.recovered_digest,
        check.recovered_message,
        check.hashes_tried,
    )


def _ecdsa_candidates(response: bytes, order_size: int) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    if len(response) == 2 * order_size:
        out.append(
            (
                FORMAT_PLAIN,
                int.from_bytes(response[:order_size], "big"),
                int.from_bytes(response[order_size:], "big"),
            )
        )
    # DER Ecdsa-Sig-Value: SEQUENCE { r INTEGER, s INTEGER }, each at most L + 1 bytes.
    if response[:1] == b"\x30" and len(response) <= 2 * order_size + 9:
        try:
            der = algos.DSASignature.load(response, strict=True)
            r, s = int(der["r"].native), int(der["s"].native)
            if der.dump(force=True) == response:
                out.append((FORMAT_DER, r, s))
        except BUILTIN_PARSE_ERRORS:
            pass
    return out


def _check_ecdsa(
    key: AaPublicKey, challenge: bytes, response: bytes, hashes: tuple[str, ...]
) -> AaCheck:
    assert key.curve is not None and key.point is not None  # noqa: S101
    candidates = _ecdsa_candidates(response, key.curve.parameters.order_size)
    if not candidates:
        return AaCheck(
            False,
            f"a signature of {len(response)} bytes is neither plain r||s "
            f"({key.signature_length} bytes for {key.description}) nor DER",
            "ECDSA",
        )
    for fmt, r, s in candidates:
        for index, name in enumerate(hashes):
            try:
                key.curve.verify_ecdsa(key.point, _hash(name, challenge), r, s)
            except InvalidSignatureError:
                continue
            tried = hashes[: index + 1]
            return AaCheck(True, None, "ECDSA", hash=name, signature_format=fmt, hashes_tried=tried)
    names = ", ".join(hashes)
    return AaCheck(
        False,
        f"the ECDSA signature does not verify over the challenge with {names}",
        "ECDSA",
        signature_format=candidates[0][0],
        hashes_tried=hashes,
    )


def check_response(
    key: AaPublicKey, challenge: bytes, response: bytes, *, aa_info: Any = None
) -> AaCheck:
    """Check an INTERNAL AUTHENTICATE response against *challenge* (9303-11 §6.1.2).

    :param aa_info: DG14's ActiveAuthenticationInfo for an ECDSA key (its hash
        is the only one tried); ``None`` tries each allowed hash. Ignored for RSA,
        whose trailer names the hash.
    :returns: an :class:`AaCheck`; a bad signature is ``valid=False`` with a reason.
    :raises UnsupportedAlgorithmError: when *aa_info* names an unknown algorithm.
    :raises LocalProtocolError: for a challenge that is not 8 bytes.
    """
    if len(challenge) != CHALLENGE_LENGTH:
        raise LocalProtocolError(f"an AA challenge has 8 bytes, not {len(challenge)}")
    response = bytes(response)
    if key.rsa is not None:
        return _check_rsa(key, challenge, response)
    return _check_ecdsa(key, challenge, response, hashes_for(aa_info))


def verify_response(dg15: bytes, challenge: bytes, response: bytes, *, aa_info: Any = None) -> bool:
    """Whether *response* is the chip's valid AA signature over *challenge* (9303-11 §6.1).

    :param dg15: the raw DG15 file (tag 6F).
    :param aa_info: the :class:`~epass.lds.security_infos.AaInfo` of DG14 when the key is EC.
    :raises ParseError: for an unreadable DG15.
    :raises UnsupportedAlgorithmError: for a key or signature algorithm that cannot be used.
    """
    return check_response(aa_public_key(dg15), challenge, response, aa_info=aa_info).valid


# ---------------------------------------------------------------------------
# the terminal's run


def internal_authenticate_command(challenge: bytes, key: AaPublicKey | None = None) -> CommandApdu:
    """``00 88 00 00 08 <RND.IFD> Le`` (9303-11 §6.1.2; ISO/IEC 7816-4 §11.5.2).

    Le is 256 (``00``) unless the expected signature is longer (RSA-3072/4096),
    then extended (``0000``).
    """
    if len(challenge) != CHALLENGE_LENGTH:
        raise LocalProtocolError(f"an AA challenge has 8 bytes, not {len(challenge)}")
    expected = 256 if key is None else key.signature_length
    return CommandApdu(
        0x00,
        Ins.INTERNAL_AUTHENTICATE,
        0x00,
        0x00,
        bytes(challenge),
        le=256 if expected <= 256 else 65536,
    )


@dataclass(frozen=True)
class AaResult:
    """The outcome of :func:`perform_aa`, with its evidence.

    :ivar valid: the chip signed the fresh challenge with the DG15 key. Only
        passive authentication of DG15 makes this evidence of a genuine chip.
    :ivar reason: why not, when not valid (a refusal names the status word).
    :ivar challenge: RND.IFD sent. :ivar signature: the response data.
    :ivar algorithm, hash, signature_format, recovered_digest, recovered_message,
        hashes_tried: see :class:`AaCheck`.
    :ivar key_description: e.g. ``"RSA-1024 (e=65537)"``; :ivar key_bits:
    :ivar curve: the named curve for ECDSA.
    :ivar sw: the chip's status word.
    """

    valid: bool
    reason: str | None
    challenge: bytes
    signature: bytes = field(repr=False)
    algorithm: str
    hash: str | None
    signature_format: str | None
    recovered_digest: bytes | None
    recovered_message: bytes | None = field(repr=False)
    hashes_tried: tuple[str, ...]
    key_description: str
    key_bits: int
    curve: str | None
    sw: int


#: Challenges sent on each channel, so that none is ever sent twice to a chip.
_SENT: weakref.WeakKeyDictionary[Channel, set[bytes]] = weakref.WeakKeyDictionary()


def perform_aa(
    channel: Channel, dg15: bytes, *, aa_info: Any = None, rng: Rng = os.urandom
) -> AaResult:
    """Run Active Authentication over *channel* (terminal side, 9303-11 §6.1).

    Sends one INTERNAL AUTHENTICATE with RND.IFD = ``rng(8)``. A challenge
    already sent on this channel is refused (the rng is broken), so a
    recorded answer can never be replayed into a pass.

    :param channel: a channel after BAC or PACE (the chip usually refuses AA before).
    :param dg15: the raw DG15 file (tag 6F).
    :param aa_info: DG14's ActiveAuthenticationInfo, for an ECDSA key.
    :returns: an :class:`AaResult`; a refusal (e.g. ``6A80``, ``6982``) or a
        bad signature gives ``valid=False`` with the reason.
    :raises ParseError: for an unreadable DG15; :raises UnsupportedAlgorithmError:
        for an unusable key or AA algorithm (both before anything is sent).
    :raises LocalProtocolError: when *rng* does not return 8 fresh bytes.
    :raises TransportError, SecureMessagingError: if the link or SM fails.
    """
    key = aa_public_key(dg15)
    if key.rsa is None:
        hashes_for(aa_info)  # refuse an unknown algorithm before sending
    challenge = bytes(rng(CHALLENGE_LENGTH))
    if len(challenge) != CHALLENGE_LENGTH:
        raise LocalProtocolError(f"rng returned {len(challenge)} bytes, asked for 8")
    sent = _SENT.setdefault(channel, set())
    if challenge in sent:
        raise LocalProtocolError(
            "rng repeated an AA challenge on this channel; refusing to reuse it"
        )
    sent.add(challenge)
    response = channel.transmit(internal_authenticate_command(challenge, key))
    common = {
        "challenge": challenge,
        "signature": response.data,
        "key_description": key.description,
        "key_bits": key.bits,
        "curve": key.curve_name,
        "sw": response.sw,
    }
    if response.sw != StatusWord.SUCCESS:
        return AaResult(
            valid=False,
            reason=f"the chip refused INTERNAL AUTHENTICATE: {StatusWord.from_int(response.sw)}",
            algorithm=key.algorithm,
            hash=None,
            signature_format=None,
            recovered_digest=None,
            recovered_message=None,
            hashes_tried=(),
            **common,  # type: ignore[arg-type]
        )
    check = check_response(key, challenge, response.data, aa_info=aa_info)
    return AaResult(
        valid=check.valid,
        reason=check.reason,
        algorithm=check.algorithm,
        hash=check.hash,
        signature_format=check.signature_format,
        recovered_digest=check.recovered_digest,
        recovered_message=check.recovered_message,
        hashes_tried=check.hashes_tried,
        **common,  # type: ignore[arg-type]
    )
