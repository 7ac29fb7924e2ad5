"""Choosing access control from what the chip offers (ICAO Doc 9303-11 §4.2, §4.3, §4.4).

Before access control the terminal reads EF.CardAccess from the master file
(9303-11 §4.2, §9.2.11): when it holds a PACEInfo the chip supports PACE and
the terminal should use it; when the file is absent (``6A82``) the chip has
BAC only. Each protocol is one :class:`AccessControl` strategy in
:data:`ACCESS_CONTROLS`, in order of preference; the first that accepts the
key and the offer runs. PACE joins that table as one more entry, placed
before BAC, without any change to the steps around it.

Today the table holds BAC only. A chip whose EF.CardAccess offers PACE is
opened with BAC and the result says so (:attr:`AccessResult.fallback`); it is
a departure from 9303-11 §4.2 to report, not to hide.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from epass.access.bac import perform_bac
from epass.access.keys import AccessKey, CanKey, MrzKey
from epass.channel import Channel
from epass.errors import LocalProtocolError
from epass.lds.security_infos import PaceInfo, SecurityInfos

__all__ = [
    "ACCESS_CONTROLS",
    "NO_ACCESS",
    "AccessControl",
    "AccessProtocol",
    "AccessResult",
    "BasicAccessControl",
    "CardAccessOffer",
    "choose_access_control",
]

Rng = Callable[[int], bytes]


class AccessProtocol(StrEnum):
    """The access-control protocol a session was opened with (9303-11 §4.3, §4.4)."""

    BAC = "BAC"
    PACE = "PACE"
    #: No access control was run (the session was never opened).
    NONE = "none"


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


@dataclass(frozen=True)
class AccessResult:
    """How the session was opened, and what the chip offered.

    :ivar protocol: the protocol that ran.
    :ivar card_access_present: whether EF.CardAccess exists on the chip.
    :ivar pace_offered: the PACE protocols EF.CardAccess offers, by name
        (``"id-PACE-ECDH-GM-AES-CBC-CMAC-128"``; the dotted OID when unnamed).
    :ivar fallback: why :attr:`protocol` is not what 9303-11 §4.2 asks for
        (PACE offered but not used, EF.CardAccess unreadable or malformed),
        or ``None`` when there is no departure.
    """

    protocol: AccessProtocol
    card_access_present: bool = False
    pace_offered: tuple[str, ...] = ()
    fallback: str | None = None


#: The result of a session that never ran access control.
NO_ACCESS = AccessResult(AccessProtocol.NONE)


class AccessControl(Protocol):
    """One access-control protocol, as a strategy of the session's access-control step."""

    @property
    def protocol(self) -> AccessProtocol:
        """The protocol this strategy runs."""
        ...

    def accepts(self, key: AccessKey, offer: CardAccessOffer) -> bool:
        """Whether this strategy can open a chip making *offer* with *key*."""
        ...

    def perform(
        self, channel: Channel, key: AccessKey, offer: CardAccessOffer, *, rng: Rng
    ) -> None:
        """Run the protocol over *channel* (application selected) and start secure messaging.

        :raises AccessControlError: naming the step that failed.
        :raises TransportError: if the link fails.
        """
        ...


class BasicAccessControl:
    """BAC with the MRZ information (9303-11 §4.3, §9.7); any chip accepts it to try."""

    protocol = AccessProtocol.BAC

    def accepts(self, key: AccessKey, offer: CardAccessOffer) -> bool:
        return isinstance(key, MrzKey)

    def perform(
        self, channel: Channel, key: AccessKey, offer: CardAccessOffer, *, rng: Rng = os.urandom
    ) -> None:
        if not isinstance(key, MrzKey):
            raise LocalProtocolError("BAC needs the MRZ information (an MrzKey)")
        perform_bac(channel, key.mrz_information, rng=rng)


#: The strategies, in order of preference (9303-11 §4.2: PACE before BAC when offered).
ACCESS_CONTROLS: tuple[AccessControl, ...] = (BasicAccessControl(),)


def choose_access_control(
    key: AccessKey,
    offer: CardAccessOffer,
    controls: Sequence[AccessControl] = ACCESS_CONTROLS,
) -> tuple[AccessControl, AccessResult]:
    """Pick the first strategy that accepts *key* and *offer*, and describe the choice.

    :returns: the strategy to run and the :class:`AccessResult` it will give
        when it succeeds (with :attr:`AccessResult.fallback` set when the
        choice departs from 9303-11 §4.2).
    :raises LocalProtocolError: when no strategy accepts the key (a
        :class:`CanKey` needs PACE, which is not supported).
    """
    control = next((c for c in controls if c.accepts(key, offer)), None)
    if control is None:
        if isinstance(key, CanKey):
            raise LocalProtocolError(
                "a CAN opens the chip only with PACE, and PACE is not supported"
            )
        raise LocalProtocolError(f"no supported access control takes a {type(key).__name__}")
    reasons: list[str] = []
    if offer.problem is not None:
        reasons.append(offer.problem)
    if offer.pace_offered and control.protocol is not AccessProtocol.PACE:
        reasons.append(
            f"EF.CardAccess offers PACE ({', '.join(offer.pace_offered)}), which is not supported"
        )
    fallback = f"{'; '.join(reasons)}; {control.protocol.value} was used" if reasons else None
    result = AccessResult(
        protocol=control.protocol,
        card_access_present=offer.present,
        pace_offered=offer.pace_offered,
        fallback=fallback,
    )
    return control, result
