"""The trust store of passive authentication: CSCA anchors, DS certificates, CRLs.

ICAO Doc 9303-12 §4 (the PKI) and §5.1 (CSCA, DS): a DS certificate is trusted
when it verifies under a CSCA certificate the verifier obtained out of band.
:class:`TrustStore` holds such anchors, each with its :class:`Provenance` (the
file it came from, the master list and that list's signer, the date of
import), and answers "which anchors could have issued this certificate?":

1. by key: the certificate's authorityKeyIdentifier equals an anchor's
   subjectKeyIdentifier (9303-12 §7.1.1 makes both mandatory);
2. by name: the certificate's issuer DN equals an anchor's subject DN
   (RFC 5280 §7.1 comparison, as asn1crypto implements it). A name that the
   RFC 4518 string preparation refuses (:func:`~epass.lds.asn1.prepared_name`)
   matches only a byte-identical name; looking it up never raises.

Key matches come first. A name match alone is a weaker hint (a country may
hold several CSCA keys under one name during a key rollover), which
:mod:`epass.pa.verify` takes into account before calling a signature
failure a forgery.

**Link certificates** (9303-12 §5.1.1): at a key rollover the old CSCA key
signs a certificate for the new key. It is a CA certificate holding the new
key, so a DS certificate issued under the new key finds it by key identifier
(its subject is the new CSCA name) and chains through it, and a DS issued
under the old key chains to the old anchor. Anchors whose issuer is not their
subject, or whose authorityKeyIdentifier is not their subjectKeyIdentifier,
have ``kind == "link"``; :mod:`epass.pa.importer` verifies a link certificate
under the old CSCA when the store holds it.

Only CA certificates are anchors (9303-12 §7.1.1 CSCA profile): basicConstraints
cA=TRUE and, when keyUsage is present, keyCertSign (:func:`anchor_problem`).
Any other certificate offered as an anchor is kept out and listed in
:attr:`TrustStore.rejected` with the reason.

The store also holds **DS certificates** (:meth:`TrustStore.document_signers`,
from the ICAO PKD; never anchors) and **CRLs** verified under an anchor
(:meth:`TrustStore.add_crl`, :meth:`TrustStore.crls_for`; :mod:`epass.pa.crl`).

Loading certificate files (:meth:`TrustStore.from_paths`): DER or PEM
certificates, a PEM bundle, or a folder searched recursively for ``*.pem
*.crt *.cer *.der *.cert``. Only regular files are read, at most
:data:`MAX_FILE_SIZE` bytes each (:func:`read_trust_file`), and a folder walk
visits at most :data:`MAX_FOLDER_ENTRIES` entries. In a folder, a file that
cannot be read or holds no certificate is listed in :attr:`TrustStore.problems`
and the rest loads; a file named explicitly that fails raises
:class:`~epass.errors.ParseError` naming it. A CMS SignedData (a master list)
given where a certificate was expected is recognised and refused with a hint.

**Persistence** (:meth:`TrustStore.save`, :meth:`TrustStore.load`): a folder
(default :func:`default_store_folder`) holding one PEM file per certificate or
CRL (``csca/``, ``dsc/``, ``crl/``, named ``CC_<sha256 prefix>``) and
``index.json`` (format :data:`STORE_FORMAT`: one entry per item with its kind,
file, SHA-256, names, validity and provenance). Every file is written to a
temporary name, fsynced and renamed; the index is written last the same way,
so an interrupted save (kill -9) leaves the old index or the new one, and
every entry it lists is either the old or the new file. Files the index does
not list are ignored on load and removed by the next save. On load every
file must have the SHA-256 its entry names, anchors must still be CAs, and
every CRL is verified again under the anchor it was imported under (a CRL
that no longer verifies is listed in :attr:`TrustStore.problems`, not used).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509

from epass._crypto.certificates import CertificateFacts, FactsUnavailableError, certificate_facts
from epass._crypto.signatures import UnsupportedAlgorithmError, verify_certificate_signature
from epass.errors import BUILTIN_PARSE_ERRORS, EpassError, InvalidSignatureError, ParseError
from epass.lds.asn1 import (
    aware_time,
    format_name,
    load_certificate,
    name_country,
    prepared_name,
    same_name,
)
from epass.pa.certificates import RECOGNISED_CRITICAL_EXTENSIONS
from epass.pa.crl import Crl, parse_crl, verify_crl

__all__ = [
    "CERTIFICATE_SUFFIXES",
    "MAX_FILE_SIZE",
    "MAX_FOLDER_ENTRIES",
    "MAX_INDEX_SIZE",
    "MAX_STORE_FILE_SIZE",
    "STORE_FORMAT",
    "IssuerCandidate",
    "Provenance",
    "RefusedError",
    "StoredCertificate",
    "StoredCrl",
    "TrustAnchor",
    "TrustStore",
    "anchor_problem",
    "certificate_facts_of",
    "default_store_folder",
    "facts_problem",
    "is_signed_data",
    "read_trust_file",
    "self_signature_problem",
    "store_lock",
]

#: File name endings searched in folders (case-insensitive).
CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".cert")

#: Largest certificate, CRL or master-list file read, in bytes (the ICAO master list
#: of every CSCA is about 2 MiB as DER, a few MiB as PEM).
MAX_FILE_SIZE = 16 * 1024 * 1024

#: Most folder entries (files and folders, any name) a folder walk visits.
MAX_FOLDER_ENTRIES = 100_000

#: Largest ``index.json`` of a saved store read, in bytes.
MAX_INDEX_SIZE = 64 * 1024 * 1024

#: Largest single file of a saved store read (one certificate or CRL as PEM), in bytes.
MAX_STORE_FILE_SIZE = 4 * 1024 * 1024

#: The ``format`` of a saved store's ``index.json``.
STORE_FORMAT = "epass.trust-store/1"

INDEX_NAME = "index.json"
_SUBFOLDER = {"csca": "csca", "link": "csca", "ds": "dsc", "crl": "crl"}
_STORE_FILE = re.compile(r"^(?:csca|dsc|crl)/[A-Z0-9]{2,8}_[0-9a-f]{16}\.pem$")
_KINDS = ("csca", "link", "ds", "crl")

_PEM = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)"
    rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
    re.DOTALL,
)

#: Extensions a CSCA may mark critical (RFC 5280 §4.2): the same set as for a DS
#: (:data:`epass.pa.certificates.RECOGNISED_CRITICAL_EXTENSIONS`).
CSCA_RECOGNISED_EXTENSIONS = RECOGNISED_CRITICAL_EXTENSIONS


class RefusedError(EpassError):
    """Something offered to the trust store was refused (the message says why)."""


# --- the anchor rule ----------------------------------------------------------------------------


def _problem(ca: bool, usages: Iterable[str] | None, critical: Iterable[str]) -> str | None:
    unknown = [oid for oid in critical if oid not in CSCA_RECOGNISED_EXTENSIONS]
    if unknown:
        return (
            "it marks critical an extension this verifier does not process: "
            + ", ".join(unknown)
            + " (RFC 5280 §4.2: such a certificate must be rejected)"
        )
    if not ca:
        return "not a CA certificate: basicConstraints cA is not TRUE (9303-12 §7.1.1)"
    if usages is not None and "key_cert_sign" not in set(usages):
        return "keyUsage lacks keyCertSign (9303-12 §7.1.1)"
    return None


def anchor_problem(certificate: Any) -> str | None:
    """Why *certificate* (asn1crypto) cannot be a trust anchor, or ``None`` if it can.

    A CSCA is a CA (9303-12 §7.1.1 CSCA profile; RFC 5280 §4.2.1.9 and
    §4.2.1.3): basicConstraints with cA=TRUE and, when keyUsage is present,
    keyCertSign among its bits; no critical extension outside
    :data:`CSCA_RECOGNISED_EXTENSIONS`. Never raises: unreadable extensions are a reason.
    """
    try:
        constraints = certificate.basic_constraints_value
        key_usage = certificate.key_usage_value
        is_ca = constraints is not None and bool(constraints["ca"].native)
        usages = None if key_usage is None else set(key_usage.native)
        critical = [
            ext["extn_id"].dotted
            for ext in certificate["tbs_certificate"]["extensions"]
            if ext["critical"].native
        ]
    except BUILTIN_PARSE_ERRORS:
        return "its extensions are unreadable"
    return _problem(is_ca, usages, critical)


def self_signature_problem(certificate: Any) -> str | None:
    """Why the self-issued CSCA *certificate* (asn1crypto) is not self-signed, or ``None``.

    9303-12 §5.1.1: a CSCA certificate is self-signed, so its signature
    verifies under its own key. A signature that does not is a reason; one
    that cannot be checked here (an algorithm or key this verifier lacks) is
    not: such a key verifies nothing else either. Never raises.
    """
    try:
        verify_certificate_signature(certificate, certificate)
    except InvalidSignatureError as exc:
        return (
            "a self-issued CSCA certificate whose signature does not verify under its own key "
            f"(9303-12 §5.1.1: a CSCA certificate is self-signed): {exc}"
        )
    except UnsupportedAlgorithmError:
        return None
    return None


def facts_problem(facts: CertificateFacts) -> str | None:
    """:func:`anchor_problem` on a certificate's :class:`CertificateFacts` (same rule, words)."""
    return _problem(facts.ca, facts.key_usage, facts.critical_extensions)


