"""CV certificates (BSI TR-03110-3 Appendix C and D): parse, verify, refuse malformed input.

Known answers: the BSI EAC worked example's certificates (HJP test card,
../shared/samples/bsi_eac_worked_example/{ecdh,dh}; skipped when absent):
``cvca.cvcert`` (self-signed CVCA), ``dvca.cvcert`` (a DV certificate) and
``at.cvcert`` (an *authentication terminal* certificate, CHAT id-AT: the eID
role of TR-03110-3 C.4.2, not an inspection system).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from drivers.virtual import cvc_builder as cb
from epass import cvc, tlv
from epass._crypto.ec import NAMED_CURVES
from epass.errors import InvalidSignatureError, ParseError, UnsupportedAlgorithmError
from tests.conftest import sample_bytes

BASE = "bsi_eac_worked_example"
DAY = datetime.date(2025, 3, 1)


def _load(samples: Path, kind: str) -> dict[str, cvc.CvCertificate]:
    return {
        name: cvc.parse_certificate(
            sample_bytes(samples, f"{BASE}/{kind}/{name}.cvcert"), file=f"{kind}/{name}.cvcert"
        )
        for name in ("cvca", "dvca", "at")
    }


# --- the BSI worked example ---------------------------------------------------------------


@pytest.mark.samples
def test_worked_example_ecdh_certificates_parse(samples):
    certs = _load(samples, "ecdh")
    cvca, dv, at = certs["cvca"], certs["dvca"], certs["at"]
    # TR-03110-3 C.1: CAR/CHR, dates as six digit bytes.
    assert (cvca.car, cvca.chr) == ("DECVCAAT00001", "DECVCAAT00001")
    assert cvca.self_signed and cvca.role is cvc.Role.CVCA and not cvca.is_link
    assert (dv.car, dv.chr) == ("DECVCAAT00001", "DETESTDVDE019")
    assert (at.car, at.chr) == ("DETESTDVDE019", "DETESTATDE019")
    assert cvca.effective_date == datetime.date(2010, 9, 30)
    assert cvca.expiration_date == datetime.date(2011, 9, 25)
    assert dv.expiration_date == at.expiration_date == datetime.date(2010, 10, 30)
    # D.3.3: explicit domain parameters in the CVCA key only (brainpoolP512r1 here).
    assert cvca.public_key.algorithm == cvc.TA_ALGORITHMS["0.4.0.127.0.7.2.2.2.2.5"]
    assert cvca.public_key.domain == NAMED_CURVES["brainpoolP512r1"].parameters
    assert cvca.public_key.describe() == "id-TA-ECDSA-SHA-512, brainpoolP512r1"
    assert dv.public_key.domain is None and at.public_key.domain is None
    assert at.public_key.point is not None and len(at.public_key.point) == 129
    assert len(at.signature) == 128  # plain r || s, 64 bytes each (TR-03111 §5.2.1)


@pytest.mark.samples
@pytest.mark.parametrize("kind", ["ecdh", "dh"])
def test_worked_example_chats(samples, kind):
    certs = _load(samples, kind)
    # The CVCA's CHAT is id-IS with role CVCA and DG3+DG4 (53 C3, TR-03110-3 C.4.1) ...
    assert certs["cvca"].chat == cvc.Chat(cvc.ID_IS, b"\xc3")
    assert certs["cvca"].chat.read_dg3 and certs["cvca"].chat.read_dg4
    # ... the DV and at.cvcert are authentication-terminal (id-AT, C.4.2) certificates:
    assert certs["dvca"].chat == cvc.Chat(cvc.ID_AT, bytes.fromhex("801FFFFF10"))
    assert certs["dvca"].role is cvc.Role.DV_DOMESTIC
    at = certs["at"]
    assert at.chat.terminal_type == "AT" and at.role is cvc.Role.TERMINAL
    assert at.chat.template == bytes.fromhex("0000000110")
    # bit 4 "CAN allowed", bit 8 "read DG1"; no IS rights: an AT grants no DG3/DG4 in an ePassport
    assert at.chat.rights == 0x110 and not at.chat.read_dg3 and not at.chat.read_dg4
    assert at.chat.describe() == "AT, role TERMINAL, rights 0000000110"


@pytest.mark.samples
@pytest.mark.parametrize(
    ("kind", "algorithm"), [("ecdh", "id-TA-ECDSA-SHA-512"), ("dh", "id-TA-RSA-v1-5-SHA-1")]
)
def test_worked_example_chain_verifies(samples, kind, algorithm):
    certs = _load(samples, kind)
    links = cvc.verify_chain([certs["dvca"], certs["at"]], certs["cvca"])
    assert [link.certificate.chr for link in links] == ["DETESTDVDE019", "DETESTATDE019"]
    assert [link.issuer for link in links] == [certs["cvca"].chr, "DETESTDVDE019"]
    assert all(link.public_key.describe().startswith(algorithm) for link in links)
    if kind == "ecdh":  # the DV and AT keys inherit the CVCA's domain parameters (D.3.3)
        assert links[1].public_key.domain == certs["cvca"].public_key.domain
    # on a date in the validity periods, and refused on one after the DV expired
    cvc.verify_chain([certs["dvca"], certs["at"]], certs["cvca"], date=certs["at"].effective_date)
    late = certs["at"].expiration_date + datetime.timedelta(days=1)
    with pytest.raises(InvalidSignatureError, match="not valid on"):
        cvc.verify_chain([certs["dvca"], certs["at"]], certs["cvca"], date=late)


@pytest.mark.samples
def test_worked_example_tampered_signature_fails(samples):
    certs = _load(samples, "ecdh")
    raw = bytearray(certs["at"].encoded)
    raw[-5] ^= 0x01
    bad = cvc.parse_certificate(bytes(raw), file="at.cvcert")
    with pytest.raises(InvalidSignatureError, match=r"at\.cvcert: signature by DETESTDVDE019"):
        cvc.verify_chain([certs["dvca"], bad], certs["cvca"])


@pytest.mark.samples
def test_worked_example_chain_order_and_roots(samples):
    ecdh, dh = _load(samples, "ecdh"), _load(samples, "dh")
    # the AT certificate cannot hang off the CVCA directly (CAR names the DV; a CVCA issues no
    # terminal certificates)
    with pytest.raises(InvalidSignatureError, match="does not name"):
        cvc.verify_chain([ecdh["at"]], ecdh["cvca"])
    # the DH-set DV (same CHR DETESTDVDE019, another key) does not verify under the ECDH CVCA
    with pytest.raises(InvalidSignatureError, match=r"does not name|signature"):
        cvc.verify_chain([dh["dvca"]], ecdh["cvca"])
    # a DV is not a trust anchor
    with pytest.raises(InvalidSignatureError, match="not a CVCA"):
        cvc.verify_chain([ecdh["at"]], ecdh["dvca"])
    # the EC DV key has no domain parameters of its own
    with pytest.raises(UnsupportedAlgorithmError, match="domain parameters"):
        ecdh["at"].verify_signature(ecdh["dvca"].public_key)


@pytest.mark.samples
@pytest.mark.parametrize("kind", ["ecdh", "dh"])
def test_worked_example_reencodes_identically(samples, kind):
    """encode_* rebuild the exact bytes (the signature covers the body as encoded)."""
    for cert in _load(samples, kind).values():
        key = cert.public_key
        encoded_key = cvc.encode_public_key(
            key.oid, modulus=key.modulus, exponent=key.exponent, point=key.point, domain=key.domain
        )
        assert encoded_key == key.encoded
        body = cvc.encode_body(
            car=cert.car,
            public_key=encoded_key,
            chr=cert.chr,
            chat=cvc.encode_chat(cert.chat.oid, cert.chat.template),
            effective=cert.effective_date,
            expiration=cert.expiration_date,
        )
        assert body == cert.body
        assert cvc.encode_certificate(body, cert.signature) == cert.encoded


# --- algorithms ---------------------------------------------------------------------------


def test_ta_algorithm_oids():
    """TR-03110-3 A.6.4: id-TA = 0.4.0.127.0.7.2.2.2; RSA .1.x, ECDSA .2.x."""
    names = {a.oid: a.name for a in cvc.TA_ALGORITHMS.values()}
    assert names == {
        "0.4.0.127.0.7.2.2.2.1.1": "id-TA-RSA-v1-5-SHA-1",
        "0.4.0.127.0.7.2.2.2.1.2": "id-TA-RSA-v1-5-SHA-256",
        "0.4.0.127.0.7.2.2.2.1.3": "id-TA-RSA-PSS-SHA-1",
        "0.4.0.127.0.7.2.2.2.1.4": "id-TA-RSA-PSS-SHA-256",
        "0.4.0.127.0.7.2.2.2.1.5": "id-TA-RSA-v1-5-SHA-512",
        "0.4.0.127.0.7.2.2.2.1.6": "id-TA-RSA-PSS-SHA-512",
        "0.4.0.127.0.7.2.2.2.2.1": "id-TA-ECDSA-SHA-1",
        "0.4.0.127.0.7.2.2.2.2.2": "id-TA-ECDSA-SHA-224",
        "0.4.0.127.0.7.2.2.2.2.3": "id-TA-ECDSA-SHA-256",
        "0.4.0.127.0.7.2.2.2.2.4": "id-TA-ECDSA-SHA-384",
        "0.4.0.127.0.7.2.2.2.2.5": "id-TA-ECDSA-SHA-512",
    }
    assert cvc.TA_ALGORITHMS["0.4.0.127.0.7.2.2.2.2.3"].oid_bytes == bytes.fromhex(
        "04007F00070202020203"
    )


@pytest.mark.parametrize(
    "oid",
    [
        "0.4.0.127.0.7.2.2.2.2.1",
        "0.4.0.127.0.7.2.2.2.2.2",
        "0.4.0.127.0.7.2.2.2.2.4",
        "0.4.0.127.0.7.2.2.2.2.5",
        "0.4.0.127.0.7.2.2.2.1.1",
        "0.4.0.127.0.7.2.2.2.1.3",
        "0.4.0.127.0.7.2.2.2.1.5",
        "0.4.0.127.0.7.2.2.2.1.6",
    ],
)
def test_every_algorithm_signs_and_verifies(oid):
    algorithm = cvc.TA_ALGORITHMS[oid]
    bits = 2048 if oid.endswith("1.6") else 1024  # PSS-SHA-512: 64-byte salt and hash
    cvca, dv, terminal = cb.make_test_chain(algorithm=algorithm, today=DAY, rsa_bits=bits)
    links = cvc.verify_chain([dv.certificate, terminal.certificate], cvca.certificate, date=DAY)
    assert links[-1].public_key.algorithm == algorithm
    # and a signature by another key of the same kind fails
    other, _, _ = cb.make_test_chain(algorithm=algorithm, today=DAY, rsa_bits=bits)
    with pytest.raises(InvalidSignatureError):
        cvc.verify_chain([dv.certificate], other.certificate)


def test_rsa_key_too_small_for_pss_sha512_is_a_local_error():
    from epass._crypto.signing import generate_rsa_key
    from epass.errors import LocalProtocolError

    with pytest.raises(LocalProtocolError, match="RSA-1024 cannot"):
        generate_rsa_key(1024).sign(b"x", kind="rsa-pss", hash_name="sha512")


def test_rsa_pss_uses_hash_length_salt():
    """RSASSA-PSS here: MGF1 with the same hash, salt = hash length (what standard signers use)."""
    cvca, _, _ = cb.make_test_chain(algorithm=cb.RSA_PSS_SHA_256, today=DAY, rsa_bits=1024)
    key = cvca.private_key
    signature = key.sign(b"message", kind="rsa-pss", hash_name="sha256")
    n, e = key.rsa_public_numbers
    from epass._crypto.signing import verify_rsa

    verify_rsa(n, e, b"message", signature, pss=True, hash_name="sha256")
    with pytest.raises(InvalidSignatureError):
        verify_rsa(n, e, b"message", signature, pss=False, hash_name="sha256")
    with pytest.raises(InvalidSignatureError, match="bytes for a"):
        verify_rsa(n, e, b"message", signature[1:], pss=True, hash_name="sha256")


def test_ec_signature_of_wrong_length_fails():
    cvca, dv, _ = cb.make_test_chain(today=DAY)
    raw = tlv.decode_single(dv.encoded)
    body, signature = raw.children()
    short = cvc.encode_certificate(body.encoded, signature.value[:-1])
    cert = cvc.parse_certificate(short)
    with pytest.raises(InvalidSignatureError, match="expected 64"):
        cert.verify_signature(cvca.certificate.public_key)


def test_unknown_key_algorithm_parses_but_cannot_verify():
    key = cvc.encode_public_key("0.4.0.127.0.7.2.2.2.9.9", point=b"\x04" + b"\x01" * 64)
    body = cvc.encode_body(
        car="XXCVCA00001",
        public_key=key,
        chr="XXDV0001",
        chat=cvc.encode_chat(cvc.ID_IS, b"\x83"),
        effective=DAY,
        expiration=DAY,
    )
    cert = cvc.parse_certificate(cvc.encode_certificate(body, b"\x00" * 64))
    assert cert.public_key.algorithm is None
    with pytest.raises(UnsupportedAlgorithmError):
        cert.public_key.verify(b"x", b"y")


# --- the builder's certificates -----------------------------------------------------------


def test_builder_chain_brainpool_and_link_certificate():
    cvca, dv, terminal = cb.make_test_chain(today=DAY, deterministic=True)
    assert cvca.certificate.public_key.describe() == "id-TA-ECDSA-SHA-256, brainpoolP256r1"
    assert terminal.certificate.chat.describe() == "IS, role TERMINAL, rights 03 (DG3, DG4)"
    # deterministic test keys: the same CHR gives the same key
    again, _, _ = cb.make_test_chain(today=DAY, deterministic=True)
    assert again.certificate.public_key.point == cvca.certificate.public_key.point
    link = cb.link_cvca(
        cvca, "XXCVCA00002", effective=DAY, expiration=DAY + datetime.timedelta(days=1000)
    )
    assert link.certificate.is_link and link.certificate.public_key.domain is not None
    dv2 = cb.issue(link, "XXDV00002", cvc.Role.DV_FOREIGN, effective=DAY, expiration=DAY)
    is2 = cb.issue(dv2, "XXIS00002", cvc.Role.TERMINAL, effective=DAY, expiration=DAY, rights=1)
    links = cvc.verify_chain([link.certificate, dv2.certificate, is2.certificate], cvca.certificate)
    assert [x.issuer for x in links] == ["XXCVCA00001", "XXCVCA00002", "XXDV00002"]
    # a DV does not issue DV certificates; a terminal issues nothing
    wrong = cb.issue(dv, "XXDV00003", cvc.Role.DV_DOMESTIC, effective=DAY, expiration=DAY)
    with pytest.raises(InvalidSignatureError, match="a DV issues only terminal"):
        cvc.verify_chain([dv.certificate, wrong.certificate], cvca.certificate)
    assert cvc.check_issuance(cvc.Role.TERMINAL, terminal.certificate) is not None


def test_dates():
    assert cvc.decode_date(bytes([2, 5, 0, 3, 0, 1])) == DAY
    assert cvc.encode_date(DAY) == bytes([2, 5, 0, 3, 0, 1])
    for bad in (b"\x02\x05\x01\x03\x00\x01", b"\x02\x05\x00\x02\x03\x00", b"250301", b"\x01" * 5):
        with pytest.raises(ParseError):
            cvc.decode_date(bad, file="x", offset=3)
    with pytest.raises(ValueError):
        cvc.encode_date(datetime.date(1999, 1, 1))


# --- malformed certificates ---------------------------------------------------------------


@pytest.fixture(scope="module")
def good() -> bytes:
    return cb.make_test_chain(today=DAY)[1].encoded


def _rebuild(cert_bytes: bytes, **changes: bytes) -> bytes:
    """Re-encode a certificate with some body fields' values replaced (by tag name)."""
    outer = tlv.decode_single(cert_bytes)
    body, signature = outer.children()
    tags = {"profile": 0x5F29, "car": 0x42, "chr": 0x5F20, "effective": 0x5F25, "chat": 0x7F4C}
    out = b""
    for item in body.children():
        replaced = {tags[k]: v for k, v in changes.items()}
        out += tlv.encode(item.tag, replaced[item.tag]) if item.tag in replaced else item.encoded
    return cvc.encode_certificate(tlv.encode(0x7F4E, out), signature.value)


