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
EF.SOD); a DG14 then repeats the PACEInfos, signed through EF.SOD (9303-11
§9.2.11), so a stripped EF.CardAccess is detected. :func:`td1_mrz` makes the
three-line MRZ of an ID card.

:func:`specimen` is the built-in passport: the ICAO Doc 9303-4 specimen holder
(ERIKSSON, ANNA MARIA, Utopia, document L898902C<), with the expiry moved to
2034 so the demo document is current. Everything in it is derived from
public seeds, so it is byte-identical in every process.

Chip authentication (9303-11 §6) is described by a :class:`ChipAuthSpec`:
the Active Authentication key (ECDSA P-256 or RSA-1024/2048 in DG15, with
ActiveAuthenticationInfo in DG14 for ECDSA), the Chip Authentication v1 keys
(ECDH or DH, 3DES or AES, in DG14), and Terminal Authentication with a test
CVCA (TerminalAuthenticationInfo in DG14, DG3 and DG4 on the chip, readable
after TA). Every key is derived from the document's seed (TEST keys, public
knowledge by construction); :meth:`VirtualDocument.chip` hands them to the
virtual chip, and :meth:`VirtualDocument.cloned` makes a chip holding the same
files with other keys (a cloned chip).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image, ImageDraw

from drivers.virtual.chip import ChipConfig, Faults, VirtualChip
from drivers.virtual.chip_auth import AaChipKey, CaChipKey
from drivers.virtual.cvc_builder import Credential, make_test_chain
from drivers.virtual.face import synthetic_face
from drivers.virtual.pace_options import PaceOption, cam_private_key
from drivers.virtual.pki import (
    TestPki,
    derive_test_key,
    derive_test_rsa_key,
    hash_data_groups,
    make_test_pki,
    seeded_rng,
)
from drivers.virtual.ta import TaChip
from drivers.virtual.transport import VirtualTransport
from epass._crypto.ec import curve_by_name
from epass.access.pace_groups import standardized_group
from epass.lds import com, dg1, dg2, dg3, dg4, dg14, dg15, mrz
from epass.lds.files import LdsFile
from epass.lds.security_infos import (
    ID_CA,
    encode_ca_info,
    encode_ca_public_key_info,
    encode_pace_info,
    encode_security_infos,
    encode_ta_info,
)
from epass.pa.trust import TrustStore

