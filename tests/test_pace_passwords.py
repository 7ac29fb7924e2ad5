"""PACE passwords from untrusted text: ASCII digits and MRZ characters only (9303-11 §4.4.1).

K = SHA-1(MRZ information) or the CAN's ASCII bytes. ``str.isdigit`` and
``str.isupper`` accept digits and letters of other scripts (``"١٢٣٤٥٦"``,
``"²"``, ``"É"``), which then failed as a bare UnicodeEncodeError when the key
was derived; they are refused up front as a LocalProtocolError.
"""

from __future__ import annotations

import pytest

from epass.access.keys import CanKey, MrzKey
from epass.access.pace import Password, PasswordReference
from epass.errors import LocalProtocolError

MRZ = "L898902C<369080619406236"  # 9303-11 Appendix D.2


@pytest.mark.parametrize("can", ["١٢٣٤٥٦", "²²²", "12a", "", "12345678901", "12 34", "１２３"])
def test_a_can_that_is_not_ascii_digits_is_refused(can: str) -> None:
    with pytest.raises(LocalProtocolError, match="1 to 10 digits"):
        CanKey(can)
    with pytest.raises(LocalProtocolError):
        Password.can(can)


@pytest.mark.parametrize(
    "mrz", ["É" + MRZ[1:], "L898902C<3690806194062٣6", "l898902c<369080619406236"]
)
def test_mrz_information_outside_a_z_0_9_filler_is_refused(mrz: str) -> None:
    with pytest.raises(LocalProtocolError):
        MrzKey(mrz)
    with pytest.raises(LocalProtocolError):
        Password.mrz(mrz)


def test_valid_passwords_still_work() -> None:
    assert Password.can("123456").key == b"123456"
    assert Password.can("0").reference is PasswordReference.CAN
    # App. G: K = SHA-1("T22000129364081251010318") = 7E2D2A41 C74EA0B3 8CD36F86 3939BFA8 E9032AAD
    assert Password.mrz("T22000129364081251010318").key.hex().upper() == (
        "7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"
    )