def test_truncated_certificate_is_a_parse_error(good):
    for cut in (1, 2, 5, 40, len(good) - 1):
        with pytest.raises(ParseError) as info:
            cvc.parse_certificate(good[:cut], file="is.cvcert")
        assert info.value.file == "is.cvcert" and info.value.offset is not None


def test_wrong_tags_are_parse_errors(good):
    with pytest.raises(ParseError, match="expected tag 7F21"):
        cvc.parse_certificate(b"\x7f\x4e" + good[2:], file="x")
    body, signature = tlv.decode_single(good).children()
    with pytest.raises(ParseError, match="exactly 7F4E"):
        cvc.parse_certificate(tlv.encode(0x7F21, body.encoded), file="x")
    with pytest.raises(ParseError, match="exactly 7F4E"):
        cvc.parse_certificate(tlv.encode(0x7F21, signature.encoded + body.encoded), file="x")
    # body fields out of order: CHR before CAR
    items = body.children()
    swapped = items[0].encoded + items[3].encoded + items[2].encoded + items[1].encoded
    swapped += b"".join(i.encoded for i in items[4:])
    with pytest.raises(ParseError, match=r"tag 42 expected, found 5F20") as info:
        cvc.parse_certificate(
            cvc.encode_certificate(tlv.encode(0x7F4E, swapped), signature.value), file="x"
        )
    assert info.value.offset is not None
    # a repeated field
    repeated = b"".join(i.encoded for i in items) + items[-1].encoded
    with pytest.raises(ParseError, match="unexpected or repeated tag 5F24"):
        cvc.parse_certificate(cvc.encode_certificate(tlv.encode(0x7F4E, repeated), b"\x01"))
    # a missing field
    missing = b"".join(i.encoded for i in items if i.tag != 0x5F24)
    with pytest.raises(ParseError, match="5F24 missing"):
        cvc.parse_certificate(cvc.encode_certificate(tlv.encode(0x7F4E, missing), b"\x01"))


