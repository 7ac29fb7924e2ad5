"""DG15, the Active Authentication public key (ICAO Doc 9303-10 §4.7.15, 9303-11 §6.1).

::

    '6F' DG15
        SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): RSA, or EC with named or
        explicit domain parameters

The key is exposed as an :class:`asn1crypto.keys.PublicKeyInfo` with the
facts a report needs (algorithm, key size, curve); using it to verify an
Active Authentication signature is done elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asn1crypto import keys

from epass import tlv
from epass.errors import ParseError, parsing
from epass.lds.security_infos import NAMED_CURVE_BITS

__all__ = ["MAX_KEY_INFO", "Dg15", "encode", "parse"]

FILE = "DG15"
TAG_DG15 = 0x6F

#: Largest SubjectPublicKeyInfo accepted, in bytes: far above any real key (an
#: RSA-8192 key is about 1.1 KB, explicit EC parameters about 0.6 KB), and a
#: bound on what asn1crypto is given.
MAX_KEY_INFO = 64 * 1024

#: Algorithms whose BIT STRING holds DER that asn1crypto decodes further.
_DER_KEYS = ("rsa", "rsassa_pss", "rsaes_oaep", "dsa")


@dataclass(frozen=True)
class Dg15:
    """A parsed DG15.

    :ivar public_key_info: the key, an :class:`asn1crypto.keys.PublicKeyInfo`.
    :ivar algorithm: ``"RSA"``, ``"EC"``, or the asn1crypto algorithm name
        upper-cased (``"RSASSA_PSS"``, ``"DSA"``...).
    :ivar key_size: RSA modulus bits (exact: a 1022-bit modulus is 1022), read
        from the INTEGER's content octets as unsigned (some chips omit the leading
        ``00`` of a modulus with its top bit set, which DER would read as negative),
        or EC field bits; ``None`` when unknown (an EC curve not in the table).
    :ivar curve_name: the named curve (asn1crypto name, e.g.
        ``"brainpoolp256r1"``), ``None`` for RSA or explicit parameters.
    :ivar explicit_parameters: EC domain parameters given explicitly.
    :ivar subject_public_key_info: the DER of the SubjectPublicKeyInfo.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    """

    public_key_info: Any = field(repr=False)
    algorithm: str
    key_size: int | None
    curve_name: str | None
    explicit_parameters: bool
    subject_public_key_info: bytes = field(repr=False)
    raw: bytes = field(repr=False)


def _describe(info: Any) -> tuple[str, int | None, str | None, bool]:
    algorithm = info["algorithm"]["algorithm"].native
    if algorithm in ("rsa", "rsassa_pss", "rsaes_oaep"):
        modulus = int.from_bytes(info["public_key"].parsed["modulus"].contents, "big")
        name = "RSA" if algorithm == "rsa" else str(algorithm).upper()
        return name, modulus.bit_length(), None, False
    if algorithm == "ec":
        params = info["algorithm"]["parameters"]
        if params.name == "named":
            curve = params.chosen.native
            return "EC", NAMED_CURVE_BITS.get(curve), curve, False
        if params.name == "specified":
            field_id = params.chosen["field_id"]
            bits = None
            if field_id["field_type"].native == "prime_field":
                bits = int(field_id["parameters"].native).bit_length()
            return "EC", bits, None, True
        return "EC", None, None, False
    return str(algorithm).upper(), None, None, False


def parse(data: bytes) -> Dg15:
    """Parse DG15 (Doc 9303-10 §4.7.15).

    The DER is checked to be well-formed, shallow and small
    (:data:`MAX_KEY_INFO`) before asn1crypto decodes it, so time and memory
    are linear in the input.

    :raises ParseError: naming ``DG15`` and the offset if the bytes are not a
        ``'6F'`` object holding exactly one well-formed SubjectPublicKeyInfo
        (for RSA, the RSAPublicKey inside must parse too).
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG15)
    if top.length > MAX_KEY_INFO:
        raise ParseError(
            f"SubjectPublicKeyInfo of {top.length} bytes (at most {MAX_KEY_INFO})",
            file=FILE,
            offset=top.value_offset,
        )
    spki = tlv.decode_single(top.view, file=FILE, expected_tag=0x30, base=top.value_offset)
    tlv.check_tree(spki, file=FILE)
    der = top.value
    with parsing(FILE, top.value_offset, "malformed SubjectPublicKeyInfo"):
        info = keys.PublicKeyInfo.load(der, strict=True)
        info["algorithm"].native  # noqa: B018 - forces asn1crypto's lazy parse
        if info["algorithm"]["algorithm"].native in _DER_KEYS:
            _check_key_der(spki)
        info["public_key"].native  # noqa: B018
        algorithm, key_size, curve, explicit = _describe(info)
    return Dg15(info, algorithm, key_size, curve, explicit, der, raw)


def _check_key_der(spki: tlv.Tlv) -> None:
    """Check the DER inside the subjectPublicKey BIT STRING before asn1crypto decodes it."""
    children = spki.children(file=FILE)
    if len(children) != 2 or children[1].tag != 0x03 or children[1].length < 2:
        return  # asn1crypto names what is wrong
    bits = children[1]
    inner = tlv.decode_single(bits.view[1:], file=FILE, base=bits.value_offset + 1)
    tlv.check_tree(inner, file=FILE)


def encode(subject_public_key_info: bytes) -> bytes:
    """Encode DG15 around a DER SubjectPublicKeyInfo (e.g. from ``cryptography``'s
    ``public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)``).

    :raises ParseError: if the bytes are not a SubjectPublicKeyInfo.
    """
    der = bytes(subject_public_key_info)
    encoded = tlv.encode(TAG_DG15, der)
    parse(encoded)
    return encoded
