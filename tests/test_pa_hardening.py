"""Attacks on passive authentication and the trust store, one regression test each.

Every case here was tried against the verifier as an attacker would (or as a sloppy
issuer does) and must end in the verdict the bytes prove: nothing unproven is VALID,
and nothing genuine is called a forgery. TEST PKIs are generated at run time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from epass.pa import CheckName, CheckStatus, Report, TrustStore, Verdict, verify
from tests.pa_pki import Signer, certificate, name, sign_sod, spki

AT = datetime(2030, 6, 1, tzinfo=UTC)
MRZ = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F3804151ZE184226B<<<<<16"
DGS = {1: b"\x61\x5b\x5f\x1f\x58" + MRZ, 2: b"\x75\x0a\x7f\x61\x07\x02\x01\x01\x7f\x60\x01\x00"}


def _hashes() -> dict[int, bytes]:
    return {n: hashlib.sha256(d).digest() for n, d in DGS.items()}


def _verify(sod: bytes, store: TrustStore) -> Report:
    return verify({"EF.SOD": sod, **{f"DG{n}": d for n, d in DGS.items()}}, store, at=AT)


# --- inherited EC parameters (implicitlyCA, RFC 3279 §2.3.5) ---------------------------------


def test_inherited_parameters_come_from_the_csca_that_issued_the_ds():
    # Two CSCAs share a name (a key rollover onto another curve); the DS certificate names
    # its issuer by name only (no authorityKeyIdentifier) and inherits the curve of the one
    # that signed it. The parameters must be that CSCA's, not the first same-name one's.
    csca_name = name("TEST CSCA rollover")
    old = Signer("ecdsa", curve="secp256r1")
    new = Signer("ecdsa", curve="brainpoolP256r1", form="explicit")
    old_cert, new_cert = (
        certificate(
            subject=csca_name,
            issuer=csca_name,
            subject_key=spki(s),
            issuer_key=spki(s),
            signer=s,
            ca=True,
        )
        for s in (old, new)
    )
    ds_signer = Signer("ecdsa", curve="brainpoolP256r1", form="implicit")
    ds = certificate(
        subject=name("TEST DS inheriting"),
        issuer=csca_name,
        subject_key=spki(ds_signer),
        issuer_key=spki(new),
        signer=new,
        ca=False,
        authority_key_identifier=False,
    )
    store = TrustStore()
    store.add(bytes(old_cert.dump()), source="old csca (P-256)")
    store.add(bytes(new_cert.dump()), source="new csca (brainpoolP256r1)")
    report = _verify(sign_sod(_hashes(), ds_signer, ds), store)
    signature = report.check(CheckName.SOD_SIGNATURE)
    assert signature.status is CheckStatus.PASS, signature.detail
    assert signature.evidence["ds_curve"] == (
        "parameters inherited from the issuer = brainpoolP256r1 (explicit there)"
    )
    assert report.check(CheckName.DS_ISSUER).status is CheckStatus.PASS
    assert report.anchor is not None and report.anchor.source == "new csca (brainpoolP256r1)"
    assert report.verdict is Verdict.VALID
    # with only the same-name CSCA of the other curve, nothing is proven
    alone = TrustStore()
    alone.add(bytes(old_cert.dump()), source="old csca (P-256)")
    report = _verify(sign_sod(_hashes(), ds_signer, ds), alone)
    assert report.check(CheckName.SOD_SIGNATURE).status is not CheckStatus.PASS
    assert report.verdict is not Verdict.VALID


# --- the saved store ------------------------------------------------------------------------


def test_a_crl_changed_in_the_saved_store_is_verified_again_and_refused(tmp_path):
    # The index holds each file's SHA-256, but whoever can write the files can write the index
    # too: a CRL (it decides revocations) is verified again under its CSCA when loaded.
    import json

    from drivers.virtual.pki import make_test_pki
    from epass.pa.crl import parse_crl
    from tests.test_crl_revocation import make_crl

    pki, other = make_test_pki(seed=b"store-crl"), make_test_pki(seed=b"store-crl-rogue")
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    genuine = make_crl(pki, revoked=(5,))
    store.add_crl(parse_crl(genuine, file="genuine.crl"))
    store.save(tmp_path)
    assert len(TrustStore.load(tmp_path).crls()) == 1
    # the same issuer name and key identifier, signed by another key, revoking nothing
    forged = make_crl(pki, signer=other.csca_key)
    index_path = tmp_path / "index.json"
    index = json.loads(index_path.read_text())
    [entry] = [e for e in index["entries"] if e["kind"] == "crl"]
    entry["id"] = hashlib.sha256(forged).hexdigest()
    (tmp_path / entry["file"]).write_bytes(_pem_crl(forged))
    index_path.write_text(json.dumps(index))
    loaded = TrustStore.load(tmp_path)
    assert loaded.crls() == ()
    assert any("no longer verifies" in reason for _, reason in loaded.problems)
    assert len(loaded) == 1  # the rest loads


def test_removing_a_csca_removes_the_crls_verified_under_it(tmp_path):
    from drivers.virtual.pki import make_test_pki
    from epass.pa.crl import parse_crl
    from tests.test_crl_revocation import make_crl

    pki = make_test_pki(seed=b"store-crl")
    store = TrustStore()
    anchor = store.add(pki.csca_der, source="csca")
    assert anchor is not None
    store.add_crl(parse_crl(make_crl(pki), file="c.crl"))
    store.remove(anchor.id)
    assert store.crls() == ()
    store.save(tmp_path)
    loaded = TrustStore.load(tmp_path)
    assert loaded.problems == () and loaded.items() == ()


def _pem_crl(der: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der)
    return b"-----BEGIN X509 CRL-----\n" + body + b"-----END X509 CRL-----\n"


# --- EF.CardSecurity: the same trust store, CRLs included ------------------------------------


def test_card_security_of_a_revoked_ds_is_invalid():
    # EF.CardSecurity carries the chip's CA / PACE-CAM keys; its DS is checked against the
    # same CRLs as an EF.SOD's (it was not: a revoked DS gave VALID)
    from drivers.virtual.pki import make_test_pki
    from epass.pa import verify_card_security
    from epass.pa.crl import parse_crl
    from tests.test_crl_revocation import make_crl

    pki = make_test_pki(seed=b"card-security-crl")
    infos = bytes.fromhex("31143012060a04007f0007020203020202010202010d")
    data = pki.sign_card_security(infos)
    store = TrustStore()
    store.add(pki.csca_der, source="csca")
    assert verify_card_security(data, store, at=AT).verdict is Verdict.VALID
    store.add_crl(parse_crl(make_crl(pki, revoked=(pki.ds_cert.serial_number,)), file="r.crl"))
    report = verify_card_security(data, store, at=AT)
    assert report.check(CheckName.DS_REVOCATION).status is CheckStatus.FAIL
    assert report.verdict is Verdict.INVALID


def test_card_security_under_an_unverified_anchor_says_so():
    from drivers.virtual.pki import make_test_pki
    from epass.pa import FindingCode, verify_card_security
    from epass.pa.trust import Provenance

    pki = make_test_pki(seed=b"card-security-unverified")
    data = pki.sign_card_security(bytes.fromhex("31143012060a04007f0007020203020202010202010d"))
    store = TrustStore()
    store.add(
        pki.csca_der,
        source="list.ml#0",
        provenance=Provenance(file="list.ml", master_list="list.ml", verified=False),
    )
    report = verify_card_security(data, store, at=AT)
    assert FindingCode.ANCHOR_UNVERIFIED in [f.code for f in report.findings]
    assert report.anchor is not None and "UNVERIFIED" in (report.anchor.source or "")


# --- anchors from files -----------------------------------------------------------------------


def _self_issued(signed_by: Signer, key: Signer, common_name: str = "TEST CSCA forged") -> bytes:
    csca_name = name(common_name)
    return bytes(
        certificate(
            subject=csca_name,
            issuer=csca_name,
            subject_key=spki(key),
            issuer_key=spki(key),
            signer=signed_by,
            ca=True,
        ).dump()
    )


def test_a_self_issued_csca_that_is_not_self_signed_is_refused(tmp_path):
    # A CA certificate naming itself as issuer whose signature does not verify under its own
    # key is no CSCA certificate (9303-12 §5.1.1): from a file nothing else vouches for it.
    import pytest

    from epass.errors import ParseError
    from epass.pa.importer import Importer

    key, other = Signer("ecdsa", curve="secp256r1"), Signer("ecdsa", curve="secp256r1")
    forged = _self_issued(other, key)
    genuine = _self_issued(key, key, "TEST CSCA genuine")
    (tmp_path / "forged.cer").write_bytes(forged)
    (tmp_path / "genuine.cer").write_bytes(genuine)
    store = TrustStore()
    forged_result, genuine_result = Importer(store, at=AT).import_paths(
        [tmp_path / "forged.cer", tmp_path / "genuine.cer"]
    )
    [item] = forged_result.items
    assert item.status == "refused" and "self-signed" in (item.reason or "")
    assert genuine_result.items[0].status == "added"
    assert len(store) == 1 and not store.contains(forged)
    # the same through --trust: refused naming the file; in a folder, listed and left out
    with pytest.raises(ParseError, match="self-signed") as info:
        TrustStore.from_paths(tmp_path / "forged.cer")
    assert info.value.file == str(tmp_path / "forged.cer")
    folder = TrustStore.from_paths(tmp_path)
    assert len(folder) == 1 and any("self-signed" in why for _, why in folder.rejected)


# --- master lists (9303-12 §9) built here: who may sign one ----------------------------------

ID_ML = "2.23.136.1.1.2"
ML_SIGNING = "2.23.136.1.1.3"


def _master_list(signer: Signer, signer_cert: object, contents: list[bytes]) -> bytes:
    from asn1crypto import cms

    from epass.lds.asn1 import CscaMasterList

    econtent = CscaMasterList(
        {"version": 0, "cert_list": [_asn1_cert(der) for der in contents]}
    ).dump()
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [ID_ML]},
            {"type": "message_digest", "values": [hashlib.sha256(econtent).digest()]},
        ]
    )
    si = cms.SignerInfo(
        {
            "version": "v1",
            "sid": {
                "issuer_and_serial_number": {
                    "issuer": signer_cert.issuer,  # type: ignore[attr-defined]
                    "serial_number": signer_cert.serial_number,  # type: ignore[attr-defined]
                }
            },
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": signer.algorithm,
            "signature": signer.sign(attrs.dump()),
        }
    )
    sd = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": ID_ML, "content": econtent},
            "certificates": [signer_cert],
            "signer_infos": [si],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


def _asn1_cert(der: bytes) -> object:
    from asn1crypto import x509

    return x509.Certificate.load(der)


def _ml_pki(**signer_options: object) -> tuple[bytes, bytes, bytes]:
    """(CSCA, master list signed by a signer that CSCA issued, a CSCA of the list)."""
    csca_key = Signer("ecdsa", curve="brainpoolP256r1", form="explicit")
    csca_name = name("TEST CSCA of the list signer", "UT")
    csca = certificate(
        subject=csca_name,
        issuer=csca_name,
        subject_key=spki(csca_key),
        issuer_key=spki(csca_key),
        signer=csca_key,
        ca=True,
    )
    ml_key = Signer("ecdsa", curve="secp256r1")
    options: dict[str, object] = {
        "ca": False,
        "extended_key_usage": [ML_SIGNING],
        "key_usage": {"digital_signature"},
    }
    options.update(signer_options)
    ml_signer = certificate(
        subject=name("TEST Master List Signer", "UT"),
        issuer=csca_name,
        subject_key=spki(ml_key),
        issuer_key=spki(csca_key),
        signer=csca_key,
        **options,  # type: ignore[arg-type]
    )
    listed_key = Signer("ecdsa", curve="secp384r1")
    listed = _self_issued(listed_key, listed_key, "TEST CSCA listed")
    data = _master_list(ml_key, ml_signer, [listed])
    return bytes(csca.dump()), data, listed


def test_a_generated_master_list_verifies_under_its_signers_csca():
    from epass.pa.importer import Importer

    csca, data, listed = _ml_pki()
    store = TrustStore()
    store.add(csca, source="csca.cer")
    result = Importer(store, at=AT).import_bytes(data, source="generated.ml")
    assert result.verified and result.refused is None and result.added == 1
    assert store.contains(listed)


def test_a_master_list_signer_without_the_signing_eku_is_refused():
    # 9303-12 §7.1.1: the Master List Signer certificate carries extendedKeyUsage
    # id-icao-cscaMasterListSigningKey; a DS (or any other certificate of that CSCA) may not
    # sign a master list
    from epass.pa.importer import Importer

    for options, reason in (
        ({"extended_key_usage": None}, "extendedKeyUsage"),
        ({"extended_key_usage": ["1.3.6.1.5.5.7.3.4"]}, "extendedKeyUsage"),
        ({"ca": True, "key_usage": {"key_cert_sign", "digital_signature"}}, "CA"),
        ({"key_usage": {"key_cert_sign"}}, "digitalSignature"),
    ):
        csca, data, listed = _ml_pki(**options)
        store = TrustStore()
        store.add(csca, source="csca.cer")
        result = Importer(store, at=AT).import_bytes(data, source="generated.ml")
        assert result.refused is not None and reason in result.refused, (options, result.refused)
        assert not store.contains(listed) and len(store) == 1


def test_a_master_list_whose_signer_csca_is_untrusted_or_unverified_is_refused():
    from epass.pa.importer import Importer
    from epass.pa.trust import Provenance

    csca, data, listed = _ml_pki()
    result = Importer(TrustStore(), at=AT).import_bytes(data, source="generated.ml")
    assert result.refused is not None and "import that CSCA first" in result.refused
    # the CSCA is in the store, but only from a list that did not verify: not good enough
    store = TrustStore()
    store.add(
        csca,
        source="other.ml#3",
        provenance=Provenance(file="other.ml", master_list="other.ml", verified=False),
    )
    result = Importer(store, at=AT).import_bytes(data, source="generated.ml")
    assert result.refused is not None and "unverified" in result.refused
    assert not store.contains(listed)


# --- explicit EC parameters that almost match; keys that are no points -----------------------

_FIELDS = ("p", "a", "b", "gx", "gy", "n", "h")


def _explicit(curve_name: str, change: str | None) -> dict[str, object]:
    from epass._crypto.ec import NAMED_CURVES

    prm = NAMED_CURVES[curve_name].parameters
    values = {f: getattr(prm, f) for f in _FIELDS}
    if change == "gy":
        values["gy"] = prm.p - prm.gy  # -G: a point of the same curve, not its generator
    elif change is not None:
        values[change] += 2 if change != "h" else 1
    size = prm.field_size
    return {
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": values["p"]},
        "curve": {"a": values["a"].to_bytes(size, "big"), "b": values["b"].to_bytes(size, "big")},
        "base": b"\x04" + values["gx"].to_bytes(size, "big") + values["gy"].to_bytes(size, "big"),
        "order": values["n"],
        "cofactor": values["h"],
    }


def _csca_and_ds(csca: Signer, ds_key: object, label: str) -> tuple[object, TrustStore]:
    """A self-signed TEST CSCA of *csca* issuing a DS certificate for *ds_key*; the store."""
    csca_name = name(f"TEST CSCA {label}")
    csca_cert = certificate(
        subject=csca_name,
        issuer=csca_name,
        subject_key=spki(csca),
        issuer_key=spki(csca),
        signer=csca,
        ca=True,
    )
    ds = certificate(
        subject=name(f"TEST DS {label}"),
        issuer=csca_name,
        subject_key=ds_key,
        issuer_key=spki(csca),
        signer=csca,
        ca=False,
    )
    store = TrustStore()
    store.add(bytes(csca_cert.dump()), source="csca")
    return ds, store


def _ds_with_key_parameters(curve_name: str, change: str | None) -> tuple[bytes, TrustStore]:
    """A SOD whose DS key is *curve_name* with explicit parameters, one field changed."""
    from asn1crypto import keys

    csca_key = Signer("ecdsa", curve="secp256r1")
    ds_signer = Signer("ecdsa", curve=curve_name, form="explicit")
    genuine = spki(ds_signer)
    ds_key = keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": ("specified", keys.SpecifiedECDomain(_explicit(curve_name, change))),
            },
            "public_key": genuine["public_key"],
        }
    )
    ds, store = _csca_and_ds(csca_key, ds_key, "explicit")
    return sign_sod(_hashes(), ds_signer, ds), store


def test_explicit_parameters_equal_to_a_named_curve_verify():
    for curve_name in ("brainpoolP256r1", "brainpoolP224r1"):  # cryptography's and ours
        sod, store = _ds_with_key_parameters(curve_name, None)
        report = _verify(sod, store)
        assert report.verdict is Verdict.VALID, report.reasons
        assert report.check(CheckName.SOD_SIGNATURE).evidence["ds_curve"] == (
            f"explicit parameters = {curve_name}"
        )


def test_explicit_parameters_one_field_off_are_never_the_named_curve():
    # p, a, b, G, n and h must all equal the named curve's: a curve that differs in one field
    # is another curve (maybe a weak one whose discrete logarithms are easy), and its
    # signature is not checked: INDETERMINATE with the reason, never VALID, never a crash
    for curve_name in ("brainpoolP256r1", "brainpoolP224r1"):
        for change in _FIELDS:
            sod, store = _ds_with_key_parameters(curve_name, change)
            report = _verify(sod, store)
            signature = report.check(CheckName.SOD_SIGNATURE)
            assert signature.status is CheckStatus.ERROR, (curve_name, change, signature.detail)
            assert "explicit EC parameters" in signature.detail
            assert report.verdict is Verdict.INDETERMINATE, (curve_name, change)


def test_a_ds_key_that_is_no_point_of_its_curve_is_never_valid():
    # the point at infinity (SEC 1 §2.3.4: the single octet 00), a point off the curve, a
    # compressed point whose x has no square root, truncated bytes: on cryptography's curves
    # and on those epass._crypto.ec verifies itself
    from asn1crypto import keys

    for curve_name in ("secp256r1", "brainpoolP256r1", "brainpoolP224r1", "brainpoolP320r1"):
        csca = Signer("ecdsa", curve="secp256r1")
        ds_signer = Signer("ecdsa", curve=curve_name)
        genuine = bytes(spki(ds_signer)["public_key"].native)
        off_curve = genuine[:-1] + bytes([genuine[-1] ^ 1])
        no_root = b"\x02" + b"\xff" * ((len(genuine) - 1) // 2)
        for point in (b"\x00", off_curve, genuine[:-5], no_root):
            info = keys.PublicKeyInfo(
                {"algorithm": spki(ds_signer)["algorithm"], "public_key": point}
            )
            ds, store = _csca_and_ds(csca, info, "bad point")
            report = _verify(sign_sod(_hashes(), ds_signer, ds), store)
            signature = report.check(CheckName.SOD_SIGNATURE)
            assert signature.status in (CheckStatus.ERROR, CheckStatus.FAIL), (
                curve_name,
                point[:2],
                signature.detail,
            )
            assert report.verdict is not Verdict.VALID


# --- the report names where its anchor came from ---------------------------------------------


def test_the_report_gives_the_anchors_provenance_with_its_import_date():
    from drivers.virtual.pki import hash_data_groups, make_test_pki
    from epass.pa.trust import Provenance

    pki = make_test_pki(seed=b"provenance")
    store = TrustStore()
    store.add(
        pki.csca_der,
        source="DE_ML.ml#12",
        provenance=Provenance(
            file="DE_ML.ml",
            entry="#12",
            master_list="DE_ML.ml",
            master_list_signer="C=DE, CN=CSCA Master List Signer",
            imported_at=datetime(2030, 5, 1, 8, 0, tzinfo=UTC),
        ),
    )
    report = _verify(pki.sign_sod(hash_data_groups(DGS)), store)
    assert report.verdict is Verdict.VALID
    assert report.anchor is not None
    assert report.anchor.source == (
        "DE_ML.ml#12 (master list signed by C=DE, CN=CSCA Master List Signer), imported 2030-05-01"
    )
    provenance = report.to_dict()["anchor"]["provenance"]
    assert provenance["master_list"] == "DE_ML.ml" and provenance["verified"] is True
    assert provenance["imported_at"] == "2030-05-01T08:00:00+00:00"


# --- importing: what each entry is, and what becomes of it ----------------------------------


def test_a_ds_certificate_file_is_kept_as_a_ds_and_used_for_a_sod_without_one(tmp_path):
    from drivers.virtual.pki import hash_data_groups, make_test_pki
    from epass.pa import FindingCode
    from epass.pa.importer import Importer

    pki = make_test_pki(seed=b"ds-file")
    (tmp_path / "csca.cer").write_bytes(pki.csca_der)
    (tmp_path / "ds.cer").write_bytes(pki.ds_der)
    store = TrustStore()
    _, ds_result = Importer(store, at=AT).import_paths([tmp_path / "csca.cer", tmp_path / "ds.cer"])
    [item] = ds_result.items
    assert (item.kind, item.status) == ("ds", "added") and item.subject is not None
    assert len(store) == 1 and len(store.document_signers()) == 1
    sod = pki.sign_sod(hash_data_groups(DGS), include_certificate=False)
    report = _verify(sod, store)
    assert report.verdict is Verdict.VALID
    assert FindingCode.DS_NOT_EMBEDDED in [f.code for f in report.findings]
    # a CA certificate that is no anchor (keyUsage without keyCertSign) is still refused
    ca_key = Signer("ecdsa", curve="secp256r1")
    odd = certificate(
        subject=name("TEST odd CA"),
        issuer=name("TEST odd CA"),
        subject_key=spki(ca_key),
        issuer_key=spki(ca_key),
        signer=ca_key,
        ca=True,
        key_usage={"digital_signature"},
    )
    (tmp_path / "odd.cer").write_bytes(bytes(odd.dump()))
    [odd_result] = Importer(store, at=AT).import_paths([tmp_path / "odd.cer"])
    [item] = odd_result.items
    assert item.status == "refused" and "keyCertSign" in (item.reason or "")
    assert item.subject is not None and "TEST odd CA" in item.subject


def test_a_broken_master_list_file_is_named_as_a_master_list(tmp_path):
    from epass.pa.importer import Importer

    path = tmp_path / "deep.ml"
    path.write_bytes(b"\x30\x80" * 200 + b"\x00\x00" * 200)
    [result] = Importer(TrustStore(), at=AT).import_paths([path])
    assert result.kind == "master_list" and result.refused is not None
    assert "nesting" in result.refused and str(path) in result.refused
