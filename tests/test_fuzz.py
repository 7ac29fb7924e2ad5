"""A short deterministic pass of tools/fuzz.py: bad bytes raise EpassError, nothing else.

The full run (``.venv/bin/python tools/fuzz.py --iterations 20000``) is a tool, not a test.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent / "tools"


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("epass_fuzz", TOOLS / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["epass_fuzz"] = module
    spec.loader.exec_module(module)
    return module


def test_parsers_only_raise_epass_errors(fuzz):
    results = fuzz.fuzz_parsers(250, seed=7)
    assert set(results) >= {"EF.COM", "DG1", "DG2", "DG14", "DG15", "EF.SOD", "MRZ", "TLV"}
    for name, out in results.items():
        assert out.failures == [], name
        assert out.rejected > 0, f"{name}: no mutation was rejected - the fuzzer is not biting"
        assert out.slowest < 1.0, name


def test_verify_reports_and_never_validates_altered_data(fuzz):
    out = fuzz.fuzz_verify(150, seed=7)
    assert out.failures == []
    assert out.runs == 150


def test_reader_against_a_lying_chip(fuzz):
    out = fuzz.fuzz_reader(60, seed=7)
    assert out.failures == []
    assert out.rejected > 0
