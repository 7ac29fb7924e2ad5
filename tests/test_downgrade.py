"""access.downgrade: EF.CardAccess as read against the PACEInfos DG14 and EF.CardSecurity sign."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import jsonschema
import pytest

import epass
from drivers.virtual import profiles
from drivers.virtual.builder import NO_CHIP_AUTH, build_document, card_access
from drivers.virtual.chip import ChipConfig
from drivers.virtual.pace_options import PaceOption
from epass.access.control import AccessPolicy, AccessProtocol, AccessResult
from epass.access.keys import MrzKey
from epass.dump import save_dump
from epass.inspection import ChipAuthenticityStatus, ReadSummary, inspect_dump, json_schema
from epass.inspection.downgrade import downgrade_check
from epass.lds import dg14
from epass.lds.document import Document
from epass.lds.files import LdsFile
from epass.pa import verify
from epass.reader import ReadOptions
from epass.verdict import CheckStatus, Verdict

AT = datetime(2026, 6, 1, tzinfo=UTC)
GM = PaceOption("GM", "ECDH", "AES-128", 13)
CAM = PaceOption("CAM", "ECDH", "AES-128", 13)


def _inspect(doc, *, policy=None):
    options = ReadOptions(access_policy=policy) if policy is not None else None
    with doc.transport() as transport:
        return epass.inspect(
            transport, MrzKey(doc.mrz_information), doc.trust_store(), at=AT, options=options
        )


def test_the_builder_signs_the_pace_infos_in_dg14():
    doc = profiles.document("bac-pace")
    parsed = dg14.parse(doc.files[LdsFile.DG14])
    assert [i.protocol for i in parsed.security_infos.pace_infos] == [GM.oid]
    assert parsed.security_infos.pace_infos[0].parameter_id == 13
    assert parsed.ca_public_keys  # chip authentication still there
    plain = build_document(pace=(GM,), pace_infos_in_dg14=False)
    assert not dg14.parse(plain.files[LdsFile.DG14]).security_infos.pace_infos


def test_an_intact_card_access_passes():
    inspection = _inspect(profiles.document("bac-pace"))
    check = inspection.check("access.downgrade")
    assert check.status is CheckStatus.PASS and not check.required
    assert "DG14" in check.detail
    assert inspection.verdict is Verdict.VALID


def test_bac_asked_for_on_an_intact_chip_is_no_downgrade():
    inspection = _inspect(profiles.document("bac-pace"), policy=AccessPolicy(bac_only=True))
    assert str(inspection.read.access.protocol) == "BAC"
    assert inspection.check("access.protocol").status is CheckStatus.SKIP
    assert inspection.check("access.downgrade").status is CheckStatus.PASS
    assert inspection.verdict is Verdict.VALID


def test_card_access_stripped_by_a_relay_is_a_downgrade_to_bac():
    doc = profiles.document("bac-pace").with_file(LdsFile.EF_CARD_ACCESS, None)
    inspection = _inspect(doc)
    assert inspection.read.access.protocol is AccessProtocol.BAC
    check = inspection.check("access.downgrade")
    assert check.status is CheckStatus.FAIL and check.required
    assert "BAC" in check.detail and "DG14" in check.detail
    assert check.evidence["missing"] == ("id-PACE-ECDH-GM-AES-CBC-CMAC-128 (parameterId 13)",)
    assert inspection.passive.verdict is Verdict.VALID  # the data are genuine
    assert inspection.chip.status is ChipAuthenticityStatus.GENUINE_CHIP  # and so is the chip
    assert inspection.verdict is Verdict.INVALID  # but the session was attacked
    assert inspection.reasons == ("access.downgrade",)
    jsonschema.validate(inspection.to_dict(), json_schema())


def test_a_stripped_cam_option_is_a_downgrade_to_a_weaker_pace():
    doc = build_document(pace=(GM, CAM))
    doc = replace(doc, chip_config=ChipConfig(bac=False))
    relayed = doc.with_file(LdsFile.EF_CARD_ACCESS, card_access([GM]))
    inspection = _inspect(relayed)
    assert inspection.read.access.pace is not None
    assert inspection.read.access.pace.mapping == "GM"
    check = inspection.check("access.downgrade")
    assert check.status is CheckStatus.FAIL
    assert "CAM" in str(check.evidence["missing"]) and "weaker" in check.detail
    assert inspection.verdict is Verdict.INVALID
    honest = _inspect(doc)
    assert honest.check("access.downgrade").status is CheckStatus.PASS
    assert honest.verdict is Verdict.VALID


def test_other_domain_parameters_count_as_different():
    doc = build_document(pace=(GM,))
    other = PaceOption("GM", "ECDH", "AES-128", 12)  # NIST P-256 instead of brainpoolP256r1
    relayed = doc.with_file(LdsFile.EF_CARD_ACCESS, card_access([other]))
    inspection = _inspect(relayed)
    check = inspection.check("access.downgrade")
    assert check.status is CheckStatus.FAIL
    assert any(f.code == "access.card_access_extra" for f in inspection.findings)


def test_no_signed_pace_infos_cannot_be_checked():
    inspection = _inspect(profiles.document("no-chip-auth"))  # PACE-GM, no DG14
    check = inspection.check("access.downgrade")
    assert check.status is CheckStatus.SKIP and not check.required
    assert inspection.verdict is Verdict.VALID
    bac = _inspect(profiles.document("bac"))
    assert bac.check("access.downgrade").status is CheckStatus.SKIP


def test_an_unproven_dg14_is_not_used_to_accuse():
    doc = profiles.document("bac-pace").with_file(LdsFile.EF_CARD_ACCESS, None)
    raw = bytearray(doc.files[LdsFile.DG14])
    raw[-1] ^= 0x01  # DG14 no longer matches EF.SOD
    tampered = doc.with_file(LdsFile.DG14, bytes(raw))
    with tampered.transport() as transport:
        inspection = epass.inspect(
            transport,
            MrzKey(doc.mrz_information),
            doc.trust_store(),
            at=AT,
            options=ReadOptions(chip_authentication=False),
        )
    check = inspection.check("access.downgrade")
    assert check.status is CheckStatus.SKIP
    assert any(f.code == "access.downgrade_unproven" for f in inspection.findings)
    assert inspection.verdict is Verdict.INVALID  # dg.hashes fails it
    assert "dg.hashes" in inspection.reasons


def test_card_security_is_a_signed_source_too():
    doc = build_document(pace=(GM, CAM), chip_auth=NO_CHIP_AUTH)  # no DG14: EF.CardSecurity only
    document = Document.from_labels({**doc.dump(), "EF.CardAccess": card_access([GM])})
    passive = verify(document, doc.trust_store(), at=AT)
    read = ReadSummary(AccessResult(AccessProtocol.BAC, True, (GM.label,)))
    check, _findings = downgrade_check(read, document, passive, doc.trust_store(), AT)
    assert check.status is CheckStatus.FAIL
    assert "EF.CardSecurity" in check.detail
    intact = Document.from_labels(doc.dump())
    passive = verify(intact, doc.trust_store(), at=AT)
    check, _ = downgrade_check(read, intact, passive, doc.trust_store(), AT)
    assert check.status is CheckStatus.PASS


def test_a_saved_downgraded_read_verifies_offline_to_the_same_verdict(tmp_path):
    doc = profiles.document("bac-pace").with_file(LdsFile.EF_CARD_ACCESS, None)
    inspection = _inspect(doc)
    save_dump(inspection.document, tmp_path / "dump", evidence=inspection.evidence())
    offline = inspect_dump(tmp_path / "dump", doc.trust_store(), at=AT)
    check = offline.check("access.downgrade")
    assert check.status is CheckStatus.FAIL
    assert offline.verdict is Verdict.INVALID


@pytest.mark.parametrize("strip", [True, False])
def test_the_pace_only_chip_refuses_a_stripped_read(strip):
    """A PACE-only chip whose EF.CardAccess a relay strips: BAC is refused, a clear error."""
    from epass.errors import AccessControlError

    doc = profiles.document("pace-only")
    if strip:
        doc = doc.with_file(LdsFile.EF_CARD_ACCESS, None)
        with pytest.raises(AccessControlError):
            _inspect(doc)
    else:
        assert _inspect(doc).check("access.downgrade").status is CheckStatus.PASS
