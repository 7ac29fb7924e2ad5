"""The ``epass`` command.

Exit codes: 0 VALID, 1 INVALID, 2 INDETERMINATE, 3 error (one line on stderr,
no traceback; set ``EPASS_DEBUG=1`` for one).

* ``epass demo`` reads the built-in virtual passport through the whole stack
  (virtual chip, BAC, secure messaging, reader, LDS, passive authentication).
* ``epass read --virtual [--save DIR]`` reads a virtual passport and saves what
  it read, atomically, in the dump layout.
* ``epass verify DIR --trust PATH`` re-verifies a saved dump offline.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from epass.errors import EpassError

__all__ = ["EXIT_ERROR", "cli", "main"]

EXIT_CODES = {"VALID": 0, "INVALID": 1, "INDETERMINATE": 2}
EXIT_ERROR = 3


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return _now()
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 date or time: {value!r}") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _emit(result: dict[str, Any], text: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=False))
    else:
        click.echo(text)
    sys.exit(EXIT_CODES[result["verdict"]])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="epass")
def cli() -> None:
    """Read and verify electronic passports and ID cards (ICAO Doc 9303)."""


def _read_virtual(
    *, extended: bool | None, face_format: str, save: Path | None
) -> tuple[dict[str, bytes], dict[str, Any], Any]:
    """Build the specimen, read it through the stack; return files, read facts, trust store."""
    from drivers.virtual import builder
    from drivers.virtual.transport import VirtualTransport
    from epass.access.keys import MrzKey
    from epass.reader import ChipSession, ReadOptions

    document = builder.specimen(face_format=face_format)
    transport = VirtualTransport(document.chip())
    with transport:
        session = ChipSession(transport, options=ReadOptions(extended_length=extended))
        session.open(MrzKey(document.mrz_information))
        result = session.read_document()
    if save is not None:
        from epass.dump import save_dump

        save_dump(result.files, save)
    link = "extended length" if session.extended_length else "short APDUs"
    read = {
        "access_protocol": result.access_protocol,
        "link": link,
        "files": list(result.files),
        "not_read": result.not_read,
        "recoveries": result.recoveries,
        "traffic": result.stats.to_dict(),
        "seconds": round(result.seconds, 6),
        "saved_to": str(save) if save is not None else None,
    }
    return result.files, read, document.trust_store()


def _verify_and_emit(
    *,
    title: str,
    source: str,
    files: dict[str, bytes],
    trust: Any,
    at: datetime,
    read: dict[str, Any] | None,
    as_json: bool,
) -> NoReturn:
    from epass.cli.render import describe_document, render_text, result_dict
    from epass.pa import verify

    report = verify(files, trust, at=at)
    view = describe_document(files)
    result = result_dict(source=source, view=view, report=report, read=read)
    text = render_text(title=title, view=view, report=report, read=read)
    _emit(result, text, as_json)


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


@cli.command()
@_json_option
@_at_option
@_extended_option
@_face_option
def demo(as_json: bool, at: str | None, extended: bool | None, face_format: str) -> None:
    """Read and verify the built-in virtual passport (no reader needed)."""
    _run_virtual(
        title="epass demo: built-in virtual passport (ICAO 9303 specimen, test PKI)",
        extended=extended,
        face_format=face_format,
        save=None,
        at=at,
        as_json=as_json,
    )


def _run_virtual(
    *,
    title: str,
    extended: bool | None,
    face_format: str,
    save: Path | None,
    at: str | None,
    as_json: bool,
) -> NoReturn:
    files, read_facts, trust = _read_virtual(
        extended=extended, face_format=face_format.upper(), save=save
    )
    _verify_and_emit(
        title=title,
        source="virtual",
        files=files,
        trust=trust,
        at=_parse_at(at),
        read=read_facts,
        as_json=as_json,
    )


@cli.command()
@click.option("--virtual", is_flag=True, help="Read the built-in virtual passport.")
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the files read into this folder (EF_COM.bin, EF_SOD.bin, DG1.bin, ...).",
)
@_json_option
@_at_option
@_extended_option
@_face_option
def read(
    virtual: bool,
    save: Path | None,
    as_json: bool,
    at: str | None,
    extended: bool | None,
    face_format: str,
) -> None:
    """Read a document, verify it and optionally save the dump."""
    if not virtual:
        raise click.UsageError("give --virtual (PC/SC readers come with the reader issue)")
    _run_virtual(
        title="epass read: virtual passport",
        extended=extended,
        face_format=face_format,
        save=save,
        at=at,
        as_json=as_json,
    )


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSCA certificate(s): a PEM/DER file or a folder (repeatable).",
)
@_json_option
@_at_option
def verify(folder: Path, trust_paths: Sequence[Path], as_json: bool, at: str | None) -> None:
    """Verify a saved dump FOLDER offline."""
    from epass.dump import load_dump
    from epass.pa import TrustStore

    files = load_dump(folder)
    trust = TrustStore.from_paths(*trust_paths) if trust_paths else TrustStore()
    _verify_and_emit(
        title=f"epass verify: {folder}",
        source=str(folder),
        files=files,
        trust=trust,
        at=_parse_at(at),
        read=None,
        as_json=as_json,
    )


def _fail(message: str) -> NoReturn:
    click.echo(f"epass: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run the CLI and map every failure to one line and exit code 3."""
    debug = bool(os.environ.get("EPASS_DEBUG"))
    run: Callable[..., Any] = cli.main
    try:
        run(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            raise
        _fail(exc.format_message())
    except click.exceptions.Abort:
        _fail("aborted")
    except EpassError as exc:
        if debug:
            raise
        _fail(str(exc))
    except OSError as exc:
        if debug:
            raise
        _fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:  # a bug: still one line, exit 3
        if debug:
            raise
        _fail(f"internal error ({type(exc).__name__}): {exc}; set EPASS_DEBUG=1 for a traceback")
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
