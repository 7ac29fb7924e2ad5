"""PACE against the public samples: EF.CardAccess options, explicit parameters, a real CAM run.

Samples (../shared/samples, see its README; skipped when absent):
BSI EAC worked example (HJP test card) ecdh/ and dh/; the German eID "dan";
openpace's test cards (one with PACE-CAM, one with explicit parameters);
DE_CardSecurity.bin, the EF.CardSecurity of a real German passport whose
PACE-CAM transcript (gmrtd's TestDoPace_CAM_ECDH_DE) gives the CAM vectors below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms

from epass.access import pace
from epass.errors import AccessControlError
from epass.lds import security_infos as si
from tests.conftest import sample_bytes


def _card_access(samples: Path, path: str) -> si.SecurityInfos:
    return si.parse_security_infos(sample_bytes(samples, path), file="EF.CardAccess")


def _card_security_infos(samples: Path, path: str) -> si.SecurityInfos:
    content = cms.ContentInfo.load(sample_bytes(samples, path))["content"]["encap_content_info"]
    return si.parse_security_infos(content["content"].native, file="EF.CardSecurity")


def _options(infos: si.SecurityInfos) -> list[tuple[str, str, int | None, str]]:
    out = []
    for info in infos.pace_infos:
        alg = pace.PaceAlgorithm.from_oid(info.protocol)
        group = pace.pace_group(info, infos.pace_domain_parameter_infos)
        out.append((alg.name, group.name, info.parameter_id, info.protocol))
    return out


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "bsi_eac_worked_example/ecdh/EF_CardAccess.bin",
            [("PACE-ECDH-GM-AES-128", "brainpoolP256r1", 13)],
        ),
        (
            "bsi_eac_worked_example/dh/EF_CardAccess.bin",
            [("PACE-DH-GM-AES-128", "1024-bit MODP Group with 160-bit Prime Order Subgroup", 0)],
        ),
        ("de_eid_dan/EF_CardAccess.bin", [("PACE-ECDH-GM-AES-128", "brainpoolP256r1", 13)]),
        (
            "cardaccess_misc/EF_CardAccess_openpace_new_testcard.bin",
            [("PACE-ECDH-GM-AES-128", "brainpoolP256r1", 13)],
        ),
        (
            "cardaccess_misc/EF_CardAccess_openpace_ca3.bin",
            [
                ("PACE-ECDH-GM-AES-128", "brainpoolP256r1", 13),
                ("PACE-ECDH-CAM-AES-128", "brainpoolP256r1", 13),
            ],
        ),
        ("cardaccess_misc/EF_CardAccess_openpace_slowenia.bin", []),
    ],
)
def test_card_access_pace_options(
    samples: Path, path: str, expected: list[tuple[str, str, int | None]]
) -> None:
    infos = _card_access(samples, path)
    assert [o[:3] for o in _options(infos)] == expected
    for name, _, parameter_id, oid in _options(infos):  # and the MSE:Set AT each would send
        data = pace.mse_set_at_data(
            pace.PaceAlgorithm.from_oid(oid), pace.PasswordReference.CAN, parameter_id
        )
        assert pace.parse_mse_set_at(data).parameter_id == parameter_id, name


def test_old_testcard_explicit_parameters_refused(samples: Path) -> None:
    """openpace's old test card: no parameterId, one PACEDomainParameterInfo whose algorithm is
    the pre-standard OID 0.4.0.127.0.7.1.1.5.2.2.2 (neither standardizedDomainParameters nor
    id-ecPublicKey, 9303-11 §9.2.2): parsed, but not a usable PACE option (fails closed)."""
    from epass.errors import UnsupportedAlgorithmError

    infos = _card_access(samples, "cardaccess_misc/EF_CardAccess_openpace_old_testcard.bin")
    (info,) = infos.pace_infos
    assert (info.parameter_id, info.version, info.mapping) == (None, 1, "GM")
    (dp,) = infos.pace_domain_parameter_infos
    assert dp.explicit and dp.algorithm == "0.4.0.127.0.7.1.1.5.2.2.2"
    with pytest.raises(UnsupportedAlgorithmError):
        pace.pace_group(info, infos.pace_domain_parameter_infos)


def test_unknown_infos_kept(samples: Path) -> None:
    infos = _card_access(samples, "cardaccess_misc/EF_CardAccess_openpace_ca3.bin")
    unknown = {i.protocol for i in infos.unknown}
    assert "0.4.0.127.0.7.2.2.11.1.2.3" in unknown  # PSA, kept raw
    assert all(i.raw for i in infos.unknown)


def test_parse_security_infos_default_file(samples: Path) -> None:
    """Public API: parse_security_infos(data) with .pace_infos (EF.CardAccess by default)."""
    raw = sample_bytes(samples, "de_eid_dan/EF_CardAccess.bin")
    assert si.parse_security_infos(raw).pace_infos[0].parameter_id == 13


@pytest.mark.parametrize("kind", ["ecdh", "dh"])
def test_bsi_worked_example_keys_fit_pace_group(samples: Path, kind: str) -> None:
    """The worked example's CA public key (EF.CardSecurity) is a valid element of its PACE group."""
    access = _card_access(samples, f"bsi_eac_worked_example/{kind}/EF_CardAccess.bin")
    group = pace.pace_group(access.pace_infos[0], ())
    security = _card_security_infos(samples, f"bsi_eac_worked_example/{kind}/EF_CardSecurity.bin")
    keys = security.ca_public_keys
    assert keys
    raw = keys[0].public_key
    if group.kind == "DH":  # BIT STRING holds a DER INTEGER for DH
        from asn1crypto import core

        raw = group.encode(core.Integer.load(raw).native)
    group.decode(raw)  # raises if off the group