__all__ = [
    "DEFAULT_CAN",
    "SPECIMEN_HOLDER",
    "CaKeySpec",
    "ChipAuthSpec",
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
#: Active Authentication keys a test document can carry.
AaKind = Literal["none", "ecdsa-p256", "rsa-1024", "rsa-2048"]


@dataclass(frozen=True)
class CaKeySpec:
    """One Chip Authentication v1 key of DG14 (9303-11 §9.2.3, §9.2.4).

    :ivar parameter_id: the standardized domain parameters (9303-11 §9.5.1):
        12 NIST P-256, 13 brainpoolP256r1, 2 DH 2048-bit/256-bit subgroup ...
    :ivar cipher: the last arc of the id-CA OID: 1 3DES (MSE:Set KAT), 2 AES-128,
        3 AES-192, 4 AES-256 (MSE:Set AT + GENERAL AUTHENTICATE).
    :ivar key_id: the keyId in DG14 (``None``: none).
    """

    parameter_id: int = 12
    cipher: int = 2
    key_id: int | None = None


@dataclass(frozen=True)
class ChipAuthSpec:
    """The chip-authentication keys of a test document (what DG14/DG15 announce).

    :ivar aa: the Active Authentication key in DG15 (``"none"``: no DG15).
    :ivar ca: the Chip Authentication v1 keys in DG14.
    :ivar ta: Terminal Authentication with a test CVCA: DG14 carries a
        TerminalAuthenticationInfo, DG3 and DG4 are on the chip (needs *ca*).
    """

    aa: AaKind = "ecdsa-p256"
    ca: tuple[CaKeySpec, ...] = (CaKeySpec(),)
    ta: bool = False

    @property
    def empty(self) -> bool:
        return self.aa == "none" and not self.ca


#: The test CVCA, DV and inspection-system credentials of a chip with Terminal Authentication.
TaChain: TypeAlias = tuple[Credential, Credential, Credential]

#: No Active, Chip or Terminal Authentication: no DG14 (unless PACE options need none), no DG15.
NO_CHIP_AUTH = ChipAuthSpec(aa="none", ca=())


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
    #: The chip's Active Authentication key (TEST key), if DG15 holds one.
    aa_chip_key: AaChipKey | None = field(default=None, repr=False)
    #: The chip's Chip Authentication v1 keys (TEST keys), as DG14 announces them.
    ca_chip_keys: tuple[CaChipKey, ...] = field(default=(), repr=False)
    #: Terminal Authentication: the test CVCA, DV and inspection-system credentials
    #: (TEST keys derived from their holder references), when the chip has TA.
    ta_chain: TaChain | None = field(default=None, repr=False)
    #: The seed the chip's keys were derived from (a clone uses another).
    seed: bytes = field(default=b"epass virtual specimen", repr=False)

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
        """A virtual chip holding this document (*config* defaults to :attr:`chip_config`).

        It answers Active Authentication, Chip Authentication v1 and, with a
        :attr:`ta_chain`, Terminal Authentication with the document's keys.
        """
        ta = None
        if self.ta_chain is not None:
            cvca = self.ta_chain[0].certificate
            ta = TaChip([cvca], current_date=cvca.effective_date, rng=rng)
        return VirtualChip(
            self.files,
            self.mrz_information,
            can=self.can,
            cam_keys=self.cam_keys,
            aa_key=self.aa_chip_key,
            ca_keys=self.ca_chip_keys,
            ta=ta,
            config=config if config is not None else self.chip_config,
            faults=faults,
            rng=rng,
        )

    @property
    def terminal_credentials(self) -> Any:
        """The test inspection system's :class:`~epass.access.ta.TerminalCredentials`
        (CVCA, DV, IS certificates and the IS TEST key), or ``None`` without TA."""
        if self.ta_chain is None:
            return None
        from epass.access.ta import TerminalCredentials

        cvca, dv, terminal = self.ta_chain
        return TerminalCredentials(
            (cvca.certificate, dv.certificate, terminal.certificate), terminal.private_key
        )

    def cloned(self, seed: bytes = b"epass cloned chip") -> VirtualDocument:
        """The same files, byte for byte, on a chip holding other private keys (a clone).

        Its Active, Chip and PACE-CAM authentication keys are derived from
        *seed* instead of the document's: passive authentication passes, chip
        authentication must not.
        """
        aa = self.aa_chip_key
        other_aa = None if aa is None else _aa_chip_key(_aa_kind(aa), seed)
        other_ca = tuple(
            _ca_chip_key(CaKeySpec(k.group.parameter_id or 12, 2, k.key_id), seed)
            for k in self.ca_chip_keys
        )
        cam = {pid: cam_private_key(seed, pid) for pid in self.cam_keys}
        return replace(self, aa_chip_key=other_aa, ca_chip_keys=other_ca, cam_keys=cam, seed=seed)

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
    chip_auth: ChipAuthSpec | None = None,
    pace_infos_in_dg14: bool = True,
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
    :param chip_auth: the chip-authentication keys (:class:`ChipAuthSpec`); when
        given, it replaces *include_dg14*, *include_dg15* and *aa_algorithm*.
    :param pace_infos_in_dg14: when PACE is offered and the document has a DG14,
        repeat the PACEInfos of EF.CardAccess in it (9303-11 §9.2.11), signed
        through EF.SOD, so that a stripped EF.CardAccess is detected
        (``access.downgrade``). A document without chip authentication has no DG14;
        its PACEInfos are signed in EF.CardSecurity only.
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
    pace_dg14 = (
        dg14.encode_pace_infos([(o.oid, o.parameter_id) for o in pace])
        if pace and pace_infos_in_dg14
        else []
    )
    aa_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None
    ca_key: ec.EllipticCurvePrivateKey | None = None
    aa_chip: AaChipKey | None = None
    ca_chips: tuple[CaChipKey, ...] = ()
    ta_chain: TaChain | None = None
    if chip_auth is None:
        if include_dg15:
            if aa_algorithm == "ec":
                aa_key = derive_test_key(seed, "active authentication")
                aa_chip = AaChipKey(aa_key, "sha256")
            else:
                aa_key = derive_test_rsa_key(seed, "active authentication", 2048)
                aa_chip = AaChipKey(aa_key, "sha1")
            files[LdsFile.DG15] = dg15.encode(_spki(aa_key))
        if include_dg14:
            ca_key = derive_test_key(seed, "chip authentication")
            ca_chips = (_legacy_ca_chip_key(ca_key),)
            # 9303-11 §9.2.6: an ECDSA AA key needs ActiveAuthenticationInfo naming the scheme.
            files[LdsFile.DG14] = dg14.encode_chip_authentication(
                _spki(ca_key),
                active_authentication_ec=include_dg15 and aa_algorithm == "ec",
                extra=pace_dg14,
            )
    else:
        aa_chip, ca_chips, ta_chain = _chip_auth_files(chip_auth, seed, files, pace_dg14)
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
        aa_chip_key=aa_chip,
        ca_chip_keys=ca_chips,
        ta_chain=ta_chain,
        seed=seed,
    )


# -- chip authentication keys (TEST keys derived from the document's seed) -------------------


def _aa_kind(key: AaChipKey) -> AaKind:
    if key.is_rsa:
        return "rsa-1024" if key.private_key.key_size <= 1024 else "rsa-2048"
    return "ecdsa-p256"


