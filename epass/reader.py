"""Chip session: one conversation with one chip, as a sequence of named steps.

ICAO Doc 9303-11 §4.2 (the inspection procedure) and 9303-10 §4.6 (the LDS):

1. :meth:`ChipSession.read_card_access` — learn the card's APDU lengths (ATR,
   EF.ATR/INFO) and read EF.CardAccess from the master file, plain, before
   the application is selected (``6A82``: absent, the chip has BAC only);
2. :meth:`ChipSession.select_application` — SELECT the eMRTD application;
3. :meth:`ChipSession.access_control` — run the access-control strategy
   chosen from what EF.CardAccess offers under the caller's
   :class:`~epass.access.control.AccessPolicy` (:mod:`epass.access.control`).
   PACE runs in the master file *before* step 2, which then selects the
   application under PACE secure messaging (9303-11 §4.2); BAC runs after
   step 2. After PACE-CAM, EF.CardSecurity is read from the master file and
   the chip's authentication data are checked against its key (9303-11 §4.4.3.5.2);
4. :meth:`ChipSession.read_document` — read EF.COM, EF.SOD and every data
   group either lists; one bad data group is recorded and the rest read on;
5. :meth:`ChipSession.chip_authentication` — Chip Authentication v1 with the
   key of DG14 (9303-11 §6.2), Active Authentication with the key of DG15
   (§6.1) and, with :attr:`ReadOptions.terminal_credentials`, Terminal
   Authentication v1 (BSI TR-03110 v1.11) and then DG3/DG4.

:meth:`ChipSession.open` runs steps 1-3 (in the order the protocol needs:
1, 3, 2 for PACE), :meth:`ChipSession.read` all of them, interleaved so that
no APDU is spent twice: EF.COM, EF.SOD and DG14 first; Chip Authentication
when DG14 offers it (and PACE-CAM did not already authenticate the chip); the
other data groups under the new keys (the first protected response proves
them: 9303-11 §6.2); Active Authentication once DG15 is read; Terminal
Authentication and DG3/DG4 last. The demo document (PACE, CA, AA) takes 17
APDUs with extended length. A chip that fails Chip Authentication has failed
authenticity, not merely the read: the failure is recorded, the session
re-opened (PACE or BAC again, without CA) and the rest read, so the report
shows what was read. Each step reports a
:class:`Phase` to the optional ``progress`` callback, and each file read
reports its bytes. How files are read (chunk sizes, extended length, odd
INS, 6700/6Cxx, recovery) is
:class:`epass.filesystem.FileReader`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from functools import partial
from typing import Any, TypeVar

from epass.access import aa as aa_protocol
from epass.access import ca as ca_protocol
from epass.access import ta as ta_protocol
from epass.access.cam import check_chip_authentication_mapping
from epass.access.control import (
    ACCESS_CONTROLS,
    NO_ACCESS,
    AccessControl,
    AccessPlan,
    AccessPolicy,
    AccessProtocol,
    AccessResult,
    CamResult,
    CardAccessOffer,
    PaceDetails,
    fallback_allowed,
    plan_access,
)
from epass.access.keys import AccessKey, CanKey
from epass.apdu import CommandApdu, Ins
from epass.capabilities import CardCapabilities, parse_atr, parse_atr_info
from epass.channel import Channel, Exchange, Tracer
from epass.errors import (
    AccessControlError,
    EpassError,
    LocalProtocolError,
    ParseError,
    ReadBudgetExceededError,
    RemoteProtocolError,
    SecureMessagingError,
    StatusWordError,
    UnsupportedAlgorithmError,
)
from epass.filesystem import FileReader
from epass.lds.document import Document
from epass.lds.files import EAC_PROTECTED, EMRTD_AID, LdsFile
from epass.status import StatusWord
from epass.transport import Transport
from epass.verdict import EvidenceValue

__all__ = [
    "DEFAULT_MAX_APDUS",
    "DEFAULT_MAX_SECONDS",
    "EMRTD_AID",
    "NOT_PERFORMED",
    "AccessPolicy",
    "AccessProtocol",
    "AccessResult",
    "AuthOutcome",
    "BudgetedTransport",
    "ChipAuthenticationResult",
    "ChipSession",
    "DocumentRead",
    "Phase",
    "Progress",
    "ProgressEvent",
    "ProtocolRun",
    "ReadOptions",
    "ReadResult",
    "TrafficStats",
]


class Phase(IntEnum):
    """The steps of a session, as reported to a progress callback.

    The numbers are stable: a number never changes meaning and is never
    reused, so a front end may store or transmit them. New steps get new
    numbers.
    """

    #: ATR / EF.ATR/INFO (link capabilities) and EF.CardAccess, from the master file.
    READ_CARD_ACCESS = 1
    #: SELECT the eMRTD application (after ACCESS_CONTROL when PACE runs, 9303-11 §4.2).
    SELECT_APPLICATION = 2
    #: PACE or BAC (PACE before SELECT_APPLICATION, BAC after it).
    ACCESS_CONTROL = 3
    #: EF.COM, EF.SOD and the data groups.
    READ_FILES = 4
    #: Active / Chip Authentication (9303-11 §6).
    CHIP_AUTHENTICATION = 5
    #: Every step has run.
    DONE = 6


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One progress report.

    With ``file=None`` it marks the start of *phase* (``done=0``,
    ``total=None``). With a file it reports that file's bytes: ``done=0`` when
    the read starts, then the bytes read after each chunk, with *total* once
    the TLV header has told it; the last event of a complete read has
    ``done == total``. After a recovery the file starts again at 0.

    The event that starts :attr:`Phase.READ_FILES` carries *access*: how
    access control opened the chip (a kiosk reports "access granted" with it).
    """

    phase: Phase
    file: LdsFile | None
    done: int
    total: int | None
    access: AccessResult | None = None


#: A progress callback; it must not raise.
Progress = Callable[[ProgressEvent], None]


@dataclass
class TrafficStats:
    """A tracer that counts what crossed the link (use it as ``tracer=``)."""

    apdus: int = 0
    round_trips: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    by_command: dict[str, int] = field(default_factory=dict)

    def __call__(self, exchange: Exchange) -> None:
        self.apdus += 1
        self.round_trips += exchange.round_trips
        self.bytes_sent += len(exchange.wire_command)
        self.bytes_received += len(exchange.wire_response)
        self.seconds += exchange.seconds
        name = exchange.command.describe()
        self.by_command[name] = self.by_command.get(name, 0) + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "apdus": self.apdus,
            "round_trips": self.round_trips,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "link_seconds": round(self.seconds, 6),
            "by_command": dict(self.by_command),
        }


