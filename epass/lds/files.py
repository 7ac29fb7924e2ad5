"""The one table of LDS elementary files: name, FID, SFI, tag and data group number.

Source: ICAO Doc 9303-10 §4.6.1 (LDS1 EFs in the eMRTD application) and
§3.11/§3.12 (EF.CardAccess, EF.CardSecurity, EF.ATR/INFO, EF.DIR in the master
file). Everything else (names in reports, file names in dumps, which tag a
file must start with, which SFI to read it by) is looked up here.
"""

from __future__ import annotations

from enum import Enum

from epass.errors import ParseError

__all__ = [
    "DG_NAMES",
    "EAC_PROTECTED",
    "EMRTD_AID",
    "MANDATORY_DATA_GROUPS",
    "LdsFile",
    "canonical_name",
    "expect_tag",
    "lds_order",
]

#: The eMRTD application identifier (ICAO Doc 9303-10 §4.3: RID A000000247, PIX 1001).
EMRTD_AID = bytes.fromhex("A0000002471001")


class LdsFile(Enum):
    """An elementary file; the enum value is its report name.

    :ivar label: the name used in reports and dumps (``"EF.COM"``, ``"DG2"``).
    :ivar fid: the 2-byte file identifier (EF.SOD in the applet and
        EF.CardSecurity in the master file share ``011D``).
    :ivar tag: the tag the file's content starts with (``None`` for files in
        the master file, which are not one TLV object).
    :ivar sfi: the short file identifier.
    :ivar number: the data group number, 0 for files that are not data groups.
    :ivar in_applet: whether the file lives in the eMRTD application (as
        opposed to the master file).
    """

    label: str
    fid: int
    tag: int | None
    sfi: int
    number: int
    in_applet: bool

    def __new__(
        cls, fid: int, label: str, tag: int | None, sfi: int, number: int, in_applet: bool
    ) -> LdsFile:
        obj = object.__new__(cls)
        obj._value_ = label
        obj.label = label
        obj.fid = fid
        obj.tag = tag
        obj.sfi = sfi
        obj.number = number
        obj.in_applet = in_applet
        return obj

    # Master file (ICAO Doc 9303-10 §3.11, §3.12; ISO/IEC 7816-4 §8.2.1.1)
    EF_ATR_INFO = (0x2F01, "EF.ATR/INFO", None, 0x01, 0, False)
    EF_DIR = (0x2F00, "EF.DIR", None, 0x1E, 0, False)
    EF_CARD_ACCESS = (0x011C, "EF.CardAccess", None, 0x1C, 0, False)
    EF_CARD_SECURITY = (0x011D, "EF.CardSecurity", None, 0x1D, 0, False)
    # eMRTD application (ICAO Doc 9303-10 §4.6.1, Table 36)
    EF_COM = (0x011E, "EF.COM", 0x60, 0x1E, 0, True)
    EF_SOD = (0x011D, "EF.SOD", 0x77, 0x1D, 0, True)
    DG1 = (0x0101, "DG1", 0x61, 0x01, 1, True)
    DG2 = (0x0102, "DG2", 0x75, 0x02, 2, True)
    DG3 = (0x0103, "DG3", 0x63, 0x03, 3, True)
    DG4 = (0x0104, "DG4", 0x76, 0x04, 4, True)
    DG5 = (0x0105, "DG5", 0x65, 0x05, 5, True)
    DG6 = (0x0106, "DG6", 0x66, 0x06, 6, True)
    DG7 = (0x0107, "DG7", 0x67, 0x07, 7, True)
    DG8 = (0x0108, "DG8", 0x68, 0x08, 8, True)
    DG9 = (0x0109, "DG9", 0x69, 0x09, 9, True)
    DG10 = (0x010A, "DG10", 0x6A, 0x0A, 10, True)
    DG11 = (0x010B, "DG11", 0x6B, 0x0B, 11, True)
    DG12 = (0x010C, "DG12", 0x6C, 0x0C, 12, True)
    DG13 = (0x010D, "DG13", 0x6D, 0x0D, 13, True)
    DG14 = (0x010E, "DG14", 0x6E, 0x0E, 14, True)
    DG15 = (0x010F, "DG15", 0x6F, 0x0F, 15, True)
    DG16 = (0x0110, "DG16", 0x70, 0x10, 16, True)

    @property
    def is_data_group(self) -> bool:
        return self.number > 0

    @classmethod
    def data_group(cls, number: int) -> LdsFile:
        """The data group with this number (1 to 16).

        :raises ValueError: for any other number.
        """
        for f in cls:
            if f.number == number:
                return f
        raise ValueError(f"no data group {number}")

    @classmethod
    def by_tag(cls, tag: int) -> LdsFile | None:
        """The applet file whose content starts with *tag* (as listed in EF.COM), or ``None``."""
        return _BY_TAG.get(tag)

    @classmethod
    def by_name(cls, name: str) -> LdsFile:
        """Look up a file by any accepted name (see :func:`canonical_name`).

        :raises ValueError: if the name is not an LDS file name.
        """
        return _BY_LABEL[canonical_name(name)]

    @property
    def max_size(self) -> int:
        """The most bytes a plausible file of this kind holds, checked before parsing.

        Generous upper bounds from the content 9303-10 §4.6-§4.7 allows (a TD1
        DG1 is 95 bytes; a DG2 face is typically 15-30 KB), so that junk is
        refused before any parser sees it.
        """
        return _MAX_SIZE[self]

    def __str__(self) -> str:
        return self.label


