"""Choosing access control from what the chip offers (ICAO Doc 9303-11 §4.2, §4.3, §4.4).

Before access control the terminal reads EF.CardAccess from the master file
(9303-11 §4.2, §9.2.11): when it holds a usable PACEInfo the terminal uses
PACE; when the file is absent (``6A82``) the chip has BAC only. Each protocol
is one :class:`AccessControl` strategy in :data:`ACCESS_CONTROLS`, PACE
before BAC; :func:`plan_access` picks one under the caller's
:class:`AccessPolicy`.

The policy, in one place:

* **PACE whenever EF.CardAccess offers a usable option** (:func:`pace_option_problem`
  says why an option is not usable), choosing the strongest one
  (:func:`pace_strength`);
* **BAC** when the chip offers no usable PACE, or when the caller asks for it
  (:attr:`AccessPolicy.bac_only`);
* **fallback from PACE to BAC** only when :attr:`AccessPolicy.allow_fallback`
  permits it, and only for a failure that is not about the password: an
  unusable EF.CardAccess (unreadable, malformed, no option we support) or a
  chip that refuses a PACE command with a status word other than a wrong
  password's (``6A80``/``6D00`` to MSE:Set AT, say). A wrong password
  (``63Cx``/``6300``), a blocked password (``6983``) and a chip whose answers
  are cryptographically wrong (a bad authentication token, a point off the
  curve) never fall back: BAC would not help, or would help an attacker
  force a weaker protocol.

Every departure from 9303-11 §4.2 is stated in :attr:`AccessResult.fallback`;
nothing is downgraded silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from epass.access.bac import perform_bac
from epass.access.keys import AccessKey, CanKey, MrzKey
from epass.channel import Channel
from epass.errors import AccessControlError, LocalProtocolError, UnsupportedAlgorithmError
from epass.lds.security_infos import PaceDomainParameterInfo, PaceInfo, SecurityInfos
from epass.status import StatusWord

if TYPE_CHECKING:
    from epass.access.pace import PaceResult
    from epass.access.pace_groups import PaceGroup

__all__ = [
    "ACCESS_CONTROLS",
    "NO_ACCESS",
    "AccessControl",
    "AccessPlan",
    "AccessPolicy",
    "AccessProtocol",
    "AccessResult",
    "BasicAccessControl",
    "CamResult",
    "CardAccessOffer",
    "PaceAccessControl",
    "PaceDetails",
    "choose_access_control",
    "fallback_allowed",
    "pace_option_problem",
    "pace_strength",
    "plan_access",
]

Rng = Callable[[int], bytes]


class AccessProtocol(StrEnum):
    """The access-control protocol a session was opened with (9303-11 §4.3, §4.4)."""

    BAC = "BAC"
    PACE = "PACE"
    #: No access control was run (the session was never opened).
    NONE = "NONE"


@dataclass(frozen=True)
class AccessPolicy:
    """What the caller allows the access-control step to do.

    :ivar bac_only: use BAC even when the chip offers PACE (reported as a
        departure from 9303-11 §4.2; a PACE-only chip then fails with a clear
        error, and a CAN cannot be used).
    :ivar allow_fallback: when PACE cannot be used for a reason other than the
        password (an unusable EF.CardAccess, a chip refusing a PACE command),
        open the chip with BAC instead and report it; ``False`` raises.
    """

    bac_only: bool = False
    allow_fallback: bool = True


@dataclass(frozen=True)
class CardAccessOffer:
    """What EF.CardAccess told before access control.

    :ivar present: the file exists (the chip returned data for it).
    :ivar security_infos: its parsed SecurityInfos (9303-11 §9.2), when it parsed.
    :ivar problem: why it could not be read or parsed, when that happened
        (an absent file, ``6A82``, is not a problem).
    """

    present: bool = False
    security_infos: SecurityInfos | None = None
    problem: str | None = None

    @property
    def pace_infos(self) -> tuple[PaceInfo, ...]:
        """The PACEInfos offered (9303-11 §9.2.1), in file order."""
        return () if self.security_infos is None else self.security_infos.pace_infos

    @property
    def pace_offered(self) -> tuple[str, ...]:
        """The PACE protocols offered, by name (the dotted OID when unnamed)."""
        return tuple(info.name for info in self.pace_infos)

    @property
    def pace_domain_parameter_infos(self) -> tuple[PaceDomainParameterInfo, ...]:
        """The PACEDomainParameterInfos offered (9303-11 §9.2.2), for explicit parameters."""
        return (
            () if self.security_infos is None else self.security_infos.pace_domain_parameter_infos
        )

    def pace_option_problem(self, info: PaceInfo) -> str | None:
        """:func:`pace_option_problem` with this offer's PACEDomainParameterInfos."""
        return pace_option_problem(info, self.pace_domain_parameter_infos)

    @property
    def usable_pace(self) -> tuple[PaceInfo, ...]:
        """The PACEInfos this terminal can run, strongest first (:func:`pace_strength`)."""
        domain = self.pace_domain_parameter_infos
        usable = [i for i in self.pace_infos if pace_option_problem(i, domain) is None]
        return tuple(sorted(usable, key=lambda i: pace_strength(i, domain), reverse=True))


