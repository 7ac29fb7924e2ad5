"""``epass emulate``: the virtual passport as a card in a vpcd reader, for any PC/SC application.

Needs pcscd with the vsmartcard vpcd driver (Debian: ``vsmartcard-vpcd``);
the card connects to vpcd on 127.0.0.1 (port 35963 = reader ``Virtual PCD 00
00``, 35964 = ``… 00 01``). While it runs: Enter or ``SIGUSR1`` toggles the
card (in/out of the reader), ``i``/``r`` insert/remove, ``q`` quits; ``SIGINT``
and ``SIGTERM`` stop it cleanly (exit 0).
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from drivers.virtual.chip import ChipConfig, Faults, VirtualChip

__all__ = ["PROFILES", "emulate"]

#: Extra names ``--profile`` accepts beside the virtual document profiles
#: (``drivers.virtual.profiles.PROFILES``, listed by ``epass demo --list-profiles``).
PROFILES: dict[str, str] = {
    "specimen": "the built-in ICAO 9303 specimen passport (BAC only, TEST PKI)",
}
DEFAULT_PROFILE = "specimen"


def _profile_names() -> list[str]:
    from drivers.virtual import profiles

    return sorted({*PROFILES, *profiles.PROFILES})


def _profile_chip(name: str, config: ChipConfig, faults: Faults) -> VirtualChip:
    """The chip of profile *name*, with the command line's link settings over its own."""
    from dataclasses import replace

    from drivers.virtual import builder, profiles

    if name in PROFILES:
        document = builder.specimen()
    elif name in profiles.PROFILES:
        document = profiles.document(name)
    else:
        raise click.UsageError(f"unknown profile {name!r}; known: {', '.join(_profile_names())}")
    from drivers.virtual.chip import ChipConfig

    own = replace(document.chip_config or ChipConfig(), extended_length=config.extended_length)
    return document.chip(config=own, faults=faults)


def _dump_chip(folder: Path, config: ChipConfig, faults: Faults) -> VirtualChip:
    """A chip serving the application files of a saved dump, with BAC keyed by its DG1."""
    from drivers.virtual.chip import VirtualChip
    from epass.dump import read_dump
    from epass.errors import ParseError
    from epass.lds import dg1
    from epass.lds.files import LdsFile

    dump = read_dump(folder)
    files = {}
    for label, data in dump.files.items():
        file = LdsFile.by_name(label)
        if file.in_applet:  # EF.CardAccess / EF.ATR/INFO would promise what this chip lacks
            files[file] = data
    raw = files.get(LdsFile.DG1)
    if raw is None:
        raise click.ClickException(f"{folder}: no DG1: the BAC keys come from the MRZ in DG1")
    try:
        mrz_information = dg1.parse(raw).mrz.mrz_information
    except ParseError as exc:
        raise click.ClickException(f"{folder}: DG1 does not parse, no BAC keys: {exc}") from exc
    return VirtualChip(files, mrz_information, config=config, faults=faults)


def _scenario_chip(
    name: str, config: ChipConfig, faults: Faults, remove_after: int | None
) -> tuple[VirtualChip, int | None]:
    """The chip of scenario *name* (:mod:`drivers.virtual.scenarios`) and when it leaves."""
    from dataclasses import replace

    from drivers.virtual import scenarios
    from drivers.virtual.chip import ChipConfig

    try:
        staged = scenarios.scenario(name).stage()
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    document = staged.document
    own = replace(document.chip_config or ChipConfig(), extended_length=config.extended_length)
    chip = document.chip(config=own, faults=staged.faults or faults)
    return chip, remove_after if remove_after is not None else staged.remove_after


def _keyboard(
    toggle: Callable[[], None],
    insert: Callable[[], None],
    remove: Callable[[], None],
    stop: Callable[[], None],
) -> None:
    for line in sys.stdin:
        word = line.strip().lower()
        if word in ("", "t", "toggle"):
            toggle()
        elif word in ("i", "insert"):
            insert()
        elif word in ("r", "remove"):
            remove()
        elif word in ("q", "quit", "exit"):
            stop()
            return


