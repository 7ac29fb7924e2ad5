#!/usr/bin/env python3
"""Mutation fuzzer for every parser of untrusted bytes, and for the reader against a lying chip.

Contract checked: malformed input raises an :class:`epass.errors.EpassError`
(never IndexError, ValueError, RecursionError, MemoryError ...), and
:func:`epass.pa.verify` never raises at all on bad file content: it reports.
Each input must also finish quickly (the slowest is reported).

Seeds: the files of the built-in virtual passport, plus the public samples in
../shared/samples when present. Mutations: bit flips, random bytes, truncation,
insertion, long-form lengths claiming gigabytes, and deep nesting.

Run: ``.venv/bin/python tools/fuzz.py [--iterations N] [--seed S]``; the test
suite runs a short deterministic pass (tests/test_fuzz.py).

``--junk [MB]`` instead feeds every parser large junk files (zeros, ``FF``,
one short object repeated, a huge value inside the deepest container each
parser opens) and prints the time and the tracemalloc peak of each: a parser
must refuse them in well under a second with memory bounded by a small
multiple of the input, whatever their size (the parsers are linear; the size
bounds of :class:`epass.lds.document.Document` come on top).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.virtual.builder import specimen
from drivers.virtual.chip import ChipConfig, VirtualChip
from drivers.virtual.transport import VirtualTransport
from epass import capabilities, tlv
from epass.access.keys import MrzKey
from epass.apdu import CommandApdu
from epass.errors import EpassError
from epass.lds import (
    com,
    dg1,
    dg2,
    dg3,
    dg4,
    dg5,
    dg7,
    dg11,
    dg12,
    dg13,
    dg14,
    dg15,
    dg16,
    mrz,
    security_infos,
    sod,
)
from epass.lds.document import PARSERS, Document
from epass.lds.files import LdsFile
from epass.pa import TrustStore, verify
from epass.reader import ChipSession

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
    buf = bytearray(data)
    kind = rnd.randrange(8)
    pos = rnd.randrange(len(buf))
    if kind == 0:
        buf[pos] ^= 1 << rnd.randrange(8)
    elif kind == 1:
        for _ in range(rnd.randrange(1, 6)):
            buf[rnd.randrange(len(buf))] = rnd.randrange(256)
    elif kind == 2:
        del buf[pos:]
    elif kind == 3:
        buf[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 16)))
    elif kind == 4:  # a long-form length claiming up to 4 GB
        buf[pos : pos + 1] = bytes([0x84]) + rnd.randbytes(4)
    elif kind == 5:  # indefinite length
        buf[pos] = 0x80
    elif kind == 6:  # deep nesting
        inner = bytes(buf[pos:])
        for _ in range(rnd.randrange(20, 200)):
            inner = tlv.encode(0x30, inner) if len(inner) < 60000 else inner
        buf[pos:] = inner
    else:
        del buf[pos : pos + rnd.randrange(1, 32)]
    return bytes(buf)


@dataclass
class Outcome:
    runs: int = 0
    rejected: int = 0
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)


def _check(name: str, fn: Callable[[bytes], object], data: bytes, out: Outcome) -> None:
    out.runs += 1
    start = time.perf_counter()
    try:
        fn(data)
    except EpassError:
        out.rejected += 1
    except Exception as exc:  # the contract is broken: report it
        out.failures.append(f"{name}: {type(exc).__name__}: {exc} (input {data[:40].hex()}...)")
    out.slowest = max(out.slowest, time.perf_counter() - start)


def _mrz_bytes(data: bytes) -> object:
    return mrz.parse(data.decode("latin-1"))


def _every_view(data: bytes) -> object:
    """Parse *data* as every file kind through :class:`Document`; re-raise the last refusal."""
    refused: EpassError | None = None
    for file in PARSERS:
        try:
            Document({file: data}).parsed(file)
        except EpassError as exc:
            refused = exc
    if refused is not None:
        raise refused
    return None


_JPEG = bytes.fromhex("FFD8FFE000104A46494600010100000100010000FFD9")
_WSQ = bytes.fromhex("FFA0FFA8000568690AFFA2001100000200020000000000000000FFA1")


def extra_seeds() -> dict[str, list[bytes]]:
    """Encoder outputs for the data groups the specimen does not carry (DG3-DG16)."""
    return {
        "DG3": [
            dg3.encode_dg3(
                [
                    dg3.FingerImageSpec(_WSQ, "WSQ", position=2, width=2, height=2),
                    dg3.FingerImageSpec(_JPEG, "JPEG", position=7, width=1, height=1),
                ]
            )
        ],
        "DG4": [dg4.encode_dg4([dg4.IrisImageSpec(_JPEG, "JPEG", eye="left")])],
        "DG5": [dg5.encode_dg5([_JPEG])],
        "DG7": [dg7.encode_dg7([_JPEG, _JPEG])],
        "DG11": [
            dg11.encode_dg11(
                full_name="SMITH<<JOHN<J",
                other_names=["SMYTH<<JOHN"],
                full_date_of_birth="19711019",
                place_of_birth="ANYTOWN<MN",
                proof_of_citizenship=_JPEG,
                other_valid_td_numbers=["A1234567", "B7654321"],
            )
        ],
        "DG12": [
            dg12.encode_dg12(
                issuing_authority="UTOPIA",
                date_of_issue="20210915",
                other_persons=["SMITH<<BRENDA<P"],
                personalization_time="20210915120000",
                date_encoding="BCD",
            )
        ],
        "DG13": [dg13.encode_dg13(b"ISSUER DEFINED \x01")],
        "DG16": [
            dg16.encode_dg16(
                [dg16.PersonSpec(name="SMITH<<JANE", telephone="123", date_recorded="20200101")]
            )
        ],
        "MRV": [
            b"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
            b"L8988901C4XXX4009078F96121096ZE184226B<<<<<<"
        ],
    }


def targets() -> dict[str, tuple[Callable[[bytes], object], list[bytes]]]:
    """Parser name -> (function over bytes, seed inputs)."""
    doc = specimen()
    files = doc.files
    seeds: dict[str, list[bytes]] = {
        "EF.COM": [files[LdsFile.EF_COM]],
        "DG1": [files[LdsFile.DG1]],
        "DG2": [files[LdsFile.DG2]],
        "DG14": [files[LdsFile.DG14]],
        "DG15": [files[LdsFile.DG15]],
        "EF.SOD": [files[LdsFile.EF_SOD]],
        "EF.CardAccess": [],
        "MRZ": [doc.mrz.encode()],
        **extra_seeds(),
    }
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.rglob("*")):
            if not path.is_file() or path.stat().st_size > 200_000:
                continue
            name = path.name.upper()
            for label, key in (
                ("EF.COM", "EF_COM"),
                ("DG1", "DG1."),
                ("DG2", "DG2."),
                ("DG3", "DG3."),
                ("DG4", "DG4."),
                ("DG14", "DG14"),
                ("DG15", "DG15"),
                ("EF.SOD", "SOD"),
                ("EF.CardAccess", "CARDACCESS"),
            ):
                if key in name:
                    seeds[label].append(path.read_bytes())
    if not seeds["EF.CardAccess"]:
        seeds["EF.CardAccess"] = [
            security_infos.encode_security_infos(
                [security_infos.encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", parameter_id=13)]
            )
        ]
    return {
        "EF.COM": (com.parse, seeds["EF.COM"]),
        "DG1": (dg1.parse, seeds["DG1"]),
        "DG2": (dg2.parse, seeds["DG2"]),
        "DG14": (dg14.parse, seeds["DG14"]),
        "DG15": (dg15.parse, seeds["DG15"]),
        "EF.SOD": (sod.parse, seeds["EF.SOD"]),
        "EF.CardAccess": (
            lambda d: security_infos.parse_security_infos(d, file="EF.CardAccess"),
            seeds["EF.CardAccess"],
        ),
        "MRZ": (_mrz_bytes, seeds["MRZ"] + seeds["MRV"]),
        "DG3": (dg3.parse, seeds["DG3"]),
        "DG4": (dg4.parse, seeds["DG4"]),
        "DG5": (dg5.parse, seeds["DG5"]),
        "DG7": (dg7.parse, seeds["DG7"]),
        "DG11": (dg11.parse, seeds["DG11"]),
        "DG12": (dg12.parse, seeds["DG12"]),
        "DG13": (dg13.parse, seeds["DG13"]),
        "DG16": (dg16.parse, seeds["DG16"]),
        "Document": (_every_view, [data for data in files.values()]),
        "TLV": (tlv.decode_all, seeds["EF.COM"] + seeds["DG1"]),
        "C-APDU": (CommandApdu.from_bytes, [bytes.fromhex("00B0810000FFFF")]),
        "EF.ATR/INFO": (
            capabilities.parse_atr_info,
            [ChipConfig().atr_info()],
        ),
    }


def fuzz_parsers(iterations: int, seed: int) -> dict[str, Outcome]:
    rnd = random.Random(seed)
    results: dict[str, Outcome] = {}
    for name, (fn, seeds) in targets().items():
        out = results.setdefault(name, Outcome())
        for i in range(iterations):
            base = seeds[i % len(seeds)]
            data = base
            for _ in range(rnd.randrange(1, 4)):
                data = _mutate(data, rnd)
            _check(name, fn, data, out)
    return results


def _signed_parts(raw: bytes) -> tuple[bytes, bytes | None, bytes, tuple[bytes, ...]]:
    parsed = sod.parse(raw)
    certs = tuple(bytes(c.dump()) for c in parsed.certificates)
    return parsed.econtent, parsed.signer_info.signed_attrs, parsed.signature, certs


def _only_unsigned_changed(original: bytes, mutated: bytes) -> bool:
    """Whether a mutated EF.SOD still carries the same signed content, signature and DS.

    CMS framing outside the signature (the SignedData digestAlgorithms set, the
    parameters of the SignerInfo digestAlgorithm, ...) is not protected by the
    DS signature (RFC 5652 §5.4): changing it changes nothing that was proven.
    """
    try:
        return _signed_parts(original) == _signed_parts(mutated)
    except EpassError:
        return False


def fuzz_verify(iterations: int, seed: int) -> Outcome:
    """verify() must never raise on bad content, and never say VALID for altered signed data.

    EF.COM is not covered by EF.SOD (9303-10 §4.6.1), so its changes may stay VALID.
    """
    rnd = random.Random(seed)
    doc = specimen()
    trust = doc.trust_store()
    out = Outcome()
    labels = list(doc.dump())
    for _ in range(iterations):
        files = doc.dump()
        label = rnd.choice(labels)
        files[label] = _mutate(files[label], rnd)
        out.runs += 1
        start = time.perf_counter()
        try:
            report = verify(files, trust, at=AT)
            original = doc.dump()[label]
            if (
                report.verdict.value == "VALID"
                and files[label] != original
                and label != "EF.COM"
                and not (label == "EF.SOD" and _only_unsigned_changed(original, files[label]))
            ):
                out.failures.append(f"verify: VALID after mutating {label}")
        except Exception as exc:
            out.failures.append(f"verify({label}): {type(exc).__name__}: {exc}")
        out.slowest = max(out.slowest, time.perf_counter() - start)
    # and with no trust at all
    verify(doc.dump(), TrustStore(), at=AT)
    return out


class _LyingTransport(VirtualTransport):
    """Mutates the chip's answer to one chosen APDU."""

    def __init__(self, chip: VirtualChip, target: int, rnd: random.Random) -> None:
        super().__init__(chip)
        self.target = target
        self.rnd = rnd

    def transmit(self, apdu: bytes) -> bytes:
        response = super().transmit(apdu)
        if self.apdus == self.target:
            response = _mutate(response, self.rnd)
            if len(response) < 2:
                response += b"\x90\x00"[len(response) :]
        return response


