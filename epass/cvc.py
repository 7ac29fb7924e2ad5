"""Card-verifiable (CV) certificates of Extended Access Control (BSI TR-03110-3 Appendix C, D).

A CV certificate is a TLV structure, not X.509 (TR-03110-3 C.1, Table C.1)::

    7F21 CV Certificate
        7F4E Certificate Body
            5F29 Certificate Profile Identifier   one byte, 00 (version 1)
            42   Certification Authority Reference (CAR)   ISO 8859-1, ≤ 16 characters
            7F49 Public Key                         (D.3: 06 OID, then 81.. by key type)
            5F20 Certificate Holder Reference (CHR)  ISO 8859-1, ≤ 16 characters
            7F4C Certificate Holder Authorization Template (CHAT): 06 role OID, 53 bit map
            5F25 Certificate Effective Date          six digit bytes Y Y M M D D (D.2: Date)
            5F24 Certificate Expiration Date         six digit bytes
            65   Certificate Extensions              optional (C.3)
        5F37 Signature                              over the encoded 7F4E (tag, length, value)

The public key (TR-03110-3 D.3) names its signature algorithm by an id-TA OID
(A.6.4: ``0.4.0.127.0.7.2.2.2.1.x`` RSA, ``….2.2.x`` ECDSA) and holds

* RSA: ``81`` modulus n, ``82`` public exponent e;
* EC: ``86`` public point Y, and in a CVCA certificate also the domain
  parameters ``81`` prime p, ``82`` a, ``83`` b, ``84`` base point G,
  ``85`` order r, ``87`` cofactor f. DV and terminal certificates carry only
  ``86`` and inherit the parameters of the CVCA key that (indirectly) signed
  them (D.3.3).

ECDSA signatures are plain ``r || s`` (TR-03111 §5.2.1, each the byte length
of the order); RSA signatures are RSASSA-PKCS1-v1_5 or RSASSA-PSS (PKCS #1).

The CHAT (Table C.1, C.4) names a terminal type by OID: ``id-IS``
(0.4.0.127.0.7.3.1.2.1, inspection system, the ePassport's EAC v1),
``id-AT`` (….2.2, authentication terminal, the eID), ``id-ST`` (….2.3,
signature terminal). Its bit map's two most significant bits are the role
(11 CVCA, 10 DV official domestic, 01 DV non-official/foreign, 00 terminal);
for an inspection system bit 0 grants reading DG3 (fingerprints) and bit 1
DG4 (iris) (C.4.1).

Parsing is bounded (at most :data:`MAX_CERTIFICATE_SIZE` bytes, every field
length checked) and strict: tags in the order of Table C.1, no unknown or
repeated tags, dates that are calendar dates. Malformed bytes raise
:class:`~epass.errors.ParseError` naming the file and offset; verification
raises :class:`~epass.errors.InvalidSignatureError` or
:class:`~epass.errors.UnsupportedAlgorithmError`, never returns ``False``.

The encoders (:func:`encode_public_key`, :func:`encode_body`,
:func:`encode_certificate`) build certificates for tests and the virtual
chip's test PKI.

Why not pycvc (the one CVC library on PyPI, evaluated for this module): it is
GPL-3.0 (epass is MIT), untyped, parses without bounds (a truncated
certificate raises ``AttributeError``), reads issuer certificates from a
folder named by CAR and prints warnings instead of raising, verifies EC keys
only on curves it has a table entry for, and uses the maximal PSS salt
rather than the hash-length salt the standard signers use.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum

from asn1crypto import core

from epass import tlv
from epass._crypto.ec import Curve, DomainParameters, match_named_curve
from epass._crypto.signing import verify_rsa
from epass.errors import (
    InvalidPointError,
    InvalidSignatureError,
    ParseError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "ID_AT",
    "ID_IS",
    "ID_ST",
    "MAX_CERTIFICATE_SIZE",
    "TA_ALGORITHMS",
    "ChainLink",
    "Chat",
    "CvCertificate",
    "CvPublicKey",
    "Role",
    "TaAlgorithm",
    "check_issuance",
    "decode_date",
    "encode_body",
    "encode_certificate",
    "encode_chat",
    "encode_date",
    "encode_public_key",
    "parse_certificate",
    "verify_chain",
]

#: Largest CV certificate accepted (an RSA-8192 certificate is about 2.2 KB).
MAX_CERTIFICATE_SIZE = 4096
#: Longest CAR/CHR (TR-03110-3 A.6.1: country 2 + mnemonic ≤ 9 + sequence 5).
MAX_REFERENCE_LENGTH = 16
#: Longest integer field of a public key (an RSA-8192 modulus).
MAX_INTEGER_BYTES = 1024
#: Smallest RSA modulus accepted in a CV certificate (the BSI worked example uses 1024).
MIN_RSA_BITS = 1024

TAG_CERTIFICATE = 0x7F21
TAG_BODY = 0x7F4E
TAG_PROFILE = 0x5F29
TAG_CAR = 0x42
TAG_PUBLIC_KEY = 0x7F49
TAG_CHR = 0x5F20
TAG_CHAT = 0x7F4C
TAG_EFFECTIVE = 0x5F25
TAG_EXPIRATION = 0x5F24
TAG_EXTENSIONS = 0x65
TAG_SIGNATURE = 0x5F37
TAG_OID = 0x06
TAG_DISCRETIONARY = 0x53

#: Terminal types (TR-03110-3 C.4): inspection system, authentication terminal, signature terminal.
ID_IS = "0.4.0.127.0.7.3.1.2.1"
ID_AT = "0.4.0.127.0.7.3.1.2.2"
ID_ST = "0.4.0.127.0.7.3.1.2.3"
_TERMINAL_TYPES = {ID_IS: "IS", ID_AT: "AT", ID_ST: "ST"}
#: id-TA (TR-03110-3 A.6.4, bsi-de protocols smartcard 2).
ID_TA = "0.4.0.127.0.7.2.2.2"


# ---------------------------------------------------------------------------
# algorithms


@dataclass(frozen=True)
class TaAlgorithm:
    """A Terminal Authentication signature algorithm (TR-03110-3 A.6.4).

    :ivar oid: dotted id-TA OID; :ivar name: ``"id-TA-ECDSA-SHA-256"``.
    :ivar kind: ``"ecdsa-plain"``, ``"rsa-pkcs1v15"`` or ``"rsa-pss"``.
    :ivar hash: ``"sha1"`` … ``"sha512"``.
    """

    oid: str
    name: str
    kind: str
    hash: str

    @property
    def oid_bytes(self) -> bytes:
        """The OID's DER contents (the value of tag 06 / 80)."""
        return bytes(core.ObjectIdentifier(self.oid).contents)

    @property
    def is_ec(self) -> bool:
        return self.kind == "ecdsa-plain"


