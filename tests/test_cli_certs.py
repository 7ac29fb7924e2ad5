"""``epass certs import|list|show|remove`` and the imported store in ``epass verify`` / ``read``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drivers.virtual.builder import specimen
from drivers.virtual.pki import make_test_pki
from epass.cli.main import main
from epass.dump import save_dump
from epass.pa.trust import TrustStore, default_store_folder
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
TEST_CSCA = ROOT / "certs" / "test" / "epass-virtual-test-csca.pem"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_import_list_show_remove(capsys):
    code, out, err = run(capsys, "certs", "import", str(TEST_CSCA))
    assert code == 0, err
    assert "1 added, 0 already present" in out and "1 anchors" in out
    code, out, _ = run(capsys, "certs", "import", str(TEST_CSCA))
    assert "0 added, 1 already present" in out
    code, out, _ = run(capsys, "certs", "list", "--json")
    [row] = json.loads(out)
    assert row["kind"] == "csca" and row["country"] == "UT"
    assert row["provenance"]["file"] == str(TEST_CSCA) and row["provenance"]["imported_at"]
    code, out, _ = run(capsys, "certs", "list", "--country", "DE")
    assert out == ""
    code, out, _ = run(capsys, "certs", "show", row["id"][:12])
    assert code == 0 and json.loads(out)["subject"].endswith("CN=epass TEST CSCA")
    code, _, err = run(capsys, "certs", "show", "ffff0000")
    assert code == 3 and "no item" in err
    code, out, _ = run(capsys, "certs", "remove", row["id"][:12])
    assert code == 0 and "removed csca" in out
    assert len(TrustStore.load(default_store_folder())) == 0


def test_verify_and_read_use_the_imported_store_unless_trust_is_given(capsys, tmp_path):
    save_dump(specimen().dump(), tmp_path / "d")
    code, _, err = run(capsys, "verify", str(tmp_path / "d"))
    assert code == 2 and "no --trust given" in err  # the store is empty
    run(capsys, "certs", "import", str(TEST_CSCA))
    code, out, err = run(capsys, "verify", str(tmp_path / "d"))
    assert code == 0, err
    assert "Verdict: VALID" in out and "no --trust given" not in err
    other = tmp_path / "other.der"
    other.write_bytes(make_test_pki(seed=b"cli-other", country="XA").csca_der)
    code, _, _ = run(capsys, "verify", str(tmp_path / "d"), "--trust", str(other))
    assert code == 2  # --trust replaces the store
    code, out, _ = run(capsys, "read", "--virtual")
    assert code == 0 and "Verdict: VALID" in out


def test_a_bad_file_in_the_store_is_a_warning_not_a_stop(capsys, tmp_path):
    run(capsys, "certs", "import", str(TEST_CSCA))
    folder = default_store_folder()
    for pem in (folder / "csca").iterdir():
        pem.write_text("garbage")
    save_dump(specimen().dump(), tmp_path / "d")
    code, _, err = run(capsys, "verify", str(tmp_path / "d"))
    assert code == 2 and "warning: trust store:" in err and "no CERTIFICATE PEM block" in err


def test_refused_files_exit_1_and_write_nothing(capsys, tmp_path):
    bad = tmp_path / "bad.cer"
    bad.write_bytes(b"\x30\x03\x02\x01\x01")
    code, out, _ = run(capsys, "certs", "import", str(bad))
    assert code == 1 and "refused #0" in out
    code, out, _ = run(capsys, "certs", "import", "/dev/zero")
    assert code == 1 and "REFUSED" in out and "not a regular file" in out
    assert not (default_store_folder() / "index.json").exists()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="no samples")
def test_import_master_lists_prints_a_summary_per_file(capsys):
    lists = SAMPLES / "master_lists"
    code, out, _ = run(capsys, "certs", "import", str(lists / "DE_ML_2026-05-28-08-28-45.ml"))
    assert code == 1 and "does not verify" in out and "nothing imported" in out
    code, out, err = run(capsys, "certs", "import", str(lists), "--json")
    assert code == 0, err
    files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    de = files["DE_ML_2026-05-28-08-28-45.ml"]
    assert de["verified"] is True and de["added"] + de["present"] + de["refused_entries"] == 588
    nl = files["NL_MASTERLIST_20211207.mls"]
    assert nl["verified"] is True and nl["added"] + nl["present"] == 306
    store = TrustStore.load(default_store_folder())
    assert len(store) == 682 and store.problems == ()
    assert os.path.isfile(default_store_folder() / "index.json")
