"""Saved dumps: a folder with one file per EF, for offline re-verification.

Layout written by :func:`save_dump`: ``EF_COM.bin``, ``EF_SOD.bin``,
``DG1.bin`` … ``DG16.bin`` (and ``EF_CardAccess.bin``, ``EF_CardSecurity.bin``
when read). :func:`load_dump` also accepts the names other tools use
(``EF.SOD``, ``Datagroup1.bin``, ``ef0101.bin``, ``0101.bin``; see
:func:`epass.lds.files.canonical_name`).

Saving is atomic per file (write to a temporary file in the same folder, fsync,
rename), so an interrupted save never leaves a half-written file behind, and
files already there are replaced only by complete new ones.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from epass.errors import DumpError
from epass.lds.files import canonical_name

__all__ = ["MAX_DUMP_FILE", "DumpError", "dump_file_name", "load_dump", "save_dump"]

#: Largest file accepted when loading a dump (an LDS file is far smaller).
MAX_DUMP_FILE = 16 << 20


def dump_file_name(label: str) -> str:
    """The file name a label is saved under: ``"EF.SOD"`` -> ``"EF_SOD.bin"``."""
    return label.replace(".", "_").replace("/", "_") + ".bin"


def load_dump(folder: str | os.PathLike[str]) -> dict[str, bytes]:
    """Read every LDS file in *folder*, keyed by canonical label (``"DG1"``, ``"EF.SOD"``).

    Files whose names are not LDS names are ignored.

    :raises DumpError: if the folder is missing, holds no LDS file, holds two
        files for the same EF, or a file is larger than :data:`MAX_DUMP_FILE`.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DumpError(f"{path}: not a folder")
    files: dict[str, bytes] = {}
    sources: dict[str, str] = {}
    for entry in sorted(path.iterdir()):
        if not entry.is_file() or entry.name.startswith("."):
            continue
        try:
            label = canonical_name(entry.name)
        except ValueError:
            continue
        if label in files:
            raise DumpError(f"{path}: both {sources[label]} and {entry.name} hold {label}")
        size = entry.stat().st_size
        if size > MAX_DUMP_FILE:
            raise DumpError(f"{entry}: {size} bytes, more than any LDS file")
        try:
            files[label] = entry.read_bytes()
        except OSError as exc:
            raise DumpError(f"{entry}: {exc.strerror or exc}") from exc
        sources[label] = entry.name
    if not files:
        raise DumpError(f"{path}: no LDS files (expected EF_SOD.bin, DG1.bin, ...)")
    return files


def save_dump(files: Mapping[str, bytes], folder: str | os.PathLike[str]) -> list[Path]:
    """Write *files* (label -> bytes) into *folder*, each atomically.

    :returns: the paths written.
    :raises DumpError: if the folder cannot be created or a file not written.
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DumpError(f"{path}: cannot create folder: {exc.strerror or exc}") from exc
    written: list[Path] = []
    for label, data in files.items():
        target = path / dump_file_name(canonical_name(label))
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=path)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise DumpError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        written.append(target)
    try:  # make the renames durable too
        dir_fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return written
