"""The ``epass`` command: pick a transport, pick a trust source, call :func:`epass.inspect`, render.

Exit codes: 0 VALID, 1 INVALID, 2 INDETERMINATE, 3 error (one line on stderr,
no traceback; set ``EPASS_DEBUG=1`` for one; with ``--json`` the error is a
JSON object ``{"error": {"type", "message"}}`` on stdout).

* ``epass demo`` inspects the built-in virtual passport through the whole stack.
* ``epass read --virtual [--save DIR]`` inspects a virtual passport and saves
  the dump (files plus the read evidence), atomically, as a whole.
* ``epass verify DIR --trust PATH`` re-inspects a saved dump offline.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from epass.errors import EpassError
from epass.inspection import Inspection

__all__ = ["EXIT_ERROR", "cli", "main"]

EXIT_CODES = {"VALID": 0, "INVALID": 1, "INDETERMINATE": 2}
EXIT_ERROR = 3


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 date or time: {value!r}") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="epass")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Read and verify electronic passports and ID cards (ICAO Doc 9303)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


_json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_at_option = click.option(
    "--at", "at", metavar="WHEN", help="Verify as of this ISO 8601 time (default: now)."
)
_extended_option = click.option(
    "--extended/--no-extended",
    "extended",
    default=None,
    help="Force or forbid extended-length reads (default: as the card announces).",
)
_face_option = click.option(
    "--face",
    "face_format",
    type=click.Choice(["JPEG", "JPEG2000"], case_sensitive=False),
    default="JPEG",
    show_default=True,
    help="Face image format of the virtual passport.",
)
_face_out_option = click.option(
    "--face-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the face image as the chip holds it (JPEG or JPEG 2000); a .png name decodes it.",
)


def _emit(inspection: Inspection, *, title: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(inspection.to_dict(), indent=2, sort_keys=False))
    else:
        from epass.cli.render import render_text, use_colour

        click.echo(render_text(inspection, title=title), color=use_colour())


def _exit(inspection: Inspection) -> NoReturn:
    sys.exit(EXIT_CODES[inspection.verdict.value])


@contextmanager
def _progress_display(enabled: bool, console: Any = None) -> Iterator[Callable[[Any], None] | None]:
    """A per-file progress bar on stderr when it is a terminal; nothing when piped or disabled.

    :param console: a ``rich.console.Console`` to draw on (default: stderr).
    """
    if not enabled or (console is None and not sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from epass.reader import Phase, ProgressEvent

    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        DownloadColumn(),
        transient=True,
        console=console if console is not None else Console(stderr=True),
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(event: ProgressEvent) -> None:
            if event.phase != Phase.READ_FILES or event.file is None:
                return
            label = event.file.label
            if label not in tasks:
                tasks[label] = bar.add_task(f"reading {label}", total=event.total)
            bar.update(tasks[label], completed=event.done, total=event.total)

        yield update


def _inspect_virtual(
    *, extended: bool | None, face_format: str, at: str | None, show_progress: bool
) -> Inspection:
    from drivers.virtual import builder
    from drivers.virtual.transport import VirtualTransport
    from epass.access.keys import MrzKey
    from epass.inspection import inspect
    from epass.reader import ReadOptions

    when = _parse_at(at)
    document = builder.specimen(face_format=face_format.upper())
    with (
        VirtualTransport(document.chip()) as transport,
        _progress_display(show_progress) as progress,
    ):
        return inspect(
            transport,
            MrzKey(document.mrz_information),
            document.trust_store(),
            at=when,
            options=ReadOptions(extended_length=extended),
            progress=progress,
        )


def _write_face(inspection: Inspection, target: Path) -> None:
    """Write the first face image as stored (or decoded to PNG for a ``.png`` name)."""
    try:
        dg2 = inspection.document.dg2
    except EpassError as exc:
        raise click.ClickException(
            f"{target}: no face to write: DG2 does not parse ({exc})"
        ) from exc
    if dg2 is None or not dg2.faces or not dg2.faces[0].image:
        raise click.ClickException(f"{target}: no face to write (no DG2 face image)")
    image = dg2.faces[0].image
    if target.suffix.lower() == ".png":
        import io

        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(image)) as picture:
                buffer = io.BytesIO()
                picture.save(buffer, format="PNG")
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise click.ClickException(f"{target}: the face image does not decode: {exc}") from exc
        image = buffer.getvalue()
    try:
        target.write_bytes(image)
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot write: {exc.strerror or exc}") from exc


@cli.command()
@_json_option
@_at_option
@_extended_option
@_face_option
@_face_out_option
def demo(
    as_json: bool, at: str | None, extended: bool | None, face_format: str, face_out: Path | None
) -> None:
    """Inspect the built-in virtual passport (no reader needed)."""
    inspection = _inspect_virtual(
        extended=extended, face_format=face_format, at=at, show_progress=not as_json
    )
    if face_out is not None:
        _write_face(inspection, face_out)
    _emit(
        inspection,
        title="epass demo: built-in virtual passport (ICAO 9303 specimen, TEST PKI)",
        as_json=as_json,
    )
    _exit(inspection)


@cli.command()
@click.option("--virtual", is_flag=True, help="Read the built-in virtual passport.")
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the dump into this new (or empty) folder: EF_COM.bin, EF_SOD.bin, DG1.bin ... "
    "and the read evidence epass-evidence.json.",
)
@click.option("--force", is_flag=True, help="With --save: replace a non-empty folder whole.")
@_json_option
@_at_option
@_extended_option
@_face_option
@_face_out_option
def read(
    virtual: bool,
    save: Path | None,
    force: bool,
    as_json: bool,
    at: str | None,
    extended: bool | None,
    face_format: str,
    face_out: Path | None,
) -> None:
    """Read a document, verify it and optionally save the dump."""
    if not virtual:
        raise click.UsageError(
            "reading from a PC/SC reader is not supported in this version: give --virtual"
        )
    inspection = _inspect_virtual(
        extended=extended, face_format=face_format, at=at, show_progress=not as_json
    )
    save_error: EpassError | None = None
    if save is not None:
        from epass.dump import save_dump

        try:
            save_dump(inspection.document, save, evidence=inspection.evidence(), force=force)
        except EpassError as exc:  # the read's result is shown all the same
            save_error = exc
    _emit(inspection, title="epass read: virtual passport", as_json=as_json)
    if face_out is not None:
        _write_face(inspection, face_out)
    if save_error is not None:
        # stdout holds the result (text or JSON); the failure goes to stderr, exit 3
        _fail(f"the dump was not saved: {save_error}", type(save_error).__name__, as_json=False)
    if save is not None and not as_json:
        click.echo(f"saved to {save}", err=True)
    _exit(inspection)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSCA certificate(s): a PEM/DER file or a folder (repeatable).",
)
@click.option(
    "--mrz",
    metavar="TEXT",
    help="The MRZ as printed on the data page (all lines): compared with DG1 field by field.",
)
@_json_option
@_at_option
@_face_out_option
def verify(
    folder: Path,
    trust_paths: Sequence[Path],
    mrz: str | None,
    as_json: bool,
    at: str | None,
    face_out: Path | None,
) -> None:
    """Verify a saved dump FOLDER offline."""
    from epass.inspection import inspect_dump
    from epass.pa import TrustStore

    trust = TrustStore.from_paths(*trust_paths) if trust_paths else TrustStore()
    inspection = inspect_dump(folder, trust, at=_parse_at(at), mrz=mrz)
    if face_out is not None:
        _write_face(inspection, face_out)
    _emit(inspection, title=f"epass verify: {folder}", as_json=as_json)
    _exit(inspection)


def _fail(message: str, kind: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": {"type": kind, "message": message}}))
    else:
        from epass.cli.render import safe

        click.echo(f"epass: error: {safe(message, limit=2000)}", err=True)
    sys.exit(EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run the CLI and map every failure to one line and exit code 3."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = bool(os.environ.get("EPASS_DEBUG"))
    as_json = "--json" in args
    run: Callable[..., Any] = cli.main
    try:
        run(args=args, prog_name="epass", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            raise
        _fail(
            exc.format_message(),
            "UsageError" if isinstance(exc, click.UsageError) else "Error",
            as_json,
        )
    except click.exceptions.Abort:
        _fail("interrupted", "Interrupted", as_json)
    except EpassError as exc:
        if debug:
            raise
        _fail(str(exc), type(exc).__name__, as_json)
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}", "OSError", as_json)
    except KeyboardInterrupt:
        _fail("interrupted", "Interrupted", as_json)
    except Exception as exc:  # a bug: still one line, exit 3
        if debug:
            raise
        _fail(
            f"internal error ({type(exc).__name__}): {exc}; set EPASS_DEBUG=1 for a traceback",
            "InternalError",
            as_json,
        )
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
