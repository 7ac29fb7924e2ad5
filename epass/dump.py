"""Saved dumps: a folder with one file per EF, for offline re-verification.

Layout written by :func:`save_dump`: ``EF_COM.bin``, ``EF_SOD.bin``,
``DG1.bin`` … ``DG16.bin`` (and ``EF_CardAccess.bin``, ``EF_CardSecurity.bin``
when read), plus ``epass-evidence.json`` when evidence is given: a small JSON
object with what offline verification needs to reach the verdict of the live
read (access protocol, files not read...). This module only stores and loads
it; its content is the caller's.

:func:`load_dump` and :func:`read_dump` also accept the names other tools use
(``EF.SOD``, ``Datagroup1.bin``, ``ef0101.bin``, ``0101.bin``; see
:func:`epass.lds.files.canonical_name`), matched exactly (ASCII, no
surrounding spaces; case does not matter), and ignore other names and hidden
files and folders. They never follow a symbolic link in the folder.

A dump is saved as a whole: everything is written into a new hidden folder
beside the target (same parent, so renaming it is atomic), flushed to disk,
then swapped in. At no moment does the target hold a mix of two saves, and an
interruption (a full disk, Ctrl-C) leaves either the previous dump intact or
the new one complete. Dumps hold personal data: the folder is created
``0700`` and its files ``0600``, whatever the umask.

Reading never deletes or changes anything. A save deletes only *dump files*:
regular files (never a link, a folder or a special file) named as an LDS file
or ``epass-evidence.json``, no larger than :func:`read_dump` accepts for
their kind. A hidden ``.epass-tmp-<name>-<12 hex>``/``.epass-old-<name>-<12
hex>`` folder left beside the target by a save that was killed is removed by
the next save of that target only when it holds nothing but dump files;
otherwise it is left alone. What a save may replace is bounded too: never the
current folder, the home folder or the file system root, never a folder
through a symbolic link, and with ``force`` only a folder that holds nothing
but dump files.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import stat
import time
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
    "MAX_DUMP_TOTAL",
    "MAX_EVIDENCE",
    "Dump",
    "DumpError",
    "dump_file_name",
    "load_dump",
    "max_dump_file_size",
    "read_dump",
    "save_dump",
]

_MIB = 1 << 20
#: Largest file accepted when loading a dump, whatever its kind (see :func:`max_dump_file_size`).
MAX_DUMP_FILE = 16 * _MIB
#: Most bytes of LDS files read from one dump, in all (the evidence file is bounded apart).
#: A real dump fits several times over: every file within its
#: :attr:`~epass.lds.files.LdsFile.max_size` makes about 4.3 MiB in all.
MAX_DUMP_TOTAL = 16 * _MIB
#: Name of the evidence file beside the binary files.
EVIDENCE_FILE = "epass-evidence.json"
#: Largest evidence file written or read, in bytes.
MAX_EVIDENCE = 64 * 1024

_TEMP_PREFIX = ".epass-tmp-"
_OLD_PREFIX = ".epass-old-"
_TOKEN_HEX = 12  # secrets.token_hex(6)
#: A temporary folder untouched this long belongs to no running save.
_STALE_TEMP_SECONDS = 300.0
#: errno values of a folder fsync the file system does not support (nothing lost).
_NO_DIR_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EISDIR, errno.EBADF}
_FOLDER_MODE = 0o700
_FILE_MODE = 0o600


@dataclass(frozen=True)
class Dump:
    """A dump folder as read by :func:`read_dump`.

    :ivar files: the LDS files by canonical label (``"DG1"``, ``"EF.SOD"``).
    :ivar evidence: the content of ``epass-evidence.json`` (a JSON object),
        or ``None`` when the folder has none or it could not be used.
    :ivar folder: the folder read.
    :ivar evidence_error: why ``epass-evidence.json`` could not be used (one
        line naming the file: too large, not UTF-8 JSON, not an object, a
        symbolic link, unreadable), or ``None``. Passive authentication does
        not need the evidence, so a damaged one does not stop the read.
    """

    files: dict[str, bytes]
    evidence: dict[str, Any] | None
    folder: Path
    evidence_error: str | None = None

    def __repr__(self) -> str:  # the files hold personal data (DG1: name, number, dates)
        sizes = ", ".join(f"{label} {len(data)} B" for label, data in self.files.items())
        return f"Dump({str(self.folder)!r}: {sizes})"


def dump_file_name(label: str) -> str:
    """The file name a label is saved under: ``"EF.SOD"`` -> ``"EF_SOD.bin"``."""
    return label.replace(".", "_").replace("/", "_") + ".bin"


def max_dump_file_size(file: LdsFile) -> int:
    """The most bytes a dump file for *file* may hold when loaded.

    Four times the plausible size :attr:`~epass.lds.files.LdsFile.max_size`,
    at least 1 MiB and at most :data:`MAX_DUMP_FILE` (so 4 MiB for DG2-DG4,
    1 MiB for DG1): a real file always fits, and an oversized one reaches the
    parser, which says what is wrong with it.
    """
    return min(MAX_DUMP_FILE, max(4 * file.max_size, _MIB))


def _lds_file(name: str) -> LdsFile | None:
    """The LDS file a dump entry called exactly *name* holds, or ``None`` for any other name.

    ASCII only and no surrounding white space: ``"DG1.bin "`` or a DG1 with
    non-ASCII digits is not DG1.
    """
    if not name.isascii() or name != name.strip() or name.startswith("."):
        return None
    try:
        return LdsFile.by_name(name)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# loading


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _OversizeError(Exception):
    """A file holds more than the limit it was read with (``size`` when known from stat)."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


