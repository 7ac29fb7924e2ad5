"""Secure messaging: pure wrap and unwrap of APDUs (ICAO Doc 9303-11 §9.8, ISO/IEC 7816-4 §10).

One class serves both ends of the link. With ``role=Role.TERMINAL`` (the
default) :meth:`SecureMessaging.wrap` protects a command and
:meth:`SecureMessaging.unwrap` checks and opens a response; with
``role=Role.CHIP`` the virtual chip uses the same object the other way round
(unwrap a command, wrap a response). No I/O happens here.

The send sequence counter (SSC) is incremented before every command and every
response (§9.8.2). With 3DES it is 8 bytes and messages are encrypted with a
zero IV and MACed with the retail MAC (§9.8.3.1, §9.8.6.1); with AES it is 16
bytes, the IV is E(KS_enc, SSC) and the MAC is AES-CMAC truncated to 8 bytes
(§9.8.3.2, §9.8.6.2). MAC input is always padded with ISO/IEC 9797-1 method 2.

Command layout (§9.8.4): masked header ``CLA|0C INS P1 P2``, then DO'87'
(``01`` + encrypted padded data; DO'85' without the ``01`` for odd INS),
DO'97' (Le), DO'8E' (MAC), and Le ``00`` (``0000`` when extended). Response
layout (§9.8.5): DO'87'/'85', DO'99' (the status word), DO'8E'.

There is no way to skip a MAC check. After any failure the object is closed
and refuses further use: the chip has dropped its session keys too.
"""

from __future__ import annotations

import functools
from enum import Enum
from typing import NamedTuple

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
    pad,
    retail_mac,
    unpad,
)
from epass.apdu import CommandApdu, ResponseApdu
from epass.errors import LocalProtocolError, ParseError, SecureMessagingError

__all__ = ["Role", "SecureMessaging", "max_plain_response", "protected_response_length"]

MAC_LENGTH = 8
_DO87 = 0x87
_DO85 = 0x85
_DO97 = 0x97
_DO99 = 0x99
_DO8E = 0x8E


class Role(Enum):
    """Which end of the link a :class:`SecureMessaging` object sits on."""

    TERMINAL = "terminal"
    CHIP = "chip"


