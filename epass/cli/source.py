"""Where documents come from: the PC/SC reader a ``--reader NAME`` means.

``drivers.pcsc`` (pyscard) is imported here, lazily, so the rest of the CLI
runs without it; ``epass read --reader`` and ``epass kiosk`` share this seam.
"""

from __future__ import annotations

import importlib

from epass.errors import NoReaderError
from epass.transport import CardSource

__all__ = ["open_card_source"]


def open_card_source(
    name: str | None, *, wait_for_reader: bool = False, transmit_timeout: float | None = None
) -> CardSource:
    """The PC/SC reader *name* means (a full name or a unique part; ``None``: the only one).

    ``drivers.pcsc`` is imported here, lazily, so the rest of the CLI runs
    without pyscard.

    :param wait_for_reader: a kiosk's source: the reader (or pcscd) need not be
        there yet; its waits raise :class:`NoReaderError` until it is, and it is
        found again after it was unplugged (``drivers.pcsc.ResolvingReader``).
    :param transmit_timeout: seconds one APDU may take (default: the driver's, 15 s).
    :raises NoReaderError: no PC/SC support in this installation; without
        *wait_for_reader* also no reader, no match; several matches (the message
        lists them) in both cases.
    """
    try:
        pcsc = importlib.import_module("drivers.pcsc")
    except ModuleNotFoundError as exc:
        if exc.name == "drivers.pcsc":
            raise NoReaderError(
                "PC/SC readers are not supported by this version of epass: use --virtual"
            ) from exc
        raise NoReaderError(
            f"PC/SC support needs pyscard: pip install 'epass[pcsc]' ({exc})"
        ) from exc
    options = {} if transmit_timeout is None else {"transmit_timeout": transmit_timeout}
    if wait_for_reader:
        waiting = pcsc.ResolvingReader(name, **options)
        waiting.check()
        return waiting  # type: ignore[no-any-return]
    source: CardSource = pcsc.open_reader(name, **options)
    return source