def _algorithms() -> dict[str, TaAlgorithm]:
    table = {
        "1.1": ("RSA-v1-5-SHA-1", "rsa-pkcs1v15", "sha1"),
        "1.2": ("RSA-v1-5-SHA-256", "rsa-pkcs1v15", "sha256"),
        "1.3": ("RSA-PSS-SHA-1", "rsa-pss", "sha1"),
        "1.4": ("RSA-PSS-SHA-256", "rsa-pss", "sha256"),
        "1.5": ("RSA-v1-5-SHA-512", "rsa-pkcs1v15", "sha512"),
        "1.6": ("RSA-PSS-SHA-512", "rsa-pss", "sha512"),
        "2.1": ("ECDSA-SHA-1", "ecdsa-plain", "sha1"),
        "2.2": ("ECDSA-SHA-224", "ecdsa-plain", "sha224"),
        "2.3": ("ECDSA-SHA-256", "ecdsa-plain", "sha256"),
        "2.4": ("ECDSA-SHA-384", "ecdsa-plain", "sha384"),
        "2.5": ("ECDSA-SHA-512", "ecdsa-plain", "sha512"),
    }
    return {
        f"{ID_TA}.{arc}": TaAlgorithm(f"{ID_TA}.{arc}", f"id-TA-{name}", kind, hash_name)
        for arc, (name, kind, hash_name) in table.items()
    }


#: Every id-TA signature algorithm by dotted OID (TR-03110-3 A.6.4: RSA and ECDSA).
TA_ALGORITHMS: dict[str, TaAlgorithm] = _algorithms()


# ---------------------------------------------------------------------------
# roles and the CHAT


