"""The access-control policy (epass.access.control), the virtual profiles, the builder's
EF.CardAccess / EF.CardSecurity, and the CLI flags that set them.

ICAO Doc 9303-11 §4.2: PACE when EF.CardAccess offers it; BAC otherwise or on request;
a fallback from PACE to BAC only when the caller allows it, and always reported.
"""

from __future__ import annotations

import json

import pytest

from drivers.virtual import profiles
from drivers.virtual.builder import build_document, card_access, td1_mrz
from drivers.virtual.pace_options import PaceOption
from epass import cms
from epass.access.control import (
    AccessPolicy,
    AccessProtocol,
    CardAccessOffer,
    fallback_allowed,
    pace_option_problem,
    pace_strength,
    plan_access,
)
from epass.access.keys import CanKey, MrzKey
from epass.cli.main import main
from epass.errors import AccessControlError, LocalProtocolError, ParseError
from epass.lds import card_security, mrz
from epass.lds.files import LdsFile
from epass.lds.security_infos import encode_pace_info, encode_security_infos, parse_security_infos

MRZ = MrzKey("L898902C<369080619406236")


def offer(*options: PaceOption, raw: list[bytes] | None = None) -> CardAccessOffer:
    data = card_access(options) if raw is None else encode_security_infos(raw)
    return CardAccessOffer(present=True, security_infos=parse_security_infos(data))


GM128 = PaceOption("GM", "ECDH", "AES-128", 13)
GM256 = PaceOption("GM", "ECDH", "AES-256", 16)
IM256 = PaceOption("IM", "ECDH", "AES-256", 16)
CAM128 = PaceOption("CAM", "ECDH", "AES-128", 13)
DH3DES = PaceOption("GM", "DH", "3DES", 0)
DH128 = PaceOption("GM", "DH", "AES-128", 2)
GM3DES = PaceOption("GM", "ECDH", "3DES", 13)


# -- choosing ---------------------------------------------------------------------------


def test_pace_is_chosen_when_offered_and_bac_otherwise():
    plan = plan_access(MRZ, offer(GM128))
    assert plan.control.protocol is AccessProtocol.PACE
    assert plan.pace_info is not None and plan.pace_info.protocol == GM128.oid
    assert plan.result.fallback is None
    plan = plan_access(MRZ, CardAccessOffer(present=False))
    assert plan.control.protocol is AccessProtocol.BAC and plan.result.fallback is None


@pytest.mark.parametrize(
    ("options", "best"),
    [
        ((GM128, CAM128), CAM128),  # CAM first: it also authenticates the chip
        ((GM3DES, GM128), GM128),  # AES before 3DES
        ((GM128, GM256), GM256),  # a larger key on a larger curve
        ((DH128, GM128), GM128),  # ECDH before DH at equal strength (112 vs 128 bits)
        ((DH3DES, DH128), DH128),  # 2048-bit group before 1024-bit
        ((IM256, GM256), GM256),  # GM before IM at equal strength
    ],
)
def test_the_strongest_option_both_sides_support_is_chosen(options, best):
    for order in (options, tuple(reversed(options))):
        plan = plan_access(MRZ, offer(*order))
        assert plan.pace_info is not None and plan.pace_info.protocol == best.oid


def test_strength_is_bounded_by_the_weaker_half():
    # AES-256 on a 256-bit curve gives 128 bits, like AES-128 on it: the key length then decides.
    weak = offer(PaceOption("GM", "ECDH", "AES-256", 8)).pace_infos[0]  # 192-bit curve: 96 bits
    strong = offer(PaceOption("GM", "ECDH", "AES-128", 13)).pace_infos[0]
    assert pace_strength(strong) > pace_strength(weak)


