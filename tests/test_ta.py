"""Terminal Authentication v1 end to end: epass.access.ta against drivers.virtual.ta.

BSI TR-03110 v1.11 (protocol, certificate validation), TR-03110-3 B.11
(MSE:Set DST / PSO:Verify Certificate / MSE:Set AT / GET CHALLENGE / EXTERNAL
AUTHENTICATE), C.4.1 (IS CHAT: bit 0 DG3, bit 1 DG4), ICAO 9303-11 §7.1
(ID_PICC). The chip (tests/ta_chip.py) runs under AES secure messaging, as
after Chip Authentication. Test keys and certificates are generated here.
"""

from __future__ import annotations

import datetime
import hashlib
import os

import pytest

from drivers.replay import ScriptedTransport
from drivers.virtual import cvc_builder as cb
from drivers.virtual.ta import TaChip
from epass import cvc, tlv
from epass._crypto.ec import NAMED_CURVES
from epass.access import ta
from epass.apdu import CommandApdu
from epass.channel import Channel
from epass.errors import AccessControlError, LocalProtocolError, ParseError
from tests.ta_chip import MiniTaChip

DAY = datetime.date(2025, 3, 1)
ID_PICC = ta.id_picc_from_document_number("L898902C3")
CURVE = NAMED_CURVES["brainpoolP256r1"].curve
PK_PCD = CURVE.multiply(12345).encode()  # the terminal's ephemeral CA key (as sent in CA)


def _chip(cvca: cb.Credential, *, secure: bool = True, **kw) -> MiniTaChip:
    chip = TaChip([cvca.certificate], **kw)
    chip.start(id_picc=ID_PICC, terminal_ephemeral_public_key=PK_PCD)
    return MiniTaChip(chip, secure=secure)


def _select(channel: Channel, fid: int) -> int:
    return channel.transmit(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))).sw


def _run(chip: MiniTaChip, chain, key, **kw) -> ta.TaResult:
    channel = chip.channel()
    return ta.perform_ta(
        channel,
        [c.encoded if isinstance(c, cb.Credential) else c for c in chain],
        key,
        id_picc=ID_PICC,
        ephemeral_ca_public_key=PK_PCD,
        **kw,
    )


@pytest.fixture(scope="module")
def pki():
    return cb.make_test_chain(today=DAY)


# --- the pure parts -----------------------------------------------------------------------


def test_id_picc_after_bac_is_the_document_number_field_and_check_digit():
    """9303-11 §7.1: the document number as in the MRZ including its check digit."""
    assert ta.id_picc_from_document_number("L898902C3") == b"L898902C36"  # 9303-4 TD3 specimen
    assert ta.id_picc_from_document_number("L898902C") == b"L898902C<3"  # 9303-11 App. D.2
    # a long number (9303-3 TD1 specimen D23145890734, check digit 9): the whole number
    assert ta.id_picc_from_document_number("D23145890734") == b"D231458907349"
    with pytest.raises(LocalProtocolError):
        ta.id_picc_from_document_number("L89-8902")


def test_compression_of_ephemeral_keys():
    """Comp(): ECDH the x-coordinate, DH SHA-1 of the public value (TR-03110-3 Appendix A)."""
    point = CURVE.multiply(7)
    assert ta.compress_public_key(point.encode(), "ECDH") == point.x.to_bytes(32, "big")
    assert ta.compress_public_key(point.encode(compressed=True), "ECDH") == point.x.to_bytes(
        32, "big"
    )
    assert ta.id_picc_from_pace(point.encode(), "ECDH") == point.x.to_bytes(32, "big")
    y = os.urandom(128)
    assert ta.compress_public_key(y, "DH") == hashlib.sha1(y).digest()
    for bad, kind in ((b"\x05" + b"\x01" * 64, "ECDH"), (b"\x04\x01", "ECDH"), (b"", "DH")):
        with pytest.raises(LocalProtocolError):
            ta.compress_public_key(bad, kind)
    with pytest.raises(LocalProtocolError, match="unknown key agreement"):
        ta.compress_public_key(point.encode(), "RSA")


