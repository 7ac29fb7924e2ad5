"""The ``epass`` command: pick a transport, pick a trust source, call :func:`epass.inspect`, render.

Exit codes: 0 VALID, 1 INVALID, 2 INDETERMINATE, 3 error (one line on stderr,
no traceback; set ``EPASS_DEBUG=1`` for one; with ``--json`` the error is a
JSON object ``{"error": {"type", "message"}}`` on stdout).

* ``epass demo`` inspects the built-in virtual passport through the whole stack;
  ``--profile NAME`` picks a virtual document profile (``--list-profiles``).
* ``epass read --virtual [--profile NAME] [--save DIR]`` inspects a virtual
  document and saves the dump (files plus the read evidence), atomically, as a whole.
* Access control (both): PACE when the chip offers it, with the document's MRZ
  or ``--can NUMBER``; ``--bac-only`` asks for BAC, ``--no-fallback`` forbids
  falling back from PACE to BAC.
* ``epass verify DIR --trust PATH`` re-inspects a saved dump offline.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
        raise click.BadParameter(
            f"not an ISO 8601 date or time: {value!r}", param_hint="'--at'"
        ) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="epass")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Read and verify electronic passports and ID cards (ICAO Doc 9303).

    \b
    Exit codes: 0 VALID, 1 INVALID, 2 INDETERMINATE (e.g. no CSCA for the
    issuer), 3 error (one line on stderr; with --json a JSON object on stdout).
    """
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


def _list_profiles(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from drivers.virtual.profiles import DEFAULT_PROFILE, PROFILES

    width = max(len(name) for name in PROFILES)
    for name, spec in PROFILES.items():
        mark = " (default)" if name == DEFAULT_PROFILE else ""
        click.echo(f"{name:<{width}}  {spec.access}{mark}\n{'':<{width}}  {spec.description}")
    ctx.exit(0)


def _profile_names() -> list[str]:
    from drivers.virtual.profiles import PROFILES

    return list(PROFILES)


_profile_option = click.option(
    "--profile",
    "profile_name",
    default="bac-pace",
    show_default=True,
    metavar="NAME",
    help="Virtual document profile (see epass demo --list-profiles).",
)
_list_profiles_option = click.option(
    "--list-profiles",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_profiles,
    help="List the virtual document profiles and exit.",
)
_can_option = click.option(
    "--can",
    metavar="NUMBER",
    help="Open the chip with PACE and this card access number (default: the MRZ; the "
    "printed CAN for a CAN-only card).",
)
_bac_only_option = click.option(
    "--bac-only", is_flag=True, help="Use BAC even when the chip offers PACE (reported)."
)
_no_fallback_option = click.option(
    "--no-fallback",
    is_flag=True,
    help="Fail instead of falling back to BAC when the chip offers PACE that cannot be used.",
)


@dataclass(frozen=True)
class _Access:
    """The access options of the command line: password and policy."""

    profile: str = "bac-pace"
    can: str | None = None
    bac_only: bool = False
    no_fallback: bool = False


#: A follow-up of a command (save the dump, write the face): returns a note to show, or None.
Action = Callable[[Inspection], str | None]


def _finish(
    inspection: Inspection,
    *,
    title: str,
    as_json: bool,
    actions: Sequence[Action] = (),
    trust_given: bool = True,
) -> NoReturn:
    """Run the follow-up actions (save, write the face), print the result, exit.

    The result is printed even when an action fails; the failure then follows it
    (stderr in text mode; in JSON mode one object ``{"error": ..., "inspection": ...}``)
    and the exit code is 3. Otherwise the exit code is the verdict's.
    """
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    for action in actions:
        try:
            note = action(inspection)
        except click.ClickException as exc:
            errors.append(("Error", exc.format_message()))
        except EpassError as exc:
            errors.append((type(exc).__name__, str(exc)))
        else:
            if note:
                notes.append(note)
    if not trust_given and inspection.passive.anchor is None:
        notes.append("note: no --trust given: the DS certificate cannot be chained to a CSCA")
    from epass.cli.render import render_text, safe, use_colour

    try:
        if as_json:
            result = inspection.to_dict()
            if errors:
                kind, message = errors[0]
                result = {"error": {"type": kind, "message": message}, "inspection": result}
                if len(errors) > 1:
                    result["errors"] = [{"type": k, "message": m} for k, m in errors[1:]]
            click.echo(json.dumps(result, indent=2, sort_keys=False))
        else:
            click.echo(render_text(inspection, title=title), color=use_colour())
        sys.stdout.flush()
    except OSError as exc:  # a closed pipe, a full disk: the result did not get out
        _silence_stdout()
        reason = exc.strerror or exc
        click.echo(f"epass: error: the result could not be written: {reason}", err=True)
        sys.exit(EXIT_ERROR)
    for note in notes:  # notes and errors go to stderr in both modes
        click.echo(safe(note, limit=2000), err=True)
    if not as_json:
        for _kind, message in errors:
            click.echo(f"epass: error: {safe(message, limit=2000)}", err=True)
    sys.exit(EXIT_ERROR if errors else EXIT_CODES[inspection.verdict.value])


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
    *,
    extended: bool | None,
    face_format: str,
    at: str | None,
    show_progress: bool,
    access: _Access | None = None,
) -> Inspection:
    from drivers.virtual import profiles
    from drivers.virtual.transport import VirtualTransport
    from epass.access.control import AccessPolicy
    from epass.access.keys import AccessKey, CanKey, MrzKey
    from epass.errors import LocalProtocolError
    from epass.inspection import inspect
    from epass.reader import ReadOptions

    access = access or _Access()
    if access.profile not in profiles.PROFILES:
        raise click.BadParameter(
            f"no profile {access.profile!r}; known: {', '.join(_profile_names())}",
            param_hint="'--profile'",
        )
    when = _parse_at(at)
    document = profiles.document(access.profile, face_format=face_format.upper())
    key: AccessKey
    try:
        if access.can is not None:
            key = CanKey(access.can)
        elif _can_only(document):  # a CAN-only card: use the CAN printed on it, as a holder would
            key = CanKey(document.can or "")
        else:
            key = MrzKey(document.mrz_information)
    except LocalProtocolError as exc:
        raise click.BadParameter(str(exc), param_hint="'--can'") from exc
    policy = AccessPolicy(bac_only=access.bac_only, allow_fallback=not access.no_fallback)
    with (
        VirtualTransport(document.chip()) as transport,
        _progress_display(show_progress) as progress,
    ):
        return inspect(
            transport,
            key,
            document.trust_store(),
            at=when,
            options=ReadOptions(extended_length=extended, access_policy=policy),
            progress=progress,
        )


