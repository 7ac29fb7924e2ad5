"""The virtual eMRTD: chip, test-document builder, test PKI and in-process transport.

* :class:`VirtualChip` (``chip.py``) answers APDUs like a real chip: BAC,
  PACE (``pace.py``), secure messaging, READ BINARY in every form, access
  control, fault switches.
* ``profiles.py``: the virtual document profiles (``bac``, ``bac-pace``,
  ``pace-only``, ``pace-broken``, ``id-card-can``) and one-option PACE variants;
  ``pace_options.py``: the PACE options a document offers.
* :func:`build_document` / :func:`specimen` (``builder.py``) make complete test
  documents signed by the TEST PKI of ``pki.py`` (NOT A REAL CSCA).
* :class:`VirtualTransport` (``transport.py``) connects a chip in-process.
"""

from __future__ import annotations

from drivers.virtual.builder import (
    SPECIMEN_HOLDER,
    Holder,
    VirtualDocument,
    build_document,
    specimen,
)
from drivers.virtual.chip import ChipConfig, Faults, VirtualChip
from drivers.virtual.pki import TestPki, make_test_pki, sign_sod
from drivers.virtual.transport import VirtualTransport

__all__ = [
    "SPECIMEN_HOLDER",
    "ChipConfig",
    "Faults",
    "Holder",
    "TestPki",
    "VirtualChip",
    "VirtualDocument",
    "VirtualTransport",
    "build_document",
    "make_test_pki",
    "sign_sod",
    "specimen",
]