@pytest.mark.parametrize(
    ("element", "words"),
    [
        (encode_pace_info(GM128.oid, version=1, parameter_id=13), "version 1"),
        (encode_pace_info(GM128.oid, parameter_id=None), "no parameterId"),
        (encode_pace_info(GM128.oid, parameter_id=40), "no PACEDomainParameterInfo"),
        (encode_pace_info(GM128.oid, parameter_id=2), "with DH domain parameters"),
        (encode_pace_info("0.4.0.127.0.7.2.2.4.2.9", parameter_id=13), "unknown cipher"),
    ],
)
def test_unusable_options_are_named_and_fall_back_to_bac(element, words):
    infos = offer(raw=[element])
    (info,) = infos.pace_infos
    assert words in (pace_option_problem(info) or "")
    plan = plan_access(MRZ, infos)
    assert plan.control.protocol is AccessProtocol.BAC
    assert plan.result.fallback is not None and words in plan.result.fallback
    with pytest.raises(AccessControlError, match="not allowed") as info_:
        plan_access(MRZ, infos, AccessPolicy(allow_fallback=False))
    assert info_.value.step == "read EF.CardAccess"
    with pytest.raises(LocalProtocolError, match="only with PACE"):
        plan_access(CanKey("123456"), infos)


def test_bac_only_is_reported_and_refuses_a_can():
    plan = plan_access(MRZ, offer(GM128), AccessPolicy(bac_only=True))
    assert plan.control.protocol is AccessProtocol.BAC
    assert plan.result.fallback is not None and "BAC only" in plan.result.fallback
    assert plan_access(MRZ, CardAccessOffer(), AccessPolicy(bac_only=True)).result.fallback is None
    with pytest.raises(LocalProtocolError, match="BAC only"):
        plan_access(CanKey("123456"), offer(GM128), AccessPolicy(bac_only=True))


def test_malformed_card_access_with_a_can_is_a_clear_error():
    bad = CardAccessOffer(present=True, problem="EF.CardAccess is malformed: truncated")
    with pytest.raises(LocalProtocolError, match="malformed"):
        plan_access(CanKey("123456"), bad)


@pytest.mark.parametrize(
    ("sw", "allowed"),
    [
        (0x6A80, True),
        (0x6D00, True),
        (0x6A88, True),
        (0x6300, False),  # wrong password
        (0x63C2, False),
        (0x6983, False),  # blocked
        (0x6984, False),  # suspended / deactivated
        (None, False),  # the terminal found the chip's answer wrong (bad token, bad point)
    ],
)
def test_which_pace_failures_may_fall_back(sw, allowed):
    exc = AccessControlError("x", step="MSE:Set AT", protocol="PACE", sw=sw)
    assert fallback_allowed(exc, AccessPolicy()) is allowed
    assert fallback_allowed(exc, AccessPolicy(allow_fallback=False)) is False


# -- profiles and the builder ---------------------------------------------------------------


def test_profiles_are_the_ones_the_cli_lists():
    assert list(profiles.PROFILES)[:5] == [
        "bac",
        "bac-pace",
        "pace-only",
        "pace-broken",
        "id-card-can",
    ]
    assert {"cloned-chip", "aa-refused", "ca-refused", "no-chip-auth", "eac-ta"} <= set(
        profiles.PROFILES
    )
    assert profiles.DEFAULT_PROFILE == "bac-pace"
    assert LdsFile.EF_CARD_ACCESS not in profiles.document("bac").files
    with pytest.raises(KeyError, match="known"):
        profiles.profile("nope")


def test_card_security_is_signed_by_the_document_ds_and_carries_the_cam_key():
    doc = profiles.document("pace-only")
    data = doc.files[LdsFile.EF_CARD_SECURITY]
    parsed = card_security.parse(data)
    assert parsed.signed_data.econtent_type == card_security.ID_SECURITY_OBJECT
    signer = parsed.signed_data.signer_certificate()
    assert signer is not None and signer.dump() == doc.pki.ds_der
    cms.verify_signer(parsed.signed_data.signer_info, signer)  # raises if it does not verify
    infos = parsed.security_infos
    assert {i.protocol for i in infos.pace_infos} == {GM128.oid, CAM128.oid}
    (key,) = infos.ca_public_keys
    assert key.key_agreement == "ECDH" and key.curve_name == "brainpoolp256r1"
    assert infos.ca_infos and infos.ca_infos[0].key_agreement == "ECDH"
    # EF.CardAccess offers the same PACEInfos, in the order given.
    access = parse_security_infos(doc.files[LdsFile.EF_CARD_ACCESS])
    assert [i.protocol for i in access.pace_infos] == [GM128.oid, CAM128.oid]