def protected_response_length(plain_length: int, block_size: int, *, odd_ins: bool = False) -> int:
    """Bytes a protected response takes for *plain_length* plain data bytes (without SW)."""
    size = 4 + 2 + MAC_LENGTH  # DO'99' + DO'8E'
    if plain_length:
        enc = (plain_length // block_size + 1) * block_size
        value = enc if odd_ins else enc + 1
        size += 1 + len(tlv.encode_length(value)) + value
    return size


@functools.lru_cache(maxsize=64)
def max_plain_response(limit: int, block_size: int, *, odd_ins: bool = False) -> int:
    """The most plain bytes whose protected response fits in *limit* bytes.

    With a short response (``limit=256``) this is 231 for 3DES and 223 for AES.
    """
    # Start from the upper bound and walk down: at most a few block sizes.
    n = max(0, limit - 16)
    while n > 0 and protected_response_length(n, block_size, odd_ins=odd_ins) > limit:
        n -= 1
    return n


class SecureMessaging:
    """A secure messaging session with fixed keys and a running SSC.

    :param cipher: ``"3DES"`` or ``"AES"``.
    :param ks_enc: the session encryption key (16 bytes for 3DES; 16, 24 or 32 for AES).
    :param ks_mac: the session MAC key (same length rules).
    :param ssc: the initial send sequence counter as an int.
    :param role: :attr:`Role.TERMINAL` (default) or :attr:`Role.CHIP`.
    """

    def __init__(
        self,
        cipher: CipherKind | str,
        ks_enc: bytes,
        ks_mac: bytes,
        ssc: int,
        *,
        role: Role = Role.TERMINAL,
    ) -> None:
        self.cipher = CipherKind(cipher)
        if self.cipher is CipherKind.DES3:
            if len(ks_enc) != 16 or len(ks_mac) != 16:
                raise LocalProtocolError("3DES session keys must be 16 bytes each")
        elif len(ks_enc) not in (16, 24, 32) or len(ks_mac) != len(ks_enc):
            raise LocalProtocolError("AES session keys must be 16, 24 or 32 bytes, both alike")
        self.ks_enc = bytes(ks_enc)
        self.ks_mac = bytes(ks_mac)
        self.block_size = self.cipher.block_size
        if not 0 <= ssc < 1 << (8 * self.block_size):
            raise LocalProtocolError("SSC out of range")
        self.ssc = ssc
        self.role = role
        self.closed = False
        self._last_odd_ins = False

    def __repr__(self) -> str:  # never show keys
        return f"SecureMessaging({self.cipher.value}, role={self.role.value}, closed={self.closed})"

    # -- shared pieces ---------------------------------------------------------

    @property
    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.block_size, "big")

    def _next_ssc(self) -> None:
        if self.closed:
            raise LocalProtocolError("secure messaging session is closed")
        self.ssc = (self.ssc + 1) % (1 << (8 * self.block_size))

    def _iv(self) -> bytes:
        if self.cipher is CipherKind.DES3:
            return bytes(8)
        return aes_ecb_encrypt_block(self.ks_enc, self.ssc_bytes)

    def _encrypt(self, data: bytes) -> bytes:
        padded = pad(data, self.block_size)
        if self.cipher is CipherKind.DES3:
            return des3_cbc_encrypt(self.ks_enc, padded, self._iv())
        return aes_cbc_encrypt(self.ks_enc, padded, self._iv())

    def _decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block_size:
            raise self._fail("cryptogram length is not a multiple of the block size")
        if self.cipher is CipherKind.DES3:
            plain = des3_cbc_decrypt(self.ks_enc, data, self._iv())
        else:
            plain = aes_cbc_decrypt(self.ks_enc, data, self._iv())
        try:
            return unpad(plain)
        except ValueError:
            raise self._fail("bad padding in decrypted data") from None

    def _cryptogram_do(self, data: bytes, *, odd: bool) -> bytes:
        """DO'87' (``01`` + cryptogram) for even INS, DO'85' for odd INS; empty without data."""
        if not data:
            return b""
        cryptogram = self._encrypt(data)
        if odd:
            return tlv.encode(_DO85, cryptogram)
        return tlv.encode(_DO87, b"\x01" + cryptogram)

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC over SSC || *data* (padding method 2 applied here)."""
        msg = pad(self.ssc_bytes + data, self.block_size)
        if self.cipher is CipherKind.DES3:
            return retail_mac(self.ks_mac, msg, padded=True)
        return aes_cmac(self.ks_mac, msg)[:MAC_LENGTH]

    def _fail(self, message: str, sw: int | None = None) -> SecureMessagingError:
        self.closed = True
        return SecureMessagingError(message, sw=sw)

    def _check_mac(self, covered: bytes, mac: bytes) -> None:
        if not constant_time_equal(self.mac(covered), mac):
            raise self._fail("MAC verification failed")

    # -- role dispatch ---------------------------------------------------------

    def wrap(self, message: bytes) -> bytes:
        """Protect what this end sends: a command (terminal) or a response (chip)."""
        if self.role is Role.TERMINAL:
            return self.protect_command(message)
        return self.protect_response(message)

    def unwrap(self, message: bytes) -> bytes:
        """Check and open what this end receives: a response (terminal) or a command (chip).

        :raises SecureMessagingError: on a bad or missing MAC, missing DO'99',
            or a response without secure messaging; the session is closed.
        """
        if self.role is Role.TERMINAL:
            return self.unprotect_response(message)
        return self.unprotect_command(message)

    # -- terminal side -----------------------------------------------------------

    def protect_command(self, command: bytes) -> bytes:
        """Protect a plain command APDU (ICAO Doc 9303-11 §9.8.4)."""
        apdu = CommandApdu.from_bytes(command)
        if apdu.cla & 0x0C:
            raise LocalProtocolError("command is already marked as secure messaging")
        self._next_ssc()
        header = bytes((apdu.cla | 0x0C, apdu.ins, apdu.p1, apdu.p2))
        odd = bool(apdu.ins & 1)
        body = self._cryptogram_do(apdu.data, odd=odd)
        extended = apdu.is_extended
        if apdu.le is not None:
            if extended:
                le = b"\x00\x00" if apdu.le == 65536 else apdu.le.to_bytes(2, "big")
            else:
                le = bytes([apdu.le & 0xFF])
            body += tlv.encode(_DO97, le)
        mac = self.mac(pad(header, self.block_size) + body)
        body += tlv.encode(_DO8E, mac)
        protected = CommandApdu(
            header[0],
            apdu.ins,
            apdu.p1,
            apdu.p2,
            body,
            le=65536 if extended else 256,
            extended=extended,
        )
        self._last_odd_ins = odd
        return protected.to_bytes()

    def unprotect_response(self, response: bytes) -> bytes:
        """Check and decrypt a protected response APDU (ICAO Doc 9303-11 §9.8.5).

        :returns: the plain response: data then the status word from DO'99'.
        :raises SecureMessagingError: see :meth:`unwrap`.
        """
        if self.closed:
            raise LocalProtocolError("secure messaging session is closed")
        try:
            rapdu = ResponseApdu.from_bytes(response)
        except ParseError as exc:
            raise self._fail(f"malformed response: {exc}") from exc
        if not rapdu.data:
            raise self._fail(
                f"chip answered 0x{rapdu.sw:04X} without secure messaging; session ended",
                sw=rapdu.sw,
            )
        parts = self._split(rapdu.data, response=True)
        self._next_ssc()
        self._check_mac(parts.covered, parts.mac)
        plain = self._decrypt(parts.cryptogram) if parts.cryptogram is not None else b""
        return plain + parts.extra

    # -- chip side -----------------------------------------------------------------

    def unprotect_command(self, command: bytes) -> bytes:
        """Check and decrypt a protected command APDU (the chip's side of §9.8.4).

        :returns: the plain command APDU bytes.
        :raises SecureMessagingError: on a missing or bad MAC or malformed DOs.
        """
        if self.closed:
            raise LocalProtocolError("secure messaging session is closed")
        try:
            apdu = CommandApdu.from_bytes(command)
        except ParseError as exc:
            raise self._fail(f"malformed command: {exc}") from exc
        if apdu.cla & 0x0C != 0x0C:
            raise self._fail("command without secure messaging")
        header = bytes((apdu.cla, apdu.ins, apdu.p1, apdu.p2))
        parts = self._split(apdu.data, response=False)
        self._next_ssc()
        self._check_mac(pad(header, self.block_size) + parts.covered, parts.mac)
        data = self._decrypt(parts.cryptogram) if parts.cryptogram is not None else b""
        le: int | None = None
        extended = len(data) > 255
        le_bytes = parts.extra if parts.has_extra else None
        if le_bytes is not None:
            if len(le_bytes) == 1:
                le = le_bytes[0] or 256
            elif len(le_bytes) == 2:
                le = int.from_bytes(le_bytes, "big") or 65536
                extended = True
            else:
                raise self._fail("DO'97' must hold one or two bytes")
        self._last_odd_ins = bool(apdu.ins & 1)
        plain = CommandApdu(apdu.cla & ~0x0C & 0xFF, apdu.ins, apdu.p1, apdu.p2, data, le, extended)
        return plain.to_bytes()

    def protect_response(self, response: bytes) -> bytes:
        """Protect a plain response APDU (the chip's side of §9.8.5)."""
        rapdu = ResponseApdu.from_bytes(response)
        self._next_ssc()
        body = self._cryptogram_do(rapdu.data, odd=self._last_odd_ins)
        sw = rapdu.sw.to_bytes(2, "big")
        body += tlv.encode(_DO99, sw)
        body += tlv.encode(_DO8E, self.mac(body))
        return body + sw

    # -- parsing the data objects -------------------------------------------------

    def _split(self, data: bytes, *, response: bool) -> _Parts:
        """Split the SM data objects of a response (DO'99') or a command (DO'97')."""
        try:
            objects = tlv.decode_all(data, file="SM response" if response else "SM command")
        except ParseError as exc:
            raise self._fail(f"malformed secure messaging data objects: {exc}") from exc
        if not objects or objects[-1].tag != _DO8E:
            raise self._fail("DO'8E' (MAC) missing")
        mac_do = objects[-1]
        if len(mac_do.value) != MAC_LENGTH:
            raise self._fail(f"DO'8E' holds {len(mac_do.value)} bytes, expected {MAC_LENGTH}")
        covered = data[: mac_do.offset]
        cryptogram: bytes | None = None
        extra: bytes | None = None
        allowed = (_DO87, _DO85, _DO99) if response else (_DO87, _DO85, _DO97)
        seen: set[int] = set()
        for obj in objects[:-1]:
            if obj.tag not in allowed or obj.tag in seen:
                raise self._fail(f"unexpected or repeated data object {obj.tag:02X}")
            seen.add(obj.tag)
            if obj.tag == _DO87:
                if not obj.value or obj.value[0] != 0x01:
                    raise self._fail("DO'87' without padding-content indicator 01")
                cryptogram = obj.value[1:]
            elif obj.tag == _DO85:
                cryptogram = obj.value
            else:
                extra = obj.value
        if _DO87 in seen and _DO85 in seen:
            raise self._fail("both DO'87' and DO'85' present")
        if response:
            if extra is None:
                raise self._fail("DO'99' (protected status word) missing")
            if len(extra) != 2:
                raise self._fail("DO'99' must hold two bytes")
        return _Parts(covered, mac_do.value, cryptogram, extra or b"", extra is not None)


class _Parts(NamedTuple):
    covered: bytes  # the data objects the MAC covers, as received
    mac: bytes
    cryptogram: bytes | None
    extra: bytes  # DO'99' (response) or DO'97' (command) value
    has_extra: bool