class Role(IntEnum):
    """The role bits (two most significant bits of the CHAT bit map, TR-03110-3 C.4)."""

    TERMINAL = 0b00
    DV_FOREIGN = 0b01
    DV_DOMESTIC = 0b10
    CVCA = 0b11

    @property
    def is_dv(self) -> bool:
        return self in (Role.DV_FOREIGN, Role.DV_DOMESTIC)


@dataclass(frozen=True)
class Chat:
    """A Certificate Holder Authorization Template (7F4C: 06 terminal type, 53 bit map).

    :ivar oid: the terminal type OID (:data:`ID_IS`, :data:`ID_AT`, :data:`ID_ST`).
    :ivar template: the discretionary data (tag 53): 1 byte for IS and ST, 5 for AT.
    """

    oid: str
    template: bytes

    @property
    def terminal_type(self) -> str:
        """``"IS"``, ``"AT"``, ``"ST"`` or the OID when unknown."""
        return _TERMINAL_TYPES.get(self.oid, self.oid)

    @property
    def role(self) -> Role:
        """The role: the two most significant bits of the bit map."""
        return Role(self.template[0] >> 6)

    @property
    def rights(self) -> int:
        """The access rights: the bit map as an integer without the role bits."""
        bits = len(self.template) * 8
        return int.from_bytes(self.template, "big") & ((1 << (bits - 2)) - 1)

    @property
    def read_dg3(self) -> bool:
        """IS: read access to DG3, fingerprints (bit 0, TR-03110-3 C.4.1)."""
        return self.oid == ID_IS and bool(self.rights & 0x01)

    @property
    def read_dg4(self) -> bool:
        """IS: read access to DG4, iris (bit 1, TR-03110-3 C.4.1)."""
        return self.oid == ID_IS and bool(self.rights & 0x02)

    def describe(self) -> str:
        """E.g. ``"IS, role TERMINAL, rights 03 (DG3, DG4)"``."""
        granted = [dg for dg, ok in (("DG3", self.read_dg3), ("DG4", self.read_dg4)) if ok]
        width = len(self.template) * 2
        text = f"{self.terminal_type}, role {self.role.name}, rights {self.rights:0{width}X}"
        return text + (f" ({', '.join(granted)})" if granted else "")


def encode_chat(oid: str, template: bytes) -> bytes:
    """``7F4C { 06 oid, 53 template }``."""
    body = tlv.encode(TAG_OID, bytes(core.ObjectIdentifier(oid).contents))
    return tlv.encode(TAG_CHAT, body + tlv.encode(TAG_DISCRETIONARY, template))


# ---------------------------------------------------------------------------
# public keys


