"""The kiosk's live page in headless Chromium, over several documents read one after another.

One page stays open (DevTools over --remote-debugging-pipe) while the kiosk reads four
virtual documents from a virtual slot: a genuine one (VALID), one whose DG1 was altered after
signing (INVALID), one signed by a PKI the trust store does not hold (INDETERMINATE), and one
whose DS certificate is named with markup (in the report the page receives). The page must show each
verdict in turn, with the face, the holder and every check, as the events arrive. Skipped
without Chromium, except under CI=true.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the 'web' extra (starlette, uvicorn) is not installed")
pytest.importorskip("uvicorn", reason="the 'web' extra (starlette, uvicorn) is not installed")

from drivers.virtual.builder import build_document, specimen
from drivers.virtual.pki import make_test_pki
from drivers.virtual.slot import Presentation, VirtualSlot
from epass.access.keys import MrzKey
from epass.cli.kiosk import Kiosk
from epass.cli.kiosk_web import start_server
from epass.inspection import inspect
from epass.lds.files import LdsFile
from tests.chromium import DevToolsPage, artifact_dir, require_chromium
from tests.test_html_report import HOSTILE, hostile_pki

DOC = specimen()
LINE1, LINE2 = DOC.mrz.split()


class Lines:
    def __init__(self) -> None:
        self.events: list[str] = []

    def write(self, text: str) -> int:
        self.events.append(text)
        return len(text)


def js_text(element_id: str) -> str:
    return f"document.getElementById({element_id!r}).textContent"


def test_live_page_shows_each_verdict_in_turn(tmp_path_factory):
    require_chromium()
    hostile = build_document(pki=hostile_pki())
    with hostile.transport() as transport:
        hostile_verdict = inspect(
            transport, MrzKey(DOC.mrz_information), DOC.trust_store()
        ).verdict.value
    cases = [
        (DOC, "VALID"),
        (DOC.tampered(LdsFile.DG1, offset=-1), "INVALID"),
        (build_document(pki=make_test_pki(seed=b"a state the trust store does not know")),
         "INDETERMINATE"),
        (hostile, hostile_verdict),
    ]  # fmt: skip
    slot = VirtualSlot([Presentation(doc.chip()) for doc, _ in cases])
    keys: queue.Queue[str | None] = queue.Queue()
    server = start_server("127.0.0.1:0")
    kiosk = Kiosk(
        slot,
        iter(keys.get, None),
        Lines(),
        trust_store=DOC.trust_store(),
        poll=0.05,
        retry=0.05,
        sinks=(server.hub.publish,),
    )
    thread = threading.Thread(target=kiosk.run, daemon=True)
    thread.start()
    out = artifact_dir(tmp_path_factory)
    try:
        with DevToolsPage(size=(1200, 1800)) as page:
            page.navigate(server.url)
            page.wait_for(
                f"{js_text('connection')} === 'live' && document.body.dataset.state === 'waiting'"
            )
            assert page.evaluate(js_text("status")) == "Scan the MRZ or type the CAN"
            for cycle, (_doc, expected) in enumerate(cases, start=1):
                keys.put(LINE1)
                keys.put(LINE2)
                page.wait_for(
                    f"document.body.dataset.cycle === '{cycle}' && "
                    f"{js_text('verdict')} === '{expected}'"
                )
                page.wait_for(
                    "(() => { const f = document.getElementById('face');"
                    " return !f.hidden && f.complete && f.naturalWidth === 240; })()"
                )
                shown: dict[str, Any] = page.evaluate(
                    "({holder: document.getElementById('holder').textContent,"
                    " checks: document.querySelectorAll('#checks tr.check').length,"
                    " files: document.querySelectorAll('#progress li').length,"
                    " verdictClass: document.getElementById('verdict').className,"
                    " reasons: document.getElementById('reasons').textContent})"
                )
                assert "ERIKSSON, ANNA MARIA" in shown["holder"]
                assert shown["checks"] >= 10 and shown["files"] >= 5
                assert shown["verdictClass"] == f"verdict {expected}"
                if expected == "INVALID":
                    assert "dg.hashes" in shown["reasons"]
                if expected == "INDETERMINATE":
                    assert "ds.issuer" in shown["reasons"]
                # markup from the chip is text: no element, no script added by it
                assert page.evaluate("document.querySelectorAll('img').length") == 1
                assert page.evaluate("document.scripts.length") == 1
                page.screenshot(out / f"kiosk-live-{cycle}-{expected}.png")
            recent = page.evaluate(
                "Array.from(document.querySelectorAll('#recent li')).map(li => li.textContent)"
            )
            assert recent == [
                f"document {n}: {expected}" for n, (_doc, expected) in enumerate(cases, start=1)
            ]
            keys.put(None)  # end of input: the kiosk stops, the page says so
            page.wait_for(f"{js_text('status')}.startsWith('The kiosk stopped')")
    finally:
        keys.put(None)
        thread.join(20)
        server.stop()
    assert not thread.is_alive() and not server.thread.is_alive()


def test_live_page_shows_chip_text_as_text():
    """Markup in any value the page shows (name, reasons, details, errors) stays text."""
    require_chromium()
    server = start_server("127.0.0.1:0")
    hub = server.hub
    holder = {
        "primary_identifier": HOSTILE,
        "secondary_identifier": "</td><td>",
        "document_code": "P",
        "issuing_state": "UTO",
        "document_number": "<b>1</b>",
        "nationality": "UTO",
        "date_of_birth": "1974-08-12",
        "sex": "F",
        "date_of_expiry": "2034-04-15",
    }
    report = {
        "document": {"holder": holder, "faces": []},
        "checks": [{"name": HOSTILE, "status": "FAIL", "detail": HOSTILE}],
        "not_checked": [{"name": "x", "detail": HOSTILE}],
    }
    events = [
        {"event": "started", "seq": 0, "cycle": 0, "reader": HOSTILE},
        {"event": "key_accepted", "seq": 1, "cycle": 1},
        {"event": "access_granted", "seq": 2, "cycle": 1, "protocol": HOSTILE, "fallback": HOSTILE},
        {"event": "file_read", "seq": 3, "cycle": 1, "file": HOSTILE, "bytes": 1},
        {"event": "verdict", "seq": 4, "cycle": 1, "verdict": "INVALID", "reasons": [HOSTILE],
         "ms": 1, "report": report},
        {"event": "error", "seq": 5, "cycle": 1, "stage": "read", "type": "X", "message": HOSTILE},
    ]  # fmt: skip
    try:
        for event in events:
            hub.publish(event)
        with DevToolsPage() as page:
            page.navigate(server.url)
            page.wait_for(f"{js_text('verdict')} === 'INVALID'")
            text = page.evaluate("document.body.textContent")
            assert text.count(HOSTILE) >= 7  # reader, access, file, name, reason, check, error
            assert "</td><td>" in text and "<b>1</b>" in text
            assert page.evaluate("document.querySelectorAll('img').length") == 1  # #face only
            assert page.evaluate("document.querySelectorAll('b, script[src=x]').length") == 0
            assert page.evaluate("document.scripts.length") == 1
            assert page.evaluate(js_text("face-missing")) == "No face image on the chip."
    finally:
        server.stop()
