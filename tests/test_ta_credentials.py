"""TerminalCredentials: what ``epass read --ta-cert-chain FILES --ta-key FILE`` will load.

Certificates and keys are TEST material generated here at runtime and written
to tmp_path; no key file lives in the tree.
"""

from __future__ import annotations

import datetime
import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from drivers.virtual import cvc_builder as cb
from drivers.virtual.ta import TaChip
from epass._crypto.signing import load_private_key
from epass.access import ta
from epass.cvc import MAX_CERTIFICATE_SIZE
from epass.errors import LocalProtocolError, ParseError, UnsupportedAlgorithmError
from tests.ta_chip import MiniTaChip

DAY = datetime.date(2025, 3, 1)


@pytest.fixture(scope="module")
def pki():
    return cb.make_test_chain(today=DAY)


def _write(tmp_path, pki, *, order=(0, 1, 2), key: bytes | None = None):
    files = []
    for i in order:
        path = tmp_path / f"{pki[i].chr}.cvcert"
        path.write_bytes(pki[i].encoded)
        files.append(path)
    key_path = tmp_path / "is-key.pem"
    key_path.write_bytes(key if key is not None else pki[2].private_key.to_pkcs8())
    return files, key_path


def test_load_orders_the_chain_and_checks_the_key(tmp_path, pki):
    cvca, dv, terminal = pki
    files, key = _write(tmp_path, pki, order=(2, 0, 1))
    creds = ta.TerminalCredentials.load(files, key)
    assert [c.chr for c in creds.chain] == [cvca.chr, dv.chr, terminal.chr]
    assert creds.terminal.chr == terminal.chr and creds.chat.read_dg3
    assert creds.chain[0].file == f"{cvca.chr}.cvcert"
    assert "PrivateKey" not in repr(creds) and "hidden" in repr(creds.private_key)
    # and it runs TA (the self-signed root is not sent)
    chip = TaChip([cvca.certificate])
    chip.start(id_picc=b"L898902C36", terminal_ephemeral_public_key=b"\x04" + bytes(range(64)))
    result = ta.perform_ta(
        MiniTaChip(chip).channel(),
        creds.chain,
        creds.private_key,
        id_picc=b"L898902C36",
        ephemeral_ca_public_key=b"\x04" + bytes(range(64)),
    )
    assert result.certificates == (dv.chr, terminal.chr) and chip.may_read(3)


def test_der_keys_and_one_file_holding_the_whole_chain(tmp_path, pki):
    _, dv, terminal = pki
    bundle = tmp_path / "chain.cvcerts"
    bundle.write_bytes(terminal.encoded + dv.encoded)  # any order, back to back
    key = tmp_path / "is-key.der"
    key.write_bytes(terminal.private_key.to_pkcs8(pem=False))
    creds = ta.TerminalCredentials.load([bundle], key)
    assert [c.chr for c in creds.chain] == [dv.chr, terminal.chr]
    assert creds.chain[0].file == "chain.cvcerts[1]"
    # the traditional SEC 1 "EC PRIVATE KEY" form loads too
    raw = terminal.private_key._key
    sec1 = raw.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    key.write_bytes(sec1)
    assert ta.TerminalCredentials.load([bundle], key).terminal.chr == terminal.chr


def test_rsa_credentials(tmp_path):
    pki = cb.make_test_chain(algorithm=cb.RSA_PSS_SHA_256, today=DAY, rsa_bits=1024)
    files, key = _write(tmp_path, pki)
    creds = ta.TerminalCredentials.load(files, key)
    assert creds.private_key.kind == "rsa" and creds.private_key.bits == 1024


def test_encrypted_key(tmp_path, pki):
    raw = pki[2].private_key._key
    assert isinstance(raw, ec.EllipticCurvePrivateKey)
    pem = raw.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"test-password"),
    )
    files, key = _write(tmp_path, pki, key=pem)
    assert ta.TerminalCredentials.load(files, key, password=b"test-password").terminal
    for password in (None, b"wrong"):
        with pytest.raises(LocalProtocolError, match="not a readable private key") as info:
            ta.TerminalCredentials.load(files, key, password=password)
        assert "BEGIN" not in str(info.value)