_KIB = 1024
_MAX_SIZE: dict[LdsFile, int] = {
    LdsFile.EF_ATR_INFO: 256,
    LdsFile.EF_DIR: 1 * _KIB,
    LdsFile.EF_CARD_ACCESS: 8 * _KIB,
    LdsFile.EF_CARD_SECURITY: 64 * _KIB,
    LdsFile.EF_COM: 1 * _KIB,
    LdsFile.EF_SOD: 64 * _KIB,
    LdsFile.DG1: 128,
    LdsFile.DG2: 1024 * _KIB,
    LdsFile.DG3: 1024 * _KIB,
    LdsFile.DG4: 1024 * _KIB,
    LdsFile.DG5: 256 * _KIB,
    LdsFile.DG6: 256 * _KIB,
    LdsFile.DG7: 256 * _KIB,
    LdsFile.DG8: 64 * _KIB,
    LdsFile.DG9: 64 * _KIB,
    LdsFile.DG10: 64 * _KIB,
    LdsFile.DG11: 256 * _KIB,  # may hold a proof-of-citizenship image ('5F16')
    LdsFile.DG12: 512 * _KIB,  # may hold front and rear images ('5F1D', '5F1E')
    LdsFile.DG13: 64 * _KIB,
    LdsFile.DG14: 16 * _KIB,
    LdsFile.DG15: 4 * _KIB,
    LdsFile.DG16: 16 * _KIB,
}

#: Data groups that need Extended Access Control (9303-11 §7.1.2; BSI TR-03110-1).
EAC_PROTECTED: frozenset[LdsFile] = frozenset({LdsFile.DG3, LdsFile.DG4})
#: Data groups every eMRTD carries (9303-10 §4.7: DG1 the MRZ, DG2 the face).
MANDATORY_DATA_GROUPS: tuple[LdsFile, ...] = (LdsFile.DG1, LdsFile.DG2)

_BY_TAG: dict[int, LdsFile] = {f.tag: f for f in LdsFile if f.tag is not None}
_BY_LABEL: dict[str, LdsFile] = {f.label: f for f in LdsFile}

#: "DG1" .. "DG16" in order.
DG_NAMES: tuple[str, ...] = tuple(f"DG{n}" for n in range(1, 17))


def canonical_name(name: str) -> str:
    """Normalise a file name to the label used in reports.

    Accepts ``"DG1"``, ``"dg1"``, ``"DG01"``, ``"EF.DG1"``, ``"EF_DG1"``,
    ``"EF.SOD"``, ``"EF_SOD"``, ``"SOD"``, ``"COM"``, ``"Datagroup1"`` and the
    FID in hex (``"0101"``, ``"ef0101"``, ``"011D"`` = EF.SOD, ``"011E"`` =
    EF.COM), with or without a ``.bin``/``.der``/``.dat`` extension.

    :raises ValueError: if *name* names no LDS file.
    """
    raw = name
    base = name.strip()
    for ext in (".bin", ".der", ".BIN", ".DER", ".dat"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    key = base.upper().replace("_", ".").replace("-", ".")
    if key.startswith("EF."):
        key = key[3:]
    elif key.startswith("EF") and len(key) == 6:  # JMRTD-style "ef0101"
        key = key[2:]
    for prefix in ("DATAGROUP", "DG"):
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            n = int(key[len(prefix) :])
            if 1 <= n <= 16:
                return f"DG{n}"
            raise ValueError(f"no data group {n}: {raw!r}")
    aliases = {
        "COM": "EF.COM",
        "SOD": "EF.SOD",
        "CARDACCESS": "EF.CardAccess",
        "CARDSECURITY": "EF.CardSecurity",
        "ATR/INFO": "EF.ATR/INFO",
        "ATR.INFO": "EF.ATR/INFO",
        "ATRINFO": "EF.ATR/INFO",
        "DIR": "EF.DIR",
        "011E": "EF.COM",
        "011D": "EF.SOD",
        "011C": "EF.CardAccess",
    }
    if key in aliases:
        return aliases[key]
    if len(key) == 4 and key.startswith("01"):
        try:
            fid = int(key, 16)
        except ValueError:
            pass
        else:
            if 0x0101 <= fid <= 0x0110:
                return f"DG{fid - 0x0100}"
    raise ValueError(f"not an LDS file name: {raw!r}")


def expect_tag(data: bytes, file: LdsFile) -> None:
    """Check that *data* starts with the tag *file* must start with.

    :raises ParseError: if it does not.
    """
    if file.tag is None or not data:
        if not data:
            raise ParseError("empty file", file=file.label, offset=0)
        return
    tag_len = 2 if file.tag > 0xFF else 1
    if int.from_bytes(data[:tag_len], "big") != file.tag:
        raise ParseError(
            f"expected tag {file.tag:02X}, found {data[:tag_len].hex().upper()}",
            file=file.label,
            offset=0,
        )


def lds_order(file: LdsFile) -> tuple[int, int]:
    """Sort key of LDS order: master-file EFs, EF.COM, EF.SOD, then DG1..DG16."""
    if file.is_data_group:
        return (2, file.number)
    return (0 if not file.in_applet else 1, _POSITION[file])


_POSITION: dict[LdsFile, int] = {f: i for i, f in enumerate(LdsFile)}
