"""Fraud scenarios for examiner training, with the answer key (TEST documents, NOT REAL).

Each :class:`Scenario` is a virtual document that reproduces a pattern
document examiners train on, with what a correct inspection system must
report: the verdict, the exact set of checks that FAIL, the chip-authenticity
status, the document's expiry, or, when no verdict can be reached, the type of
the error. A scenario carries everything needed to stage it: the chip (files,
keys, faults), the trust store the inspection system should hold (CSCA and
CRLs), the MRZ printed on the data page (which also opens the chip), and the
time of the inspection (fixed, so the answer key never ages).

Some scenarios are read more than once (:class:`Reading`): the PACE-only chip
is read with the default policy (PACE is used) and with ``--bac-only`` (a
clear error: the chip refuses BAC).

:func:`check_scenario` runs epass's own inspection on a scenario in-process
(the virtual transport) and scores it against the key; ``epass scenarios
check`` prints the table, ``epass scenarios list`` the key, ``epass emulate
--scenario NAME`` serves the chip to any PC/SC inspection system through vpcd.

Every key and certificate is derived from a public seed (the TEST PKI of
:mod:`drivers.virtual.pki`): never put them in a production trust store.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.virtual import profiles
from drivers.virtual.builder import (
    NO_CHIP_AUTH,
    SPECIMEN_HOLDER,
    Holder,
    VirtualDocument,
    build_document,
    td3_mrz,
)
from drivers.virtual.chip import Faults
from drivers.virtual.pki import TestPki, derive_test_key, hash_data_groups, make_test_pki
from drivers.virtual.transport import VirtualTransport
from epass.access.control import AccessPolicy
from epass.access.keys import MrzKey
from epass.lds import com, dg11
from epass.lds.files import LdsFile
from epass.pa.crl import parse_crl
from epass.pa.trust import TrustStore

__all__ = [
    "AT",
    "SCENARIOS",
    "Expected",
    "Outcome",
    "Reading",
    "Scenario",
    "Staged",
    "check_all",
    "check_scenario",
    "scenario",
]

#: The time every scenario is inspected at (the answer key does not age).
AT = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    """What a correct inspection reports (the answer key of one reading).

    :ivar verdict: ``"VALID"``, ``"INVALID"`` or ``"INDETERMINATE"``; ``None`` with *error*.
    :ivar failed: the names of exactly the checks that FAIL (empty: none may FAIL).
    :ivar chip: the chip-authenticity status (``"GENUINE_CHIP"``, ``"CLONE_SUSPECTED"``,
        ``"NOT_CHECKED"``), or ``None`` when not part of the key.
    :ivar expired: whether the document has expired at :data:`AT` (``None``: not keyed).
    :ivar error: the type of the error the read must end with instead of a verdict
        (an :class:`epass.errors.EpassError` subclass name), or ``None``.
    """

    verdict: str | None = None
    failed: tuple[str, ...] = ()
    chip: str | None = None
    expired: bool | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"error": self.error}
        out: dict[str, Any] = {"verdict": self.verdict, "failed": list(self.failed)}
        if self.chip is not None:
            out["chip"] = self.chip
        if self.expired is not None:
            out["expired"] = self.expired
        return out

    def summary(self) -> str:
        if self.error is not None:
            return f"error {self.error}"
        parts = [str(self.verdict)]
        if self.failed:
            parts.append("FAIL " + ", ".join(self.failed))
        if self.chip is not None:
            parts.append(f"chip {self.chip.replace('_', ' ')}")  # GENUINE CHIP
        if self.expired:
            parts.append("expired")
        return "; ".join(parts)


@dataclass(frozen=True)
class Reading:
    """One way an inspection system reads the scenario.

    :ivar label: ``"default"`` (PACE when offered) or ``"--bac-only"``.
    :ivar bac_only: the reader asks for BAC (:class:`epass.access.control.AccessPolicy`).
    :ivar expected: the answer key of this reading.
    """

    label: str
    expected: Expected
    bac_only: bool = False


@dataclass(frozen=True)
class Staged:
    """A scenario made concrete: the chip, the trust store, the printed MRZ, the time.

    :ivar document: the virtual document on the chip.
    :ivar trust_store: what the inspection system should hold (CSCA, CRLs).
    :ivar printed_mrz: the MRZ printed on the data page (opens the chip; compared with DG1).
    :ivar faults: how the chip misbehaves, if it does.
    :ivar remove_after: the card leaves the field at this APDU (vpcd: of the session).
    """

    document: VirtualDocument
    trust_store: TrustStore
    printed_mrz: str
    faults: Faults | None = None
    remove_after: int | None = None

    def transport(self) -> VirtualTransport:
        """A fresh in-process transport to the scenario's chip."""
        faults = self.faults
        if self.remove_after is not None:
            faults = replace(faults or Faults(), remove_after=self.remove_after)
        return self.document.transport(faults=faults)


