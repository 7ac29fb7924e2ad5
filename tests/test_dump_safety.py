"""Dump folders (epass/dump.py): what a save may replace, modes, leftovers, bounds, links, names."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from epass import dump
from epass.dump import (
    MAX_DUMP_TOTAL,
    DumpError,
    dump_file_name,
    load_dump,
    max_dump_file_size,
    read_dump,
    save_dump,
)
from epass.lds.files import LdsFile

NEW = {"EF.COM": b"\x60new", "EF.SOD": b"\x77new", "DG1": b"\x61new", "DG2": b"\x75new"}
OLD = {"EF.COM": b"\x60old", "EF.SOD": b"\x77old", "DG1": b"\x61old", "DG11": b"\x6bold"}
MIB = 1 << 20


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry of *folder*, hidden ones included (a folder maps to b'<dir>', a link to its
    target)."""
    out: dict[str, bytes] = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            out[p.name] = b"-> " + os.fsencode(os.readlink(p))
        else:
            out[p.name] = p.read_bytes() if p.is_file() else b"<dir>"
    return out


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _new_dump_files() -> dict[str, bytes]:
    return {dump_file_name(k): v for k, v in NEW.items()}


# --- 1. what a save may replace ------------------------------------------------------------


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tmp_path/cwd as the current folder, holding the user's own file."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(folder)
    yield folder


def test_an_empty_path_is_refused(cwd):
    for force in (False, True):
        with pytest.raises(DumpError, match="the dump folder path is empty"):
            save_dump(NEW, "", force=force)
    assert _snapshot(cwd) == {"thesis.tex": b"years of work"}
    assert _hidden(cwd.parent) == []


@pytest.mark.parametrize("spelling", [".", "./", "sub/..", "CWD"])
def test_the_current_folder_is_refused_even_when_it_holds_only_a_dump(cwd, spelling):
    (cwd / "thesis.tex").unlink()
    save_dump(OLD, cwd / "inner")
    for entry in (cwd / "inner").iterdir():  # cwd holds nothing but a dump
        entry.rename(cwd / entry.name)
    (cwd / "inner").rmdir()
    (cwd / "sub").mkdir()
    before = _snapshot(cwd)
    folder = str(cwd) if spelling == "CWD" else spelling
    with pytest.raises(DumpError) as info:
        save_dump(NEW, folder, force=True)
    assert str(info.value) == (
        f"{folder if spelling != './' else '.'} is the current folder; "
        "give a folder of its own for the dump (nothing was changed)"
    )
    assert _snapshot(cwd) == before
    assert _hidden(cwd.parent) == []


