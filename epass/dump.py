"""Saved dumps: a folder with one file per EF, for offline re-verification.

Layout written by :func:`save_dump`: ``EF_COM.bin``, ``EF_SOD.bin``,
``DG1.bin`` … ``DG16.bin`` (and ``EF_CardAccess.bin``, ``EF_CardSecurity.bin``
when read), plus ``epass-evidence.json`` when evidence is given: a small JSON
object with what offline verification needs to reach the verdict of the live
read (access protocol, files not read...). This module only stores and loads
it; its content is the caller's.

:func:`load_dump` and :func:`read_dump` also accept the names other tools use
(``EF.SOD``, ``Datagroup1.bin``, ``ef0101.bin``, ``0101.bin``; see
:func:`epass.lds.files.canonical_name`) and ignore hidden files and folders.

A dump is saved as a whole: everything is written into a new hidden folder
beside the target (same parent, so renaming it is atomic), flushed to disk,
then swapped in. At no moment does the target hold a mix of two saves, and an
interruption (a full disk, Ctrl-C) leaves either the previous dump intact or
the new one complete, never a temporary file or folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from epass.errors import DumpError
from epass.lds.document import Document
from epass.lds.files import LdsFile, canonical_name

__all__ = [
    "EVIDENCE_FILE",
    "MAX_DUMP_FILE",
    "MAX_EVIDENCE",
    "Dump",
    "DumpError",
    "dump_file_name",
    "load_dump",
    "read_dump",
    "save_dump",
]

#: Largest file accepted when loading a dump (an LDS file is far smaller).
MAX_DUMP_FILE = 16 << 20
#: Name of the evidence file beside the binary files.
EVIDENCE_FILE = "epass-evidence.json"
#: Largest evidence file written or read, in bytes.
MAX_EVIDENCE = 64 * 1024

_TEMP_PREFIX = ".epass-tmp-"
_OLD_PREFIX = ".epass-old-"
#: errno values of a folder fsync the file system does not support (nothing lost).
_NO_DIR_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EISDIR, errno.EBADF}


@dataclass(frozen=True)
class Dump:
    """A dump folder as read by :func:`read_dump`.

    :ivar files: the LDS files by canonical label (``"DG1"``, ``"EF.SOD"``).
    :ivar evidence: the content of ``epass-evidence.json`` (a JSON object),
        or ``None`` when the folder has none.
    :ivar folder: the folder read.
    """

    files: dict[str, bytes]
    evidence: dict[str, Any] | None
    folder: Path


def dump_file_name(label: str) -> str:
    """The file name a label is saved under: ``"EF.SOD"`` -> ``"EF_SOD.bin"``."""
    return label.replace(".", "_").replace("/", "_") + ".bin"


# ---------------------------------------------------------------------------
# loading


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _read_bounded(entry: Path, limit: int, what: str) -> bytes:
    """The bytes of *entry*, refusing more than *limit* (checked while reading, too)."""
    try:
        size = entry.stat().st_size
        if size > limit:
            raise DumpError(f"{entry}: {size} bytes, more than any {what} ({limit})")
        with entry.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DumpError(f"{entry}: {_reason(exc)}") from exc
    if len(data) > limit:
        raise DumpError(f"{entry}: more than any {what} ({limit} bytes)")
    return data


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _load_evidence(entry: Path) -> dict[str, Any]:
    data = _read_bounded(entry, MAX_EVIDENCE, "evidence file")
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise DumpError(f"{entry}: not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DumpError(f"{entry}: evidence must be a JSON object, not {type(value).__name__}")
    return value


def read_dump(folder: str | os.PathLike[str]) -> Dump:
    """Read a dump folder: every LDS file, keyed by canonical label, and the evidence.

    Files whose names are not LDS names are ignored, and so are hidden files
    and folders (a leftover ``.epass-tmp-*`` never counts).

    :raises DumpError: if the folder is missing, holds no LDS file, holds two
        files for the same EF, a file is larger than :data:`MAX_DUMP_FILE`, or
        ``epass-evidence.json`` is larger than :data:`MAX_EVIDENCE`, not UTF-8
        JSON or not a JSON object; the message names the folder or file.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DumpError(f"{path}: not a folder")
    files: dict[str, bytes] = {}
    sources: dict[str, str] = {}
    evidence: dict[str, Any] | None = None
    try:
        entries = sorted(path.iterdir())
    except OSError as exc:
        raise DumpError(f"{path}: {_reason(exc)}") from exc
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file():
            continue
        if entry.name == EVIDENCE_FILE:
            evidence = _load_evidence(entry)
            continue
        try:
            label = canonical_name(entry.name)
        except ValueError:
            continue
        if label in files:
            raise DumpError(f"{path}: both {sources[label]} and {entry.name} hold {label}")
        files[label] = _read_bounded(entry, MAX_DUMP_FILE, "LDS file")
        sources[label] = entry.name
    if not files:
        raise DumpError(f"{path}: no LDS files (expected EF_SOD.bin, DG1.bin, ...)")
    return Dump(files, evidence, path)


