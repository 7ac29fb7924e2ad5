"""Import trust material into a :class:`~epass.pa.trust.TrustStore`, with a summary per file.

What a file holds is recognised from its content (the name only orders the
work): PEM or DER certificates and bundles, CSCA master lists (CMS
SignedData, :mod:`epass.pa.masterlist`), ICAO PKD LDIF files
(:mod:`epass.pa.ldif`) and CRLs (:mod:`epass.pa.crl`). Folders are searched
for :data:`SUFFIXES`. Files are imported certificates first, then master
lists, then LDIF files, then CRLs, so that a CSCA given in the same call can
verify a master list and a CRL.

Rules (ICAO Doc 9303-12 §9 for master lists; RFC 5280 §6.3 for CRLs):

* every file is read bounded: regular files only, at most
  :data:`~epass.pa.trust.MAX_FILE_SIZE` bytes (:data:`MAX_LDIF_SIZE` for LDIF);
* a certificate file's CA certificates become anchors (a self-issued one only if it is
  self-signed); its DS certificates are kept as DS certificates; a link certificate
  (signed by another CSCA key) is verified under the old CSCA when the store
  holds it, and refused if it names a CSCA of the store whose key does not verify it;
* a master list's contents enter the store only if the list verifies
  (:func:`~epass.pa.masterlist.verify_master_list`); otherwise nothing of it is
  added, unless ``allow_unverified`` is given, and then every anchor from it is
  marked unverified (its :attr:`~epass.pa.trust.TrustAnchor.source` says so in
  every report);
* a CRL enters only if it verifies under an anchor of the store;
* DS certificates (PKD ``o=dsc``) are kept for SODs that embed none, never as anchors;
  a CA certificate in an LDIF file (which nobody signed) is refused;
* one bad entry (a malformed certificate in a list, a broken LDIF record) is
  refused with its reason and the others are imported.

The store is changed in memory only; the caller saves it (:meth:`TrustStore.save`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509

from epass._crypto.certificates import CertificateFacts
from epass._crypto.signatures import UnsupportedAlgorithmError, verify_certificate_signature
from epass.errors import BUILTIN_PARSE_ERRORS, EpassError, InvalidSignatureError, ParseError
from epass.lds.asn1 import format_name
from epass.pa.crl import parse_crl
from epass.pa.ldif import LdifObject, LdifProblem, read_ldif
from epass.pa.masterlist import (
    MasterList,
    MasterListVerification,
    parse_master_list,
    verify_master_list,
)
from epass.pa.trust import (
    _PEM,
    MAX_FOLDER_ENTRIES,
    Provenance,
    RefusedError,
    TrustAnchor,
    TrustStore,
    _pem_body,
    certificate_facts_of,
    is_signed_data,
    read_trust_file,
)

__all__ = [
    "MAX_LDIF_SIZE",
    "SUFFIXES",
    "FileImport",
    "ImportedItem",
    "Importer",
    "sniff",
]

#: Largest LDIF file read, in bytes (the ICAO PKD DS/CRL download is some tens of MiB).
MAX_LDIF_SIZE = 1024 * 1024 * 1024

#: File name endings imported from folders, in import order (case-insensitive).
SUFFIXES = (".pem", ".der", ".cer", ".crt", ".cert", ".ml", ".mls", ".ldif", ".crl")
_ORDER = {".ml": 1, ".mls": 1, ".ldif": 2, ".crl": 3}

#: ``(label, done, total)`` after each entry of a file.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ImportedItem:
    """What happened to one certificate, CRL or list entry of a file.

    :ivar entry: its place: ``"#12"`` or an LDIF record.
    :ivar kind: ``"csca"``, ``"link"``, ``"ds"``, ``"crl"``, ``"master_list"``, ``"certificate"``.
    :ivar status: ``"added"``, ``"present"`` (already in the store) or ``"refused"``.
    :ivar reason: why it was refused, or a note.
    :ivar id: its store id (SHA-256), when it is in the store.
    :ivar subject: its subject (or CRL issuer), when known.
    """

    entry: str
    kind: str
    status: str
    reason: str | None = None
    id: str | None = None
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "id": self.id,
            "subject": self.subject,
        }


@dataclass
class FileImport:
    """The summary of one file's import.

    :ivar path: the file.
    :ivar kind: ``"certificates"``, ``"master_list"``, ``"ldif"``, ``"crl"`` or ``"unknown"``.
    :ivar verified: whether the master list / CRL verified (``None``: nothing to verify).
    :ivar signer: the master list's signer, or ``None``.
    :ivar anchor: the anchor its signer (or the CRL) verified under, or ``None``.
    :ivar refused: the reason the whole file was refused (nothing of it added), or ``None``.
    :ivar notes: anything else to show (an expired CRL, an unverified list imported on request).
    :ivar items: one entry per certificate / CRL / record.
    """

    path: str
    kind: str = "unknown"
    verified: bool | None = None
    signer: str | None = None
    anchor: str | None = None
    refused: str | None = None
    notes: list[str] = field(default_factory=list)
    items: list[ImportedItem] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def present(self) -> int:
        return self.count("present")

    @property
    def refused_items(self) -> int:
        return self.count("refused")

    @property
    def ok(self) -> bool:
        """Nothing refused: not the file, not one entry."""
        return self.refused is None and self.refused_items == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "verified": self.verified,
            "signer": self.signer,
            "anchor": self.anchor,
            "refused": self.refused,
            "added": self.added,
            "present": self.present,
            "refused_entries": self.refused_items,
            "notes": list(self.notes),
            "items": [item.to_dict() for item in self.items],
        }


def sniff(data: bytes, name: str = "") -> str:
    """What *data* holds: ``"ldif"``, ``"crl"``, ``"certificates"`` or ``"master_list"``.

    PEM by its labels; LDIF by a leading ``dn:``/``version:`` line (or the
    ``.ldif`` name); DER: a ContentInfo is a master list, else a certificate
    (or a CRL, tried by the caller when the certificate does not parse, and
    first for a ``.crl`` name).
    """
    head = data[:4096].lstrip()
    if head.startswith(b"-----BEGIN"):
        return "crl" if head.startswith(b"-----BEGIN X509 CRL") else "certificates"
    lowered = head.lower()
    if name.lower().endswith(".ldif") or lowered.startswith((b"dn:", b"version:", b"#")):
        return "ldif"
    if is_signed_data(data) or name.lower().endswith((".ml", ".mls")):
        return "master_list"
    if name.lower().endswith(".crl"):
        return "crl"
    return "certificates"


def _bounded_open(path: Path, limit: int) -> Any:
    """Open the regular file *path* for reading after the checks of :func:`read_trust_file`."""
    where = str(path)
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ParseError("not a regular file", file=where)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    handle = os.fdopen(fd, "rb")
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        handle.close()
        why = "not a regular file" if not stat.S_ISREG(info.st_mode) else None
        raise ParseError(
            why or f"{info.st_size} bytes: larger than the {limit} bytes an LDIF file may hold",
            file=where,
        )
    return handle


class Importer:
    """Imports files into *store* (module docstring); one :class:`FileImport` per file.

    :param store: the store to add to (in memory).
    :param allow_unverified: import the contents of master lists that do not
        verify, marked unverified (never CRLs or link certificates that fail).
    :param at: the check time (aware; default now) and the import date recorded.
    :param progress: called after each entry of a file.
    """

    def __init__(
        self,
        store: TrustStore,
        *,
        allow_unverified: bool = False,
        at: datetime | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.allow_unverified = allow_unverified
        self.at = at or datetime.now(UTC).replace(microsecond=0)
        self.progress = progress

    # --- files -------------------------------------------------------------------------------

    def files(self, paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
        """The files *paths* name (folders searched for :data:`SUFFIXES`), in import order.

        :raises FileNotFoundError: for a path that does not exist.
        :raises ParseError: for a folder with more than ``MAX_FOLDER_ENTRIES`` entries.
        """
        found: list[Path] = []
        for path in paths:
            p = Path(path)
            if p.is_dir():
                found.extend(_walk(p))
            elif p.exists() or p.is_symlink():
                found.append(p)
            else:
                raise FileNotFoundError(f"{p}: no such file or folder")
        return sorted(found, key=lambda f: _ORDER.get(f.suffix.lower(), 0))

    def import_paths(self, paths: Iterable[str | os.PathLike[str]]) -> list[FileImport]:
        """Import every file under *paths* (see :meth:`files`); never raises for a bad file."""
        return [self.import_file(path) for path in self.files(paths)]

    def import_file(self, path: str | os.PathLike[str]) -> FileImport:
        """Import one file; a file that cannot be read is refused in the summary."""
        p = Path(path)
        result = FileImport(str(p))
        try:
            if p.suffix.lower() == ".ldif":
                result.kind = "ldif"
                with _bounded_open(p, MAX_LDIF_SIZE) as handle:
                    self._ldif(handle, result)
                return result
            data = read_trust_file(p)
            kind = sniff(data, p.name)
            if kind == "ldif":
                result.kind = "ldif"
                with _bounded_open(p, MAX_LDIF_SIZE) as handle:
                    self._ldif(handle, result)
                return result
            self.import_bytes(data, source=str(p), result=result, kind=kind)
        except (ParseError, OSError) as exc:
            result.refused = _reason(exc)
        return result

    def import_bytes(
        self, data: bytes, *, source: str, result: FileImport | None = None, kind: str | None = None
    ) -> FileImport:
        """Import the contents of one file given as bytes (not LDIF: use :meth:`import_file`)."""
        result = result or FileImport(source)
        kind = kind or sniff(data, source)
        result.kind = kind
        try:
            if kind == "master_list":
                self._master_list(data, source, result, Provenance(file=source))
            elif kind == "crl":
                self._crl(data, source, "#0", result, Provenance(file=source))
            elif kind == "ldif":
                raise ParseError("LDIF is imported from a file", file=source)
            else:
                self._certificates(data, source, result)
        except ParseError as exc:
            result.refused = _reason(exc)
        return result

    # --- kinds -------------------------------------------------------------------------------

    def _certificates(self, data: bytes, source: str, result: FileImport) -> None:
        if b"-----BEGIN" in data:
            blocks = _PEM.findall(data)
            if not blocks:
                raise ParseError("PEM data without a CERTIFICATE block", file=source, offset=0)
            ders: list[tuple[str, bytes | None, str | None]] = []
            for index, block in enumerate(blocks):
                body = b"-----BEGIN CERTIFICATE-----" + block + b"-----END CERTIFICATE-----"
                try:
                    ders.append((f"#{index}", _pem_body(body, "CERTIFICATE", file=source), None))
                except ParseError as exc:
                    ders.append((f"#{index}", None, exc.reason))
        else:
            ders = [("#0", data, None)]
        for entry, der, error in ders:
            if der is None:
                result.items.append(ImportedItem(entry, "certificate", "refused", error))
                continue
            if len(ders) == 1 and is_signed_data(der):
                raise ParseError("a CMS SignedData that is not a master list", file=source)
            label = source if len(ders) == 1 else f"{source}{entry}"
            try:
                item = self._anchor(
                    der, label, entry, Provenance(file=source, entry=entry), from_file=True
                )
            except ParseError as exc:
                if len(ders) == 1 and _is_crl(der):  # a DER CRL named .cer/.der
                    result.kind = "crl"
                    self._crl(der, source, entry, result, Provenance(file=source))
                    return
                item = ImportedItem(entry, "certificate", "refused", exc.reason)
            result.items.append(item)

    def _anchor(
        self,
        der: bytes,
        source: str,
        entry: str,
        provenance: Provenance,
        *,
        vouched: bool = False,
        from_file: bool = False,
    ) -> ImportedItem:
        """Add one CA certificate; verify a link certificate unless a verified list vouches.

        From a certificate file (*from_file*), a DS certificate (not a CA, keyUsage
        digitalSignature when present) is kept as a DS certificate, never an anchor:
        a SOD that does not embed its DS finds it there, and it must still chain.
        """
        if self.store.contains(der):
            present = self.store.get(der)
            assert present is not None  # noqa: S101 - contains() said so
            return ImportedItem(entry, present.kind, "present", None, present.id, present.subject)
        provenance = _dated(provenance, self.at)
        rejected = len(self.store.rejected)
        anchor = self.store.add(
            der, source=source, provenance=provenance, check_self_signature=not vouched
        )
        if anchor is None:
            reason = self.store.rejected[rejected][1] if len(self.store.rejected) > rejected else ""
            facts, _ = certificate_facts_of(der, file=source)
            subject = _subject_text(facts.subject)
            if from_file and not facts.ca and _signs(facts):
                stored, _ = self.store.add_document_signer(
                    der, source=source, provenance=provenance
                )
                return ImportedItem(
                    entry,
                    "ds",
                    "added",
                    "a document signer certificate (not a CA): kept for SODs that do not embed "
                    "theirs, never an anchor",
                    stored.id,
                    stored.subject,
                )
            return ImportedItem(
                entry, "certificate", "refused", f"not an anchor: {reason}", None, subject
            )
        note = None
        if anchor.kind == "link" and not vouched:
            note = self._check_link(anchor)
            if note.startswith("refused: "):
                self.store.remove(anchor.id)
                return ImportedItem(entry, "link", "refused", note[9:], None, anchor.subject)
        return ImportedItem(entry, anchor.kind, "added", note, anchor.id, anchor.subject)

    def _check_link(self, anchor: TrustAnchor) -> str:
        """How a link certificate verified under the old CSCA (or ``"refused: why"``)."""
        cert = anchor.certificate
        strong: list[str] = []
        for candidate in self.store.issuers_of(cert):
            old = candidate.anchor
            if old is anchor or old.der == anchor.der:
                continue
            if candidate.match == "name" and candidate.key_identifier_conflict:
                continue
            try:
                verify_certificate_signature(cert, old.certificate)
            except (InvalidSignatureError, UnsupportedAlgorithmError) as exc:
                strong.append(f"{old.subject}: {exc}")
                continue
            return f"link certificate signed by CSCA {old.subject} ({old.id[:16]})"
        if strong:
            return "refused: link certificate does not verify under the CSCA it names (" + (
                "; ".join(strong) + ")"
            )
        return "link certificate; the CSCA that signed it is not in the store"

    def _master_list(
        self, data: bytes, source: str, result: FileImport, provenance: Provenance
    ) -> None:
        result.kind = "master_list"
        master_list = parse_master_list(data, file=source)
        check = verify_master_list(master_list, self.store, at=self.at)
        self._record_verification(result, check)
        if not check.verified:
            if not self.allow_unverified:
                result.refused = f"the master list does not verify: {check.reason}"
                return
            result.notes.append(
                f"imported UNVERIFIED on request ({check.reason}): its anchors are marked "
                "unverified in every report"
            )
        self._master_list_contents(master_list, check, result, provenance)

    def _record_verification(self, result: FileImport, check: MasterListVerification) -> None:
        result.verified = check.verified
        result.signer = check.signer
        if check.anchor is not None:
            result.anchor = f"{check.anchor.subject} ({check.anchor.id[:16]})"

    def _master_list_contents(
        self,
        master_list: MasterList,
        check: MasterListVerification,
        result: FileImport,
        provenance: Provenance,
    ) -> None:
        total = len(master_list.certificates)
        label = f"{provenance.file}{provenance.entry or ''}"
        for index, der in enumerate(master_list.certificates):
            entry = f"#{index}"
            item_provenance = Provenance(
                file=provenance.file,
                entry=(provenance.entry + " " if provenance.entry else "") + entry,
                master_list=label,
                master_list_signer=check.signer,
                verified=check.verified,
            )
            try:
                item = self._anchor(
                    der, f"{label}{entry}", entry, item_provenance, vouched=check.verified
                )
            except ParseError as exc:
                item = ImportedItem(entry, "certificate", "refused", exc.reason)
            result.items.append(item)
            if self.progress is not None and (index % 32 == 31 or index + 1 == total):
                self.progress(label, index + 1, total)

    def _crl(
        self, data: bytes, source: str, entry: str, result: FileImport, provenance: Provenance
    ) -> None:
        crl = parse_crl(data, file=source)
        try:
            stored, new = self.store.add_crl(crl, provenance=_dated(provenance, self.at))
        except RefusedError as exc:
            result.items.append(
                ImportedItem(entry, "crl", "refused", str(exc), None, crl.issuer_text)
            )
            result.verified = False if result.kind == "crl" else result.verified
            return
        if result.kind == "crl":
            result.verified = True
        status = crl.status_at(self.at)
        note = None
        if status.value != "current":
            when = crl.next_update if status.value == "expired" else crl.this_update
            note = f"CRL {status.value.replace('_', ' ')} ({when.isoformat() if when else '?'})"
            result.notes.append(f"{source} {entry}: {note}")
        result.items.append(
            ImportedItem(
                entry, "crl", "added" if new else "present", note, stored.id, crl.issuer_text
            )
        )

    def _ldif(self, handle: Any, result: FileImport) -> None:
        source = result.path
        objects: list[LdifObject] = []
        for item in read_ldif(handle, file=source, max_size=MAX_LDIF_SIZE):
            if isinstance(item, LdifProblem):
                result.items.append(ImportedItem(item.where, "record", "refused", item.reason))
            else:
                objects.append(item)
        # master lists first (they bring CSCAs), then certificates, then CRLs
        rank = {"master_list": 0, "certificate": 1, "crl": 2, "deviation_list": 3}
        objects.sort(key=lambda o: rank[o.kind])
        total = len(objects)
        for done, obj in enumerate(objects, 1):
            provenance = Provenance(file=source, entry=obj.dn)
            try:
                self._ldif_object(obj, source, result, provenance)
            except (ParseError, EpassError) as exc:
                result.items.append(ImportedItem(obj.where, obj.kind, "refused", _reason(exc)))
            if self.progress is not None:
                self.progress(source, done, total)

    def _ldif_object(
        self, obj: LdifObject, source: str, result: FileImport, provenance: Provenance
    ) -> None:
        where = f"{source} {obj.where}"
        if obj.kind == "master_list":
            master_list = parse_master_list(obj.value, file=where)
            check = verify_master_list(master_list, self.store, at=self.at)
            if not check.verified and not self.allow_unverified:
                result.items.append(
                    ImportedItem(
                        obj.where,
                        "master_list",
                        "refused",
                        f"the master list does not verify: {check.reason}",
                    )
                )
                return
            sub = FileImport(where)
            entry_provenance = Provenance(file=source, entry=obj.where)
            self._master_list_contents(master_list, check, sub, entry_provenance)
            note = None if check.verified else "UNVERIFIED master list imported on request"
            result.items.append(
                ImportedItem(
                    obj.where,
                    "master_list",
                    "added",
                    note
                    or f"{sub.added} added, {sub.present} present, "
                    f"{sub.refused_items} refused; signer {check.signer}",
                )
            )
            result.items.extend(
                ImportedItem(f"{obj.where} {i.entry}", i.kind, i.status, i.reason, i.id, i.subject)
                for i in sub.items
            )
        elif obj.kind == "certificate":
            if self.store.contains(obj.value):
                result.items.append(ImportedItem(obj.where, "ds", "present"))
                return
            try:
                stored, new = self.store.add_document_signer(
                    obj.value, source=where, provenance=_dated(provenance, self.at)
                )
            except RefusedError:
                raise RefusedError(
                    "a CA certificate in an LDIF file (which nobody signed) is not trusted: "
                    "import CSCAs from a master list or a file you trust"
                ) from None
            result.items.append(
                ImportedItem(obj.where, "ds", "added" if new else "present", None, stored.id)
            )
        elif obj.kind == "crl":
            self._crl(obj.value, where, obj.where, result, provenance)
        else:
            result.items.append(
                ImportedItem(obj.where, obj.kind, "refused", "deviation lists are not imported")
            )


def _subject_text(subject: bytes) -> str | None:
    """A DER Name as reports show it, or ``None`` if it cannot be read."""
    try:
        return format_name(asn1_x509.Name.load(subject))
    except BUILTIN_PARSE_ERRORS:
        return None


def _signs(facts: CertificateFacts) -> bool:
    """Whether a non-CA certificate may sign documents (keyUsage absent or digitalSignature)."""
    return facts.key_usage is None or "digital_signature" in facts.key_usage


def _dated(provenance: Provenance, at: datetime) -> Provenance:
    if provenance.imported_at is not None:
        return provenance
    return Provenance(
        file=provenance.file,
        entry=provenance.entry,
        master_list=provenance.master_list,
        master_list_signer=provenance.master_list_signer,
        verified=provenance.verified,
        imported_at=at,
        note=provenance.note,
    )


def _is_crl(der: bytes) -> bool:
    try:
        parse_crl(der, file="")
    except ParseError:
        return False
    return True


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ParseError):
        where = exc.file or ""
        return f"{where}: {exc.reason}" if where and where not in exc.reason else exc.reason
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def _walk(folder: Path) -> Iterator[Path]:
    seen = 0
    for root, dirs, files in os.walk(folder):
        seen += len(dirs) + len(files)
        if seen > MAX_FOLDER_ENTRIES:
            raise ParseError(f"more than {MAX_FOLDER_ENTRIES} entries", file=str(folder))
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(SUFFIXES):
                yield Path(root, name)
