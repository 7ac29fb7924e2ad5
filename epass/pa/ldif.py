"""ICAO PKD LDIF downloads (RFC 2849), read entry by entry with the ``ldif`` library.

The ICAO Public Key Directory publishes its content as LDIF files: one entry
per object, under ``o=ml`` (CSCA master lists, attribute
``pkdMasterListContent``), ``o=dsc`` (DS certificates, ``userCertificate;binary``),
``o=crl`` (CRLs, ``certificateRevocationList;binary``) and ``o=dl``
(deviation lists), each below ``c=<country>,dc=data,dc=download,dc=pkd,dc=icao,dc=int``.

:func:`read_ldif` parses a file with :class:`ldif.LDIFParser` one record at a
time, so a malformed record (a line without a colon, bad base64, a second
``dn:``) is reported as an :class:`LdifProblem` naming its record number, line
and DN, and the records after it are still read. It yields one
:class:`LdifObject` per PKD object found; entries without one (the folder
entries ``o=dsc,c=DE,...``) are skipped. The values are returned as received;
checking them (a certificate parses, a master list verifies, a CRL verifies
under its CSCA) is the importer's job (:mod:`epass.pa.importer`).

The file is read through a bounded reader: at most *max_size* bytes, and no
line longer than :data:`MAX_LINE` bytes, so a huge or line-less file cannot
take unbounded memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ldif import LDIFParser  # type: ignore[import-untyped]

from epass.errors import ParseError

__all__ = [
    "MAX_LINE",
    "LdifObject",
    "LdifProblem",
    "read_ldif",
]

#: Longest LDIF line (after unfolding continuation lines the parser joins them) read, in bytes.
MAX_LINE = 16 * 1024 * 1024

#: Attribute (lower case, options kept) -> kind of PKD object.
_ATTRIBUTES = {
    "pkdmasterlistcontent": "master_list",
    "pkdmasterlistcontent;binary": "master_list",
    "usercertificate;binary": "certificate",
    "usercertificate": "certificate",
    "cacertificate;binary": "certificate",
    "cacertificate": "certificate",
    "certificaterevocationlist;binary": "crl",
    "certificaterevocationlist": "crl",
    "pkddeviationlistcontent": "deviation_list",
    "pkddeviationlistcontent;binary": "deviation_list",
}

_COUNTRY = re.compile(r"(?:^|,)\s*c=([A-Za-z]{2,3})\s*(?:,|$)")


@dataclass(frozen=True)
class LdifObject:
    """One PKD object of an LDIF file.

    :ivar kind: ``"master_list"``, ``"certificate"``, ``"crl"`` or ``"deviation_list"``.
    :ivar dn: the entry's DN.
    :ivar value: the attribute value (DER bytes).
    :ivar record: the record number in the file (1-based).
    :ivar line: the line the record ends on.
    :ivar country: the ``c=`` of the DN, upper-case, or ``None``.
    """

    kind: str
    dn: str
    value: bytes = field(repr=False)
    record: int
    line: int
    country: str | None = None

    @property
    def where(self) -> str:
        """``"record 3 (line 40, dn ...)"``: how messages name the entry."""
        return f"record {self.record} (line {self.line}, {self.dn})"


@dataclass(frozen=True)
class LdifProblem:
    """A record that could not be read.

    :ivar record: the record number (1-based).
    :ivar line: the line the record ends on.
    :ivar dn: its DN, if that much was read.
    :ivar reason: what is wrong.
    """

    record: int
    line: int
    dn: str | None
    reason: str

    @property
    def where(self) -> str:
        dn = f", {self.dn}" if self.dn else ""
        return f"record {self.record} (line {self.line}{dn})"


class _BoundedReader(io.RawIOBase):
    """A binary stream that refuses to give more than *limit* bytes or a line over MAX_LINE."""

    def __init__(self, handle: BinaryIO, limit: int, file: str) -> None:
        super().__init__()
        self._handle = handle
        self._left = limit
        self._file = file

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> bytes:
        line = self._handle.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise ParseError(f"a line longer than {MAX_LINE} bytes", file=self._file)
        self._left -= len(line)
        if self._left < 0:
            raise ParseError("larger than an LDIF file may be", file=self._file)
        return line


class _PkdParser(LDIFParser):
    """``LDIFParser`` read record by record, so one bad record does not end the file."""

    def records(self) -> Iterator[tuple[int, int, str | None, dict[str, list[Any]] | str]]:
        """``(record, line, dn, entry)`` per record, or ``(record, line, dn, reason)``."""
        number = 0
        for block in self._iter_blocks():
            number += 1
            dn = _dn_of(block)
            try:
                dn, entry = self._parse_entry_record(block)
            except (ValueError, TypeError, UnicodeError) as exc:  # binascii.Error is a ValueError
                yield number, self.line_counter, dn, str(exc) or type(exc).__name__
                continue
            yield number, self.line_counter, dn, entry


def _dn_of(block: list[bytes]) -> str | None:
    """The DN of a raw record, for messages about a record that does not parse."""
    for line in block:
        if line[:3].lower() == b"dn:" and not line.startswith(b"dn::"):
            return line[3:].strip().decode("utf-8", "replace")[:300]
    return None


def read_ldif(handle: BinaryIO, *, file: str, max_size: int) -> Iterator[LdifObject | LdifProblem]:
    """The PKD objects (and the unreadable records) of an LDIF stream, in file order.

    :param handle: the file, opened for binary reading.
    :param file: its name, for errors.
    :param max_size: the most bytes read.
    :raises ParseError: naming *file* when a line or the whole file exceeds its bound.
    """
    parser = _PkdParser(_BoundedReader(handle, max_size, file), encoding=None, strict=True)
    for number, line, dn, entry in parser.records():
        if isinstance(entry, str):
            yield LdifProblem(number, line, dn, entry)
            continue
        if dn is None:
            yield LdifProblem(number, line, None, "record without a dn: line")
            continue
        match = _COUNTRY.search(dn)
        country = match.group(1).upper() if match else None
        found = False
        for attribute, values in entry.items():
            kind = _ATTRIBUTES.get(attribute.lower())
            if kind is None:
                continue
            for value in values:
                found = True
                if not isinstance(value, bytes):
                    yield LdifProblem(number, line, dn, f"{attribute} is not binary")
                    continue
                yield LdifObject(kind, dn, value, number, line, country)
        if not found and any(key.lower().startswith("pkd") for key in entry):
            yield LdifProblem(number, line, dn, "a PKD entry without content this reader knows")