def fuzz_reader(iterations: int, seed: int) -> Outcome:
    """A chip that lies once: the read either succeeds with the true bytes or raises EpassError."""
    rnd = random.Random(seed)
    doc = specimen()
    out = Outcome()
    for _ in range(iterations):
        extended = rnd.random() < 0.5
        chip = doc.chip(config=ChipConfig(extended_length=extended))
        transport = _LyingTransport(chip, rnd.randrange(1, 12 if extended else 90), rnd)
        out.runs += 1
        start = time.perf_counter()
        try:
            session = ChipSession(transport)
            session.open(MrzKey(doc.mrz_information))
            result = session.read_document()
            for label, data in result.files.items():
                if data != doc.dump()[label]:
                    out.failures.append(f"reader accepted altered {label}")
        except EpassError:
            out.rejected += 1
        except Exception as exc:
            out.failures.append(f"reader: {type(exc).__name__}: {exc}")
        out.slowest = max(out.slowest, time.perf_counter() - start)
    return out


def _document(label: str) -> Callable[[bytes], object]:
    """Parse *data* as file *label* through :class:`Document` (size bound first)."""

    def parse(data: bytes) -> object:
        return Document.from_labels({label: data}).parsed(LdsFile.by_name(label))

    return parse


def _tlv_tree(data: bytes) -> int:
    """Decode *data* as TLV objects and every constructed value in them."""
    return sum(tlv.check_tree(item, file="TLV") for item in tlv.iter_decode(data, file="TLV"))


