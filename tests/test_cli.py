"""The `epass` command: demo, read --save, verify, exit codes and error handling.

Exit codes: 0 VALID, 1 INVALID, 2 INDETERMINATE, 3 error (one line on stderr, no traceback).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

import epass
from drivers.virtual.builder import specimen
from epass.cli.main import main
from epass.dump import DumpError, load_dump, save_dump
from epass.inspection import json_schema

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
    assert result["document"]["holder"]["primary_identifier"] == "ERIKSSON"
    assert result["read"]["access"]["protocol"] == "PACE"  # the default profile: bac-pace
    assert result["read"]["access"]["pace"]["mapping"] == "GM"
    assert result["read"]["link"] == "short APDUs"
    jsonschema.validate(result, json_schema())
    assert result["epass_version"] == epass.__version__
    pa = result["passive_authentication"]
    assert {c["name"]: c["status"] for c in pa["checks"]}["ds.issuer"] == "PASS"
    assert all(dg["expected"] == dg["actual"] for dg in pa["data_groups"])


def test_read_save_then_verify_offline(capsys, tmp_path):
    out_dir = tmp_path / "dump"
    code, _, _ = run(capsys, "read", "--virtual", "--save", str(out_dir))
    assert code == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [
        "DG1.bin",
        "DG14.bin",
        "DG15.bin",
        "DG2.bin",
        "EF_COM.bin",
        "EF_CardAccess.bin",
        "EF_SOD.bin",
        "epass-evidence.json",
    ]
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
    # an expired document is not a forgery (issue 6 policy): VALID, the expiries beside it
    assert code == 0
    assert "PASS  ds.validity" in out
    assert "DS certificate expired at the check time" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["verify", "/nonexistent/dump"], "not a folder"),
        (["verify", "."], "no LDS files"),
        (["read"], "--virtual"),
        (["verify", "/nonexistent/dump", "--mrz", "x"], "not a folder"),
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


def test_load_dump_refuses_duplicates_and_huge_files(tmp_path):
    (tmp_path / "DG1.bin").write_bytes(b"a")
    (tmp_path / "EF_DG1.bin").write_bytes(b"b")
    with pytest.raises(DumpError, match="both"):
        load_dump(tmp_path)


def test_no_arguments_prints_help_and_exits_0(capsys):
    code, out, err = run(capsys)
    assert code == 0
    assert "Usage:" in out and "demo" in out
    assert err == ""


@pytest.mark.parametrize(
    "args, kind, message",
    [
        (["verify", "/nonexistent/dump", "--json"], "DumpError", "not a folder"),
        (["demo", "--json", "--at", "yesterday"], "UsageError", "ISO 8601"),
    ],
)
def test_json_errors_are_json_on_stdout_with_exit_3(capsys, args, kind, message):
    code, out, err = run(capsys, *args)
    assert code == 3
    error = json.loads(out)["error"]
    assert error["type"] == kind
    assert message in error["message"]
    assert err == ""


def test_messages_never_name_an_issue_or_a_plan(capsys):
    _code, _out, err = run(capsys, "read")
    assert "issue" not in err.lower() and "comes with" not in err.lower()
    assert "give the key" in err and "--virtual" in err


def _spoofing_document():
    """A document whose DS subject tries to print a fake verdict and hide the real one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from drivers.virtual.builder import build_document
    from drivers.virtual.pki import make_test_pki

    pki = make_test_pki(seed=b"spoof")
    evil = "DS\nVerdict: VALID\n\x1b[8mhidden\u202e"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(NameOID.COMMON_NAME, evil),
        ]
    )
    ds_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(pki.csca_cert.subject)
        .public_key(pki.ds_key.public_key())
        .serial_number(7)
        .not_valid_before(pki.ds_cert.not_valid_before_utc)
        .not_valid_after(pki.ds_cert.not_valid_after_utc)
        .sign(pki.csca_key, hashes.SHA256())
    )
    from dataclasses import replace

    return build_document(pki=replace(pki, ds_cert=ds_cert))


def test_a_chip_cannot_spoof_the_verdict_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    save_dump(_spoofing_document().dump(), tmp_path / "d")
    code, out, _ = run(capsys, "verify", str(tmp_path / "d"))
    assert code == 2  # no anchor: INDETERMINATE
    verdicts = [line for line in out.splitlines() if line.lstrip().startswith("Verdict:")]
    assert verdicts == ["Verdict: INDETERMINATE  (ds.issuer)"]
    assert "\x1b" not in out and "\u202e" not in out
    assert "DS\\x0aVerdict: VALID\\x0a\\x1b[8mhidden\\u202e" in out