def _read_regular(entry: Path, limit: int) -> bytes:
    """The bytes of the regular file *entry*, never following a link, at most *limit*.

    The size is checked from ``fstat`` before reading and again while reading.

    :raises _OversizeError: above *limit*. :raises DumpError: for a symbolic link,
        anything but a regular file, or an OS error; the message names *entry*.
    """
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not hang the read
        | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(entry, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DumpError(_symlink_message(entry)) from exc
        raise DumpError(f"{entry}: {_reason(exc)}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DumpError(f"{entry}: not a regular file")
        if info.st_size > limit:
            raise _OversizeError(info.st_size)
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, _MIB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise DumpError(f"{entry}: {_reason(exc)}") from exc
    finally:
        os.close(fd)
    if left <= 0:
        raise _OversizeError(None)
    return b"".join(chunks)


def _symlink_message(entry: Path) -> str:
    return f"{entry}: is a symbolic link; a dump is read without following links"


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key[:40]!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _load_evidence(entry: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The evidence object of *entry*, or ``None`` and why it cannot be used."""
    try:
        data = _read_regular(entry, MAX_EVIDENCE)
    except _OversizeError as exc:
        size = "" if exc.size is None else f"{exc.size} bytes, "
        return None, f"{entry}: {size}more than any evidence file ({MAX_EVIDENCE} bytes)"
    except DumpError as exc:
        return None, _one_line(str(exc))
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    # UnicodeDecodeError is a ValueError, and so is an integer beyond
    # sys.get_int_max_str_digits()
    except (ValueError, RecursionError) as exc:
        return None, _one_line(f"{entry}: not valid UTF-8 JSON: {exc}")
    if not isinstance(value, dict):
        return None, f"{entry}: evidence must be a JSON object, not {type(value).__name__}"
    return value, None


def read_dump(folder: str | os.PathLike[str]) -> Dump:
    """Read a dump folder: every LDS file, keyed by canonical label, and the evidence.

    Only entries named exactly as an LDS file (see the module) are read;
    other names, hidden entries and folders are ignored. Sizes are checked
    from ``stat`` before anything is read and again while reading: each file
    against :func:`max_dump_file_size`, all of them against
    :data:`MAX_DUMP_TOTAL`. A damaged ``epass-evidence.json`` does not stop
    the read: it is reported in :attr:`Dump.evidence_error`. Nothing is
    deleted or changed, in the folder or beside it.

    :raises DumpError: if the folder is missing, holds no LDS file, holds two
        files for the same EF, an LDS file is a symbolic link or not a regular
        file, is larger than its bound, or the files exceed
        :data:`MAX_DUMP_TOTAL` in all; the message names the folder or file
        and the bound.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DumpError(f"{path}: not a folder")
    try:
        with os.scandir(path) as scan:
            names = sorted(entry.name for entry in scan)
    except OSError as exc:
        raise DumpError(f"{path}: {_reason(exc)}") from exc
    planned: list[tuple[LdsFile, Path]] = []
    sources: dict[str, str] = {}
    evidence_entry: Path | None = None
    total = 0
    for name in names:
        entry = path / name
        if name == EVIDENCE_FILE:
            evidence_entry = entry
            continue
        file = _lds_file(name)
        if file is None:
            continue
        label = file.label
        try:
            info = os.lstat(entry)
        except OSError as exc:
            raise DumpError(f"{entry}: {_reason(exc)}") from exc
        if stat.S_ISLNK(info.st_mode):
            raise DumpError(_symlink_message(entry))
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode):
            raise DumpError(f"{entry}: not a regular file")
        if label in sources:
            raise DumpError(f"{path}: both {sources[label]} and {name} hold {label}")
        sources[label] = name
        bound = max_dump_file_size(file)
        if info.st_size > bound:
            raise DumpError(_file_too_big(entry, label, bound, info.st_size))
        total += info.st_size
        if total > MAX_DUMP_TOTAL:
            raise DumpError(_dump_too_big(entry))
        planned.append((file, entry))
    if not planned:
        raise DumpError(f"{path}: no LDS files (expected EF_SOD.bin, DG1.bin, ...)")
    files: dict[str, bytes] = {}
    budget = MAX_DUMP_TOTAL
    for file, entry in planned:
        label = file.label
        bound = max_dump_file_size(file)
        try:
            data = _read_regular(entry, min(bound, budget))
        except _OversizeError as exc:
            if budget < bound and (exc.size is None or exc.size <= bound):
                raise DumpError(_dump_too_big(entry)) from None
            raise DumpError(_file_too_big(entry, label, bound, exc.size)) from None
        budget -= len(data)
        files[label] = data
    evidence, evidence_error = (None, None) if evidence_entry is None else _evidence(evidence_entry)
    return Dump(files, evidence, path, evidence_error)


def _evidence(entry: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        info = os.lstat(entry)
    except OSError as exc:
        return None, f"{entry}: {_reason(exc)}"
    if stat.S_ISLNK(info.st_mode):
        return None, _symlink_message(entry)
    return _load_evidence(entry)


def _file_too_big(entry: Path, label: str, bound: int, size: int | None) -> str:
    amount = "" if size is None else f"{size} bytes, "
    return f"{entry}: {amount}more than any LDS file ({label}: at most {bound} bytes)"


def _dump_too_big(entry: Path) -> str:
    return (
        f"{entry}: with it the LDS files of this dump exceed {MAX_DUMP_TOTAL} bytes in all "
        "(MAX_DUMP_TOTAL)"
    )


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
        bound = max_dump_file_size(LdsFile.by_name(label))
        if len(data) > bound:  # read_dump would refuse it
            raise ValueError(f"{label}: {len(data)} bytes (at most {bound})")
        out[name] = bytes(data)
    if not out:
        raise ValueError("no files to save")
    total = sum(len(data) for data in out.values())
    if total > MAX_DUMP_TOTAL:
        raise ValueError(f"{total} bytes of LDS files in all (at most {MAX_DUMP_TOTAL})")
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
    """Create *path* (it must not exist) mode 0600, write *data* and flush it to disk."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, _FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)  # exactly 0600, whatever the umask
        else:  # pragma: no cover - Windows
            os.chmod(path, _FILE_MODE)
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
    return parent / f"{prefix}{name}-{secrets.token_hex(_TOKEN_HEX // 2)}"


def _sibling_pattern(name: str) -> re.Pattern[str]:
    """The names :func:`_new_sibling` gives for *name*, and no others."""
    prefixes = "|".join(re.escape(p) for p in (_TEMP_PREFIX, _OLD_PREFIX))
    return re.compile(f"({prefixes}){re.escape(name)}-[0-9a-f]{{{_TOKEN_HEX}}}")


def _remove_stale_siblings(work: Path) -> None:
    """Remove what an interrupted save of *work* left beside it (best effort, never raises).

    Only hidden folders (not links) named ``.epass-old-<name>-<12 hex>`` or
    ``.epass-tmp-<name>-<12 hex>`` for this target's name, and only when they
    hold nothing but dump files (see :func:`_remove_dump_folder`). An old dump
    moved aside goes only once *work* is a folder again (the new dump is in
    place; before that, it may be the only copy); a temporary folder only when
    untouched for :data:`_STALE_TEMP_SECONDS` (so a save running in
    parallel keeps its own).
    """
    name = work.name
    if not name:
        return
    pattern = _sibling_pattern(name)
    try:
        with os.scandir(work.parent) as scan:
            stale = [e.name for e in scan if pattern.fullmatch(e.name)]
    except OSError:
        return
    if not stale:
        return
    replaced = work.is_dir() and not work.is_symlink()
    now = time.time()
    for entry in stale:
        path = work.parent / entry
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        if entry.startswith(_OLD_PREFIX) and not replaced:
            continue
        if entry.startswith(_TEMP_PREFIX) and now - info.st_mtime < _STALE_TEMP_SECONDS:
            continue
        _remove_dump_folder(path)


def _make_temp_folder(parent: Path, name: str) -> Path:
    for _ in range(100):
        candidate = _new_sibling(parent, _TEMP_PREFIX, name)
        try:
            os.mkdir(candidate, _FOLDER_MODE)
        except FileExistsError:
            continue
        try:
            os.chmod(candidate, _FOLDER_MODE)  # exactly 0700, whatever the umask
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(candidate)  # still empty
            raise
        return candidate
    raise FileExistsError(errno.EEXIST, "no free temporary folder name", str(parent))


def _dump_file_bound(name: str) -> int | None:
    """The most bytes a dump file called *name* holds, or ``None`` if no dump file has that name."""
    if name == EVIDENCE_FILE:
        return MAX_EVIDENCE
    file = _lds_file(name)
    return None if file is None else max_dump_file_size(file)


def _is_dump_file(name: str, info: os.stat_result) -> bool:
    """Whether the entry *name* with ``lstat`` result *info* is a dump file.

    A regular file (not a link, folder or special file) named as an LDS file
    or ``epass-evidence.json``, within the bound :func:`read_dump` applies to
    its kind. Nothing else in or beside a dump is ever deleted.
    """
    bound = _dump_file_bound(name)
    return bound is not None and stat.S_ISREG(info.st_mode) and info.st_size <= bound


_DIR_FD = os.scandir in os.supports_fd and os.unlink in os.supports_dir_fd


def _remove_dump_folder(path: Path) -> bool:
    """Remove the folder *path* if it holds nothing but dump files; ``True`` once it is gone.

    Checks every entry first and changes nothing unless all are dump files
    (:func:`_is_dump_file`): a subfolder, a link, any other file leaves the
    folder as it is. Never follows a link: *path* itself must be a folder,
    and (where the OS allows) the entries are listed and removed through one
    descriptor of that folder, so a folder swapped in meanwhile is not touched.
    An OSError stops the removal and returns ``False``; any other exception
    (KeyboardInterrupt) propagates, leaving a folder of dump files.
    """
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return False
        if not _DIR_FD:  # pragma: no cover - Windows
            with os.scandir(path) as scan:
                entries = [(e.name, e.stat(follow_symlinks=False)) for e in scan]
            if not all(_is_dump_file(name, info) for name, info in entries):
                return False
            for name, _ in entries:
                os.unlink(path / name)
        else:
            fd = os.open(path, flags)
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    return False
                with os.scandir(fd) as scan:
                    entries = [(e.name, e.stat(follow_symlinks=False)) for e in scan]
                if not all(_is_dump_file(name, info) for name, info in entries):
                    return False
                for name, _ in entries:
                    os.unlink(name, dir_fd=fd)
            finally:
                os.close(fd)
        os.rmdir(path)  # fails (and keeps it) if anything appeared meanwhile
    except OSError:
        return False
    return True


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


def _foreign_entries(folder: Path) -> list[str]:
    """The entries of *folder* that are not dump files (:func:`_is_dump_file`), by name (sorted).

    Anything else is foreign, whatever its name: a folder or link named as an
    LDS file, a file larger than any LDS file of its kind, a hidden entry
    (even ``.epass-tmp-*``/``.epass-old-*``).
    """
    with os.scandir(folder) as scan:
        entries = [(e.name, e.stat(follow_symlinks=False)) for e in scan]
    return sorted(name for name, info in entries if not _is_dump_file(name, info))


def _refuse_unsafe_target(target: Path, work: Path) -> None:
    """Refuse a target a dump must never replace; nothing has been changed yet."""
    if work.is_symlink():
        raise DumpError(
            f"{target} is a symbolic link; a dump is never written through a link "
            "(nothing was changed)"
        )
    resolved = os.path.realpath(work)
    protected: list[tuple[str, str]] = []
    with contextlib.suppress(OSError):
        protected.append((os.path.realpath(os.getcwd()), "the current folder"))
    home = os.path.expanduser("~")
    if home != "~":
        protected.append((os.path.realpath(home), "the home folder"))
    if os.path.dirname(resolved) == resolved:
        protected.insert(0, (resolved, "the file system root"))
    for path, what in protected:
        if resolved == path:
            raise DumpError(
                f"{target} is {what}; give a folder of its own for the dump (nothing was changed)"
            )


def save_dump(
    files: DumpFiles,
    folder: str | os.PathLike[str],
    *,
    evidence: Mapping[str, Any] | None = None,
    force: bool = False,
) -> list[Path]:
    """Save *files* as a dump in *folder*, as a whole and atomically.

    Everything is written into a new hidden folder beside *folder* (mode
    ``0700``, files ``0600``, whatever the umask) and flushed to disk (files
    and folder), then swapped in: if *folder* does not exist or is empty it
    is replaced by a rename; if it holds a dump, the save is refused unless
    *force*, in which case the old folder is renamed aside, the new one
    renamed in, and the old one removed. Any interruption (an OSError,
    KeyboardInterrupt or any other exception) before the new dump is in
    place leaves the old folder intact and removes the temporary folder; one
    while removing the old dump still finishes removing it as far as it can,
    and the next save of *folder* removes the rest. Only dump files are ever
    deleted: a folder moved aside or left beside *folder* that holds anything
    else is kept as it is (see the module).

    Refused whatever *force* says, before anything is changed: an empty
    path; a *folder* that is a symbolic link, or that is (or resolves to) the
    current folder, the home folder or the file system root; a *folder*
    holding anything but dump files: regular files named as LDS files or
    ``epass-evidence.json``, each within the bound :func:`read_dump` applies
    (a folder, link or special file, an oversized file, any hidden entry
    is foreign).

    :param files: label (``"DG1"``, ``"EF.SOD"``, or any name
        :func:`~epass.lds.files.canonical_name` accepts) or
        :class:`~epass.lds.files.LdsFile` -> bytes, or a
        :class:`~epass.lds.document.Document`.
    :param evidence: a JSON object saved as ``epass-evidence.json`` (sorted
        keys, UTF-8, at most :data:`MAX_EVIDENCE` bytes).
    :param force: replace a *folder* that holds a dump (all of it goes).
    :returns: the paths written, in *folder*: the binary files, then the
        evidence file when given.
    :raises DumpError: for a refused target as above, if *folder* is a file,
        holds a dump (without *force*), or cannot be written; the message
        names *folder* and the reason.
    :raises ValueError: for a name that is no LDS file, two different
        contents for one file, a file larger than :func:`max_dump_file_size`
        or files beyond :data:`MAX_DUMP_TOTAL` in all (:func:`read_dump`
        would refuse them), no files, or evidence that is not JSON or too
        large. :raises TypeError: for content that is not bytes or evidence
        that is not a mapping.
    """
    contents = _contents(files)
    evidence_data = None if evidence is None else _evidence_bytes(evidence)
    if os.fspath(folder) == "":
        raise DumpError("the dump folder path is empty; give a folder of its own for the dump")
    target = Path(folder)
    work = Path(os.path.abspath(target))
    _refuse_unsafe_target(target, work)
    if os.path.lexists(work) and not work.is_dir():
        raise DumpError(f"{target}: exists and is not a folder")
    replacing = work.is_dir()
    with _os_errors(target, "cannot read the folder"):
        if replacing and not _is_empty_folder(work):
            foreign = _foreign_entries(work)
            if foreign:
                shown = ", ".join(repr(name) for name in foreign[:3])
                more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
                raise DumpError(
                    f"{target} is not empty: it holds files that are not part of a dump "
                    f"({shown}{more}); nothing was changed"
                )
            if not force:
                raise DumpError(f"{target} is not empty; use --force to replace it")
    parent = work.parent
    with _os_errors(target, "cannot create the parent folder"):
        parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(work)
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
        _remove_dump_folder(temp)
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
    # The new dump is in place: an interruption now (Ctrl-C while removing) still
    # gets a second, best-effort pass; what remains goes on the next save. Anything
    # but dump files that appeared in the folder since it was checked keeps it whole.
    try:
        _remove_dump_folder(old)
    finally:
        if os.path.lexists(old):
            _remove_dump_folder(old)
