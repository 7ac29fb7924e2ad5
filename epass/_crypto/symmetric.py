"""Symmetric primitives for BAC, PACE and secure messaging.

* 3DES two-key CBC with the key expanded explicitly to k1|k2|k1 (cryptography
  keeps ``TripleDES`` in ``hazmat.decrepit`` and deprecates 16-byte keys).
* AES-CBC and single-block AES-ECB (the SM IV is E(KS_enc, SSC)).
* Retail MAC: ISO/IEC 9797-1 MAC algorithm 3 with DES, padding method 2
  (ICAO Doc 9303-11 §9.8.3.1).
* AES-CMAC (NIST SP 800-38B), truncated to 8 bytes by the caller (§9.8.3.2).
* The key derivation function KDF(K, c) (ICAO Doc 9303-11 §9.7.1).
* ISO/IEC 9797-1 padding method 2.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from epass.errors import LocalProtocolError

__all__ = [
    "CipherKind",
    "adjust_parity",
    "aes_cbc_decrypt",
    "aes_cbc_encrypt",
    "aes_cmac",
    "aes_ecb_encrypt_block",
    "constant_time_equal",
    "des3_cbc_decrypt",
    "des3_cbc_encrypt",
    "kdf",
    "pad",
    "retail_mac",
    "unpad",
]

ZERO_IV_8 = bytes(8)


class CipherKind(StrEnum):
    """The block cipher of a secure messaging session."""

    DES3 = "3DES"
    AES = "AES"

    @property
    def block_size(self) -> int:
        return 8 if self is CipherKind.DES3 else 16


def pad(data: bytes, block_size: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: append ``80`` then ``00`` to a block boundary."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block_size)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 9797-1 padding method 2.

    :raises ValueError: if the padding is absent or malformed (callers turn it
        into their own typed error).
    """
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise ValueError("bad ISO/IEC 9797-1 method 2 padding")
    return stripped[:-1]


def adjust_parity(key: bytes) -> bytes:
    """Set the DES odd-parity bit (the least significant) of every key byte."""
    out = bytearray(key)
    for i, b in enumerate(out):
        high = b & 0xFE
        out[i] = high | ((bin(high).count("1") + 1) & 1)
    return bytes(out)


def _des3_key(key: bytes) -> bytes:
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise LocalProtocolError(f"3DES key must be 16 or 24 bytes, not {len(key)}")


def des3_cbc_encrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV_8) -> bytes:
    """3DES-CBC encrypt; *data* must already be a multiple of 8 bytes."""
    enc = Cipher(TripleDES(_des3_key(key)), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def des3_cbc_decrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV_8) -> bytes:
    """3DES-CBC decrypt; *data* must be a multiple of 8 bytes."""
    if len(data) % 8:
        raise ValueError("3DES ciphertext is not a multiple of 8 bytes")
    dec = Cipher(TripleDES(_des3_key(key)), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def _check_aes_key(key: bytes) -> None:
    if len(key) not in (16, 24, 32):
        raise LocalProtocolError(f"AES key must be 16, 24 or 32 bytes, not {len(key)}")


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes) -> bytes:
    """AES-CBC encrypt; *data* must already be a multiple of 16 bytes."""
    _check_aes_key(key)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes) -> bytes:
    """AES-CBC decrypt; *data* must be a multiple of 16 bytes."""
    _check_aes_key(key)
    if len(data) % 16:
        raise ValueError("AES ciphertext is not a multiple of 16 bytes")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def aes_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with AES-ECB (the SM IV: E(KS_enc, SSC))."""
    _check_aes_key(key)
    if len(block) != 16:
        raise LocalProtocolError("AES block must be 16 bytes")
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block, by spec
    return enc.update(block) + enc.finalize()


def retail_mac(key: bytes, data: bytes, *, padded: bool = False) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) with DES and padding method 2.

    ICAO Doc 9303-11 §9.8.3.1: single-DES CBC with K_a over all blocks, then
    decrypt the last block with K_b and encrypt with K_a. Computed as 3DES-CBC
    over the last block chained from the single-DES CBC of the others, which
    is the same function.

    :param key: 16 bytes, K_a | K_b.
    :param padded: whether *data* is already padded (method 2).
    :returns: the 8-byte MAC.
    """
    if len(key) != 16:
        raise LocalProtocolError(f"retail MAC key must be 16 bytes, not {len(key)}")
    msg = data if padded else pad(data, 8)
    if not msg or len(msg) % 8:
        raise LocalProtocolError("retail MAC input is not a multiple of 8 bytes")
    ka = key[:8]
    # Single DES = 3DES with K1=K2=K3 (the decrepit TripleDES accepts 8|8|8).
    head = msg[:-8]
    iv = ZERO_IV_8
    if head:
        iv = des3_cbc_encrypt(ka * 3, head)[-8:]
    return des3_cbc_encrypt(key + ka, msg[-8:], iv)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B) over *data*; returns all 16 bytes."""
    _check_aes_key(key)
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def kdf(key_seed: bytes, counter: int, cipher: CipherKind | str, key_bits: int = 128) -> bytes:
    """The key derivation function of ICAO Doc 9303-11 §9.7.1.

    ``KDF(K, c)`` hashes ``K || c`` (c a 32-bit big-endian counter: 1 for
    K_enc, 2 for K_mac, 3 for the PACE password key K_pi). 3DES and AES-128
    keys use SHA-1, AES-192 and AES-256 use SHA-256. 3DES keys are the first
    16 bytes with DES parity adjusted (§9.7.1.1).

    :param key_bits: 112 or 128 for 3DES (both give 16 bytes), 128/192/256 for AES.
    """
    kind = CipherKind(cipher)
    data = key_seed + counter.to_bytes(4, "big")
    if kind is CipherKind.DES3:
        return adjust_parity(hashlib.sha1(data).digest()[:16])  # noqa: S324 - mandated by 9303-11
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]  # noqa: S324 - mandated by 9303-11
    if key_bits == 192:
        return hashlib.sha256(data).digest()[:24]
    if key_bits == 256:
        return hashlib.sha256(data).digest()
    raise LocalProtocolError(f"no KDF for AES-{key_bits}")


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare MACs without leaking where they differ."""
    return hmac.compare_digest(a, b)