def _facts_from_asn1(cert: Any, *, file: str) -> CertificateFacts:
    """The index facts of an asn1crypto certificate (the slow path).

    :raises ParseError: naming *file* if an extension read cannot be parsed.
    """
    try:
        tbs = cert["tbs_certificate"]
        constraints = cert.basic_constraints_value
        key_usage = cert.key_usage_value
        eku = cert.extended_key_usage_value
        aki = cert.authority_key_identifier
        ski = cert.key_identifier
        return CertificateFacts(
            subject=bytes(tbs["subject"].dump()),
            issuer=bytes(tbs["issuer"].dump()),
            serial_number=int(tbs["serial_number"].native),
            not_before=aware_time(tbs["validity"]["not_before"], "notBefore"),
            not_after=aware_time(tbs["validity"]["not_after"], "notAfter"),
            subject_key_identifier=None if ski is None else bytes(ski),
            authority_key_identifier=None if aki is None else bytes(aki),
            ca=constraints is not None and bool(constraints["ca"].native),
            key_usage=None if key_usage is None else frozenset(key_usage.native),
            extended_key_usage=None if eku is None else tuple(eku.dotted for eku in eku),
            critical_extensions=tuple(
                ext["extn_id"].dotted for ext in tbs["extensions"] if ext["critical"].native
            ),
        )
    except BUILTIN_PARSE_ERRORS as exc:
        raise ParseError(f"malformed certificate extensions: {exc}", file=file) from exc


def certificate_facts_of(der: bytes, *, file: str) -> tuple[CertificateFacts, Any | None]:
    """The index facts of the DER certificate *der*, and its asn1crypto form if it was parsed.

    Uses the fast parser of :mod:`epass._crypto.certificates`; a certificate
    it refuses is read with asn1crypto (:func:`~epass.lds.asn1.load_certificate`).

    :raises ParseError: naming *file* if the bytes are not a certificate.
    """
    try:
        return certificate_facts(der), None
    except FactsUnavailableError:
        cert = load_certificate(der, file=file)
        return _facts_from_asn1(cert, file=file), cert


def is_signed_data(data: bytes) -> bool:
    """Whether *data* looks like a CMS ContentInfo (a master list), not a certificate.

    A ContentInfo is ``SEQUENCE { OBJECT IDENTIFIER, [0] ... }`` (RFC 5652 §3);
    a certificate's first element is a SEQUENCE. Looks at the first few bytes only.
    """
    if len(data) < 4 or data[0] != 0x30:
        return False
    length = data[1]
    pos = 2 + (length & 0x7F if length & 0x80 else 0)
    return pos < len(data) and data[pos] == 0x06