def test_signature_input_and_command_data():
    assert ta.signature_input(b"ID", b"\x01" * 8, b"K") == b"ID" + b"\x01" * 8 + b"K"
    with pytest.raises(LocalProtocolError):
        ta.signature_input(b"ID", b"\x01" * 7, b"K")
    assert ta.mse_set_dst_data("XXCVCA00001") == bytes.fromhex("830B") + b"XXCVCA00001"
    algorithm = cvc.TA_ALGORITHMS["0.4.0.127.0.7.2.2.2.2.3"]
    assert (
        ta.mse_set_at_data("XXIS1", algorithm)
        == bytes.fromhex("800A04007F00070202020203 8305") + b"XXIS1"
    )
    assert ta.mse_set_at_data("XXIS1") == bytes.fromhex("8305") + b"XXIS1"


def test_ef_cvca():
    chip = TaChip([cb.new_cvca("XXCVCA00002", effective=DAY, expiration=DAY).certificate])
    data = chip.ef_cvca()
    assert len(data) == 36 and data.startswith(bytes.fromhex("420B") + b"XXCVCA00002")
    assert ta.parse_ef_cvca(data) == ("XXCVCA00002",)
    two = tlv.encode(0x42, b"A1") + tlv.encode(0x42, b"B2") + b"\x00" * 10
    assert ta.parse_ef_cvca(two) == ("A1", "B2")
    for bad in (
        b"\x43\x02A1",
        b"\x42\x05A1",
        tlv.encode(0x42, b"A") * 3,
        tlv.encode(0x42, b"\x01"),
        b"\x42" + b"\x00" * 300,
    ):
        with pytest.raises(ParseError) as info:
            ta.parse_ef_cvca(bad)
        assert info.value.file == "EF.CVCA"


# --- end to end ---------------------------------------------------------------------------


def test_good_chain_passes_and_opens_dg3_dg4(pki):
    cvca, dv, terminal = pki
    chip = _chip(cvca)
    channel = chip.channel()
    assert _select(channel, 0x0103) == 0x6982  # before TA: security status not satisfied
    assert _select(channel, 0x0101) == 0x9000
    result = ta.perform_ta(
        channel,
        [dv.encoded, terminal.encoded],
        terminal.private_key,
        id_picc=ID_PICC,
        ephemeral_ca_public_key=PK_PCD,
    )
    assert result.terminal == terminal.chr and result.trust_point == cvca.chr
    assert result.certificates == (dv.chr, terminal.chr)
    assert result.algorithm == "id-TA-ECDSA-SHA-256"
    assert result.chat.read_dg3 and result.chat.read_dg4
    assert len(result.challenge) == 8 and len(result.signature) == 64
    assert result.apdus == 7
    assert chip.ta.authenticated and chip.ta.effective_rights == 0x03
    assert _select(channel, 0x0103) == 0x9000 and _select(channel, 0x0104) == 0x9000
    # the commands, in order (TR-03110-3 B.11), all under secure messaging
    sent = [(c.ins, c.p1, c.p2) for c in chip.sent[2:-2]]
    assert sent == [
        (0x22, 0x81, 0xB6),
        (0x2A, 0x00, 0xBE),
        (0x22, 0x81, 0xB6),
        (0x2A, 0x00, 0xBE),
        (0x22, 0x81, 0xA4),
        (0x84, 0x00, 0x00),
        (0x82, 0x00, 0x00),
    ]
    assert chip.sent[2].data == ta.mse_set_dst_data(cvca.chr)
    assert chip.sent[3].data == dv.certificate.body + tlv.encode(0x5F37, dv.certificate.signature)
    assert chip.sent[6].data == ta.mse_set_at_data(terminal.chr, terminal.algorithm)
    assert chip.sent[7].le == 8


