"""``epass read --reader NAME`` and the key options, over a virtual slot (no pcscd needed).

The PC/SC seam (:func:`epass.cli.source.open_card_source`) is replaced by a virtual
slot holding the built-in passport; the same path runs for ``--virtual`` with a key.
"""

from __future__ import annotations

import json

import pytest

from drivers.virtual.builder import specimen
from drivers.virtual.slot import NoCard, Presentation, VirtualSlot
from epass.cli import source as card_sources
from epass.cli.main import main
from epass.errors import NoReaderError

DOC = specimen()
LINE1, LINE2 = DOC.mrz.split()


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def slot(monkeypatch, tmp_path):
    """A virtual reader with the built-in passport on it; the CSCA as a --trust file."""
    opened: list[str | None] = []
    reader = VirtualSlot([Presentation(DOC.chip())], name="Virtual Reader 00 00")

    def open_card_source(name):
        opened.append(name)
        return reader

    monkeypatch.setattr(card_sources, "open_card_source", open_card_source)
    csca = tmp_path / "csca.der"
    csca.write_bytes(DOC.pki.csca_der)
    reader.opened = opened  # type: ignore[attr-defined]
    reader.csca = str(csca)  # type: ignore[attr-defined]
    return reader


@pytest.mark.parametrize(
    "key",
    [
        ["--mrz", f"{LINE1}\n{LINE2}"],
        ["--mrz", LINE1, "--mrz", LINE2],
        ["--mrz", LINE1, LINE2],  # further lines as arguments
        ["--mrz", LINE2],
        [
            "--document-number",
            "L898902C",
            "--date-of-birth",
            "740812",
            "--date-of-expiry",
            "340415",
        ],
    ],
)
def test_read_from_a_reader_with_each_key_form(capsys, slot, key):
    code, out, err = run(
        capsys, "read", "--reader", "Virtual", "--trust", slot.csca, "--json", *key
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["verdict"] == "VALID" and result["read"]["access"]["protocol"] == "BAC"
    assert slot.opened == ["Virtual"]


def test_reader_may_be_left_out_and_text_output_names_it(capsys, slot):
    code, out, err = run(capsys, "read", "--mrz", LINE2, "--trust", slot.csca)
    assert code == 0, err
    assert "Virtual Reader 00 00" in out and "VALID" in out
    assert slot.opened == [None]


def test_without_trust_the_verdict_is_indeterminate_and_says_why(capsys, slot):
    code, _out, err = run(capsys, "read", "--mrz", LINE2)
    assert code == 2
    assert "no --trust given" in err


def test_save_from_a_reader(capsys, slot, tmp_path):
    target = tmp_path / "dump"
    code, _out, err = run(
        capsys, "read", "--mrz", LINE2, "--trust", slot.csca, "--save", str(target), "--json"
    )
    assert code == 0, err
    assert (target / "DG1.bin").read_bytes() == DOC.files[
        next(f for f in DOC.files if f.label == "DG1")
    ]
    code, out, _ = run(capsys, "verify", str(target), "--trust", slot.csca, "--json")
    assert code == 0 and json.loads(out)["verdict"] == "VALID"


def test_virtual_with_a_key_opens_the_virtual_document_with_it(capsys):
    code, out, err = run(capsys, "read", "--virtual", "--mrz", LINE1, LINE2, "--json")
    assert code == 0, err
    assert json.loads(out)["verdict"] == "VALID"
    wrong = (
        "--document-number",
        "X1234567",
        "--date-of-birth",
        "740812",
        "--date-of-expiry",
        "340415",
    )
    code, out, _ = run(capsys, "read", "--virtual", *wrong, "--json")
    # The default profile offers PACE: a wrong MRZ is a wrong PACE password.
    assert code == 3 and json.loads(out)["error"]["type"] == "WrongPasswordError"


def test_no_document_within_the_wait(capsys, monkeypatch):
    empty = VirtualSlot([NoCard()], sleep=lambda s: None)
    monkeypatch.setattr(card_sources, "open_card_source", lambda name: empty)
    code, _out, err = run(capsys, "read", "--mrz", LINE2, "--wait", "0.5")
    assert code == 3 and "no document on the reader within 0.5 s" in err


def test_no_reader(capsys, monkeypatch):
    def missing(name):
        raise NoReaderError(f"no reader matches {name!r}")

    monkeypatch.setattr(card_sources, "open_card_source", missing)
    code, out, _ = run(capsys, "read", "--reader", "Nope", "--mrz", LINE2, "--json")
    assert code == 3
    assert json.loads(out)["error"] == {
        "type": "NoReaderError",
        "message": "no reader matches 'Nope'",
    }


def test_open_card_source_without_pcsc_support(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "drivers.pcsc":
            raise ModuleNotFoundError("No module named 'drivers.pcsc'", name="drivers.pcsc")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(NoReaderError, match="not supported"):
        card_sources.open_card_source("x")

    def no_pyscard(name, *args, **kwargs):
        if name == "drivers.pcsc":
            raise ModuleNotFoundError("No module named 'smartcard'", name="smartcard")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", no_pyscard)
    with pytest.raises(NoReaderError, match="pyscard"):
        card_sources.open_card_source("x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mrz", LINE2, "--can", "123456"], "give one key"),
        (["--mrz", LINE2, "--document-number", "L898902C"], "give one key"),
        (["--document-number", "L898902C", "--date-of-birth", "740812"], "needs --date-of-expiry"),
        (["--mrz", LINE2[:-1] + "0"], "wrong check digit"),
        (["--mrz", LINE1], "name line"),
        (["--mrz", "ABC"], "MRZ of 3 characters"),
        (["--can", "12a456"], "CAN must be 1 to 10 digits 0-9"),
        (
            ["--document-number", "L8989?2C", "--date-of-birth", "740812", "--date-of-expiry", "1"],
            "not allowed",
        ),
        ([], "give the key"),
        (["--virtual", "--reader", "x", "--mrz", LINE2], "not both"),
    ],
)
def test_key_errors_are_one_line_and_never_repeat_the_key(capsys, slot, args, message):
    code, _out, err = run(capsys, "read", *args)
    assert code == 3
    assert message in err and err.count("\n") == 1
    assert LINE2[:20] not in err and "740812" not in err
    assert slot.opened == []  # no reader is touched before the key is good
