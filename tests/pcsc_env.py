"""Where the PC/SC integration tests find pcscd and the vpcd reader.

``make test`` runs the suite through ``tools/with-pcscd``, which starts a
private pcscd with one vpcd entry and sets:

* ``EPASS_VPCD_PORT`` — the port the virtual card connects to;
* ``EPASS_VPCD_READER`` — the reader that card appears in.

Without them the tests look for Debian's default entry (port 35963, reader
``Virtual PCD 00 00``). When pyscard, pcscd or the reader is missing the tests
skip with the reason; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os

import pytest

PORT = int(os.environ.get("EPASS_VPCD_PORT", "35963"))
READER_HINT = os.environ.get("EPASS_VPCD_READER", "Virtual PCD 00 00")
IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """Skip (or under ``CI=true`` fail) the test: PC/SC is not there."""
    if IN_CI:
        pytest.fail(f"CI=true and the PC/SC integration tests cannot run: {reason}")
    pytest.skip(reason)


def vpcd_reader() -> str:
    """The full name of the vpcd reader the tests use (skips or fails when there is none)."""
    from drivers import pcsc
    from epass.errors import NoReaderError

    if not pcsc.pyscard_available():
        unavailable("pyscard (the pcsc extra) is not installed")
    try:
        names = pcsc.reader_names()
    except NoReaderError as exc:
        unavailable(f"pcscd is not reachable: {exc}")
        raise  # unreachable
    if READER_HINT in names:
        return READER_HINT
    unavailable(
        f"no vpcd reader {READER_HINT!r} in pcscd (readers: {names or 'none'}); "
        "run the suite through tools/with-pcscd (make test)"
    )
    raise AssertionError("unreachable")