# --- stored items -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where a stored item came from.

    :ivar file: the file it was read from (as given), or ``None``.
    :ivar entry: its place in that file: ``"#3"`` (fourth certificate of a
        bundle or master list) or an LDIF entry's DN, or ``None``.
    :ivar master_list: the master list it came from (file and entry), or ``None``.
    :ivar master_list_signer: that list's signer (subject), or ``None``.
    :ivar verified: ``False`` only for contents of a master list whose
        signature or signer chain did not verify, imported on explicit request.
    :ivar imported_at: when it entered the store (aware UTC), or ``None``.
    :ivar note: anything else worth showing (how a link certificate or a CRL verified).
    """

    file: str | None = None
    entry: str | None = None
    master_list: str | None = None
    master_list_signer: str | None = None
    verified: bool = True
    imported_at: datetime | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "entry": self.entry,
            "master_list": self.master_list,
            "master_list_signer": self.master_list_signer,
            "verified": self.verified,
            "imported_at": None if self.imported_at is None else self.imported_at.isoformat(),
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, value: Any) -> Provenance:
        """The provenance a saved index holds.

        :raises ValueError: for a value of the wrong shape.
        """
        if not isinstance(value, dict):
            raise ValueError("provenance is not an object")

        def text(key: str) -> str | None:
            item = value.get(key)
            if item is not None and not isinstance(item, str):
                raise ValueError(f"provenance {key} is not a string")
            return item

        when = text("imported_at")
        verified = value.get("verified", True)
        if not isinstance(verified, bool):
            raise ValueError("provenance verified is not a boolean")
        imported_at = None if when is None else datetime.fromisoformat(when)
        if imported_at is not None and imported_at.tzinfo is None:
            raise ValueError("provenance imported_at has no time zone")
        return cls(
            file=text("file"),
            entry=text("entry"),
            master_list=text("master_list"),
            master_list_signer=text("master_list_signer"),
            verified=verified,
            imported_at=imported_at,
            note=text("note"),
        )


def _describe_source(source: str, provenance: Provenance) -> str:
    """The source label reports show: marks contents of an unverified master list."""
    if provenance.master_list is None:
        return source
    if not provenance.verified:
        return f"{source} (UNVERIFIED master list: its signature or signer did not verify)"
    signer = provenance.master_list_signer or "?"
    return f"{source} (master list signed by {signer})"


@dataclass(frozen=True, eq=False)
class StoredCertificate:
    """A certificate in the store with its provenance; parsed lazily.

    :ivar der: the certificate, DER, as received.
    :ivar source: where it came from (a path, ``"path#2"``, a label), as reports show it.
    :ivar kind: ``"csca"`` (self-signed CSCA), ``"link"`` (a CA certificate
        signed by another key or name: a link certificate) or ``"ds"``.
    :ivar provenance: file, master list and signer, date of import.
    :ivar facts: the index facts (computed from *der* when not given).
    """

    der: bytes = field(repr=False)
    source: str
    kind: str = "csca"
    provenance: Provenance = field(default_factory=Provenance, repr=False)
    facts: CertificateFacts = field(default=None, repr=False)  # type: ignore[assignment]
    preloaded: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.facts is None:
            facts, cert = certificate_facts_of(self.der, file=self.source)
            object.__setattr__(self, "facts", facts)
            if cert is not None and self.preloaded is None:
                object.__setattr__(self, "preloaded", cert)

    @functools.cached_property
    def certificate(self) -> Any:
        """The asn1crypto ``Certificate`` (parsed on first use).

        :raises ParseError: naming :attr:`source` if asn1crypto cannot read it.
        """
        if self.preloaded is not None:
            return self.preloaded
        return load_certificate(self.der, file=self.source)

    @functools.cached_property
    def sha256(self) -> str:
        """SHA-256 of the DER, hex: the item's id in the store."""
        return hashlib.sha256(self.der).hexdigest()

    @property
    def id(self) -> str:
        """The store id (:attr:`sha256`); commands accept any unique prefix."""
        return self.sha256

    @functools.cached_property
    def _subject_name(self) -> Any:
        return asn1_x509.Name.load(self.facts.subject)

    @functools.cached_property
    def subject(self) -> str:
        return format_name(self._subject_name)

    @functools.cached_property
    def issuer(self) -> str:
        return format_name(asn1_x509.Name.load(self.facts.issuer))

    @property
    def key_identifier(self) -> bytes | None:
        """subjectKeyIdentifier, or ``None``."""
        return self.facts.subject_key_identifier

    @functools.cached_property
    def country(self) -> str | None:
        """Subject country (C), upper-case."""
        return name_country(self._subject_name)

    @property
    def serial_number(self) -> int:
        return self.facts.serial_number

    @property
    def verified(self) -> bool:
        """``False`` for contents of an unverified master list imported on request."""
        return self.provenance.verified

    @property
    def label(self) -> str:
        """:attr:`source` with the master-list mark reports show."""
        return _describe_source(self.source, self.provenance)

    def to_index(self, file: str) -> dict[str, Any]:
        """This item's entry in ``index.json``."""
        facts = self.facts
        return {
            "id": self.sha256,
            "kind": self.kind,
            "file": file,
            "source": self.source,
            "subject": self.subject,
            "issuer": self.issuer,
            "country": self.country,
            "serial": format(facts.serial_number, "x"),
            "subject_key_identifier": _hex(facts.subject_key_identifier),
            "authority_key_identifier": _hex(facts.authority_key_identifier),
            "not_before": facts.not_before.isoformat(),
            "not_after": facts.not_after.isoformat(),
            "provenance": self.provenance.to_dict(),
        }

    def pem(self) -> bytes:
        return _pem("CERTIFICATE", self.der)


