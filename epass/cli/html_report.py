"""``--html FILE`` of ``epass read``, ``epass verify`` and ``epass demo``: the HTML report, written.

The report itself is :func:`epass.report.html.render_html`; this module only
writes it where the user asked: a regular file (a symlink, a folder, a FIFO or
a device is refused, without blocking on a FIFO), created with mode 0600
because it holds the holder's data and face.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from epass.inspection import Inspection

__all__ = ["html_actions", "html_option", "write_private"]

html_option = click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as one self-contained HTML file (face included; mode 0600).",
)


def write_private(target: Path, data: bytes, *, what: str) -> None:
    """Write *data* to the regular file *target*, mode 0600, never following a symlink.

    :raises click.ClickException: when *target* is not a regular file or cannot be written.
    """
    try:
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise click.ClickException(f"{target}: not a regular file: no {what} written")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot write: {exc.strerror or exc}") from exc


def html_actions(target: Path | None, *, title: str) -> list[Callable[[Inspection], str | None]]:
    """The follow-up action of ``--html`` (none when *target* is ``None``).

    The action returns a note naming the file written.
    """
    if target is None:
        return []

    def write_html(inspection: Inspection) -> str:
        from epass.report.html import render_html

        html = render_html(inspection, title=title)
        write_private(target, html.encode("utf-8"), what="HTML report")
        return f"HTML report written to {target}"

    return [write_html]