@dataclass(frozen=True)
class CamResult:
    """PACE-CAM's chip authentication data checked against EF.CardSecurity (9303-11 §4.4.3.5.2).

    :ivar verified: ``True`` when CA_IC · PK_IC = PK_Map,IC with PK_IC the
        chip-authentication key of EF.CardSecurity; ``False`` when they differ
        (the chip does not hold the key of EF.CardSecurity); ``None`` when it
        could not be checked (EF.CardSecurity unreadable, malformed, or
        without a matching key).
    :ivar detail: one sentence.

    The signature of EF.CardSecurity (passive authentication of the key) is
    not part of this result: until it is verified, a ``True`` here is not a
    proof of a genuine chip.
    """

    verified: bool | None
    detail: str


@dataclass(frozen=True)
class PaceDetails:
    """How PACE ran (9303-11 §4.4): for reports and the ``read`` JSON.

    :ivar protocol: the PACEInfo's protocol name (``"id-PACE-ECDH-GM-AES-CBC-CMAC-128"``).
    :ivar oid: the same, dotted.
    :ivar mapping: ``"GM"``, ``"IM"`` or ``"CAM"``.
    :ivar key_agreement: ``"ECDH"`` or ``"DH"``.
    :ivar parameter_id: the standardized domain parameter id (9303-11 §9.5.1), if any.
    :ivar domain_parameters: the curve or group (``"brainpoolP256r1"``,
        ``"2048-bit MODP Group with 256-bit Prime Order Subgroup"``).
    :ivar cipher: ``"AES"`` or ``"3DES"``; :ivar key_length: 112, 128, 192 or 256 bits.
    :ivar password: ``"MRZ"`` or ``"CAN"``.
    :ivar chip_authentication: the PACE-CAM check, for CAM only.
    """

    protocol: str
    oid: str
    mapping: str
    key_agreement: str
    parameter_id: int | None
    domain_parameters: str
    cipher: str
    key_length: int
    password: str
    chip_authentication: CamResult | None = None

    @property
    def summary(self) -> str:
        """``"PACE-ECDH-GM, brainpoolP256r1, AES-128, password MRZ"``."""
        cipher = "3DES" if self.cipher == "3DES" else f"{self.cipher}-{self.key_length}"
        return (
            f"PACE-{self.key_agreement}-{self.mapping}, {self.domain_parameters}, {cipher}, "
            f"password {self.password}"
        )

    def to_dict(self) -> dict[str, Any]:
        cam = self.chip_authentication
        return {
            "protocol": self.protocol,
            "oid": self.oid,
            "mapping": self.mapping,
            "key_agreement": self.key_agreement,
            "parameter_id": self.parameter_id,
            "domain_parameters": self.domain_parameters,
            "cipher": self.cipher,
            "key_length": self.key_length,
            "password": self.password,
            "chip_authentication": None
            if cam is None
            else {"verified": cam.verified, "detail": cam.detail},
        }


@dataclass(frozen=True)
class AccessResult:
    """How the session was opened, and what the chip offered.

    :ivar protocol: the protocol that ran.
    :ivar card_access_present: whether EF.CardAccess exists on the chip.
    :ivar pace_offered: the PACE protocols EF.CardAccess offers, by name
        (``"id-PACE-ECDH-GM-AES-CBC-CMAC-128"``; the dotted OID when unnamed).
    :ivar fallback: why :attr:`protocol` is not what 9303-11 §4.2 asks for
        (PACE offered but not used: the caller asked for BAC, EF.CardAccess
        unreadable or malformed, the chip refused PACE and the policy allowed
        BAC), or ``None`` when there is no departure.
    :ivar pace: how PACE ran, when it did.
    """

    protocol: AccessProtocol
    card_access_present: bool = False
    pace_offered: tuple[str, ...] = ()
    fallback: str | None = None
    pace: PaceDetails | None = None