def _keyboard_wanted() -> bool:
    """Whether to read commands from stdin: not when started in the background (``&``).

    A background process that reads its terminal is stopped by SIGTTIN, all of
    it: the card would stop answering pcscd. A pipe or a foreground terminal is read.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    if not os.isatty(fd):
        return True
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=35963,
    show_default=True,
    help="vpcd port on 127.0.0.1 (35963: 'Virtual PCD 00 00', 35964: '... 00 01').",
)
@click.option(
    "--profile",
    default=DEFAULT_PROFILE,
    show_default=True,
    metavar="NAME",
    help="Document profile: specimen (BAC only) or any of epass demo --list-profiles.",
)
@click.option(
    "--from-dump",
    "dump",
    type=click.Path(file_okay=False, path_type=Path),
    help="Serve a saved dump (epass read --save) as a chip with BAC keyed by its DG1.",
)
@click.option(
    "--scenario",
    "scenario_name",
    metavar="NAME",
    help="Serve a fraud scenario's chip (see epass scenarios list; its trust store and printed "
    "MRZ: epass scenarios export NAME DIR).",
)
@click.option("--removed", is_flag=True, help="Start with the card out of the reader.")
@click.option(
    "--delay-ms",
    type=click.FloatRange(0, 60_000),
    default=0.0,
    help="Slow chip: wait this long before each answer.",
)
@click.option(
    "--remove-after",
    type=click.IntRange(1),
    metavar="N",
    help="Take the card out when APDU number N arrives (once).",
)
@click.option(
    "--no-extended", is_flag=True, help="A chip without extended length (announced so in the ATR)."
)
@click.option(
    "--reject-extended",
    is_flag=True,
    help="Answer 6700 to extended APDUs although the ATR announces them.",
)
@click.option(
    "--reject-extended-secure",
    is_flag=True,
    help="Answer a plain 6700 to extended APDUs under secure messaging.",
)
@click.option(
    "--corrupt-mac-after",
    type=click.IntRange(1),
    metavar="N",
    help="Corrupt the MAC of the Nth and later protected responses.",
)
@click.option(
    "--plain-error-on-read",
    type=click.IntRange(1),
    metavar="N",
    help="End the session with a plain 6988 at READ BINARY number N.",
)
@click.option(
    "--reject-le-above",
    type=click.IntRange(1),
    metavar="N",
    help="Answer 6700 to a READ BINARY asking more than N bytes.",
)
@click.option(
    "--hint-le-above",
    type=click.IntRange(1, 256),
    metavar="N",
    help="Answer 6Cxx (xx = N) to a READ BINARY asking more than N bytes.",
)
@click.option("--refuse-sfi", is_flag=True, help="Answer 6A86 to READ BINARY with an SFI.")
@click.option("--no-keyboard", is_flag=True, help="Do not read commands from stdin.")
def emulate(
    port: int,
    profile: str,
    dump: Path | None,
    scenario_name: str | None,
    removed: bool,
    delay_ms: float,
    remove_after: int | None,
    no_extended: bool,
    reject_extended: bool,
    reject_extended_secure: bool,
    corrupt_mac_after: int | None,
    plain_error_on_read: int | None,
    reject_le_above: int | None,
    hint_le_above: int | None,
    refuse_sfi: bool,
    no_keyboard: bool,
) -> None:
    """Serve the virtual passport to pcscd through vpcd, until SIGINT/SIGTERM or 'q'.

    \b
    Enter (or 'toggle') and SIGUSR1 put the card in or take it out;
    'i' inserts, 'r' removes, 'q' quits.
    """
    from drivers.virtual.chip import ChipConfig, Faults
    from drivers.virtual.vpcd import DEFAULT_HOST, VpcdCard

    config = ChipConfig(extended_length=not no_extended)
    faults = Faults(
        corrupt_mac_after=corrupt_mac_after,
        plain_error_on_read=plain_error_on_read,
        reject_le_above=reject_le_above,
        hint_le_above=hint_le_above,
        reject_extended=reject_extended,
        reject_extended_secure=reject_extended_secure,
        refuse_sfi=refuse_sfi,
    )
    if scenario_name is not None:
        if dump is not None or profile != DEFAULT_PROFILE:
            raise click.UsageError("give one of --profile, --from-dump, --scenario")
        chip, remove_after = _scenario_chip(scenario_name, config, faults, remove_after)
        what = f"scenario {scenario_name!r}"
    elif dump is not None:
        if profile != DEFAULT_PROFILE:
            raise click.UsageError("give --profile or --from-dump, not both")
        chip = _dump_chip(dump, config, faults)
        what = f"dump {dump}"
    else:
        chip = _profile_chip(profile, config, faults)
        what = f"profile {profile!r}"

    def log(line: str) -> None:
        click.echo(f"epass emulate: {line}", err=True)

    card = VpcdCard(
        chip,
        host=DEFAULT_HOST,
        port=port,
        delay_ms=delay_ms,
        remove_after=remove_after,
        inserted=not removed,
        log=log,
    )

    # Signal handlers only queue the request (SimpleQueue.put is safe in a handler); the
    # main loop below applies it, outside any lock the handler might have interrupted.
    requests: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        requests.put(card.toggle if signum == signal.SIGUSR1 else card.stop)

    previous = {
        sig: signal.signal(sig, on_signal)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)
    }
    try:
        log(
            f"serving {what} on vpcd {DEFAULT_HOST}:{port}"
            f" (card {'out' if removed else 'in'}); Enter or SIGUSR1 toggles, q quits"
        )
        thread = threading.Thread(target=card.run, name="epass-vpcd", daemon=True)
        thread.start()
        if not no_keyboard and _keyboard_wanted():
            threading.Thread(
                target=_keyboard,
                args=(card.toggle, card.insert, card.remove, card.stop),
                name="epass-emulate-keyboard",
                daemon=True,
            ).start()
        while thread.is_alive():
            try:
                requests.get(timeout=0.1)()
            except queue.Empty:
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stats = card.stats
    log(
        f"stopped: {stats.connections} insertion(s), {stats.apdus} APDU(s), "
        f"{stats.pseudo_apdus} reader command(s), {stats.frame_errors} malformed frame(s)"
    )
