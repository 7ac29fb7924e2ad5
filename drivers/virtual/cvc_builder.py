"""A CV-certificate PKI for tests and the virtual chip: CVCA, link, DV and IS certificates.

TEST KEYS ONLY. Every key here is made at runtime: either fresh
(:func:`epass._crypto.signing.generate_ec_key` / ``generate_rsa_key``) or, with
``deterministic=True``, an EC scalar derived from the holder reference as
``SHA-256("epass test CV key " ‖ CHR) mod n``. Such a key is public
knowledge by construction: it authenticates nothing outside tests.

Certificates follow BSI TR-03110-3 Appendix C (body, CHAT, dates) and D.3
(public keys: a CVCA key carries its domain parameters, DV and terminal keys
only their point). Typical use::

    cvca = new_cvca("XXCVCA00001", effective=date(2024, 1, 1), expiration=date(2027, 1, 1))
    dv = issue(cvca, "XXDVIS00001", Role.DV_DOMESTIC, rights=0x03, ...)
    terminal = issue(dv, "XXISTEST0001", Role.TERMINAL, rights=0x03, ...)
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from epass._crypto.ec import NAMED_CURVES
from epass._crypto.signing import (
    PrivateKey,
    ec_key_from_scalar,
    generate_ec_key,
    generate_rsa_key,
)
from epass.cvc import (
    ID_IS,
    TA_ALGORITHMS,
    CvCertificate,
    Role,
    TaAlgorithm,
    encode_body,
    encode_certificate,
    encode_chat,
    encode_public_key,
    parse_certificate,
)

__all__ = [
    "ECDSA_SHA_256",
    "RSA_PSS_SHA_256",
    "RSA_V1_5_SHA_256",
    "Credential",
    "issue",
    "link_cvca",
    "make_key",
    "make_test_chain",
    "new_cvca",
]

ECDSA_SHA_256 = TA_ALGORITHMS["0.4.0.127.0.7.2.2.2.2.3"]
RSA_V1_5_SHA_256 = TA_ALGORITHMS["0.4.0.127.0.7.2.2.2.1.2"]
RSA_PSS_SHA_256 = TA_ALGORITHMS["0.4.0.127.0.7.2.2.2.1.4"]


@dataclass(frozen=True)
class Credential:
    """A certificate and the private key of its holder (a TEST key).

    :ivar curve: the EC curve of the key (``None`` for RSA); DV and terminal
        keys sit on their CVCA's curve.
    """

    certificate: CvCertificate
    private_key: PrivateKey = field(repr=False)
    algorithm: TaAlgorithm
    curve: str | None

    @property
    def encoded(self) -> bytes:
        """The certificate bytes (7F21)."""
        return self.certificate.encoded

    @property
    def chr(self) -> str:
        return self.certificate.chr


def make_key(
    algorithm: TaAlgorithm,
    *,
    curve: str = "brainpoolP256r1",
    rsa_bits: int = 2048,
    holder: str | None = None,
    deterministic: bool = False,
) -> PrivateKey:
    """A TEST key for *algorithm*: EC on *curve*, or RSA of *rsa_bits*.

    With *deterministic* (EC only), the scalar is derived from *holder* (see
    the module docstring); RSA keys are always fresh.
    """
    if not algorithm.is_ec:
        return generate_rsa_key(rsa_bits)
    if deterministic:
        if holder is None:
            raise ValueError("a deterministic key needs the holder reference")
        order = NAMED_CURVES[curve].parameters.n
        seed = hashlib.sha256(b"epass test CV key " + holder.encode("latin-1")).digest()
        return ec_key_from_scalar(int.from_bytes(seed, "big") % (order - 1) + 1, curve)
    return generate_ec_key(curve)


def _public_key(
    algorithm: TaAlgorithm, key: PrivateKey, curve: str | None, *, with_domain: bool
) -> bytes:
    if algorithm.is_ec:
        assert curve is not None  # noqa: S101 - EC credentials always name their curve
        domain = NAMED_CURVES[curve].parameters if with_domain else None
        return encode_public_key(algorithm.oid, point=key.ec_public_point, domain=domain)
    n, e = key.rsa_public_numbers
    return encode_public_key(algorithm.oid, modulus=n, exponent=e)


def _sign(issuer_key: PrivateKey, algorithm: TaAlgorithm, body: bytes) -> bytes:
    kind = "ecdsa-plain" if algorithm.is_ec else algorithm.kind
    return issuer_key.sign(body, kind=kind, hash_name=algorithm.hash)  # type: ignore[arg-type]


def _certificate(
    *,
    signer: PrivateKey,
    signer_algorithm: TaAlgorithm,
    car: str,
    subject_key: PrivateKey,
    subject_algorithm: TaAlgorithm,
    curve: str | None,
    chr: str,
    role: Role,
    rights: int,
    effective: datetime.date,
    expiration: datetime.date,
    terminal_type: str,
    template_length: int,
) -> CvCertificate:
    bits = template_length * 8
    if rights >> (bits - 2):
        raise ValueError("rights overlap the role bits")
    template = ((int(role) << (bits - 2)) | rights).to_bytes(template_length, "big")
    body = encode_body(
        car=car,
        public_key=_public_key(
            subject_algorithm, subject_key, curve, with_domain=role is Role.CVCA
        ),
        chr=chr,
        chat=encode_chat(terminal_type, template),
        effective=effective,
        expiration=expiration,
    )
    encoded = encode_certificate(body, _sign(signer, signer_algorithm, body))
    return parse_certificate(encoded, file=chr)


def new_cvca(
    chr: str = "XXCVCA00001",
    *,
    effective: datetime.date,
    expiration: datetime.date,
    algorithm: TaAlgorithm = ECDSA_SHA_256,
    curve: str = "brainpoolP256r1",
    rsa_bits: int = 2048,
    rights: int = 0x03,
    terminal_type: str = ID_IS,
    template_length: int = 1,
    deterministic: bool = False,
    key: PrivateKey | None = None,
) -> Credential:
    """A self-signed CVCA certificate (role CVCA, EC domain parameters included) and its key."""
    private_key = key or make_key(
        algorithm, curve=curve, rsa_bits=rsa_bits, holder=chr, deterministic=deterministic
    )
    ec_curve = curve if algorithm.is_ec else None
    cert = _certificate(
        signer=private_key,
        signer_algorithm=algorithm,
        car=chr,
        subject_key=private_key,
        subject_algorithm=algorithm,
        curve=ec_curve,
        chr=chr,
        role=Role.CVCA,
        rights=rights,
        effective=effective,
        expiration=expiration,
        terminal_type=terminal_type,
        template_length=template_length,
    )
    return Credential(cert, private_key, algorithm, ec_curve)


def issue(
    issuer: Credential,
    chr: str,
    role: Role,
    *,
    effective: datetime.date,
    expiration: datetime.date,
    rights: int = 0x03,
    terminal_type: str = ID_IS,
    template_length: int = 1,
    deterministic: bool = False,
    key: PrivateKey | None = None,
    rsa_bits: int = 2048,
    car: str | None = None,
) -> Credential:
    """A certificate for a new key (or *key*), signed by *issuer*, with the issuer's algorithm.

    :param role: ``Role.CVCA`` for a link certificate (then the EC domain
        parameters are included), a DV role, or ``Role.TERMINAL``.
    :param car: override the CAR (tests of a mismatched reference); default the issuer's CHR.
    """
    algorithm = issuer.algorithm
    curve = issuer.curve
    private_key = key or make_key(
        algorithm,
        curve=curve or "brainpoolP256r1",
        rsa_bits=rsa_bits,
        holder=chr,
        deterministic=deterministic,
    )
    cert = _certificate(
        signer=issuer.private_key,
        signer_algorithm=algorithm,
        car=issuer.chr if car is None else car,
        subject_key=private_key,
        subject_algorithm=algorithm,
        curve=curve,
        chr=chr,
        role=role,
        rights=rights,
        effective=effective,
        expiration=expiration,
        terminal_type=terminal_type,
        template_length=template_length,
    )
    return Credential(cert, private_key, algorithm, curve)


def link_cvca(
    old: Credential,
    chr: str,
    *,
    effective: datetime.date,
    expiration: datetime.date,
    rights: int = 0x03,
    deterministic: bool = False,
) -> Credential:
    """A CVCA link certificate: the new CVCA key *chr* signed by the *old* CVCA key."""
    return issue(
        old,
        chr,
        Role.CVCA,
        effective=effective,
        expiration=expiration,
        rights=rights,
        deterministic=deterministic,
    )


def make_test_chain(
    *,
    algorithm: TaAlgorithm = ECDSA_SHA_256,
    curve: str = "brainpoolP256r1",
    rsa_bits: int = 2048,
    today: datetime.date | None = None,
    rights: int = 0x03,
    country: str = "XX",
    deterministic: bool = False,
) -> tuple[Credential, Credential, Credential]:
    """A CVCA, a domestic DV and an IS, valid from *today* (default: the current date).

    CHRs ``<country>CVCA00001``, ``<country>DVTEST00001``, ``<country>ISTEST00001``; the CVCA
    runs three years, the DV one year, the IS 90 days; every CHAT grants *rights*
    (0x03 = DG3 and DG4).
    """
    day = today or datetime.date.today()
    cvca = new_cvca(
        f"{country}CVCA00001",
        effective=day,
        expiration=day + datetime.timedelta(days=3 * 365),
        algorithm=algorithm,
        curve=curve,
        rsa_bits=rsa_bits,
        deterministic=deterministic,
    )
    dv = issue(
        cvca,
        f"{country}DVTEST00001",
        Role.DV_DOMESTIC,
        effective=day,
        expiration=day + datetime.timedelta(days=365),
        rights=rights,
        deterministic=deterministic,
        rsa_bits=rsa_bits,
    )
    terminal = issue(
        dv,
        f"{country}ISTEST00001",
        Role.TERMINAL,
        effective=day,
        expiration=day + datetime.timedelta(days=90),
        rights=rights,
        deterministic=deterministic,
        rsa_bits=rsa_bits,
    )
    return cvca, dv, terminal
