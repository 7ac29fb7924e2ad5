"""EF.CardSecurity: the SecurityInfos of the chip, signed by the DS (9303-11 §9.2.11).

EF.CardSecurity (FID ``011D``, SFI ``1D``, in the master file) is a CMS
``ContentInfo`` (RFC 5652 §3) of type SignedData whose eContentType is
``id-SecurityObject`` (``0.4.0.127.0.7.3.2.1``, BSI TR-03110-3 A.1.2.5) and
whose eContent is a DER ``SecurityInfos`` (9303-11 §9.2): the PACEInfos of
EF.CardAccess, and the chip-authentication public keys
(ChipAuthenticationPublicKeyInfo) that PACE-CAM (9303-11 §4.4.3.5) and Chip
Authentication bind to the document. Unlike EF.SOD it has no application
tag around the ContentInfo.

The CMS layer is :mod:`epass.cms` (the same code as EF.SOD); this module adds
the eContentType check and the SecurityInfos. Verifying the signature
(passive authentication of EF.CardSecurity) is left to the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from epass.cms import SignedData, parse_signed_data
from epass.errors import ParseError
from epass.lds.security_infos import SecurityInfos, parse_security_infos

__all__ = ["FILE", "ID_SECURITY_OBJECT", "CardSecurity", "parse"]

FILE = "EF.CardSecurity"
#: id-SecurityObject (BSI TR-03110-3 A.1.2.5): the eContentType of EF.CardSecurity.
ID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"


@dataclass(frozen=True, eq=False)
class CardSecurity:
    """A parsed EF.CardSecurity.

    :ivar raw: the file as read.
    :ivar signed_data: the CMS SignedData (signer, certificates, signed attributes as received).
    :ivar security_infos: the signed SecurityInfos.
    """

    raw: bytes = field(repr=False)
    signed_data: SignedData = field(repr=False)
    security_infos: SecurityInfos


def parse(data: bytes) -> CardSecurity:
    """Parse EF.CardSecurity (9303-11 §9.2.11; TR-03110-3 A.1.2.5).

    :raises ParseError: (``file="EF.CardSecurity"``, with the offset) if the
        bytes are not a CMS SignedData with eContentType id-SecurityObject over
        a well-formed SecurityInfos.
    """
    data = bytes(data)
    if not data:
        raise ParseError("empty file", file=FILE, offset=0)
    signed = parse_signed_data(data, file=FILE)
    if signed.econtent_type != ID_SECURITY_OBJECT:
        raise ParseError(
            f"eContentType {signed.econtent_type} is not id-SecurityObject "
            f"({ID_SECURITY_OBJECT}, TR-03110-3 A.1.2.5)",
            file=FILE,
            offset=0,
        )
    infos = parse_security_infos(
        signed.econtent, file=FILE, base=signed.econtent_offset or 0, allow_trailing=False
    )
    return CardSecurity(raw=data, signed_data=signed, security_infos=infos)