@pytest.mark.parametrize(
    "algorithm", [cb.RSA_V1_5_SHA_256, cb.RSA_PSS_SHA_256], ids=["rsa-v1.5", "rsa-pss"]
)
def test_rsa_chain_passes(algorithm):
    cvca, dv, terminal = cb.make_test_chain(algorithm=algorithm, today=DAY, rsa_bits=1024)
    chip = _chip(cvca)
    result = _run(chip, [cvca, dv, terminal], terminal.private_key)  # the root is skipped
    assert result.certificates == (dv.chr, terminal.chr) and len(result.signature) == 128
    assert chip.ta.may_read(3) and chip.ta.may_read(4)


def test_ta_after_pace_with_dh_chip_authentication(pki):
    """ID_PICC = Comp(PK_PICC) after PACE; Comp(PK_PCD) of a DH CA key is its SHA-1."""
    cvca, dv, terminal = pki
    pace_key = CURVE.multiply(999).encode()
    pk_pcd_dh = os.urandom(256)
    chip = TaChip([cvca.certificate])
    chip.start(
        id_picc=ta.id_picc_from_pace(pace_key, "ECDH"),
        terminal_ephemeral_public_key=pk_pcd_dh,
        key_agreement="DH",
    )
    ta.perform_ta(
        MiniTaChip(chip).channel(),
        [dv.encoded, terminal.encoded],
        terminal.private_key,
        id_picc=ta.id_picc_from_pace(pace_key, "ECDH"),
        ephemeral_ca_public_key=pk_pcd_dh,
        key_agreement="DH",
    )
    assert chip.authenticated
    # the same run bound to another ephemeral CA key fails: TA is bound to CA
    chip.start(id_picc=ID_PICC, terminal_ephemeral_public_key=pk_pcd_dh, key_agreement="DH")
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        ta.perform_ta(
            MiniTaChip(chip).channel(),
            [dv.encoded, terminal.encoded],
            terminal.private_key,
            id_picc=ID_PICC,
            ephemeral_ca_public_key=os.urandom(256),
            key_agreement="DH",
        )
    assert info.value.step == "EXTERNAL AUTHENTICATE" and info.value.sw == 0x6300


def test_effective_authorization_is_the_and_of_the_chain():
    """TR-03110-3 C.4: CVCA ∧ DV ∧ IS. A DV granting DG3 only limits an IS asking for both."""
    cvca = cb.new_cvca(effective=DAY, expiration=DAY + datetime.timedelta(days=900))
    dv = cb.issue(cvca, "XXDV1", cvc.Role.DV_DOMESTIC, effective=DAY, expiration=DAY, rights=1)
    terminal = cb.issue(dv, "XXIS1", cvc.Role.TERMINAL, effective=DAY, expiration=DAY, rights=3)
    chip = _chip(cvca)
    result = _run(chip, [dv, terminal], terminal.private_key)
    assert result.chat.read_dg4  # the IS certificate asks for DG4 ...
    channel_chip = chip.ta
    assert channel_chip.effective_rights == 0x01  # ... the chip grants DG3 only
    assert channel_chip.may_read(3) and not channel_chip.may_read(4)
    assert channel_chip.may_read(1)  # not TA's to refuse


def test_wrong_terminal_key_is_refused_at_external_authenticate(pki):
    cvca, dv, terminal = pki
    chip = _chip(cvca)
    other = cb.make_key(terminal.algorithm)
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(chip, [dv, terminal], other)
    err = info.value
    assert isinstance(err, AccessControlError)
    assert (err.protocol, err.step, err.sw) == ("TA", "EXTERNAL AUTHENTICATE", 0x6300)
    assert "refused the signature" in str(err)
    assert not chip.ta.authenticated and not chip.ta.may_read(3)


def test_expired_certificate_is_refused(pki):
    cvca, dv, _ = pki
    old = cb.issue(
        dv,
        "XXISOLD01",
        cvc.Role.TERMINAL,
        effective=DAY - datetime.timedelta(days=30),
        expiration=DAY - datetime.timedelta(days=1),
    )
    chip = _chip(cvca, current_date=DAY)
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(chip, [dv, old], old.private_key)
    assert (info.value.step, info.value.sw) == ("PSO:Verify Certificate", 0x6A80)
    assert chip.ta.current_date == DAY


