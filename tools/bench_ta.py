#!/usr/bin/env python3
"""Benchmark Terminal Authentication v1 (BSI TR-03110 v1.11): APDUs and host CPU.

A section for tools/bench.py (``time_ta`` returns rows in its format), kept in
its own file until the lead wires it in. Measured:

* ``perform_ta`` reader side (terminal): chain DV + IS, MSE:Set DST, PSO:Verify
  Certificate ×2, MSE:Set AT, GET CHALLENGE, EXTERNAL AUTHENTICATE, against a
  ScriptedTransport that answers 9000 and a fixed challenge (the signature is
  made, not checked: the terminal's CPU is parsing the chain and signing);
* the chip side (:class:`drivers.virtual.ta.TaChip`) of the same run: two
  certificate verifications and one signature verification;
* CV certificate parsing, and a chain verification (``epass.cvc.verify_chain``)
  of the BSI worked example's ECDSA brainpoolP512r1 chain when the samples are
  present.

For ECDSA brainpoolP256r1 / SHA-256 and RSA-2048 (PKCS#1 v1.5 and PSS, SHA-256).
Run: ``.venv/bin/python tools/bench_ta.py [--repeat N] [--json]``.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.replay import ScriptedTransport
from drivers.virtual import cvc_builder as cb
from drivers.virtual.ta import TaChip
from epass import cvc, tlv
from epass._crypto.ec import NAMED_CURVES
from epass.access import ta
from epass.apdu import CommandApdu
from epass.channel import Channel

DAY = datetime.date(2025, 3, 1)
SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
CHALLENGE = bytes(range(1, 9))
ID_PICC = b"L898902C36"
PK_PCD = NAMED_CURVES["brainpoolP256r1"].curve.multiply(12345).encode()


def _stats(timings: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(1000 * statistics.median(timings), 3),
        "min_ms": round(1000 * min(timings), 3),
    }


def _timed(repeat: int, fn: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _chip_run(chip: TaChip, dv: cb.Credential, terminal: cb.Credential, signature: bytes) -> None:
    chip.start(id_picc=ID_PICC, terminal_ephemeral_public_key=PK_PCD)
    for cert in (dv.certificate, terminal.certificate):
        chip.handle(CommandApdu(0, 0x22, 0x81, 0xB6, ta.mse_set_dst_data(cert.car)))
        data = cert.body + tlv.encode(0x5F37, cert.signature)
        chip.handle(CommandApdu(0, 0x2A, 0x00, 0xBE, data))
    chip.handle(CommandApdu(0, 0x22, 0x81, 0xA4, ta.mse_set_at_data(terminal.chr)))
    chip.rng = lambda n: CHALLENGE
    chip.handle(CommandApdu(0, 0x84, 0, 0, le=8))
    if chip.handle(CommandApdu(0, 0x82, 0, 0, signature)).sw != 0x9000:
        raise AssertionError("the chip refused the benchmark's signature")


def time_ta(repeat: int) -> dict[str, dict[str, float | int]]:
    """Rows per algorithm: APDUs, terminal CPU, chip CPU, certificate parse time."""
    out: dict[str, dict[str, float | int]] = {}
    for label, algorithm in (
        ("TA ECDSA brainpoolP256r1 SHA-256", cb.ECDSA_SHA_256),
        ("TA RSA-2048 v1.5 SHA-256", cb.RSA_V1_5_SHA_256),
        ("TA RSA-2048 PSS SHA-256", cb.RSA_PSS_SHA_256),
    ):
        cvca, dv, terminal = cb.make_test_chain(algorithm=algorithm, today=DAY)
        chain = [dv.encoded, terminal.encoded]
        ok: tuple[str | None, str] = (None, "9000")
        script: list[tuple[str | None, str]] = [ok] * 5 + [
            (None, CHALLENGE.hex() + "9000"),
            (None, "9000"),
        ]
        transports: list[ScriptedTransport] = []

        def terminal_run(
            chain: list[bytes] = chain,
            terminal: cb.Credential = terminal,
            script: list[tuple[str | None, str]] = script,
            transports: list[ScriptedTransport] = transports,
        ) -> None:
            transport = ScriptedTransport(script)
            ta.perform_ta(
                Channel(transport),
                chain,
                terminal.private_key,
                id_picc=ID_PICC,
                ephemeral_ca_public_key=PK_PCD,
            )
            transports.append(transport)

        reader = _timed(repeat, terminal_run)
        signature = CommandApdu.from_bytes(transports[-1].sent[-1]).data
        chip = TaChip([cvca.certificate])
        chip_timings = _timed(repeat, functools.partial(_chip_run, chip, dv, terminal, signature))
        parse = _timed(repeat * 10, functools.partial(cvc.parse_certificate, terminal.encoded))
        out[label] = {
            "apdus": len(transports[-1].sent),
            "reader_median_ms": _stats(reader)["median_ms"],
            "reader_min_ms": _stats(reader)["min_ms"],
            "chip_median_ms": _stats(chip_timings)["median_ms"],
            "parse_certificate_median_ms": _stats(parse)["median_ms"],
        }
    example = SAMPLES / "bsi_eac_worked_example" / "ecdh"
    if example.is_dir():
        certs = [
            cvc.parse_certificate((example / f"{n}.cvcert").read_bytes())
            for n in ("cvca", "dvca", "at")
        ]
        timings = _timed(repeat, lambda: cvc.verify_chain(certs[1:], certs[0]))
        out["verify_chain BSI worked example (brainpoolP512r1, SHA-512)"] = _stats(timings)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="runs per measurement")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    rows = time_ta(args.repeat)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for label, row in rows.items():
            print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
