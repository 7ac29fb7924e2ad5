"""Kiosk soak: thousands of kiosk cycles over the virtual slot, memory traced.

    PYTHONPATH=. python tools/kiosk_soak.py [--cycles 2000] [--warmup 100] [--no-trace]

Every fifth document is removed mid-read (an ``error`` event), the others are read
and verified (a ``verdict`` event). Prints the cycles, events, seconds per cycle and
the traced Python memory (tracemalloc) after the warm-up and at the end. With
``--no-trace`` it prints the process's peak RSS instead (tracing costs ~5x time).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.virtual.builder import specimen
from drivers.virtual.slot import Presentation, VirtualSlot
from epass.cli.kiosk import Kiosk


class CountingSink:
    """Counts events by kind; keeps nothing."""

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}

    def write(self, text: str) -> int:
        kind = json.loads(text)["event"]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return len(text)


def soak(cycles: int, warmup: int, trace: bool) -> dict[str, object]:
    document = specimen()
    line2 = document.mrz.split()[1]

    def script() -> Iterator[Presentation]:
        for i in range(cycles):
            yield Presentation(document.chip(), remove_after=9 if i % 5 == 4 else None)

    sink = CountingSink()
    slot = VirtualSlot(script(), sleep=lambda s: None)
    kiosk = Kiosk(slot, (line2 for _ in range(cycles)), sink, trust_store=document.trust_store())
    samples: dict[str, int] = {}
    serve = kiosk._serve

    def measured(key: object) -> None:
        serve(key)  # type: ignore[arg-type]
        if kiosk.cycle in (warmup, cycles):
            gc.collect()
            if trace:
                samples[f"traced_at_{kiosk.cycle}"] = tracemalloc.get_traced_memory()[0]

    kiosk._serve = measured  # type: ignore[method-assign]
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    kiosk.run()
    seconds = time.perf_counter() - start
    if trace:
        tracemalloc.stop()
    result: dict[str, object] = {
        "cycles": kiosk.cycle,
        "events": sink.kinds,
        "ms_per_cycle": round(seconds / max(kiosk.cycle, 1) * 1000, 2),
        **samples,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if trace:
        result["growth_bytes"] = samples[f"traced_at_{cycles}"] - samples[f"traced_at_{warmup}"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--no-trace", action="store_true")
    args = parser.parse_args()
    logging.getLogger("epass.kiosk").setLevel(logging.ERROR)  # one warning per removal otherwise
    print(json.dumps(soak(args.cycles, args.warmup, not args.no_trace), indent=2))


if __name__ == "__main__":
    main()