def test_oversized_lengths_are_parse_errors(good):
    # a length far beyond the data, in the outer and an inner object
    with pytest.raises(ParseError, match="exceeds"):
        cvc.parse_certificate(b"\x7f\x21\x84\x7f\xff\xff\xff" + good[4:], file="x")
    with pytest.raises(ParseError, match="length field"):
        cvc.parse_certificate(b"\x7f\x21\x85\x01\x00\x00\x00\x00", file="x")
    with pytest.raises(ParseError, match="larger than any CV certificate"):
        cvc.parse_certificate(b"\x7f\x21\x83\x01\x00\x00" + bytes(65536), file="x")
    with pytest.raises(ParseError, match="trailing"):
        cvc.parse_certificate(good + b"\x00", file="x")


def test_bad_field_values_are_parse_errors(good):
    cases = {
        "profile": (b"\x01", "profile identifier"),
        "car": (b"", "CAR"),
        "chr": (b"A" * 17, "CHR"),
        "effective": (b"\x02\x05\x01\x03\x00\x01", "calendar date"),
        "chat": (b"\x06\x01\x00", "CHAT holds"),
    }
    for name, (value, message) in cases.items():
        with pytest.raises(ParseError, match=message):
            cvc.parse_certificate(_rebuild(good, **{name: value}), file="x")
    # expiration before effective
    with pytest.raises(ParseError, match="expiration date before"):
        cvc.parse_certificate(_rebuild(good, effective=bytes([2, 9, 0, 1, 0, 1])), file="x")