@dataclass(frozen=True)
class Scenario:
    """A named fraud (or genuine) pattern with its answer key.

    :ivar name: the name the CLI takes.
    :ivar description: what was done to the document.
    :ivar examiner: what the examiner should see, and why.
    :ivar readings: the readings and their answer keys (the first is the default one).
    :ivar stage: builds the chip, trust store and printed MRZ (cached).
    """

    name: str
    description: str
    examiner: str
    readings: tuple[Reading, ...]
    stage: Callable[[], Staged] = field(repr=False, compare=False)

    @property
    def expected(self) -> Expected:
        """The answer key of the default reading."""
        return self.readings[0].expected

    def to_dict(self) -> dict[str, Any]:
        staged = self.stage()
        return {
            "name": self.name,
            "description": self.description,
            "examiner": self.examiner,
            "printed_mrz": staged.printed_mrz,
            "at": AT.isoformat(),
            "readings": [
                {"reader": r.label, "expected": r.expected.to_dict()} for r in self.readings
            ],
        }


@dataclass(frozen=True)
class Outcome:
    """One reading of one scenario, scored.

    :ivar got: what epass reported, in the :class:`Expected` shape.
    :ivar passed: whether *got* matches the key.
    :ivar detail: the error message or the reasons of the verdict (never personal data).
    """

    scenario: str
    reading: str
    expected: Expected
    got: Expected
    passed: bool
    seconds: float
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "reader": self.reading,
            "expected": self.expected.to_dict(),
            "got": self.got.to_dict(),
            "pass": self.passed,
            "seconds": round(self.seconds, 4),
            "detail": self.detail,
        }


# -- staging helpers ---------------------------------------------------------------------------

_IMPOSTOR = replace(SPECIMEN_HOLDER, primary_identifier="NILSSON", secondary_identifier="KARIN")


def _trust(pki: TestPki) -> TrustStore:
    store = TrustStore()
    store.add(pki.csca_der, source="epass scenario TEST CSCA (NOT A REAL CSCA)")
    return store


@functools.lru_cache(maxsize=1)
def _genuine_pki() -> TestPki:
    return make_test_pki()


@functools.lru_cache(maxsize=4)
def _plain(
    holder: Holder = SPECIMEN_HOLDER, seed: bytes = b"epass virtual specimen"
) -> VirtualDocument:
    """A BAC-only passport without chip authentication (isolates the data pattern)."""
    return build_document(holder, chip_auth=NO_CHIP_AUTH, seed=seed)


def _staged(doc: VirtualDocument, printed: str | None = None, **kwargs: Any) -> Staged:
    return Staged(doc, _trust(doc.pki), printed or doc.mrz, **kwargs)


def _resign(doc: VirtualDocument, files: Mapping[LdsFile, bytes], pki: TestPki) -> VirtualDocument:
    """*doc* with *files* and EF.COM/EF.SOD made again, EF.SOD signed by *pki*'s DS."""
    merged = dict(doc.files)
    merged.update(files)
    groups = sorted((f for f in merged if f.number), key=lambda f: f.number)
    merged[LdsFile.EF_COM] = com.encode(groups)
    hashes_ = hash_data_groups({f.number: merged[f] for f in groups})
    merged[LdsFile.EF_SOD] = pki.sign_sod(hashes_)
    return replace(doc, files=merged, pki=pki)


