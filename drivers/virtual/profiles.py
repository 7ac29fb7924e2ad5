"""Virtual document profiles: which access control the virtual chip offers, and how it behaves.

Every profile is a complete test document (signed by the TEST PKI, NOT A REAL
DOCUMENT) and the chip configuration that goes with it:

========================  ==========================================================
``bac``                   a passport with BAC only (no EF.CardAccess)
``bac-pace``              the default: BAC and PACE-GM (ECDH brainpoolP256r1,
                          AES-128), Chip Authentication (ECDH P-256, AES-128) and
                          Active Authentication (ECDSA P-256), like most passports
                          issued since 2014
``pace-only``             PACE only (PACE-CAM and PACE-GM, ECDH brainpoolP256r1,
                          AES-128); the chip refuses BAC, as recent passports do
``pace-broken``           offers PACE but answers ``6A80`` to MSE:Set AT; BAC works
``id-card-can``           a TD1 ID card opened only with PACE and the CAN
                          (PACE-GM, ECDH brainpoolP256r1, AES-128), no BAC
``no-chip-auth``          BAC and PACE-GM, but no DG14 and no DG15: chip
                          authenticity cannot be checked (NOT CHECKED)
``aa-rsa-1024``           BAC only, Active Authentication RSA-1024 (ISO/IEC 9796-2, SHA-1)
``aa-rsa-2048``           BAC and PACE-GM, Active Authentication RSA-2048
``aa-ecdsa-p256``         BAC and PACE-GM, Active Authentication ECDSA P-256 (SHA-256)
``ca-ecdh-3des``          BAC only, Chip Authentication ECDH brainpoolP256r1, 3DES
``ca-ecdh-aes``           BAC and PACE-GM, Chip Authentication ECDH P-256, AES-128
``ca-dh-3des``            BAC only, Chip Authentication DH (2048-bit MODP, 224-bit
                          subgroup), 3DES
``ca-dh-aes``             BAC and PACE-GM, Chip Authentication DH (2048-bit MODP,
                          256-bit subgroup), AES-128
``pace-cam``              PACE-CAM only (ECDH brainpoolP256r1, AES-128), no DG14/DG15:
                          the chip is authenticated by PACE-CAM and EF.CardSecurity
``eac-ta``                BAC and PACE-GM, Chip Authentication (brainpoolP256r1,
                          AES-128), Terminal Authentication with a test CVCA; DG3
                          and DG4 readable after TA
``cloned-chip``           the default document's files byte for byte on a chip
                          holding other private keys: CLONE SUSPECTED, never VALID
``aa-refused``            DG15 present, but the chip refuses INTERNAL AUTHENTICATE
``ca-refused``            DG14 offers Chip Authentication, the chip refuses it after PACE
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

from drivers.virtual.builder import (
    DEFAULT_CAN,
    NO_CHIP_AUTH,
    CaKeySpec,
    ChipAuthSpec,
    Holder,
    VirtualDocument,
    build_document,
)
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
_CIPHERS = {1: "3DES", 2: "AES-128", 3: "AES-192", 4: "AES-256"}
_P256, _BP256, _DH2048_224, _DH2048_256 = 12, 13, 1, 2
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
    :ivar chip_auth: the chip-authentication keys (``None``: the builder's
        default, CA ECDH P-256 AES-128 in DG14 and AA ECDSA P-256 in DG15).
    :ivar clone_of: make the files of that profile, on a chip holding other keys.
    """

    name: str
    description: str
    pace: tuple[PaceOption, ...] = ()
    config: ChipConfig = field(default_factory=ChipConfig)
    mrz_format: Literal["TD3", "TD1"] = "TD3"
    holder: Holder = field(default_factory=Holder)
    chip_auth: ChipAuthSpec | None = None
    clone_of: str | None = None

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

    @property
    def chip_authentication(self) -> str:
        """The chip-authentication protocols the document offers, in words."""
        spec = self.chip_auth
        if self.clone_of is not None:
            return f"clone of '{self.clone_of}' (other keys)"
        parts = []
        if any(o.mapping == "CAM" for o in self.pace):
            parts.append("PACE-CAM")
        if spec is None:
            parts += ["CA (ECDH P-256, AES-128)", "AA (ECDSA P-256)"]
        else:
            for ca in spec.ca:
                group = "DH" if ca.parameter_id < 8 else "ECDH"
                parts.append(f"CA ({group}, {_CIPHERS[ca.cipher]})")
            if spec.aa != "none":
                parts.append(f"AA ({spec.aa.upper()})")
            if spec.ta:
                parts.append("TA (test CVCA)")
        if self.config.internal_authenticate_error is not None:
            parts.append("refuses AA")
        if self.config.chip_authentication_error is not None:
            parts.append("refuses CA")
        return ", ".join(parts) or "none"


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        p.name: p
        for p in (
            Profile("bac", "passport with BAC only (no EF.CardAccess)"),
            Profile(
                "bac-pace",
                "passport with BAC and PACE-GM (ECDH brainpoolP256r1, AES-128), Chip "
                "Authentication (ECDH P-256, AES-128) and Active Authentication (ECDSA "
                "P-256), like most passports (the default)",
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
            Profile(
                "no-chip-auth",
                "passport with BAC and PACE-GM but no DG14 and no DG15: chip authenticity "
                "cannot be checked",
                pace=(_GM_BP256_AES128,),
                chip_auth=NO_CHIP_AUTH,
            ),
            Profile(
                "aa-rsa-1024",
                "passport with BAC only and Active Authentication RSA-1024 (SHA-1)",
                chip_auth=ChipAuthSpec(aa="rsa-1024", ca=()),
            ),
            Profile(
                "aa-rsa-2048",
                "passport with BAC, PACE-GM and Active Authentication RSA-2048 (SHA-1)",
                pace=(_GM_BP256_AES128,),
                chip_auth=ChipAuthSpec(aa="rsa-2048", ca=()),
            ),
            Profile(
                "aa-ecdsa-p256",
                "passport with BAC, PACE-GM and Active Authentication ECDSA P-256 (SHA-256)",
                pace=(_GM_BP256_AES128,),
                chip_auth=ChipAuthSpec(aa="ecdsa-p256", ca=()),
            ),
            Profile(
                "ca-ecdh-3des",
                "passport with BAC only and Chip Authentication ECDH brainpoolP256r1, 3DES",
                chip_auth=ChipAuthSpec(aa="none", ca=(CaKeySpec(_BP256, 1),)),
            ),
            Profile(
                "ca-ecdh-aes",
                "passport with BAC, PACE-GM and Chip Authentication ECDH P-256, AES-128",
                pace=(_GM_BP256_AES128,),
                chip_auth=ChipAuthSpec(aa="none", ca=(CaKeySpec(_P256, 2),)),
            ),
            Profile(
                "ca-dh-3des",
                "passport with BAC only and Chip Authentication DH (2048-bit, 224-bit "
                "subgroup), 3DES",
                chip_auth=ChipAuthSpec(aa="none", ca=(CaKeySpec(_DH2048_224, 1),)),
            ),
            Profile(
                "ca-dh-aes",
                "passport with BAC, PACE-GM and Chip Authentication DH (2048-bit, 256-bit "
                "subgroup), AES-128",
                pace=(_GM_BP256_AES128,),
                chip_auth=ChipAuthSpec(aa="none", ca=(CaKeySpec(_DH2048_256, 2),)),
            ),
            Profile(
                "pace-cam",
                "passport with PACE-CAM only (ECDH brainpoolP256r1, AES-128) and no "
                "DG14/DG15: PACE-CAM and EF.CardSecurity authenticate the chip",
                pace=(_CAM_BP256_AES128,),
                config=ChipConfig(bac=False),
                chip_auth=NO_CHIP_AUTH,
            ),
            Profile(
                "eac-ta",
                "passport with BAC, PACE-GM, Chip Authentication (brainpoolP256r1, AES-128) "
                "and Terminal Authentication with a test CVCA; DG3/DG4 after TA",
                pace=(_GM_BP256_AES128,),
                chip_auth=ChipAuthSpec(aa="none", ca=(CaKeySpec(_BP256, 2),), ta=True),
            ),
            Profile(
                "cloned-chip",
                "the default document's files, byte for byte, on a chip holding other "
                "private keys (a cloned chip)",
                pace=(_GM_BP256_AES128,),
                clone_of=DEFAULT_PROFILE,
            ),
            Profile(
                "aa-refused",
                "passport with DG15 whose chip refuses INTERNAL AUTHENTICATE (6D00)",
                pace=(_GM_BP256_AES128,),
                config=ChipConfig(internal_authenticate_error=StatusWord.INS_NOT_SUPPORTED),
                chip_auth=ChipAuthSpec(aa="ecdsa-p256", ca=()),
            ),
            Profile(
                "ca-refused",
                "passport whose DG14 offers Chip Authentication (ECDH P-256, AES-128) and "
                "whose chip refuses it after PACE (6A80)",
                pace=(_GM_BP256_AES128,),
                config=ChipConfig(chip_authentication_error=StatusWord.WRONG_DATA),
                chip_auth=ChipAuthSpec(aa="none", ca=(CaKeySpec(_P256, 2),)),
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
    if spec.clone_of is not None:
        original = document(spec.clone_of, face_format)
        return _with_profile(original.cloned(), spec)
    built = build_document(
        spec.holder,
        face_format=face_format,
        pace=spec.pace,
        mrz_format=spec.mrz_format,
        chip_auth=spec.chip_auth,
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