def _aa_chip_key(kind: AaKind, seed: bytes) -> AaChipKey | None:
    """The AA key of *kind*: ECDSA P-256 signing SHA-256 plain r‖s, or RSA with SHA-1 (BC)."""
    if kind == "none":
        return None
    if kind == "ecdsa-p256":
        return AaChipKey(derive_test_key(seed, "active authentication"), "sha256")
    bits = 1024 if kind == "rsa-1024" else 2048
    return AaChipKey(derive_test_rsa_key(seed, "active authentication", bits), "sha1")


def _ca_chip_key(spec: CaKeySpec, seed: bytes) -> CaChipKey:
    group = standardized_group(spec.parameter_id)
    label = f"chip authentication {spec.parameter_id} {spec.key_id}"
    return CaChipKey.generate(group, key_id=spec.key_id, rng=seeded_rng(seed, label))


def _legacy_ca_chip_key(key: ec.EllipticCurvePrivateKey) -> CaChipKey:
    """The chip's view of the P-256 CA key of the default DG14."""
    return CaChipKey(standardized_group(12), key.private_numbers().private_value)


#: The test CVCA's holder reference prefix (country "UT", Utopia: NOT A REAL CVCA).
TA_COUNTRY = "UT"


def _synthetic_grey_jpeg(kind: str, seed: bytes, width: int, height: int) -> bytes:
    """A small grey JPEG drawn from *seed*: whorl-like rings (finger) or an iris ring.

    A drawing, NOT a biometric of anyone; it only gives DG3/DG4 decodable images.
    """
    shift = hashlib.sha256(seed + kind.encode()).digest()[0] % 7
    image = Image.new("L", (width, height), 235)
    draw = ImageDraw.Draw(image)
    cx, cy = width // 2 + shift - 3, height // 2
    if kind == "finger":
        for r in range(6, max(width, height), 9):
            box = (cx - r, cy - int(r * 1.3), cx + r, cy + int(r * 1.3))
            draw.ellipse(box, outline=60, width=3)
    else:
        draw.ellipse((cx - 60, cy - 60, cx + 60, cy + 60), fill=120)
        for r in range(30, 60, 6):
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=90 + r, width=2)
        draw.ellipse((cx - 28, cy - 28, cx + 28, cy + 28), fill=20)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=40)
    return buffer.getvalue()


def _biometric_data_group(tag: int, kind: str, seed: bytes) -> bytes:
    """DG3 (two fingers, ISO/IEC 19794-4) or DG4 (one iris, 19794-6) of synthetic JPEGs.

    The 9303-10 §4.7.3/§4.7.4 structure, encoded by :func:`epass.lds.dg3.encode_dg3`
    and :func:`epass.lds.dg4.encode_dg4`, so the report decodes them (NOT real biometrics).
    """
    if tag == dg3.TAG_DG3:
        image = _synthetic_grey_jpeg(kind, seed, 128, 160)
        return dg3.encode_dg3(
            [
                dg3.FingerImageSpec(image, "JPEG", position=p, width=128, height=160)
                for p in (2, 7)  # right and left index fingers
            ]
        )
    image = _synthetic_grey_jpeg(kind, seed, 160, 128)
    return dg4.encode_dg4([dg4.IrisImageSpec(image, "JPEG", eye="right", width=160, height=128)])


def _chip_auth_files(
    spec: ChipAuthSpec, seed: bytes, files: dict[LdsFile, bytes], pace_infos: Sequence[bytes] = ()
) -> tuple[
    AaChipKey | None, tuple[CaChipKey, ...], tuple[Credential, Credential, Credential] | None
]:
    """Add DG14, DG15 (and DG3/DG4 with TA) for *spec* to *files*; the chip's keys."""
    aa = _aa_chip_key(spec.aa, seed)
    ca = tuple(_ca_chip_key(k, seed) for k in spec.ca)
    if spec.ta and not ca:
        raise ValueError("Terminal Authentication v1 needs a Chip Authentication key")
    infos: list[bytes] = []
    for key, key_spec in zip(ca, spec.ca, strict=True):
        infos += [key.public_key_info(), key.ca_info(key_spec.cipher)]
    if aa is not None:
        files[LdsFile.DG15] = aa.dg15()
        info = aa.aa_info()
        if info is not None:  # 9303-11 §9.2.6: ECDSA AA names its signature algorithm
            infos.append(info)
    chain = None
    if spec.ta:
        infos.append(encode_ta_info(version=1))
        chain = make_test_chain(deterministic=True, country=TA_COUNTRY, today=datetime.date.today())
        files[LdsFile.DG3] = _biometric_data_group(0x63, "finger", seed)
        files[LdsFile.DG4] = _biometric_data_group(0x76, "iris", seed)
    if infos:
        files[LdsFile.DG14] = dg14.encode([*infos, *pace_infos])
    return aa, ca, chain


@functools.lru_cache(maxsize=4)
def specimen(face_format: Literal["JPEG", "JPEG2000"] = "JPEG") -> VirtualDocument:
    """The built-in virtual passport (cached; identical in every process)."""
    return build_document(face_format=face_format)