def _forged_ds(genuine: TestPki, seed: bytes) -> TestPki:
    """A DS certificate that names the genuine CSCA as its issuer (name and key identifier)
    but is signed with the forger's own key: the CSCA never issued it."""
    key = derive_test_key(seed, "forged ds")
    csca_ski = genuine.csca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = (
        x509.CertificateBuilder()
        .subject_name(genuine.ds_cert.subject)
        .issuer_name(genuine.csca_cert.subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(hashlib.sha256(seed).digest()[:10], "big") | (1 << 72))
        .not_valid_before(genuine.ds_cert.not_valid_before_utc)
        .not_valid_after(genuine.ds_cert.not_valid_after_utc)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski.value),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return TestPki(key, genuine.csca_cert, key, cert, genuine.kind)


def _crl_revoking_ds(pki: TestPki) -> bytes:
    """A CRL of *pki*'s CSCA (9303-12 §7.1.3) listing its DS, current at :data:`AT`."""
    this_update = AT - timedelta(days=10)
    revoked = (
        x509.RevokedCertificateBuilder()
        .serial_number(pki.ds_cert.serial_number)
        .revocation_date(this_update - timedelta(days=1))
        .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.csca_cert.subject)
        .last_update(this_update)
        .next_update(AT + timedelta(days=80))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.csca_key.public_key()),
            critical=False,
        )
        .add_revoked_certificate(revoked)
        .sign(pki.csca_key, hashes.SHA256())
    )
    return crl.public_bytes(Encoding.DER)


# -- the scenarios -------------------------------------------------------------------------------


def _genuine_bac() -> Staged:
    return _staged(_plain())


def _genuine_pace() -> Staged:
    return _staged(profiles.document("no-chip-auth"))


def _genuine_pace_ca() -> Staged:
    return _staged(profiles.document("ca-ecdh-aes"))


def _genuine_aa() -> Staged:
    return _staged(profiles.document("aa-ecdsa-p256"))


def _genuine_pace_cam() -> Staged:
    return _staged(profiles.document("pace-cam"))


def _data_page_altered() -> Staged:
    return _staged(profiles.document("bac-pace"), td3_mrz(_IMPOSTOR))


def _dg1_resigned_unknown_ds() -> Staged:
    forged = _forged_ds(_genuine_pki(), b"epass scenario: forged DS")
    doc = build_document(_IMPOSTOR, chip_auth=NO_CHIP_AUTH, pki=forged)
    return Staged(doc, _trust(_genuine_pki()), doc.mrz)


def _impostor_face() -> bytes:
    return _plain(seed=b"epass scenario: impostor").files[LdsFile.DG2]


def _photo_substituted() -> Staged:
    return _staged(_plain().with_file(LdsFile.DG2, _impostor_face()))


def _photo_self_made_csca() -> Staged:
    own = make_test_pki(seed=b"epass scenario: self-made CSCA")
    doc = _resign(_plain(), {LdsFile.DG2: _impostor_face()}, own)
    return Staged(doc, _trust(_genuine_pki()), doc.mrz)


def _cloned_chip() -> Staged:
    return _staged(profiles.document("cloned-chip"))


def _cloned_chip_hiding_keys() -> Staged:
    """The genuine files on a blank chip that answers 6A82 for DG14 and DG15 (EF.COM relisted)."""
    doc = profiles.document("cloned-chip")
    doc = doc.with_file(LdsFile.DG14, None).with_file(LdsFile.DG15, None)
    served = sorted((f for f in doc.files if f.is_data_group), key=lambda f: f.number)
    return _staged(doc.with_file(LdsFile.EF_COM, com.encode(served)))


def _dg_injected() -> Staged:
    doc = _plain()
    injected = dg11.encode_dg11(full_name="ERIKSSON<<ANNA<MARIA", place_of_birth="ZENITH")
    files = dict(doc.files)
    files[LdsFile.DG11] = injected
    groups = sorted((f for f in files if f.number), key=lambda f: f.number)
    files[LdsFile.EF_COM] = com.encode(groups)  # EF.COM is not signed: the forger lists it
    return _staged(replace(doc, files=files))