class TrustAnchor(StoredCertificate):
    """A CSCA (or link) certificate trusted as an anchor, with its provenance.

    :attr:`source` is what reports show; for contents of a master list it
    names the list and its signer, and marks an unverified list (see :attr:`label`).
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.provenance.master_list is not None:
            object.__setattr__(self, "source", _describe_source(self.source, self.provenance))


@dataclass(frozen=True, eq=False)
class StoredCrl:
    """A CRL verified under an anchor of the store.

    :ivar crl: the parsed CRL.
    :ivar issuer_id: the id of the anchor it verified under.
    :ivar scheme: the signature scheme that verified (for reports).
    :ivar provenance: where it came from.
    """

    crl: Crl
    issuer_id: str
    scheme: str
    provenance: Provenance = field(default_factory=Provenance)
    kind: str = "crl"

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.crl.der).hexdigest()

    @property
    def id(self) -> str:
        return self.sha256

    @property
    def source(self) -> str:
        return self.crl.source

    @property
    def subject(self) -> str:
        return self.crl.issuer_text

    @property
    def country(self) -> str | None:
        return self.crl.country

    @property
    def verified(self) -> bool:
        return True

    def to_index(self, file: str) -> dict[str, Any]:
        crl = self.crl
        return {
            "id": self.sha256,
            "kind": "crl",
            "file": file,
            "source": crl.source,
            "issuer": crl.issuer_text,
            "country": crl.country,
            "issuer_id": self.issuer_id,
            "scheme": self.scheme,
            "crl_number": crl.crl_number,
            "this_update": crl.this_update.isoformat(),
            "next_update": None if crl.next_update is None else crl.next_update.isoformat(),
            "revoked": len(crl.revoked),
            "authority_key_identifier": _hex(crl.authority_key_identifier),
            "provenance": self.provenance.to_dict(),
        }

    def pem(self) -> bytes:
        return _pem("X509 CRL", self.crl.der)


StoredItem = StoredCertificate | StoredCrl


@dataclass(frozen=True)
class IssuerCandidate:
    """An anchor that may have issued a certificate, and why.

    :ivar match: ``"key_identifier"`` (AKI = SKI) or ``"name"`` (issuer DN = subject DN).
    :ivar key_identifier_conflict: the name matched but both key identifiers
        are present and differ (another key of the same CA).
    """

    anchor: TrustAnchor
    match: str
    key_identifier_conflict: bool = False


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _pem(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        f"-----BEGIN {label}-----\n".encode()
        + b"\n".join(lines)
        + f"\n-----END {label}-----\n".encode()
    )


def _anchor_kind(facts: CertificateFacts) -> str:
    """``"csca"`` for a self-issued certificate of its own key, else ``"link"``."""
    aki, ski = facts.authority_key_identifier, facts.subject_key_identifier
    if facts.issuer != facts.subject:
        return "link"
    return "link" if aki is not None and ski is not None and aki != ski else "csca"


# --- the store ----------------------------------------------------------------------------------


class TrustStore:
    """CSCA anchors (with lookup by key id, name, issuer and serial, country), DS certificates
    and verified CRLs; loaded from certificate files or a saved store folder."""

    def __init__(self, *paths: str | os.PathLike[str]) -> None:
        """An empty store, or one holding every certificate under *paths* (files or folders)."""
        self._anchors: dict[bytes, TrustAnchor] = {}
        self._by_ski: dict[bytes, list[TrustAnchor]] = {}
        self._by_name_der: dict[bytes, list[TrustAnchor]] = {}
        self._by_name: dict[str, list[TrustAnchor]] | None = None  # built on first need
        self._ds_items: dict[bytes, StoredCertificate] = {}
        self._signers_by_ski: dict[bytes, list[StoredCertificate]] = {}
        self._signers_by_serial: dict[int, list[StoredCertificate]] = {}
        self._crls: dict[bytes, StoredCrl] = {}
        self._rejected: list[tuple[str, str]] = []
        self._problems: list[tuple[str, str]] = []
        for path in paths:
            self.add_path(path)

    # --- loading certificate files -------------------------------------------------------------

    @classmethod
    def from_paths(cls, *paths: str | os.PathLike[str]) -> TrustStore:
        """A store holding every certificate under *paths* (files or folders).

        Certificates that are not CAs are left out and listed in :attr:`rejected`;
        files in folders that cannot be read are listed in :attr:`problems`.

        :raises ParseError: naming the file, for a file named explicitly that is
            unreadable, not a regular file, larger than :data:`MAX_FILE_SIZE`,
            a master list, or holds no CA certificate; naming the folder, for a
            walk beyond :data:`MAX_FOLDER_ENTRIES` entries.
        :raises FileNotFoundError: for a path that does not exist.
        """
        return cls(*paths)

    def add_path(self, path: str | os.PathLike[str]) -> list[TrustAnchor]:
        """Add a file (DER, PEM or PEM bundle, any name) or a folder (recursively).

        In a folder, files with a :data:`CERTIFICATE_SUFFIXES` name are read; a
        file that fails is recorded in :attr:`problems` and the walk goes on;
        certificates that are not CAs are recorded in :attr:`rejected`. A file
        named explicitly must hold at least one CA.

        :returns: the anchors added (duplicates already in the store are not repeated).
        :raises ParseError: as :meth:`from_paths` says.
        :raises FileNotFoundError: for a path that does not exist.
        """
        p = Path(path)
        if p.is_dir():
            added: list[TrustAnchor] = []
            for child in _walk(p):
                try:
                    added.extend(self._add_file(child))
                except (ParseError, OSError) as exc:
                    self._problems.append((str(child), _reason(exc)))
            return added
        if not p.exists() and not p.is_symlink():
            raise FileNotFoundError(f"trust anchor path not found: {p}")
        rejected_before = len(self._rejected)
        added = self._add_file(p)
        if not added:
            reasons = "; ".join(reason for _, reason in self._rejected[rejected_before:])
            raise ParseError(
                f"holds no CA certificate to use as a trust anchor ({reasons})", file=str(p)
            )
        return added

    def _add_file(self, path: Path) -> list[TrustAnchor]:
        return self.add_bytes(read_trust_file(path), source=str(path))

    def add_bytes(self, data: bytes, *, source: str) -> list[TrustAnchor]:
        """Add every certificate in *data*: one DER certificate, or PEM blocks.

        :raises ParseError: (``file=source``) if *data* holds no readable
            certificate, or is a CMS SignedData (a master list: import it with
            ``epass certs import``, which verifies its signature first).
        """
        data = bytes(data)
        if b"-----BEGIN" in data:
            blocks = _PEM.findall(data)
            if not blocks:
                raise ParseError("PEM data without a CERTIFICATE block", file=source, offset=0)
            added: list[TrustAnchor] = []
            for index, block in enumerate(blocks):
                label = source if len(blocks) == 1 else f"{source}#{index}"
                try:
                    der = base64.b64decode(b"".join(block.split()), validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise ParseError(f"bad base64 in PEM block {index}", file=source) from exc
                anchor = self.add(der, source=label, check_self_signature=True)
                if anchor is not None:
                    added.append(anchor)
            return added
        if is_signed_data(data):
            raise ParseError(
                "this is a CMS SignedData (a CSCA master list?), not a certificate: import it "
                "with 'epass certs import', which verifies its signature before trusting it",
                file=source,
                offset=0,
            )
        anchor = self.add(data, source=source, check_self_signature=True)
        return [] if anchor is None else [anchor]

    def add(
        self,
        certificate: bytes,
        *,
        source: str = "<memory>",
        provenance: Provenance | None = None,
        check_self_signature: bool = False,
    ) -> TrustAnchor | None:
        """Add one DER-encoded certificate as an anchor, if it is a CA.

        Adding the same certificate twice keeps the first provenance. A
        certificate that is not a CA (:func:`anchor_problem`) is not added:
        it is recorded in :attr:`rejected` and ``None`` is returned.

        :param check_self_signature: also refuse a self-issued CSCA certificate
            whose signature does not verify under its own key
            (:func:`self_signature_problem`): for certificates from a file,
            which nothing else vouches for. The contents of a verified master
            list are vouched for by its signer and not checked one by one.
        :returns: the anchor, or ``None`` for a certificate that is not a CA.
        :raises ParseError: (``file=source``) if the bytes are not a certificate.
        """
        der = bytes(certificate)
        existing = self._anchors.get(der)
        if existing is not None:
            return existing
        facts, cert = certificate_facts_of(der, file=source)
        problem = facts_problem(facts)
        kind = _anchor_kind(facts)
        if problem is None and check_self_signature and kind == "csca":
            if cert is None:
                cert = load_certificate(der, file=source)
            problem = self_signature_problem(cert)
        if problem is not None:
            self._rejected.append((source, problem))
            return None
        anchor = TrustAnchor(
            der=der,
            source=source,
            kind=kind,
            provenance=provenance or Provenance(file=source),
            facts=facts,
            preloaded=cert,
        )
        self._index(anchor)
        return anchor

    def _index(self, anchor: TrustAnchor) -> None:
        self._anchors[anchor.der] = anchor
        ski = anchor.facts.subject_key_identifier
        if ski is not None:
            self._by_ski.setdefault(ski, []).append(anchor)
        self._by_name_der.setdefault(anchor.facts.subject, []).append(anchor)
        if self._by_name is not None:
            self._name_index_add(self._by_name, anchor)

    @staticmethod
    def _name_index_add(index: dict[str, list[TrustAnchor]], anchor: TrustAnchor) -> None:
        prepared = prepared_name(anchor._subject_name)
        if prepared is not None:  # else reachable by its exact encoding only
            index.setdefault(prepared, []).append(anchor)

    def contains(self, der: bytes) -> bool:
        """Whether the certificate or CRL *der* is in the store (as anchor, DS or CRL)."""
        der = bytes(der)
        return der in self._anchors or der in self._ds_items or der in self._crls

    def get(self, der: bytes) -> StoredItem | None:
        """The stored anchor, DS certificate or CRL whose DER is *der*, or ``None``."""
        der = bytes(der)
        return self._anchors.get(der) or self._ds_items.get(der) or self._crls.get(der)

    def add_document_signer(
        self, certificate: bytes, *, source: str, provenance: Provenance | None = None
    ) -> tuple[StoredCertificate, bool]:
        """Keep a DS certificate for SODs that do not embed theirs (never an anchor).

        :returns: the stored certificate and whether it was new.
        :raises ParseError: (``file=source``) if the bytes are not a certificate.
        :raises RefusedError: for a CA certificate (a CSCA is not a DS).
        """
        der = bytes(certificate)
        existing = self._ds_items.get(der)
        if existing is not None:
            return existing, False
        facts, cert = certificate_facts_of(der, file=source)
        if facts.ca:
            raise RefusedError(f"{source}: a CA certificate, not a document signer")
        item = StoredCertificate(
            der=der,
            source=source,
            kind="ds",
            provenance=provenance or Provenance(file=source),
            facts=facts,
            preloaded=cert,
        )
        self._ds_items[der] = item
        if facts.subject_key_identifier is not None:
            self._signers_by_ski.setdefault(facts.subject_key_identifier, []).append(item)
        self._signers_by_serial.setdefault(facts.serial_number, []).append(item)
        return item, True

    def add_crl(self, crl: Crl, *, provenance: Provenance | None = None) -> tuple[StoredCrl, bool]:
        """Keep *crl* after verifying its signature under an anchor of this store.

        The issuing anchor is found by the CRL's authorityKeyIdentifier, else by
        its issuer name; the first under which the signature verifies (and whose
        subject is the CRL issuer) is recorded. RFC 5280 §6.3.3.

        :returns: the stored CRL and whether it was new.
        :raises RefusedError: if no anchor of the store is its issuer, or its
            signature verifies under none of them.
        """
        existing = self._crls.get(crl.der)
        if existing is not None:
            return existing, False
        candidates = self._crl_issuers(crl)
        if not candidates:
            raise RefusedError(
                f"{crl.source}: no CSCA in the store issued this CRL ({crl.issuer_text}): "
                "import that CSCA first"
            )
        reasons: list[str] = []
        for anchor in candidates:
            try:
                scheme = verify_crl(crl, anchor.certificate)
            except (InvalidSignatureError, UnsupportedAlgorithmError, ParseError) as exc:
                reasons.append(f"{anchor.subject}: {exc}")
                continue
            item = StoredCrl(
                crl=crl,
                issuer_id=anchor.sha256,
                scheme=str(scheme),
                provenance=provenance or Provenance(file=crl.source),
            )
            self._crls[crl.der] = item
            return item, True
        raise RefusedError(
            f"{crl.source}: the CRL signature does not verify under its issuer ("
            + "; ".join(reasons)
            + ")"
        )

    def _crl_issuers(self, crl: Crl) -> list[TrustAnchor]:
        out: list[TrustAnchor] = []
        if crl.authority_key_identifier is not None:
            out.extend(self.by_key_identifier(crl.authority_key_identifier))
        out.extend(a for a in self.by_subject(crl.issuer) if a not in out)
        return out

    def remove(self, item_id: str) -> StoredItem:
        """Remove the item whose id starts with *item_id* (see :meth:`find`).

        Removing an anchor removes the CRLs verified under it too
        (:meth:`crls_verified_under`): nothing vouches for them any more.
        """
        item = self.find(item_id)
        if isinstance(item, StoredCrl):
            del self._crls[item.crl.der]
        elif item.kind == "ds":
            del self._ds_items[item.der]
            for items in (*self._signers_by_ski.values(), *self._signers_by_serial.values()):
                if item in items:
                    items.remove(item)
        else:
            assert isinstance(item, TrustAnchor)  # noqa: S101 - kinds csca/link are anchors
            for crl in self.crls_verified_under(item):
                del self._crls[crl.crl.der]  # verified under this anchor only: unusable now
            del self._anchors[item.der]
            for anchors in (*self._by_ski.values(), *self._by_name_der.values()):
                if item in anchors:
                    anchors.remove(item)
            self._by_name = None
        return item

    # --- lookup ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._anchors)

    def __iter__(self) -> Iterator[TrustAnchor]:
        return iter(tuple(self._anchors.values()))

    def __repr__(self) -> str:
        return (
            f"TrustStore({len(self._anchors)} anchors, {len(self._ds_items)} DS certificates, "
            f"{len(self._crls)} CRLs)"
        )

    def items(self) -> tuple[StoredItem, ...]:
        """Every stored item: anchors, then DS certificates, then CRLs, each in insertion order."""
        return (*self._anchors.values(), *self._ds_items.values(), *self._crls.values())

    def find(self, item_id: str) -> StoredItem:
        """The item whose id (SHA-256, hex) starts with *item_id* (at least 4 hex digits).

        :raises LookupError: if no item or more than one matches.
        """
        wanted = item_id.strip().lower()
        if len(wanted) < 4 or any(c not in "0123456789abcdef" for c in wanted):
            raise LookupError(f"{item_id!r}: an id is at least 4 hex digits of a SHA-256")
        found = [item for item in self.items() if item.sha256.startswith(wanted)]
        if not found:
            raise LookupError(f"no item with id {wanted} in the trust store")
        if len(found) > 1:
            raise LookupError(f"{len(found)} items have ids starting with {wanted}: give more")
        return found[0]

    @property
    def rejected(self) -> tuple[tuple[str, str], ...]:
        """Certificates offered but not used as anchors: ``(source, reason)``, in load order."""
        return tuple(self._rejected)

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """Files (or saved entries) that could not be loaded: ``(where, reason)``."""
        return tuple(self._problems)

    def document_signers(self) -> tuple[Any, ...]:
        """Document Signer certificates the store holds (asn1crypto), for SODs that embed none.

        ICAO 9303-12 §4.1 lets a SOD leave its DS certificate out; the PKD
        publishes DS certificates for that. They are *not* anchors: a DS found
        here must still chain to a CSCA. Parses every one: prefer
        :meth:`find_document_signers` for a lookup.
        """
        return tuple(item.certificate for item in self._ds_items.values())

    def find_document_signers(
        self,
        *,
        issuer: Any = None,
        serial_number: int | None = None,
        key_identifier: bytes | None = None,
    ) -> tuple[Any, ...]:
        """DS certificates (asn1crypto) by subjectKeyIdentifier, or by issuer and serial number.

        :param issuer: an asn1crypto ``Name`` (RFC 5280 §7.1 comparison), with *serial_number*.
        """
        found: list[StoredCertificate] = []
        if key_identifier is not None:
            found.extend(self._signers_by_ski.get(bytes(key_identifier), ()))
        if serial_number is not None:
            for item in self._signers_by_serial.get(int(serial_number), ()):
                if item in found:
                    continue
                if issuer is None or item.facts.issuer == bytes(issuer.dump()):
                    found.append(item)
                elif same_name(asn1_x509.Name.load(item.facts.issuer), issuer):
                    found.append(item)
        out = []
        for item in found:
            try:
                out.append(item.certificate)
            except ParseError as exc:
                self._problems.append((item.source, _reason(exc)))
        return tuple(out)

    def by_issuer_and_serial(
        self, issuer: Any, serial_number: int
    ) -> tuple[StoredCertificate, ...]:
        """Anchors and DS certificates with this issuer (asn1crypto ``Name``) and serial number."""
        wanted = bytes(issuer.dump())
        out: list[StoredCertificate] = []
        for item in (*self._anchors.values(), *self._ds_items.values()):
            if item.facts.serial_number != int(serial_number):
                continue
            if item.facts.issuer == wanted or same_name(
                asn1_x509.Name.load(item.facts.issuer), issuer
            ):
                out.append(item)
        return tuple(out)

    def crls(self) -> tuple[StoredCrl, ...]:
        """Every CRL the store holds (each verified under an anchor when it was added)."""
        return tuple(self._crls.values())

    def crls_verified_under(self, anchor: TrustAnchor) -> tuple[StoredCrl, ...]:
        """The CRLs whose signature was verified under *anchor* (removed with it)."""
        return tuple(item for item in self._crls.values() if item.issuer_id == anchor.sha256)

    def crls_for(self, anchor: TrustAnchor) -> tuple[StoredCrl, ...]:
        """CRLs issued under *anchor*'s name and key (RFC 5280 §6.3.3 (b)).

        A CRL applies when its issuer name is the anchor's subject and, if both
        key identifiers are known, its authorityKeyIdentifier is the anchor's
        subjectKeyIdentifier.
        """
        ski = anchor.key_identifier
        out = []
        for item in self._crls.values():
            aki = item.crl.authority_key_identifier
            if aki is not None and ski is not None and aki != ski:
                continue
            if item.crl.issuer.dump() == anchor.facts.subject or same_name(
                item.crl.issuer, anchor._subject_name
            ):
                out.append(item)
        return tuple(out)

    def by_key_identifier(self, key_identifier: bytes) -> tuple[TrustAnchor, ...]:
        """Anchors whose subjectKeyIdentifier is *key_identifier*."""
        return tuple(self._by_ski.get(bytes(key_identifier), ()))

    def by_subject(self, name: Any) -> tuple[TrustAnchor, ...]:
        """Anchors whose subject equals the asn1crypto ``Name`` *name* (RFC 5280 §7.1).

        Never raises on an untrusted name: one that the RFC 4518 string
        preparation refuses matches only subjects with the same DER encoding.
        """
        # Byte-identical names are the common case; the RFC 5280 string preparation
        # (slow in asn1crypto) is only needed when no subject has the same encoding.
        same = self._by_name_der.get(bytes(name.dump()))
        if same:
            return tuple(same)
        prepared = prepared_name(name)
        if prepared is None:
            return ()
        if self._by_name is None:
            index: dict[str, list[TrustAnchor]] = {}
            for anchor in self._anchors.values():
                self._name_index_add(index, anchor)
            self._by_name = index
        return tuple(self._by_name.get(prepared, ()))

    def by_country(self, country: str) -> tuple[TrustAnchor, ...]:
        """Anchors whose subject country (C) is *country* (ISO 3166-1 alpha-2, any case)."""
        wanted = country.strip().upper()
        return tuple(a for a in self._anchors.values() if a.country == wanted)

    def issuers_of(self, certificate: Any) -> tuple[IssuerCandidate, ...]:
        """Anchors that may have issued *certificate* (asn1crypto), key matches first.

        Every anchor appears once. A name match whose key identifiers are both
        known and differ is still listed, flagged ``key_identifier_conflict``.
        An anchor asn1crypto cannot read is left out and listed in :attr:`problems`.
        """
        out: list[IssuerCandidate] = []
        seen: set[int] = set()
        aki = certificate.authority_key_identifier
        if aki is not None:
            for anchor in self.by_key_identifier(bytes(aki)):
                seen.add(id(anchor))
                if self._readable(anchor):
                    out.append(IssuerCandidate(anchor, "key_identifier"))
        for anchor in self.by_subject(certificate.issuer):
            if id(anchor) in seen:
                continue
            seen.add(id(anchor))
            if not self._readable(anchor):
                continue
            ski = anchor.key_identifier
            conflict = aki is not None and ski is not None and bytes(aki) != ski
            out.append(IssuerCandidate(anchor, "name", key_identifier_conflict=conflict))
        return tuple(out)

    def _readable(self, anchor: TrustAnchor) -> bool:
        try:
            anchor.certificate  # noqa: B018 - parse (once) before it is used
        except ParseError as exc:
            entry = (anchor.source, _reason(exc))
            if entry not in self._problems:
                self._problems.append(entry)
            return False
        return True

    # --- persistence -----------------------------------------------------------------------------

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TrustStore:
        """The store saved in *folder* (:meth:`save`); empty if there is none yet.

        Every file is read bounded (:func:`read_trust_file`). An entry whose file
        is missing, unreadable, or whose SHA-256 differs from its id is listed in
        :attr:`problems` and the rest loads. Files the index does not list are ignored.

        :raises ParseError: naming ``index.json`` if it is not a store index.
        """
        store = cls()
        root = Path(folder)
        index_path = root / INDEX_NAME
        if not index_path.exists() and not index_path.is_symlink():
            return store
        raw = read_trust_file(index_path, max_size=MAX_INDEX_SIZE)
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"not a trust store index: {exc}", file=str(index_path)) from exc
        if not isinstance(document, dict) or document.get("format") != STORE_FORMAT:
            raise ParseError(
                f"not a trust store index of format {STORE_FORMAT}", file=str(index_path)
            )
        entries = document.get("entries")
        if not isinstance(entries, list):
            raise ParseError("index has no list of entries", file=str(index_path))
        order = {kind: rank for rank, kind in enumerate(_KINDS)}
        ranked = sorted(
            enumerate(entries),
            key=lambda pair: order.get(
                str(pair[1].get("kind")) if isinstance(pair[1], dict) else "", 99
            ),
        )
        for number, entry in ranked:
            where = f"{index_path} entry {number}"
            try:
                store._load_entry(root, entry, where)
            except (ParseError, RefusedError, OSError, ValueError, TypeError, KeyError) as exc:
                store._problems.append((where, _reason(exc)))
        return store

    def _load_entry(self, root: Path, entry: Any, where: str) -> None:
        if not isinstance(entry, dict):
            raise ValueError("not an object")
        kind, rel, item_id = entry.get("kind"), entry.get("file"), entry.get("id")
        if kind not in _KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if not isinstance(rel, str) or not _STORE_FILE.match(rel):
            raise ValueError(f"file {rel!r} is not a store file name")
        if not isinstance(item_id, str):
            raise ValueError("no id")
        path = root / rel
        data = read_trust_file(path, max_size=MAX_STORE_FILE_SIZE)
        label = "X509 CRL" if kind == "crl" else "CERTIFICATE"
        der = _pem_body(data, label, file=str(path))
        if hashlib.sha256(der).hexdigest() != item_id:
            raise ParseError("content differs from its index entry (SHA-256)", file=str(path))
        provenance = Provenance.from_dict(entry.get("provenance", {}))
        source = entry.get("source")
        source = source if isinstance(source, str) else str(path)
        if kind == "crl":
            issuer_id = entry.get("issuer_id")
            scheme = entry.get("scheme")
            anchors = [a for a in self._anchors.values() if a.sha256 == issuer_id]
            if not anchors or not isinstance(scheme, str):
                raise RefusedError("the CSCA this CRL was verified under is no longer in the store")
            crl = parse_crl(der, file=source)
            # verified again (one signature per CRL): a CRL decides revocations, and the
            # store's files may have been changed since the import
            try:
                verified = verify_crl(crl, anchors[0].certificate)
            except (InvalidSignatureError, UnsupportedAlgorithmError) as exc:
                raise RefusedError(
                    f"the CRL no longer verifies under the CSCA {anchors[0].subject} it was "
                    f"imported under: {exc}"
                ) from exc
            self._crls[der] = StoredCrl(crl, anchors[0].sha256, str(verified), provenance)
        elif kind == "ds":
            self.add_document_signer(der, source=source, provenance=provenance)
        else:
            facts, cert = certificate_facts_of(der, file=str(path))
            problem = facts_problem(facts)
            if problem is not None:
                raise RefusedError(problem)
            raw_source = provenance_source(source, provenance)
            self._index(
                TrustAnchor(
                    der=der,
                    source=raw_source,
                    kind=_anchor_kind(facts),
                    provenance=provenance,
                    facts=facts,
                    preloaded=cert,
                )
            )

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the store to *folder* atomically (see the module docstring); returns the index.

        Hold :func:`store_lock` around load-change-save when other processes may write too.

        :raises OSError: if a file cannot be written (the previous index then stays in force).
        """
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        entries: list[dict[str, Any]] = []
        referenced: set[str] = set()
        folders: set[Path] = set()
        for item in self.items():
            sub = _SUBFOLDER[item.kind]
            country = re.sub(r"[^A-Z0-9]", "", (item.country or "").upper())[:8]
            rel = f"{sub}/{country if len(country) >= 2 else 'XX'}_{item.sha256[:16]}.pem"
            target = root / rel
            target.parent.mkdir(exist_ok=True, mode=0o700)
            folders.add(target.parent)
            pem = item.pem()
            if not _holds(target, pem):
                _write_atomic(target, pem, sync_folder=False)
            entries.append(item.to_index(rel))
            referenced.add(rel)
        for path in folders:
            _fsync_folder(path)
        index = {
            "format": STORE_FORMAT,
            "saved_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "entries": entries,
        }
        index_path = root / INDEX_NAME
        text = json.dumps(index, indent=1, ensure_ascii=False) + "\n"
        _write_atomic(index_path, text.encode("utf-8"), sync_folder=True)
        _remove_unreferenced(root, referenced)
        return index_path


