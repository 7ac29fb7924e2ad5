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
from typing import TYPE_CHECKING, Any, NoReturn

import click

from epass.cli import source as card_sources
from epass.cli.certs import trust_store_for
from epass.cli.emulate import emulate
from epass.cli.html_report import html_actions, html_option
from epass.cli.readers import readers
from epass.cli.source import open_card_source
from epass.errors import EpassError
from epass.inspection import Inspection
from epass.report.images import MAX_FACE_PIXELS
from epass.transport import CardSource

if TYPE_CHECKING:
    from epass.access.control import AccessPolicy
    from epass.access.keys import AccessKey
    from epass.pa import TrustStore

__all__ = ["EXIT_ERROR", "cli", "main", "open_card_source"]

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
        click.echo(
            f"{name:<{width}}  {spec.access}{mark}\n{'':<{width}}  {spec.description}\n"
            f"{'':<{width}}  chip authentication: {spec.chip_authentication}"
        )
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
    metavar="DIGITS",
    help="Open the chip with PACE and the card access number printed on the document "
    "(default for --virtual: the virtual document's MRZ, or its printed CAN for a "
    "CAN-only card).",
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
    #: The key that opens the chip (``None``: the virtual document's MRZ).
    key: AccessKey | None = None
    bac_only: bool = False
    no_fallback: bool = False


def _policy(bac_only: bool, no_fallback: bool) -> AccessPolicy:
    """The access policy the flags ask for (``--bac-only``, ``--no-fallback``)."""
    from epass.access.control import AccessPolicy

    if bac_only and no_fallback:
        raise click.UsageError("--bac-only and --no-fallback contradict each other")
    return AccessPolicy(bac_only=bac_only, allow_fallback=not no_fallback)


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
    trust: Any = None,
    terminal: Any = None,
    profile_terminal: bool = False,
    printed_mrz: str | None = None,
) -> Inspection:
    from drivers.virtual import profiles
    from drivers.virtual.transport import VirtualTransport
    from epass.access.keys import CanKey, MrzKey
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
    if access.key is not None:
        key = access.key
    elif _can_only(document):  # a CAN-only card: use the CAN printed on it, as a holder would
        key = CanKey(document.can or "")
    else:
        key = MrzKey(document.mrz_information)
    policy = _policy(access.bac_only, access.no_fallback)
    store = document.trust_store()
    if trust is not None:  # the imported store (or --trust) plus the virtual passport's TEST CSCA
        for anchor in store:
            trust.add(anchor.der, source=anchor.source)
        store = trust
    if terminal is None and profile_terminal:  # the profile's TEST inspection system
        terminal = document.terminal_credentials
    options = ReadOptions(
        extended_length=extended, access_policy=policy, terminal_credentials=terminal
    )
    with (
        VirtualTransport(document.chip()) as transport,
        _progress_display(show_progress) as progress,
    ):
        return inspect(
            transport, key, store, at=when, options=options, progress=progress, mrz=printed_mrz
        )


def _can_only(document: Any) -> bool:
    """Whether the virtual document's chip takes only PACE with the CAN (no BAC, no MRZ)."""
    config = document.chip_config
    if config is None or not document.can:
        return False
    return not config.bac and "MRZ" not in config.pace_passwords


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
    from epass.errors import ParseError
    from epass.report.images import to_png

    try:
        return to_png(image, max_pixels=MAX_FACE_PIXELS)
    except ParseError as exc:
        raise click.ClickException(f"{target}: the face {exc.reason}") from exc


@cli.command()
@_json_option
@_at_option
@_extended_option
@_face_option
@_face_out_option
@html_option
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
    html_out: Path | None,
    profile_name: str,
    can: str | None,
    bac_only: bool,
    no_fallback: bool,
) -> None:
    """Inspect the built-in virtual passport (no reader needed)."""
    key = _access_key((), None, None, None, can)
    access = _Access(profile_name, key, bac_only, no_fallback)
    inspection = _inspect_virtual(
        extended=extended,
        face_format=face_format,
        at=at,
        show_progress=not as_json,
        access=access,
        profile_terminal=True,
    )
    title = f"epass demo: virtual document '{profile_name}' (ICAO 9303 specimen, TEST PKI)"
    _finish(
        inspection,
        title=title,
        as_json=as_json,
        actions=[*_face_actions(face_out), *html_actions(html_out, title=title)],
    )


