"""The fraud-scenario library (drivers.virtual.scenarios): epass scores every scenario right."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from drivers.virtual import scenarios
from drivers.virtual.scenarios import SCENARIOS, Expected, check_scenario, scenario
from drivers.virtual.vpcd import GET_ATR
from epass.access.keys import MrzKey
from epass.cli.main import cli
from epass.inspection import inspect
from tests.test_vpcd import FakeVpcd, VpcdLink, _emulate, _stop


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_epass_scores_every_scenario_right(name):
    outcomes = check_scenario(SCENARIOS[name])
    assert outcomes
    for outcome in outcomes:
        assert outcome.passed, (outcome.reading, outcome.expected, outcome.got, outcome.detail)


def test_the_library_covers_the_patterns_examiners_train_on():
    keys = {name: s.expected for name, s in SCENARIOS.items()}
    genuine = [n for n in keys if n.startswith("genuine-")]
    assert len(genuine) >= 4 and all(keys[n].verdict == "VALID" for n in genuine)
    frauds = set(keys) - set(genuine) - {"expired-document", "pace-only-bac-downgrade"}
    for name in frauds:
        expected = keys[name]
        # a fraud is never VALID: it names failing checks, is unproven, or ends with an error
        assert expected.error is not None or expected.verdict != "VALID", name
        assert expected.error is not None or expected.failed or expected.verdict, name
    assert keys["expired-document"] == Expected("VALID", (), "NOT_CHECKED", True)
    assert keys["cloned-chip"].chip == "CLONE_SUSPECTED"
    assert keys["card-access-stripped"].failed == ("access.downgrade",)
    downgrade = SCENARIOS["pace-only-bac-downgrade"].readings
    assert [r.label for r in downgrade] == ["default", "--bac-only"]
    assert downgrade[1].expected.error == "AccessControlError"
    assert keys["chip-stops-mid-read"].error == "CardRemovedError"


def test_a_wrong_answer_is_scored_as_a_failure():
    """The scorer is not a rubber stamp: a key that expects VALID fails on a fraud."""
    fraud = SCENARIOS["photo-substituted"]
    wrong = scenarios.Scenario(
        fraud.name,
        fraud.description,
        fraud.examiner,
        (scenarios.Reading("default", Expected("VALID", (), "NOT_CHECKED")),),
        fraud.stage,
    )
    (outcome,) = check_scenario(wrong)
    assert not outcome.passed
    assert outcome.got.failed == ("dg.hashes",)
    error_key = scenarios.Scenario(
        "x",
        "",
        "",
        (scenarios.Reading("default", Expected(error="CardRemovedError")),),
        fraud.stage,
    )
    assert not check_scenario(error_key)[0].passed  # a verdict where an error was due


def test_unknown_scenario_names_the_known_ones():
    with pytest.raises(KeyError) as info:
        scenario("nope")
    assert "genuine-bac" in str(info.value)


def test_cli_list_and_check(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(cli, ["scenarios", "list"])
    assert listed.exit_code == 0
    for name in SCENARIOS:
        assert name in listed.output
    assert "expected (--bac-only): error AccessControlError" in listed.output
    as_json = json.loads(runner.invoke(cli, ["scenarios", "list", "--json"]).output)
    assert [s["name"] for s in as_json["scenarios"]] == list(SCENARIOS)
    first = as_json["scenarios"][0]
    assert first["readings"][0]["expected"] == {
        "verdict": "VALID",
        "failed": [],
        "chip": "NOT_CHECKED",
    }
    assert first["printed_mrz"].startswith("P<UTO")
    checked = runner.invoke(cli, ["scenarios", "check"])
    assert checked.exit_code == 0, checked.output
    total = sum(len(s.readings) for s in SCENARIOS.values())
    assert f"{total}/{total} scored right" in checked.output
    report = json.loads(runner.invoke(cli, ["scenarios", "check", "--json"]).output)
    assert report["passed"] == report["total"] == total
    assert all(row["pass"] for row in report["outcomes"])
    exported = runner.invoke(cli, ["scenarios", "export", "ds-revoked", str(tmp_path / "x")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "x" / "csca-1.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE")
    assert (tmp_path / "x" / "crl-1.pem").read_bytes().startswith(b"-----BEGIN X509 CRL")
    assert json.loads((tmp_path / "x" / "expected.json").read_text())["name"] == "ds-revoked"


def test_cli_check_exits_1_when_a_scenario_scores_wrong(monkeypatch):
    real = scenarios.check_all

    def one_wrong():
        outcomes = real()
        from dataclasses import replace

        return [replace(outcomes[0], passed=False), *outcomes[1:]]

    monkeypatch.setattr(scenarios, "check_all", one_wrong)
    result = CliRunner().invoke(cli, ["scenarios", "check"])
    assert result.exit_code == 1
    assert "FAIL" in result.output


@pytest.mark.parametrize("name", ["card-access-stripped", "data-page-altered"])
def test_emulate_serves_a_scenario_through_vpcd(name):
    item = scenario(name)
    staged = item.stage()
    fake = FakeVpcd()
    process = _emulate(fake.port, "--scenario", name, "--no-keyboard")
    try:
        fake.accept(timeout=20)
        fake.send(bytes([GET_ATR]))
        atr = fake.recv()
        result = inspect(
            VpcdLink(fake, atr),
            MrzKey.from_mrz(staged.printed_mrz),
            staged.trust_store,
            at=scenarios.AT,
            mrz=staged.printed_mrz,
        )
        failed = tuple(sorted(c.name for c in result.checks if c.status.value == "FAIL"))
        assert result.verdict.value == item.expected.verdict
        assert failed == item.expected.failed
    finally:
        code, err = _stop(process)
        fake.close()
    assert code == 0, err
    assert f"serving scenario {name!r}" in err


def test_emulate_unknown_scenario():
    result = CliRunner().invoke(cli, ["emulate", "--scenario", "nope", "--no-keyboard"])
    assert result.exit_code != 0
    assert "no scenario 'nope'" in result.output