def load_dump(folder: str | os.PathLike[str]) -> dict[str, bytes]:
    """Read every LDS file in *folder*, keyed by canonical label (``"DG1"``, ``"EF.SOD"``).

    The files of :func:`read_dump`, without the evidence.

    :raises DumpError: as :func:`read_dump`.
    """
    return read_dump(folder).files


# ---------------------------------------------------------------------------
# saving


#: What :func:`save_dump` takes: files by label or by :class:`LdsFile`, or a document.
DumpFiles = Mapping[str, bytes] | Mapping[LdsFile, bytes] | Mapping[str | LdsFile, bytes] | Document


def _contents(files: DumpFiles) -> dict[str, bytes]:
    """The files to save, by file name in the dump."""
    items = files.labelled() if isinstance(files, Document) else files
    out: dict[str, bytes] = {}
    for key, data in items.items():
        label = key.label if isinstance(key, LdsFile) else canonical_name(key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"{label}: expected bytes, got {type(data).__name__}")
        name = dump_file_name(label)
        if name in out and out[name] != bytes(data):
            raise ValueError(f"two different contents given for {label}")
        out[name] = bytes(data)
    if not out:
        raise ValueError("no files to save")
    return out


def _evidence_bytes(evidence: Mapping[str, Any]) -> bytes:
    if not isinstance(evidence, Mapping):
        raise TypeError(
            f"evidence must be a mapping (a JSON object), not {type(evidence).__name__}"
        )
    text = json.dumps(dict(evidence), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)
    data = (text + "\n").encode("utf-8")
    if len(data) > MAX_EVIDENCE:
        raise ValueError(f"evidence of {len(data)} bytes (at most {MAX_EVIDENCE})")
    return data


def _write_file(path: Path, data: bytes) -> None:
    """Create *path* (it must not exist), write *data* and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(path: Path) -> None:
    """Make the entries of *path* (creations, renames) durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        if exc.errno in _NO_DIR_SYNC or exc.errno in (errno.EACCES, errno.EPERM):
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_SYNC:
            raise
    finally:
        os.close(fd)


def _new_sibling(parent: Path, prefix: str, name: str) -> Path:
    """A fresh hidden name in *parent* for a folder beside *name*."""
    return parent / f"{prefix}{name}-{secrets.token_hex(6)}"


