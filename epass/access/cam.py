"""PACE-CAM bound to EF.CardSecurity: the reader's check after the protocol (9303-11 §4.4.3.5.2).

After PACE with Chip Authentication Mapping the terminal holds CA_IC (the
decrypted chip-authentication data) and PK_map,IC. It reads EF.CardSecurity
(master file, under PACE secure messaging) and checks PK_map,IC = CA_IC · PK_IC
for the chip-authentication public key PK_IC published there, with
:meth:`epass.access.pace.CamEvidence.verify` (the one implementation of the
relation). The signature of EF.CardSecurity is not verified here: until
passive authentication covers it, a match shows only that the chip holds the
key of that file.
"""

from __future__ import annotations

from typing import Any

from epass.access.control import CamResult
from epass.errors import AccessControlError, ParseError
from epass.lds import card_security

__all__ = ["check_chip_authentication_mapping"]


def check_chip_authentication_mapping(pace_result: Any, card_security_file: bytes) -> CamResult:
    """Check the CAM evidence of *pace_result* against the keys of *card_security_file*.

    :param pace_result: the :class:`~epass.access.pace.PaceResult` of a PACE-CAM run.
    :param card_security_file: EF.CardSecurity as read.
    :returns: ``verified=True`` when a ChipAuthenticationPublicKeyInfo satisfies
        the relation, ``False`` when EF.CardSecurity holds keys and none does,
        ``None`` when the file does not parse or holds no key.
    """
    evidence = getattr(pace_result, "cam", None)
    if evidence is None:
        return CamResult(None, "the PACE run carries no chip authentication data")
    try:
        parsed = card_security.parse(card_security_file)
    except ParseError as exc:
        return CamResult(None, f"EF.CardSecurity does not parse: {exc}")
    keys = parsed.security_infos.ca_public_keys
    if not keys:
        return CamResult(None, "EF.CardSecurity holds no chip-authentication public key")
    failures = []
    for key in keys:
        try:
            verified = evidence.verify(key)
        except AccessControlError as exc:
            failures.append(str(exc).rsplit(": ", 1)[-1])
            continue
        which = "" if verified.key_id is None else f" (keyId {verified.key_id})"
        return CamResult(True, f"PK_map,IC = CA_IC · PK_IC for the key of EF.CardSecurity{which}")
    return CamResult(
        False,
        f"no chip-authentication key of EF.CardSecurity ({len(keys)}) satisfies "
        f"PK_map,IC = CA_IC · PK_IC: {'; '.join(dict.fromkeys(failures))}",
    )