def junk_cases(size: int) -> list[tuple[str, str, Callable[[bytes], object], bytes]]:
    """Large junk inputs: ``(parser, kind, function, data)``, each about *size* bytes.

    Each parser gets zeros, ``FF``, its own tag wrapped around zeros, ``FF`` or
    one short object repeated, and a huge value inside the deepest container it
    opens. Every one of them is malformed: a parser must raise ParseError.
    """
    enc = tlv.encode
    card_access = lambda d: security_infos.parse_security_infos(d, file="EF.CardAccess")  # noqa: E731

    def fill(n: int, unit: bytes) -> bytes:
        return unit * max(1, n // len(unit))

    body = size - 16
    oid = bytes.fromhex("060A04007F00070202040202")  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
    fac = b"FAC\x00010\x00" + (body).to_bytes(4, "big") + (2).to_bytes(2, "big")
    face = (body - 40).to_bytes(4, "big") + bytes(16)  # face 1 spans the record; 2 is cut
    deep: dict[str, list[tuple[str, bytes]]] = {
        "EF.COM": [("tag list", enc(0x60, enc(0x5C, fill(body, b"\x61"))))],
        "DG1": [("MRZ", enc(0x61, enc(0x5F1F, fill(body, b"A"))))],
        "DG2": [
            (
                "19794 record",
                enc(
                    0x75,
                    enc(
                        0x7F61,
                        enc(0x02, b"\x01")
                        + enc(0x7F60, enc(0x5F2E, fac + face + bytes(body - 60))),
                    ),
                ),
            ),
            ("templates", enc(0x75, enc(0x7F61, fill(body, enc(0x7F60, b""))))),
            (
                "39794 blocks",
                enc(
                    0x75,
                    enc(0x7F61, enc(0x7F60, enc(0x7F2E, enc(0xA1, fill(body, enc(0xA1, b"")))))),
                ),
            ),
        ],
        "DG14": [
            ("element", enc(0x6E, enc(0x31, enc(0x30, oid + enc(0x04, bytes(body)))))),
            ("elements", enc(0x6E, enc(0x31, fill(body, enc(0x30, oid + enc(0x02, b"\x02")))))),
            ("long tag", enc(0x6E, enc(0x31, enc(0x30, oid + b"\x1f" + fill(body, b"\xff"))))),
        ],
        "DG15": [
            (
                "key",
                enc(
                    0x6F,
                    enc(
                        0x30,
                        enc(0x30, bytes.fromhex("06092A864886F70D0101010500"))
                        + enc(0x03, bytes(body)),
                    ),
                ),
            ),
            ("long tag", enc(0x6F, enc(0x30, b"\x1f" + fill(body, b"\xff")))),
        ],
        "EF.CardAccess": [("elements", enc(0x31, fill(body, enc(0x30, b""))))],
        "DG3": [
            (
                "19794-4 record",
                enc(
                    0x63,
                    enc(
                        0x7F61,
                        enc(0x02, b"\x01")
                        + enc(
                            0x7F60,
                            enc(
                                0x5F2E,
                                b"FIR\x00010\x00"
                                + body.to_bytes(6, "big")
                                + bytes(4)
                                + b"\x01"  # one finger
                                + bytes(13)
                                + (1 << 30).to_bytes(4, "big")  # a 1 GB finger block
                                + bytes(body - 100),
                            ),
                        ),
                    ),
                ),
            ),
            ("templates", enc(0x63, enc(0x7F61, fill(body, enc(0x7F60, b""))))),
        ],
        "DG4": [
            (
                "19794-6 record",
                enc(
                    0x76,
                    enc(
                        0x7F61,
                        enc(
                            0x7F60,
                            enc(
                                0x5F2E,
                                b"IIR\x00010\x00"
                                + bytes(6)
                                + b"\x01"
                                + bytes(30)
                                + b"\x01\x00\x01"  # one eye, one image
                                + bytes(7)
                                + (1 << 30).to_bytes(4, "big")  # a 1 GB image
                                + bytes(body - 100),
                            ),
                        ),
                    ),
                ),
            ),
        ],
        "DG5": [("images", enc(0x65, enc(0x02, b"\x01") + fill(body, enc(0x5F40, b"\xff"))))],
        "DG11": [("names", enc(0x6B, enc(0xA0, fill(body, enc(0x5F0F, b"A")))))],
        "DG12": [("persons", enc(0x6C, enc(0xA0, fill(body, enc(0x5F1A, b"A")))))],
        "DG16": [("persons", enc(0x70, fill(body, enc(0xA1, b""))))],
    }
    parsers: dict[str, tuple[int, Callable[[bytes], object]]] = {
        "EF.COM": (0x60, com.parse),
        "DG1": (0x61, dg1.parse),
        "DG2": (0x75, dg2.parse),
        "DG14": (0x6E, dg14.parse),
        "DG15": (0x6F, dg15.parse),
        "EF.CardAccess": (0x31, card_access),
        "DG3": (0x63, dg3.parse),
        "DG4": (0x76, dg4.parse),
        "DG5": (0x65, dg5.parse),
        "DG7": (0x67, dg7.parse),
        "DG11": (0x6B, dg11.parse),
        "DG12": (0x6C, dg12.parse),
        "DG13": (0x6D, dg13.parse),
        "DG16": (0x70, dg16.parse),
        "TLV": (0x30, _tlv_tree),
        "EF.SOD": (0x77, sod.parse),
    }
    cases: list[tuple[str, str, Callable[[bytes], object], bytes]] = []
    for name, (tag, fn) in parsers.items():
        kinds = [
            ("zeros", bytes(size)),
            ("FF", b"\xff" * size),
            ("wrapped zeros", enc(tag, bytes(body))),
            ("wrapped FF", enc(tag, b"\xff" * body)),
            ("repeated 0200", enc(tag, fill(body, b"\x02\x00"))),
            ("nested 30", enc(tag, fill(body, b"\x30\x84") + bytes(4))),
            *deep.get(name, []),
        ]
        cases += [(name, kind, fn, data) for kind, data in kinds]
    for label in ("DG1", "DG2", "DG14"):
        cases.append((f"Document[{label}]", "zeros", _document(label), bytes(size)))
    cases.append(("MRZ", "letters", _mrz_bytes, fill(size, b"A")))
    cases.append(("MRZ", "spaces", _mrz_bytes, fill(size, b" ")))
    return cases


def measure_junk(size: int) -> list[tuple[str, str, float, int, str]]:
    """Run :func:`junk_cases`: ``(parser, kind, seconds, peak bytes, outcome)`` per case."""
    rows: list[tuple[str, str, float, int, str]] = []
    for name, kind, fn, data in junk_cases(size):
        tracemalloc.start()
        start = time.perf_counter()
        try:
            result = fn(data)
            outcome = f"returned {type(result).__name__}: {str(result)[:60]}"
        except EpassError as exc:
            outcome = f"{type(exc).__name__}: {str(exc)[:70]}"
        except Exception as exc:  # the contract is broken: report it
            outcome = f"CONTRACT BROKEN {type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((name, kind, elapsed, peak, outcome))
    return rows


def run(iterations: int, seed: int) -> dict[str, Outcome]:
    results = fuzz_parsers(iterations, seed)
    results["verify"] = fuzz_verify(max(1, iterations // 4), seed)
    results["reader"] = fuzz_reader(max(1, iterations // 4), seed)
    return results


def _iter_failures(results: dict[str, Outcome]) -> Iterator[str]:
    for out in results.values():
        yield from out.failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation fuzzer for epass parsers and reader")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--junk",
        type=int,
        nargs="?",
        const=16,
        metavar="MB",
        help="instead of fuzzing, time each parser on junk files of MB megabytes (16)",
    )
    args = parser.parse_args(argv)
    if args.junk is not None:
        rows = measure_junk(args.junk << 20)
        for name, kind, elapsed, peak, outcome in rows:
            print(
                f"{name:<18} {kind:<14} {elapsed * 1000:8.1f} ms  peak {peak / 2**20:6.1f} MB"
                f"  {outcome}"
            )
        return (
            1 if any("CONTRACT" in r[4] or not r[4].startswith("ParseError") for r in rows) else 0
        )
    results = run(args.iterations, args.seed)
    for name, out in results.items():
        print(
            f"{name:<14} {out.runs:>6} runs  {out.rejected:>6} rejected  "
            f"slowest {out.slowest * 1000:7.2f} ms  {len(out.failures)} contract failures"
        )
    failures = list(_iter_failures(results))
    for line in failures[:30]:
        print("FAIL", line)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