# -- reading from a reader (epass read --reader, the kiosk) ------------------------------------


_mrz_option = click.option(
    "--mrz",
    "mrz_parts",
    multiple=True,
    metavar="TEXT",
    help="The MRZ as printed: all lines of a TD1, TD2 or TD3 (newline-separated, or one "
    "--mrz per line, or further lines as arguments), or just the line with the document "
    "number (TD2/TD3 line 2, TD1 lines 1 and 2). Opens the chip; all lines are also "
    "compared with DG1 field by field (the printed MRZ against the chip).",
)
_document_number_option = click.option(
    "--document-number", metavar="NUMBER", help="With --date-of-birth and --date-of-expiry."
)
_date_of_birth_option = click.option("--date-of-birth", metavar="YYMMDD")
_date_of_expiry_option = click.option("--date-of-expiry", metavar="YYMMDD")


def _access_key(
    mrz_parts: Sequence[str],
    document_number: str | None,
    date_of_birth: str | None,
    date_of_expiry: str | None,
    can: str | None,
) -> AccessKey | None:
    """The key the options give, or ``None`` when none is given.

    :raises click.UsageError: for two kinds of key, or an incomplete set of fields.
    :raises click.BadParameter: for a malformed MRZ, field or CAN (the message
        never repeats it).
    """
    from epass.access.keys import CanKey, MrzKey
    from epass.errors import LocalProtocolError, ParseError
    from epass.lds import mrz

    fields = {
        "--document-number": document_number,
        "--date-of-birth": date_of_birth,
        "--date-of-expiry": date_of_expiry,
    }
    given = [name for name, value in fields.items() if value is not None]
    kinds = [bool(mrz_parts), bool(given), can is not None]
    if sum(kinds) > 1:
        raise click.UsageError(
            "give one key: --mrz, or --document-number/--date-of-birth/--date-of-expiry, or --can"
        )
    if mrz_parts:
        try:
            return MrzKey(mrz.key_fields(list(mrz_parts)).mrz_information)
        except ParseError as exc:
            raise click.BadParameter(exc.reason, param_hint="'--mrz'") from None
    if given:
        missing = [name for name, value in fields.items() if value is None]
        if missing:
            raise click.UsageError(f"{', '.join(given)} also needs {', '.join(missing)}")
        assert document_number and date_of_birth and date_of_expiry  # noqa: S101 - checked
        try:
            return MrzKey.from_fields(document_number, date_of_birth, date_of_expiry)
        except LocalProtocolError as exc:
            reason = str(exc.__cause__.reason) if isinstance(exc.__cause__, ParseError) else ""
            raise click.BadParameter(
                reason or "malformed", param_hint="the MRZ key fields"
            ) from None
    if can is not None:
        try:
            return CanKey(can.strip())
        except LocalProtocolError as exc:
            raise click.BadParameter(str(exc), param_hint="'--can'") from None
    return None


def _printed_mrz(mrz_parts: Sequence[str]) -> str | None:
    """The whole printed MRZ the ``--mrz`` lines give, to compare with DG1; ``None`` when
    they are only the key line(s) (TD2/TD3 line 2, TD1 lines 1 and 2) or none."""
    from epass.errors import ParseError
    from epass.inspection.crosscheck import parse_printed_mrz

    if not mrz_parts:
        return None
    text = "\n".join(line for part in mrz_parts for line in part.split())
    try:
        parse_printed_mrz(text)
    except ParseError:
        return None
    return text


