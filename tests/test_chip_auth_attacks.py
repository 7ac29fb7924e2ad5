"""Attacks on chip authenticity found in review (issue 9): each must never be VALID.

Every key is a TEST key derived by the virtual builder from a public seed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drivers.virtual import profiles
from drivers.virtual.builder import VirtualDocument
from epass.access.keys import MrzKey
from epass.inspection import ChipAuthenticityStatus, Inspection, inspect
from epass.lds import com
from epass.lds.files import LdsFile
from epass.pa import TrustStore
from epass.verdict import CheckStatus, Verdict

AT = datetime(2027, 6, 1, tzinfo=UTC)


def _inspect(doc: VirtualDocument, store: TrustStore | None = None) -> Inspection:
    with doc.transport() as transport:
        return inspect(
            transport,
            MrzKey(doc.mrz_information),
            doc.trust_store() if store is None else store,
            at=AT,
        )


def _without(doc: VirtualDocument, *files: LdsFile, relist: bool = False) -> VirtualDocument:
    for file in files:
        doc = doc.with_file(file, None)
    if relist:  # EF.COM is not signed: a forger lists only what the clone serves
        kept = [f for f in doc.files if f.is_data_group]
        doc = doc.with_file(LdsFile.EF_COM, com.encode(kept))
    return doc


@pytest.mark.parametrize("relist", [False, True], ids=["ef-com-untouched", "ef-com-rewritten"])
def test_a_clone_that_withholds_dg14_and_dg15_is_clone_suspected(relist: bool):
    # The genuine files on a blank chip, which answers 6A82 for DG14 and DG15 so that no
    # chip authentication can run: EF.SOD still signs both files, so the issuer put them
    # on the chip. It read as "offers no chip authentication" and VALID.
    original = profiles.document("bac-pace").cloned()
    clone = _without(original, LdsFile.DG14, LdsFile.DG15, relist=relist)
    inspection = _inspect(clone)
    assert inspection.passive.verdict is Verdict.VALID  # the data are the state's
    ca = inspection.check("chip.chip_authentication")
    aa = inspection.check("chip.active_authentication")
    assert ca.status is CheckStatus.FAIL and aa.status is CheckStatus.FAIL
    assert "withholds its DG15" in aa.detail and "6A82" in str(aa.evidence["not_read"])
    assert inspection.chip.status is ChipAuthenticityStatus.CLONE_SUSPECTED
    assert inspection.verdict is Verdict.INVALID
    assert "offers no chip authentication" not in inspection.chip.detail


def test_a_clone_that_withholds_only_dg15_of_an_aa_document_is_clone_suspected():
    clone = _without(profiles.document("aa-rsa-2048").cloned(), LdsFile.DG15)
    inspection = _inspect(clone)
    assert inspection.check("chip.active_authentication").status is CheckStatus.FAIL
    assert inspection.verdict is Verdict.INVALID


def test_a_withheld_key_file_under_an_unproven_sod_is_never_valid():
    clone = _without(profiles.document("bac-pace").cloned(), LdsFile.DG14, LdsFile.DG15)
    inspection = _inspect(clone, TrustStore())
    check = inspection.check("chip.active_authentication")
    assert check.status is CheckStatus.SKIP and check.required
    assert inspection.verdict is Verdict.INDETERMINATE


def test_a_genuine_document_without_dg14_dg15_in_sod_stays_not_checked():
    inspection = _inspect(profiles.document("no-chip-auth"))
    assert inspection.chip.status is ChipAuthenticityStatus.NOT_CHECKED
    assert inspection.verdict is Verdict.VALID


def test_the_hiding_clone_is_in_the_fraud_library_and_scored_right():
    from drivers.virtual.scenarios import check_scenario, scenario

    item = scenario("cloned-chip-hiding-keys")
    outcomes = check_scenario(item)
    assert outcomes and all(o.passed for o in outcomes)
    assert "chip CLONE SUSPECTED" in outcomes[0].got.summary()  # the examiner's words
