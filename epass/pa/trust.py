"""Trust anchors for passive authentication: Country Signing CA certificates.

ICAO Doc 9303-12 §4 (the PKI) and §5.1 (CSCA, DS): a DS certificate is trusted
when it verifies under a CSCA certificate the verifier obtained out of band.
:class:`TrustStore` holds such anchors, each with its provenance (the file it
came from), and answers "which anchors could have issued this certificate?":

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

Only CA certificates are anchors (9303-12 §7.1.1 CSCA profile): basicConstraints
cA=TRUE and, when keyUsage is present, keyCertSign (:func:`anchor_problem`).
Any other certificate (a DS certificate put in a trust folder by mistake) is
kept out and listed in :attr:`TrustStore.rejected` with the reason, since its
key must never vouch for a DS certificate.

Loading: DER or PEM certificates, a PEM bundle, or a folder searched
recursively for ``*.pem *.crt *.cer *.der *.cert`` (other files are ignored).
Only regular files are read, at most :data:`MAX_FILE_SIZE` bytes each, and a
folder walk visits at most :data:`MAX_FOLDER_ENTRIES` entries (symbolic links
to folders are not followed). A file that should hold a certificate but does
not, that is not a regular file or is too large, or that is named explicitly
and holds no CA certificate at all, raises :class:`~epass.errors.ParseError`
naming it.

Master lists (9303-12 §9), ICAO PKD LDIF, CRLs and link certificates are not
read; loaders for them would be more ``add_*`` methods producing
:class:`TrustAnchor` objects with another ``kind`` and ``source``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from epass.errors import BUILTIN_PARSE_ERRORS, ParseError
from epass.lds.asn1 import format_name, load_certificate, name_country, prepared_name
from epass.pa.certificates import RECOGNISED_CRITICAL_EXTENSIONS

__all__ = [
    "CERTIFICATE_SUFFIXES",
    "MAX_FILE_SIZE",
    "MAX_FOLDER_ENTRIES",
    "IssuerCandidate",
    "TrustAnchor",
    "TrustStore",
    "anchor_problem",
]

#: File name endings searched in folders (case-insensitive).
CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".cert")

#: Largest trust file read, in bytes (a master list of every CSCA is a few MiB as PEM).
MAX_FILE_SIZE = 16 * 1024 * 1024

#: Most folder entries (files and folders, any name) a folder walk visits.
MAX_FOLDER_ENTRIES = 100_000

_PEM = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)"
    rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
    re.DOTALL,
)


#: Extensions a CSCA may mark critical (RFC 5280 §4.2): the same set as for a DS
#: (:data:`epass.pa.certificates.RECOGNISED_CRITICAL_EXTENSIONS`).
CSCA_RECOGNISED_EXTENSIONS = RECOGNISED_CRITICAL_EXTENSIONS


def anchor_problem(certificate: Any) -> str | None:
    """Why *certificate* (asn1crypto) cannot be a trust anchor, or ``None`` if it can.

    A CSCA is a CA (9303-12 §7.1.1 CSCA profile; RFC 5280 §4.2.1.9 and
    §4.2.1.3): basicConstraints with cA=TRUE and, when keyUsage is present,
    keyCertSign among its bits. Never raises: unreadable extensions are a reason.
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
    unknown = [oid for oid in critical if oid not in CSCA_RECOGNISED_EXTENSIONS]
    if unknown:
        return (
            "it marks critical an extension this verifier does not process: "
            + ", ".join(unknown)
            + " (RFC 5280 §4.2: such a certificate must be rejected)"
        )
    if not is_ca:
        return "not a CA certificate: basicConstraints cA is not TRUE (9303-12 §7.1.1)"
    if usages is not None and "key_cert_sign" not in usages:
        return "keyUsage lacks keyCertSign (9303-12 §7.1.1)"
    return None


