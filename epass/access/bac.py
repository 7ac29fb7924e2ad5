"""Basic Access Control (ICAO Doc 9303-11 §4.3, §9.7; worked example in Appendix D).

Pure steps for both ends of the protocol plus :func:`perform_bac`, the only
function here that does I/O (through a :class:`~epass.channel.Channel`).

Terminal side::

    K_seed = SHA-1(MRZ_information)[:16]               (§9.7.2, D.2)
    K_enc, K_mac = KDF(K_seed, 1), KDF(K_seed, 2)      (§9.7.1)
    RND.IC  <- GET CHALLENGE
    S = RND.IFD || RND.IC || K.IFD;  E_IFD = E(K_enc, S);  M_IFD = MAC(K_mac, E_IFD)
    E_IC || M_IC <- EXTERNAL AUTHENTICATE (E_IFD || M_IFD)
    check M_IC, decrypt R = RND.IC || RND.IFD || K.IC, check the nonces
    K_seed' = K.IFD xor K.IC -> KS_enc, KS_mac;  SSC = RND.IC[4:] || RND.IFD[4:]   (§9.7.4)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from epass._crypto.symmetric import (
    CipherKind,
    constant_time_equal,
    des3_cbc_decrypt,
    des3_cbc_encrypt,
    kdf,
    retail_mac,
)
from epass.apdu import CommandApdu, Ins
from epass.channel import Channel
from epass.errors import AccessControlError, LocalProtocolError, StatusWordError
from epass.sm import Role, SecureMessaging
from epass.status import StatusWord

__all__ = [
    "BacChip",
    "build_authentication_data",
    "derive_keys",
    "derive_session",
    "key_seed",
    "open_chip_response",
    "perform_bac",
]

Rng = Callable[[int], bytes]

#: What a chip answers EXTERNAL AUTHENTICATE with when the MRZ key is wrong.
_WRONG_KEY = frozenset({StatusWord.VERIFICATION_FAILED, StatusWord.SECURITY_STATUS_NOT_SATISFIED})


def key_seed(mrz_information: str) -> bytes:
    """K_seed: the first 16 bytes of SHA-1 over the MRZ information (§9.7.2).

    :param mrz_information: document number, check digit, date of birth,
        check digit, date of expiry, check digit, e.g.
        ``"L898902C<369080619406236"`` (Appendix D.2).
    """
    if not mrz_information or not mrz_information.isascii():
        raise LocalProtocolError("MRZ information must be non-empty ASCII")
    return hashlib.sha1(mrz_information.encode("ascii")).digest()[:16]  # noqa: S324 - 9303-11


def derive_keys(mrz_information: str) -> tuple[bytes, bytes]:
    """The document basic access keys K_enc and K_mac (16 bytes each, parity adjusted)."""
    seed = key_seed(mrz_information)
    return kdf(seed, 1, CipherKind.DES3), kdf(seed, 2, CipherKind.DES3)


def build_authentication_data(
    k_enc: bytes, k_mac: bytes, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes
) -> bytes:
    """E_IFD || M_IFD, the data of EXTERNAL AUTHENTICATE (§9.7.3, D.3)."""
    if len(rnd_ic) != 8 or len(rnd_ifd) != 8 or len(k_ifd) != 16:
        raise LocalProtocolError("RND.IC, RND.IFD must be 8 bytes and K.IFD 16 bytes")
    e_ifd = des3_cbc_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    return e_ifd + retail_mac(k_mac, e_ifd)


def derive_session(
    k_a: bytes, k_b: bytes, rnd_ic: bytes, rnd_ifd: bytes, *, role: Role = Role.TERMINAL
) -> SecureMessaging:
    """Session keys and SSC from the two key halves and nonces (§9.7.4)."""
    seed = bytes(a ^ b for a, b in zip(k_a, k_b, strict=True))
    ssc = int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big")
    return SecureMessaging(
        CipherKind.DES3,
        kdf(seed, 1, CipherKind.DES3),
        kdf(seed, 2, CipherKind.DES3),
        ssc,
        role=role,
    )


def open_chip_response(
    k_enc: bytes, k_mac: bytes, response: bytes, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes
) -> SecureMessaging:
    """Check the chip's EXTERNAL AUTHENTICATE response and derive the session (§9.7.3-4).

    :raises AccessControlError: with step ``"verify chip response"`` if the
        MAC or the returned nonces are wrong.
    """
    step = "verify chip response"
    if len(response) != 40:
        raise AccessControlError(
            f"expected 40 bytes, got {len(response)}", step=step, protocol="BAC"
        )
    e_ic, m_ic = response[:32], response[32:]
    if not constant_time_equal(retail_mac(k_mac, e_ic), m_ic):
        raise AccessControlError("chip MAC M_IC does not verify", step=step, protocol="BAC")
    r = des3_cbc_decrypt(k_enc, e_ic)
    if not constant_time_equal(r[:8], rnd_ic) or not constant_time_equal(r[8:16], rnd_ifd):
        raise AccessControlError(
            "chip did not return the expected nonces", step=step, protocol="BAC"
        )
    return derive_session(k_ifd, r[16:32], rnd_ic, rnd_ifd)


@dataclass
class BacChip:
    """The chip's side of BAC, used by the virtual chip (and tests).

    (Not to be confused with Chip Authentication, 9303-11 §6.2, a different protocol.)

    :param mrz_information: the chip's own MRZ information.
    :param rng: randomness for RND.IC and K.IC.
    """

    mrz_information: str
    rng: Rng = os.urandom
    rnd_ic: bytes | None = None

    def challenge(self) -> bytes:
        """Answer GET CHALLENGE: a fresh RND.IC."""
        self.rnd_ic = self.rng(8)
        return self.rnd_ic

    def authenticate(self, data: bytes) -> tuple[bytes, SecureMessaging]:
        """Answer EXTERNAL AUTHENTICATE.

        :returns: the 40-byte response E_IC || M_IC and the chip-side session.
        :raises AccessControlError: if there was no challenge, or the
            terminal's MAC or nonce is wrong (the chip answers 6300).
        """
        step = "EXTERNAL AUTHENTICATE"
        rnd_ic = self.rnd_ic
        self.rnd_ic = None  # a challenge is good for one attempt only
        if rnd_ic is None:
            raise AccessControlError("no challenge outstanding", step=step, protocol="BAC")
        if len(data) != 40:
            raise AccessControlError(
                f"expected 40 bytes, got {len(data)}", step=step, protocol="BAC"
            )
        k_enc, k_mac = derive_keys(self.mrz_information)
        e_ifd, m_ifd = data[:32], data[32:]
        if not constant_time_equal(retail_mac(k_mac, e_ifd), m_ifd):
            raise AccessControlError("terminal MAC does not verify", step=step, protocol="BAC")
        s = des3_cbc_decrypt(k_enc, e_ifd)
        rnd_ifd, echoed, k_ifd = s[:8], s[8:16], s[16:32]
        if not constant_time_equal(echoed, rnd_ic):
            raise AccessControlError("terminal echoed a wrong RND.IC", step=step, protocol="BAC")
        k_ic = self.rng(16)
        e_ic = des3_cbc_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
        response = e_ic + retail_mac(k_mac, e_ic)
        session = derive_session(k_ic, k_ifd, rnd_ic, rnd_ifd, role=Role.CHIP)
        return response, session


def perform_bac(
    channel: Channel, mrz_information: str, *, rng: Rng = os.urandom
) -> SecureMessaging:
    """Run BAC over *channel* and start secure messaging on it.

    Draws ``rng(8)`` for RND.IFD, then ``rng(16)`` for K.IFD.

    :param channel: a channel without secure messaging, with the eMRTD
        application selected.
    :returns: the terminal-side :class:`SecureMessaging` now active on the channel.
    :raises AccessControlError: naming the step that failed: ``"GET CHALLENGE"``,
        ``"EXTERNAL AUTHENTICATE"`` (the chip refused: most often a wrong
        document number, date of birth or date of expiry) or
        ``"verify chip response"``.
    :raises TransportError: if the link fails.
    """
    k_enc, k_mac = derive_keys(mrz_information)
    try:
        rnd_ic = channel.send(
            CommandApdu(0x00, Ins.GET_CHALLENGE, 0, 0, le=8), name="GET CHALLENGE"
        ).data
    except StatusWordError as exc:
        raise AccessControlError(str(exc), step="GET CHALLENGE", protocol="BAC", sw=exc.sw) from exc
    if len(rnd_ic) != 8:
        raise AccessControlError(
            f"challenge of {len(rnd_ic)} bytes, expected 8", step="GET CHALLENGE", protocol="BAC"
        )
    rnd_ifd = rng(8)
    k_ifd = rng(16)
    data = build_authentication_data(k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd)
    response = channel.transmit(CommandApdu(0x00, Ins.EXTERNAL_AUTHENTICATE, 0, 0, data, le=40))
    if response.sw != StatusWord.SUCCESS:
        hint = (
            " (wrong document number, date of birth or date of expiry?)"
            if response.sw in _WRONG_KEY
            else ""
        )
        raise AccessControlError(
            f"chip answered {StatusWord.from_int(response.sw)}{hint}",
            step="EXTERNAL AUTHENTICATE",
            protocol="BAC",
            sw=response.sw,
        )
    sm = open_chip_response(k_enc, k_mac, response.data, rnd_ic, rnd_ifd, k_ifd)
    channel.start_secure_messaging(sm)
    return sm
