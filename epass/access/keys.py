"""Access keys: what the holder gives to open the chip (ICAO Doc 9303-11 §4.3, §4.4).

:class:`MrzKey` holds the MRZ information (document number, date of birth,
date of expiry with their check digits) used by BAC and by PACE with the MRZ
password; :class:`CanKey` holds the card access number for PACE. Their
``repr`` never shows the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from epass.errors import LocalProtocolError

__all__ = ["AccessKey", "CanKey", "MrzKey"]

_DIGITS = frozenset("0123456789")
#: The characters of the MRZ information (9303-3 §4.3: A-Z, 0-9 and the filler '<'), ASCII only:
#: ``str.isdigit``/``isupper`` would let other scripts' digits and letters through.
_MRZ_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ<") | _DIGITS


@dataclass(frozen=True)
class MrzKey:
    """The MRZ information, e.g. ``"L898902C<369080619406236"`` (9303-11 Appendix D.2)."""

    mrz_information: str = field(repr=False)

    def __post_init__(self) -> None:
        text = self.mrz_information
        if len(text) < 24 or not all(c in _MRZ_CHARACTERS for c in text):
            raise LocalProtocolError(
                "MRZ information must be at least 24 characters of A-Z, 0-9 and '<'"
            )

    @classmethod
    def from_fields(cls, document_number: str, date_of_birth: str, date_of_expiry: str) -> MrzKey:
        """Build the key from the three printed fields (dates as YYMMDD).

        :raises LocalProtocolError: if a field is malformed.
        """
        from epass.errors import ParseError
        from epass.lds import mrz

        try:
            return cls(mrz.mrz_information(document_number, date_of_birth, date_of_expiry))
        except ParseError as exc:
            raise LocalProtocolError(f"bad MRZ key field: {exc}") from exc

    @classmethod
    def from_mrz(cls, text: str) -> MrzKey:
        """Build the key from the full machine readable zone (check digits are verified).

        :raises ParseError: if the MRZ does not parse.
        """
        from epass.lds import mrz

        return cls(mrz.parse(text).mrz_information)

    def __repr__(self) -> str:
        return "MrzKey(<hidden>)"


@dataclass(frozen=True)
class CanKey:
    """The card access number printed on the document (6 digits)."""

    can: str = field(repr=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.can) <= 10 or not all(c in _DIGITS for c in self.can):
            raise LocalProtocolError("CAN must be 1 to 10 digits 0-9")

    def __repr__(self) -> str:
        return "CanKey(<hidden>)"


AccessKey = MrzKey | CanKey
