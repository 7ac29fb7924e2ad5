"""Status words (ISO/IEC 7816-4 §5.6, ICAO Doc 9303-11 §9.8.6): one enum, used in comparisons.

A leaf module: :mod:`epass.errors` and :mod:`epass.apdu` both import it, and it
imports nothing of epass.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["StatusWord"]


class StatusWord(IntEnum):
    """Status words an eMRTD reader meets (ISO/IEC 7816-4 §5.6, ICAO Doc 9303-11 §9.8.6).

    ``str()`` gives ``"0x6982 - SECURITY_STATUS_NOT_SATISFIED"``; values not
    listed here come back from :meth:`from_int` as a pseudo-member named
    ``UNKNOWN``.
    """

    SUCCESS = 0x9000
    END_OF_FILE = 0x6282
    SELECTED_FILE_INVALIDATED = 0x6283
    VERIFICATION_FAILED = 0x6300
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    COMMAND_INCOMPATIBLE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTHENTICATION_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_OF_USE_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    INCORRECT_P1P2 = 0x6A86
    LC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00

    @classmethod
    def from_int(cls, sw: int) -> StatusWord:
        """The member for *sw*, or an ``UNKNOWN`` pseudo-member carrying the value."""
        try:
            return cls(sw)
        except ValueError:
            return cls._unknown(sw)

    @classmethod
    def _unknown(cls, sw: int) -> StatusWord:
        obj = int.__new__(cls, sw)
        obj._name_ = _family_name(sw)
        obj._value_ = sw
        return obj

    def __str__(self) -> str:
        return f"0x{int(self):04X} - {self.name}"


def _family_name(sw: int) -> str:
    sw1 = sw >> 8
    if sw1 == 0x61:
        return "BYTES_REMAINING"
    if sw1 == 0x6C:
        return "WRONG_LE"
    if sw1 == 0x63 and sw & 0xF0 == 0xC0:
        return "COUNTER"
    return "UNKNOWN"