def _sod_from_other_document() -> Staged:
    other = _plain(_IMPOSTOR, seed=b"epass scenario: other document")
    doc = _plain().with_file(LdsFile.EF_SOD, other.files[LdsFile.EF_SOD])
    return _staged(doc)


def _expired() -> Staged:
    return _staged(_plain(replace(SPECIMEN_HOLDER, date_of_expiry="290415")))


def _ds_revoked() -> Staged:
    doc = _plain()
    store = _trust(doc.pki)
    store.add_crl(parse_crl(_crl_revoking_ds(doc.pki), file="scenario.crl"))
    return Staged(doc, store, doc.mrz)


def _ds_other_country() -> Staged:
    foreign = make_test_pki(seed=b"epass scenario: another country", country="FR")
    doc = build_document(chip_auth=NO_CHIP_AUTH, pki=foreign)
    return _staged(doc)


def _pace_only() -> Staged:
    return _staged(profiles.document("pace-only"))


def _card_access_stripped() -> Staged:
    return _staged(profiles.document("bac-pace").with_file(LdsFile.EF_CARD_ACCESS, None))


#: The card leaves the field at this APDU: after EF.ATR/INFO, EF.CardAccess, SELECT, BAC
#: (2), EF.COM, EF.SOD and DG1 (one extended-length READ BINARY each), while DG2 is read.
MID_READ_APDU = 9


def _stops_mid_read() -> Staged:
    return _staged(_plain(), remove_after=MID_READ_APDU)


def _key(
    verdict: str, *failed: str, chip: str | None = None, expired: bool | None = None
) -> tuple[Reading, ...]:
    return (Reading("default", Expected(verdict, tuple(sorted(failed)), chip, expired)),)


_NC, _GC, _CS = "NOT_CHECKED", "GENUINE_CHIP", "CLONE_SUSPECTED"


def _cached(stage: Callable[[], Staged]) -> Callable[[], Staged]:
    return functools.lru_cache(maxsize=1)(stage)


SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        s.name: s
        for s in (
            Scenario(
                "genuine-bac",
                "a genuine passport with BAC only and no chip authentication",
                "VALID: every passive-authentication check and the printed MRZ pass; chip "
                "authenticity NOT CHECKED (the document offers none), said beside the verdict",
                _key("VALID", chip=_NC),
                _cached(_genuine_bac),
            ),
            Scenario(
                "genuine-pace",
                "a genuine passport opened with PACE-GM (brainpoolP256r1, AES-128), no DG14/DG15",
                "VALID, read with PACE; chip authenticity NOT CHECKED",
                _key("VALID", chip=_NC),
                _cached(_genuine_pace),
            ),
            Scenario(
                "genuine-pace-ca",
                "a genuine passport with PACE-GM and Chip Authentication (ECDH P-256, AES-128)",
                "VALID and GENUINE CHIP: Chip Authentication passed with the key of DG14, "
                "which EF.SOD protects",
                _key("VALID", chip=_GC),
                _cached(_genuine_pace_ca),
            ),
            Scenario(
                "genuine-aa",
                "a genuine passport with PACE-GM and Active Authentication (ECDSA P-256)",
                "VALID and GENUINE CHIP: the chip signed a fresh challenge with the key of DG15",
                _key("VALID", chip=_GC),
                _cached(_genuine_aa),
            ),
            Scenario(
                "genuine-pace-cam",
                "a genuine passport with PACE-CAM only (chip authenticated by EF.CardSecurity)",
                "VALID and GENUINE CHIP: PACE-CAM proved the key of the signed EF.CardSecurity",
                _key("VALID", chip=_GC),
                _cached(_genuine_pace_cam),
            ),
            Scenario(
                "data-page-altered",
                "a genuine chip in a data page whose name was altered (printed MRZ NILSSON<<KARIN; "
                "the chip says ERIKSSON<<ANNA MARIA); number and dates untouched, so it opens",
                "INVALID: the printed primary and secondary identifiers differ from DG1; the "
                "chip and its data are genuine, the page is not",
                _key(
                    "INVALID",
                    "mrz.printed_vs_chip.primary_identifier",
                    "mrz.printed_vs_chip.secondary_identifier",
                    chip=_GC,
                ),
                _cached(_data_page_altered),
            ),
            Scenario(
                "dg1-resigned-unknown-ds",
                "DG1 altered to another name and EF.SOD re-signed by a DS certificate the forger "
                "made: it names the genuine CSCA as issuer, but the CSCA never signed it",
                "INVALID: the DS certificate does not verify under the CSCA it names; the "
                "printed MRZ matches the altered DG1 (the page was altered too)",
                _key("INVALID", "ds.issuer", chip=_NC),
                _cached(_dg1_resigned_unknown_ds),
            ),
            Scenario(
                "photo-substituted",
                "DG2 replaced with another face; EF.SOD untouched",
                "INVALID: the hash of DG2 does not match EF.SOD",
                _key("INVALID", "dg.hashes", chip=_NC),
                _cached(_photo_substituted),
            ),
            Scenario(
                "photo-substituted-self-made-csca",
                "DG2 replaced and EF.SOD re-signed under a self-made CSCA with the genuine "
                "CSCA's name (the inspection system holds only the genuine CSCA)",
                "not VALID: the hashes match the forged EF.SOD, but its DS chains to no CSCA "
                "in the trust store",
                _key("INDETERMINATE", chip=_NC),
                _cached(_photo_self_made_csca),
            ),
            Scenario(
                "cloned-chip",
                "the genuine files, byte for byte, on a chip holding other private keys",
                "INVALID and CLONE SUSPECTED: passive authentication passes, but the chip "
                "does not hold the keys of DG14/DG15",
                _key("INVALID", "chip.active_authentication", "chip.chip_authentication", chip=_CS),
                _cached(_cloned_chip),
            ),
            Scenario(
                "cloned-chip-hiding-keys",
                "the genuine files on a blank chip that hides DG14 and DG15 (6A82; EF.COM "
                "rewritten to list DG1 and DG2 only) so that no chip authentication can run",
                "INVALID and CLONE SUSPECTED: EF.SOD signs a DG14 and a DG15 the chip does not "
                "serve; a document that merely 'offers no chip authentication' has neither "
                "hash in EF.SOD",
                _key("INVALID", "chip.active_authentication", "chip.chip_authentication", chip=_CS),
                _cached(_cloned_chip_hiding_keys),
            ),
            Scenario(
                "dg-injected",
                "a DG11 added to the chip and listed in EF.COM, but not hashed in EF.SOD",
                "INVALID: DG11 is not in EF.SOD (an injected data group)",
                _key("INVALID", "dg.hashes", chip=_NC),
                _cached(_dg_injected),
            ),
            Scenario(
                "sod-from-other-document",
                "EF.SOD of another genuine document (other holder, same DS) copied onto the chip",
                "INVALID: EF.SOD verifies, but the hashes of DG1 and DG2 are not the ones it signs",
                _key("INVALID", "dg.hashes", chip=_NC),
                _cached(_sod_from_other_document),
            ),
            Scenario(
                "expired-document",
                "a genuine passport that expired on 2029-04-15, inspected on 2030-06-01",
                "VALID (an expired document is not a forgery), with the expiry beside the "
                "verdict and the finding document.expired",
                _key("VALID", chip=_NC, expired=True),
                _cached(_expired),
            ),
            Scenario(
                "ds-revoked",
                "a genuine passport whose DS certificate its CSCA revoked (keyCompromise); the "
                "trust store holds that CRL",
                "INVALID: the DS certificate is on the CSCA's CRL",
                _key("INVALID", "ds.revocation", chip=_NC),
                _cached(_ds_revoked),
            ),
            Scenario(
                "ds-other-country",
                "a passport of Utopia (UTO) signed by a DS of another country (FR) whose CSCA "
                "the trust store holds",
                "INVALID: the chain is valid, but DG1's issuing state is not the DS's country",
                _key("INVALID", "dg1.issuing_state", chip=_NC),
                _cached(_ds_other_country),
            ),
            Scenario(
                "pace-only-bac-downgrade",
                "a PACE-only passport (PACE-CAM and PACE-GM; the chip refuses BAC), read by a "
                "reader that tries BAC",
                "default policy: PACE-CAM is used, VALID and GENUINE CHIP. --bac-only: the chip "
                "refuses EXTERNAL AUTHENTICATE (6982): an AccessControlError saying the chip "
                "offers PACE and the reader asked for BAC only; no verdict",
                (
                    Reading("default", Expected("VALID", (), _GC)),
                    Reading("--bac-only", Expected(error="AccessControlError"), bac_only=True),
                ),
                _cached(_pace_only),
            ),
            Scenario(
                "card-access-stripped",
                "a genuine BAC+PACE passport behind a relay that hides EF.CardAccess (6A82), so "
                "the reader uses BAC; DG14 signs the PACEInfo",
                "INVALID: access.downgrade - the signed DG14 announces PACE that EF.CardAccess "
                "lacks and the chip was opened with BAC; the data and the chip are genuine, the "
                "session is an attack in progress",
                _key("INVALID", "access.downgrade", chip=_GC),
                _cached(_card_access_stripped),
            ),
            Scenario(
                "chip-stops-mid-read",
                f"a genuine passport that leaves the field at APDU {MID_READ_APDU}, while the "
                "data groups are read",
                "no verdict: the read ends with a CardRemovedError (a TransportError), never a "
                "verdict over a partial read",
                (Reading("default", Expected(error="CardRemovedError")),),
                _cached(_stops_mid_read),
            ),
        )
    }
)