def test_key_that_does_not_match_is_refused(tmp_path, pki):
    other = cb.make_key(cb.ECDSA_SHA_256).to_pkcs8()
    files, key = _write(tmp_path, pki, key=other)
    with pytest.raises(LocalProtocolError, match="does not match the terminal certificate"):
        ta.TerminalCredentials.load(files, key)
    rsa = cb.make_key(cb.RSA_V1_5_SHA_256, rsa_bits=1024).to_pkcs8()
    files, key = _write(tmp_path, pki, key=rsa)
    with pytest.raises(LocalProtocolError, match="does not match"):
        ta.TerminalCredentials.load(files, key)
    other_curve = cb.make_key(cb.ECDSA_SHA_256, curve="secp256r1").to_pkcs8()
    files, key = _write(tmp_path, pki, key=other_curve)
    with pytest.raises(LocalProtocolError, match="does not match"):
        ta.TerminalCredentials.load(files, key)


def test_chains_that_are_not_one_chain_are_refused(tmp_path, pki):
    cvca, dv, terminal = pki
    _, other_dv, other_is = cb.make_test_chain(today=DAY, country="ZZ")
    key = terminal.private_key.to_pkcs8()
    cases = [
        ([cvca.encoded, dv.encoded], "exactly one terminal certificate, found 0"),
        ([terminal.encoded, other_is.encoded, dv.encoded], "found 2"),
        ([terminal.encoded, dv.encoded, other_dv.encoded], "not part of the terminal's chain"),
        ([terminal.encoded, dv.encoded, dv.encoded], "two certificates with CHR"),
        ([terminal.encoded] * 9, "more than 8"),
    ]
    for chain, message in cases:
        with pytest.raises(LocalProtocolError, match=message):
            ta.TerminalCredentials.from_bytes(chain, key)
    with pytest.raises(LocalProtocolError, match="one name per"):
        ta.TerminalCredentials.from_bytes([terminal.encoded], key, names=["a", "b"])


def test_malformed_and_oversized_files(tmp_path, pki):
    files, key = _write(tmp_path, pki)
    broken = tmp_path / "broken.cvcert"
    broken.write_bytes(pki[1].encoded[:-10])
    with pytest.raises(LocalProtocolError, match=r"broken\.cvcert: not CV certificates"):
        ta.TerminalCredentials.load([files[0], broken, files[2]], key)
    # a certificate with a bad date: ParseError naming the file and the offset
    raw = bytearray(pki[1].encoded)
    at = raw.find(b"\x5f\x25\x06") + 3
    raw[at + 2] = 0x07  # month 7x
    bad = tmp_path / "bad-date.cvcert"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ParseError) as info:
        ta.TerminalCredentials.load([files[0], bad, files[2]], key)
    assert info.value.file == "bad-date.cvcert" and info.value.offset == at - 3
    # oversized files are refused after a bounded read
    huge = tmp_path / "huge.cvcert"
    with huge.open("wb") as handle:
        handle.truncate(8 * MAX_CERTIFICATE_SIZE + 1)
    with pytest.raises(LocalProtocolError, match="larger than"):
        ta.TerminalCredentials.load([huge], key)
    big_key = tmp_path / "big.pem"
    with big_key.open("wb") as handle:
        handle.truncate(16385)
    with pytest.raises(LocalProtocolError, match="larger than"):
        ta.TerminalCredentials.load(files, big_key)
    with pytest.raises(LocalProtocolError, match="cannot read"):
        ta.TerminalCredentials.load([tmp_path / "missing.cvcert"], key)
    with pytest.raises(LocalProtocolError, match="no certificate files"):
        ta.TerminalCredentials.load([], key)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(LocalProtocolError, match="malformed"):
        ta.TerminalCredentials.load(files, garbage)


def test_unsupported_key_types(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(UnsupportedAlgorithmError, match="RSA or EC only"):
        load_private_key(pem)
    k1 = ec.generate_private_key(ec.SECP256K1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(UnsupportedAlgorithmError, match="secp256k1"):
        load_private_key(k1)


def test_random_junk_keys_never_escape_as_builtin_errors():
    rng = random.Random(9)
    for n in (0, 1, 16, 200, 1000):
        blob = bytes(rng.randrange(256) for _ in range(n))
        for data in (blob, b"-----BEGIN PRIVATE KEY-----\n" + blob):
            with pytest.raises((LocalProtocolError, UnsupportedAlgorithmError)):
                load_private_key(data)