@dataclass(frozen=True)
class CvPublicKey:
    """The public key of a CV certificate (TR-03110-3 D.3).

    :ivar oid: the id-TA algorithm OID (dotted).
    :ivar algorithm: the :class:`TaAlgorithm`, or ``None`` for an OID not in
        :data:`TA_ALGORITHMS` (such a key parses but cannot verify anything).
    :ivar modulus: :ivar exponent: RSA n and e.
    :ivar domain: explicit EC domain parameters (CVCA keys), else ``None``.
    :ivar point: the EC public point Y as encoded (tag 86).
    :ivar encoded: the whole 7F49 object as received.
    """

    oid: str
    algorithm: TaAlgorithm | None
    modulus: int | None = None
    exponent: int | None = None
    domain: DomainParameters | None = None
    point: bytes | None = field(default=None, repr=False)
    encoded: bytes = field(default=b"", repr=False)

    @property
    def is_ec(self) -> bool:
        return self.algorithm is not None and self.algorithm.is_ec

    def with_domain(self, domain: DomainParameters | None) -> CvPublicKey:
        """This key with inherited domain parameters when it has none (TR-03110-3 D.3.3)."""
        if self.domain is not None or domain is None or not self.is_ec:
            return self
        return replace(self, domain=domain)

    def curve(self) -> Curve:
        """The curve of an EC key (its own or inherited parameters).

        :raises UnsupportedAlgorithmError: for an RSA key, an EC key without
            parameters, or parameters that are not a usable curve.
        """
        if not self.is_ec:
            raise UnsupportedAlgorithmError("not an EC key")
        if self.domain is None:
            raise UnsupportedAlgorithmError(
                "EC key without domain parameters (inherit them from the CVCA key)"
            )
        named = match_named_curve(self.domain)
        return named.curve if named is not None else Curve(self.domain)

    def describe(self) -> str:
        """E.g. ``"id-TA-ECDSA-SHA-256, brainpoolP256r1"`` or ``"…-RSA-PSS-SHA-256, 2048 bits"``."""
        name = self.algorithm.name if self.algorithm else self.oid
        if self.modulus is not None:
            return f"{name}, {self.modulus.bit_length()} bits"
        if self.domain is not None:
            named = match_named_curve(self.domain)
            return f"{name}, {named.name if named else f'explicit {self.domain.bits}-bit curve'}"
        return name

    def verify(self, data: bytes, signature: bytes) -> None:
        """Verify *signature* over *data* with this key and its algorithm.

        :raises InvalidSignatureError: when it does not verify (or has the wrong length).
        :raises UnsupportedAlgorithmError: for an unknown algorithm or an EC
            key without (inherited) domain parameters.
        """
        algorithm = self.algorithm
        if algorithm is None:
            raise UnsupportedAlgorithmError(
                f"{self.oid} is not a Terminal Authentication algorithm"
            )
        if algorithm.is_ec:
            curve = self.curve()
            assert self.point is not None  # noqa: S101 - parse guarantees tag 86 for EC keys
            try:
                public = curve.decode_point(self.point)
            except InvalidPointError as exc:
                raise InvalidSignatureError(f"the EC public key is unusable: {exc}") from None
            size = curve.parameters.order_size
            if len(signature) != 2 * size:
                raise InvalidSignatureError(
                    f"ECDSA plain signature of {len(signature)} bytes, expected {2 * size}"
                )
            digest = hashlib.new(algorithm.hash, bytes(data)).digest()
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            curve.verify_ecdsa(public, digest, r, s)
            return
        assert self.modulus is not None and self.exponent is not None  # noqa: S101 - parsed
        verify_rsa(
            self.modulus,
            self.exponent,
            data,
            signature,
            pss=algorithm.kind == "rsa-pss",
            hash_name=algorithm.hash,
        )