def _can_only(document: Any) -> bool:
    """Whether the virtual document's chip takes only PACE with the CAN (no BAC, no MRZ)."""
    config = document.chip_config
    if config is None or not document.can:
        return False
    return not config.bac and "MRZ" not in config.pace_passwords


#: Most pixels a face may declare before ``--face-out x.png`` decodes it (a face is about 0.1 MP).
MAX_FACE_PIXELS = 16_000_000
_FACE_SUFFIXES = {"JPEG": (".jpg", ".jpeg"), "JPEG2000": (".jp2", ".j2k", ".jpf", ".jpx")}


def _face_actions(target: Path | None) -> list[Action]:
    if target is None:
        return []
    return [lambda inspection: _write_face(inspection, target)]


def _write_face(inspection: Inspection, target: Path) -> str | None:
    """Write the first face image as stored, or decoded to PNG for a ``.png`` name.

    :returns: a warning to show (the face is not proven), or ``None``.
    :raises click.ClickException: when there is no face, the name does not fit its
        format, or the image does not decode.
    """
    try:
        dg2 = inspection.document.dg2
    except EpassError as exc:
        raise click.ClickException(f"{target}: no face written: DG2 does not parse") from exc
    if dg2 is None or not dg2.faces or not dg2.faces[0].image:
        raise click.ClickException(f"{target}: no face written: the document has no face image")
    face = dg2.faces[0]
    image = face.image
    suffix = target.suffix.lower()
    if suffix == ".png":
        image = _decode_to_png(image, target)
    elif suffix not in _FACE_SUFFIXES.get(face.image_format, ()):
        wanted = " or ".join(_FACE_SUFFIXES.get(face.image_format, ()))
        raise click.ClickException(
            f"{target}: the face is {face.image_format}: name the file {wanted or '.bin'}, "
            "or .png to decode it"
        )
    try:  # a face is personal data: readable by its owner only, like a dump
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise click.ClickException(f"{target}: not a regular file: no face written")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(image)
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot write: {exc.strerror or exc}") from exc
    groups = inspection.passive.data_groups
    status = next((dg.status.value for dg in groups if dg.number == 2), None)
    if status != "MATCH" or inspection.verdict.value != "VALID":
        why = f"DG2 hash {status}" if status != "MATCH" else f"verdict {inspection.verdict.value}"
        return f"warning: the face written to {target} is not proven genuine ({why})"
    return None


