"""SOD and CMS variants seen in the wild, verified end to end (ICAO 9303-10 §4.6.2; RFC 5652).

The parser-level tests (:mod:`tests.test_sod`, :mod:`tests.test_cms`) show that these
encodings parse; here the whole passive authentication must reach the same verdict as for
the plain DER form: the ``'77'`` wrapper with its length in every form, BER indefinite
lengths and a constructed eContent OCTET STRING (the New Zealand SODs), signed attributes
sent with an indefinite length, LDSSecurityObject v0 and v1, and SignerInfos without signed
attributes (RFC 5652 §5.4: the signature covers the eContent; JMRTD's EF.CardSecurity).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.virtual.pki import TestPki, hash_data_groups, make_test_pki
from epass.lds import sod as sod_module
from epass.pa import (
    CheckName,
    CheckStatus,
    Report,
    TrustStore,
    Verdict,
    verify,
    verify_card_security,
)
from epass.tlv import encode_length
from tests.conftest import sample_bytes

AT = datetime(2030, 6, 1, tzinfo=UTC)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F3804151ZE184226B<<<<<16"
DGS = {1: b"\x61\x5b\x5f\x1f\x58" + MRZ, 2: b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(seed=b"sod-variants")


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    trust = TrustStore()
    trust.add(pki.csca_der, source="variants csca")
    return trust


def _verify(sod: bytes, store: TrustStore) -> Report:
    return verify({"EF.SOD": sod, **{f"DG{n}": d for n, d in DGS.items()}}, store, at=AT)


def _content_info(sod: bytes) -> bytes:
    """The ContentInfo inside the ``'77'`` wrapper (definite length)."""
    return bytes(sod_module.parse(sod).content_info.dump())


def _wrap_long(ci: bytes) -> bytes:
    # '77 83 00 LL LL': a non-minimal (BER) long-form length
    return b"\x77\x83" + len(ci).to_bytes(3, "big") + ci


def _wrap_indefinite(ci: bytes) -> bytes:
    return b"\x77\x80" + ci + b"\x00\x00"


def _indefinite_signed_data(sod: bytes) -> bytes:
    """The SOD re-encoded with indefinite lengths (ContentInfo, SignedData, eContentInfo,
    signedAttrs) and the eContent as a constructed OCTET STRING of two segments."""
    parsed = sod_module.parse(sod)
    sd = parsed.content_info["content"]
    half = len(parsed.econtent) // 2
    chunks = b"\x04" + encode_length(half) + parsed.econtent[:half]
    rest = parsed.econtent[half:]
    chunks += b"\x04" + encode_length(len(rest)) + rest
    eci = (
        b"\x30\x80"
        + sd["encap_content_info"]["content_type"].dump()
        + b"\xa0\x80\x24\x80"
        + chunks
        + bytes(6)
    )
    [si] = list(sd["signer_infos"])
    attrs = si["signed_attrs"].contents
    si_body = (
        si["version"].dump()
        + si["sid"].dump()
        + si["digest_algorithm"].dump()
        + b"\xa0\x80"
        + attrs
        + b"\x00\x00"
        + si["signature_algorithm"].dump()
        + si["signature"].dump()
    )
    signer_infos = b"\x31\x80\x30\x80" + si_body + bytes(4)
    body = (
        sd["version"].dump()
        + sd["digest_algorithms"].dump()
        + eci
        + sd["certificates"].dump()
        + signer_infos
    )
    ci = b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x80\x30\x80" + body + bytes(6)
    return b"\x77" + encode_length(len(ci)) + bytes(ci)


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize(
    "encoding", ["der", "wrapper_long_form", "wrapper_indefinite", "indefinite_inside"]
)
def test_sod_variants_verify_like_der(pki: TestPki, store: TrustStore, version: int, encoding: str):
    kwargs: dict[str, object] = {"version": version}
    if version == 1:
        kwargs.update(lds_version="0108", unicode_version="040000")
    sod = pki.sign_sod(hash_data_groups(DGS), **kwargs)
    variant = {
        "der": lambda s: s,
        "wrapper_long_form": lambda s: _wrap_long(_content_info(s)),
        "wrapper_indefinite": lambda s: _wrap_indefinite(_content_info(s)),
        "indefinite_inside": _indefinite_signed_data,
    }[encoding](sod)
    assert encoding == "der" or variant != sod
    report = _verify(variant, store)
    assert report.verdict is Verdict.VALID, [
        (c.name, c.detail) for c in report.checks if c.status is not CheckStatus.PASS
    ]
    parsed = report.check(CheckName.SOD_PARSE)
    assert parsed.evidence["lds_security_object_version"] == version
    if version == 1:
        assert parsed.evidence["lds_version"] == "0108"
    # the same document: a flipped data-group byte is still caught in every encoding
    tampered = verify({"EF.SOD": variant, "DG1": DGS[1][:-1] + b"7", "DG2": DGS[2]}, store, at=AT)
    assert tampered.check(CheckName.DG_HASHES).status is CheckStatus.FAIL
    assert tampered.verdict is Verdict.INVALID


def test_indefinite_signed_attributes_are_verified_over_their_der_form(pki, store):
    # RFC 5652 §5.4: the signature covers the DER SET OF; a BER '[0] 80' sent by the chip is
    # re-tagged with its definite length, and a changed attribute byte still fails
    sod = _indefinite_signed_data(pki.sign_sod(hash_data_groups(DGS)))
    assert _verify(sod, store).verdict is Verdict.VALID
    signed_attrs = sod_module.parse(sod).signer_info.signed_attrs
    assert signed_attrs is not None
    digest_at = sod.find(signed_attrs[-32:])
    bad = bytearray(sod)
    bad[digest_at] ^= 0x01
    report = _verify(bytes(bad), store)
    assert report.verdict is Verdict.INVALID
    assert report.check(CheckName.SOD_MESSAGE_DIGEST).status is CheckStatus.FAIL


#: One ChipAuthenticationInfo (TR-03110-3 §A.1.1.2): id-CA-ECDH-AES-CBC-CMAC-128, version 2.
_SECURITY_INFOS = bytes.fromhex("31143012060a04007f0007020203020202010202010d")


def _card_security_without_signed_attributes(pki: TestPki, econtent: bytes) -> bytes:
    from asn1crypto import cms
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    signed = pki.sign_card_security(econtent)
    ci = cms.ContentInfo.load(signed)
    sd = ci["content"]
    [si] = list(sd["signer_infos"])
    assert isinstance(pki.ds_key, ec.EllipticCurvePrivateKey)
    bare = cms.SignerInfo(
        {
            "version": si["version"],
            "sid": si["sid"],
            "digest_algorithm": si["digest_algorithm"],
            "signature_algorithm": si["signature_algorithm"],
            "signature": pki.ds_key.sign(econtent, ec.ECDSA(hashes.SHA256())),
        }
    )
    rebuilt = cms.SignedData(
        {
            "version": sd["version"],
            "digest_algorithms": sd["digest_algorithms"],
            "encap_content_info": sd["encap_content_info"],
            "certificates": sd["certificates"],
            "signer_infos": [bare],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": rebuilt}).dump())


def test_card_security_without_signed_attributes(pki, store):
    # RFC 5652 §5.4: the signature covers the eContent itself: it verifies (PASS), but
    # without a content-type attribute (§5.3, TR-03110-3 §A.1.2) it proves no more than
    # INDETERMINATE; a changed eContent fails the signature
    data = _card_security_without_signed_attributes(pki, _SECURITY_INFOS)
    report = verify_card_security(data, store, at=AT)
    assert report.check("card_security.signature").status is CheckStatus.PASS
    assert "eContent" in report.check("card_security.signature").detail
    assert report.check("card_security.message_digest").status is CheckStatus.SKIP
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.verdict is Verdict.INDETERMINATE
    bad = bytearray(data)
    bad[data.index(_SECURITY_INFOS) + len(_SECURITY_INFOS) - 1] ^= 0x01
    broken = verify_card_security(bytes(bad), store, at=AT)
    assert broken.check("card_security.signature").status is CheckStatus.FAIL
    assert broken.verdict is Verdict.INVALID


@pytest.mark.samples
def test_jmrtd_card_security_signature_verifies_over_the_econtent(samples: Path):
    # samples README §2.3: JMRTD's EF.CardSecurity has no signed attributes; "signature OK"
    data = sample_bytes(samples, "cardaccess_misc/EF_CardSecurity_jmrtd.bin")
    report = verify_card_security(data, TrustStore(), at=datetime(2016, 3, 20, tzinfo=UTC))
    assert report.check("card_security.signature").status is CheckStatus.PASS
    assert report.check("card_security.message_digest").status is CheckStatus.SKIP
    assert report.verdict is Verdict.INDETERMINATE  # no CSCA "C=UT, CN=CSCA" either
    bad = bytearray(data)
    bad[100] ^= 0x01  # inside the SecurityInfos eContent (offset 60..216)
    assert verify_card_security(bytes(bad), TrustStore(), at=AT).verdict is Verdict.INVALID