def test_current_date_moves_forward_with_accepted_certificates(pki):
    """The chip's date: the latest effective date of a CVCA, DV or domestic IS certificate."""
    cvca, _, _ = pki
    later = DAY + datetime.timedelta(days=40)
    dv = cb.issue(cvca, "XXDVNEW01", cvc.Role.DV_DOMESTIC, effective=later, expiration=later)
    fresh = cb.issue(dv, "XXIS00009", cvc.Role.TERMINAL, effective=later, expiration=later)
    chip = _chip(cvca, current_date=DAY)
    _run(chip, [dv, fresh], fresh.private_key)
    assert chip.ta.current_date == later
    # a certificate that expired before the new date is now refused
    stale = cb.issue(
        dv,
        "XXIS00010",
        cvc.Role.TERMINAL,
        effective=DAY,
        expiration=later.replace(day=later.day - 1),
    )
    chip.ta.start(id_picc=ID_PICC, terminal_ephemeral_public_key=PK_PCD)
    with pytest.raises(ta.TerminalAuthenticationError, match="PSO:Verify Certificate"):
        _run(chip, [dv, stale], stale.private_key)


def test_foreign_is_certificate_does_not_move_the_date(pki):
    cvca, _, _ = pki
    later = DAY + datetime.timedelta(days=10)
    dv = cb.issue(cvca, "YYDV00001", cvc.Role.DV_FOREIGN, effective=DAY, expiration=later)
    terminal = cb.issue(dv, "YYIS00001", cvc.Role.TERMINAL, effective=later, expiration=later)
    chip = _chip(cvca, current_date=DAY)
    _run(chip, [dv, terminal], terminal.private_key)
    assert chip.ta.authenticated and chip.ta.current_date == DAY


def test_car_mismatch_is_refused(pki):
    cvca, dv, terminal = pki
    # terminal side: the IS certificate names another DV; nothing is sent
    stranger = cb.issue(
        dv, "XXIS00011", cvc.Role.TERMINAL, effective=DAY, expiration=DAY, car="XXDVOTHER01"
    )
    chip = _chip(cvca)
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(chip, [dv, stranger], stranger.private_key)
    assert info.value.step == "select certificate chain" and info.value.sw is None
    assert chip.sent == []
    # chip side: MSE:Set DST names the trust point, the certificate another CAR
    handler = chip.ta
    assert handler.handle(CommandApdu(0, 0x22, 0x81, 0xB6, ta.mse_set_dst_data(cvca.chr))).sw == (
        0x9000
    )
    data = stranger.certificate.body + tlv.encode(0x5F37, stranger.certificate.signature)
    assert handler.handle(CommandApdu(0, 0x2A, 0x00, 0xBE, data)).sw == 0x6A80
    # an IS certificate offered directly to the CVCA key: CVCAs issue no terminal certificates
    data = terminal.certificate.body + tlv.encode(0x5F37, terminal.certificate.signature)
    assert handler.handle(CommandApdu(0, 0x2A, 0x00, 0xBE, data)).sw == 0x6A80


def test_chain_not_rooted_at_the_chips_cvca_is_refused(pki):
    cvca, _, _ = pki
    foreign_cvca, foreign_dv, foreign_is = cb.make_test_chain(today=DAY, country="ZZ")
    chip = _chip(cvca)
    # the chip does not know the CAR: 6A88 at MSE:Set DST
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(chip, [foreign_dv, foreign_is], foreign_is.private_key)
    assert (info.value.step, info.value.sw) == ("MSE:Set DST", 0x6A88)
    # told the chip's trust points (EF.CVCA), the terminal refuses before sending anything
    chip = _chip(cvca)
    trust = ta.parse_ef_cvca(chip.ta.ef_cvca())
    with pytest.raises(ta.TerminalAuthenticationError, match="not rooted") as info:
        _run(
            chip, [foreign_cvca, foreign_dv, foreign_is], foreign_is.private_key, trust_points=trust
        )
    assert info.value.step == "select certificate chain" and chip.sent == []
    # a DV certificate with the right CAR but signed by another key: 6300 at PSO:Verify
    impostor = cb.issue(
        foreign_cvca, "XXDVFAKE1", cvc.Role.DV_DOMESTIC, effective=DAY, expiration=DAY, car=cvca.chr
    )
    leaf = cb.issue(impostor, "XXISFAKE1", cvc.Role.TERMINAL, effective=DAY, expiration=DAY)
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(_chip(cvca), [impostor, leaf], leaf.private_key)
    assert (info.value.step, info.value.sw) == ("PSO:Verify Certificate", 0x6300)