def _make_temp_folder(parent: Path, name: str) -> Path:
    for _ in range(100):
        candidate = _new_sibling(parent, _TEMP_PREFIX, name)
        try:
            os.mkdir(candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(errno.EEXIST, "no free temporary folder name", str(parent))


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _os_errors(target: Path, what: str) -> Iterator[None]:
    """Turn an OSError into a DumpError naming the user's folder (not a temporary path)."""
    try:
        yield
    except OSError as exc:
        raise DumpError(f"{target}: {what}: {_reason(exc)}") from exc


def _is_empty_folder(path: Path) -> bool:
    with os.scandir(path) as entries:
        return next(entries, None) is None


def save_dump(
    files: DumpFiles,
    folder: str | os.PathLike[str],
    *,
    evidence: Mapping[str, Any] | None = None,
    force: bool = False,
) -> list[Path]:
    """Save *files* as a dump in *folder*, as a whole and atomically.

    Everything is written into a new hidden folder beside *folder* and
    flushed to disk (files and folder), then swapped in: if *folder* does not
    exist or is empty it is replaced by a rename; if it holds anything, the
    save is refused unless *force*, in which case the old folder is renamed
    aside, the new one renamed in, and the old one removed. Any interruption
    (an OSError, KeyboardInterrupt or any other exception) leaves either the
    old folder intact or the new dump complete, and removes the temporary
    folder.

    :param files: label (``"DG1"``, ``"EF.SOD"``, or any name
        :func:`~epass.lds.files.canonical_name` accepts) or
        :class:`~epass.lds.files.LdsFile` -> bytes, or a
        :class:`~epass.lds.document.Document`.
    :param evidence: a JSON object saved as ``epass-evidence.json`` (sorted
        keys, UTF-8, at most :data:`MAX_EVIDENCE` bytes).
    :param force: replace a non-empty *folder* (its whole content goes).
    :returns: the paths written, in *folder*: the binary files, then the
        evidence file when given.
    :raises DumpError: if *folder* is a file, is not empty (without *force*),
        or cannot be written; the message names *folder* and the OS reason.
    :raises ValueError: for a name that is no LDS file, two different
        contents for one file, no files, or evidence that is not JSON or too
        large. :raises TypeError: for content that is not bytes or evidence
        that is not a mapping.
    """
    contents = _contents(files)
    evidence_data = None if evidence is None else _evidence_bytes(evidence)
    target = Path(folder)
    work = Path(os.path.realpath(target)) if target.is_symlink() else Path(os.path.abspath(target))
    if os.path.lexists(work) and not work.is_dir():
        raise DumpError(f"{target}: exists and is not a folder")
    replacing = work.is_dir()
    with _os_errors(target, "cannot read the folder"):
        if replacing and not force and not _is_empty_folder(work):
            raise DumpError(f"{target} is not empty; use --force to replace it")
    parent = work.parent
    with _os_errors(target, "cannot create the parent folder"):
        parent.mkdir(parents=True, exist_ok=True)
    with _os_errors(target, "cannot create a temporary folder beside it"):
        temp = _make_temp_folder(parent, work.name)
    try:
        names = list(contents)
        with _os_errors(target, "cannot write the dump"):
            for name, data in contents.items():
                _write_file(temp / name, data)
            if evidence_data is not None:
                _write_file(temp / EVIDENCE_FILE, evidence_data)
                names.append(EVIDENCE_FILE)
            _sync_folder(temp)
        _swap_in(temp, work, target, replacing=replacing)
    except BaseException:
        _remove_tree(temp)
        raise
    with _os_errors(target, "cannot flush the folder"):
        _sync_folder(parent)
    return [target / name for name in names]


def _swap_in(temp: Path, work: Path, target: Path, *, replacing: bool) -> None:
    """Put the complete folder *temp* in place of *work* (renames in one parent)."""
    with _os_errors(target, "cannot put the dump in place"):
        if not replacing or _is_empty_folder(work):
            # rename(2) replaces an empty folder atomically; a non-empty one that
            # appeared meanwhile makes it fail (ENOTEMPTY), and nothing is lost.
            os.replace(temp, work)
            return
    old = _new_sibling(work.parent, _OLD_PREFIX, work.name)
    with _os_errors(target, "cannot move the old dump aside"):
        os.replace(work, old)
    try:
        with _os_errors(target, "cannot put the dump in place"):
            os.replace(temp, work)
    except BaseException:
        try:
            os.replace(old, work)  # the old dump goes back, whole
        except OSError as exc:
            raise DumpError(
                f"{target}: the new dump could not be put in place and the old one could not "
                f"be moved back ({_reason(exc)}); it is kept whole in {old}"
            ) from exc
        raise
    _remove_tree(old)