# --- PACE-CAM of a real German passport (gmrtd TestDoPace_CAM_ECDH_DE) -------------------------

CAM_KS_ENC = bytes.fromhex("a8e85e938514ec67ae33cda3d43d3c48")
CAM_A_IC = bytes.fromhex(
    "b3ae8830311b1d5605777f47cb4ed028346cd00105d32859de127da3d8398865358f26f08ebe410864eaf6e39f33f3f5"
)
CAM_PK_MAP_IC = bytes.fromhex(
    "04 76dc295c4fb14237d87318d70967e25ec45f74d6fd4aff588c90efb3d868f05b"
    "   450ba6b64967227c2246dbe2905522c8086dac7f3bbe5cf3b192f0a0c2d97ee5".replace(" ", "")
)


def test_cam_real_passport(samples: Path) -> None:
    """§4.4.3.5.2: CA_IC = D(KS_enc, A_IC), then PK_map,IC = CA_IC · PK_IC with the CA key of
    EF.CardSecurity whose keyId is 13; the other key (keyId 72) does not satisfy it."""
    from epass.access.pace_groups import standardized_group

    group = standardized_group(13)
    ca_ic = pace.decrypt_chip_authentication_data(CAM_KS_ENC, CAM_A_IC, group)
    assert pace.encrypt_chip_authentication_data(CAM_KS_ENC, ca_ic, group) == CAM_A_IC
    keys = {
        k.key_id: k
        for k in _card_security_infos(samples, "real_world_sod/DE_CardSecurity.bin").ca_public_keys
    }
    evidence = pace.CamEvidence(ca_ic, CAM_PK_MAP_IC, group).verify(keys[13])
    assert evidence.key_id == 13 and evidence.verified_key == keys[13].public_key
    with pytest.raises(AccessControlError) as err:
        pace.CamEvidence(ca_ic, CAM_PK_MAP_IC, group).verify(keys[72])
    assert err.value.step == pace.STEP_CAM


def test_cam_data_malformed() -> None:
    from epass.access.pace_groups import standardized_group

    group = standardized_group(13)
    for bad in (b"", CAM_A_IC[:-1], CAM_A_IC + bytes(16), CAM_A_IC[:-16] + bytes(16)):
        with pytest.raises(AccessControlError) as err:
            pace.decrypt_chip_authentication_data(CAM_KS_ENC, bad, group)
        assert err.value.step == pace.STEP_CAM