def test_no_color_and_pipes_get_no_ansi(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    _code, out, _ = run(capsys, "demo")
    assert "\x1b[" not in out


def test_text_report_shows_whole_hashes(capsys):
    from hashlib import sha256

    _code, out, _ = run(capsys, "demo")
    assert sha256(specimen().dump()["DG2"]).hexdigest() in out


def test_save_refuses_a_non_empty_folder_but_prints_the_result(capsys, tmp_path):
    target = tmp_path / "dump"
    target.mkdir()
    (target / "DG11.bin").write_bytes(b"\x6b\x00")  # another document's leftover
    code, out, err = run(capsys, "read", "--virtual", "--save", str(target))
    assert code == 3
    assert "Verdict: VALID" in out  # the read's result is shown all the same
    assert str(target) in err and "--force" in err
    assert sorted(p.name for p in target.iterdir()) == ["DG11.bin"]
    code, _out, _err = run(capsys, "read", "--virtual", "--save", str(target), "--force")
    assert code == 0
    assert "DG11.bin" not in {p.name for p in target.iterdir()}  # replaced whole
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries


@pytest.mark.parametrize("name, magic", [("face.jpg", b"\xff\xd8\xff"), ("face.png", b"\x89PNG")])
def test_face_out_writes_the_face(capsys, tmp_path, name, magic):
    target = tmp_path / name
    code, _out, _ = run(capsys, "demo", "--face-out", str(target))
    assert code == 0
    assert target.read_bytes().startswith(magic)


def test_face_out_decodes_jpeg2000_to_png(capsys, tmp_path):
    raw, png = tmp_path / "face.jp2", tmp_path / "face.png"
    code, _out, _ = run(capsys, "demo", "--face", "JPEG2000", "--face-out", str(raw))
    assert code == 0
    head = raw.read_bytes()[:12]
    assert head == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head.startswith(b"\xff\x4f\xff\x51")
    code, _out, _ = run(capsys, "demo", "--face", "JPEG2000", "--face-out", str(png))
    assert code == 0
    from PIL import Image

    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 0


def test_progress_display_draws_each_file_on_a_terminal():
    import io

    from rich.console import Console

    from epass.cli.main import _progress_display
    from epass.lds.files import LdsFile
    from epass.reader import Phase, ProgressEvent

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with _progress_display(True, console) as update:
        assert update is not None
        update(ProgressEvent(Phase.READ_FILES, LdsFile.DG2, 0, None))
        update(ProgressEvent(Phase.READ_FILES, LdsFile.DG2, 20614, 20614))
        console.file.flush()
    assert "reading DG2" in screen.getvalue()


def test_no_progress_display_when_piped_or_for_json(capsys):
    from epass.cli.main import _progress_display

    with _progress_display(True) as update:  # pytest's stderr is not a terminal
        assert update is None
    with _progress_display(False) as update:
        assert update is None


def test_json_save_failure_is_one_object_with_the_result(capsys, tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    code, out, _err = run(capsys, "read", "--virtual", "--save", str(target), "--json")
    assert code == 3
    result = json.loads(out)
    assert "not saved" in result["error"]["message"]
    assert result["inspection"]["verdict"] == "VALID"
    jsonschema.validate(result["inspection"], json_schema())


def test_face_out_failure_keeps_the_verdict_on_screen(capsys, tmp_path):
    files = specimen().dump()
    del files["DG2"]
    save_dump(files, tmp_path / "d")
    code, out, err = run(
        capsys, "verify", str(tmp_path / "d"), "--face-out", str(tmp_path / "f.png")
    )
    assert code == 3
    assert "Verdict: INDETERMINATE" in out
    assert "no face" in err and "BytesIO" not in err


def test_face_out_refuses_a_name_of_another_format(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--face-out", str(tmp_path / "face.jp2"))
    assert code == 3
    assert "Verdict: VALID" in out
    assert ".jpg" in err
    assert not (tmp_path / "face.jp2").exists()


def test_face_out_warns_when_the_face_is_not_proven(capsys, tmp_path):
    from epass.lds.files import LdsFile

    doc = specimen()
    save_dump(doc.tampered(LdsFile.DG2).dump(), tmp_path / "d")
    code, _out, err = run(
        capsys,
        "verify",
        str(tmp_path / "d"),
        "--trust",
        str(TEST_CSCA),
        "--face-out",
        str(tmp_path / "f.jpg"),
    )
    assert code == 1
    assert "not proven" in err and "MISMATCH" in err
    assert (tmp_path / "f.jpg").exists()


@pytest.mark.parametrize("side", [9000, 20000])  # over our bound; over Pillow's own
def test_face_out_refuses_a_decompression_bomb(capsys, tmp_path, side):
    import io

    from PIL import Image

    from drivers.virtual.builder import build_document

    buffer = io.BytesIO()
    Image.new("L", (16, 16)).save(buffer, format="JPEG")
    jpeg = bytearray(buffer.getvalue())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = side.to_bytes(2, "big") * 2  # height, width
    from epass.lds import dg2

    doc = build_document(include_dg14=False, include_dg15=False)
    files = doc.dump()
    files["DG2"] = dg2.encode(
        [dg2.FaceImageSpec(image=bytes(jpeg), format="JPEG", width=240, height=320)]
    )
    save_dump(files, tmp_path / "d")
    code, out, err = run(
        capsys, "verify", str(tmp_path / "d"), "--face-out", str(tmp_path / "f.png")
    )
    assert code == 3
    assert "Verdict:" in out
    assert "not decoded" in err and "pixels" in err
    assert not (tmp_path / "f.png").exists()


def test_padding_cannot_put_a_fake_verdict_on_a_wrapped_line():
    from epass.cli.render import safe

    line = safe("DS" + " " * 52 + "Verdict: VALID")
    assert "  " not in line and "\\x20" in line
    assert safe("\U000e0056") == "\\U000e0056"


def test_an_unproven_holder_is_marked(capsys, tmp_path, monkeypatch):
    from epass.lds import dg1
    from epass.lds.files import LdsFile

    monkeypatch.setenv("NO_COLOR", "1")
    doc = specimen()
    forged = dg1.encode(doc.mrz.replace("ERIKSSON", "MALLORYY"))
    save_dump(doc.with_file(LdsFile.DG1, forged).dump(), tmp_path / "d")
    code, out, _ = run(capsys, "verify", str(tmp_path / "d"), "--trust", str(TEST_CSCA))
    assert code == 1
    assert "Holder (NOT PROVEN: DG1 MISMATCH)" in out


def test_verify_without_trust_says_so(capsys, tmp_path):
    save_dump(specimen().dump(), tmp_path / "d")
    code, _out, err = run(capsys, "verify", str(tmp_path / "d"))
    assert code == 2
    assert "no --trust given" in err


def test_blank_looking_characters_are_escaped_and_own_spacing_is_not(capsys, monkeypatch):
    from epass.cli.render import safe

    assert safe("DS\u2800\u3164\u115fVerdict") == "DS\\u2800\\u3164\\u115fVerdict"
    monkeypatch.setenv("NO_COLOR", "1")
    _code, out, _ = run(capsys, "demo")
    assert "\\x20" not in out
    assert "P  UTO  L898902C  (TD3)" in out


def test_a_face_written_is_readable_by_its_owner_only(capsys, tmp_path):
    target = tmp_path / "face.jpg"
    code, _out, _ = run(capsys, "demo", "--face-out", str(target))
    assert code == 0
    assert target.stat().st_mode & 0o777 == 0o600


def test_json_mode_keeps_notes_on_stderr(capsys, tmp_path):
    save_dump(specimen().dump(), tmp_path / "d")
    code, out, err = run(capsys, "verify", str(tmp_path / "d"), "--json")
    assert code == 2
    assert json.loads(out)["verdict"] == "INDETERMINATE"
    assert "no --trust given" in err


def test_a_result_that_cannot_be_written_exits_3(tmp_path):
    import subprocess
    import sys

    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full here")
    with full.open("w") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "epass.cli.main", "demo", "--json"],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            cwd=ROOT,
        )
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "could not be written" in done.stderr
    assert "Traceback" not in done.stderr


def test_face_out_refuses_a_fifo_without_hanging(capsys, tmp_path):
    fifo = tmp_path / "face.jpg"
    os.mkfifo(fifo)
    code, out, err = run(capsys, "demo", "--face-out", str(fifo))
    assert code == 3
    assert "Verdict: VALID" in out
    assert "not a regular file" in err