def scenario(name: str) -> Scenario:
    """The scenario called *name*.

    :raises KeyError: naming the known scenarios.
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"no scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


def _got(inspection: Any) -> Expected:
    failed = tuple(sorted({c.name for c in inspection.checks if c.status.value == "FAIL"}))
    return Expected(
        inspection.verdict.value,
        failed,
        inspection.chip.status.value,
        inspection.time_validity.expired,
    )


def _matches(expected: Expected, got: Expected, error: BaseException | None) -> bool:
    if expected.error is not None:
        return error is not None and expected.error in {c.__name__ for c in type(error).__mro__}
    if error is not None:
        return False
    if got.verdict != expected.verdict or set(got.failed) != set(expected.failed):
        return False
    if expected.chip is not None and got.chip != expected.chip:
        return False
    return expected.expired is None or got.expired == expected.expired


def check_scenario(item: Scenario) -> list[Outcome]:
    """Run epass's own inspection on every reading of *item* and score it against the key.

    The chip is read in-process (:class:`~drivers.virtual.transport.VirtualTransport`)
    with the key the printed MRZ gives, and the printed MRZ is compared with DG1.
    """
    from epass.errors import EpassError
    from epass.inspection import inspect
    from epass.reader import ReadOptions

    staged = item.stage()
    out = []
    for reading in item.readings:
        start = time.perf_counter()
        options = ReadOptions(access_policy=AccessPolicy(bac_only=reading.bac_only))
        error: EpassError | None = None
        got: Expected
        detail = ""
        try:
            with staged.transport() as transport:
                inspection = inspect(
                    transport,
                    MrzKey.from_mrz(staged.printed_mrz),
                    staged.trust_store,
                    at=AT,
                    options=options,
                    mrz=staged.printed_mrz,
                )
        except EpassError as exc:
            error = exc
            got = Expected(error=type(exc).__name__)
            detail = str(exc)
        else:
            got = _got(inspection)
            detail = ", ".join(inspection.reasons)
        seconds = time.perf_counter() - start
        passed = _matches(reading.expected, got, error)
        out.append(
            Outcome(item.name, reading.label, reading.expected, got, passed, seconds, detail)
        )
    return out


def check_all() -> list[Outcome]:
    """:func:`check_scenario` over the whole library, in order."""
    return [outcome for item in SCENARIOS.values() for outcome in check_scenario(item)]
