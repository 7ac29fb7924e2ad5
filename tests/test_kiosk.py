"""Kiosk mode: the loop over a virtual slot, every event checked against its JSON Schema.

Failure modes of issue 8: card removal mid-read, a reader unplugged and plugged back, a
chip that stops answering, a read past its budget, any EpassError; after each the kiosk
takes the next document. The stderr log never holds the MRZ, the CAN, names or keys.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import time
import tracemalloc
from typing import Any

import jsonschema
import pytest

from drivers.virtual.builder import specimen
from drivers.virtual.chip import Faults
from drivers.virtual.slot import NoCard, Presentation, ReaderGone, VirtualSlot
from epass.access.keys import CanKey, MrzKey
from epass.cli.kiosk import (
    EVENTS,
    KIOSK_SCHEMA,
    KeyAssembler,
    Kiosk,
    LineFeed,
    bounded_lines,
    kiosk_schema,
)
from epass.errors import ParseError
from epass.inspection import json_schema
from epass.lds.files import LdsFile
from epass.reader import ReadOptions

DOC = specimen()
LINE1, LINE2 = DOC.mrz.split()
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
VALIDATOR = jsonschema.Draft202012Validator(
    kiosk_schema(), format_checker=jsonschema.FormatChecker()
)
REPORT_VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def no_sleep(_seconds: float) -> None:
    return None


class EventSink:
    """Validates every line written against the schema; keeps the events (or only counts)."""

    def __init__(self, keep: bool = True, validate: bool = True) -> None:
        self.keep = keep
        self.validate = validate
        self.events: list[dict[str, Any]] = []
        self.count = 0
        self.kinds: dict[str, int] = {}

    def write(self, text: str) -> int:
        assert text.endswith("\n") and text.count("\n") == 1  # one event per line
        event = json.loads(text)
        if self.validate:
            VALIDATOR.validate(event)
            if event["event"] == "verdict":
                REPORT_VALIDATOR.validate(event["report"])
        self.count += 1
        self.kinds[event["event"]] = self.kinds.get(event["event"], 0) + 1
        if self.keep:
            self.events.append(event)
        return len(text)

    def flush(self) -> None:
        return None

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]


def card(**kwargs: Any) -> Presentation:
    faults = kwargs.pop("faults", None)
    return Presentation(DOC.chip(faults=faults), **kwargs)


def run(events, lines, options: ReadOptions | None = None) -> tuple[EventSink, VirtualSlot, Kiosk]:
    sink = EventSink()
    slot = VirtualSlot(events, sleep=no_sleep)
    kiosk = Kiosk(slot, lines, sink, trust_store=DOC.trust_store(), options=options, sleep=no_sleep)
    slot.on_exhausted = kiosk.stop
    kiosk.run()
    return sink, slot, kiosk


def test_schema_is_package_data_and_lists_every_event():
    schema = kiosk_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == KIOSK_SCHEMA
    assert [branch["title"] for branch in schema["oneOf"]] == list(EVENTS)


def test_one_document_every_event_in_order():
    sink, slot, _ = run([card(stays=2)], [LINE1, LINE2])
    assert sink.names() == [
        "started",
        "waiting",
        "key_accepted",
        "waiting",
        "document_detected",
        "file_read",  # EF.ATR/INFO, before access control
        "access_granted",
        *["file_read"] * 6,
        "verdict",
        "waiting",
        "document_removed",
        "waiting",
        "stopped",
    ]
    assert [e["for"] for e in sink.of("waiting")] == ["key", "document", "removal", "key"]
    accepted = sink.of("key_accepted")[0]
    assert (accepted["kind"], accepted["format"], accepted["lines"]) == ("MRZ", "TD3", "line 2")
    assert sink.of("access_granted")[0]["protocol"] == "BAC"
    files = {e["file"]: e["bytes"] for e in sink.of("file_read")}
    assert files["DG2"] == len(DOC.files[LdsFile.DG2]) and "EF.SOD" in files
    verdict = sink.of("verdict")[0]
    assert verdict["verdict"] == "VALID" and verdict["report"]["verdict"] == "VALID"
    assert verdict["report"]["document"]["holder"]["primary_identifier"] == "ERIKSSON"
    assert sink.of("stopped")[0] == sink.events[-1] | {"reason": "end of input", "cycles": 1}
    assert [e["seq"] for e in sink.events] == list(range(len(sink.events)))
    assert {e["cycle"] for e in sink.of("verdict")} == {1}
    assert slot.removals == 1


def test_survives_every_failure_and_takes_the_next_document():
    script = [
        card(remove_after=9),  # cycle 1: removed mid-read
        ReaderGone(3),  # cycle 2: the reader is unplugged, then back
        NoCard(),  # cycle 2: nothing on the reader for one wait
        card(mute_after=10),  # cycle 2: the chip stops answering (reader timeout)
        card(unplug_after=8, unplugged_polls=2),  # cycle 3: reader unplugged mid-read
        card(faults=Faults(corrupt_mac_after=3)),  # cycle 4: a bad MAC (SecureMessagingError)
        card(),  # cycles 5-7: good documents
        card(),
        card(),
    ]
    # the empty line and a 9-character line: an input error between cycles 4 and 5
    lines = [LINE2, LINE2, LINE2, LINE2, "", "L898902C<", LINE2, LINE2, LINE2]
    sink, slot, _ = run(script, lines)
    errors = [(e["cycle"], e["stage"], e["type"]) for e in sink.of("error")]
    assert errors == [
        (1, "read", "CardRemovedError"),
        (2, "wait", "NoReaderError"),
        (2, "read", "TransportError"),
        (3, "read", "NoReaderError"),
        (3, "removal", "NoReaderError"),  # the card went with the reader
        (4, "wait", "NoReaderError"),  # still unplugged for one more poll, then back
        (4, "read", "SecureMessagingError"),
        (4, "input", "ParseError"),
    ]
    assert "did not answer" in sink.of("error")[2]["message"]
    assert [e["cycle"] for e in sink.of("reader_ready")] == [2, 4]
    verdicts = sink.of("verdict")
    assert [v["cycle"] for v in verdicts] == [5, 6, 7]
    assert all(v["verdict"] == "VALID" for v in verdicts)
    assert sink.events[-1]["event"] == "stopped"
    assert slot.connections == 7


def test_wrong_key_budget_and_recovery():
    other = "X12345678" + "<" + LINE2[10:]
    fields = KeyAssembler()
    with pytest.raises(ParseError):
        fields.feed(other)  # a wrong check digit is refused before any reader contact
    script = [card(), card(), card()]
    wrong_key_line = _line2("Z99999999", "740812", "340415")
    sink, _, _ = run(script, [wrong_key_line, LINE2, LINE2])
    errors = [(e["cycle"], e["type"]) for e in sink.of("error")]
    assert errors[0] == (1, "AccessControlError")
    assert [v["cycle"] for v in sink.of("verdict")] == [2, 3]
    budget = ReadOptions(extended_length=False, max_apdus=20)
    sink, _, _ = run([card(), card()], [LINE2, LINE2], options=budget)
    assert [(e["type"], e["stage"]) for e in sink.of("error")] == [
        ("ReadBudgetExceededError", "read")
    ] * 2
    assert "20 APDUs" in sink.of("error")[0]["message"]


def _line2(number: str, dob: str, doe: str) -> str:
    from epass.lds.mrz import check_digit

    n = number.ljust(9, "<")
    body = n + check_digit(n) + "UTO" + dob + check_digit(dob) + "F" + doe + check_digit(doe)
    optional = "<" * 14
    body += optional + "<"
    composite = check_digit(body[0:10] + body[13:20] + body[21:43])
    return body + composite


def test_a_card_that_cannot_be_opened_and_a_card_that_stays():
    class Broken(VirtualSlot):
        calls = 0

        def wait_for_card(self, timeout):
            self.calls += 1
            if self.calls == 1:
                from epass.errors import TransportError

                raise TransportError("SCardConnect failed: unresponsive card")
            return super().wait_for_card(timeout)

    sink = EventSink()
    slot = Broken([card(stays=3)], sleep=no_sleep)
    kiosk = Kiosk(slot, [LINE2], sink, trust_store=DOC.trust_store(), sleep=no_sleep)
    slot.on_exhausted = kiosk.stop
    kiosk.run()
    assert [(e["stage"], e["type"]) for e in sink.of("error")] == [("connect", "TransportError")]
    assert sink.of("verdict")[0]["verdict"] == "VALID"
    assert [e["for"] for e in sink.of("waiting")].count("removal") == 1


def test_an_internal_error_is_an_event_not_the_end(monkeypatch):
    import epass.inspection

    calls = {"n": 0}
    real = epass.inspection.inspect

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise IndexError("a bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(epass.inspection, "inspect", flaky)
    sink, _, _ = run([card(), card()], [LINE2, LINE2])
    assert sink.of("error")[0]["type"] == "InternalError"
    assert sink.of("verdict")[0]["cycle"] == 2


def test_output_closed_stops_the_kiosk():
    class Closed:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    slot = VirtualSlot([card()], sleep=no_sleep)
    kiosk = Kiosk(slot, [LINE2, LINE2], Closed(), trust_store=DOC.trust_store(), sleep=no_sleep)
    assert kiosk.run() == 0
    assert kiosk.stopped and slot.connections == 0


def test_interrupt_ends_with_a_stopped_event():
    def lines():
        yield LINE2
        raise KeyboardInterrupt

    sink, _, _ = run([card()], lines())
    assert sink.events[-1]["event"] == "stopped" and sink.events[-1]["reason"] == "interrupted"
    assert sink.of("verdict")


# -- keys from typed lines ----------------------------------------------------------------------


def test_assembler_forms():
    a = KeyAssembler()
    assert a.feed(LINE1) is None  # the name line: wait for line 2
    key = a.feed(LINE2 + "\n")
    assert isinstance(key, MrzKey) and key.mrz_information == DOC.mrz_information
    assert a.last == ("MRZ", "TD3", "line 2")
    assert a.feed(TD1[0]) is None
    key = a.feed(TD1[1])
    assert isinstance(key, MrzKey) and a.last == ("MRZ", "TD1", "lines 1 and 2")
    assert a.feed(TD1[2]) is None  # the scanner's third line is swallowed
    assert a.feed(TD2[0]) is None
    assert isinstance(a.feed(TD2[1]), MrzKey)
    assert a.last[1] == "TD2"  # type: ignore[comparison-overlap]
    can = a.feed(" 123456\r\n")
    assert isinstance(can, CanKey) and can.can == "123456"
    assert a.last == ("CAN", None, None)  # type: ignore[comparison-overlap]
    assert a.feed("") is None and a.feed("   ") is None
    pasted = a.feed(f"{LINE1} {LINE2}")  # a pasted MRZ on one line
    assert isinstance(pasted, MrzKey)
    assert isinstance(a.feed(LINE2.lower()), MrzKey)


@pytest.mark.parametrize(
    "line",
    ["hello", "x" * 2000, LINE2[:-1] + "0", "1234567890123", TD1[1][:-1] + "0"],
)
def test_assembler_rejects_and_forgets(line):
    a = KeyAssembler()
    if line.startswith(TD1[1][:10]):
        a.feed(TD1[0])
    with pytest.raises(ParseError) as info:
        a.feed(line)
    assert info.value.file == "MRZ"
    assert line not in str(info.value)
    assert isinstance(a.feed(LINE2), MrzKey)  # and the next scan works


def test_bounded_lines_cuts_overlong_lines():
    stream = io.StringIO("a" * 5000 + "\n" + LINE2 + "\n" + "tail")
    lines = list(bounded_lines(stream, limit=100))
    assert [len(x) for x in lines] == [101, 45, 4]


# -- the log never holds personal data ----------------------------------------------------------


SECRETS = ("ERIKSSON", "ANNA", "L898902C", "740812", "340415", "123456", "D23145890", LINE2[:20])


def test_the_log_holds_no_mrz_can_name_or_key(caplog):
    caplog.set_level(logging.DEBUG)
    script = [card(), card(remove_after=9), card(), card()]
    bad = LINE2[:-1] + "0"
    lines = [LINE1, LINE2, "123456", bad, LINE2, *TD1, LINE2]
    sink, _, _ = run(script, lines)
    assert sink.of("verdict") and sink.of("error")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "verdict VALID" in text and "AccessControlError" in text and "ParseError" in text
    for secret in SECRETS:
        assert secret not in text, secret
    # the events carry the holder only in the verdict's report
    for event in sink.events:
        if event["event"] != "verdict":
            dumped = json.dumps(event)
            for secret in SECRETS:
                assert secret not in dumped, (event["event"], secret)


# -- memory over many cycles ----------------------------------------------------------------------


def test_memory_does_not_grow_over_many_cycles():
    """60 traced cycles (tools/kiosk_soak.py runs thousands): no per-cycle growth after warm-up.

    A leak of one read's files (~22 KB) or one report per cycle would show as
    megabytes; the bound allows 1 KiB per cycle of allocator noise.
    """
    small = specimen()
    cycles, warmup = 60, 15

    def script():
        for i in range(cycles):
            yield Presentation(small.chip(), remove_after=9 if i % 5 == 4 else None)

    def lines():
        for _ in range(cycles):
            yield LINE2

    sink = EventSink(keep=False, validate=False)  # every event kind is validated above
    slot = VirtualSlot(script(), sleep=no_sleep)
    kiosk = Kiosk(slot, lines(), sink, trust_store=small.trust_store(), sleep=no_sleep)
    samples: dict[int, int] = {}
    original = kiosk._serve

    def serve(key):
        original(key)
        if kiosk.cycle in (warmup, cycles):
            gc.collect()
            samples[kiosk.cycle] = tracemalloc.get_traced_memory()[0]

    kiosk._serve = serve  # type: ignore[method-assign]
    tracemalloc.start()
    try:
        kiosk.run()
    finally:
        tracemalloc.stop()
    assert kiosk.cycle == cycles and sink.kinds["verdict"] == cycles - cycles // 5
    assert sink.kinds["error"] == cycles // 5
    growth = samples[cycles] - samples[warmup]
    limit = (cycles - warmup) * 1024
    assert growth < limit, f"traced memory grew by {growth} bytes over {cycles - warmup} cycles"


# -- the command ------------------------------------------------------------------------------


def test_kiosk_command_over_the_virtual_passport(capsys, monkeypatch):
    from epass.cli.main import main

    bad = LINE2[:-1] + "0"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{LINE1}\n{LINE2}\n{bad}\n{LINE2}\n"))
    with pytest.raises(SystemExit) as info:
        main(["kiosk", "--virtual", "--poll", "0.05"])
    out, err = capsys.readouterr()
    assert info.value.code == 0
    sink = EventSink()
    for line in out.splitlines(keepends=True):
        sink.write(line)
    assert [v["verdict"] for v in sink.of("verdict")] == ["VALID", "VALID"]
    assert [(e["stage"], e["type"]) for e in sink.of("error")] == [("input", "ParseError")]
    assert sink.events[-1]["event"] == "stopped"
    assert "verdict VALID" in err
    for secret in SECRETS:
        assert secret not in err


def test_kiosk_command_errors(capsys):
    from epass.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["kiosk", "--virtual", "--reader", "x"])
    assert info.value.code == 3 and "not both" in capsys.readouterr().err


class TypedWhileWaiting:
    """Input lines, and more lines typed while the kiosk waits for the document (a LineFeed)."""

    def __init__(self, first: list[str], later: list[str]) -> None:
        self.first = first
        self.later = later

    def __iter__(self):
        yield from self.first

    def ready(self) -> list[str]:
        lines, self.later = self.later, []
        return lines


def test_a_key_typed_while_waiting_for_the_document_replaces_the_pending_one():
    # was: the second key was kept for the next cycle, and the document on the reader was
    # opened with the first (another document's) key: a BAC error, then a wait for removal
    sink = EventSink()
    slot = VirtualSlot([NoCard(), card()], sleep=no_sleep)
    lines = TypedWhileWaiting([TD2[1] + "\n"], ["junk\n", LINE1 + "\n", LINE2 + "\n"])
    kiosk = Kiosk(slot, lines, sink, trust_store=DOC.trust_store(), sleep=no_sleep)
    slot.on_exhausted = kiosk.stop
    kiosk.run()
    assert [v["verdict"] for v in sink.of("verdict")] == ["VALID"]
    keys = sink.of("key_accepted")
    assert [(k["cycle"], k["format"]) for k in keys] == [(1, "TD2"), (1, "TD3")]
    assert [(e["stage"], e["type"]) for e in sink.of("error")] == [("input", "ParseError")]
    assert kiosk.cycle == 1


def test_a_key_typed_while_the_document_is_read_waits_for_the_next_cycle():
    sink = EventSink()
    slot = VirtualSlot([card(), card()], sleep=no_sleep)
    lines = TypedWhileWaiting([LINE2 + "\n", LINE2 + "\n"], [TD2[1] + "\n"])
    kiosk = Kiosk(slot, lines, sink, trust_store=DOC.trust_store(), sleep=no_sleep)
    slot.on_exhausted = kiosk.stop
    kiosk.run()
    # the document was on the reader at once: nothing was taken while waiting
    assert [v["verdict"] for v in sink.of("verdict")] == ["VALID", "VALID"]


def test_line_feed_reads_on_a_thread_and_bounds_lines():
    feed = LineFeed(io.StringIO("a\n" + "x" * 5000 + "\nb\n"), limit=100)
    deadline = time.monotonic() + 5
    got: list[str] = []
    while len(got) < 3 and time.monotonic() < deadline:
        got += feed.ready()
        time.sleep(0.01)
    assert got[0] == "a\n" and len(got[1]) == 101 and got[2] == "b\n"
    assert list(feed) == []  # the end of the stream ends the iteration
    assert feed.ready() == []


def test_binary_junk_on_stdin_does_not_end_the_kiosk(capsys, monkeypatch):
    # under a UTF-8 locale stdin is strict: one byte FF ended the kiosk with a
    # UnicodeDecodeError (exit 3, no 'stopped' event)
    from epass.cli.main import main

    raw = b"\xff\xfe\x00 junk\n" + bytes(range(256)) + b"\n" + LINE2.encode() + b"\n"
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="strict")
    monkeypatch.setattr("sys.stdin", stdin)
    with pytest.raises(SystemExit) as info:
        main(["kiosk", "--virtual", "--poll", "0.05"])
    out, _err = capsys.readouterr()
    assert info.value.code == 0
    sink = EventSink()
    for line in out.splitlines(keepends=True):
        sink.write(line)
    assert [v["verdict"] for v in sink.of("verdict")] == ["VALID"]
    assert {e["stage"] for e in sink.of("error")} == {"input"}
    assert sink.events[-1]["event"] == "stopped"