def _inspect_source(
    source: CardSource,
    key: AccessKey,
    trust: TrustStore,
    *,
    wait: float,
    extended: bool | None,
    at: str | None,
    show_progress: bool,
    policy: AccessPolicy,
    terminal: Any = None,
    printed_mrz: str | None = None,
) -> Inspection:
    """Wait for a document on *source*, read and verify it.

    :raises click.ClickException: when no document comes within *wait* seconds.
    :raises EpassError: as :func:`epass.inspect`.
    """
    from epass.inspection import inspect
    from epass.reader import ReadOptions

    when = _parse_at(at)
    if show_progress and sys.stderr.isatty():
        from epass.cli.render import safe

        click.echo(f"waiting for a document on {safe(source.name)} ...", err=True)
    transport = source.wait_for_card(wait)
    if transport is None:
        raise click.ClickException(f"no document on the reader within {wait:g} s")
    with transport, _progress_display(show_progress) as progress:
        return inspect(
            transport,
            key,
            trust,
            at=when,
            options=ReadOptions(
                extended_length=extended, access_policy=policy, terminal_credentials=terminal
            ),
            progress=progress,
            mrz=printed_mrz,
        )


def _terminal_credentials(chain: Sequence[Path], key: Path | None) -> Any:
    """``--ta-cert-chain`` and ``--ta-key`` loaded (BSI TR-03110 v1.11 Terminal Authentication).

    :raises click.UsageError: when only one of the two is given.
    :raises click.BadParameter: when the files do not form a usable chain and key.
    """
    if not chain and key is None:
        return None
    if not chain or key is None:
        raise click.UsageError("Terminal Authentication needs both --ta-cert-chain and --ta-key")
    from epass.access.ta import TerminalCredentials
    from epass.errors import EpassError as _EpassError

    try:
        return TerminalCredentials.load(chain, key)
    except _EpassError as exc:
        raise click.BadParameter(str(exc), param_hint="'--ta-cert-chain' / '--ta-key'") from None


def _close_source(source: CardSource) -> None:
    close = getattr(source, "close", None)
    if callable(close):
        close()