def _decode_to_png(image: bytes, target: Path) -> bytes:
    """Decode a JPEG / JPEG 2000 face and encode it as PNG, refusing decompression bombs."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as picture:
                width, height = picture.size  # from the header: nothing decoded yet
                if width * height > MAX_FACE_PIXELS:
                    raise click.ClickException(
                        f"{target}: the face image declares {width}x{height} pixels, more "
                        f"than the {MAX_FACE_PIXELS:,} a face may have: not decoded"
                    )
                buffer = io.BytesIO()
                picture.save(buffer, format="PNG")
    except click.ClickException:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        reason = "not a JPEG or JPEG 2000 image Pillow can read"
        if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
            raise click.ClickException(
                f"{target}: the face image declares more pixels than a face may have: not decoded"
            ) from exc
        if not isinstance(exc, UnidentifiedImageError):
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise click.ClickException(f"{target}: the face image does not decode ({reason})") from exc
    return buffer.getvalue()


@cli.command()
@_json_option
@_at_option
@_extended_option
@_face_option
@_face_out_option
@_profile_option
@_list_profiles_option
@_can_option
@_bac_only_option
@_no_fallback_option
def demo(
    as_json: bool,
    at: str | None,
    extended: bool | None,
    face_format: str,
    face_out: Path | None,
    profile_name: str,
    can: str | None,
    bac_only: bool,
    no_fallback: bool,
) -> None:
    """Inspect the built-in virtual passport (no reader needed)."""
    access = _Access(profile_name, can, bac_only, no_fallback)
    inspection = _inspect_virtual(
        extended=extended,
        face_format=face_format,
        at=at,
        show_progress=not as_json,
        access=access,
    )
    _finish(
        inspection,
        title=f"epass demo: virtual document '{profile_name}' (ICAO 9303 specimen, TEST PKI)",
        as_json=as_json,
        actions=_face_actions(face_out),
    )


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
@_profile_option
@_can_option
@_bac_only_option
@_no_fallback_option
def read(
    virtual: bool,
    save: Path | None,
    force: bool,
    as_json: bool,
    at: str | None,
    extended: bool | None,
    face_format: str,
    face_out: Path | None,
    profile_name: str,
    can: str | None,
    bac_only: bool,
    no_fallback: bool,
) -> None:
    """Read a document, verify it and optionally save the dump."""
    if not virtual:
        raise click.UsageError(
            "reading from a PC/SC reader is not supported in this version: give --virtual"
        )
    access = _Access(profile_name, can, bac_only, no_fallback)
    inspection = _inspect_virtual(
        extended=extended,
        face_format=face_format,
        at=at,
        show_progress=not as_json,
        access=access,
    )
    actions = list(_face_actions(face_out))
    if save is not None:
        target = save

        def save_action(result: Inspection) -> str:
            from epass.dump import save_dump

            try:
                save_dump(result.document, target, evidence=result.evidence(), force=force)
            except EpassError as exc:
                raise click.ClickException(f"the dump was not saved: {exc}") from exc
            return f"saved to {target}"

        actions.insert(0, save_action)
    _finish(
        inspection,
        title=f"epass read: virtual document '{profile_name}'",
        as_json=as_json,
        actions=actions,
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
    _finish(
        inspection,
        title=f"epass verify: {folder}",
        as_json=as_json,
        actions=_face_actions(face_out),
        trust_given=bool(trust_paths),
    )


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


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
