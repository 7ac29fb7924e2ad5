"""Which domain parameters PACE runs in (9303-11 §4.4.3.3.2, §9.2.1-2, §9.5.1), found in review.

* The integrated mapping on secp224r1 (id 10, p ≡ 1 mod 4: the point
  encoding of 9303-11 Appendix B is not defined) was "usable" for the policy,
  so a chip offering it made the reader raise a bare UnsupportedAlgorithmError
  after MSE:Set AT and GA 1 had been sent, with no fallback and no step. It is
  now refused before any command and by the policy (with the reason).
* Explicit parameters (PACEDomainParameterInfo) were never used by the policy,
  and perform_pace used any explicit group it was given. EF.CardAccess is not
  signed: a fake chip choosing a weak group could learn enough to test
  passwords offline. Explicit parameters are now used when they are a known
  group (a named curve of at least 192 bits, or an RFC 5114 group), by the
  policy too, and refused otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from asn1crypto import keys

import epass
from drivers.virtual import profiles
from drivers.virtual.chip import ChipConfig
from drivers.virtual.pace_options import PaceOption
from epass._crypto.dh import RFC5114_GROUPS
from epass._crypto.ec import DomainParameters, NamedCurve, curve_by_name
from epass.access import pace
from epass.access.control import AccessPolicy, AccessProtocol, CardAccessOffer, plan_access
from epass.access.keys import MrzKey
from epass.access.pace_groups import group_from_algorithm
from epass.channel import Channel
from epass.errors import UnsupportedAlgorithmError
from epass.lds import security_infos as si
from epass.reader import ReadOptions
from epass.transport import Transport
from epass.verdict import Verdict

ECDH_GM = f"{si.ID_PACE}.2"
ECDH_GM_AES128 = f"{si.ID_PACE}.2.2"
ECDH_IM_AES128 = f"{si.ID_PACE}.4.2"
DH_GM = f"{si.ID_PACE}.1"
DH_GM_AES128 = f"{si.ID_PACE}.1.2"
STRICT = ReadOptions(access_policy=AccessPolicy(allow_fallback=False))


def _infos(*elements: bytes) -> si.SecurityInfos:
    return si.parse_security_infos(si.encode_security_infos(list(elements)), file="EF.CardAccess")


def _specified(
    prm: DomainParameters, *, gx: int | None = None, gy: int | None = None
) -> keys.SpecifiedECDomain:
    size = (prm.p.bit_length() + 7) // 8
    x, y = (prm.gx, prm.gy) if gx is None or gy is None else (gx, gy)
    return keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": prm.p},
            "curve": {"a": prm.a.to_bytes(size, "big"), "b": prm.b.to_bytes(size, "big")},
            "base": b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big"),
            "order": prm.n,
            "cofactor": prm.h,
        }
    )


def _ec_domain(specified: keys.SpecifiedECDomain | None = None, oid: str | None = None) -> Any:
    params = (
        keys.ECDomainParameters(name="named", value=oid)
        if oid is not None
        else keys.ECDomainParameters(name="specified", value=specified)
    )
    return si.DomainParameterAlgorithm({"algorithm": si.ID_EC_PUBLIC_KEY, "parameters": params})


def _dh_domain(p: int, g: int, q: int) -> Any:
    return si.DomainParameterAlgorithm(
        {
            "algorithm": si.ID_DH_PUBLIC_NUMBER,
            "parameters": keys.DomainParameters({"p": p, "g": g, "q": q}),
        }
    )


class _NoCommands(Transport):
    atr = None
    extended_length = True

    def transmit(self, apdu: bytes) -> bytes:  # pragma: no cover - the failure looked for
        raise AssertionError(f"a command was sent: {apdu.hex()}")


# --- the integrated mapping on secp224r1 ----------------------------------------------------------


def test_im_on_secp224r1_is_refused_before_any_command() -> None:
    (info,) = _infos(si.encode_pace_info(ECDH_IM_AES128, parameter_id=10)).pace_infos
    with pytest.raises(UnsupportedAlgorithmError, match="p ≡ 3"):
        pace.pace_group(info)
    with pytest.raises(UnsupportedAlgorithmError):
        pace.perform_pace(Channel(_NoCommands()), pace.Password.can("123456"), info)


def test_im_on_secp224r1_is_not_a_usable_option_and_falls_back_with_the_reason() -> None:
    infos = _infos(si.encode_pace_info(ECDH_IM_AES128, parameter_id=10))
    offer = CardAccessOffer(present=True, security_infos=infos)
    assert offer.usable_pace == ()
    plan = plan_access(MrzKey("L898902C<369080619406236"), offer)
    assert plan.control.protocol is AccessProtocol.BAC
    assert plan.result.fallback is not None and "p ≡ 3 (mod 4)" in plan.result.fallback


def test_a_chip_offering_im_on_secp224r1_is_read_with_bac_and_says_why() -> None:
    raw = si.encode_security_infos([si.encode_pace_info(ECDH_IM_AES128, parameter_id=10)])
    doc = profiles.document("bac")
    with doc.transport(config=replace(ChipConfig(), card_access=raw)) as transport:
        inspection = epass.inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    assert inspection.verdict is Verdict.VALID
    assert inspection.read is not None
    access = inspection.read.access
    assert access.protocol is AccessProtocol.BAC and access.fallback is not None
    assert "secp224r1" in access.fallback


def test_the_virtual_chip_cannot_be_configured_with_im_on_secp224r1() -> None:
    with pytest.raises(ValueError, match="p ≡ 3"):
        PaceOption("IM", "ECDH", "AES-128", 10)
    PaceOption("GM", "ECDH", "AES-128", 10)  # the generic mapping is fine there


# --- explicit parameters ---------------------------------------------------------------------


def _named(name: str) -> NamedCurve:
    curve = curve_by_name(name)
    assert curve is not None
    return curve


_BP256 = _named("brainpoolP256r1")


def _explicit_card_access(domain: Any, *, parameter_id: int | None) -> bytes:
    return si.encode_security_infos(
        [
            si.encode_pace_info(ECDH_GM_AES128, parameter_id=parameter_id),
            si.encode_pace_domain_parameter_info(ECDH_GM, domain, parameter_id=parameter_id),
        ],
        sort=False,
    )


@pytest.mark.parametrize("parameter_id", [None, 40])
@pytest.mark.parametrize("form", ["specified", "named"])
def test_explicit_brainpool_runs_end_to_end_and_is_reported(
    form: str, parameter_id: int | None
) -> None:
    """A PACEInfo without a standardized id and a PACEDomainParameterInfo holding
    brainpoolP256r1 explicitly (or by OID): the policy runs PACE, the chip agrees."""
    domain = (
        _ec_domain(_specified(_BP256.parameters))
        if form == "specified"
        else _ec_domain(oid=_BP256.oid)
    )
    raw = _explicit_card_access(domain, parameter_id=parameter_id)
    doc = profiles.document("bac")
    with doc.transport(config=replace(ChipConfig(), card_access=raw)) as transport:
        inspection = epass.inspect(
            transport, MrzKey(doc.mrz_information), doc.trust_store(), options=STRICT
        )
    assert inspection.verdict is Verdict.VALID, inspection.reasons
    assert inspection.read is not None
    access = inspection.read.access
    assert access.protocol is AccessProtocol.PACE and access.fallback is None
    assert access.pace is not None
    assert access.pace.domain_parameters == "brainpoolP256r1"
    assert access.pace.parameter_id == parameter_id


def test_explicit_parameters_of_an_unknown_curve_are_refused() -> None:
    """brainpoolP256r1 with another base point (2G): a valid curve, but not a known group."""
    curve = _BP256.curve
    g2 = curve.multiply(2)
    domain = _ec_domain(_specified(_BP256.parameters, gx=g2.x, gy=g2.y))
    with pytest.raises(UnsupportedAlgorithmError, match="not a known group"):
        group_from_algorithm(domain)
    infos = si.parse_security_infos(_explicit_card_access(domain, parameter_id=None))
    offer = CardAccessOffer(present=True, security_infos=infos)
    assert offer.usable_pace == ()
    with pytest.raises(UnsupportedAlgorithmError, match="offline dictionary attack"):
        pace.perform_pace(
            Channel(_NoCommands()),
            pace.Password.can("123456"),
            infos.pace_infos[0],
            domain_parameter_infos=infos.pace_domain_parameter_infos,
        )


def test_explicit_dh_parameters_only_for_an_rfc5114_group() -> None:
    group = RFC5114_GROUPS[2]
    known = group_from_algorithm(_dh_domain(group.p, group.g, group.q))
    assert (known.name, known.parameter_id) == (group.name, 2)
    other_generator = pow(group.g, 2, group.p)  # the same subgroup, another generator
    with pytest.raises(UnsupportedAlgorithmError, match="not a known group"):
        group_from_algorithm(_dh_domain(group.p, other_generator, group.q))


def test_a_named_curve_below_192_bits_is_refused() -> None:
    small = _named("brainpoolP160r1")
    with pytest.raises(UnsupportedAlgorithmError, match="192-bit"):
        group_from_algorithm(_ec_domain(oid=small.oid))


def test_a_huge_explicit_dh_group_is_refused_by_comparison() -> None:
    """A 64 Kbit p and q from an unsigned EF.CardAccess: compared with RFC 5114, never used."""
    p = (1 << 65536) + 1
    with pytest.raises(UnsupportedAlgorithmError, match="not a known group"):
        group_from_algorithm(_dh_domain(p, 5, p - 1))
