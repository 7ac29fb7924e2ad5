"""Kiosk mode: read document after document from one reader, one JSON event per line.

``epass kiosk --reader NAME`` runs :class:`Kiosk` over a
:class:`~epass.transport.CardSource` (a PC/SC reader, or the virtual slot of
:mod:`drivers.virtual.slot`), the lines of stdin and stdout. A loop without end:

1. take the access key from the input: the MRZ as a keyboard-wedge MRZ scanner
   types it, line by line (TD1, TD2 or TD3; :class:`KeyAssembler` puts the
   lines together), or a CAN (digits);
2. wait for the document; read and verify it (:func:`epass.inspect`);
3. wait until it is taken away; then the next key.

Every step is an event, written as one JSON object per line on the output and
described by ``epass/schemas/kiosk-event-1.schema.json`` (:data:`EVENTS`).
Card removal mid-read, a reader unplugged and plugged back, a chip that stops
answering, a read past its budget and any :class:`~epass.errors.EpassError`
become ``error`` events and the loop takes the next document.

The verdict event carries the whole report (the kiosk application needs the
holder's data). The diagnostic log (logger ``epass.kiosk``, stderr in the CLI)
never holds the MRZ, the CAN, names or keys: it says what happened, by event
type, file label, error type and step.
"""

from __future__ import annotations

import io
import json
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, Protocol

import click

from epass._version import __version__
from epass.access.keys import AccessKey, CanKey, MrzKey
from epass.errors import EpassError, LocalProtocolError, NoReaderError, ParseError
from epass.lds import mrz
from epass.pa import TrustStore
from epass.reader import Phase, ProgressEvent, ReadOptions
from epass.transport import CardSource, Transport

if TYPE_CHECKING:
    from epass.inspection import Inspection

#: A further receiver of every event (``--serve``): the event as written, and for a
#: ``verdict`` event the inspection it reports (``None`` otherwise). It runs in the
#: kiosk's thread after the line is written; what it raises is logged and ignored.
EventSink = Callable[[dict[str, Any], "Inspection | None"], None]

__all__ = [
    "EVENTS",
    "KIOSK_SCHEMA",
    "MAX_LINE",
    "EventSink",
    "KeyAssembler",
    "Kiosk",
    "LineFeed",
    "bounded_lines",
    "kiosk",
    "kiosk_schema",
]

#: The ``$id`` of the event schema (``epass/schemas/kiosk-event-1.schema.json``).
KIOSK_SCHEMA = "epass.kiosk-event/1"
#: Every event type, in the order a cycle produces them.
EVENTS = (
    "started",
    "waiting",
    "key_accepted",
    "reader_ready",
    "document_detected",
    "access_granted",
    "file_read",
    "verdict",
    "document_removed",
    "error",
    "stopped",
)
#: Longest input line taken (a TD3 MRZ typed on one line is 88 characters).
MAX_LINE = 1024

logger = logging.getLogger("epass.kiosk")