#: Default of :attr:`ReadOptions.max_apdus`.
DEFAULT_MAX_APDUS = 1000
#: Default of :attr:`ReadOptions.max_seconds`.
DEFAULT_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class ReadOptions:
    """How a session reads.

    :ivar extended_length: ``True`` forces extended-length reads, ``False``
        forbids them, ``None`` (default) uses them when the card announces them
        and the transport does not refuse them.
    :ivar max_file_size: the most bytes a file may declare (each file kind is
        also bounded by :attr:`LdsFile.max_size`).
    :ivar read_eac_protected: also try DG3/DG4 (they need EAC; a chip answers
        ``6982`` and some end the session).
    :ivar chunk: an upper bound on plain bytes per READ BINARY (testing aid).
    :ivar read_atr_info: read EF.ATR/INFO when the ATR points to it.
    :ivar access_policy: the access-control policy: BAC only, or PACE with or
        without falling back to BAC (:class:`~epass.access.control.AccessPolicy`).
    :ivar max_apdus: the most transport exchanges one session may make (every
        APDU counts, ``61xx`` GET RESPONSE rounds and recoveries included);
        ``None`` for no limit. The demo document takes 11 (extended length)
        or about 100 (short APDUs); a real 100 KB document about 500.
    :ivar max_seconds: the most wall-clock seconds from the session's start to
        its last APDU; ``None`` for no limit. Checked before each exchange (a
        transport that hangs is ended by the transport's own timeout).
    :ivar chip_authentication: run Chip Authentication (DG14) and Active
        Authentication (DG15) when the document offers them (9303-11 §6);
        ``False`` reads only (the chip's authenticity is then not checked).
    :ivar active_authentication_after_ca: run Active Authentication also when
        Chip Authentication or PACE-CAM passed (9303-11 §6 calls them
        alternatives; both cost one APDU more and report both).
    :ivar terminal_credentials: an inspection system's CV certificate chain and
        key (:class:`~epass.access.ta.TerminalCredentials`): run Terminal
        Authentication v1 after Chip Authentication, then read DG3/DG4 as the
        chip grants them.

    A session past either budget raises
    :class:`~epass.errors.ReadBudgetExceededError` before the next APDU.
    """

    extended_length: bool | None = None
    max_file_size: int = 1 << 20
    read_eac_protected: bool = False
    chunk: int | None = None
    read_atr_info: bool = True
    access_policy: AccessPolicy = field(default_factory=AccessPolicy)
    max_apdus: int | None = DEFAULT_MAX_APDUS
    max_seconds: float | None = DEFAULT_MAX_SECONDS
    chip_authentication: bool = True
    active_authentication_after_ca: bool = True
    terminal_credentials: ta_protocol.TerminalCredentials | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.max_apdus is not None and self.max_apdus < 1:
            raise ValueError("ReadOptions.max_apdus must be at least 1 (or None)")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ValueError("ReadOptions.max_seconds must be positive (or None)")


class BudgetedTransport(Transport):
    """A transport that counts exchanges and time, and ends a read past its budget.

    :param transport: the link to the card.
    :param max_apdus: / :param max_seconds: the budget (``None``: unlimited).
    :param clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        max_apdus: int | None,
        max_seconds: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = transport
        self.max_apdus = max_apdus
        self.max_seconds = max_seconds
        self.clock = clock
        self.started = clock()
        self.apdus = 0

    @property
    def atr(self) -> bytes | None:
        return self.inner.atr

    @property
    def extended_length(self) -> bool | None:
        return self.inner.extended_length

    def transmit(self, apdu: bytes) -> bytes:
        """Send *apdu* unless the budget is spent.

        :raises ReadBudgetExceededError: when this exchange would pass
            ``max_apdus`` or ``max_seconds`` have passed.
        """
        if self.max_apdus is not None and self.apdus >= self.max_apdus:
            raise ReadBudgetExceededError("apdus", self.max_apdus, self.apdus)
        if self.max_seconds is not None:
            elapsed = self.clock() - self.started
            if elapsed > self.max_seconds:
                raise ReadBudgetExceededError("seconds", self.max_seconds, elapsed)
        self.apdus += 1
        return self.inner.transmit(apdu)

    def close(self) -> None:
        self.inner.close()


class AuthOutcome(StrEnum):
    """The outcome of one chip-authentication protocol run."""

    #: The chip proved it holds the private key (a verified signature, a session
    #: whose first protected response verified, a terminal the chip accepted).
    PASSED = "PASSED"
    #: The chip refused the protocol or answered wrongly (a clone, or a broken chip).
    FAILED = "FAILED"
    #: This reader could not run it with the document's data (an unusable key,
    #: an unsupported algorithm, a file that does not parse): nothing is proven either way.
    NOT_POSSIBLE = "NOT_POSSIBLE"


@dataclass(frozen=True)
class ProtocolRun:
    """One run of Chip, Active or Terminal Authentication, with its evidence.

    :ivar protocol: ``"CA"`` (9303-11 §6.2), ``"AA"`` (§6.1) or ``"TA"`` (TR-03110 v1.11).
    :ivar outcome: :class:`AuthOutcome`.
    :ivar detail: one sentence (no personal data).
    :ivar key_file: the file whose key was used (DG14, DG15; ``None`` for TA).
    :ivar key_file_sha256: SHA-256 of that file's bytes as this session read
        them: the inspection binds the result to passive authentication only
        when these are the bytes EF.SOD proved.
    :ivar step: the step that failed, if any; :ivar sw: the chip's status word, if any.
    :ivar evidence: challenge, signature, recovered digest, key id, algorithm ...
        (bytes, strings, numbers), for reports.
    """

    protocol: str
    outcome: AuthOutcome
    detail: str
    key_file: LdsFile | None = None
    key_file_sha256: bytes | None = field(default=None, repr=False)
    step: str | None = None
    sw: int | None = None
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return self.outcome is AuthOutcome.PASSED


@dataclass(frozen=True)
class ChipAuthenticationResult:
    """The chip authentication step (9303-11 §6; TR-03110 v1.11 for TA).

    :ivar performed: whether a protocol ran.
    :ivar protocol: the protocols that ran (``"CA+AA"``), or ``None``.
    :ivar detail: a sentence for reports.
    :ivar runs: each protocol run with its outcome and evidence, in order.

    A run that passed is evidence of a genuine chip only together with passive
    authentication of the key's file: the inspection
    (:mod:`epass.inspection`) makes that binding, not the reader.
    """

    performed: bool
    protocol: str | None
    detail: str
    runs: tuple[ProtocolRun, ...] = ()

    def run(self, protocol: str) -> ProtocolRun | None:
        """The run of *protocol* (``"CA"``, ``"AA"``, ``"TA"``), if it ran."""
        return next((r for r in self.runs if r.protocol == protocol), None)


#: What a read carries before (or without) the chip authentication step.
NOT_PERFORMED = ChipAuthenticationResult(
    performed=False,
    protocol=None,
    detail="not performed: Active and Chip Authentication did not run",
)


def _summary(runs: Sequence[ProtocolRun], skipped: str | None = None) -> ChipAuthenticationResult:
    if not runs:
        return replace(NOT_PERFORMED, detail=skipped or NOT_PERFORMED.detail)
    names = "+".join(r.protocol for r in runs)
    detail = "; ".join(f"{r.protocol} {r.outcome.value.lower()}: {r.detail}" for r in runs)
    return ChipAuthenticationResult(True, names, detail, tuple(runs))


_T = TypeVar("_T")


@dataclass(frozen=True)
class ReadResult:
    """What a session read.

    :ivar document: the files read, raw bytes keyed by :class:`LdsFile`
        (EF.CardAccess too, when the chip has it). EF.SOD was parsed once to
        learn the data groups; pass this same object on so it is not parsed again.
    :ivar not_read: files listed but not read, with the reason.
    :ivar access: how the session was opened and what the chip offered.
    :ivar capabilities: the card's length capabilities.
    :ivar stats: the traffic of the whole session (shared with the session).
    :ivar recoveries: times a session the chip ended was re-opened.
    :ivar seconds: wall time of :meth:`ChipSession.read_document` (of every
        step for :meth:`ChipSession.read`).
    :ivar chip_authentication: the chip authentication step's result.
    :ivar malformed: the files of :attr:`not_read` the chip *served* malformed
        (a header that is not TLV, a file shorter than its header declares, or
        larger than any plausible file of its kind), as opposed to files it
        refused or lacks: a genuine chip does not do that.
    """

    document: Document
    not_read: Mapping[LdsFile, str]
    access: AccessResult
    capabilities: CardCapabilities
    stats: TrafficStats
    recoveries: int = 0
    seconds: float = 0.0
    chip_authentication: ChipAuthenticationResult = NOT_PERFORMED
    malformed: frozenset[LdsFile] = frozenset()

    @property
    def files(self) -> dict[str, bytes]:
        """The files keyed by report label (``"DG1"``), as :func:`epass.pa.verify` takes them."""
        return self.document.labelled()

    @property
    def not_read_labelled(self) -> dict[str, str]:
        """:attr:`not_read` keyed by report label, in LDS order (for JSON)."""
        return {f.label: self.not_read[f] for f in sorted(self.not_read, key=_dg_order)}

    @property
    def access_protocol(self) -> str:
        """The access protocol's name: ``"BAC"``, ``"PACE"`` or ``"NONE"``."""
        return self.access.protocol.value

    @property
    def card_access(self) -> bytes | None:
        """The bytes of EF.CardAccess, when the chip has it."""
        return self.document.get(LdsFile.EF_CARD_ACCESS)


