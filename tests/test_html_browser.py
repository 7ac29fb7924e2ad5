"""The HTML report in a real browser (headless Chromium): the demo report and the sample sets.

Each report is opened from a file:// URL: the screenshot must not be blank (not all one
colour) and the DOM must hold the verdict and the decoded face. The demo report's screenshot
is kept as a CI artifact: its path is printed (``$EPASS_ARTIFACTS``, else a pytest temporary
folder), never written into the repository. Skipped without Chromium, except under CI=true.
"""

from __future__ import annotations

import html as html_lib
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from drivers.virtual.builder import specimen
from epass.access.keys import MrzKey
from epass.inspection import inspect, inspect_dump
from epass.pa import TrustStore
from epass.report.html import render_html
from tests.chromium import DevToolsPage, artifact_dir, dump_dom, require_chromium, screenshot

#: The sample sets with data groups (../shared/samples/README.md §1), judged when they were valid.
SAMPLE_SETS = {
    "nl_specimen_2006": datetime(2010, 1, 1, tzinfo=UTC),
    "bsi_refset_hjp2013": datetime(2014, 6, 1, tzinfo=UTC),
    "bsi_refset_2008": datetime(2008, 6, 1, tzinfo=UTC),
}


def not_blank(path: Path) -> None:
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 1, f"{path} is one colour"
    assert colours is None or len(colours) > 50, f"{path} has almost nothing on it"


def face_data_uris(dom: str) -> list[str]:
    return re.findall(r'<img src="(data:image/png;base64,[^"]+)"', dom)


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


def test_demo_report_in_chromium(chromium, tmp_path, tmp_path_factory, capsys):
    doc = specimen("JPEG2000")
    with doc.transport() as transport:
        inspection = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    page = tmp_path / "demo-report.html"
    page.write_text(render_html(inspection, title="epass demo"), "utf-8")
    shot = artifact_dir(tmp_path_factory) / "demo-report.png"
    started = time.perf_counter()
    screenshot(page.as_uri(), shot)
    dom = dump_dom(page.as_uri())
    seconds = time.perf_counter() - started
    not_blank(shot)
    word = re.search(r'id="verdict-word">([A-Z]+)<', dom)
    assert word is not None and word.group(1) == "VALID"
    assert face_data_uris(dom), "the face is not in the DOM"
    assert 'id="holder-data"' in dom and "ERIKSSON" in dom
    with capsys.disabled():
        print(f"\nepass: HTML report screenshot (CI artifact): {shot} ({seconds:.1f} s)")


def test_face_decodes_and_verdict_shows_in_the_live_dom(chromium, tmp_path):
    """The browser itself decodes the embedded PNG: the image has its natural size."""
    doc = specimen()
    with doc.transport() as transport:
        inspection = inspect(transport, MrzKey(doc.mrz_information), doc.trust_store())
    page = tmp_path / "r.html"
    page.write_text(render_html(inspection), "utf-8")
    with DevToolsPage() as browser:
        browser.navigate(page.as_uri())
        browser.wait_for("document.readyState === 'complete'")
        size = browser.evaluate(
            "(() => { const i = document.querySelector('#faces img');"
            " return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null; })()"
        )
        assert size == [240, 320]
        assert browser.evaluate("document.getElementById('verdict-word').textContent") == "VALID"
        # no script ran and none could: the policy forbids it
        assert browser.evaluate("document.scripts.length") == 0


@pytest.mark.samples
def test_sample_set_reports_in_chromium(chromium, samples, tmp_path, tmp_path_factory):
    folders = [name for name in SAMPLE_SETS if (samples / name).is_dir()]
    if not folders:
        pytest.skip(f"no sample set with data groups under {samples}")
    out = artifact_dir(tmp_path_factory)
    with DevToolsPage() as browser:
        for name in folders:
            folder = samples / name
            files = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".bin"}
            inspection = inspect_dump(files, TrustStore(), at=SAMPLE_SETS[name])
            page = tmp_path / f"{name}.html"
            page.write_text(render_html(inspection, title=f"sample {name}"), "utf-8")
            browser.navigate(page.as_uri())
            browser.wait_for("document.readyState === 'complete'")
            word = browser.evaluate("document.getElementById('verdict-word').textContent")
            assert word == inspection.verdict.value, name
            faces = browser.evaluate(
                "Array.from(document.querySelectorAll('#faces img'))"
                ".map(i => i.complete ? i.naturalWidth : 0)"
            )
            assert faces and all(width > 0 for width in faces), f"{name}: face not shown"
            holder = browser.evaluate("document.getElementById('holder-data').textContent")
            assert inspection.holder is not None
            assert html_lib.unescape(inspection.holder.primary_identifier) in holder
            shot = browser.screenshot(out / f"sample-{name}.png")
            not_blank(shot)
