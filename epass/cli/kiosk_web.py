"""The kiosk's live page: ``epass kiosk --reader NAME --serve 127.0.0.1:8080``.

A small web server (Starlette on uvicorn; the ``web`` extra) beside the kiosk
loop of :mod:`epass.cli.kiosk`. It shows the current document as it is read:
progress file by file, the access protocol, the verdict with its reasons, the
face and every check. The page (``epass/static/kiosk/``: HTML, one script,
one stylesheet; nothing from elsewhere) receives the kiosk's events as
server-sent events: the very JSON objects written to stdout
(``epass/schemas/kiosk-event-1.schema.json``), one per SSE message.

Routes:

``GET /``, ``/kiosk.js``, ``/kiosk.css``
    the page.
``GET /events``
    ``text/event-stream``: first the ``started`` event and the events of the
    current document (so a page opened late shows it), then every event as it
    happens; a comment every 15 s keeps the connection checked.
``GET /face/{cycle}``
    the current document's face as PNG (decoded server-side under the pixel
    budget of :mod:`epass.report.images`), only for the current cycle; held in
    memory only, dropped when the next document starts or the kiosk stops.

Personal data: the verdict event carries the report, holder data included,
and the face is served, so the server listens on the loopback interface
unless ``--serve-public`` is given; it answers only requests whose ``Host``
header names the address it listens on (a web page elsewhere cannot rebind
its name to this server and read it), sends ``Cache-Control: no-store``
and a Content-Security-Policy that allows nothing but this server, and
writes no access log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import click
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from epass.errors import ParseError
from epass.inspection import Inspection
from epass.report.images import MAX_SHOWN_SIDE, to_png

__all__ = [
    "DEFAULT_ADDRESS",
    "LiveHub",
    "LiveServer",
    "create_app",
    "parse_address",
    "start_server",
]

logger = logging.getLogger("epass.kiosk")

#: Where ``--serve`` listens when given without a value.
DEFAULT_ADDRESS = "127.0.0.1:8080"
#: Pages connected at once; more are answered 503.
MAX_CLIENTS = 32
#: Events waiting for one slow page before it is disconnected (it reconnects and replays).
MAX_PENDING = 2000
#: Events of one document kept for pages that connect late.
MAX_HISTORY = 2000
#: Seconds between keep-alive comments on an idle stream.
KEEPALIVE_SECONDS = 15.0

_STATIC = {
    "/": ("kiosk.html", "text/html; charset=utf-8"),
    "/kiosk.js": ("kiosk.js", "text/javascript; charset=utf-8"),
    "/kiosk.css": ("kiosk.css", "text/css; charset=utf-8"),
}
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


# -- the address ---------------------------------------------------------------------------


def parse_address(text: str, *, public: bool = False) -> tuple[str, int]:
    """``HOST:PORT`` (``127.0.0.1:8080``, ``localhost:8080``, ``[::1]:8080``) as (host, port).

    The host is an IP address or ``localhost`` (taken as 127.0.0.1); port 0
    picks a free port.

    :raises click.BadParameter: for a malformed address, or an address that is
        not loopback when *public* is false.
    """
    value = text.strip()
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise click.BadParameter(
            f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:8080)", param_hint="'--serve'"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise click.BadParameter(
            f"{host!r} is not an IP address or 'localhost'", param_hint="'--serve'"
        ) from None
    if not address.is_loopback and not public:
        raise click.BadParameter(
            f"{host} is not a loopback address: the page shows the holder's data and face, "
            "so it is served to this machine only unless --serve-public is given",
            param_hint="'--serve'",
        )
    return str(address), int(port_text)


# -- the events, fanned out ----------------------------------------------------------------


@dataclass
class _Client:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None]
    pending: int = 0
    dropped: bool = False


class LiveHub:
    """The kiosk's events, kept for the current document and fanned out to the pages.

    :meth:`publish` is the kiosk's :data:`~epass.cli.kiosk.EventSink` (called in
    the kiosk's thread); :meth:`subscribe` is used on the server's event loop.
    """

    def __init__(self, *, max_clients: int = MAX_CLIENTS, max_history: int = MAX_HISTORY) -> None:
        self._lock = threading.Lock()
        self._clients: list[_Client] = []
        self._started: str | None = None
        self._history: list[str] = []
        self._face: tuple[int, bytes] | None = None
        self._closed = False
        self.max_clients = max_clients
        self.max_history = max_history

    # -- the kiosk side --------------------------------------------------------------------

    def publish(self, record: dict[str, Any], inspection: Inspection | None = None) -> None:
        """Take one event (as written on stdout); for a verdict, decode the face first."""
        event = record.get("event")
        cycle = int(record.get("cycle", 0))
        if event == "verdict" and inspection is not None:
            face = _face_png(inspection)
            with self._lock:
                self._face = None if face is None else (cycle, face)
        text = json.dumps(record, separators=(",", ":"))
        with self._lock:
            if event == "started":
                self._started = text
                self._history = []
                self._face = None
            elif event == "key_accepted":  # a new document: forget the last one
                self._history = []
                self._face = None
            elif event == "stopped":
                self._face = None
            if event != "started" and len(self._history) < self.max_history:
                self._history.append(text)
            for client in self._clients:
                client.loop.call_soon_threadsafe(self._offer, client, text)

    def face(self, cycle: int) -> bytes | None:
        """The PNG face of document *cycle*, if it is the current one and has a face."""
        with self._lock:
            if self._face is not None and self._face[0] == cycle:
                return self._face[1]
        return None

    def close(self) -> None:
        """End every stream (the kiosk stops)."""
        with self._lock:
            self._closed = True
            self._face = None
            for client in self._clients:
                client.loop.call_soon_threadsafe(self._offer, client, None)

    # -- the server side -------------------------------------------------------------------

    @staticmethod
    def _offer(client: _Client, text: str | None) -> None:
        if client.dropped:
            return
        if text is not None and client.pending >= MAX_PENDING:
            client.dropped = True  # a page that does not read: end its stream
            text = None
        client.pending += 1
        client.queue.put_nowait(text)

    def subscribe(self) -> tuple[_Client, list[str]] | None:
        """Register a page on the running loop: its client and the events to replay first.

        :returns: ``None`` when :data:`MAX_CLIENTS` pages are connected or the hub is closed.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._closed or len(self._clients) >= self.max_clients:
                return None
            client = _Client(loop, asyncio.Queue())
            self._clients.append(client)
            replay = ([self._started] if self._started else []) + list(self._history)
        return client, replay

    def unsubscribe(self, client: _Client) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    @property
    def clients(self) -> int:
        """Pages connected now."""
        with self._lock:
            return len(self._clients)

    async def stream(self, client: _Client, replay: list[str]) -> AsyncIterator[str]:
        """The SSE text of one page: the replay, then each event; ends when the hub closes."""
        try:
            yield "retry: 2000\n\n"
            for text in replay:
                yield _sse(text)
            while True:
                try:
                    item = await asyncio.wait_for(client.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                client.pending -= 1
                if item is None:
                    return
                yield _sse(item)
        finally:
            self.unsubscribe(client)


def _sse(text: str) -> str:
    # json.dumps escapes every line break, so the event is one "data:" line
    return f"data: {text}\n\n"


def _face_png(inspection: Inspection) -> bytes | None:
    try:
        dg2 = inspection.document.dg2
    except ParseError:
        return None
    if dg2 is None or not dg2.faces or not dg2.faces[0].image:
        return None
    try:
        return to_png(dg2.faces[0].image, max_side=MAX_SHOWN_SIDE)
    except ParseError as exc:
        logger.warning("the face is not shown on the live page: %s", exc.reason)
        return None


# -- the application -----------------------------------------------------------------------


def _static(name: str) -> bytes:
    return resources.files("epass").joinpath(f"static/kiosk/{name}").read_bytes()


def _host_of(header: str) -> str:
    """The host part of a ``Host`` header (``[::1]:8080`` -> ``::1``)."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class _HostCheck:
    """Answer 421 to requests whose ``Host`` is not one of *allowed* (DNS rebinding)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            host = _host_of(headers.get(b"host", b"").decode("latin-1").lower())
            if host not in self.allowed:
                response = PlainTextResponse("unknown host", status_code=421)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def create_app(hub: LiveHub, *, allowed_hosts: frozenset[str] | None = _LOOPBACK_NAMES) -> ASGIApp:
    """The ASGI application of the live page over *hub*.

    :param allowed_hosts: the names the ``Host`` header may give (``None``: any;
        default: the loopback names).
    """
    pages = {path: (_static(name), media) for path, (name, media) in _STATIC.items()}

    async def page(request: Request) -> Response:
        body, media = pages[request.url.path]
        return Response(body, media_type=media, headers=_HEADERS)

    async def events(request: Request) -> Response:
        subscription = hub.subscribe()
        if subscription is None:
            return PlainTextResponse("too many pages", status_code=503, headers=_HEADERS)
        client, replay = subscription
        headers = dict(_HEADERS)
        headers["X-Accel-Buffering"] = "no"
        return StreamingResponse(
            hub.stream(client, replay), media_type="text/event-stream", headers=headers
        )

    async def face(request: Request) -> Response:
        png = hub.face(int(request.path_params["cycle"]))
        if png is None:
            return PlainTextResponse("no face for this document", status_code=404, headers=_HEADERS)
        return Response(png, media_type="image/png", headers=_HEADERS)

    routes = [Route(path, page) for path in pages]
    routes += [Route("/events", events), Route("/face/{cycle:int}", face)]
    app = Starlette(routes=routes)
    return app if allowed_hosts is None else _HostCheck(app, allowed_hosts)


# -- the server thread ---------------------------------------------------------------------


class LiveServer:
    """The live page served by uvicorn in a background thread.

    :param sock: a bound, listening socket (:func:`start_server` makes it, so a
        port in use fails at once, in the caller's thread).
    """

    def __init__(self, sock: socket.socket, hub: LiveHub, *, public: bool = False) -> None:
        self.hub = hub
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.host, self.port = str(host), int(port)
        allowed: frozenset[str] | None = _LOOPBACK_NAMES
        if public:
            if ipaddress.ip_address(self.host).is_unspecified:
                allowed = None  # every interface: every name this machine answers to
            else:
                allowed = _LOOPBACK_NAMES | {self.host, socket.gethostname().lower()}
        config = uvicorn.Config(
            create_app(hub, allowed_hosts=allowed),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="epass-kiosk-web", daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; return once the server listens.

        :raises click.ClickException: if it does not start within *timeout* seconds.
        """
        self.thread.start()
        waited = 0.0
        while not self.server.started:
            if not self.thread.is_alive() or waited >= timeout:
                raise click.ClickException(f"the live page could not start on {self.url}")
            self.thread.join(0.02)
            waited += 0.02

    def stop(self) -> None:
        """End every stream and the server; close the socket."""
        self.hub.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def start_server(address: str, *, public: bool = False, hub: LiveHub | None = None) -> LiveServer:
    """Listen on *address* (``HOST:PORT``, see :func:`parse_address`) and serve the live page.

    :param hub: the event hub (default: a new :class:`LiveHub`).

    :raises click.BadParameter: for a bad or non-loopback address without *public*.
    :raises click.ClickException: when the address cannot be bound.
    """
    host, port = parse_address(address, public=public)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise click.ClickException(
            f"cannot serve the live page on {address}: {exc.strerror or exc}"
        ) from exc
    server = LiveServer(sock, hub or LiveHub(), public=public)
    server.start()
    return server