def _key_body(key: bytes) -> bytes:
    body = cvc.encode_body(
        car="XXCVCA00001",
        public_key=key,
        chr="XXCVCA00001",
        chat=cvc.encode_chat(cvc.ID_IS, b"\xc3"),
        effective=DAY,
        expiration=DAY,
    )
    return cvc.encode_certificate(body, b"\x01" * 64)


def test_bad_public_keys_are_parse_errors():
    ecdsa = "0.4.0.127.0.7.2.2.2.2.3"
    rsa = "0.4.0.127.0.7.2.2.2.1.2"
    domain = NAMED_CURVES["brainpoolP256r1"].parameters
    point = b"\x04" + domain.gx.to_bytes(32, "big") + domain.gy.to_bytes(32, "big")
    full = tlv.decode_single(cvc.encode_public_key(ecdsa, point=point, domain=domain))
    oid, *fields = full.children()
    # incomplete domain parameters: drop 83 (b)
    partial = tlv.encode(0x7F49, oid.encoded + b"".join(f.encoded for f in fields if f.tag != 0x83))
    with pytest.raises(ParseError, match="missing 83"):
        cvc.parse_certificate(_key_body(partial))
    # fields out of order and unexpected tags
    reordered = tlv.encode(0x7F49, oid.encoded + fields[1].encoded + fields[0].encoded)
    with pytest.raises(ParseError, match="out of order"):
        cvc.parse_certificate(_key_body(reordered))
    with pytest.raises(ParseError, match="unexpected tag 88"):
        cvc.parse_certificate(_key_body(tlv.encode(0x7F49, oid.encoded + tlv.encode(0x88, b"1"))))
    # no point
    with pytest.raises(ParseError, match="needs its point"):
        cvc.parse_certificate(_key_body(tlv.encode(0x7F49, oid.encoded)))
    # parameters that are not a curve (G off the curve)
    bad_g = b"\x04" + (domain.gx + 1).to_bytes(32, "big") + domain.gy.to_bytes(32, "big")
    broken = b"".join(tlv.encode(0x84, bad_g) if f.tag == 0x84 else f.encoded for f in fields)
    with pytest.raises(ParseError, match="base point is not on the curve"):
        cvc.parse_certificate(_key_body(tlv.encode(0x7F49, oid.encoded + broken)))
    # RSA: a short modulus, an even exponent, a missing exponent
    small = cvc.encode_public_key(rsa, modulus=(1 << 511) + 1, exponent=65537)
    with pytest.raises(ParseError, match="RSA modulus of 512 bits"):
        cvc.parse_certificate(_key_body(small))
    even = cvc.encode_public_key(rsa, modulus=(1 << 1023) + 1, exponent=4)
    with pytest.raises(ParseError, match="exponent out of range"):
        cvc.parse_certificate(_key_body(even))
    rsa_oid = tlv.encode(0x06, cvc.TA_ALGORITHMS[rsa].oid_bytes)
    with pytest.raises(ParseError, match="exactly 81"):
        cvc.parse_certificate(_key_body(tlv.encode(0x7F49, rsa_oid + tlv.encode(0x81, b"\x01"))))
    # not an OID first
    with pytest.raises(ParseError, match="object identifier"):
        cvc.parse_certificate(_key_body(tlv.encode(0x7F49, tlv.encode(0x86, point))))


def test_junk_never_escapes_as_a_builtin_error(good):
    """Every prefix and every single-byte corruption: ParseError or a certificate, nothing else."""
    for cut in range(len(good)):
        with pytest.raises(ParseError):
            cvc.parse_certificate(good[:cut])
    for i in range(len(good)):
        for flip in (0x01, 0x80, 0xFF):
            data = bytearray(good)
            data[i] ^= flip
            try:
                cvc.parse_certificate(bytes(data))
            except ParseError:
                pass