def test_the_current_folder_is_refused_even_when_empty(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with pytest.raises(DumpError, match="is the current folder"):
        save_dump(NEW, ".")
    assert list(empty.iterdir()) == [] and _hidden(tmp_path) == []


def test_the_home_folder_is_refused(tmp_path, monkeypatch):
    home = tmp_path / "home"
    save_dump(OLD, home)  # even a home holding only a dump
    monkeypatch.setenv("HOME", str(home))
    before = _snapshot(home)
    for folder in (str(home), os.path.expanduser("~"), str(tmp_path / "alias" / "..") + "/home"):
        with pytest.raises(DumpError) as info:
            save_dump(NEW, folder, force=True)
        assert str(info.value).endswith(
            " is the home folder; give a folder of its own for the dump (nothing was changed)"
        )
    assert _snapshot(home) == before
    assert _hidden(tmp_path) == []


def test_the_file_system_root_is_refused():
    root = Path(os.path.abspath(os.sep))
    before = sorted(os.listdir(root))
    with pytest.raises(DumpError, match="is the file system root"):
        save_dump(NEW, root, force=True)
    assert sorted(os.listdir(root)) == before  # not even a temporary folder was made


def test_a_target_resolving_to_a_protected_folder_through_a_link_is_refused(cwd, tmp_path):
    (tmp_path / "up").symlink_to(tmp_path)  # "up/cwd" is no link, but resolves to cwd
    with pytest.raises(DumpError, match="up/cwd is the current folder"):
        save_dump(NEW, tmp_path / "up" / "cwd", force=True)
    assert _snapshot(cwd) == {"thesis.tex": b"years of work"}


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_target_is_refused(tmp_path, dangling):
    real = tmp_path / "real"
    if not dangling:
        save_dump(OLD, real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = None if dangling else _snapshot(real)
    for force in (False, True):
        with pytest.raises(DumpError) as info:
            save_dump(NEW, link, force=force)
        assert str(info.value) == (
            f"{link} is a symbolic link; a dump is never written through a link "
            "(nothing was changed)"
        )
    assert link.is_symlink()
    if dangling:
        assert not real.exists()
    else:
        assert _snapshot(real) == before
    assert _hidden(tmp_path) == []


def test_force_refuses_a_folder_holding_anything_but_a_dump(tmp_path):
    target = tmp_path / "d"
    save_dump(OLD, target, evidence={"schema": "x"})
    (target / "notes.txt").write_text("mine")
    (target / "DG4.bin").mkdir()  # a folder with an LDS name is not part of a dump
    (target / "DG4.bin" / "photo.jpg").write_bytes(b"mine")
    (target / ".git").mkdir()
    (target / "bad\nname").write_text("mine")
    before = _snapshot(target)
    for force in (True, False):
        with pytest.raises(DumpError) as info:
            save_dump(NEW, target, force=force)
        assert str(info.value) == (
            f"{target} is not empty: it holds files that are not part of a dump "
            "('.git', 'DG4.bin', 'bad\\nname' and 1 more); nothing was changed"
        )
    assert _snapshot(target) == before
    assert _hidden(tmp_path) == []


def test_force_refuses_a_leftover_folder_holding_foreign_files(tmp_path):
    target = tmp_path / "d"
    save_dump(OLD, target)
    ours = target / ".epass-old-x-0123456789ab"
    ours.mkdir()
    (ours / "cv.pdf").write_bytes(b"mine")
    with pytest.raises(DumpError, match=r"\('\.epass-old-x-0123456789ab'\); nothing was changed"):
        save_dump(NEW, target, force=True)
    assert (ours / "cv.pdf").read_bytes() == b"mine"


def test_force_replaces_a_folder_holding_only_dump_files(tmp_path):
    target = tmp_path / "d"
    save_dump(OLD, target, evidence={"schema": "x"})
    (target / "Datagroup5.bin").write_bytes(b"other tool's name")
    (target / "0106").write_bytes(b"\x66")
    (target / "ef_dg7.BIN").write_bytes(b"")
    save_dump(NEW, target, force=True)
    assert _snapshot(target) == _new_dump_files()
    assert _hidden(tmp_path) == []


# --- 2. modes ------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o777])
@pytest.mark.parametrize("replace", [False, True])
def test_the_folder_is_0700_and_files_0600_whatever_the_umask(tmp_path, umask, replace):
    target = tmp_path / "d"
    if replace:
        save_dump(OLD, target)
    old = os.umask(umask)
    try:
        written = save_dump(NEW, target, evidence={"schema": "x"}, force=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert len(written) == len(NEW) + 1
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {
        p.name: 0o600 for p in written
    }
    assert {p.name for p in target.iterdir()} == {p.name for p in written}


# --- 3. leftovers of an interrupted removal ------------------------------------------------


def _interrupt(monkeypatch: pytest.MonkeyPatch, name: str, times: int) -> list[int]:
    """Make os.<name> raise KeyboardInterrupt on its first *times* calls."""
    real: Callable[..., Any] = getattr(os, name)
    count = [0]

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        if count[0] <= times:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, interrupted)
    return count


def test_ctrl_c_while_removing_the_old_dump_still_removes_it(tmp_path, monkeypatch):
    target = tmp_path / "d"
    save_dump(OLD, target)
    count = _interrupt(monkeypatch, "unlink", 1)  # the first file of the old dump
    with pytest.raises(KeyboardInterrupt):
        save_dump(NEW, target, force=True)
    monkeypatch.undo()
    assert count[0] > 1  # the second pass ran
    assert _snapshot(target) == _new_dump_files()  # the new dump was already in place
    assert _hidden(tmp_path) == []


def test_what_an_interrupted_save_left_goes_on_the_next_save(tmp_path, monkeypatch):
    target = tmp_path / "d"
    save_dump(OLD, target)
    _interrupt(monkeypatch, "unlink", 10**6)  # both passes interrupted
    with pytest.raises(KeyboardInterrupt):
        save_dump(NEW, target, force=True)
    monkeypatch.undo()
    assert _snapshot(target) == _new_dump_files()
    [old] = _hidden(tmp_path)
    assert old.startswith(".epass-old-d-")
    stale_temp = tmp_path / ".epass-tmp-d-00000000abcd"  # a save killed mid-write, long ago
    stale_temp.mkdir()
    (stale_temp / "DG1.bin").write_bytes(b"x")
    long_ago = time.time() - 3600
    os.utime(stale_temp, (long_ago, long_ago))
    running = tmp_path / ".epass-tmp-d-00000000beef"  # a save running right now
    running.mkdir()
    not_ours = [".epass-old-d2-0123456789ab", ".epass-old-d-notours", ".epass-tmp-d-0123456789AB"]
    for name in not_ours:
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (long_ago, long_ago))
    everything = sorted([old, stale_temp.name, running.name, *not_ours])
    assert load_dump(target) == NEW
    assert _hidden(tmp_path) == everything  # reading removes nothing
    assert (stale_temp / "DG1.bin").read_bytes() == b"x"
    save_dump(NEW, target, force=True)
    assert _hidden(tmp_path) == sorted([running.name, *not_ours])


def test_an_old_dump_moved_aside_stays_while_the_target_is_missing(tmp_path):
    # if the target is not there, the folder moved aside may be the only copy
    kept = tmp_path / ".epass-old-d-0123456789ab"
    kept.mkdir()
    (kept / "DG1.bin").write_bytes(b"the only copy")
    with pytest.raises(DumpError, match="not a folder"):
        read_dump(tmp_path / "d")
    assert (kept / "DG1.bin").read_bytes() == b"the only copy"
    save_dump(NEW, tmp_path / "d")
    assert (kept / "DG1.bin").read_bytes() == b"the only copy"


# --- 4. memory bounds ----------------------------------------------------------------------


def test_a_real_dump_always_fits():
    for file in LdsFile:
        assert max_dump_file_size(file) >= max(file.max_size, MIB)
        assert max_dump_file_size(file) <= dump.MAX_DUMP_FILE
    assert max_dump_file_size(LdsFile.DG2) == 4 * MIB
    assert max_dump_file_size(LdsFile.DG1) == MIB
    # every file at its plausible size fits in all, several times over
    assert 3 * sum(file.max_size for file in LdsFile) < MAX_DUMP_TOTAL
    # and the total bound is no dead letter: files each within their bound can pass it
    assert sum(max_dump_file_size(file) for file in LdsFile) > MAX_DUMP_TOTAL


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.truncate(size)


def _no_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> bytes:
        raise AssertionError("read before the sizes were checked")

    monkeypatch.setattr(os, "read", fail)


def test_each_file_is_bounded_by_its_kind_before_reading(tmp_path, monkeypatch):
    (tmp_path / "EF_SOD.bin").write_bytes(b"\x77")
    _sparse(tmp_path / "DG1.bin", MIB + 1)
    _no_reads(monkeypatch)
    with pytest.raises(DumpError) as info:
        read_dump(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'DG1.bin'}: {MIB + 1} bytes, more than any LDS file "
        f"(DG1: at most {MIB} bytes)"
    )