def test_link_certificate_moves_the_trust_point(pki):
    cvca, _, _ = pki
    later = DAY + datetime.timedelta(days=5)
    link = cb.link_cvca(cvca, "XXCVCA00002", effective=later, expiration=later.replace(year=2028))
    dv = cb.issue(link, "XXDV00002", cvc.Role.DV_DOMESTIC, effective=later, expiration=later)
    terminal = cb.issue(dv, "XXIS00002", cvc.Role.TERMINAL, effective=later, expiration=later)
    chip = _chip(cvca)
    trust = chip.ta.trust_point_references
    result = _run(chip, [cvca, link, dv, terminal], terminal.private_key, trust_points=trust)
    assert result.certificates == ("XXCVCA00002", "XXDV00002", "XXIS00002")
    assert result.trust_point == cvca.chr and result.apdus == 9
    assert chip.ta.trust_point_references == ("XXCVCA00002", cvca.chr)
    assert chip.ta.current_date == later
    assert ta.parse_ef_cvca(chip.ta.ef_cvca()) == ("XXCVCA00002", cvca.chr)
    # next session: the terminal starts at the new trust point
    chip.ta.start(id_picc=ID_PICC, terminal_ephemeral_public_key=PK_PCD)
    again = _run(
        chip,
        [cvca, link, dv, terminal],
        terminal.private_key,
        trust_points=chip.ta.trust_point_references,
    )
    assert again.certificates == ("XXDV00002", "XXIS00002")


def test_tampered_certificate_and_wrong_terminal_type_are_refused(pki):
    cvca, dv, terminal = pki
    body = bytearray(dv.certificate.body)
    body[-3] ^= 0x01  # inside the expiration date: still a date, no longer signed
    tampered = cvc.encode_certificate(bytes(body), dv.certificate.signature)
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(_chip(cvca), [tampered, terminal.encoded], terminal.private_key)
    assert (info.value.step, info.value.sw) == ("PSO:Verify Certificate", 0x6300)
    # authentication-terminal certificates (id-AT) are not an ePassport inspection system's
    at_dv = cb.issue(
        cvca,
        "XXDVAT001",
        cvc.Role.DV_DOMESTIC,
        effective=DAY,
        expiration=DAY,
        terminal_type=cvc.ID_AT,
    )
    at_is = cb.issue(
        at_dv,
        "XXAT00001",
        cvc.Role.TERMINAL,
        effective=DAY,
        expiration=DAY,
        terminal_type=cvc.ID_AT,
    )
    with pytest.raises(ta.TerminalAuthenticationError) as info:
        _run(_chip(cvca), [at_dv, at_is], at_is.private_key)
    assert (info.value.step, info.value.sw) == ("PSO:Verify Certificate", 0x6A80)


def test_chain_shape_is_checked_before_sending(pki):
    cvca, dv, terminal = pki
    chip = _chip(cvca)
    cases = [
        ([], "no certificates"),
        ([dv], "not a terminal's"),
        ([terminal, dv, terminal], "names"),
        ([b"\x7f\x21\x01"], "unreadable certificate"),
        ([cvca, dv, terminal] * 3, "at most 8"),
    ]
    for chain, message in cases:
        with pytest.raises(ta.TerminalAuthenticationError, match=message) as info:
            _run(chip, chain, terminal.private_key)
        assert info.value.step == "select certificate chain"
    rsa_key = cb.make_key(cb.RSA_V1_5_SHA_256, rsa_bits=1024)
    with pytest.raises(LocalProtocolError, match="its certificate says"):
        _run(chip, [dv, terminal], rsa_key)
    assert chip.sent == []


