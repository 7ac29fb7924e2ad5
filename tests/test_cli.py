"""The `epass` command: demo, read --save, verify, exit codes and error handling.

Exit codes: 0 VALID, 1 INVALID, 2 INDETERMINATE, 3 error (one line on stderr, no traceback).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drivers.virtual.builder import specimen
from epass.cli.main import main
from epass.dump import DumpError, load_dump, save_dump

ROOT = Path(__file__).resolve().parent.parent
TEST_CSCA = ROOT / "certs" / "test" / "epass-virtual-test-csca.pem"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_demo_prints_holder_checks_and_valid(capsys):
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "ERIKSSON, ANNA MARIA" in out
    assert "L898902C" in out
    assert "PASS  sod.signature" in out
    assert "Verdict: VALID" in out
    assert err == ""


def test_demo_json(capsys):
    code, out, _ = run(capsys, "demo", "--json", "--no-extended")
    assert code == 0
    result = json.loads(out)
    assert result["verdict"] == "VALID"
    assert result["document"]["fields"]["primary_identifier"] == "ERIKSSON"
    assert result["read"]["access_protocol"] == "BAC"
    assert result["read"]["link"] == "short APDUs"
    pa = result["passive_authentication"]
    assert {c["name"]: c["status"] for c in pa["checks"]}["ds.issuer"] == "PASS"
    assert all(dg["expected"] == dg["actual"] for dg in pa["data_groups"])


def test_read_save_then_verify_offline(capsys, tmp_path):
    out_dir = tmp_path / "dump"
    code, _, _ = run(capsys, "read", "--virtual", "--save", str(out_dir))
    assert code == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["DG1.bin", "DG14.bin", "DG15.bin", "DG2.bin", "EF_COM.bin", "EF_SOD.bin"]
    code, out, _ = run(capsys, "verify", str(out_dir), "--trust", str(TEST_CSCA))
    assert code == 0
    assert "Verdict: VALID" in out
    code, out, _ = run(capsys, "verify", str(out_dir))
    assert code == 2  # no CSCA: INDETERMINATE
    (out_dir / "DG2.bin").write_bytes((out_dir / "DG2.bin").read_bytes()[:-1] + b"\x00")
    code, out, _ = run(capsys, "verify", str(out_dir), "--trust", str(TEST_CSCA), "--json")
    assert code == 1
    result = json.loads(out)
    assert result["verdict"] == "INVALID"
    statuses = {dg["name"]: dg["status"] for dg in result["passive_authentication"]["data_groups"]}
    assert statuses["DG2"] == "MISMATCH"


def test_verify_accepts_other_naming_schemes(capsys, tmp_path):
    doc = specimen()
    for label, data in doc.dump().items():
        name = {"EF.COM": "EF.COM", "EF.SOD": "ef011D.bin"}.get(label, f"Datagroup{label[2:]}.bin")
        (tmp_path / name).write_bytes(data)
    code, _, err = run(capsys, "verify", str(tmp_path), "--trust", str(TEST_CSCA))
    assert code == 0, err


def test_verify_at_a_time_after_the_ds_expired(capsys, tmp_path):
    save_dump(specimen().dump(), tmp_path)
    code, out, _ = run(
        capsys, "verify", str(tmp_path), "--trust", str(TEST_CSCA), "--at", "2050-01-01"
    )
    assert code == 1
    assert "FAIL  ds.validity" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["verify", "/nonexistent/dump"], "not a folder"),
        (["verify", "."], "no LDS files"),
        (["read"], "--virtual"),
        (["demo", "--at", "yesterday"], "ISO 8601"),
        (["nonsense"], "No such command"),
    ],
)
def test_errors_exit_3_with_one_line(capsys, args, message):
    code, _out, err = run(capsys, *args)
    assert code == 3
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_garbage_sod_is_a_failed_check_not_a_crash(capsys, tmp_path):
    files = specimen().dump()
    files["EF.SOD"] = b"\x77\x03\x30\x01\x00"
    save_dump(files, tmp_path)
    code, out, _err = run(capsys, "verify", str(tmp_path), "--trust", str(TEST_CSCA))
    assert code == 1
    assert "FAIL  sod.parse" in out


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "demo" in out and "verify" in out


def test_save_dump_is_atomic(tmp_path, monkeypatch):
    save_dump({"DG1": b"old"}, tmp_path)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(DumpError, match="No space left"):
        save_dump({"DG1": b"new"}, tmp_path, force=True)  # a non-empty folder needs force
    monkeypatch.undo()
    assert (tmp_path / "DG1.bin").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["DG1.bin"]  # no temporary left behind


def test_load_dump_refuses_duplicates_and_huge_files(tmp_path):
    (tmp_path / "DG1.bin").write_bytes(b"a")
    (tmp_path / "EF_DG1.bin").write_bytes(b"b")
    with pytest.raises(DumpError, match="both"):
        load_dump(tmp_path)
