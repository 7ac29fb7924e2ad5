"""The standardized DH groups of PACE (RFC 5114 §2.1-2.3, ids 0-2 of 9303-11 §9.5.1), checked."""

from __future__ import annotations

import random

import pytest

from epass._crypto.dh import RFC5114_GROUPS, DhGroup
from epass.errors import InvalidPointError, UnsupportedAlgorithmError


def _probably_prime(n: int, rounds: int = 24) -> bool:
    """Miller-Rabin with seeded random bases (a test helper: the constants are fixed)."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    rnd = random.Random(n)
    for _ in range(rounds):
        x = pow(rnd.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize(
    ("group_id", "p_bits", "q_bits"), [(0, 1024, 160), (1, 2048, 224), (2, 2048, 256)]
)
def test_rfc5114_groups(group_id: int, p_bits: int, q_bits: int) -> None:
    group = RFC5114_GROUPS[group_id]
    assert (group.p.bit_length(), group.q.bit_length()) == (p_bits, q_bits)
    assert group.problem() is None  # q | p-1 and g^q = 1
    assert _probably_prime(group.p) and _probably_prime(group.q)


def test_public_value_validation() -> None:
    group = RFC5114_GROUPS[0]
    assert group.decode(group.encode(group.power(12345))) == group.power(12345)
    for bad in (
        b"",
        bytes(129),
        (1).to_bytes(128, "big"),
        (group.p - 1).to_bytes(128, "big"),
        b"\x02",
    ):
        with pytest.raises(InvalidPointError):
            group.decode(bad)
    with pytest.raises(InvalidPointError):
        group.power(group.q)  # g^q = 1


def test_unusable_parameters() -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        DhGroup(p=23, g=2, q=5).check()  # 5 does not divide 22


def test_p521_keys_follow_the_rng_rule_with_a_fair_rng():
    """P-521: 66-byte draws against a 521-bit order succeed about 1 time in 128 (9303-11 §4.4)."""
    import os

    from epass.access.pace_groups import standardized_group

    group = standardized_group(18)
    for _ in range(20):
        key = group.generate_private_key(os.urandom)
        assert 1 <= key < group.order