def test_protocol_oid_is_optional_and_checked(pki):
    cvca, dv, terminal = pki
    chip = _chip(cvca)
    _run(chip, [dv, terminal], terminal.private_key, send_protocol_oid=False)
    assert chip.sent[-3].data == ta.mse_set_at_data(terminal.chr)
    handler = chip.ta
    wrong = tlv.encode(0x80, cb.RSA_V1_5_SHA_256.oid_bytes) + tlv.encode(
        0x83, terminal.certificate.chr_bytes
    )
    assert handler.handle(CommandApdu(0, 0x22, 0x81, 0xA4, wrong)).sw == 0x6A80
    unknown = ta.mse_set_at_data("XXNOBODY")
    assert handler.handle(CommandApdu(0, 0x22, 0x81, 0xA4, unknown)).sw == 0x6A88
    extra = unknown + tlv.encode(0x91, b"\x01")
    assert handler.handle(CommandApdu(0, 0x22, 0x81, 0xA4, extra)).sw == 0x6A80


def test_commands_out_of_order_and_single_use_challenge(pki):
    cvca, dv, terminal = pki
    chip = TaChip([cvca.certificate])
    cmd = CommandApdu
    # before start(): GET CHALLENGE / EXTERNAL AUTHENTICATE belong to BAC, not TA
    assert not chip.handles(cmd(0, 0x84, 0, 0, le=8))
    assert chip.handle(cmd(0, 0x22, 0x81, 0xA4, ta.mse_set_at_data(terminal.chr))).sw == 0x6985
    assert chip.handle(cmd(0, 0x2A, 0x00, 0xBE, dv.certificate.body)).sw == 0x6985  # no DST
    chip.start(id_picc=ID_PICC, terminal_ephemeral_public_key=PK_PCD)
    assert chip.handles(cmd(0, 0x84, 0, 0, le=8)) and chip.handles(cmd(0, 0x82, 0, 0, b"x"))
    assert not chip.handles(cmd(0, 0x22, 0x41, 0xA4, b""))  # MSE:Set AT for CA is not TA's
    assert chip.handle(cmd(0, 0x82, 0, 0, b"\x00" * 64)).sw == 0x6985  # nothing set up
    assert chip.handle(cmd(0, 0x84, 0, 0, le=16)).sw == 0x6700
    for cert in (dv, terminal):
        assert chip.handle(cmd(0, 0x22, 0x81, 0xB6, ta.mse_set_dst_data(cert.certificate.car))).sw
        data = cert.certificate.body + tlv.encode(0x5F37, cert.certificate.signature)
        assert chip.handle(cmd(0, 0x2A, 0x00, 0xBE, data)).sw == 0x9000
    assert chip.handle(cmd(0, 0x22, 0x81, 0xA4, ta.mse_set_at_data(terminal.chr))).sw == 0x9000
    challenge = chip.handle(cmd(0, 0x84, 0, 0, le=8)).data
    signature = ta.sign_challenge(
        terminal.private_key,
        terminal.algorithm,
        ta.signature_input(ID_PICC, challenge, ta.compress_public_key(PK_PCD, "ECDH")),
    )
    bad = bytes([signature[0] ^ 1]) + signature[1:]
    assert chip.handle(cmd(0, 0x82, 0, 0, bad)).sw == 0x6300
    # the challenge is gone after one attempt: even the right signature is refused now
    assert chip.handle(cmd(0, 0x82, 0, 0, signature)).sw == 0x6985
    assert not chip.authenticated
    challenge = chip.handle(cmd(0, 0x84, 0, 0, le=8)).data
    signature = ta.sign_challenge(
        terminal.private_key,
        terminal.algorithm,
        ta.signature_input(ID_PICC, challenge, ta.compress_public_key(PK_PCD, "ECDH")),
    )
    assert chip.handle(cmd(0, 0x82, 0, 0, signature)).sw == 0x9000
    assert chip.authenticated and chip.may_read(4)
    chip.reset()
    assert not chip.authenticated and not chip.may_read(4)
    # malformed PSO and MSE data
    assert chip.handle(cmd(0, 0x22, 0x81, 0xB6, b"\x83\x05AB")).sw == 0x6A80
    chip.handle(cmd(0, 0x22, 0x81, 0xB6, ta.mse_set_dst_data(cvca.chr)))
    assert chip.handle(cmd(0, 0x2A, 0x00, 0xBE, dv.certificate.body)).sw == 0x6A80
    assert chip.handle(cmd(0, 0x2A, 0x00, 0xBE, dv.certificate.body[:-4])).sw == 0x6A80


