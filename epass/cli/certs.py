"""``epass certs``: the imported trust store (CSCA anchors, DS certificates, CRLs).

* ``epass certs import FILE…`` - certificates (.pem .der .cer .crt), master
  lists (.ml .mls), ICAO PKD LDIF (.ldif), CRLs (.crl) and folders; prints a
  summary per file (added, already present, verified, refused and why). A
  master list that does not verify is refused whole unless ``--allow-unverified``.
* ``epass certs list [--country XX] [--json]``, ``epass certs show ID``,
  ``epass certs remove ID`` (ID: any unique prefix of the SHA-256 shown by list).

The store is the folder :func:`epass.pa.trust.default_store_folder` names
(``EPASS_HOME`` overrides), changed under a lock and saved atomically.
``epass verify`` and ``epass read`` use it unless ``--trust`` is given
(:func:`trust_store_for`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from epass.pa.importer import FileImport, Importer
from epass.pa.trust import (
    StoredCertificate,
    StoredCrl,
    TrustAnchor,
    TrustStore,
    default_store_folder,
    store_lock,
)

__all__ = ["certs", "trust_store_for"]


def _safe(text: str) -> str:
    from epass.cli.render import safe

    return safe(text, limit=2000)


def trust_store_for(paths: Sequence[Path]) -> TrustStore:
    """The trust store a command uses: *paths* if given, else the imported store.

    Files of the imported store or of a --trust folder that could not be read
    are reported on stderr (one line each); the rest is used.
    """
    store = TrustStore.from_paths(*paths) if paths else TrustStore.load(default_store_folder())
    for where, reason in store.problems:
        click.echo(f"warning: trust store: {_safe(where)}: {_safe(reason)}", err=True)
    return store


@click.group()
def certs() -> None:
    """Manage the imported trust store (CSCA anchors, DS certificates, CRLs)."""


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr once an import has run for a second, on a terminal only."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    started = time.monotonic()
    tasks: dict[str, Any] = {}
    shown = False

    def update(label: str, done: int, total: int) -> None:
        nonlocal shown
        if not shown:
            if time.monotonic() - started < 1.0:
                return
            bar.start()
            shown = True
        if label not in tasks:
            tasks[label] = bar.add_task(Path(label).name[:32], total=total)
        bar.update(tasks[label], completed=done, total=total)

    try:
        yield update
    finally:
        if shown:
            bar.stop()


def _summary_line(result: FileImport) -> str:
    if result.refused is not None:
        return f"{result.path}: REFUSED ({result.kind}): {result.refused}; nothing imported"
    parts = [f"{result.added} added", f"{result.present} already present"]
    if result.refused_items:
        parts.append(f"{result.refused_items} refused")
    what = result.kind.replace("_", " ")
    if result.kind == "master_list":
        state = "verified" if result.verified else "NOT VERIFIED"
        what += f", {state}, signer {result.signer or '?'}"
        if result.anchor:
            what += f" under {result.anchor}"
    elif result.kind == "crl" and result.verified:
        what += ", verified"
    return f"{result.path} ({what}): " + ", ".join(parts)


@certs.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Import master lists that do not verify; their anchors are marked UNVERIFIED "
    "in every report.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
def import_command(files: Sequence[Path], allow_unverified: bool, as_json: bool) -> None:
    """Import certificates, master lists, PKD LDIF files, CRLs or folders of them.

    Exit code 1 when a file was refused whole (or every entry of it), else 0.
    """
    folder = default_store_folder()
    with store_lock(folder):
        store = TrustStore.load(folder)
        with _progress(not as_json) as progress:
            importer = Importer(store, allow_unverified=allow_unverified, progress=progress)
            results = importer.import_paths(files)
        changed = any(r.added for r in results)
        if changed:
            store.save(folder)
    if as_json:
        click.echo(
            json.dumps({"store": str(folder), "files": [r.to_dict() for r in results]}, indent=2)
        )
    else:
        for result in results:
            click.echo(_safe(_summary_line(result)))
            for note in result.notes:
                click.echo(f"  note: {_safe(note)}")
            for item in result.items:
                if item.status == "refused":
                    what = f" ({item.subject})" if item.subject else ""
                    click.echo(f"  refused {item.entry}{_safe(what)}: {_safe(item.reason or '')}")
                elif item.kind == "ds" and item.status == "added" and item.reason:
                    click.echo(f"  {item.entry}: {_safe(item.reason)}")
        click.echo(f"trust store {folder}: {_store_counts(store)}")
    if any(r.refused is not None or r.refused_items == len(r.items) > 0 for r in results):
        sys.exit(1)  # a file was refused whole, or every entry of it was


def _store_counts(store: TrustStore) -> str:
    items = store.items()
    signers = sum(1 for i in items if i.kind == "ds")
    crls = sum(1 for i in items if i.kind == "crl")
    return f"{len(store)} anchors, {signers} DS certificates, {crls} CRLs"


def _row(item: StoredCertificate | StoredCrl) -> dict[str, Any]:
    row = item.to_index("")
    row.pop("file", None)
    return row


@certs.command("list")
@click.option("--country", metavar="XX", help="Only this country (ISO 3166-1 alpha-2).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(country: str | None, as_json: bool) -> None:
    """List the imported anchors, DS certificates and CRLs."""
    store = trust_store_for(())
    items = list(store.items())
    if country:
        wanted = country.strip().upper()
        items = [i for i in items if (i.country or "") == wanted]
    if as_json:
        click.echo(json.dumps([_row(i) for i in items], indent=2))
        return
    for item in items:
        mark = "" if item.verified else "  [UNVERIFIED]"
        if isinstance(item, StoredCrl):
            crl = item.crl
            until = crl.next_update.date() if crl.next_update else "?"
            line = (
                f"{item.id[:16]} crl {item.country or '--'} {_safe(item.subject)} (until {until})"
            )
        else:
            until = item.facts.not_after.date()
            line = (
                f"{item.id[:16]} {item.kind} {item.country or '--'} {_safe(item.subject)} "
                f"(until {until}){mark}"
            )
        click.echo(line)
    click.echo(f"{len(items)} items", err=True)


@certs.command("show")
@click.argument("item_id")
def show_command(item_id: str) -> None:
    """Show one item (ID: a unique prefix of its SHA-256) with its provenance."""
    store = trust_store_for(())
    try:
        item = store.find(item_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(_row(item), indent=2, ensure_ascii=False))


@certs.command("remove")
@click.argument("item_id")
def remove_command(item_id: str) -> None:
    """Remove one item (ID: a unique prefix of its SHA-256) from the imported store."""
    folder = default_store_folder()
    with store_lock(folder):
        store = TrustStore.load(folder)
        try:
            target = store.find(item_id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        dependent = store.crls_verified_under(target) if isinstance(target, TrustAnchor) else ()
        item = store.remove(target.id)
        store.save(folder)
    click.echo(_safe(f"removed {item.kind} {item.subject} ({item.id[:16]})"))
    for crl in dependent:
        click.echo(_safe(f"removed crl {crl.subject} ({crl.id[:16]}): it was verified under it"))