def test_the_whole_dump_is_bounded_before_reading(tmp_path, monkeypatch):
    # each file within its own bound, 17 MiB in all (sparse: no disk used); read in name
    # order (DG10, DG2, ..., DG8, DG9), DG8 takes it past 16 MiB
    for name, size in [("DG2", 4), ("DG3", 4), ("DG4", 4), ("DG5", 1), ("DG6", 1), ("DG7", 1)]:
        _sparse(tmp_path / f"{name}.bin", size * MIB)
    for n in (8, 9, 10):
        _sparse(tmp_path / f"DG{n}.bin", MIB)
    _no_reads(monkeypatch)
    with pytest.raises(DumpError) as info:
        read_dump(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'DG8.bin'}: with it the LDS files of this dump exceed "
        f"{MAX_DUMP_TOTAL} bytes in all (MAX_DUMP_TOTAL)"
    )


def _shrinking_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make lstat and fstat report regular files as empty (files that grow after stat)."""

    def wrap(real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def lying(*args: Any, **kwargs: Any) -> os.stat_result:
            result = real(*args, **kwargs)
            if not stat.S_ISREG(result.st_mode):
                return result
            fields = list(result)
            fields[stat.ST_SIZE] = 0
            return os.stat_result(fields)

        return lying

    monkeypatch.setattr(os, "lstat", wrap(os.lstat))
    monkeypatch.setattr(os, "fstat", wrap(os.fstat))


def test_each_file_is_bounded_while_reading(tmp_path, monkeypatch):
    (tmp_path / "DG1.bin").write_bytes(b"\x61" * (MIB + 5))
    _shrinking_stat(monkeypatch)
    with pytest.raises(DumpError) as info:
        read_dump(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'DG1.bin'}: more than any LDS file (DG1: at most {MIB} bytes)"
    )


def test_the_whole_dump_is_bounded_while_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(dump, "MAX_DUMP_TOTAL", MIB + MIB // 2)
    (tmp_path / "DG2.bin").write_bytes(b"\x75" * MIB)
    (tmp_path / "DG3.bin").write_bytes(b"\x63" * MIB)
    _shrinking_stat(monkeypatch)
    with pytest.raises(DumpError) as info:
        read_dump(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'DG3.bin'}: with it the LDS files of this dump exceed "
        f"{MIB + MIB // 2} bytes in all (MAX_DUMP_TOTAL)"
    )


# --- 5. links, special files and exact names ----------------------------------------------


def test_a_symbolic_link_is_never_followed(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_bytes(b"\x65root:secret")
    target = tmp_path / "d"
    save_dump(NEW, target)
    (target / "DG5.bin").symlink_to(secret)
    with pytest.raises(DumpError) as info:
        read_dump(target)
    assert str(info.value) == (
        f"{target / 'DG5.bin'}: is a symbolic link; a dump is read without following links"
    )


def test_a_link_swapped_in_after_lstat_is_not_followed(tmp_path, monkeypatch):
    secret = tmp_path / "shadow"
    secret.write_bytes(b"\x65root:secret")
    target = tmp_path / "d"
    save_dump(NEW, target)
    (target / "DG5.bin").symlink_to(secret)
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda path, *a, **k: real_lstat(secret))  # a race, staged
    with pytest.raises(DumpError, match=r"DG5\.bin: is a symbolic link"):
        read_dump(target)


def test_a_fifo_is_refused_without_hanging(tmp_path):
    target = tmp_path / "d"
    save_dump(NEW, target)
    os.mkfifo(target / "DG7.bin")
    with pytest.raises(DumpError, match=r"DG7\.bin: not a regular file"):
        read_dump(target)


def test_only_exact_names_are_lds_files(tmp_path):
    target = tmp_path / "d"
    save_dump({"EF.SOD": b"\x77"}, target)
    for name in ("DG1.bin ", " DG2.bin", "DG3.bin\n", "DG\u0664.bin", "DG\uff15.bin", "\tDG6"):
        (target / name).write_bytes(b"not a data group")
    (target / "dg7.BIN").write_bytes(b"\x67")  # case does not matter
    assert load_dump(target) == {"EF.SOD": b"\x77", "DG7": b"\x67"}


# --- 6. cleanup never deletes what is not ours ---------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    """Every entry under *folder*, recursively, by relative path (links are not followed)."""
    out: dict[str, bytes] = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            p = Path(root) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = b"-> " + os.fsencode(os.readlink(p))
            elif p.is_dir():
                out[rel] = b"<dir>"
            elif p.is_file():
                out[rel] = p.read_bytes()
            else:
                out[rel] = b"<special>"
    return out


def _long_ago(path: Path) -> None:
    then = time.time() - 3600
    os.utime(path, (then, then), follow_symlinks=False)


def test_reading_never_deletes_a_sibling_that_looks_like_a_leftover(tmp_path):
    # the tester's case: user notes in a folder named as our leftovers
    notes = tmp_path / ".epass-old-good-0123456789ab" / "sub"
    notes.mkdir(parents=True)
    (notes / "n.txt").write_text("notes")
    temp = tmp_path / ".epass-tmp-good-0123456789ab"
    (temp / "sub").mkdir(parents=True)
    (temp / "sub" / "m.txt").write_text("more notes")
    _long_ago(temp)
    save_dump(NEW, tmp_path / "good")
    before = _tree(tmp_path)
    assert read_dump(tmp_path / "good").files == NEW
    assert load_dump(tmp_path / "good") == NEW
    assert _tree(tmp_path) == before
    assert (notes / "n.txt").read_text() == "notes"


def test_reading_changes_nothing_even_beside_real_leftovers(tmp_path):
    target = tmp_path / "d"
    save_dump(NEW, target)
    for prefix in (".epass-old-", ".epass-tmp-"):
        leftover = tmp_path / f"{prefix}d-0123456789ab"
        leftover.mkdir()
        (leftover / "DG1.bin").write_bytes(b"\x61")  # only dump files: still not read's to remove
        _long_ago(leftover)
    before = _tree(tmp_path)
    read_dump(target)
    assert _tree(tmp_path) == before
    with pytest.raises(DumpError, match="not a folder"):
        read_dump(tmp_path / "missing")
    assert _tree(tmp_path) == before


def _foreign_leftover(kind: str, leftover: Path, outside: Path) -> None:
    """Fill the stale folder *leftover* with dump files plus one thing that is not a dump file."""
    leftover.mkdir()
    (leftover / "DG1.bin").write_bytes(b"\x61")
    (leftover / EVIDENCE_NAME).write_text("{}")
    if kind == "subfolder":
        (leftover / "sub").mkdir()
        (leftover / "sub" / "DG2.bin").write_bytes(b"\x75")
    elif kind == "other file":
        (leftover / "n.txt").write_text("notes")
    elif kind == "hidden file":
        (leftover / ".DG2.bin").write_bytes(b"\x75")
    elif kind == "folder with an LDS name":
        (leftover / "DG2.bin").mkdir()
    elif kind == "link with an LDS name":
        (leftover / "DG2.bin").symlink_to(outside)
    elif kind == "fifo with an LDS name":
        os.mkfifo(leftover / "DG2.bin")
    elif kind == "oversized LDS file":
        _sparse(leftover / "DG1.bin", MIB + 1)
    elif kind == "oversized evidence":
        (leftover / EVIDENCE_NAME).write_bytes(b" " * (dump.MAX_EVIDENCE + 1))
    else:  # pragma: no cover
        raise AssertionError(kind)


LEFTOVER_KINDS = [
    "subfolder",
    "other file",
    "hidden file",
    "folder with an LDS name",
    "link with an LDS name",
    "fifo with an LDS name",
    "oversized LDS file",
    "oversized evidence",
]
EVIDENCE_NAME = dump.EVIDENCE_FILE


@pytest.mark.parametrize("kind", LEFTOVER_KINDS)
@pytest.mark.parametrize("prefix", [".epass-old-", ".epass-tmp-"])
def test_a_save_leaves_a_leftover_holding_anything_but_dump_files(tmp_path, prefix, kind):
    target = tmp_path / "d"
    save_dump(OLD, target)
    outside = tmp_path / "precious"
    outside.write_bytes(b"keep")
    leftover = tmp_path / f"{prefix}d-0123456789ab"
    _foreign_leftover(kind, leftover, outside)
    _long_ago(leftover)
    before = _tree(leftover)
    save_dump(NEW, target, force=True)
    assert _snapshot(target) == _new_dump_files()
    assert _tree(leftover) == before
    assert outside.read_bytes() == b"keep"
    assert _hidden(tmp_path) == [leftover.name]


@pytest.mark.parametrize("prefix", [".epass-old-", ".epass-tmp-"])
def test_a_save_never_follows_a_leftover_that_is_a_link(tmp_path, prefix):
    target = tmp_path / "d"
    save_dump(OLD, target)
    elsewhere = tmp_path / "other-dump"
    save_dump(OLD, elsewhere)  # only dump files, but not beside the target
    link = tmp_path / f"{prefix}d-0123456789ab"
    link.symlink_to(elsewhere, target_is_directory=True)
    _long_ago(link)
    before = _snapshot(elsewhere)
    save_dump(NEW, target, force=True)
    assert link.is_symlink()
    assert _snapshot(elsewhere) == before


def test_a_save_removes_a_leftover_holding_only_dump_files(tmp_path):
    target = tmp_path / "d"
    save_dump(OLD, target)
    for prefix in (".epass-old-", ".epass-tmp-"):
        leftover = tmp_path / f"{prefix}d-0123456789ab"
        leftover.mkdir()
        (leftover / "DG1.bin").write_bytes(b"\x61")
        (leftover / "0102").write_bytes(b"\x75")  # any LDS name, as when reading
        (leftover / EVIDENCE_NAME).write_text("{}")
        _sparse(leftover / "DG3.bin", max_dump_file_size(LdsFile.DG3))  # at its bound
        _long_ago(leftover)
    save_dump(NEW, target, force=True)
    assert _hidden(tmp_path) == []
    assert _snapshot(target) == _new_dump_files()


def _a_file(p: Path) -> None:
    p.write_text("mine")


def _a_folder_of_dump_files(p: Path) -> None:
    p.mkdir()
    (p / "DG2.bin").write_bytes(b"\x75")


def _a_link_out(p: Path) -> None:
    p.symlink_to(p.parent.parent / "precious")


def _a_fifo(p: Path) -> None:
    os.mkfifo(p)


def _a_folder(p: Path) -> None:
    p.mkdir()


def _oversized(p: Path) -> None:
    p.unlink(missing_ok=True)
    bound = dump.MAX_EVIDENCE if p.name == EVIDENCE_NAME else MIB  # 1 MiB: EF.COM, DG1
    _sparse(p, bound + 1)


@pytest.mark.parametrize(
    "name, make",
    [
        (".epass-tmp-notes.txt", _a_file),
        (".epass-old-photos", _a_folder_of_dump_files),
        (".epass-tmp-x-0123456789ab", _a_folder_of_dump_files),
        (".epass-old-y-0123456789ab", _a_file),
        (".DG1.bin", _a_file),
        ("0101.bin", _a_link_out),
        ("DG6.bin", _a_link_out),
        ("COM", _a_fifo),
        ("0101", _a_folder),
        ("DG1.bin", _oversized),
        ("EF_COM.bin", _oversized),
        ("epass-evidence.json", _oversized),
    ],
)
def test_force_counts_nothing_but_dump_files_as_ours(tmp_path, name, make):
    target = tmp_path / "d"
    save_dump(OLD, target)
    (tmp_path / "precious").write_bytes(b"keep")
    make(target / name)
    before = _tree(target)
    with pytest.raises(DumpError) as info:
        save_dump(NEW, target, force=True)
    assert str(info.value) == (
        f"{target} is not empty: it holds files that are not part of a dump "
        f"({name!r}); nothing was changed"
    )
    assert _tree(target) == before
    assert (tmp_path / "precious").read_bytes() == b"keep"
    assert _hidden(tmp_path) == []


def test_force_accepts_dump_files_at_their_bound(tmp_path):
    target = tmp_path / "d"
    save_dump(OLD, target)
    _sparse(target / "DG1.bin", max_dump_file_size(LdsFile.DG1))
    _sparse(target / "0102.bin", max_dump_file_size(LdsFile.DG2))
    (target / EVIDENCE_NAME).write_bytes(b" " * dump.MAX_EVIDENCE)
    save_dump(NEW, target, force=True)
    assert _snapshot(target) == _new_dump_files()
    assert _hidden(tmp_path) == []


def test_a_save_refuses_a_file_it_could_not_read_back(tmp_path):
    target = tmp_path / "d"
    with pytest.raises(ValueError, match=rf"DG1: {MIB + 1} bytes \(at most {MIB}\)"):
        save_dump({"DG1": b"\x61" * (MIB + 1)}, target)
    assert not target.exists() and _hidden(tmp_path) == []
    save_dump({"DG1": b"\x61" * MIB}, target)  # at the bound
    assert load_dump(target) == {"DG1": b"\x61" * MIB}


def test_a_file_that_appears_after_the_check_keeps_the_old_folder_whole(tmp_path, monkeypatch):
    target = tmp_path / "d"
    save_dump(OLD, target)
    real_check = dump._foreign_entries

    def check_then_race(folder: Path) -> list[str]:
        found = real_check(folder)
        (folder / "notes.txt").write_text("written meanwhile")  # after the check, before the swap
        return found

    monkeypatch.setattr(dump, "_foreign_entries", check_then_race)
    save_dump(NEW, target, force=True)
    assert _snapshot(target) == _new_dump_files()
    [kept] = _hidden(tmp_path)
    assert kept.startswith(".epass-old-d-")
    assert _snapshot(tmp_path / kept) == {
        **{dump_file_name(k): v for k, v in OLD.items()},
        "notes.txt": b"written meanwhile",
    }
