"""The PACE options a virtual document offers, and the keys its chip holds for them.

A :class:`PaceOption` is one PACEInfo of EF.CardAccess (ICAO Doc 9303-11
§9.2.1): a mapping (GM, IM or CAM), a key agreement (ECDH or DH), a cipher
for secure messaging (3DES or AES-128/192/256) and standardized domain
parameters (9303-11 §9.5.1). The OID is built as 9303-11 §9.2.1 and BSI
TR-03110-3 A.1.1.1 define it: ``id-PACE`` (``0.4.0.127.0.7.2.2.4``), then the
family (``.1`` DH-GM, ``.2`` ECDH-GM, ``.3`` DH-IM, ``.4`` ECDH-IM, ``.6``
ECDH-CAM), then the cipher (``.1`` 3DES-CBC-CBC, ``.2``/``.3``/``.4``
AES-CBC-CMAC-128/192/256). Chip Authentication Mapping exists for ECDH only
and never with 3DES (9303-11 §9.2.1); the integrated mapping is not defined
on secp224r1 (id 10: the point encoding of 9303-11 Appendix B needs p ≡ 3 mod 4).

:func:`cam_private_key` derives the TEST chip-authentication key of a CAM
option from a public seed (NOT A SECRET: anyone can re-derive it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from epass._crypto.ec import curve_by_name
from epass.access.pace_groups import standardized_group
from epass.lds.security_infos import ID_PACE, STANDARDIZED_DOMAIN_PARAMETERS

__all__ = [
    "CIPHERS",
    "CIPHER_KEY_LENGTHS",
    "PaceOption",
    "all_options",
    "cam_private_key",
]

Mapping_ = Literal["GM", "IM", "CAM"]
KeyAgreement = Literal["ECDH", "DH"]
Cipher = Literal["3DES", "AES-128", "AES-192", "AES-256"]

#: Cipher name -> the last arc of the PACE OID (9303-11 §9.2.1).
CIPHERS: dict[str, int] = {"3DES": 1, "AES-128": 2, "AES-192": 3, "AES-256": 4}
#: Cipher name -> key length in bits (3DES: two-key, 112 bits).
CIPHER_KEY_LENGTHS: dict[str, int] = {"3DES": 112, "AES-128": 128, "AES-192": 192, "AES-256": 256}
_FAMILIES: dict[tuple[str, str], int] = {
    ("DH", "GM"): 1,
    ("ECDH", "GM"): 2,
    ("DH", "IM"): 3,
    ("ECDH", "IM"): 4,
    ("ECDH", "CAM"): 6,
}


@dataclass(frozen=True)
class PaceOption:
    """One PACE option of a virtual chip (one PACEInfo, version 2, with its parameterId).

    :ivar mapping: ``"GM"``, ``"IM"`` or ``"CAM"``.
    :ivar key_agreement: ``"ECDH"`` or ``"DH"``.
    :ivar cipher: ``"3DES"``, ``"AES-128"``, ``"AES-192"`` or ``"AES-256"``.
    :ivar parameter_id: standardized domain parameters (9303-11 §9.5.1): 0-2 DH, 8-18 ECDH.
    :raises ValueError: for a combination the specification does not define.
    """

    mapping: Mapping_
    key_agreement: KeyAgreement
    cipher: Cipher
    parameter_id: int

    def __post_init__(self) -> None:
        if (self.key_agreement, self.mapping) not in _FAMILIES:
            raise ValueError(f"PACE-{self.key_agreement}-{self.mapping} does not exist")
        if self.cipher not in CIPHERS:
            raise ValueError(f"unknown cipher {self.cipher!r}")
        if self.mapping == "CAM" and self.cipher == "3DES":
            raise ValueError("Chip Authentication Mapping has no 3DES variant")
        parameter = STANDARDIZED_DOMAIN_PARAMETERS.get(self.parameter_id)
        if parameter is None or parameter.kind != self.key_agreement:
            raise ValueError(
                f"parameter id {self.parameter_id} is not standardized {self.key_agreement} "
                "domain parameters"
            )
        if self.mapping == "IM":
            problem = standardized_group(self.parameter_id).integrated_mapping_problem
            if problem is not None:
                raise ValueError(f"PACE-{self.key_agreement}-IM: {problem}")

    @property
    def oid(self) -> str:
        """The PACEInfo protocol OID, dotted."""
        family = _FAMILIES[(self.key_agreement, self.mapping)]
        return f"{ID_PACE}.{family}.{CIPHERS[self.cipher]}"

    @property
    def key_length(self) -> int:
        """The session key length in bits (112 for 3DES)."""
        return CIPHER_KEY_LENGTHS[self.cipher]

    @property
    def domain_name(self) -> str:
        """The curve or group name (``"brainpoolP256r1"``)."""
        return STANDARDIZED_DOMAIN_PARAMETERS[self.parameter_id].name

    @property
    def label(self) -> str:
        """A short label for tests and the benchmark: ``"GM-ECDH-AES-128-brainpoolP256r1"``."""
        group = self.domain_name if self.key_agreement == "ECDH" else f"DH{self.parameter_id}"
        return f"{self.mapping}-{self.key_agreement}-{self.cipher}-{group}"


def all_options(*, ecdh_parameter_id: int = 13, dh_parameter_id: int = 2) -> tuple[PaceOption, ...]:
    """Every defined combination of mapping, key agreement and cipher (19 options).

    GM and IM with ECDH and DH, CAM with ECDH only; each with 3DES and
    AES-128/192/256 (CAM: AES only).
    """
    out: list[PaceOption] = []
    for mapping in ("GM", "IM", "CAM"):
        for ka in ("ECDH", "DH"):
            if (ka, mapping) not in _FAMILIES:
                continue
            for cipher in CIPHERS:
                if mapping == "CAM" and cipher == "3DES":
                    continue
                pid = ecdh_parameter_id if ka == "ECDH" else dh_parameter_id
                out.append(PaceOption(mapping, ka, cipher, pid))  # type: ignore[arg-type]
    return tuple(out)


def cam_private_key(seed: bytes, parameter_id: int) -> int:
    """The TEST chip-authentication private key for PACE-CAM on *parameter_id*'s curve.

    Derived from a public seed: 1 <= d < n. NOT A SECRET.

    :raises ValueError: if *parameter_id* is not a standardized ECDH curve.
    """
    parameter = STANDARDIZED_DOMAIN_PARAMETERS.get(parameter_id)
    named = None if parameter is None else curve_by_name(parameter.name)
    if named is None or parameter is None or parameter.kind != "ECDH":
        raise ValueError(f"parameter id {parameter_id} is not a standardized curve")
    n = named.parameters.n
    digest = hashlib.sha512(seed + b"|pace-cam|" + parameter.name.encode()).digest()
    return int.from_bytes(digest, "big") % (n - 1) + 1