def _uint(value: int, size: int | None = None) -> bytes:
    return value.to_bytes(size or max(1, (value.bit_length() + 7) // 8), "big")


def encode_public_key(
    oid: str,
    *,
    modulus: int | None = None,
    exponent: int | None = None,
    point: bytes | None = None,
    domain: DomainParameters | None = None,
) -> bytes:
    """``7F49 { 06 oid, 81 n, 82 e }`` (RSA) or ``7F49 { 06 oid, [81-85] 86 Y [87] }`` (EC).

    Give *domain* only for a CVCA key (TR-03110-3 D.3.3).
    """
    body = tlv.encode(TAG_OID, bytes(core.ObjectIdentifier(oid).contents))
    if modulus is not None and exponent is not None:
        body += tlv.encode(0x81, _uint(modulus)) + tlv.encode(0x82, _uint(exponent))
    elif point is not None:
        if domain is not None:
            size = domain.field_size
            g = b"\x04" + _uint(domain.gx, size) + _uint(domain.gy, size)
            body += (
                tlv.encode(0x81, _uint(domain.p))
                + tlv.encode(0x82, _uint(domain.a, size))
                + tlv.encode(0x83, _uint(domain.b, size))
                + tlv.encode(0x84, g)
                + tlv.encode(0x85, _uint(domain.n))
            )
        body += tlv.encode(0x86, point)
        if domain is not None:
            body += tlv.encode(0x87, _uint(domain.h))
    else:
        raise ValueError("give modulus and exponent (RSA) or point (EC)")
    return tlv.encode(TAG_PUBLIC_KEY, body)


# ---------------------------------------------------------------------------
# dates


def decode_date(
    value: bytes, *, file: str | None = None, offset: int | None = None
) -> datetime.date:
    """Six unpacked BCD digit bytes ``Y Y M M D D`` → a date in 2000-2099 (TR-03110-3 D.2, Date).

    :raises ParseError: for a wrong length, a byte that is not a digit 0-9, or
        a date that does not exist.
    """
    if len(value) != 6 or any(b > 9 for b in value):
        raise ParseError("a date must be six digit bytes 00-09 (YYMMDD)", file=file, offset=offset)
    year = 2000 + value[0] * 10 + value[1]
    month = value[2] * 10 + value[3]
    day = value[4] * 10 + value[5]
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise ParseError(f"not a calendar date: {exc}", file=file, offset=offset) from None


def encode_date(date: datetime.date) -> bytes:
    """A date in 2000-2099 as six digit bytes (inverse of :func:`decode_date`)."""
    if not 2000 <= date.year <= 2099:
        raise ValueError("CV certificate dates lie in 2000-2099")
    return bytes(int(c) for c in date.strftime("%y%m%d"))


# ---------------------------------------------------------------------------
# certificates


@dataclass(frozen=True)
class CvCertificate:
    """A parsed CV certificate (TR-03110-3 C.1).

    :ivar encoded: the whole certificate (7F21) as received.
    :ivar body: the certificate body (7F4E, tag and length included): what
        PSO:Verify Certificate sends and what the signature covers.
    :ivar profile_identifier: 0 for version 1.
    :ivar car: :ivar chr: the authority and holder references (text).
    :ivar public_key: the :class:`CvPublicKey`.
    :ivar chat: the :class:`Chat`.
    :ivar effective_date: :ivar expiration_date: validity, inclusive.
    :ivar extensions: the value of tag 65, or ``None``.
    :ivar signature: the value of tag 5F37.
    :ivar file: the name the certificate was read from, for messages.
    """

    encoded: bytes = field(repr=False)
    body: bytes = field(repr=False)
    profile_identifier: int
    car: str
    public_key: CvPublicKey
    chr: str
    chat: Chat
    effective_date: datetime.date
    expiration_date: datetime.date
    extensions: bytes | None = field(default=None, repr=False)
    signature: bytes = field(default=b"", repr=False)
    file: str | None = None

    @property
    def role(self) -> Role:
        return self.chat.role

    @property
    def self_signed(self) -> bool:
        """CAR = CHR: a CVCA root certificate (a link certificate has CAR ≠ CHR)."""
        return self.car == self.chr

    @property
    def is_link(self) -> bool:
        """A CVCA link certificate: role CVCA, signed by the previous CVCA key."""
        return self.role is Role.CVCA and not self.self_signed

    @property
    def car_bytes(self) -> bytes:
        return self.car.encode("latin-1")

    @property
    def chr_bytes(self) -> bytes:
        return self.chr.encode("latin-1")

    def valid_on(self, date: datetime.date) -> bool:
        """Whether *date* lies in [effective date, expiration date]."""
        return self.effective_date <= date <= self.expiration_date

    def verify_signature(self, issuer: CvPublicKey) -> None:
        """Verify this certificate's signature with the issuer's key.

        For EC, *issuer* must carry domain parameters (its own or inherited
        with :meth:`CvPublicKey.with_domain`).

        :raises InvalidSignatureError: when it does not verify.
        :raises UnsupportedAlgorithmError: when it cannot be checked.
        """
        issuer.verify(self.body, self.signature)

    def describe(self) -> str:
        """One line: ``"DETESTDVDE019 by DECVCAAT00001, DV_DOMESTIC AT, 2010-09-30..2010-10-30"``"""
        return (
            f"{self.chr} by {self.car}, {self.role.name} {self.chat.terminal_type}, "
            f"{self.effective_date}..{self.expiration_date}"
        )


_BODY_ORDER = (
    (TAG_PROFILE, True),
    (TAG_CAR, True),
    (TAG_PUBLIC_KEY, True),
    (TAG_CHR, True),
    (TAG_CHAT, True),
    (TAG_EFFECTIVE, True),
    (TAG_EXPIRATION, True),
    (TAG_EXTENSIONS, False),
)


def _reference(item: tlv.Tlv, what: str, file: str | None) -> str:
    value = item.value
    if not 1 <= len(value) <= MAX_REFERENCE_LENGTH or any(b < 0x20 or b == 0x7F for b in value):
        raise ParseError(
            f"{what} must be 1-{MAX_REFERENCE_LENGTH} printable ISO 8859-1 characters",
            file=file,
            offset=item.offset,
        )
    return value.decode("latin-1")


def _oid(item: tlv.Tlv, file: str | None) -> str:
    if item.tag != TAG_OID or not 1 <= item.length <= 32:
        raise ParseError(
            "an object identifier (tag 06) was expected", file=file, offset=item.offset
        )
    try:
        return str(core.ObjectIdentifier.load(item.encoded).dotted)
    except (ValueError, TypeError) as exc:
        raise ParseError(
            f"malformed object identifier: {exc}", file=file, offset=item.offset
        ) from None


def _int_field(item: tlv.Tlv, what: str, file: str | None) -> int:
    if not 1 <= item.length <= MAX_INTEGER_BYTES:
        raise ParseError(
            f"{what}: length {item.length} out of range", file=file, offset=item.offset
        )
    return int.from_bytes(item.value, "big")


def _parse_public_key(item: tlv.Tlv, file: str | None) -> CvPublicKey:
    children = item.children(file=file)
    if not children:
        raise ParseError("empty public key", file=file, offset=item.offset)
    oid = _oid(children[0], file)
    fields: dict[int, tlv.Tlv] = {}
    for child in children[1:]:
        if not 0x81 <= child.tag <= 0x87:
            raise ParseError(
                f"unexpected tag {child.tag:02X} in a public key", file=file, offset=child.offset
            )
        if child.tag in fields:
            raise ParseError(f"repeated tag {child.tag:02X}", file=file, offset=child.offset)
        if child.tag < max(fields, default=0):
            raise ParseError(
                f"tag {child.tag:02X} out of order in a public key", file=file, offset=child.offset
            )
        fields[child.tag] = child
    algorithm = TA_ALGORITHMS.get(oid)
    encoded = item.encoded
    if algorithm is None:
        return CvPublicKey(oid, None, encoded=encoded)
    if not algorithm.is_ec:
        if set(fields) != {0x81, 0x82}:
            raise ParseError(
                "an RSA public key holds exactly 81 (modulus) and 82 (exponent)",
                file=file,
                offset=item.offset,
            )
        n = _int_field(fields[0x81], "modulus", file)
        e = _int_field(fields[0x82], "public exponent", file)
        if n.bit_length() < MIN_RSA_BITS or n % 2 == 0:
            raise ParseError(
                f"RSA modulus of {n.bit_length()} bits (at least {MIN_RSA_BITS}, odd)",
                file=file,
                offset=fields[0x81].offset,
            )
        if e < 3 or e % 2 == 0 or e >= n:
            raise ParseError(
                "RSA public exponent out of range", file=file, offset=fields[0x82].offset
            )
        return CvPublicKey(oid, algorithm, modulus=n, exponent=e, encoded=encoded)
    if 0x86 not in fields:
        raise ParseError("an EC public key needs its point (86)", file=file, offset=item.offset)
    point = fields[0x86].value
    if not 1 <= len(point) <= 2 * 66 + 1:
        raise ParseError("EC point length out of range", file=file, offset=fields[0x86].offset)
    params = set(fields) - {0x86}
    domain: DomainParameters | None = None
    if params:
        if params != {0x81, 0x82, 0x83, 0x84, 0x85, 0x87}:
            missing = sorted({0x81, 0x82, 0x83, 0x84, 0x85, 0x87} - params)
            raise ParseError(
                "EC domain parameters must be all of 81-85 and 87 or none; missing "
                + ", ".join(f"{t:02X}" for t in missing),
                file=file,
                offset=item.offset,
            )
        p = _int_field(fields[0x81], "prime", file)
        size = (p.bit_length() + 7) // 8
        g = fields[0x84].value
        if size > 66 or len(g) != 1 + 2 * size or g[0] != 0x04:
            raise ParseError(
                "the base point (84) must be an uncompressed point of the field size",
                file=file,
                offset=fields[0x84].offset,
            )
        domain = DomainParameters(
            p=p,
            a=_int_field(fields[0x82], "coefficient a", file),
            b=_int_field(fields[0x83], "coefficient b", file),
            gx=int.from_bytes(g[1 : 1 + size], "big"),
            gy=int.from_bytes(g[1 + size :], "big"),
            n=_int_field(fields[0x85], "order", file),
            h=_int_field(fields[0x87], "cofactor", file),
        )
        problem = domain.problem()
        if problem is not None:
            raise ParseError(
                f"unusable EC domain parameters: {problem}", file=file, offset=item.offset
            )
    return CvPublicKey(oid, algorithm, domain=domain, point=point, encoded=encoded)


def _parse_chat(item: tlv.Tlv, file: str | None) -> Chat:
    children = item.children(file=file)
    if len(children) != 2 or children[1].tag != TAG_DISCRETIONARY:
        raise ParseError(
            "a CHAT holds 06 (terminal type) and 53 (bit map)", file=file, offset=item.offset
        )
    oid = _oid(children[0], file)
    template = children[1].value
    if not 1 <= len(template) <= 8:
        raise ParseError("CHAT bit map of 1-8 bytes expected", file=file, offset=children[1].offset)
    return Chat(oid, template)


def parse_certificate(data: bytes, *, file: str | None = None) -> CvCertificate:
    """Parse one CV certificate (``7F21 { 7F4E body, 5F37 signature }``, TR-03110-3 C.1).

    :param file: a name for messages (``"at.cvcert"``, ``"chain[2]"``).
    :raises ParseError: naming *file* and the offset for anything malformed:
        truncation, a length beyond the data, wrong or missing tags, tags out
        of order or repeated, trailing bytes, a profile identifier other than
        0, a date that is not six digits or not a calendar date, an RSA modulus
        under :data:`MIN_RSA_BITS`, incomplete EC domain parameters, or more
        than :data:`MAX_CERTIFICATE_SIZE` bytes.
    """
    data = bytes(data)
    if len(data) > MAX_CERTIFICATE_SIZE:
        raise ParseError(
            f"{len(data)} bytes: larger than any CV certificate ({MAX_CERTIFICATE_SIZE})",
            file=file,
            offset=0,
        )
    outer = tlv.decode_single(data, file=file, expected_tag=TAG_CERTIFICATE)
    parts = outer.children(file=file)
    if len(parts) != 2 or parts[0].tag != TAG_BODY or parts[1].tag != TAG_SIGNATURE:
        raise ParseError(
            "a CV certificate holds exactly 7F4E (body) and 5F37 (signature)",
            file=file,
            offset=outer.offset,
        )
    body, signature = parts
    if signature.length == 0:
        raise ParseError("empty signature", file=file, offset=signature.offset)
    items = body.children(file=file)
    found: dict[int, tlv.Tlv] = {}
    position = 0
    for item in items:
        while position < len(_BODY_ORDER) and _BODY_ORDER[position][0] != item.tag:
            tag, required = _BODY_ORDER[position]
            if required:
                raise ParseError(
                    f"tag {tag:02X} expected, found {item.tag:02X} (TR-03110-3 Table C.1 order)",
                    file=file,
                    offset=item.offset,
                )
            position += 1
        if position == len(_BODY_ORDER):
            raise ParseError(
                f"unexpected or repeated tag {item.tag:02X} in the certificate body",
                file=file,
                offset=item.offset,
            )
        found[item.tag] = item
        position += 1
    for tag, required in _BODY_ORDER:
        if required and tag not in found:
            raise ParseError(
                f"tag {tag:02X} missing from the certificate body", file=file, offset=body.offset
            )
    profile = found[TAG_PROFILE]
    if profile.value != b"\x00":
        raise ParseError(
            "certificate profile identifier must be 00 (version 1)",
            file=file,
            offset=profile.offset,
        )
    effective = found[TAG_EFFECTIVE]
    expiration = found[TAG_EXPIRATION]
    effective_date = decode_date(effective.value, file=file, offset=effective.offset)
    expiration_date = decode_date(expiration.value, file=file, offset=expiration.offset)
    if expiration_date < effective_date:
        raise ParseError(
            "expiration date before effective date", file=file, offset=expiration.offset
        )
    extensions = found.get(TAG_EXTENSIONS)
    if extensions is not None:
        tlv.check_tree(extensions, file=file, max_depth=4, max_items=64)
    return CvCertificate(
        encoded=data,
        body=body.encoded,
        profile_identifier=0,
        car=_reference(found[TAG_CAR], "the CAR", file),
        public_key=_parse_public_key(found[TAG_PUBLIC_KEY], file),
        chr=_reference(found[TAG_CHR], "the CHR", file),
        chat=_parse_chat(found[TAG_CHAT], file),
        effective_date=effective_date,
        expiration_date=expiration_date,
        extensions=None if extensions is None else extensions.value,
        signature=signature.value,
        file=file,
    )


def encode_body(
    *,
    car: str,
    public_key: bytes,
    chr: str,
    chat: bytes,
    effective: datetime.date,
    expiration: datetime.date,
    extensions: bytes | None = None,
) -> bytes:
    """The certificate body ``7F4E { 5F29 00, 42, 7F49, 5F20, 7F4C, 5F25, 5F24 [65] }``.

    :param public_key: from :func:`encode_public_key`; :param chat: from :func:`encode_chat`;
    :param extensions: the value of tag 65, if any.
    """
    value = (
        tlv.encode(TAG_PROFILE, b"\x00")
        + tlv.encode(TAG_CAR, car.encode("latin-1"))
        + public_key
        + tlv.encode(TAG_CHR, chr.encode("latin-1"))
        + chat
        + tlv.encode(TAG_EFFECTIVE, encode_date(effective))
        + tlv.encode(TAG_EXPIRATION, encode_date(expiration))
    )
    if extensions is not None:
        value += tlv.encode(TAG_EXTENSIONS, extensions)
    return tlv.encode(TAG_BODY, value)


def encode_certificate(body: bytes, signature: bytes) -> bytes:
    """``7F21 { body, 5F37 signature }``."""
    return tlv.encode(TAG_CERTIFICATE, body + tlv.encode(TAG_SIGNATURE, signature))


# ---------------------------------------------------------------------------
# chains


def check_issuance(issuer: Role, subject: CvCertificate) -> str | None:
    """Why *issuer* (a role) may not have issued *subject*, or ``None`` when it may.

    TR-03110-3 §2 (PKI): a CVCA issues CVCA link certificates and DV
    certificates; a DV issues terminal certificates; a terminal issues nothing.
    """
    if issuer is Role.CVCA:
        if subject.role is Role.TERMINAL:
            return "a CVCA does not issue terminal certificates (a DV does)"
        return None
    if issuer.is_dv:
        if subject.role is not Role.TERMINAL:
            return f"a DV issues only terminal certificates, not {subject.role.name}"
        return None
    return "a terminal certificate's key issues no certificates"


@dataclass(frozen=True)
class ChainLink:
    """One verified step of :func:`verify_chain`: the certificate and the key that checked it."""

    certificate: CvCertificate
    issuer: str
    public_key: CvPublicKey


def verify_chain(
    chain: Sequence[CvCertificate],
    trust_anchor: CvCertificate,
    *,
    date: datetime.date | None = None,
) -> list[ChainLink]:
    """Verify *chain* (issuer first) from *trust_anchor*, a CVCA certificate the verifier trusts.

    Each certificate's CAR must name the previous certificate's CHR (the first
    one's the anchor's), its signature must verify with the previous key (EC
    domain parameters inherited from the last CVCA key, TR-03110-3 D.3.3), and
    the roles must follow :func:`check_issuance`. A self-signed anchor's own
    signature is checked too. With *date*, every certificate must be valid
    on it (effective ≤ date ≤ expiration).

    :returns: one :class:`ChainLink` per certificate of *chain*, with its key
        (domain parameters filled in).
    :raises InvalidSignatureError: naming the certificate that fails any check.
    :raises UnsupportedAlgorithmError: when a signature cannot be checked.
    """
    if trust_anchor.role is not Role.CVCA:
        raise InvalidSignatureError(
            f"the trust anchor {trust_anchor.chr} is not a CVCA certificate"
        )
    key = trust_anchor.public_key
    if key.is_ec and key.domain is None:
        raise InvalidSignatureError(
            f"the trust anchor {trust_anchor.chr} carries no EC domain parameters"
        )
    if trust_anchor.self_signed:
        trust_anchor.verify_signature(key)
    domain = key.domain
    holder: str = trust_anchor.chr
    role: Role = trust_anchor.role
    links: list[ChainLink] = []
    for cert in chain:
        name = cert.file or cert.chr
        if cert.car != holder:
            raise InvalidSignatureError(f"{name}: CAR {cert.car} does not name {holder}")
        why = check_issuance(role, cert)
        if why is not None:
            raise InvalidSignatureError(f"{name}: {why}")
        if date is not None and not cert.valid_on(date):
            raise InvalidSignatureError(
                f"{name}: not valid on {date} ({cert.effective_date}..{cert.expiration_date})"
            )
        try:
            cert.verify_signature(key.with_domain(domain))
        except InvalidSignatureError as exc:
            raise InvalidSignatureError(f"{name}: signature by {holder}: {exc}") from None
        key = cert.public_key.with_domain(domain)
        if cert.role is Role.CVCA and cert.public_key.domain is not None:
            domain = cert.public_key.domain
        links.append(ChainLink(cert, holder, key))
        holder, role = cert.chr, cert.role
    return links
