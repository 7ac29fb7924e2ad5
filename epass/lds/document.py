"""A document: the files of one eMRTD, raw bytes keyed by :class:`LdsFile`, each parsed once.

ICAO Doc 9303-10 §4 (the LDS): the raw bytes are the source of truth (they are
what EF.SOD hashes); the parsed views are caches over them. Every file kind
has one row in :data:`PARSERS`, so a new data group is one module plus one row
here (DESIGN.md, style rule 9).

Before a file is parsed its size is checked against
:attr:`LdsFile.max_size`, so a junk file of megabytes is refused in
microseconds, not parsed.

Labels (``"DG1"``) and dump file names are used only at the edges:
:meth:`Document.from_labels` and :meth:`Document.labelled`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar

from epass.errors import ParseError
from epass.lds import com as _com
from epass.lds import dg1 as _dg1
from epass.lds import dg2 as _dg2
from epass.lds import dg3 as _dg3
from epass.lds import dg4 as _dg4
from epass.lds import dg5 as _dg5
from epass.lds import dg7 as _dg7
from epass.lds import dg11 as _dg11
from epass.lds import dg12 as _dg12
from epass.lds import dg13 as _dg13
from epass.lds import dg14 as _dg14
from epass.lds import dg15 as _dg15
from epass.lds import dg16 as _dg16
from epass.lds import sod as _sod
from epass.lds.files import LdsFile, lds_order
from epass.lds.security_infos import SecurityInfos, parse_security_infos

__all__ = ["PARSERS", "Document"]

_T = TypeVar("_T")

#: The one table from file kind to parser (bytes -> parsed view; raises ParseError).
PARSERS: Mapping[LdsFile, Callable[[bytes], object]] = MappingProxyType(
    {
        LdsFile.EF_CARD_ACCESS: partial(
            parse_security_infos, file=LdsFile.EF_CARD_ACCESS.label, allow_trailing=True
        ),
        LdsFile.EF_COM: _com.parse,
        LdsFile.EF_SOD: _sod.parse,
        LdsFile.DG1: _dg1.parse,
        LdsFile.DG2: _dg2.parse,
        LdsFile.DG3: _dg3.parse,
        LdsFile.DG4: _dg4.parse,
        LdsFile.DG5: _dg5.parse,
        LdsFile.DG7: _dg7.parse,
        LdsFile.DG11: _dg11.parse,
        LdsFile.DG12: _dg12.parse,
        LdsFile.DG13: _dg13.parse,
        LdsFile.DG14: _dg14.parse,
        LdsFile.DG15: _dg15.parse,
        LdsFile.DG16: _dg16.parse,
    }
)


class Document:
    """The files of one document as read, with cached parsed views.

    :param files: raw bytes by file; copied, never modified.
    :raises TypeError: if a key is not an :class:`LdsFile` or a value is not bytes.

    A view (:attr:`sod`, :attr:`dg1`, ...) is ``None`` when the file is absent
    and raises :class:`ParseError` (naming the file and offset) when it is
    malformed; either outcome is computed once and remembered.
    """

    __slots__ = ("_cache", "_raw")

    def __init__(self, files: Mapping[LdsFile, bytes]) -> None:
        raw: dict[LdsFile, bytes] = {}
        for file, data in files.items():
            if not isinstance(file, LdsFile):
                raise TypeError(f"Document keys are LdsFile members, not {type(file).__name__}")
            if not isinstance(data, bytes | bytearray | memoryview):
                raise TypeError(f"{file.label}: expected bytes, got {type(data).__name__}")
            raw[file] = bytes(data)
        self._raw: Mapping[LdsFile, bytes] = MappingProxyType(raw)
        self._cache: dict[LdsFile, object] = {}

    @classmethod
    def from_labels(cls, files: Mapping[str, bytes]) -> Document:
        """A document from names as dumps and callers spell them (``"DG1"``, ``"EF_SOD.bin"``).

        :raises ValueError: for a name that is not an LDS file, or two different
            contents under names of the same file.
        """
        out: dict[LdsFile, bytes] = {}
        for name, data in files.items():
            file = name if isinstance(name, LdsFile) else LdsFile.by_name(name)
            if file in out and out[file] != bytes(data):
                raise ValueError(f"two different files given for {file.label}")
            out[file] = bytes(data)
        return cls(out)

    def with_files(self, files: Mapping[LdsFile, bytes]) -> Document:
        """A new document with *files* added (or replaced); the rest keep their parsed views.

        A reader grows its document file by file (EF.CardAccess, then EF.COM
        and EF.SOD, then the data groups EF.SOD lists) and EF.SOD is parsed
        once across all of it.

        :raises TypeError: as the constructor.
        """
        merged = dict(self._raw)
        merged.update(files)
        grown = Document(merged)
        grown._cache.update({f: v for f, v in self._cache.items() if f not in files})
        return grown

    # -- raw bytes --------------------------------------------------------------------------

    @property
    def raw(self) -> Mapping[LdsFile, bytes]:
        """Every file's bytes, as read (read-only)."""
        return self._raw

    def __contains__(self, file: object) -> bool:
        return file in self._raw

    def __iter__(self) -> Iterator[LdsFile]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def get(self, file: LdsFile) -> bytes | None:
        """The bytes of *file*, or ``None`` if it was not read."""
        return self._raw.get(file)

    @property
    def data_groups(self) -> dict[int, bytes]:
        """The data groups present, by number (1..16), in number order."""
        return {f.number: self._raw[f] for f in sorted(self._raw, key=lds_order) if f.is_data_group}

    def labelled(self) -> dict[str, bytes]:
        """The files keyed by report label (``"EF.SOD"``, ``"DG1"``), in LDS order."""
        return {f.label: self._raw[f] for f in sorted(self._raw, key=lds_order)}

    # -- parsed views -----------------------------------------------------------------------

    def parsed(self, file: LdsFile) -> object | None:
        """The parsed view of *file* (the :data:`PARSERS` row), ``None`` if absent.

        :raises ParseError: if the file is larger than :attr:`LdsFile.max_size`
            or malformed (the same error each time it is asked for).
        :raises KeyError: if no parser is registered for *file*.
        """
        parser = PARSERS[file]
        data = self._raw.get(file)
        if data is None:
            return None
        cached = self._cache.get(file, _MISSING)
        if cached is _MISSING:
            cached = self._parse(file, data, parser)
            self._cache[file] = cached
        if isinstance(cached, ParseError):
            raise cached
        return cached

    @staticmethod
    def _parse(file: LdsFile, data: bytes, parser: Callable[[bytes], object]) -> object:
        if len(data) > file.max_size:
            return ParseError(
                f"{len(data):,} bytes, more than the {file.max_size:,} any plausible "
                f"{file.label} holds (not parsed)",
                file=file.label,
                offset=file.max_size,
            )
        try:
            return parser(data)
        except ParseError as exc:
            return exc

    def parse_error(self, file: LdsFile) -> ParseError | None:
        """The error parsing *file* raised, or ``None`` (absent, parsed, or no parser)."""
        if file not in PARSERS:
            return None
        try:
            self.parsed(file)
        except ParseError as exc:
            return exc
        return None

    def _view(self, file: LdsFile, kind: type[_T]) -> _T | None:
        value = self.parsed(file)
        if value is None or isinstance(value, kind):
            return value
        raise TypeError(f"{file.label} parser returned {type(value).__name__}, not {kind.__name__}")

    @property
    def com(self) -> _com.Com | None:
        """EF.COM (9303-10 §4.6.1)."""
        return self._view(LdsFile.EF_COM, _com.Com)

    @property
    def sod(self) -> _sod.Sod | None:
        """EF.SOD (9303-10 §4.6.2), parsed once for both the reader and the verifier."""
        return self._view(LdsFile.EF_SOD, _sod.Sod)

    @property
    def dg1(self) -> _dg1.Dg1 | None:
        """DG1, the MRZ (9303-10 §4.7.1)."""
        return self._view(LdsFile.DG1, _dg1.Dg1)

    @property
    def dg2(self) -> _dg2.Dg2 | None:
        """DG2, the encoded face (9303-10 §4.7.2)."""
        return self._view(LdsFile.DG2, _dg2.Dg2)

    @property
    def dg3(self) -> _dg3.Dg3 | None:
        """DG3, the encoded fingers (9303-10 §4.7.3)."""
        return self._view(LdsFile.DG3, _dg3.Dg3)

    @property
    def dg4(self) -> _dg4.Dg4 | None:
        """DG4, the encoded irises (9303-10 §4.7.4)."""
        return self._view(LdsFile.DG4, _dg4.Dg4)

    @property
    def dg5(self) -> _dg5.Dg5 | None:
        """DG5, the displayed portrait (9303-10 §4.7.5)."""
        return self._view(LdsFile.DG5, _dg5.Dg5)

    @property
    def dg7(self) -> _dg7.Dg7 | None:
        """DG7, the displayed signature or usual mark (9303-10 §4.7.7)."""
        return self._view(LdsFile.DG7, _dg7.Dg7)

    @property
    def dg11(self) -> _dg11.Dg11 | None:
        """DG11, additional personal details (9303-10 §4.7.11)."""
        return self._view(LdsFile.DG11, _dg11.Dg11)

    @property
    def dg12(self) -> _dg12.Dg12 | None:
        """DG12, additional document details (9303-10 §4.7.12)."""
        return self._view(LdsFile.DG12, _dg12.Dg12)

    @property
    def dg13(self) -> _dg13.Dg13 | None:
        """DG13, optional details (9303-10 §4.7.13), raw."""
        return self._view(LdsFile.DG13, _dg13.Dg13)

    @property
    def dg14(self) -> _dg14.Dg14 | None:
        """DG14, security options for secondary biometrics and chip authentication."""
        return self._view(LdsFile.DG14, _dg14.Dg14)

    @property
    def dg15(self) -> _dg15.Dg15 | None:
        """DG15, the Active Authentication public key (9303-10 §4.7.15)."""
        return self._view(LdsFile.DG15, _dg15.Dg15)

    @property
    def dg16(self) -> _dg16.Dg16 | None:
        """DG16, persons to notify (9303-10 §4.7.16)."""
        return self._view(LdsFile.DG16, _dg16.Dg16)

    @property
    def card_access(self) -> SecurityInfos | None:
        """EF.CardAccess, the PACE announcements (9303-11 §9.2.11), when read."""
        return self._view(LdsFile.EF_CARD_ACCESS, SecurityInfos)

    def __repr__(self) -> str:
        names = " ".join(f.label for f in sorted(self._raw, key=lds_order))
        return f"Document({names})"


_MISSING: Any = object()