@cli.command()
@click.option("--virtual", is_flag=True, help="Read the built-in virtual passport.")
@click.option(
    "--reader",
    metavar="NAME",
    help="Read from this PC/SC reader: its full name or a unique part of it "
    "(may be left out when one reader is connected).",
)
@_mrz_option
@_document_number_option
@_date_of_birth_option
@_date_of_expiry_option
@_can_option
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0, max=3600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for a document on the reader.",
)
@click.argument("mrz_lines", nargs=-1, metavar="[MRZ_LINE]...")
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the dump into this new (or empty) folder: EF_COM.bin, EF_SOD.bin, DG1.bin ... "
    "and the read evidence epass-evidence.json.",
)
@click.option("--force", is_flag=True, help="With --save: replace a non-empty folder whole.")
@click.option(
    "--trust",
    "trust_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSCA certificate(s), PEM/DER files or folders, to use instead of the imported "
    "store (repeatable).",
)
@_json_option
@_at_option
@_extended_option
@_face_option
@_face_out_option
@html_option
@_profile_option
@_bac_only_option
@_no_fallback_option
@click.option(
    "--ta-cert-chain",
    "ta_chain",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Terminal Authentication (EAC, for labs and authorities): the inspection system's CV "
    "certificates, CVCA link / DV / IS, in any order (repeatable). Opens DG3/DG4. "
    "Default for --virtual: the virtual document's TEST inspection system.",
)
@click.option(
    "--ta-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The inspection system's private key (PEM or DER) for --ta-cert-chain.",
)
def read(
    virtual: bool,
    reader: str | None,
    mrz_parts: tuple[str, ...],
    document_number: str | None,
    date_of_birth: str | None,
    date_of_expiry: str | None,
    can: str | None,
    trust_paths: Sequence[Path],
    wait_seconds: float,
    mrz_lines: tuple[str, ...],
    save: Path | None,
    force: bool,
    as_json: bool,
    at: str | None,
    extended: bool | None,
    face_format: str,
    face_out: Path | None,
    html_out: Path | None,
    profile_name: str,
    bac_only: bool,
    no_fallback: bool,
    ta_chain: Sequence[Path] = (),
    ta_key: Path | None = None,
) -> None:
    """Read a document from a reader (or the virtual passport), verify it, optionally save it.

    \b
    The chip opens with the MRZ as printed, its three fields, or the CAN:
      epass read --reader ACR --mrz "$(cat mrz.txt)"
      epass read --mrz P<UTOERIKSSON<<ANNA<MARIA<<<... L898902C36UTO7408122F1204159...
      epass read --document-number L898902C3 --date-of-birth 740812 --date-of-expiry 120415

    \b
    Terminal Authentication (EAC: DG3 fingerprints, DG4 iris) with an inspection system's
    CV certificates and key:
      epass read --reader ACR --mrz ... --ta-cert-chain dv.cvcert is.cvcert --ta-key is.pem
    """
    if virtual and reader is not None:
        raise click.UsageError("give --virtual or --reader, not both")
    key = _access_key((*mrz_parts, *mrz_lines), document_number, date_of_birth, date_of_expiry, can)
    printed = _printed_mrz((*mrz_parts, *mrz_lines))
    trust_given = True
    policy = _policy(bac_only, no_fallback)
    terminal = _terminal_credentials(ta_chain, ta_key)
    if virtual or (reader is None and key is None):
        if not virtual:
            raise click.UsageError(
                "give the key that opens the chip: --mrz, or --document-number, "
                "--date-of-birth and --date-of-expiry, or --can (or --virtual to read "
                "the built-in virtual passport)"
            )
        inspection = _inspect_virtual(
            extended=extended,
            face_format=face_format,
            at=at,
            show_progress=not as_json,
            access=_Access(profile_name, key, bac_only, no_fallback),
            trust=trust_store_for(trust_paths),
            terminal=terminal,
            profile_terminal=True,  # like --can: the virtual document's TEST inspection system
            printed_mrz=printed,
        )
        title = f"epass read: virtual document '{profile_name}'"
    else:
        if key is None:
            raise click.UsageError(
                "give the key that opens the chip: --mrz, or --document-number, "
                "--date-of-birth and --date-of-expiry, or --can"
            )
        trust = trust_store_for(trust_paths)
        source = card_sources.open_card_source(reader)
        trust_given = bool(trust_paths) or len(trust) > 0
        try:
            inspection = _inspect_source(
                source,
                key,
                trust,
                wait=wait_seconds,
                extended=extended,
                at=at,
                show_progress=not as_json,
                policy=policy,
                terminal=terminal,
                printed_mrz=printed,
            )
        finally:
            _close_source(source)
        title = f"epass read: {source.name}"
    actions = [*_face_actions(face_out), *html_actions(html_out, title=title)]
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
    _finish(inspection, title=title, as_json=as_json, actions=actions, trust_given=trust_given)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSCA certificate(s): a PEM/DER file or a folder (repeatable); default: the store "
    "'epass certs import' fills.",
)
@click.option(
    "--mrz",
    metavar="TEXT",
    help="The MRZ as printed on the data page (all lines, newline- or space-separated): "
    "compared with DG1 field by field; any difference makes the verdict INVALID.",
)
@_json_option
@_at_option
@_face_out_option
@html_option
def verify(
    folder: Path,
    trust_paths: Sequence[Path],
    mrz: str | None,
    as_json: bool,
    at: str | None,
    face_out: Path | None,
    html_out: Path | None,
) -> None:
    """Verify a saved dump FOLDER offline."""
    from epass.cli.certs import trust_store_for
    from epass.inspection import inspect_dump

    trust = trust_store_for(trust_paths)
    inspection = inspect_dump(folder, trust, at=_parse_at(at), mrz=mrz)
    title = f"epass verify: {folder}"
    _finish(
        inspection,
        title=title,
        as_json=as_json,
        actions=[*_face_actions(face_out), *html_actions(html_out, title=title)],
        trust_given=bool(trust_paths) or len(trust) > 0,
    )


from epass.cli.certs import certs  # noqa: E402 - the command group is registered below
from epass.cli.kiosk import kiosk as _kiosk_command  # noqa: E402 - the command after the group
from epass.cli.scenarios import scenarios  # noqa: E402 - the command after the group

cli.add_command(_kiosk_command)
cli.add_command(readers)
cli.add_command(emulate)
cli.add_command(certs)
cli.add_command(scenarios)


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