def test_chip_refuses_unusable_trust_points(pki):
    _, dv, _ = pki
    with pytest.raises(LocalProtocolError, match="not a CVCA"):
        TaChip([dv.certificate])
    with pytest.raises(LocalProtocolError, match="1 to 2"):
        TaChip([])


def test_apdu_exact_against_a_script():
    """The exact command bytes (TR-03110-3 B.11) for an RSA chain; EXTERNAL AUTHENTICATE's
    signature is deterministic for RSASSA-PKCS1-v1_5."""
    cvca, dv, terminal = cb.make_test_chain(algorithm=cb.RSA_V1_5_SHA_256, today=DAY, rsa_bits=1024)
    challenge = bytes.fromhex("0102030405060708")
    comp = ta.compress_public_key(PK_PCD, "ECDH")
    signature = ta.sign_challenge(
        terminal.private_key, terminal.algorithm, ta.signature_input(ID_PICC, challenge, comp)
    )

    def hexed(b: bytes) -> str:
        return b.hex()

    def pso(cert: cvc.CvCertificate) -> str:
        data = cert.body + tlv.encode(0x5F37, cert.signature)
        return "002A00BE" + hexed(len(data).to_bytes(3, "big")) + hexed(data)  # extended Lc

    dst_cvca = hexed(ta.mse_set_dst_data(cvca.chr))
    dst_dv = hexed(ta.mse_set_dst_data(dv.chr))
    at = hexed(ta.mse_set_at_data(terminal.chr, terminal.algorithm))
    script = [
        (f"002281B6{len(dst_cvca) // 2:02X}" + dst_cvca, "9000"),
        (pso(dv.certificate), "9000"),
        (f"002281B6{len(dst_dv) // 2:02X}" + dst_dv, "9000"),
        (pso(terminal.certificate), "9000"),
        (f"002281A4{len(at) // 2:02X}" + at, "9000"),
        ("0084000008", challenge.hex() + "9000"),
        ("0082000080" + hexed(signature), "9000"),
    ]
    transport = ScriptedTransport(script)
    ta.perform_ta(
        Channel(transport),
        [dv.encoded, terminal.encoded],
        terminal.private_key,
        id_picc=ID_PICC,
        ephemeral_ca_public_key=PK_PCD,
    )
    assert transport.done


def test_short_challenge_and_refused_get_challenge():
    _, dv, terminal = cb.make_test_chain(today=DAY)
    ok = [("*", "9000")] * 5
    for answer, message in (("01020304050607" + "9000", "challenge of 7 bytes"), ("6982", "6982")):
        transport = ScriptedTransport([*ok, ("*", answer)])
        with pytest.raises(ta.TerminalAuthenticationError, match=message) as info:
            ta.perform_ta(
                Channel(transport),
                [dv.encoded, terminal.encoded],
                terminal.private_key,
                id_picc=ID_PICC,
                ephemeral_ca_public_key=PK_PCD,
            )
        assert info.value.step == "GET CHALLENGE"


def test_every_step_name_is_listed():
    assert ta.TA_STEPS == (
        "select certificate chain",
        "MSE:Set DST",
        "PSO:Verify Certificate",
        "MSE:Set AT",
        "GET CHALLENGE",
        "EXTERNAL AUTHENTICATE",
    )
