"""``epass scenarios``: the fraud-scenario library for examiner training, and its answer key.

* ``epass scenarios list [--json]``: every scenario with what the examiner
  should see and the expected outcome (verdict, failed checks, chip status, or
  the error a read must end with); the JSON also carries the printed MRZ.
* ``epass scenarios check [--json]``: runs epass's own inspection against every
  scenario in-process and prints the score table (expected, got, pass/fail) and
  the time taken; exit 0 only when every reading scores right, else 1.
* ``epass scenarios export NAME DIR``: the trust store (CSCA, CRLs), the printed
  MRZ and the answer key of one scenario, for a third-party inspection system
  reading it through ``epass emulate --scenario NAME``.

The scenarios are TEST documents of :mod:`drivers.virtual.scenarios` (NOT REAL
DOCUMENTS: every key is derived from a public seed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

__all__ = ["scenarios"]


def _library() -> Any:
    from drivers.virtual import scenarios as library

    return library


@click.group()
def scenarios() -> None:
    """Fraud scenarios for examiner training (virtual TEST documents) and their answer key."""


@scenarios.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the scenarios as JSON.")
def list_scenarios(as_json: bool) -> None:
    """List the scenarios with the outcome a correct inspection reports."""
    library = _library()
    if as_json:
        items = [item.to_dict() for item in library.SCENARIOS.values()]
        click.echo(json.dumps({"at": library.AT.isoformat(), "scenarios": items}, indent=2))
        return
    width = max(len(name) for name in library.SCENARIOS)
    for name, item in library.SCENARIOS.items():
        click.echo(f"{name:<{width}}  {item.description}")
        click.echo(f"{'':<{width}}  examiner: {item.examiner}")
        for reading in item.readings:
            click.echo(f"{'':<{width}}  expected ({reading.label}): {reading.expected.summary()}")


@scenarios.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the score table as JSON.")
def check(as_json: bool) -> None:
    """Inspect every scenario with epass and score it against the answer key (exit 0: all pass)."""
    library = _library()
    start = time.perf_counter()
    outcomes = library.check_all()
    seconds = time.perf_counter() - start
    passed = sum(1 for o in outcomes if o.passed)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "at": library.AT.isoformat(),
                    "outcomes": [o.to_dict() for o in outcomes],
                    "passed": passed,
                    "total": len(outcomes),
                    "seconds": round(seconds, 3),
                },
                indent=2,
            )
        )
    else:
        rows = [
            (
                o.scenario,
                o.reading,
                o.expected.summary(),
                o.got.summary(),
                "pass" if o.passed else "FAIL",
            )
            for o in outcomes
        ]
        header = ("scenario", "reader", "expected", "got", "result")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        click.echo(f"{passed}/{len(outcomes)} scored right in {seconds:.2f} s")
    raise SystemExit(0 if passed == len(outcomes) else 1)


@scenarios.command("export")
@click.argument("name")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export(name: str, folder: Path) -> None:
    """Write scenario NAME's trust store (csca-*.pem, crl-*.pem), printed MRZ and answer key."""
    library = _library()
    try:
        item = library.scenario(name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="NAME") from None
    staged = item.stage()
    folder.mkdir(parents=True, exist_ok=True)
    from epass.pa.trust import StoredCrl, TrustAnchor

    items = staged.trust_store.items()
    anchors = [item for item in items if isinstance(item, TrustAnchor)]
    crls = [item for item in items if isinstance(item, StoredCrl)]
    for index, anchor in enumerate(anchors, 1):
        (folder / f"csca-{index}.pem").write_bytes(anchor.pem())
    for index, crl in enumerate(crls, 1):
        (folder / f"crl-{index}.pem").write_bytes(crl.pem())
    (folder / "printed-mrz.txt").write_text(staged.printed_mrz + "\n", encoding="ascii")
    (folder / "expected.json").write_text(json.dumps(item.to_dict(), indent=2) + "\n")
    click.echo(f"scenario {name!r} written to {folder}")