@dataclass(frozen=True, eq=False)
class TrustAnchor:
    """One trusted certificate with its provenance.

    :ivar certificate: the asn1crypto ``Certificate``.
    :ivar der: its DER bytes, as loaded.
    :ivar source: where it came from (a path, ``"path#2"`` for the third
        certificate of a bundle, or the caller's label).
    :ivar kind: ``"csca"`` (the only kind this version loads).
    """

    certificate: Any = field(repr=False)
    der: bytes = field(repr=False)
    source: str
    kind: str = "csca"

    @functools.cached_property
    def subject(self) -> str:
        return format_name(self.certificate.subject)

    @property
    def key_identifier(self) -> bytes | None:
        """subjectKeyIdentifier, or ``None``."""
        ski = self.certificate.key_identifier
        return None if ski is None else bytes(ski)

    @functools.cached_property
    def country(self) -> str | None:
        """Subject country (C), upper-case."""
        return name_country(self.certificate.subject)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


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


class TrustStore:
    """A set of trust anchors (CSCA certificates) with lookup by key id, name and country."""

    def __init__(self, *paths: str | os.PathLike[str]) -> None:
        """An empty store, or one holding every certificate under *paths* (files or folders)."""
        self._anchors: list[TrustAnchor] = []
        self._by_der: dict[bytes, TrustAnchor] = {}
        self._by_ski: dict[bytes, list[TrustAnchor]] = {}
        self._by_name: dict[str, list[TrustAnchor]] = {}
        self._by_name_der: dict[bytes, list[TrustAnchor]] = {}
        self._rejected: list[tuple[str, str]] = []
        self._document_signers: list[Any] = []
        for path in paths:
            self.add_path(path)

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def from_paths(cls, *paths: str | os.PathLike[str]) -> TrustStore:
        """A store holding every certificate under *paths* (files or folders).

        Certificates that are not CAs are left out and listed in :attr:`rejected`.

        :raises ParseError: naming the file, for a certificate file that is
            unreadable, not a regular file, larger than :data:`MAX_FILE_SIZE`,
            or named explicitly and holding no CA certificate; naming the
            folder, for a walk beyond :data:`MAX_FOLDER_ENTRIES` entries.
        :raises FileNotFoundError: for a path that does not exist.
        """
        return cls(*paths)

    #: Alias of :meth:`from_paths`.
    load = from_paths

    def add_path(self, path: str | os.PathLike[str]) -> list[TrustAnchor]:
        """Add a file (DER, PEM or PEM bundle, any name) or a folder (recursively).

        In a folder, files with a :data:`CERTIFICATE_SUFFIXES` name are read;
        certificates that are not CAs are recorded in :attr:`rejected` and the
        walk goes on. A file named explicitly must hold at least one CA.

        :returns: the anchors added (duplicates already in the store are not repeated).
        :raises ParseError: as :meth:`from_paths` says.
        :raises FileNotFoundError: for a path that does not exist.
        """
        p = Path(path)
        if p.is_dir():
            added: list[TrustAnchor] = []
            for child in _walk(p):
                added.extend(self._add_file(child))
            return added
        if not p.exists():
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
        return self.add_bytes(_read_bounded(path), source=str(path))

    def add_bytes(self, data: bytes, *, source: str) -> list[TrustAnchor]:
        """Add every certificate in *data*: one DER certificate, or PEM blocks.

        :raises ParseError: (``file=source``) if *data* holds no readable certificate.
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
                anchor = self.add(der, source=label)
                if anchor is not None:
                    added.append(anchor)
            return added
        anchor = self.add(data, source=source)
        return [] if anchor is None else [anchor]

    def add(self, certificate: bytes, *, source: str = "<memory>") -> TrustAnchor | None:
        """Add one DER-encoded certificate as a CSCA anchor, if it is a CA.

        Adding the same certificate twice keeps the first provenance. A
        certificate that is not a CA (:func:`anchor_problem`) is not added:
        it is recorded in :attr:`rejected` and ``None`` is returned.

        :returns: the anchor, or ``None`` for a certificate that is not a CA.
        :raises ParseError: (``file=source``) if the bytes are not a certificate.
        """
        der = bytes(certificate)
        existing = self._by_der.get(der)
        if existing is not None:
            return existing
        cert = load_certificate(der, file=source)
        problem = anchor_problem(cert)
        if problem is not None:
            self._rejected.append((source, problem))
            return None
        anchor = TrustAnchor(certificate=cert, der=der, source=source)
        self._anchors.append(anchor)
        self._by_der[der] = anchor
        ski = anchor.key_identifier
        if ski is not None:
            self._by_ski.setdefault(ski, []).append(anchor)
        prepared = prepared_name(cert.subject)
        if prepared is not None:  # else reachable by its exact encoding only
            self._by_name.setdefault(prepared, []).append(anchor)
        self._by_name_der.setdefault(cert.subject.dump(), []).append(anchor)
        return anchor

    # --- lookup ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._anchors)

    def __iter__(self) -> Iterator[TrustAnchor]:
        return iter(tuple(self._anchors))

    def __repr__(self) -> str:
        return f"TrustStore({len(self._anchors)} anchors)"

    @property
    def rejected(self) -> tuple[tuple[str, str], ...]:
        """Certificates offered but not used as anchors: ``(source, reason)``, in load order."""
        return tuple(self._rejected)

    def document_signers(self) -> tuple[Any, ...]:
        """Document Signer certificates the store holds (asn1crypto), for SODs that embed none.

        ICAO 9303-12 §4.1 lets a SOD leave its DS certificate out; the PKD
        publishes DS certificates for that. They are *not* anchors: a DS found
        here must still chain to a CSCA.
        """
        return tuple(self._document_signers)

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
        return () if prepared is None else tuple(self._by_name.get(prepared, ()))

    def by_country(self, country: str) -> tuple[TrustAnchor, ...]:
        """Anchors whose subject country (C) is *country* (ISO 3166-1 alpha-2, any case)."""
        wanted = country.strip().upper()
        return tuple(a for a in self._anchors if a.country == wanted)

    def issuers_of(self, certificate: Any) -> tuple[IssuerCandidate, ...]:
        """Anchors that may have issued *certificate* (asn1crypto), key matches first.

        Every anchor appears once. A name match whose key identifiers are both
        known and differ is still listed, flagged ``key_identifier_conflict``.
        """
        out: list[IssuerCandidate] = []
        seen: set[int] = set()
        aki = certificate.authority_key_identifier
        if aki is not None:
            for anchor in self.by_key_identifier(bytes(aki)):
                seen.add(id(anchor))
                out.append(IssuerCandidate(anchor, "key_identifier"))
        for anchor in self.by_subject(certificate.issuer):
            if id(anchor) in seen:
                continue
            seen.add(id(anchor))
            ski = anchor.key_identifier
            conflict = aki is not None and ski is not None and bytes(aki) != ski
            out.append(IssuerCandidate(anchor, "name", key_identifier_conflict=conflict))
        return tuple(out)


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


def _read_bounded(path: Path) -> bytes:
    """The bytes of the regular file *path*, at most :data:`MAX_FILE_SIZE`.

    The file type is checked before opening (a FIFO or device is never
    opened) and again on the open descriptor; the open does not block.

    :raises ParseError: naming *path* for a file that is not regular or is too large.
    :raises OSError: if it cannot be read.
    """
    where = str(path)
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ParseError("not a regular file", file=where)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ParseError("not a regular file", file=where)
        if info.st_size > MAX_FILE_SIZE:
            raise ParseError(
                f"{info.st_size} bytes: larger than the {MAX_FILE_SIZE} bytes a trust file "
                "may hold",
                file=where,
            )
        data = handle.read(MAX_FILE_SIZE + 1)
    if len(data) > MAX_FILE_SIZE:
        raise ParseError(f"larger than the {MAX_FILE_SIZE} bytes a trust file may hold", file=where)
    return data
