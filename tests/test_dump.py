"""Dump folders (epass/dump.py): saved as a whole and atomically, read back with their evidence."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drivers.virtual.builder import specimen
from epass import dump
from epass.dump import (
    EVIDENCE_FILE,
    MAX_EVIDENCE,
    Dump,
    DumpError,
    load_dump,
    read_dump,
    save_dump,
)
from epass.lds.document import Document
from epass.lds.files import LdsFile

EVIDENCE = {
    "schema": "epass.dump.evidence/1",
    "epass_version": "0.1.0",
    "access": {"protocol": "BAC", "chip": "Ünïcode ok"},
    "not_read": {"DG3": "6982"},
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry of *folder*, hidden ones included (a folder entry maps to b'<dir>')."""
    return {p.name: (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(folder.iterdir())}


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


@pytest.fixture
def old_dump(tmp_path: Path) -> Path:
    """A complete older dump with a DG11 and evidence, in tmp_path/dump."""
    target = tmp_path / "dump"
    files = {"EF.COM": b"\x60old", "EF.SOD": b"\x77old", "DG1": b"\x61old", "DG11": b"\x6bold"}
    save_dump(files, target, evidence={"schema": "old"})
    return target


NEW = {"EF.COM": b"\x60new", "EF.SOD": b"\x77new", "DG1": b"\x61new", "DG2": b"\x75new"}


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_of_a_document_with_evidence(tmp_path):
    doc = specimen()
    target = tmp_path / "out" / "dump"  # the parent is created too
    written = save_dump(Document(doc.files), target, evidence=EVIDENCE)
    labelled = Document(doc.files).labelled()
    assert [p.name for p in written] == [dump.dump_file_name(n) for n in labelled] + [EVIDENCE_FILE]
    assert all(p.parent == target for p in written)
    read = read_dump(target)
    assert isinstance(read, Dump)
    assert read.files == labelled
    assert read.evidence == EVIDENCE
    assert read.folder == target
    assert load_dump(target) == labelled
    raw = (target / EVIDENCE_FILE).read_bytes()
    assert "Ünïcode".encode() in raw  # UTF-8, not \\u escapes
    assert list(json.loads(raw)) == sorted(EVIDENCE)
    assert _leftovers(tmp_path / "out") == []


def test_keys_may_be_lds_files_or_any_lds_name(tmp_path):
    files: dict[str | LdsFile, bytes] = {LdsFile.DG1: b"a", "ef011D.bin": b"b", "Datagroup2": b"c"}
    save_dump(files, tmp_path / "d")
    read = read_dump(tmp_path / "d")
    assert read.files == {"DG1": b"a", "DG2": b"c", "EF.SOD": b"b"}
    assert read.evidence is None
    assert not (tmp_path / "d" / EVIDENCE_FILE).exists()


def test_bad_input_is_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "d"
    with pytest.raises(ValueError, match="not an LDS file name"):
        save_dump({"photo.jpg": b"x"}, target)
    with pytest.raises(ValueError, match="two different contents"):
        save_dump({"DG1": b"a", "DG1.bin": b"b"}, target)
    with pytest.raises(ValueError, match="no files"):
        save_dump({}, target)
    with pytest.raises(ValueError):
        save_dump({"DG1": b"a"}, target, evidence={"x": float("nan")})
    with pytest.raises(TypeError):
        save_dump({"DG1": b"a"}, target, evidence={"x": object()})
    with pytest.raises(TypeError, match="mapping"):
        save_dump({"DG1": b"a"}, target, evidence=["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="evidence of"):
        save_dump({"DG1": b"a"}, target, evidence={"x": "y" * MAX_EVIDENCE})
    assert list(tmp_path.iterdir()) == []


# --- existing targets ----------------------------------------------------------------------


def test_an_empty_existing_folder_is_used(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    save_dump(NEW, target)
    assert load_dump(target) == NEW
    assert _leftovers(tmp_path) == []


def test_a_non_empty_folder_is_refused_without_force(old_dump):
    before = _snapshot(old_dump)
    with pytest.raises(DumpError) as info:
        save_dump(NEW, old_dump)
    assert str(info.value) == f"{old_dump} is not empty; use --force to replace it"
    assert _snapshot(old_dump) == before
    assert _leftovers(old_dump.parent) == []


def test_a_folder_holding_anything_counts_as_not_empty(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(DumpError, match="not empty"):
        save_dump(NEW, target)
    assert _snapshot(target) == {"notes.txt": b"mine"}


def test_force_replaces_the_whole_folder(old_dump):
    save_dump(NEW, old_dump, force=True)
    assert _snapshot(old_dump) == {dump.dump_file_name(k): v for k, v in NEW.items()}
    assert read_dump(old_dump).evidence is None  # no stale DG11, no stale evidence
    assert _leftovers(old_dump.parent) == []


def test_target_is_a_file(tmp_path):
    target = tmp_path / "d"
    target.write_bytes(b"keep")
    for force in (False, True):
        with pytest.raises(DumpError, match="exists and is not a folder") as info:
            save_dump(NEW, target, force=force)
        assert str(info.value).startswith(str(target))
    assert target.read_bytes() == b"keep"
    assert _leftovers(tmp_path) == []


# --- interruptions -------------------------------------------------------------------------


def _fail_after(
    monkeypatch: pytest.MonkeyPatch, name: str, calls: int, exc: BaseException
) -> list[int]:
    """Make os.<name> raise *exc* on its (calls + 1)-th call (once: a retry would work)."""
    real: Callable[..., Any] = getattr(os, name)
    count = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        if count[0] == calls + 1:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)
    return count


ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _raised(exc: BaseException) -> type[BaseException]:
    """What save_dump lets out: OS errors become DumpError, anything else passes as is."""
    return DumpError if isinstance(exc, OSError) else type(exc)


@pytest.mark.parametrize(
    "name, calls, exc",
    [
        ("write", 2, ENOSPC),  # disk full after two files
        ("write", 3, KeyboardInterrupt()),  # Ctrl-C while writing
        ("open", 1, ENOSPC),  # cannot even create the second file
        ("fsync", 5, OSError(errno.EIO, os.strerror(errno.EIO))),  # flushing the new folder
        ("replace", 0, ENOSPC),  # moving the old dump aside
        ("replace", 1, ENOSPC),  # putting the new one in place: the old one goes back
        ("replace", 1, KeyboardInterrupt()),  # Ctrl-C between the two renames
    ],
)
def test_an_interrupted_save_leaves_the_old_dump_byte_identical(
    old_dump, monkeypatch, name, calls, exc
):
    before = _snapshot(old_dump)
    count = _fail_after(monkeypatch, name, calls, exc)
    with pytest.raises(_raised(exc)) as info:
        save_dump(NEW, old_dump, evidence=EVIDENCE, force=True)
    monkeypatch.undo()
    assert count[0] > calls  # the failure did happen
    assert _snapshot(old_dump) == before
    assert _leftovers(old_dump.parent) == []
    if isinstance(exc, OSError):
        message = str(info.value)
        assert message.startswith(f"{old_dump}: ")
        assert f": {exc.strerror}" in message
        assert ".epass-" not in message  # the user's folder, not a temporary path
        assert info.value.__cause__ is exc


@pytest.mark.parametrize("exc", [ENOSPC, KeyboardInterrupt()])
def test_an_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch, exc):
    target = tmp_path / "d"
    _fail_after(monkeypatch, "write", 1, exc)
    with pytest.raises(_raised(exc)):
        save_dump(NEW, target)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_files_and_folders_are_flushed(tmp_path, monkeypatch):
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    save_dump(NEW, tmp_path / "d", evidence=EVIDENCE)
    monkeypatch.undo()
    assert len(synced) == len(NEW) + 1 + 2  # every file, the evidence, both folders


def test_unwritable_parent_names_the_folder(tmp_path, monkeypatch):
    # We may run as root, where chmod does not bite: the OS refusal is simulated.
    target = tmp_path / "d"
    monkeypatch.setattr(os, "mkdir", _raise(PermissionError(errno.EACCES, "Permission denied")))
    with pytest.raises(DumpError) as info:
        save_dump(NEW, target)
    monkeypatch.undo()
    assert str(info.value) == (
        f"{target}: cannot create a temporary folder beside it: Permission denied"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_parent_for_real(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(DumpError, match="Permission denied") as info:
            save_dump(NEW, parent / "d")
        assert str(info.value).startswith(str(parent / "d"))
    finally:
        parent.chmod(0o700)


def _raise(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


# --- reading -------------------------------------------------------------------------------


def test_hidden_files_and_leftover_folders_never_count(tmp_path):
    target = tmp_path / "d"
    save_dump({"DG1": b"a"}, target)
    (target / ".DG2.bin").write_bytes(b"hidden")
    leftover = target / ".epass-tmp-d-123"
    leftover.mkdir()
    (leftover / "DG3.bin").write_bytes(b"x")
    (target / "DG4.bin").mkdir()  # a folder with an LDS name is not a file
    assert load_dump(target) == {"DG1": b"a"}


@pytest.mark.parametrize(
    "content, match",
    [
        (b"[1, 2]", "must be a JSON object, not list"),
        (b'"text"', "must be a JSON object, not str"),
        (b"{not json", "not valid UTF-8 JSON"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": NaN}', "NaN is not JSON"),
        (b'{"a": -Infinity}', "-Infinity is not JSON"),
        (b'{"a": 1e999}', "number out of range: 1e999"),  # float("1e999") is inf
        (b'{"a": ' + b"7" * 5000 + b"}", "not valid UTF-8 JSON: Exceeds the limit"),  # int digits
        (b'{"a": "\xff"}', "not valid UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "200000 bytes, more than any evidence file"),
        (b"[" * 30_000 + b"]" * 30_000, "not valid UTF-8 JSON"),  # recursion, not a crash
    ],
)
def test_bad_evidence_is_reported_and_does_not_block_the_files(tmp_path, content, match):
    target = tmp_path / "d"
    save_dump({"DG1": b"a", "EF.SOD": b"s"}, target)
    (target / EVIDENCE_FILE).write_bytes(content)
    read = read_dump(target)
    assert read.files == {"DG1": b"a", "EF.SOD": b"s"}  # passive authentication needs only these
    assert read.evidence is None
    assert read.evidence_error is not None
    assert read.evidence_error.startswith(f"{target / EVIDENCE_FILE}: ")
    assert match in read.evidence_error
    assert "\n" not in read.evidence_error and len(read.evidence_error) <= 300
    assert load_dump(target) == read.files  # load_dump returns the files only


def test_good_or_missing_evidence_has_no_error(tmp_path):
    target = tmp_path / "d"
    save_dump({"DG1": b"a"}, target)
    assert read_dump(target).evidence_error is None
    save_dump({"DG1": b"a"}, target, evidence={"big": 10**40, "x": 1.5}, force=True)
    read = read_dump(target)
    assert read.evidence == {"big": 10**40, "x": 1.5}
    assert read.evidence_error is None


def test_evidence_that_is_not_a_regular_file_is_reported(tmp_path):
    target = tmp_path / "d"
    save_dump({"DG1": b"a"}, target)
    (target / EVIDENCE_FILE).mkdir()
    read = read_dump(target)
    assert read.evidence is None
    assert read.evidence_error == f"{target / EVIDENCE_FILE}: not a regular file"
    (target / EVIDENCE_FILE).rmdir()
    elsewhere = tmp_path / "evidence.json"
    elsewhere.write_text('{"schema": "epass.dump.evidence/1"}')
    (target / EVIDENCE_FILE).symlink_to(elsewhere)
    read = read_dump(target)
    assert read.evidence is None
    assert read.evidence_error == (
        f"{target / EVIDENCE_FILE}: is a symbolic link; a dump is read without following links"
    )
    assert read.files == {"DG1": b"a"}


def test_read_dump_errors(tmp_path):
    with pytest.raises(DumpError, match="not a folder"):
        read_dump(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / EVIDENCE_FILE).write_text("{}")
    with pytest.raises(DumpError, match="no LDS files"):
        read_dump(tmp_path)
    (tmp_path / "DG1.bin").write_bytes(b"a")
    (tmp_path / "EF_DG1.bin").write_bytes(b"b")
    with pytest.raises(DumpError, match=r"both DG1\.bin and EF_DG1\.bin hold DG1"):
        read_dump(tmp_path)


def test_huge_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(dump, "MAX_DUMP_FILE", 8)
    (tmp_path / "DG1.bin").write_bytes(b"123456789")
    with pytest.raises(DumpError, match="9 bytes, more than any LDS file") as info:
        read_dump(tmp_path)
    assert str(info.value).startswith(str(tmp_path / "DG1.bin"))


def test_a_dump_repr_shows_sizes_not_contents(tmp_path):
    from drivers.virtual import specimen

    save_dump(specimen().dump(), tmp_path / "d")
    text = repr(read_dump(tmp_path / "d"))
    assert "ERIKSSON" not in text and "L898902C" not in text
    assert "DG1 93 B" in text
