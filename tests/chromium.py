"""Headless Chromium for the browser tests (Debian's ``chromium`` package).

* :func:`require_chromium`: the binary, or a skip with the reason (a failure under
  ``CI=true``, where ``tools/with-chromium`` installs it).
* :func:`screenshot` / :func:`dump_dom`: one page, one run of the command line
  (``--screenshot``, ``--dump-dom``), bounded in time; the process group is
  killed on a timeout.
* :class:`DevToolsPage`: a page kept open and driven over the DevTools protocol
  on ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-separated JSON), so a
  test can watch a live page change: evaluate JavaScript, take a screenshot.
* :func:`artifact_dir`: where screenshots kept for CI go (``$EPASS_ARTIFACTS``,
  else a pytest temporary folder); never inside the repository.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")


def chromium_path() -> str | None:
    """``$EPASS_CHROMIUM``, or the first Chromium on PATH, or ``None``."""
    explicit = os.environ.get("EPASS_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = (
            "headless Chromium not found (Debian package 'chromium'; tools/with-chromium "
            "installs it as root or with CI=true): the browser tests skip"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder for screenshots kept as CI artifacts."""
    root = os.environ.get("EPASS_ARTIFACTS")
    if root:
        path = Path(root)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = tmp_path_factory.getbasetemp() / "artifacts"
    path.mkdir(exist_ok=True)
    return path


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[bytes]:
    process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own arguments
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def screenshot(url: str, target: Path, *, size: tuple[int, int] = (1200, 2000)) -> Path:
    """A PNG screenshot of *url* (the page as loaded) at *target*."""
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="epass-chromium-") as profile:
        result = _run(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={target}",
                f"--window-size={size[0]},{size[1]}",
                url,
            ],
            timeout=90,
        )
    assert target.is_file(), result.stderr.decode(errors="replace")[-2000:]
    return target


def dump_dom(url: str) -> str:
    """The DOM of *url* once loaded, serialised (``--dump-dom``)."""
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="epass-chromium-") as profile:
        result = _run([binary, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url], timeout=90)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout.decode("utf-8")


def _high(fd: int) -> int:
    """*fd* moved to a number >= 10 (so fds 3 and 4 of the child can be set without clashes)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class DevToolsPage:
    """One headless Chromium with one page, driven over ``--remote-debugging-pipe``.

    Use as a context manager; :meth:`navigate`, :meth:`evaluate`, :meth:`wait_for`,
    :meth:`screenshot`. The browser's process group is killed on exit.
    """

    def __init__(self, *, size: tuple[int, int] = (1200, 1600)) -> None:
        self.binary = require_chromium()
        self.size = size
        self._id = 0
        self._buffer = b""
        self.session: str | None = None

    def __enter__(self) -> DevToolsPage:
        self._profile = tempfile.TemporaryDirectory(prefix="epass-chromium-")
        to_child_r, self._to_child = (_high(fd) for fd in os.pipe())
        self._from_child, from_child_w = (_high(fd) for fd in os.pipe())
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            self.pid = os.posix_spawn(
                self.binary,
                [
                    self.binary,
                    *FLAGS,
                    f"--user-data-dir={self._profile.name}",
                    f"--window-size={self.size[0]},{self.size[1]}",
                    "--remote-debugging-pipe",
                    "about:blank",
                ],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, to_child_r, 3),
                    (os.POSIX_SPAWN_DUP2, from_child_w, 4),
                    (os.POSIX_SPAWN_DUP2, devnull, 1),
                    (os.POSIX_SPAWN_DUP2, devnull, 2),
                ],
                setsid=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
            os.close(devnull)
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
            self.session = attached["sessionId"]
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            self.session = None
            self.call("Browser.close", timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self._to_child)
        os.close(self._from_child)
        self._profile.cleanup()

    def call(self, method: str, *, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (raises on an error answer)."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for answer in self._messages(deadline):
                if answer.get("id") == self._id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    result: dict[str, Any] = answer.get("result", {})
                    return result

    def _messages(self, deadline: float) -> list[dict[str, Any]]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("Chromium did not answer in time")
        ready, _, _ = select.select([self._from_child], [], [], left)
        if not ready:
            raise TimeoutError("Chromium did not answer in time")
        chunk = os.read(self._from_child, 1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed its DevTools pipe")
        self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\0")
        return [json.loads(part) for part in complete if part]

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 20) -> Any:
        """Poll *expression* until it is truthy; return its value.

        An exception in the page (an element not there yet) counts as not yet.
        """
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError as exc:
                value = exc
            else:
                if value:
                    return value
            time.sleep(0.05)
        raise AssertionError(f"the page never satisfied {expression!r} (last value {value!r})")

    def screenshot(self, target: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        target.write_bytes(base64.b64decode(data))
        return target