def provenance_source(source: str, provenance: Provenance) -> str:
    """The raw source label of a saved anchor (without the master-list mark it was saved with)."""
    if provenance.master_list is None:
        return source
    cut = source.find(" (")
    return source if cut < 0 else source[:cut]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ParseError):
        return exc.reason
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def _pem_body(data: bytes, label: str, *, file: str) -> bytes:
    begin, end = f"-----BEGIN {label}-----".encode(), f"-----END {label}-----".encode()
    start, stop = data.find(begin), data.find(end)
    if start < 0 or stop < start:
        raise ParseError(f"no {label} PEM block", file=file)
    try:
        return base64.b64decode(b"".join(data[start + len(begin) : stop].split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(f"bad base64 in the {label} PEM block", file=file) from exc


def _holds(path: Path, content: bytes) -> bool:
    """Whether *path* is a regular file holding exactly *content*."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(content):
            return False
        return path.read_bytes() == content
    except OSError:
        return False


def _write_atomic(path: Path, content: bytes, *, sync_folder: bool) -> None:
    """Write *content* to *path*: a temporary file in the same folder, fsync, rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    if sync_folder:
        _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_unreferenced(root: Path, referenced: set[str]) -> None:
    """Delete store files and temporary files the new index does not list (never anything else)."""
    for sub in sorted(set(_SUBFOLDER.values())):
        folder = root / sub
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.iterdir():
            rel = f"{sub}/{path.name}"
            stale_temporary = path.name.startswith(".") and path.name.endswith(".tmp")
            if rel in referenced or not (_STORE_FILE.match(rel) or stale_temporary):
                continue
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    path.unlink()
            except OSError:
                pass


@contextmanager
def store_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on the store *folder* (``.lock`` in it; POSIX ``flock``).

    Another process taking the lock waits. Where ``fcntl`` is missing this locks nothing.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def default_store_folder() -> Path:
    """Where the imported trust store lives: ``$EPASS_HOME/trust`` if ``EPASS_HOME`` is set,
    else ``trust`` in the user data folder (``platformdirs.user_data_dir("epass")``)."""
    home = os.environ.get("EPASS_HOME")
    if home:
        return Path(home) / "trust"
    import platformdirs

    return Path(platformdirs.user_data_dir("epass")) / "trust"


def _walk(folder: Path) -> Iterator[Path]:
    """Files with a certificate suffix under *folder*, sorted per folder, bounded.

    Symbolic links to folders are not followed (no cycles); at most
    :data:`MAX_FOLDER_ENTRIES` entries are visited.

    :raises ParseError: naming *folder* when it holds more entries than that.
    """
    seen = 0
    for root, dirs, files in os.walk(folder):
        seen += len(dirs) + len(files)
        if seen > MAX_FOLDER_ENTRIES:
            raise ParseError(
                f"more than {MAX_FOLDER_ENTRIES} entries in the trust folder", file=str(folder)
            )
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(CERTIFICATE_SUFFIXES):
                yield Path(root, name)


def read_trust_file(path: str | os.PathLike[str], *, max_size: int | None = None) -> bytes:
    """The bytes of the regular file *path*, at most *max_size* (default :data:`MAX_FILE_SIZE`).

    The file type is checked before opening (a FIFO or device is never
    opened) and again on the open descriptor; the open does not block.

    :raises ParseError: naming *path* for a file that is not regular or is too large.
    :raises OSError: if it cannot be read.
    """
    limit = MAX_FILE_SIZE if max_size is None else max_size
    where = str(path)
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ParseError("not a regular file", file=where)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ParseError("not a regular file", file=where)
        if info.st_size > limit:
            raise ParseError(
                f"{info.st_size} bytes: larger than the {limit} bytes a trust file of this "
                "kind may hold",
                file=where,
            )
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ParseError(f"larger than the {limit} bytes a trust file may hold", file=where)
    return data


_read_bounded = read_trust_file