def kiosk_schema() -> dict[str, Any]:
    """The JSON Schema of the events (package data)."""
    from importlib import resources

    text = resources.files("epass").joinpath("schemas/kiosk-event-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


class _Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


def bounded_lines(stream: IO[str], limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of *stream*, never holding more than *limit* characters of one.

    A longer line is yielded as its first ``limit + 1`` characters (so the
    reader rejects it) and the rest of it is skipped.
    """
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith("\n"):
            while True:  # skip the rest of the overlong line
                rest = stream.readline(limit + 1)
                if not rest or rest.endswith("\n"):
                    break
        yield line


class LineFeed:
    """The lines of a stream, read on a daemon thread so the kiosk can look at them while it waits.

    Iterating blocks for the next line (and ends at the end of the stream);
    :meth:`ready` returns at once with the lines typed so far. Lines are
    bounded as by :func:`bounded_lines`.
    """

    _END = object()

    def __init__(self, stream: IO[str], limit: int = MAX_LINE) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._ended = False
        self._thread = threading.Thread(
            target=self._pump, args=(stream, limit), name="epass-kiosk-input", daemon=True
        )
        self._thread.start()

    def _pump(self, stream: IO[str], limit: int) -> None:
        try:
            for line in bounded_lines(stream, limit):
                self._queue.put(line)
        except (OSError, ValueError) as exc:  # stdin closed under us: the end of the input
            logger.warning("input ended: %s", type(exc).__name__)
        finally:
            self._queue.put(self._END)

    def __iter__(self) -> Iterator[str]:
        while not self._ended:
            try:  # with a timeout, so SIGINT/SIGTERM are seen while nothing is typed
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is self._END:
                self._ended = True
                return
            assert isinstance(item, str)  # noqa: S101 - only lines and the end go in
            yield item

    def ready(self) -> list[str]:
        """The lines typed so far and not taken yet, without waiting."""
        lines: list[str] = []
        while not self._ended:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is self._END:
                self._ended = True
                break
            assert isinstance(item, str)  # noqa: S101 - only lines and the end go in
            lines.append(item)
        return lines


def _text_input(stream: IO[str]) -> IO[str]:
    """*stream* decoded as UTF-8 with undecodable bytes replaced.

    A scanner or a cat on the keyboard can send any byte; under a UTF-8 locale
    Python's stdin is strict and the first invalid byte ended the kiosk with a
    ``UnicodeDecodeError``. Such lines are now refused like any other malformed line.
    """
    raw = getattr(stream, "buffer", None)
    if raw is None:
        return stream
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


# -- the access key from typed lines ----------------------------------------------------------

#: MRZ line widths: TD1 30, TD2 36, TD3 44 (Doc 9303-5/-6/-4 §4.2.2).
_WIDTHS = frozenset({30, 36, 44})
#: A CAN is a short number printed on the document (9303-11 §4.3; usually 6 digits).
_MAX_CAN = 10


class KeyAssembler:
    """Turn typed lines into access keys, as a keyboard-wedge MRZ scanner types them.

    :meth:`feed` takes one line and returns a key once one is complete:

    * a line of digits (at most 10) is a CAN;
    * TD3 and TD2: the second line (number and dates, check digits verified)
      completes the key; a first (name) line before it is taken and waited on;
    * TD1: the first two lines complete the key; the third (name) line that
      the scanner types next is recognised and skipped;
    * an empty line forgets the lines typed so far.

    Whitespace inside a line separates MRZ lines (a pasted MRZ). Lines of a
    different width start over.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._skip_td1_name = False
        #: What the last key was: ``("MRZ", format, lines)`` or ``("CAN", None, None)``.
        self.last: tuple[str, str | None, str | None] = ("", None, None)

    def reset(self) -> None:
        """Forget the lines typed so far."""
        self._lines.clear()
        self._skip_td1_name = False

    def feed(self, line: str) -> AccessKey | None:
        """Take one input line.

        :returns: a key when *line* completes one, else ``None``.
        :raises ParseError: (``file="MRZ"``) when the line cannot be part of an
            MRZ or a CAN, or a completed MRZ has a wrong check digit; the lines
            so far are forgotten. The message never repeats the input.
        """
        if len(line) > MAX_LINE:
            self.reset()
            raise ParseError(f"input line longer than {MAX_LINE} characters", file="MRZ")
        tokens = line.upper().split()
        if not tokens:
            self.reset()
            return None
        key: AccessKey | None = None
        for token in tokens:
            key = self._token(token) or key
        return key

    def _token(self, token: str) -> AccessKey | None:
        if token.isdigit() and len(token) <= _MAX_CAN:
            self.reset()
            self.last = ("CAN", None, None)
            try:
                return CanKey(token)
            except LocalProtocolError as exc:  # pragma: no cover - digits of the right length
                raise ParseError(str(exc), file="MRZ") from None
        width = len(token)
        if width not in _WIDTHS:
            self.reset()
            raise ParseError(
                f"an input line of {width} characters is neither an MRZ line "
                "(30, 36 or 44 characters) nor a CAN (digits)",
                file="MRZ",
            )
        if self._skip_td1_name:
            self._skip_td1_name = False
            if width == 30 and not any(c.isdigit() for c in token):
                return None  # the name line of the TD1 whose key was taken
        if self._lines and len(self._lines[-1]) != width:
            self._lines.clear()
        self._lines.append(token)
        del self._lines[:-2]
        if width == 30:
            if len(self._lines) < 2:
                return None  # TD1 line 1: line 2 holds the dates
            try:
                fields = mrz.key_fields(self._lines)
            except ParseError:
                if not any(c.isdigit() for c in token):
                    self.reset()  # a name line after something unusable: start over
                    return None
                self.reset()
                raise
            self.reset()
            self._skip_td1_name = True
        else:
            try:
                fields = mrz.key_fields(token)
            except ParseError:
                if mrz._looks_like_name_line(token):
                    self._lines[:] = [token]
                    return None  # line 1: wait for line 2
                self.reset()
                raise
            self.reset()
        self.last = ("MRZ", fields.format, fields.lines)
        return MrzKey(fields.mrz_information)


# -- the loop -------------------------------------------------------------------------------


class Kiosk:
    """The kiosk loop over one reader slot.

    :param source: the reader slot.
    :param lines: the input lines (stdin in the CLI); the loop ends when they do. When
        it is a :class:`LineFeed`, a key completed while the kiosk waits for the
        document replaces the pending one (the latest scan is the document on the
        reader); otherwise lines are taken only when a key is wanted.
    :param out: where the JSON event lines go (``write`` and, if it has one, ``flush``).
    :param trust_store: CSCA anchors for passive authentication.
    :param options: how to read (the read budget ends a read that crawls).
    :param poll: seconds of one wait for a card / for its removal.
    :param retry: seconds between attempts while the reader is gone.
    :param sleep: how to pass *retry* (tests pass a no-op).
    :param clock: monotonic seconds, for the ``ms`` of events.
    :param at: the time to verify at (default: now, at each verdict).
    :param sinks: further receivers of every event (:data:`EventSink`).
    """

    def __init__(
        self,
        source: CardSource,
        lines: Iterable[str],
        out: _Writer,
        *,
        trust_store: TrustStore,
        options: ReadOptions | None = None,
        poll: float = 1.0,
        retry: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
        at: datetime | None = None,
        sinks: Sequence[EventSink] = (),
    ) -> None:
        self.source = source
        self.lines = lines
        self.out = out
        self.trust_store = trust_store
        self.options = options or ReadOptions()
        self.poll = poll
        self.retry = retry
        self.sleep = sleep
        self.clock = clock
        self.at = at
        self.sinks = tuple(sinks)
        self.assembler = KeyAssembler()
        self.cycle = 0
        self.seq = 0
        self.stopped = False
        self._stop_reason = "stopped"
        self._file_started: dict[str, float] = {}
        self._access_sent = False
        self._key: AccessKey | None = None

    # -- output ------------------------------------------------------------------------

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event line: ``event``, ``seq``, ``time``, ``cycle`` and *fields*."""
        self._emit(event, fields, None)

    def _emit(self, event: str, fields: dict[str, Any], inspection: Inspection | None) -> None:
        """:meth:`emit`; *inspection* (a verdict's) goes to the :attr:`sinks`, not into the line."""
        record: dict[str, Any] = {
            "event": event,
            "seq": self.seq,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "cycle": self.cycle,
        }
        record.update(fields)
        self.seq += 1
        try:
            self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
            flush = getattr(self.out, "flush", None)
            if flush is not None:
                flush()
        except OSError as exc:  # nobody reads the events any more
            logger.error("events cannot be written (%s): stopping", exc.strerror or exc)
            self.stop("output closed")
        for sink in self.sinks:
            try:
                sink(record, inspection)
            except Exception as exc:  # a display must not end the kiosk
                logger.error("an event sink failed: %s", type(exc).__name__)

    def _error(self, stage: str, exc: BaseException) -> None:
        kind = type(exc).__name__ if isinstance(exc, EpassError) else "InternalError"
        message = str(exc) if isinstance(exc, EpassError) else f"{type(exc).__name__}: {exc}"
        self.emit("error", stage=stage, type=kind, message=message[:2000])
        if stage == "input":  # the message may describe what was typed: type only
            logger.warning("cycle %d: %s in the input", self.cycle + 1, kind)
        elif isinstance(exc, EpassError):
            logger.warning("cycle %d: %s during %s: %s", self.cycle, kind, stage, message[:300])
        else:
            logger.error("cycle %d: internal error %s during %s", self.cycle, kind, stage)

    def stop(self, reason: str = "stopped") -> None:
        """End the loop after the current step."""
        if not self.stopped:
            self.stopped = True
            self._stop_reason = reason

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> int:
        """Serve documents until the input ends or :meth:`stop`; return the cycles served.

        ``KeyboardInterrupt`` (SIGINT, and SIGTERM in the CLI) ends it with a
        ``stopped`` event.
        """
        self.emit("started", schema=KIOSK_SCHEMA, reader=self.source.name, version=__version__)
        logger.info("kiosk started on reader %r", self.source.name)
        try:
            for key in self._keys():
                self.cycle += 1
                kind, fmt, which = self.assembler.last
                self.emit("key_accepted", kind=kind, format=fmt, lines=which)
                self._serve(key)
                if self.stopped:
                    break
            else:
                self.stop("end of input")
        except KeyboardInterrupt:
            self.stop("interrupted")
        self.emit("stopped", reason=self._stop_reason, cycles=self.cycle)
        logger.info("kiosk stopped (%s) after %d documents", self._stop_reason, self.cycle)
        return self.cycle

    def _keys(self) -> Iterator[AccessKey]:
        self.emit("waiting", **{"for": "key"})
        for line in self.lines:
            if self.stopped:
                return
            try:
                key = self.assembler.feed(line)
            except EpassError as exc:
                self._error("input", exc)
                continue
            if key is not None:
                yield key
                if self.stopped:
                    return
                self.emit("waiting", **{"for": "key"})

    def _serve(self, key: AccessKey) -> None:
        self._key = key
        transport = self._wait_for_card()
        key = self._key  # a key typed while waiting replaced it
        self._key = None
        if transport is None:
            return
        self._file_started.clear()
        self._access_sent = False
        start = self.clock()
        try:
            self.emit("document_detected", reader=self.source.name, atr=_hex(transport))
            logger.info("cycle %d: document detected", self.cycle)
            from epass.inspection import inspect

            inspection = inspect(
                transport,
                key,
                self.trust_store,
                at=self.at,
                options=self.options,
                progress=self._progress,
            )
            ms = _ms(self.clock() - start)
            verdict = inspection.verdict.value
            self._emit(
                "verdict",
                {
                    "verdict": verdict,
                    "reasons": [str(r) for r in inspection.reasons],
                    "ms": ms,
                    "report": inspection.to_dict(),
                },
                inspection,
            )
            logger.info("cycle %d: verdict %s in %.0f ms", self.cycle, verdict, ms)
        except EpassError as exc:
            self._error("read", exc)
        except Exception as exc:  # a bug must not end the kiosk
            self._error("read", exc)
        finally:
            self._file_started.clear()
            try:
                transport.close()
            except EpassError as exc:
                self._error("read", exc)
        self._wait_for_removal()

    def _progress(self, event: ProgressEvent) -> None:
        if event.file is None:
            if event.phase == Phase.READ_FILES and event.access is not None:
                if not self._access_sent:
                    self._access_sent = True
                    access = event.access
                    self.emit(
                        "access_granted",
                        protocol=str(access.protocol),
                        fallback=access.fallback,
                        pace_offered=list(access.pace_offered),
                    )
                    logger.info("cycle %d: access granted (%s)", self.cycle, access.protocol)
            return
        label = event.file.label
        if event.done == 0 and event.total is None:
            self._file_started.setdefault(label, self.clock())
        elif event.total is not None and event.done == event.total:
            started = self._file_started.pop(label, None)
            ms = _ms(self.clock() - started) if started is not None else 0.0
            self.emit("file_read", file=label, bytes=event.total, ms=ms)

    def _wait_for_card(self) -> Transport | None:
        self.emit("waiting", **{"for": "document"})
        lost = False
        while not self.stopped:
            try:
                transport = self.source.wait_for_card(self.poll)
            except NoReaderError as exc:
                if not lost:
                    lost = True
                    self._error("wait", exc)
                    self.emit("waiting", **{"for": "reader"})
                self.sleep(self.retry)
                continue
            except EpassError as exc:  # a card is there but cannot be opened
                self._error("connect", exc)
                self._wait_for_removal()
                self.emit("waiting", **{"for": "document"})
                continue
            except Exception as exc:
                self._error("wait", exc)
                self.sleep(self.retry)
                continue
            if lost:
                lost = False
                self.emit("reader_ready", reader=self.source.name)
                logger.info("reader %r is back", self.source.name)
                if transport is None:
                    self.emit("waiting", **{"for": "document"})
            if transport is not None:
                return transport
            self._take_typed_key()
        return None

    def _take_typed_key(self) -> None:
        """A key typed while waiting for the document replaces the pending one."""
        ready = getattr(self.lines, "ready", None)
        if ready is None:
            return
        for line in ready():
            try:
                key = self.assembler.feed(line)
            except EpassError as exc:
                self._error("input", exc)
                continue
            if key is not None:
                self._key = key
                kind, fmt, which = self.assembler.last
                self.emit("key_accepted", kind=kind, format=fmt, lines=which)
                self.emit("waiting", **{"for": "document"})
                logger.info("cycle %d: a new key replaces the pending one", self.cycle)

    def _wait_for_removal(self) -> None:
        announced = False
        while not self.stopped:
            try:
                if self.source.wait_for_removal(self.poll):
                    self.emit("document_removed")
                    logger.info("cycle %d: document removed", self.cycle)
                    return
            except NoReaderError as exc:  # the card went with the reader
                self._error("removal", exc)
                return
            except Exception as exc:
                self._error("removal", exc)
                self.sleep(self.retry)
            if not announced:
                announced = True
                self.emit("waiting", **{"for": "removal"})


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _hex(transport: Transport) -> str | None:
    try:
        atr = transport.atr
    except EpassError:
        return None
    return atr.hex().upper() if atr else None


# -- the command -----------------------------------------------------------------------------


def _virtual_source(face_format: str) -> tuple[CardSource, TrustStore]:
    """An endless virtual slot: a fresh built-in passport for every document."""
    from drivers.virtual import builder
    from drivers.virtual.slot import Presentation, VirtualSlot

    document = builder.specimen(face_format="JPEG2000" if face_format == "JPEG2000" else "JPEG")

    def documents() -> Iterator[Presentation]:
        while True:
            yield Presentation(document.chip())

    return VirtualSlot(documents(), name="epass virtual passport"), document.trust_store()


def _live_page(address: str, public: bool) -> Any:
    """Start the live page of ``--serve`` (:mod:`epass.cli.kiosk_web`)."""
    try:
        from epass.cli import kiosk_web
    except ImportError as exc:
        raise click.ClickException(
            f"--serve needs the 'web' extra (pip install 'epass[web]'): {exc}"
        ) from exc
    server = kiosk_web.start_server(address, public=public)
    logger.info("live page on %s", server.url)
    return server


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("kiosk")
@click.option(
    "--reader",
    metavar="NAME",
    help="The PC/SC reader: its full name or a unique part (may be left out with one reader).",
)
@click.option(
    "--virtual",
    is_flag=True,
    help="Serve the built-in virtual passport as every document (a demo without a reader).",
)
@click.option(
    "--trust",
    "trust_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSCA certificate(s): a PEM/DER file or a folder (repeatable).",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.05, max=60),
    default=1.0,
    show_default=True,
    help="Seconds of one wait for a document or its removal.",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=0.1, max=3600),
    default=None,
    help="Time budget of one read (default: ReadOptions').",
)
@click.option(
    "--apdu-timeout",
    type=click.FloatRange(min=0.5, max=300),
    default=15.0,
    show_default=True,
    help="Seconds one command may take before a chip that stopped answering is given up "
    "(an error event; the kiosk goes on).",
)
@click.option("--quiet", "-q", is_flag=True, help="Log only warnings and errors on stderr.")
@click.option(
    "--serve",
    metavar="HOST:PORT",
    help="Also show each document live on a web page at this address, e.g. 127.0.0.1:8080 "
    "(loopback only unless --serve-public; needs the 'web' extra).",
)
@click.option(
    "--serve-public",
    is_flag=True,
    help="Let --serve listen on an address other machines reach (the page shows holder data "
    "and the face).",
)
def kiosk(
    reader: str | None,
    virtual: bool,
    trust_paths: Sequence[Path],
    poll: float,
    max_seconds: float | None,
    apdu_timeout: float,
    quiet: bool,
    serve: str | None,
    serve_public: bool,
) -> None:
    """Read document after document: MRZ lines or a CAN on stdin, one JSON event per line.

    \b
    Type (or let a keyboard-wedge MRZ scanner type) the MRZ, line by line, or
    the CAN; lay the document on the reader; read the events on stdout:
      {"event":"waiting","for":"document",...}
      {"event":"verdict","verdict":"VALID","report":{...},...}
    The event format: epass/schemas/kiosk-event-1.schema.json. Ends at the end
    of stdin, on SIGINT or SIGTERM. The log on stderr holds no personal data.
    """
    from dataclasses import replace

    if virtual and reader is not None:
        raise click.UsageError("give --virtual or --reader, not both")
    if serve_public and serve is None:
        raise click.UsageError("--serve-public goes with --serve HOST:PORT")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("epass kiosk: %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    trust = TrustStore.from_paths(*trust_paths) if trust_paths else TrustStore()
    if virtual:
        source, virtual_trust = _virtual_source("JPEG")
        for anchor in virtual_trust:
            trust.add(anchor.der, source="epass virtual test PKI (NOT A REAL CSCA)")
    else:
        from epass.cli import source as card_sources

        # a kiosk runs for days: the reader (or pcscd) may come later, or come back renamed
        source = card_sources.open_card_source(
            reader, wait_for_reader=True, transmit_timeout=apdu_timeout
        )
    options = ReadOptions()
    if max_seconds is not None:
        options = replace(options, max_seconds=max_seconds)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    server = None
    try:
        if serve is not None:
            server = _live_page(serve, serve_public)
        Kiosk(
            source,
            LineFeed(_text_input(sys.stdin)),
            sys.stdout,
            trust_store=trust,
            options=options,
            poll=poll,
            sinks=() if server is None else (server.hub.publish,),
        ).run()
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
        logger.removeHandler(handler)
        close = getattr(source, "close", None)
        if callable(close):
            close()
