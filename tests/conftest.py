"""Shared fixtures: the public sample data in ../shared/samples (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT_SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
SAMPLES = Path(os.environ.get("EPASS_SAMPLES", _DEFAULT_SAMPLES))


@pytest.fixture(scope="session")
def samples() -> Path:
    """The sample folder; tests using it skip cleanly when it is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"public sample data not found at {SAMPLES} (set EPASS_SAMPLES)")
    return SAMPLES


def sample_bytes(samples: Path, relpath: str) -> bytes:
    """Read one sample file, skipping the test if that file is missing."""
    path = samples / relpath
    if not path.is_file():
        pytest.skip(f"sample file {relpath} not found under {samples}")
    return path.read_bytes()


@pytest.fixture(autouse=True)
def _isolated_epass_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test sees its own empty EPASS_HOME: no test reads or writes the user's trust store."""
    monkeypatch.setenv("EPASS_HOME", str(tmp_path_factory.mktemp("epass-home")))
