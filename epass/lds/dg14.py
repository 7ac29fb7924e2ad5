"""DG14, the security options of the chip (ICAO Doc 9303-10 §4.7.14, 9303-11 §9.2).

::

    '6E' DG14
        SecurityInfos (DER SET OF SecurityInfo)

DG14 announces Chip Authentication (its public key and protocols), Terminal
Authentication, PACE (copied from EF.CardAccess) and, for ECDSA Active
Authentication, the signature algorithm. The content is parsed by
:func:`epass.lds.security_infos.parse_security_infos`; verifying the keys is
not done here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from epass import tlv
from epass.lds.security_infos import (
    ID_CA,
    AaInfo,
    CaInfo,
    CaPublicKeyInfo,
    SecurityInfoBase,
    SecurityInfos,
    encode_aa_info,
    encode_ca_info,
    encode_ca_public_key_info,
    encode_pace_info,
    encode_security_infos,
    parse_security_infos,
)

__all__ = [
    "ECDSA_PLAIN_SHA256",
    "Dg14",
    "encode",
    "encode_chip_authentication",
    "encode_pace_infos",
    "parse",
]

#: ecdsa-plain-SHA256 (BSI TR-03111 §5.2.1), the usual ECDSA AA signature algorithm.
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"

FILE = "DG14"
TAG_DG14 = 0x6E


@dataclass(frozen=True)
class Dg14:
    """A parsed DG14.

    :ivar security_infos: the SecurityInfos inside.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    """

    security_infos: SecurityInfos
    raw: bytes = field(repr=False)

    @property
    def ca_public_keys(self) -> tuple[CaPublicKeyInfo, ...]:
        """The chip authentication public keys."""
        return self.security_infos.ca_public_keys

    @property
    def ca_infos(self) -> tuple[CaInfo, ...]:
        """The chip authentication protocols offered."""
        return self.security_infos.ca_infos

    @property
    def aa_info(self) -> AaInfo | None:
        """The ActiveAuthenticationInfo (ECDSA AA signature algorithm), if any."""
        return self.security_infos.aa_info


def parse(data: bytes) -> Dg14:
    """Parse DG14 (Doc 9303-10 §4.7.14).

    :raises ParseError: naming ``DG14`` and the offset if the bytes are not a
        ``'6E'`` object holding a well-formed SecurityInfos set.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG14)
    infos = parse_security_infos(top.view, file=FILE, base=top.value_offset, allow_trailing=False)
    return Dg14(infos, raw)


def encode(infos: Sequence[bytes | SecurityInfoBase], *, sort: bool = True) -> bytes:
    """Encode DG14 holding *infos* (DER SecurityInfo elements or parsed infos).

    Build the elements with the ``encode_*`` helpers of
    :mod:`epass.lds.security_infos`.

    :param sort: DER order of the SET OF elements (``False`` keeps the given order).
    """
    return tlv.encode(TAG_DG14, encode_security_infos(infos, sort=sort))


def encode_chip_authentication(
    subject_public_key_info: bytes,
    *,
    key_id: int | None = None,
    cipher: int = 2,
    active_authentication_ec: bool = False,
    aa_signature_algorithm: str = ECDSA_PLAIN_SHA256,
    extra: Sequence[bytes | SecurityInfoBase] = (),
) -> bytes:
    """Encode a typical DG14 for a test document (9303-11 §9.2.3, §9.2.4, §9.2.6).

    It holds the chip authentication public key (id-PK-ECDH or id-PK-DH, from
    the key's algorithm), one ChipAuthenticationInfo (version 1) and, if
    *active_authentication_ec*, an ActiveAuthenticationInfo naming
    *aa_signature_algorithm* (ECDSA Active Authentication needs it; RSA does not).

    :param subject_public_key_info: the CA key's DER SubjectPublicKeyInfo.
    :param cipher: the last arc of the id-CA OID: 1 = 3DES, 2 = AES-128,
        3 = AES-192, 4 = AES-256.
    :param extra: more SecurityInfo elements, e.g. the PACEInfos of EF.CardAccess
        (:func:`encode_pace_infos`; 9303-11 §9.2.11: DG14 repeats them, signed).
    :raises ValueError: if the key does not parse or *cipher* is not 1..4.
    """
    if cipher not in (1, 2, 3, 4):
        raise ValueError("cipher must be 1 (3DES) to 4 (AES-256)")
    pk = encode_ca_public_key_info(subject_public_key_info, key_id=key_id)
    key = parse_security_infos(encode_security_infos([pk]), file=FILE).ca_public_keys[0]
    ka = "1" if key.key_agreement == "DH" else "2"
    elements = [pk, encode_ca_info(f"{ID_CA}.{ka}.{cipher}", version=1, key_id=key_id)]
    if active_authentication_ec:
        elements.append(encode_aa_info(aa_signature_algorithm))
    return encode([*elements, *extra])


def encode_pace_infos(options: Sequence[tuple[str, int | None]]) -> list[bytes]:
    """PACEInfo elements (version 2) for DG14, one per ``(protocol OID, parameterId)``.

    9303-11 §9.2.1 (PACEInfo), §9.2.11: a chip that supports PACE repeats the
    PACEInfos of EF.CardAccess in DG14, where EF.SOD signs them, so that an
    inspection system can detect a stripped EF.CardAccess
    (:mod:`epass.inspection.downgrade`).
    """
    return [encode_pace_info(oid, version=2, parameter_id=pid) for oid, pid in options]