#: The result of a session that never ran access control.
NO_ACCESS = AccessResult(AccessProtocol.NONE)


class AccessControl(Protocol):
    """One access-control protocol, as a strategy of the session's access-control step."""

    @property
    def protocol(self) -> AccessProtocol:
        """The protocol this strategy runs."""
        ...

    @property
    def in_master_file(self) -> bool:
        """Whether it runs before the application is selected (PACE, 9303-11 §4.2)."""
        ...

    def accepts(self, key: AccessKey, offer: CardAccessOffer) -> bool:
        """Whether this strategy can open a chip making *offer* with *key*."""
        ...

    def perform(
        self, channel: Channel, key: AccessKey, offer: CardAccessOffer, *, rng: Rng
    ) -> PaceResult | None:
        """Run the protocol over *channel* and start secure messaging.

        :returns: the PACE result (``None`` for BAC).
        :raises AccessControlError: naming the step that failed.
        :raises TransportError: if the link fails.
        """
        ...


class BasicAccessControl:
    """BAC with the MRZ information (9303-11 §4.3, §9.7); any chip accepts it to try."""

    protocol = AccessProtocol.BAC
    in_master_file = False

    def accepts(self, key: AccessKey, offer: CardAccessOffer) -> bool:
        return isinstance(key, MrzKey)

    def perform(
        self, channel: Channel, key: AccessKey, offer: CardAccessOffer, *, rng: Rng = os.urandom
    ) -> None:
        if not isinstance(key, MrzKey):
            raise LocalProtocolError("BAC needs the MRZ information (an MrzKey)")
        perform_bac(channel, key.mrz_information, rng=rng)


class PaceAccessControl:
    """PACE with the MRZ or the CAN (9303-11 §4.4), on the strongest usable option offered."""

    protocol = AccessProtocol.PACE
    in_master_file = True

    def accepts(self, key: AccessKey, offer: CardAccessOffer) -> bool:
        return bool(offer.usable_pace)

    def perform(
        self, channel: Channel, key: AccessKey, offer: CardAccessOffer, *, rng: Rng = os.urandom
    ) -> PaceResult:
        from epass.access.pace import Password, perform_pace

        options = offer.usable_pace
        if not options:
            raise LocalProtocolError("EF.CardAccess offers no PACE option this terminal supports")
        password = Password.from_access_key(key)
        infos = offer.security_infos
        domain = () if infos is None else infos.pace_domain_parameter_infos
        return perform_pace(channel, password, options[0], rng=rng, domain_parameter_infos=domain)


#: The strategies, in order of preference (9303-11 §4.2: PACE before BAC when offered).
ACCESS_CONTROLS: tuple[AccessControl, ...] = (PaceAccessControl(), BasicAccessControl())

#: Families of PACE this terminal runs (9303-11 §4.4.3): generic, integrated, chip authentication.
_MAPPINGS = ("GM", "IM", "CAM")


def pace_option_problem(
    info: PaceInfo, domain_parameter_infos: Sequence[PaceDomainParameterInfo] = ()
) -> str | None:
    """Why this terminal cannot run *info*, or ``None`` when it can.

    Usable: PACEInfo version 2 (9303-11 §9.2.1), a known mapping, key
    agreement and cipher, and domain parameters of the right kind that
    :func:`epass.access.pace.pace_group` resolves: a standardized id (0-2 DH,
    8-18 ECDH, 9303-11 §9.5.1), or a PACEDomainParameterInfo of *domain_parameter_infos*
    (§9.2.2) holding a known group (explicit parameters of an unknown group are
    refused, :mod:`epass.access.pace_groups` says why); and a mapping defined
    in that group (no integrated mapping on secp224r1).
    """
    from epass.access.pace import pace_group

    if info.mapping not in _MAPPINGS or info.key_agreement is None:
        return f"{info.name}: not a PACE protocol this terminal knows"
    if info.cipher is None or info.key_length is None:
        return f"{info.name}: unknown cipher"
    if info.mapping == "CAM" and (info.key_agreement != "ECDH" or info.cipher == "3DES"):
        return f"{info.name}: Chip Authentication Mapping is defined for ECDH with AES only"
    if info.version != 2:
        return f"{info.name}: PACEInfo version {info.version} (9303-11 requires 2)"
    try:
        pace_group(info, domain_parameter_infos)
    except UnsupportedAlgorithmError as exc:
        which = (
            "no parameterId" if info.parameter_id is None else f"parameterId {info.parameter_id}"
        )
        return f"{info.name} ({which}): {exc}"
    return None


