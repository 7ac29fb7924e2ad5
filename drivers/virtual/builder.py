"""Test documents for the virtual chip, signed by the TEST PKI (NOT A REAL DOCUMENT).

:func:`build_document` makes a complete, consistent eMRTD: DG1 from the MRZ
fields (ICAO Doc 9303-10 §4.7.1), DG2 with a synthetic face image in JPEG or
JPEG 2000 (§4.7.2, ISO/IEC 19794-5), DG14 with a Chip Authentication key and
the Active Authentication info (§4.7.14, 9303-11 §9.2), DG15 with the Active
Authentication public key (§4.7.15), EF.COM (§4.6.1) and an EF.SOD signed by
the test DS (§4.6.2). The private keys of Active and Chip Authentication are
kept with the document for the virtual chip.

With PACE options (:class:`~drivers.virtual.pace_options.PaceOption`) it
also makes the master file's EF.CardAccess (9303-11 §9.2.11: SecurityInfos
with one PACEInfo per option) and EF.CardSecurity (9303-11 §9.2.11, BSI
TR-03110-3 A.1.2.5: the same PACEInfos and, for PACE-CAM, the
ChipAuthenticationInfo and ChipAuthenticationPublicKeyInfo of the chip's
CAM key on the PACE curve, in a CMS SignedData signed by the same test DS as
EF.SOD). :func:`td1_mrz` makes the three-line MRZ of an ID card.

:func:`specimen` is the built-in passport: the ICAO Doc 9303-4 specimen holder
(ERIKSSON, ANNA MARIA, Utopia, document L898902C<), with the expiry moved to
2034 so the demo document is current. Everything in it is derived from
public seeds, so it is byte-identical in every process.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from drivers.virtual.chip import ChipConfig, Faults, VirtualChip
from drivers.virtual.face import synthetic_face
from drivers.virtual.pace_options import PaceOption, cam_private_key
from drivers.virtual.pki import TestPki, derive_test_key, hash_data_groups, make_test_pki
from drivers.virtual.transport import VirtualTransport
from epass._crypto.ec import curve_by_name
from epass.lds import com, dg1, dg2, dg14, dg15, mrz
from epass.lds.files import LdsFile
from epass.lds.security_infos import (
    ID_CA,
    encode_ca_info,
    encode_ca_public_key_info,
    encode_pace_info,
    encode_security_infos,
)
from epass.pa.trust import TrustStore

__all__ = [
    "DEFAULT_CAN",
    "SPECIMEN_HOLDER",
    "Holder",
    "VirtualDocument",
    "build_document",
    "card_access",
    "card_security",
    "specimen",
    "td1_mrz",
    "td3_mrz",
]

#: The card access number printed on every virtual document unless told otherwise.
DEFAULT_CAN = "123456"

AaAlgorithm = Literal["ec", "rsa"]


@dataclass(frozen=True)
class Holder:
    """The printed data of a TD3 passport (ICAO Doc 9303-4 §4.2.2)."""

    document_code: str = "P"
    issuing_state: str = "UTO"
    primary_identifier: str = "ERIKSSON"
    secondary_identifier: str = "ANNA MARIA"
    document_number: str = "L898902C"
    nationality: str = "UTO"
    date_of_birth: str = "740812"
    sex: str = "F"
    date_of_expiry: str = "340415"
    optional_data: str = "ZE184226B"


#: The Doc 9303-4 specimen holder; expiry moved from 120415 to 340415.
SPECIMEN_HOLDER = Holder()


def _field(text: str, width: int) -> str:
    value = text.upper().replace(" ", "<")
    if len(value) > width:
        raise ValueError(f"{text!r} does not fit {width} MRZ characters")
    return value.ljust(width, "<")


def td3_mrz(holder: Holder) -> str:
    """The two 44-character lines of a TD3 MRZ with every check digit (9303-4 §4.2.2).

    Document numbers longer than 9 characters need TD1/TD2; TD3 has no room.
    """
    names = holder.primary_identifier.upper().replace(" ", "<")
    if holder.secondary_identifier:
        names += "<<" + holder.secondary_identifier.upper().replace(" ", "<")
    line1 = _field(holder.document_code, 2) + _field(holder.issuing_state, 3) + _field(names, 39)
    number = _field(holder.document_number, 9)
    optional = _field(holder.optional_data, 14)
    parts = [
        number + mrz.check_digit(number),
        _field(holder.nationality, 3),
        holder.date_of_birth + mrz.check_digit(holder.date_of_birth),
        _field(holder.sex, 1),
        holder.date_of_expiry + mrz.check_digit(holder.date_of_expiry),
        optional + (mrz.check_digit(optional) if holder.optional_data else "<"),
    ]
    line2 = "".join(parts)
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    line2 += mrz.check_digit(composite)
    return line1 + "\n" + line2


def td1_mrz(holder: Holder) -> str:
    """The three 30-character lines of a TD1 MRZ with every check digit (9303-5 §4.2.2).

    Line 1: document code, issuing state, document number (9 characters) and
    its check digit, optional data; line 2: date of birth, sex, date of
    expiry, nationality, optional data, composite check digit; line 3: the name.
    """
    number = _field(holder.document_number, 9)
    line1 = (
        _field(holder.document_code, 2)
        + _field(holder.issuing_state, 3)
        + number
        + mrz.check_digit(number)
        + _field(holder.optional_data, 15)
    )
    line2 = (
        holder.date_of_birth
        + mrz.check_digit(holder.date_of_birth)
        + _field(holder.sex, 1)
        + holder.date_of_expiry
        + mrz.check_digit(holder.date_of_expiry)
        + _field(holder.nationality, 3)
        + _field("", 11)
    )
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += mrz.check_digit(composite)
    names = holder.primary_identifier.upper().replace(" ", "<")
    if holder.secondary_identifier:
        names += "<<" + holder.secondary_identifier.upper().replace(" ", "<")
    return line1 + "\n" + line2 + "\n" + _field(names, 30)


def _cam_public_key_info(parameter_id: int, private_key: int) -> bytes:
    """SubjectPublicKeyInfo (id-ecPublicKey, named curve) of the CAM key d·G.

    BSI TR-03110-3 A.1.1.2 (the chip-authentication public key).
    """
    option_curve = PaceOption("CAM", "ECDH", "AES-128", parameter_id).domain_name
    named = curve_by_name(option_curve)
    if named is None:  # pragma: no cover - PaceOption checked the id
        raise ValueError(f"no curve {option_curve}")
    point = named.curve.multiply(private_key)
    spki = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters({"named": named.oid}),
            },
            "public_key": point.encode(),
        }
    )
    return bytes(spki.dump())


def card_access(options: Sequence[PaceOption]) -> bytes:
    """EF.CardAccess: SecurityInfos with one PACEInfo (version 2, parameterId) per option.

    ICAO Doc 9303-11 §9.2.1, §9.2.11. Elements are kept in the given order
    (DER SET OF order would sort them; chips in the field list them as issued).
    """
    infos = [encode_pace_info(o.oid, version=2, parameter_id=o.parameter_id) for o in options]
    return encode_security_infos(infos, sort=False)


def card_security(
    options: Sequence[PaceOption], cam_keys: Mapping[int, int], pki: TestPki
) -> bytes:
    """EF.CardSecurity signed by *pki*'s DS (9303-11 §9.2.11, TR-03110-3 A.1.2.5).

    SecurityInfos: the PACEInfos of EF.CardAccess and, for each curve with a
    CAM key, a ChipAuthenticationInfo (id-CA-ECDH-AES-CBC-CMAC-128, version 1)
    and a ChipAuthenticationPublicKeyInfo (id-PK-ECDH) carrying the key, each
    with a keyId when there are several keys.
    """
    infos = [encode_pace_info(o.oid, version=2, parameter_id=o.parameter_id) for o in options]
    several = len(cam_keys) > 1
    for parameter_id, private_key in sorted(cam_keys.items()):
        key_id = parameter_id if several else None
        infos.append(encode_ca_info(f"{ID_CA}.2.2", version=1, key_id=key_id))
        infos.append(
            encode_ca_public_key_info(
                _cam_public_key_info(parameter_id, private_key), key_id=key_id
            )
        )
    return pki.sign_card_security(encode_security_infos(infos, sort=False))


def _spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class VirtualDocument:
    """A test document: its files, MRZ, keys and the PKI that signed it."""

    files: Mapping[LdsFile, bytes]
    mrz: str
    pki: TestPki
    holder: Holder
    aa_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = field(repr=False)
    ca_key: ec.EllipticCurvePrivateKey | None = field(repr=False)
    #: The card access number printed on the document (PACE password, 9303-11 §9.7.3).
    can: str | None = field(default=DEFAULT_CAN, repr=False)
    #: The PACE options EF.CardAccess offers (empty: BAC only).
    pace_options: tuple[PaceOption, ...] = ()
    #: The chip's PACE-CAM private keys by parameter id (TEST keys, derived from a public seed).
    cam_keys: Mapping[int, int] = field(default_factory=dict, repr=False)
    #: How a chip of this document behaves unless told otherwise (a profile's chip).
    chip_config: ChipConfig | None = None
    #: The profile this document was made for, if any (:mod:`drivers.virtual.profiles`).
    profile: str | None = None

    @property
    def mrz_information(self) -> str:
        """The BAC key seed input (9303-11 §9.7.2)."""
        return mrz.parse(self.mrz).mrz_information

    def dump(self) -> dict[str, bytes]:
        """The files keyed by label, as :func:`epass.pa.verify` takes them."""
        return {f.label: data for f, data in self.files.items()}

    def trust_store(self) -> TrustStore:
        """A trust store holding this document's TEST CSCA."""
        store = TrustStore()
        store.add(self.pki.csca_der, source="epass virtual test PKI (NOT A REAL CSCA)")
        return store

    def chip(
        self,
        *,
        config: ChipConfig | None = None,
        faults: Faults | None = None,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> VirtualChip:
        """A virtual chip holding this document (*config* defaults to :attr:`chip_config`)."""
        return VirtualChip(
            self.files,
            self.mrz_information,
            can=self.can,
            cam_keys=self.cam_keys,
            config=config if config is not None else self.chip_config,
            faults=faults,
            rng=rng,
        )

    def transport(
        self,
        *,
        config: ChipConfig | None = None,
        faults: Faults | None = None,
        reader_extended_length: bool | None = None,
    ) -> VirtualTransport:
        """An in-process transport to a fresh chip holding this document."""
        return VirtualTransport(
            self.chip(config=config, faults=faults), reader_extended_length=reader_extended_length
        )

    def with_file(self, file: LdsFile, data: bytes | None) -> VirtualDocument:
        """A copy with *file* replaced (or removed with ``None``), NOT re-signed."""
        files = dict(self.files)
        if data is None:
            files.pop(file, None)
        else:
            files[file] = data
        return replace(self, files=files)

    def tampered(self, file: LdsFile, offset: int = -1) -> VirtualDocument:
        """A copy with one byte of *file* flipped after signing (a forgery to detect)."""
        data = bytearray(self.files[file])
        data[offset] ^= 0x01
        return self.with_file(file, bytes(data))


def build_document(
    holder: Holder = SPECIMEN_HOLDER,
    *,
    pki: TestPki | None = None,
    face_format: Literal["JPEG", "JPEG2000"] = "JPEG",
    face_size: int | None = 20000,
    face_width: int = 240,
    face_height: int = 320,
    include_dg14: bool = True,
    include_dg15: bool = True,
    aa_algorithm: AaAlgorithm = "ec",
    hash_algorithm: str = "sha256",
    sod_version: int = 0,
    lds_version: str = "0108",
    unicode_version: str = "040000",
    seed: bytes = b"epass virtual specimen",
    pace: Sequence[PaceOption] = (),
    can: str | None = DEFAULT_CAN,
    mrz_format: Literal["TD3", "TD1"] = "TD3",
    card_security_file: bool = True,
    extra_data_groups: Mapping[int, bytes] | None = None,
) -> VirtualDocument:
    """Build a complete test document signed by *pki* (default: the deterministic test PKI).

    :param face_size: aim for a face image of about this many bytes (the
        benchmark uses 20 KB; above 32 KB exercises odd-INS reads).
    :param aa_algorithm: ``"ec"`` (P-256, deterministic) or ``"rsa"`` (RSA-2048, generated).
    :param sod_version: 0, or 1 (LDS 1.8 with LDSVersionInfo).
    :param pace: the PACE options of EF.CardAccess, in order (empty: no
        EF.CardAccess, a BAC-only chip). CAM options get a chip-authentication
        key on their curve, published in EF.CardSecurity.
    :param can: the card access number (6 digits; ``None``: no CAN).
    :param mrz_format: ``"TD3"`` (passport) or ``"TD1"`` (ID card).
    :param card_security_file: make EF.CardSecurity when PACE is offered.
    :param extra_data_groups: more data groups by number (e.g. ``{11:
        epass.lds.dg11.encode_dg11(...)}``, DG3/4/5/7/11/12/13/16), listed in
        EF.COM and hashed in EF.SOD like the others; a number the builder
        makes itself (1, 2, 14, 15) is replaced by the given bytes.
    """
    pki = pki or make_test_pki()
    text = td1_mrz(holder) if mrz_format == "TD1" else td3_mrz(holder)
    files: dict[LdsFile, bytes] = {}
    files[LdsFile.DG1] = dg1.encode(text)
    image, width, height = synthetic_face(
        fmt=face_format,
        width=face_width,
        height=face_height,
        target_size=face_size,
        seed=int.from_bytes(hashlib.sha256(seed).digest()[:4], "big"),
    )
    files[LdsFile.DG2] = dg2.encode(
        [dg2.FaceImageSpec(image=image, format=face_format, width=width, height=height)]
    )
    aa_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None
    ca_key: ec.EllipticCurvePrivateKey | None = None
    if include_dg15:
        if aa_algorithm == "ec":
            aa_key = derive_test_key(seed, "active authentication")
        else:
            aa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        files[LdsFile.DG15] = dg15.encode(_spki(aa_key))
    if include_dg14:
        ca_key = derive_test_key(seed, "chip authentication")
        # 9303-11 §9.2.6: an ECDSA AA key needs ActiveAuthenticationInfo naming the scheme.
        files[LdsFile.DG14] = dg14.encode_chip_authentication(
            _spki(ca_key), active_authentication_ec=include_dg15 and aa_algorithm == "ec"
        )
    for number, data in (extra_data_groups or {}).items():
        files[LdsFile.data_group(number)] = bytes(data)
    listed = [f for f in sorted(files, key=lambda f: f.number)]
    files[LdsFile.EF_COM] = com.encode(
        listed, lds_version=lds_version, unicode_version=unicode_version
    )
    dg_hashes = hash_data_groups(
        {f.number: data for f, data in files.items() if f.number}, hash_algorithm
    )
    v1 = {"lds_version": lds_version, "unicode_version": unicode_version} if sod_version else {}
    files[LdsFile.EF_SOD] = pki.sign_sod(
        dg_hashes, hash_algorithm=hash_algorithm, version=sod_version, **v1
    )
    cam_keys: dict[int, int] = {}
    if pace:
        for option in pace:
            if option.mapping == "CAM" and option.parameter_id not in cam_keys:
                cam_keys[option.parameter_id] = cam_private_key(seed, option.parameter_id)
        files[LdsFile.EF_CARD_ACCESS] = card_access(pace)
        if card_security_file:
            files[LdsFile.EF_CARD_SECURITY] = card_security(pace, cam_keys, pki)
    ordered = {f: files[f] for f in sorted(files, key=lambda f: (f.number, f.label))}
    return VirtualDocument(
        ordered,
        text,
        pki,
        holder,
        aa_key,
        ca_key,
        can=can,
        pace_options=tuple(pace),
        cam_keys=cam_keys,
    )


@functools.lru_cache(maxsize=4)
def specimen(face_format: Literal["JPEG", "JPEG2000"] = "JPEG") -> VirtualDocument:
    """The built-in virtual passport (cached; identical in every process)."""
    return build_document(face_format=face_format)
