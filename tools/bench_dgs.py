#!/usr/bin/env python3
"""Benchmark the data-group parsers of issue 10 item 1 (DG3-DG16) and the WSQ decoder.

Each parser is timed on a typical input (the BSI reference DG3/DG4 from
../shared/samples when present, else encoder output; encoder output for the
others): best of ``--repeat`` runs of ``--number`` parses, in microseconds
per parse. WSQ decoding (optional ``wsq`` package) is timed on the sample's
first finger. Run: ``.venv/bin/python tools/bench_dgs.py [--json]``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from epass.lds import biometric, dg3, dg4, dg5, dg7, dg11, dg12, dg13, dg16, mrz

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"


def _jpeg(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 80, 60)).save(buf, "JPEG")
    return buf.getvalue()


def inputs() -> dict[str, tuple[Callable[[bytes], object], bytes]]:
    """Parser name -> (parse function, input)."""
    photo = _jpeg((240, 320))
    sample3 = SAMPLES / "bsi_refset_2008" / "DG3.bin"
    sample4 = SAMPLES / "bsi_refset_2008" / "DG4.bin"
    data3 = (
        sample3.read_bytes()
        if sample3.is_file()
        else dg3.encode([dg3.FingerImageSpec(photo, "JPEG", position=p) for p in (2, 7)])
    )
    data4 = (
        sample4.read_bytes()
        if sample4.is_file()
        else dg4.encode([dg4.IrisImageSpec(photo, "JPEG", eye=e) for e in ("right", "left")])
    )
    return {
        "DG3": (dg3.parse, data3),
        "DG4": (dg4.parse, data4),
        "DG5": (dg5.parse, dg5.encode([photo])),
        "DG7": (dg7.parse, dg7.encode([_jpeg((300, 80))])),
        "DG11": (
            dg11.parse,
            dg11.encode(
                full_name="ERIKSSON<<ANNA<MARIA",
                other_names=["ERIKSON<<ANNA"],
                full_date_of_birth="19740812",
                place_of_birth="ZENITH<UTOPIA",
                permanent_address="1 MAIN ST<ZENITH<UTOPIA",
                telephone="+99 123 456",
                profession="ENGINEER",
            ),
        ),
        "DG12": (
            dg12.parse,
            dg12.encode(
                issuing_authority="UTOPIA",
                date_of_issue="20240415",
                endorsements="NONE",
                personalization_time="20240410093005",
                personalization_device="M-4060",
            ),
        ),
        "DG13": (dg13.parse, dg13.encode(b"ISSUER NOTE " * 20)),
        "DG16": (dg16.parse, dg16.encode([dg16.PersonSpec(name="ERIKSSON<<NILS", telephone="1")])),
        "MRV-A": (
            lambda d: mrz.parse(d.decode("ascii")),
            b"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
            b"L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
        ),
    }


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best of *repeat* runs of *number* calls, microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows: dict[str, dict[str, float | int]] = {}
    for name, (fn, data) in inputs().items():
        rows[name] = {
            "bytes": len(data),
            "us_per_parse": round(best_us(lambda: fn(data), args.number, args.repeat), 1),  # noqa: B023
        }
    wsq: dict[str, object] = {"available": biometric.wsq_available()}
    sample = SAMPLES / "bsi_refset_2008" / "DG3.bin"
    if wsq["available"] and sample.is_file():
        image = dg3.parse(sample.read_bytes()).fingers[0].image
        wsq["ms_per_decode"] = round(
            best_us(lambda: biometric.decode_wsq(image), 3, args.repeat) / 1000, 2
        )
        wsq["pixels"] = "x".join(map(str, biometric.wsq_dimensions(image)))
    if args.json:
        print(json.dumps({"parsers": rows, "wsq": wsq}, indent=2))
        return 0
    for name, row in rows.items():
        print(f"{name:<6} {row['bytes']:>7} bytes  {row['us_per_parse']:>8.1f} us/parse")
    print("WSQ decode:", wsq)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