def _group_security(group: PaceGroup[Any]) -> int:
    """Bits of security of a group (NIST SP 800-57 Part 1 Rev. 5, Table 2).

    ECDH: half the order's size. DH: the smaller of the modulus' strength
    (1024: 80, 2048: 112, 3072: 128, 7680: 192, 15360: 256) and half the
    subgroup order's size.
    """
    if group.kind == "ECDH":
        return group.bits // 2
    modulus = next((bits for size, bits in _DH_MODULUS_SECURITY if group.bits >= size), 80)
    return min(modulus, group.order.bit_length() // 2)


#: (modulus bits, bits of security) for finite-field groups, NIST SP 800-57 Part 1 Table 2.
_DH_MODULUS_SECURITY = ((15360, 256), (7680, 192), (3072, 128), (2048, 112))


def pace_strength(
    info: PaceInfo, domain_parameter_infos: Sequence[PaceDomainParameterInfo] = ()
) -> tuple[int, int, int, int, int]:
    """The order in which usable PACE options are preferred (larger is stronger).

    9303-11 leaves the choice among several PACEInfos to the terminal. This
    terminal compares, in turn:

    1. the mapping gives chip authentication: CAM first (9303-11 §4.4.3.5: it
       also proves the chip holds the key of EF.CardSecurity);
    2. the weaker of the two halves of the session, in bits of security (NIST
       SP 800-57 Part 1 Table 2): min(cipher key length, group security), so
       AES-256 on a 256-bit curve (128 bits) does not beat AES-128 on it;
    3. the cipher's key length (AES before 3DES; longer keys first);
    4. the group's security (larger curves and groups first);
    5. ECDH before DH at equal strength (smaller messages, less chip time),
       then GM before IM (the mapping every chip implements, 9303-11 §4.4.3.3).

    :raises UnsupportedAlgorithmError: for an option :func:`pace_option_problem` rejects.
    """
    from epass.access.pace import pace_group

    if info.key_length is None:
        raise UnsupportedAlgorithmError(f"{info.name}: unknown cipher")
    group = _group_security(pace_group(info, domain_parameter_infos))
    key = info.key_length
    cam = 1 if info.mapping == "CAM" else 0
    ecdh = 1 if info.key_agreement == "ECDH" else 0
    gm = 1 if info.mapping == "GM" else 0
    return (cam, min(key, group), key, group, ecdh * 2 + gm)


@dataclass(frozen=True)
class AccessPlan:
    """What the access-control step will run, and the result it gives when it succeeds.

    :ivar control: the strategy to run.
    :ivar result: the :class:`AccessResult` (without :attr:`AccessResult.pace`,
        which PACE fills in).
    :ivar pace_info: the PACE option chosen, for PACE.
    """

    control: AccessControl
    result: AccessResult
    pace_info: PaceInfo | None = None

    def fallback(self, reason: str) -> AccessPlan:
        """The BAC plan after PACE failed for *reason* (the caller checked the policy)."""
        return AccessPlan(
            _BAC,
            replace(
                self.result,
                protocol=AccessProtocol.BAC,
                fallback=f"{reason}; BAC was used (the policy allows falling back)",
            ),
        )


_BAC = BasicAccessControl()


def plan_access(
    key: AccessKey,
    offer: CardAccessOffer,
    policy: AccessPolicy | None = None,
    controls: Sequence[AccessControl] = ACCESS_CONTROLS,
) -> AccessPlan:
    """Choose the access control for *key* and *offer* under *policy* (see the module docstring).

    :raises LocalProtocolError: when the key cannot be used: a CAN without
        usable PACE, or with :attr:`AccessPolicy.bac_only`.
    :raises AccessControlError: (``step="read EF.CardAccess"``) when the chip
        offers PACE that cannot be used and the policy forbids falling back to BAC.
    """
    policy = policy or AccessPolicy()
    base = AccessResult(
        protocol=AccessProtocol.NONE,
        card_access_present=offer.present,
        pace_offered=offer.pace_offered,
    )
    pace = next((c for c in controls if c.protocol is AccessProtocol.PACE), None)
    bac = next((c for c in controls if c.protocol is AccessProtocol.BAC), None)
    offered = ", ".join(offer.pace_offered)
    if policy.bac_only:
        if isinstance(key, CanKey):
            raise LocalProtocolError(
                "a CAN opens the chip only with PACE, and the policy asks for BAC only"
            )
        if bac is None:
            raise LocalProtocolError("the policy asks for BAC only, and BAC is not available")
        reason = None
        if offer.pace_infos:
            reason = (
                f"EF.CardAccess offers PACE ({offered}); BAC was used because the policy "
                "asks for BAC only"
            )
        return AccessPlan(bac, replace(base, protocol=AccessProtocol.BAC, fallback=reason))
    usable = offer.usable_pace
    if pace is not None and usable and pace.accepts(key, offer):
        return AccessPlan(pace, replace(base, protocol=AccessProtocol.PACE), usable[0])
    # No usable PACE: say why, when the chip says it has PACE or its EF.CardAccess is bad.
    reasons: list[str] = []
    if offer.problem is not None:
        reasons.append(offer.problem)
    if offer.pace_infos and not usable:
        problems = "; ".join(p for i in offer.pace_infos if (p := offer.pace_option_problem(i)))
        reasons.append(f"EF.CardAccess offers no PACE option this terminal can run ({problems})")
    if offer.pace_infos and pace is None:
        reasons.append(f"EF.CardAccess offers PACE ({offered}), which this session does not run")
    if isinstance(key, CanKey):
        why = "; ".join(reasons) or "the chip offers no PACE (no EF.CardAccess or no PACEInfo)"
        raise LocalProtocolError(f"a CAN opens the chip only with PACE: {why}")
    if bac is None:
        raise LocalProtocolError(f"no supported access control takes a {type(key).__name__}")
    if reasons and not policy.allow_fallback:
        raise AccessControlError(
            "; ".join(reasons) + " (falling back to BAC is not allowed by the policy)",
            step="read EF.CardAccess",
            protocol="PACE",
        )
    fallback = f"{'; '.join(reasons)}; BAC was used" if reasons else None
    return AccessPlan(bac, replace(base, protocol=AccessProtocol.BAC, fallback=fallback))


def _password_refused(sw: int | None) -> bool:
    """Whether *sw* says the password was wrong or cannot be used (never a reason for BAC).

    ISO/IEC 7816-4 §5.6 and BSI TR-03110-3 B.1: ``63Cx`` (x tries left),
    ``6300`` (authentication failed), ``6983`` (blocked), ``6984`` (suspended
    or deactivated).
    """
    if sw is None:
        return False
    return sw & 0xFFF0 == 0x63C0 or sw in (
        StatusWord.VERIFICATION_FAILED,
        StatusWord.AUTHENTICATION_METHOD_BLOCKED,
        StatusWord.REFERENCE_DATA_NOT_USABLE,
    )


def fallback_allowed(exc: AccessControlError, policy: AccessPolicy) -> bool:
    """Whether a PACE failure *exc* may be followed by BAC under *policy*.

    Only a chip's refusal with a status word that is not about the password
    (e.g. ``6A80`` or ``6D00`` to MSE:Set AT or to a GENERAL AUTHENTICATE
    step) qualifies; a failure the terminal detected (a bad token, a bad
    point, a malformed answer) does not.
    """
    return policy.allow_fallback and exc.sw is not None and not _password_refused(exc.sw)


def choose_access_control(
    key: AccessKey,
    offer: CardAccessOffer,
    controls: Sequence[AccessControl] = ACCESS_CONTROLS,
    policy: AccessPolicy | None = None,
) -> tuple[AccessControl, AccessResult]:
    """The strategy :func:`plan_access` picks, and the result it gives when it succeeds.

    Kept for callers of the former API; :func:`plan_access` also returns the PACE option.
    """
    plan = plan_access(key, offer, policy, controls)
    return plan.control, plan.result
