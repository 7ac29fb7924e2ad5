"""Virtual document profiles: which access control the virtual chip offers, and how it behaves.

Every profile is a complete test document (signed by the TEST PKI, NOT A REAL
DOCUMENT) and the chip configuration that goes with it:

========================  ==========================================================
``bac``                   a passport with BAC only (no EF.CardAccess)
``bac-pace``              the default: BAC and PACE-GM (ECDH brainpoolP256r1,
                          AES-128), like most passports issued since 2014
``pace-only``             PACE only (PACE-CAM and PACE-GM, ECDH brainpoolP256r1,
                          AES-128); the chip refuses BAC, as recent passports do
``pace-broken``           offers PACE but answers ``6A80`` to MSE:Set AT; BAC works
``id-card-can``           a TD1 ID card opened only with PACE and the CAN
                          (PACE-GM, ECDH brainpoolP256r1, AES-128), no BAC
========================  ==========================================================

:func:`variant_document` makes a document offering exactly one PACE option,
for the tests and the benchmark (every mapping, key agreement and cipher).
Every document has the CAN :data:`~drivers.virtual.builder.DEFAULT_CAN` (``123456``), which
``epass demo`` uses by itself for the CAN-only ID card.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from drivers.virtual.builder import DEFAULT_CAN, Holder, VirtualDocument, build_document
from drivers.virtual.chip import ChipConfig
from drivers.virtual.pace_options import PaceOption
from epass.status import StatusWord

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Profile",
    "document",
    "profile",
    "variant_document",
]

#: The profile ``epass demo`` and ``epass read --virtual`` use unless told otherwise.
DEFAULT_PROFILE = "bac-pace"

_GM_BP256_AES128 = PaceOption("GM", "ECDH", "AES-128", 13)
_CAM_BP256_AES128 = PaceOption("CAM", "ECDH", "AES-128", 13)

#: The ID card holder: the Doc 9303-5 TD1 specimen's person, in Utopia.
ID_CARD_HOLDER = Holder(
    document_code="I",
    issuing_state="UTO",
    primary_identifier="ERIKSSON",
    secondary_identifier="ANNA MARIA",
    document_number="D23145890",
    nationality="UTO",
    date_of_birth="740812",
    sex="F",
    date_of_expiry="340415",
    optional_data="",
)


@dataclass(frozen=True)
class Profile:
    """A virtual document profile.

    :ivar name: the name the CLI takes (``--profile NAME``).
    :ivar description: one line for ``epass demo --list-profiles``.
    :ivar pace: the PACE options of EF.CardAccess (empty: BAC only).
    :ivar config: the chip's behaviour (BAC accepted, PACE passwords, faults of the profile).
    :ivar mrz_format: ``"TD3"`` passport or ``"TD1"`` ID card.
    :ivar holder: the printed data.
    """

    name: str
    description: str
    pace: tuple[PaceOption, ...] = ()
    config: ChipConfig = field(default_factory=ChipConfig)
    mrz_format: Literal["TD3", "TD1"] = "TD3"
    holder: Holder = field(default_factory=Holder)

    @property
    def access(self) -> str:
        """What the chip accepts, in words (``"BAC, PACE (MRZ, CAN)"``)."""
        parts = []
        if self.config.bac:
            parts.append("BAC")
        if self.pace:
            passwords = ", ".join(sorted(self.config.pace_passwords, reverse=True))
            broken = " - broken" if self.config.mse_set_at_error is not None else ""
            parts.append(f"PACE ({passwords}){broken}")
        return ", ".join(parts)


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        p.name: p
        for p in (
            Profile("bac", "passport with BAC only (no EF.CardAccess)"),
            Profile(
                "bac-pace",
                "passport with BAC and PACE-GM (ECDH brainpoolP256r1, AES-128), like most "
                "passports (the default)",
                pace=(_GM_BP256_AES128,),
            ),
            Profile(
                "pace-only",
                "passport with PACE-CAM and PACE-GM (ECDH brainpoolP256r1, AES-128); refuses BAC",
                pace=(_GM_BP256_AES128, _CAM_BP256_AES128),
                config=ChipConfig(bac=False),
            ),
            Profile(
                "pace-broken",
                "passport offering PACE that answers 6A80 to MSE:Set AT; BAC works",
                pace=(_GM_BP256_AES128,),
                config=ChipConfig(mse_set_at_error=StatusWord.WRONG_DATA),
            ),
            Profile(
                "id-card-can",
                f"TD1 ID card opened only with PACE-GM and the CAN {DEFAULT_CAN} (ECDH "
                "brainpoolP256r1, AES-128); refuses BAC and the MRZ password",
                pace=(_GM_BP256_AES128,),
                config=ChipConfig(bac=False, pace_passwords=frozenset({"CAN"})),
                mrz_format="TD1",
                holder=ID_CARD_HOLDER,
            ),
        )
    }
)


def profile(name: str) -> Profile:
    """The profile called *name*.

    :raises KeyError: naming the known profiles.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"no profile {name!r}; known: {', '.join(PROFILES)}") from None


@functools.lru_cache(maxsize=16)
def document(
    name: str = DEFAULT_PROFILE, face_format: Literal["JPEG", "JPEG2000"] = "JPEG"
) -> VirtualDocument:
    """The document of profile *name* (cached; identical in every process).

    Its :meth:`~drivers.virtual.builder.VirtualDocument.chip` behaves as the profile says.
    """
    spec = profile(name)
    built = build_document(
        spec.holder, face_format=face_format, pace=spec.pace, mrz_format=spec.mrz_format
    )
    return _with_profile(built, spec)


def _with_profile(doc: VirtualDocument, spec: Profile) -> VirtualDocument:
    from dataclasses import replace

    return replace(doc, chip_config=spec.config, profile=spec.name)


@functools.lru_cache(maxsize=64)
def variant_document(option: PaceOption, *, bac: bool = True) -> VirtualDocument:
    """A passport offering exactly one PACE option (and BAC unless *bac* is false), cached."""
    built = build_document(pace=(option,))
    spec = Profile(
        f"variant {option.label}", f"PACE {option.label}", (option,), ChipConfig(bac=bac)
    )
    return _with_profile(built, spec)