def test_card_security_parse_refuses_other_content_types():
    sod = profiles.document("bac").files[LdsFile.EF_SOD]
    with pytest.raises(ParseError) as info:
        card_security.parse(sod[4:])  # the ContentInfo inside tag 77: an LDS security object
    assert info.value.file == "EF.CardSecurity" and "id-SecurityObject" in str(info.value)
    with pytest.raises(ParseError):
        card_security.parse(b"")


def test_card_security_is_readable_only_after_pace():
    doc = profiles.document("pace-only")
    chip = doc.chip()
    assert chip.process(bytes.fromhex("00B09D0000"))[-2:] == b"\x69\x82"


def test_td1_mrz_has_valid_check_digits():
    text = td1_mrz(profiles.ID_CARD_HOLDER)
    parsed = mrz.parse(text)
    assert parsed.format == "TD1" and parsed.check_digit_errors == ()
    assert parsed.document_number == "D23145890"
    assert [len(line) for line in text.splitlines()] == [30, 30, 30]


def test_builder_can_and_no_card_security():
    doc = build_document(pace=(GM128,), can="000042", card_security_file=False)
    assert doc.can == "000042"
    assert LdsFile.EF_CARD_SECURITY not in doc.files
    with pytest.raises(ValueError, match="3DES"):
        PaceOption("CAM", "ECDH", "3DES", 13)
    with pytest.raises(ValueError, match="does not exist"):
        PaceOption("CAM", "DH", "AES-128", 2)
    with pytest.raises(ValueError, match="standardized"):
        PaceOption("GM", "ECDH", "AES-128", 2)


# -- the CLI ----------------------------------------------------------------------------------


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_list_profiles(capsys):
    code, out, _ = run(capsys, "demo", "--list-profiles")
    assert code == 0
    for name in profiles.PROFILES:
        assert name in out
    assert "(default)" in out


@pytest.mark.parametrize(
    ("args", "protocol", "mapping", "password"),
    [
        (["demo"], "PACE", "GM", "MRZ"),
        (["demo", "--profile", "bac"], "BAC", None, None),
        (["demo", "--profile", "pace-only"], "PACE", "CAM", "MRZ"),
        (["demo", "--profile", "bac-pace", "--can", "123456"], "PACE", "GM", "CAN"),
        (["read", "--virtual", "--profile", "id-card-can", "--can", "123456"], "PACE", "GM", "CAN"),
        # review: the CAN-only card's demo failed without --can; it now uses the printed CAN
        (["demo", "--profile", "id-card-can"], "PACE", "GM", "CAN"),
        (["read", "--virtual", "--bac-only"], "BAC", None, None),
        (["read", "--virtual", "--profile", "pace-broken"], "BAC", None, None),
    ],
)
def test_profiles_and_flags_reach_the_json(capsys, args, protocol, mapping, password):
    code, out, _ = run(capsys, *args, "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["verdict"] == "VALID"
    access = result["read"]["access"]
    assert access["protocol"] == protocol
    if mapping is None:
        assert access["pace"] is None
    else:
        assert access["pace"]["mapping"] == mapping and access["pace"]["password"] == password
    if "--bac-only" in args or "pace-broken" in args:
        assert access["fallback"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["read", "--virtual", "--profile", "pace-broken", "--no-fallback"], "not allowed"),
        (["read", "--virtual", "--profile", "pace-only", "--bac-only"], "BAC only"),
        (["demo", "--profile", "bac", "--can", "123456"], "only with PACE"),
        (["demo", "--can", "12a"], "CAN must be 1 to 10 digits 0-9"),
        (["demo", "--profile", "nope"], "known"),
        (["demo", "--can", "999999"], "retries left"),
        (["demo", "--profile", "id-card-can", "--can", "999999"], "wrong CAN, 2 retries left"),
        (["demo", "--can", "١٢٣٤٥٦"], "CAN must be 1 to 10 digits 0-9"),
    ],
)
def test_flag_errors_are_one_line_and_exit_3(capsys, args, words):
    code, _out, err = run(capsys, *args)
    assert code == 3
    assert words in err and err.count("\n") == 1
