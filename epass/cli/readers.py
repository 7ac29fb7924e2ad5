"""``epass readers``: the PC/SC readers, their cards and what is known of extended length.

Imports :mod:`drivers.pcsc` (and so pyscard) only when run; without pyscard it
says how to install it and exits 3.
"""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["readers"]


def _describe(status: Any) -> list[str]:
    from epass.cli.render import safe

    lines = [safe(status.name, limit=200)]
    if not status.card_present:
        lines.append("  card: none")
    else:
        flags = [
            word
            for word, on in (
                ("in use by another program", status.in_use),
                ("held exclusively", status.exclusive),
                ("mute", status.mute),
            )
            if on
        ]
        lines.append("  card: present" + (f" ({', '.join(flags)})" if flags else ""))
        info = status.atr_info
        if info is not None:
            lines.append(f"  ATR: {info.atr.hex(' ').upper()}")
            protocols = ", ".join(f"T={p}" for p in info.protocols)
            lines.append(f"    {info.kind}" + (f", {protocols}" if protocols else ""))
            if info.historical_bytes:
                lines.append(f"    historical bytes: {info.historical_bytes.hex(' ').upper()}")
            for name, value in info.objects:
                lines.append(f"    {name}: {value.hex(' ').upper()}")
            if info.capability_notes:
                lines.append(f"    card capabilities decoded: {', '.join(info.capability_notes)}")
            if info.problem:
                lines.append(f"    problem: {info.problem}")
    lines.append(f"  extended length: {status.extended_length_summary()}")
    if status.known is not None:
        lines.append(f"  note: {status.known[1]} (not tested on hardware by epass)")
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the readers as JSON.")
def readers(as_json: bool) -> None:
    """List the PC/SC readers: name, card present, ATR decoded, extended-length support.

    Needs pcscd and the pcsc extra (pip install 'epass[pcsc]').
    """
    try:
        from drivers import pcsc
    except ImportError as exc:  # pragma: no cover - drivers ships with epass
        raise click.ClickException(f"PC/SC support is not available: {exc}") from exc
    found = pcsc.list_readers()
    if as_json:
        click.echo(json.dumps({"readers": [r.to_dict() for r in found]}, indent=2))
        return
    if not found:
        click.echo("no PC/SC reader is connected")
        return
    for status in found:
        for line in _describe(status):
            click.echo(line)
