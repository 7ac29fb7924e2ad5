"""What an examiner sees in the HTML report: regressions found in review (issue 10)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from drivers.virtual import profiles
from drivers.virtual.builder import VirtualDocument, build_document
from epass.access.keys import MrzKey
from epass.cli.main import main
from epass.inspection import Inspection, inspect, inspect_dump
from epass.lds import dg5, dg11
from epass.reader import ReadOptions
from epass.report.html import render_html
from epass.report.images import MAX_SHOWN_SIDE, to_png

AT = datetime(2027, 6, 1, tzinfo=UTC)


def _live(doc: VirtualDocument, **options: object) -> Inspection:
    with doc.transport() as transport:
        return inspect(
            transport,
            MrzKey(doc.mrz_information),
            doc.trust_store(),
            at=AT,
            options=ReadOptions(**options),  # type: ignore[arg-type]
        )


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_the_chip_section_shows_each_protocol_with_its_evidence_and_examiner_words():
    html = render_html(_live(profiles.document("bac-pace")))
    chip = _section(html, "chip-authenticity")
    assert ">GENUINE CHIP</span>" in chip and "GENUINE_CHIP<" not in html
    for field in ("challenge", "signature", "chip public key", "key proof", "key file"):
        assert f"<th>{field}</th>" in chip, field
    assert "DG15 hash MATCH in EF.SOD" in chip and "DG14 hash MATCH in EF.SOD" in chip
    # each check once with its evidence: the list of every check points to it
    assert html.count('id="check-chip.active_authentication"') == 1


def test_a_clone_is_explained_in_the_verdict_box():
    html = render_html(_live(profiles.document("cloned-chip")))
    verdict = _section(html, "verdict")
    assert "INVALID" in verdict and "CLONE SUSPECTED" in verdict
    assert ">CLONE SUSPECTED</span>" in _section(html, "chip-authenticity")


def test_the_anchor_provenance_is_a_table_not_a_python_repr():
    html = render_html(_live(profiles.document("bac-pace")))
    chain = _section(html, "chain")
    assert "{&#39;file&#39;" not in chain and "None" not in chain
    assert "<th>provenance</th><td><table" in chain


def test_tags_are_shown_in_hex_as_icao_writes_them():
    doc = build_document(
        include_dg14=False,
        include_dg15=False,
        extra_data_groups={11: dg11.encode_dg11(full_name="ERIKSSON<<ANNA<MARIA")},
    )
    html = render_html(inspect_dump(doc.dump(), doc.trust_store(), at=AT))
    com = html[html.index('id="file-EF.COM"') :]
    assert '<span class="v">61</span>' in com and '<span class="v">75</span>' in com
    dg11_view = html[html.index('id="file-DG11"') :]
    assert '<span class="v">5F0E</span>' in dg11_view
    assert '<span class="v">24334</span>' not in html


def test_a_huge_image_is_embedded_scaled_down():
    # a 3000x2000 portrait in DG5: decoded under the pixel budget, embedded at most
    # MAX_SHOWN_SIDE pixels on a side (one hostile file cannot make a report of tens of MB)
    big = Image.frombytes("L", (300, 200), os.urandom(300 * 200)).resize((3000, 2000))
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG", quality=5)
    assert len(buffer.getvalue()) < 256 * 1024  # DG5's plausible size
    doc = build_document(
        include_dg14=False,
        include_dg15=False,
        extra_data_groups={5: dg5.encode_dg5([buffer.getvalue()])},
    )
    html = render_html(inspect_dump(doc.dump(), doc.trust_store(), at=AT))
    sources = re.findall(r'<img src="data:image/png;base64,([^"]*)"', html)
    sizes = []
    for source in sources:
        with Image.open(io.BytesIO(base64.b64decode(source))) as image:
            sizes.append(image.size)
    assert (MAX_SHOWN_SIDE, 800) in sizes
    assert all(max(size) <= MAX_SHOWN_SIDE for size in sizes)
    assert len(html) < 8_000_000
    with Image.open(io.BytesIO(to_png(buffer.getvalue()))) as full:  # --face-out: full size
        assert full.size == (3000, 2000)


def test_eac_ta_profile_dg3_and_dg4_decode_with_their_images():
    doc = profiles.document("eac-ta")
    inspection = _live(doc, terminal_credentials=doc.terminal_credentials)
    assert not [f for f in inspection.findings if f.file in ("DG3", "DG4")]
    dg3 = inspection.document.dg3
    dg4 = inspection.document.dg4
    assert dg3 is not None and [f.position for f in dg3.fingers] == [2, 7]
    assert dg4 is not None and len(dg4.irises) == 1
    html = render_html(inspection)
    for label in ("DG3", "DG4"):
        view = html[html.index(f'id="file-{label}"') :]
        view = view[: view.index('<div class="file"', 10)]
        assert '<img src="data:image/png;base64,' in view
        assert "Does not parse" not in view


def test_read_virtual_uses_the_profiles_test_inspection_system(capsys):
    # like --can, --virtual defaults to what the virtual document comes with: here its TEST
    # inspection system, so `epass read --virtual --profile eac-ta` shows DG3 and DG4
    with pytest.raises(SystemExit) as info:
        main(["read", "--virtual", "--profile", "eac-ta", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert info.value.code in (0, None) and data["verdict"] == "VALID"
    assert "DG3" in data["read"]["files_read"] and "DG4" in data["read"]["files_read"]
    ta = next(c for c in data["checks"] if c["name"] == "chip.terminal_authentication")
    assert ta["status"] == "PASS"


def test_a_valid_verdict_says_whether_the_chip_was_authenticated():
    genuine = _section(render_html(_live(profiles.document("bac-pace"))), "verdict")
    assert "VALID" in genuine and "(GENUINE CHIP)" in genuine and "NOT CHECKED" not in genuine
    unchecked = _section(render_html(_live(profiles.document("no-chip-auth"))), "verdict")
    assert "VALID" in unchecked and "Chip NOT CHECKED" in unchecked
    assert "GENUINE CHIP" not in unchecked


def test_the_score_table_uses_the_examiners_words():
    from drivers.virtual.scenarios import Expected

    assert Expected("VALID", chip="NOT_CHECKED").summary() == "VALID; chip NOT CHECKED"


def test_a_biometric_block_error_shows_no_escaped_backslash():
    # the message named 'FIR\0', which every renderer showed as 'FIR\\0'
    from epass import tlv
    from epass.errors import ParseError
    from epass.lds import dg3, dg4
    from epass.report.html import visible

    block = tlv.encode(0xA1, tlv.encode(0x87, b"\x01\x01")) + tlv.encode(0x5F2E, bytes(44))
    group = tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + tlv.encode(0x7F60, block))
    for module, tag, magic in ((dg3, 0x63, "46 49 52 00"), (dg4, 0x76, "49 49 52 00")):
        with pytest.raises(ParseError) as info:
            module.parse(tlv.encode(tag, group))
        shown = visible(str(info.value))
        assert magic in shown and "\\" not in shown
