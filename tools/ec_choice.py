"""Measure the EC library behind ``epass._crypto.ec`` against the alternative the brief names.

Run: ``.venv/bin/python tools/ec_choice.py [--runs N]``

What is timed (median of N runs, one process, milliseconds), per curve:

* ``verify``   - ECDSA verification of one signature (passive authentication on a curve
                 ``cryptography`` lacks: brainpoolP224r1/320r1 in the field);
* ``k*P``      - multiplication of an arbitrary point (PACE: the mapped generator G' and the
                 chip's key are fresh each session, so no precomputed table helps);
* ``k*G``      - multiplication of the base point.

``epass`` rows go through :mod:`epass._crypto.ec` (fastecdsa underneath, including our
checks). ``python-ecdsa`` rows are shown only when ``ecdsa`` (and ideally ``gmpy2``) are
importable; they are not dependencies of epass (``pip install ecdsa gmpy2`` to compare).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable
from typing import Any

from epass._crypto.ec import NAMED_CURVES

CURVES = ("brainpoolP224r1", "brainpoolP256r1", "brainpoolP320r1", "brainpoolP512r1", "secp256r1")
_ECDSA_NAMES = {
    "brainpoolP224r1": "BRAINPOOLP224r1",
    "brainpoolP256r1": "BRAINPOOLP256r1",
    "brainpoolP320r1": "BRAINPOOLP320r1",
    "brainpoolP512r1": "BRAINPOOLP512r1",
    "secp256r1": "NIST256p",
}


def _median_ms(action: Callable[[], object], runs: int) -> float:
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _scalar(order: int, label: bytes = b"k") -> int:
    """A full-size scalar (as many bits as the order), fixed so runs compare."""
    return int.from_bytes(hashlib.shake_256(label).digest(80), "big") % order


def _python_ecdsa(name: str, runs: int) -> tuple[float, float, float] | None:
    try:
        import ecdsa  # type: ignore[import-untyped, unused-ignore]
        from ecdsa.ellipticcurve import PointJacobi  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    curve: Any = getattr(ecdsa.curves, _ECDSA_NAMES[name])
    key = ecdsa.SigningKey.generate(curve=curve, hashfunc=hashlib.sha256)
    verifying = key.get_verifying_key()
    message = b"LDSSecurityObject"
    signature = key.sign(message)
    k = _scalar(curve.order)
    point = PointJacobi.from_affine(verifying.pubkey.point)
    return (
        _median_ms(lambda: verifying.verify(signature, message), runs),
        _median_ms(lambda: (point * k).x(), runs),
        _median_ms(lambda: (curve.generator * k).x(), runs),
    )


def _epass(name: str, runs: int) -> tuple[float, float, float]:
    curve = NAMED_CURVES[name].curve
    n = curve.parameters.n
    d = _scalar(n, b"d")
    public = curve.multiply(d)
    digest = hashlib.sha256(b"LDSSecurityObject").digest()
    # A signature made with textbook ECDSA through the door's own operations (test use only).
    z = int.from_bytes(digest, "big") >> max(len(digest) * 8 - n.bit_length(), 0)
    k = _scalar(n)
    r = curve.multiply(k).x % n
    s = pow(k, -1, n) * (z + r * d) % n
    curve.verify_ecdsa(public, digest, r, s)
    other = curve.multiply(7)
    return (
        _median_ms(lambda: curve.verify_ecdsa(public, digest, r, s), runs),
        _median_ms(lambda: curve.multiply(k, other), runs),
        _median_ms(lambda: curve.multiply(k), runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"{'curve':17} {'library':13} {'verify':>8} {'k*P':>8} {'k*G':>8}  (ms, median)")
    for name in CURVES:
        rows: list[tuple[str, tuple[float, float, float] | None]] = [
            ("epass/fastecdsa", _epass(name, args.runs)),
            ("python-ecdsa", _python_ecdsa(name, args.runs)),
        ]
        for library, row in rows:
            if row is None:
                print(f"{name:17} {library:13} (not installed)")
                continue
            verify, multiply, base = row
            print(f"{name:17} {library:13} {verify:8.3f} {multiply:8.3f} {base:8.3f}")


if __name__ == "__main__":
    main()