#: The former name of :class:`ReadResult`.
DocumentRead = ReadResult


#: The data groups every eMRTD holds (9303-10 §4.7): read when neither EF.COM nor
#: EF.SOD tells which data groups there are.
MANDATORY_DATA_GROUPS = (LdsFile.DG1, LdsFile.DG2)


def _dg_order(file: LdsFile) -> tuple[int, str]:
    return (file.number, file.label)


class ChipSession:
    """One conversation with one chip.

    :param transport: the link to the card.
    :param options: read strategy.
    :param tracer: called for every exchange, in addition to :attr:`stats`.
    :param rng: randomness for access control (inject for known answers).
    :param progress: told each step and each file's bytes (:class:`ProgressEvent`).
    :param access_controls: the access-control strategies, in order of
        preference (default :data:`epass.access.control.ACCESS_CONTROLS`).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        options: ReadOptions | None = None,
        tracer: Tracer | None = None,
        rng: Callable[[int], bytes] = os.urandom,
        progress: Progress | None = None,
        access_controls: Sequence[AccessControl] = ACCESS_CONTROLS,
    ) -> None:
        self.options = options or ReadOptions()
        #: The link, counted against the read budget (:attr:`ReadOptions.max_apdus`,
        #: :attr:`ReadOptions.max_seconds`); the caller's transport is ``transport.inner``.
        self.transport = BudgetedTransport(
            transport, max_apdus=self.options.max_apdus, max_seconds=self.options.max_seconds
        )
        self.stats = TrafficStats()
        self._user_tracer = tracer
        self.rng = rng
        self.progress = progress
        self.access_controls = tuple(access_controls)
        self.capabilities = CardCapabilities()
        self.key: AccessKey | None = None
        #: How the session was opened (``None`` until access control ran).
        self.access: AccessResult | None = None
        #: What EF.CardAccess offered (empty until :meth:`read_card_access`).
        self.card_access = CardAccessOffer()
        #: Every file read by the steps so far.
        self.document = Document({})
        self._control: AccessControl | None = None
        self._plan: AccessPlan | None = None
        #: The PACE result of the last PACE run (the session's keys; CAM data), if any.
        self.pace_result: Any = None
        #: Chip authentication state: the runs so far, CA's result and whether its
        #: keys still await the proof of a protected response.
        self._runs: list[ProtocolRun] = []
        self._ca_result: ca_protocol.CaResult | None = None
        self._ca_pending: ca_protocol.CaResult | None = None
        self._ca_done = False
        self._aa_done = False
        #: Why the rest cannot be read, once the session is gone for good.
        self._session_lost: str | None = None
        self._phase = Phase.READ_CARD_ACCESS
        self.file_reader = FileReader(
            Channel(self.transport, tracer=self._trace),
            chunk=self.options.chunk,
            max_file_size=self.options.max_file_size,
            recover=self._recover,
            progress=self._file_progress,
        )
        self._configure_link()

    # -- plumbing ----------------------------------------------------------------------

    def _trace(self, exchange: Exchange) -> None:
        self.stats(exchange)
        if self._user_tracer is not None:
            self._user_tracer(exchange)

    def _enter(self, phase: Phase) -> None:
        self._phase = phase
        if self.progress is not None:
            access = self.access if phase == Phase.READ_FILES else None
            self.progress(ProgressEvent(phase, None, 0, None, access))

    def _file_progress(self, file: LdsFile, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(self._phase, file, done, total))

    @property
    def channel(self) -> Channel:
        """The current channel (a fresh one after each recovery)."""
        return self.file_reader.channel

    @property
    def recoveries(self) -> int:
        """Times a session the chip ended was re-opened."""
        return self.file_reader.recoveries

    @property
    def access_protocol(self) -> str | None:
        """``"BAC"`` (or later ``"PACE"``) once access control ran, else ``None``."""
        return None if self.access is None else self.access.protocol.value

    @property
    def extended_length(self) -> bool:
        """Whether reads use extended-length APDUs."""
        forced = self.options.extended_length
        if forced is not None:
            return forced
        if self.transport.extended_length is False:
            return False
        return bool(self.capabilities.extended_length)

    def _configure_link(self) -> None:
        self.file_reader.extended_length = self.extended_length
        self.file_reader.max_response = self.capabilities.max_response

    def max_chunk(self, *, secure: bool | None = None) -> int:
        """The most plain bytes one READ BINARY response can carry now."""
        return self.file_reader.max_chunk(secure=secure)

    # -- the steps ---------------------------------------------------------------------

    def open(self, key: AccessKey) -> None:
        """Steps 1-3: EF.CardAccess, then PACE and SELECT, or SELECT and BAC (9303-11 §4.2).

        :raises AccessControlError: if the chip refuses the key, or PACE cannot
            be used and the policy forbids BAC.
        :raises LocalProtocolError: if no supported protocol takes the key
            (a :class:`~epass.access.keys.CanKey` needs PACE).
        :raises StatusWordError: if the chip has no eMRTD application.
        :raises TransportError: if the link fails.
        """
        self.key = key
        self.read_card_access()
        plan = self.plan_access()
        if plan.control.in_master_file:
            result = self.access_control()
            if result.protocol is AccessProtocol.PACE:
                self.select_application()
            return
        self.select_application()
        self.access_control()

    def plan_access(self) -> AccessPlan:
        """Choose the access control from EF.CardAccess, the key and the policy (no I/O).

        :raises LocalProtocolError: if no protocol takes the key under the policy.
        :raises AccessControlError: if PACE cannot be used and the policy forbids BAC.
        """
        key = self.key
        if key is None:
            raise LocalProtocolError("no access key: open the session with one")
        self._plan = plan_access(
            key, self.card_access, self.options.access_policy, self.access_controls
        )
        return self._plan

    def read_card_access(self) -> CardAccessOffer:
        """Step 1: learn the link's lengths, then read EF.CardAccess (9303-11 §4.2, §9.2.11).

        Plain, from the master file, before the application is selected.
        ``6A82`` means the chip has no EF.CardAccess (BAC only). Any other
        failure to read or parse it is kept in :attr:`CardAccessOffer.problem`
        and reported as a fallback; only a link failure raises.

        :raises TransportError: if the link fails.
        """
        self._enter(Phase.READ_CARD_ACCESS)
        self.capabilities = parse_atr(self.transport.atr)
        self._configure_link()
        if self.capabilities.atr_info_present and self.options.read_atr_info:
            self._read_atr_info()
        self.card_access = self._read_card_access()
        return self.card_access

    def _read_atr_info(self) -> None:
        """Read EF.ATR/INFO from the master file (plain, before the application is selected)."""
        try:
            data = self.file_reader.read_file(LdsFile.EF_ATR_INFO)
        except (StatusWordError, ParseError, RemoteProtocolError):
            return  # advisory only: fall back to what the ATR said
        try:
            self.capabilities = parse_atr_info(data, self.capabilities)
        except ParseError:
            return
        self._configure_link()

    def _read_card_access(self) -> CardAccessOffer:
        file = LdsFile.EF_CARD_ACCESS
        try:
            data = self.file_reader.read_file(file)
        except StatusWordError as exc:
            if exc.sw == StatusWord.FILE_NOT_FOUND:
                return CardAccessOffer(present=False)
            return CardAccessOffer(present=False, problem=f"EF.CardAccess could not be read: {exc}")
        except ParseError as exc:
            return CardAccessOffer(present=True, problem=f"EF.CardAccess is malformed: {exc}")
        except RemoteProtocolError as exc:
            return CardAccessOffer(present=False, problem=f"EF.CardAccess could not be read: {exc}")
        self.document = self.document.with_files({file: data})
        try:
            infos = self.document.card_access
        except ParseError as exc:
            return CardAccessOffer(present=True, problem=f"EF.CardAccess is malformed: {exc}")
        return CardAccessOffer(present=True, security_infos=infos)

    def select_application(self) -> None:
        """Step 2: SELECT the eMRTD application by its AID (9303-10 §4.3; 7816-4 §11.2.2).

        :raises StatusWordError: if the chip has no eMRTD application.
        """
        self._enter(Phase.SELECT_APPLICATION)
        self._select_application()

    def _select_application(self) -> None:
        select = CommandApdu(0x00, Ins.SELECT, 0x04, 0x0C, EMRTD_AID)
        response = self.channel.transmit(select)
        if response.sw == StatusWord.SUCCESS:
            return
        if response.sw != StatusWord.FILE_NOT_FOUND:
            # Some chips want P2=00 with Le (return FCI) - ISO/IEC 7816-4 §11.2.2.
            retry = CommandApdu(0x00, Ins.SELECT, 0x04, 0x00, EMRTD_AID, le=256)
            response = self.channel.transmit(retry)
            if response.sw == StatusWord.SUCCESS:
                return
        raise StatusWordError(response.sw, response.data, "SELECT eMRTD application")

    def access_control(self) -> AccessResult:
        """Step 3: run the access control :meth:`plan_access` chose (PACE or BAC).

        PACE runs on the channel as it is (in the master file when called from
        :meth:`open`). When PACE fails for a reason other than the password
        and the policy allows it, the application is selected and BAC runs,
        and the result says why (:attr:`AccessResult.fallback`).

        :returns: the protocol used, how PACE ran, what EF.CardAccess offered, any fallback.
        :raises LocalProtocolError: if no key was given, or no protocol takes it.
        :raises AccessControlError: if the chip refuses the key, or PACE failed
            and the policy forbids BAC (naming the step and the reason).
        """
        self._enter(Phase.ACCESS_CONTROL)
        key = self.key
        if key is None:
            raise LocalProtocolError("no access key: open the session with one")
        plan = self._plan or self.plan_access()
        self._plan = None
        if plan.control.protocol is AccessProtocol.PACE:
            try:
                self.pace_result = plan.control.perform(
                    self.channel, key, self.card_access, rng=self.rng
                )
            except AccessControlError as exc:
                policy = self.options.access_policy
                if not fallback_allowed(exc, policy):
                    if not fallback_allowed(exc, replace(policy, allow_fallback=True)):
                        raise  # a wrong password or a misbehaving chip: never a reason for BAC
                    raise AccessControlError(
                        f"{_reason(exc)} (falling back to BAC is not allowed by the policy)",
                        step=exc.step,
                        protocol=exc.protocol,
                        sw=exc.sw,
                    ) from exc
                plan = plan.fallback(str(exc))
                if isinstance(key, CanKey):  # pragma: no cover - plan_access refuses it
                    raise
                self._select_application()
                self._run_bac(plan, key, pace_error=exc)
                return self._opened(plan)
            self._control = plan.control  # before EF.CardSecurity: a drop there is recovered
            cam = self._check_chip_authentication_mapping(plan)
            details = _pace_details(plan, key, cam, self.pace_result)
            self.access = replace(plan.result, pace=details)
            return self.access
        self._run_bac(plan, key)
        return self._opened(plan)

    def _opened(self, plan: AccessPlan) -> AccessResult:
        self._control = plan.control
        self.access = plan.result
        return plan.result

    def _run_bac(
        self, plan: AccessPlan, key: AccessKey, *, pace_error: AccessControlError | None = None
    ) -> None:
        try:
            plan.control.perform(self.channel, key, self.card_access, rng=self.rng)
        except AccessControlError as exc:
            notes = []
            if pace_error is not None:
                notes.append(f"after PACE failed: {pace_error}")
            elif self.options.access_policy.bac_only and self.card_access.pace_infos:
                notes.append(
                    "the chip offers PACE; BAC was used because the policy asks for BAC only"
                )
            elif self.card_access.pace_infos:
                notes.append(f"the chip also offers PACE: {plan.result.fallback}")
            if not notes:
                raise
            raise AccessControlError(
                f"{_reason(exc)} ({'; '.join(notes)})",
                step=exc.step,
                protocol=exc.protocol,
                sw=exc.sw,
            ) from exc

    def _check_chip_authentication_mapping(self, plan: AccessPlan) -> CamResult | None:
        """After PACE-CAM: read EF.CardSecurity and check the chip's CAM data against its key.

        9303-11 §4.4.3.5.2: CA_IC · PK_IC must equal PK_Map,IC, with PK_IC the
        chip-authentication public key of EF.CardSecurity. The file is read in
        the master file under PACE secure messaging and kept in the document.
        A file that cannot be read or lacks the key gives ``verified=None``.
        """
        info = plan.pace_info
        if info is None or info.mapping != "CAM":
            return None
        file = LdsFile.EF_CARD_SECURITY
        try:
            data = self.file_reader.read_file(file)
        except (StatusWordError, ParseError) as exc:
            return CamResult(None, f"EF.CardSecurity could not be read: {exc}")
        self.document = self.document.with_files({file: data})
        return check_chip_authentication_mapping(self.pace_result, data)

    def _check_reopened_chip_authentication_mapping(self) -> None:
        """After PACE-CAM ran again on a reopened session, the chip must prove the same key.

        :raises AccessControlError: when the first run matched EF.CardSecurity and this
            one does not.
        """
        pace = None if self.access is None else self.access.pace
        first = None if pace is None else pace.chip_authentication
        data = self.document.get(LdsFile.EF_CARD_SECURITY)
        if first is None or first.verified is not True or data is None:
            return
        again = check_chip_authentication_mapping(self.pace_result, data)
        if again.verified is not True:
            raise AccessControlError(
                "the reopened session's PACE-CAM data do not match EF.CardSecurity: "
                + again.detail,
                step="verify chip authentication data (CAM)",
                protocol="PACE",
            )

    def _recover(self) -> Channel:
        """Re-open a session the chip ended: fresh channel, the same access control, select."""
        key, control = self.key, self._control
        if key is None or control is None:
            raise LocalProtocolError("session was never opened")
        self.file_reader.channel = Channel(self.transport, tracer=self._trace)
        if control.in_master_file:
            self.pace_result = control.perform(self.channel, key, self.card_access, rng=self.rng)
            self._check_reopened_chip_authentication_mapping()
            if self._phase is not Phase.ACCESS_CONTROL:  # EF.CardSecurity is in the MF
                self._select_application()
        else:
            self._select_application()
            control.perform(self.channel, key, self.card_access, rng=self.rng)
        return self.channel

    # -- reading ------------------------------------------------------------------------

    def read_file(self, file: LdsFile) -> bytes:
        """Read one EF of the application (or of the master file before :meth:`open`).

        :returns: the file's bytes, exactly as long as its TLV header says.
        :raises StatusWordError: ``6A82`` when the file does not exist,
            ``6982`` when access is denied.
        :raises ParseError: when the header is malformed or declares too much.
        :raises SecureMessagingError: on a bad MAC (never retried).
        """
        if self.access is not None and self._phase < Phase.READ_FILES:
            self._enter(Phase.READ_FILES)
        return self.file_reader.read_file(file)

    def read_document(self, extra: Iterable[LdsFile] = ()) -> ReadResult:
        """Step 4: read EF.COM, EF.SOD and every data group either lists (plus *extra*).

        EF.SOD is parsed once, through :attr:`ReadResult.document`, to learn
        its data groups. A data group the chip refuses (``6982`` or any other
        status word), lacks (``6A82``), declares larger than its bound, or
        whose header is malformed is listed in :attr:`ReadResult.not_read`
        with the reason, and the read goes on. DG3/DG4 are skipped unless
        :attr:`ReadOptions.read_eac_protected` (they need EAC).

        EF.COM or EF.SOD served malformed (a header that is not TLV, a file
        shorter than it declares) is listed in :attr:`ReadResult.not_read` and
        :attr:`ReadResult.malformed`; a malformed EF.COM or EF.SOD content is
        left to the inspection and passive authentication to report. EF.COM
        or EF.SOD refused or absent is listed in :attr:`ReadResult.not_read`
        and the data groups the other lists are read; with neither list, the
        mandatory DG1 and DG2 (9303-10 §4.7) are read. One file never loses
        the rest of the document.

        This step runs no chip authentication; :meth:`read` interleaves it.

        :raises TransportError: when the link fails, or the read passes its
            budget (:class:`~epass.errors.ReadBudgetExceededError`).
        :raises SecureMessagingError: on a bad MAC, or a dropped session that
            cannot be re-opened.
        :raises RemoteProtocolError: when the chip misbehaves on READ BINARY.
        """
        self._enter(Phase.READ_FILES)
        start = time.perf_counter()
        not_read: dict[LdsFile, str] = {}
        malformed: set[LdsFile] = set()
        wanted = self._read_head(extra, not_read, malformed)
        self._read_data_groups(sorted(wanted, key=_dg_order), not_read, malformed)
        return self._result(not_read, malformed, time.perf_counter() - start)

    def _result(
        self, not_read: Mapping[LdsFile, str], malformed: set[LdsFile], seconds: float
    ) -> ReadResult:
        return ReadResult(
            document=self.document,
            not_read=dict(not_read),
            access=self.access or NO_ACCESS,
            capabilities=self.capabilities,
            stats=self.stats,
            recoveries=self.recoveries,
            seconds=seconds,
            malformed=frozenset(malformed),
        )

    def _read_head(
        self, extra: Iterable[LdsFile], not_read: dict[LdsFile, str], malformed: set[LdsFile]
    ) -> set[LdsFile]:
        """Read EF.COM and EF.SOD; the data groups to read (see :meth:`read_document`)."""
        reader = self.file_reader
        head: dict[LdsFile, bytes] = {}
        for file in (LdsFile.EF_COM, LdsFile.EF_SOD):
            try:
                head[file] = reader.read_file(file)
            except StatusWordError as exc:
                not_read[file] = _refusal(exc)
            except (ParseError, RemoteProtocolError) as exc:
                _served_malformed(exc, file, not_read, malformed)
        document = self.document.with_files(head)
        self.document = document
        wanted: set[LdsFile] = set()
        try:
            parsed_com = document.com
        except ParseError:
            parsed_com = None  # unsigned and malformed: the inspection reports it
        if parsed_com is not None:
            wanted.update(f for f in parsed_com.files if f.is_data_group)
        try:
            parsed_sod = document.sod
        except ParseError:
            parsed_sod = None  # passive authentication reports it; read what EF.COM lists
        if parsed_sod is not None:
            wanted.update(LdsFile.data_group(n) for n in parsed_sod.dg_hashes)
        if parsed_com is None and parsed_sod is None:
            wanted.update(MANDATORY_DATA_GROUPS)  # no list to go by: what every eMRTD holds
        wanted.update(extra)
        return wanted

    def _read_data_groups(
        self,
        files: Sequence[LdsFile],
        not_read: dict[LdsFile, str],
        malformed: set[LdsFile],
        *,
        eac_granted: bool = False,
    ) -> None:
        """Read *files* in order into :attr:`document`, recording the ones not read."""
        reader = self.file_reader
        read: dict[LdsFile, bytes] = {}
        for dg in files:
            if self._session_lost is not None:
                not_read[dg] = self._session_lost
                continue
            if dg in EAC_PROTECTED and not (eac_granted or self.options.read_eac_protected):
                not_read[dg] = "needs Extended Access Control (not performed)"
                continue
            try:
                read[dg] = self._guarded(partial(reader.read_file, dg), f"READ BINARY {dg.label}")
            except StatusWordError as exc:
                not_read[dg] = _refusal(exc)
            except (ParseError, RemoteProtocolError) as exc:
                if self._session_lost is not None and isinstance(exc, SecureMessagingError):
                    not_read[dg] = self._session_lost
                    continue
                _served_malformed(exc, dg, not_read, malformed)
        if read:
            self.document = self.document.with_files(read)

    # -- chip authentication (9303-11 §6) -------------------------------------------------

    def _guarded(self, action: Callable[[], _T], what: str) -> _T:
        """Run one protected exchange; while Chip Authentication awaits its proof, judge it.

        The first protected response under the new keys whose MAC verifies
        proves them (9303-11 §6.2). Until then a dropped session is not
        re-opened silently: a response that fails secure messaging fails Chip
        Authentication, the session is re-opened without it, and *action* runs
        once more there. When the session cannot be re-opened,
        :attr:`_session_lost` says why and the error is raised again.
        """
        pending = self._ca_pending
        if pending is None:
            return action()
        reader = self.file_reader
        recover, reader.recover = reader.recover, None
        try:
            value = action()
        except (StatusWordError, ParseError) as exc:
            if not isinstance(exc, SecureMessagingError):
                self._ca_proven(pending, f"{what} answered under the new keys")
            raise
        except SecureMessagingError as exc:
            self._ca_failed_proof(pending, exc)
            reader.recover = recover
            try:
                reader.recoveries += 1
                reader.channel = self._recover()
            except EpassError as again:
                self._session_lost = (
                    "not read: the session ended when Chip Authentication failed and could "
                    f"not be re-opened ({again})"
                )
                raise exc from again
            return action()
        finally:
            reader.recover = recover
        self._ca_proven(pending, f"{what} answered under the new keys")
        return value

    def _ca_proven(self, pending: ca_protocol.CaResult, proof: str) -> None:
        self._ca_pending = None
        index, run = self._ca_run_index()
        result = replace(pending, proven=True, proof=proof)
        self._ca_result = result
        evidence = dict(run.evidence)
        evidence["proof"] = proof
        self._runs[index] = replace(
            run,
            outcome=AuthOutcome.PASSED,
            detail=f"{run.detail.removesuffix(' (not proven)')}; the chip proved the new keys: "
            f"{proof}",
            evidence=evidence,
        )

    def _ca_failed_proof(self, pending: ca_protocol.CaResult, exc: SecureMessagingError) -> None:
        self._ca_pending = None
        self._ca_result = replace(pending, proven=False, proof=str(exc))
        index, run = self._ca_run_index()
        self._runs[index] = replace(
            run,
            outcome=AuthOutcome.FAILED,
            detail=(
                "the chip did not answer under the keys agreed with the DG14 key "
                f"({ca_protocol.STEP_PROOF}): {exc}"
            ),
            step=ca_protocol.STEP_PROOF,
            sw=exc.sw,
        )

    def _ca_run_index(self) -> tuple[int, ProtocolRun]:
        for index, run in enumerate(self._runs):
            if run.protocol == "CA":
                return index, run
        raise LocalProtocolError("no Chip Authentication run to update")  # pragma: no cover

    def _pace_cam_passed(self) -> bool:
        access = self.access
        pace = None if access is None else access.pace
        cam = None if pace is None else pace.chip_authentication
        return cam is not None and cam.verified is True

    def _run_ca(self) -> None:
        """Chip Authentication v1 with the key of DG14, when DG14 offers it (9303-11 §6.2)."""
        data = self.document.get(LdsFile.DG14)
        if data is None or self._ca_done or self._pace_cam_passed():
            return
        self._ca_done = True
        digest = hashlib.sha256(data).digest()
        try:
            dg14 = self.document.dg14
        except ParseError as exc:
            self._runs.append(
                ProtocolRun(
                    "CA",
                    AuthOutcome.NOT_POSSIBLE,
                    f"DG14 does not parse: {exc}",
                    key_file=LdsFile.DG14,
                    key_file_sha256=digest,
                )
            )
            return
        if dg14 is None or not dg14.ca_public_keys:
            return  # DG14 offers no Chip Authentication
        if self.channel.sm is None:  # pragma: no cover - read_document runs under SM
            return
        try:
            result = ca_protocol.perform_ca(self.channel, dg14, rng=self.rng)
        except (ParseError, UnsupportedAlgorithmError) as exc:
            self._runs.append(
                ProtocolRun(
                    "CA",
                    AuthOutcome.NOT_POSSIBLE,
                    f"the Chip Authentication key of DG14 cannot be used: {exc}",
                    key_file=LdsFile.DG14,
                    key_file_sha256=digest,
                )
            )
            return
        except AccessControlError as exc:
            self._runs.append(
                ProtocolRun(
                    "CA",
                    AuthOutcome.FAILED,
                    f"the chip refused Chip Authentication: {exc}",
                    step=exc.step,
                    sw=exc.sw,
                    key_file=LdsFile.DG14,
                    key_file_sha256=digest,
                )
            )
            return
        except SecureMessagingError as exc:
            self._runs.append(
                ProtocolRun(
                    "CA",
                    AuthOutcome.FAILED,
                    f"the chip's answer failed secure messaging during Chip Authentication: {exc}",
                    sw=exc.sw,
                    key_file=LdsFile.DG14,
                    key_file_sha256=digest,
                )
            )
            self._reopen_after_failure(exc)
            return
        self._ca_result = result
        self._ca_pending = result
        evidence: dict[str, EvidenceValue] = {
            "protocol": result.algorithm.name,
            "oid": result.protocol,
            "key_agreement": result.key_agreement,
            "cipher": result.cipher,
            "key_length": result.key_length,
            "group": result.group_name,
            "key_id": result.key_id,
            "chip_public_key": result.chip_public_key,
            "terminal_ephemeral_public_key": result.ephemeral_public_key,
            "commands": result.commands,
            "problems": result.problems,
        }
        detail = (
            f"{result.algorithm.name} with the key of DG14"
            + ("" if result.key_id is None else f" (keyId {result.key_id})")
            + f" on {result.group_name}"
        )
        # Provisional until a protected response under the new keys verifies (_guarded).
        self._runs.append(
            ProtocolRun(
                "CA",
                AuthOutcome.FAILED,
                detail + " (not proven)",
                key_file=LdsFile.DG14,
                key_file_sha256=digest,
                evidence=evidence,
            )
        )

    def _reopen_after_failure(self, exc: SecureMessagingError) -> None:
        reader = self.file_reader
        try:
            reader.recoveries += 1
            reader.channel = self._recover()
        except EpassError as again:
            self._session_lost = (
                "not read: the session ended when chip authentication failed and could not "
                f"be re-opened ({again}; first {exc})"
            )

    def _run_aa(self) -> None:
        """Active Authentication with the key of DG15, when DG15 was read (9303-11 §6.1)."""
        data = self.document.get(LdsFile.DG15)
        if data is None or self._aa_done or self._session_lost is not None:
            return
        if not self.options.active_authentication_after_ca and (
            self._pace_cam_passed() or (self._ca_result is not None and self._ca_result.proven)
        ):
            return
        self._aa_done = True
        digest = hashlib.sha256(data).digest()
        aa_info = None
        try:
            dg14 = self.document.dg14
        except ParseError:
            dg14 = None
        if dg14 is not None:
            aa_info = dg14.aa_info
        try:
            result = self._guarded(
                lambda: aa_protocol.perform_aa(self.channel, data, aa_info=aa_info, rng=self.rng),
                "INTERNAL AUTHENTICATE",
            )
        except (ParseError, UnsupportedAlgorithmError) as exc:
            self._runs.append(
                ProtocolRun(
                    "AA",
                    AuthOutcome.NOT_POSSIBLE,
                    f"the Active Authentication key of DG15 cannot be used: {exc}",
                    key_file=LdsFile.DG15,
                    key_file_sha256=digest,
                )
            )
            return
        except SecureMessagingError as exc:
            self._runs.append(
                ProtocolRun(
                    "AA",
                    AuthOutcome.FAILED,
                    f"the chip's answer to INTERNAL AUTHENTICATE failed secure messaging: {exc}",
                    step="INTERNAL AUTHENTICATE",
                    sw=exc.sw,
                    key_file=LdsFile.DG15,
                    key_file_sha256=digest,
                )
            )
            if self._session_lost is None:
                self._reopen_after_failure(exc)
            return
        evidence: dict[str, EvidenceValue] = {
            "algorithm": result.algorithm,
            "key": result.key_description,
            "key_bits": result.key_bits,
            "curve": result.curve,
            "hash": result.hash,
            "hashes_tried": result.hashes_tried,
            "signature_format": result.signature_format,
            "challenge": result.challenge,
            "signature": result.signature,
            "recovered_digest": result.recovered_digest,
            "sw": f"{result.sw:04X}",
        }
        if result.valid:
            how = result.algorithm + (f" with {result.hash.upper()}" if result.hash else "")
            detail = f"the chip signed a fresh challenge with the key of DG15 ({how})"
            self._runs.append(
                ProtocolRun(
                    "AA",
                    AuthOutcome.PASSED,
                    detail,
                    evidence=evidence,
                    key_file=LdsFile.DG15,
                    key_file_sha256=digest,
                )
            )
            return
        step = "INTERNAL AUTHENTICATE"
        self._runs.append(
            ProtocolRun(
                "AA",
                AuthOutcome.FAILED,
                result.reason or "the signature does not verify",
                step=step,
                sw=result.sw,
                evidence=evidence,
                key_file=LdsFile.DG15,
                key_file_sha256=digest,
            )
        )

    def _id_picc(self) -> bytes:
        """ID_PICC for TA: Comp(PK_IC) after PACE, else the document number (TR-03110-3 B.11)."""
        pace = self.pace_result
        if self.access is not None and self.access.protocol is AccessProtocol.PACE and pace:
            return ta_protocol.id_picc_from_pace(pace.chip_ephemeral_public_key, pace.key_agreement)
        try:
            dg1 = self.document.dg1
        except ParseError:
            dg1 = None
        if dg1 is not None:
            return ta_protocol.id_picc_from_document_number(dg1.mrz.document_number)
        key = self.key
        text = getattr(key, "mrz_information", "")
        return ta_protocol.id_picc_from_document_number(text[:9])

    def _run_ta(self) -> bool:
        """Terminal Authentication v1 after a proven Chip Authentication; whether it passed."""
        credentials = self.options.terminal_credentials
        ca = self._ca_result
        if credentials is None or self._session_lost is not None:
            return False
        if ca is None or not (ca.proven or self._ca_pending is not None):
            self._runs.append(
                ProtocolRun(
                    "TA",
                    AuthOutcome.NOT_POSSIBLE,
                    "Terminal Authentication v1 needs a Chip Authentication that passed in "
                    "this session",
                )
            )
            return False
        pace = self.pace_result
        trust_points = tuple(getattr(pace, "trust_points", ()) or ()) or None
        try:
            result = self._guarded(
                lambda: ta_protocol.perform_ta(
                    self.channel,
                    credentials.chain,
                    credentials.private_key,
                    id_picc=self._id_picc(),
                    ephemeral_ca_public_key=ca.ephemeral_public_key,
                    key_agreement=ca.key_agreement,
                    trust_points=trust_points,
                ),
                "MSE:Set DST",
            )
        except AccessControlError as exc:
            self._runs.append(
                ProtocolRun(
                    "TA",
                    AuthOutcome.FAILED,
                    f"the chip did not accept the terminal: {exc}",
                    step=exc.step,
                    sw=exc.sw,
                )
            )
            return False
        except LocalProtocolError as exc:
            self._runs.append(ProtocolRun("TA", AuthOutcome.NOT_POSSIBLE, str(exc)))
            return False
        except SecureMessagingError as exc:
            self._runs.append(
                ProtocolRun("TA", AuthOutcome.FAILED, f"secure messaging failed: {exc}", sw=exc.sw)
            )
            if self._session_lost is None:
                self._reopen_after_failure(exc)
            return False
        evidence: dict[str, EvidenceValue] = {
            "terminal": result.terminal,
            "trust_point": result.trust_point,
            "certificates": result.certificates,
            "algorithm": result.algorithm,
            "challenge": result.challenge,
            "signature": result.signature,
        }
        detail = (
            f"the chip accepted the terminal {result.terminal} (chain from {result.trust_point})"
        )
        self._runs.append(ProtocolRun("TA", AuthOutcome.PASSED, detail, evidence=evidence))
        return True

    def _prove_ca(self) -> None:
        """Prove pending CA keys with one protected command, when nothing else followed."""
        pending = self._ca_pending
        if pending is None or self._session_lost is not None:
            return
        try:
            self._guarded(
                lambda: self.channel.transmit(ca_protocol.PROOF_COMMAND),
                ca_protocol.PROOF_COMMAND.describe(),
            )
        except SecureMessagingError:
            return  # recorded by _guarded

    def chip_authentication(self) -> ChipAuthenticationResult:
        """Step 5: Chip, Active and Terminal Authentication (9303-11 §6.1, §6.2; TR-03110).

        Runs, on what :attr:`document` holds: Chip Authentication v1 when DG14
        offers it and PACE-CAM did not authenticate the chip; Active
        Authentication when DG15 is there (also after CA unless
        :attr:`ReadOptions.active_authentication_after_ca` is false);
        Terminal Authentication with :attr:`ReadOptions.terminal_credentials`
        after a passed CA, then DG3/DG4. CA's keys are proven by the next
        protected response (AA's, TA's) or, when nothing follows, one SELECT.
        Use :meth:`read` to interleave with the reads (fewer APDUs).

        A refusal or a failed check is an outcome (:class:`ProtocolRun`), not
        an exception; a passed run proves a genuine chip only together with
        passive authentication of the key's file (the inspection binds them).

        :raises TransportError: if the link fails.
        """
        self._enter(Phase.CHIP_AUTHENTICATION)
        if not self.options.chip_authentication:
            return _summary((), "not performed: disabled by the read options")
        self._run_ca()
        self._after_files([], {}, set())
        return _summary(self._runs)

    def _after_files(
        self,
        eac: Sequence[LdsFile],
        not_read: dict[LdsFile, str],
        malformed: set[LdsFile],
    ) -> None:
        """AA, TA (then the EAC-protected *eac* files), and the CA proof if still pending."""
        self._run_aa()
        if self._run_ta():
            self._read_data_groups(eac, not_read, malformed, eac_granted=True)
        elif eac:
            self._read_data_groups(eac, not_read, malformed)
        self._prove_ca()

    def read(self, key: AccessKey, *, extra: Iterable[LdsFile] = ()) -> ReadResult:
        """Run every step: :meth:`open`, then the files and chip authentication interleaved.

        Order (see the module docstring): EF.COM, EF.SOD, DG14; Chip
        Authentication; the other data groups (under the new keys); Active
        Authentication; Terminal Authentication and DG3/DG4 (with
        :attr:`ReadOptions.terminal_credentials`). With
        :attr:`ReadOptions.chip_authentication` false, the files only.

        :returns: the read, with :attr:`ReadResult.seconds` covering every step
            and :attr:`ReadResult.chip_authentication` every protocol run.
        :raises EpassError: as the steps do.
        """
        start = time.perf_counter()
        self.open(key)
        if not self.options.chip_authentication:
            result = self.read_document(extra)
            chip = self.chip_authentication()
        else:
            self._enter(Phase.READ_FILES)
            not_read: dict[LdsFile, str] = {}
            malformed: set[LdsFile] = set()
            wanted = sorted(self._read_head(extra, not_read, malformed), key=_dg_order)
            first = [dg for dg in wanted if dg is LdsFile.DG14]
            self._read_data_groups(first, not_read, malformed)
            self._run_ca()
            rest = [dg for dg in wanted if dg is not LdsFile.DG14 and dg not in EAC_PROTECTED]
            self._read_data_groups(rest, not_read, malformed)
            self._enter(Phase.CHIP_AUTHENTICATION)
            eac = [dg for dg in wanted if dg in EAC_PROTECTED]
            self._after_files(eac, not_read, malformed)
            chip = _summary(self._runs)
            result = self._result(not_read, malformed, 0.0)
        self._enter(Phase.DONE)
        return replace(
            result,
            chip_authentication=chip,
            recoveries=self.recoveries,
            seconds=time.perf_counter() - start,
        )


def _reason(exc: AccessControlError) -> str:
    """The message of *exc* without its ``"<protocol> failed at <step>: "`` prefix."""
    return str(exc).removeprefix(f"{exc.protocol} failed at {exc.step}: ")


def _pace_details(
    plan: AccessPlan, key: AccessKey, cam: CamResult | None, result: Any
) -> PaceDetails:
    info = plan.pace_info
    if info is None:  # pragma: no cover - a PACE plan always names its option
        raise LocalProtocolError("PACE ran without an option")
    parameter = info.parameter
    # The group PACE ran in: also for explicit parameters (PACEDomainParameterInfo).
    group_name = getattr(result, "group_name", None) or (parameter and parameter.name)
    return PaceDetails(
        protocol=info.name,
        oid=info.protocol,
        mapping=info.mapping or "?",
        key_agreement=info.key_agreement or "?",
        parameter_id=info.parameter_id,
        domain_parameters=group_name or "unknown",
        cipher=info.cipher or "?",
        key_length=info.key_length or 0,
        password="CAN" if isinstance(key, CanKey) else "MRZ",
        chip_authentication=cam,
    )


def _served_malformed(
    exc: ParseError | RemoteProtocolError,
    file: LdsFile,
    not_read: dict[LdsFile, str],
    malformed: set[LdsFile],
) -> None:
    """Record a file the chip served malformed (or empty), so the read goes on.

    A failure of the secure channel or of access control is not about one file:
    it is raised again.
    """
    if isinstance(exc, SecureMessagingError | AccessControlError):
        raise exc
    not_read[file] = f"unreadable: {exc}"
    malformed.add(file)


def _refusal(exc: StatusWordError) -> str:
    """The reason a data group was not read, from the chip's status word."""
    sw = StatusWord.from_int(exc.sw)
    if sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED:
        return f"access denied ({sw:04X})"
    if sw == StatusWord.FILE_NOT_FOUND:
        return f"not on the chip ({sw:04X})"
    return f"refused: {sw}"
