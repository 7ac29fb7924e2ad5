"""The HTML report (epass.report.html) and ``--html FILE``: content, escaping, bad images.

Issue 10 item 3 and its "Bad input": a face Pillow cannot decode, an image of 1 GB declared
size, HTML special characters from the chip (a DS certificate name, a data-group view, a DG1
that does not parse): each shown as such, never a crash, never markup from the chip.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import re
import stat
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from drivers.virtual.builder import build_document, specimen
from drivers.virtual.pki import hash_data_groups
from epass.access.keys import MrzKey
from epass.cli.main import main
from epass.inspection import Inspection, inspect, inspect_dump
from epass.lds import dg2
from epass.lds import document as document_module
from epass.lds.files import LdsFile
from epass.pa import TrustStore
from epass.report import html as html_module
from epass.report.html import render_html, visible
from epass.report.images import MAX_FACE_PIXELS, image_kind, to_png

AT = datetime(2026, 6, 1, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>&\'<img src=x onerror=alert(1)>'


def live(doc=None, face_format="JPEG") -> Inspection:
    doc = doc or specimen(face_format)
    with doc.transport() as transport:
        return inspect(transport, MrzKey(doc.mrz_information), doc.trust_store(), at=AT)


def offline(files: dict[str, bytes], trust: TrustStore | None = None) -> Inspection:
    return inspect_dump(files, trust or TrustStore(), at=AT)


def resign(doc, files: dict[str, bytes]) -> dict[str, bytes]:
    """*files* with EF.SOD re-signed by *doc*'s test DS over every data group given."""
    groups = {LdsFile.by_name(k).number: v for k, v in files.items() if k.startswith("DG")}
    out = dict(files)
    out["EF.SOD"] = doc.pki.sign_sod(hash_data_groups(groups, "sha256"))
    return out


def jpeg(size=(48, 64), colour=(180, 120, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def with_face(image: bytes, fmt: str = "JPEG") -> dict[str, bytes]:
    doc = build_document(include_dg14=False, include_dg15=False)
    files = doc.dump()
    files["DG2"] = dg2.encode([dg2.FaceImageSpec(image=image, format=fmt, width=48, height=64)])
    return resign(doc, files)


def no_markup_from_the_chip(html: str) -> None:
    """No element, attribute or script beyond the template's own."""
    assert "<script" not in html.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", html)  # no event-handler attribute
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    allowed = {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section",
        "div", "span", "strong", "code", "ul", "ol", "li", "table", "thead", "tbody", "tr",
        "th", "td", "figure", "figcaption", "img", "br", "pre", "footer",
    }  # fmt: skip
    assert tags <= allowed, tags - allowed


def img_sources(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]*)"', html)


# -- the demo report ---------------------------------------------------------------------------


@pytest.mark.parametrize("face_format", ["JPEG", "JPEG2000"])
def test_demo_report_has_verdict_face_and_every_check(face_format):
    inspection = live(face_format=face_format)
    html = render_html(inspection, title="epass demo")
    assert html.startswith("<!DOCTYPE html>")
    assert '<div class="word" id="verdict-word">VALID</div>' in html
    assert html.index("verdict-word") < html.index('id="holder"')  # the verdict comes first
    sources = img_sources(html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    png = base64.b64decode(sources[0].split(",", 1)[1])
    with Image.open(io.BytesIO(png)) as face:
        assert face.format == "PNG" and face.size == (240, 320)
    for check in inspection.checks:
        assert f'id="check-{check.name}"' in html, check.name
        assert check.detail.replace("'", "&#39;").replace('"', "&#34;") in html
    for label in inspection.document.labelled():
        assert f'id="file-{label}"' in html
    assert "ERIKSSON" in html and "ANNA MARIA" in html
    no_markup_from_the_chip(html)


def test_report_sections_carry_the_evidence():
    inspection = live()
    html = render_html(inspection)
    report = inspection.passive
    assert report.signer is not None and report.anchor is not None
    for value in (report.signer.sha256, report.anchor.sha256, report.signer.serial):
        assert value in html
    assert "valid at the check time" in html
    assert "epass virtual test PKI (NOT A REAL CSCA)" in html  # the anchor's provenance
    for dg in report.data_groups:
        assert dg.expected is not None and dg.expected in html
    assert inspection.read is not None
    assert 'id="apdus-by-command"' in html
    for command, count in inspection.read.traffic["by_command"].items():
        assert f"<th>{command}</th><td>{count}</td>" in html
    chip_status = inspection.to_dict()["chip_authenticity"]["status"]
    # access, chip authenticity (the examiner's words: GENUINE CHIP, not GENUINE_CHIP)
    assert "PACE" in html and chip_status.replace("_", " ") in html
    for item in inspection.not_checked:
        assert item.detail in html


def test_report_loads_nothing_and_runs_nothing():
    html = render_html(live())
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:image/png;base64,)""", html)
    assert "url(" not in html and "@import" not in html and "<link" not in html
    assert "http://" not in html and "https://" not in html


def test_an_apdu_trace_shows_counts_never_data():
    inspection = live()
    html = render_html(inspection)
    # no APDU bytes: the MRZ-derived BAC/PACE data and the document number's hex are absent
    assert b"L898902C".hex() not in html
    assert inspection.read is not None and str(inspection.read.traffic["apdus"]) in html


def test_a_dump_without_read_evidence_says_so():
    html = render_html(offline(specimen().dump(), specimen().trust_store()))
    assert "carries no record of how the chip was read" in html


# -- chip strings are escaped ------------------------------------------------------------------


def hostile_pki():
    """The test PKI whose DS certificate is named with markup (the CSCA still signs it)."""
    doc = specimen()
    pki = doc.pki
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, HOSTILE[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, "DS \u202eevil\u202c " + HOSTILE[:40]),
        ]
    )
    now = datetime(2024, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(pki.csca_cert.subject)
        .public_key(key.public_key())
        .serial_number(0x1234)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .sign(pki.csca_key, hashes.SHA256())
    )
    return dataclasses.replace(pki, ds_key=key, ds_cert=cert)


def test_a_hostile_ds_name_is_escaped_everywhere():
    doc = build_document(pki=hostile_pki())
    inspection = live(doc)
    html = render_html(inspection)
    no_markup_from_the_chip(html)
    # as the certificate name reads (RFC 4514 escapes), then visible(), then HTML-escaped
    assert "&lt;/script" in html and "alert(\\\\&#34;x" in html and "&#39;" in html
    assert "\u202e" not in html and "\\u202e" in html  # the override shows, it does not act


def test_a_dg1_that_does_not_parse_is_shown_as_bytes_with_its_error():
    from epass import tlv

    doc = specimen()
    mrz = doc.mrz.replace("\n", "")
    bad = (HOSTILE + mrz)[: len(mrz)].encode("ascii")
    files = resign(doc, {**doc.dump(), "DG1": tlv.encode(0x61, tlv.encode(0x5F1F, bad))})
    inspection = offline(files, doc.trust_store())
    assert inspection.holder is None
    html = render_html(inspection)
    no_markup_from_the_chip(html)
    assert "No holder data" in html
    assert 'id="file-DG1"' in html and "Does not parse" in html
    assert bad.hex()[:64] in html.replace("\n", "")  # the bytes, as hex


def test_a_future_parser_view_is_walked_generically_and_escaped(monkeypatch):
    """A data group another parser adds (DG11 here) renders without a change to the report."""

    @dataclasses.dataclass(frozen=True)
    class Person:
        full_name: str
        other_names: tuple[str, ...]
        proof_of_citizenship: bytes
        raw: bytes

    picture = jpeg()
    view = Person(HOSTILE, ("A\u2028B", "x" * 10_000), picture, b"\x01" * 50)
    parsers = dict(document_module.PARSERS)
    parsers[LdsFile.DG11] = lambda data: view
    monkeypatch.setattr(document_module, "PARSERS", MappingProxyType(parsers))
    doc = specimen()
    files = resign(doc, {**doc.dump(), "DG11": b"\x6b\x03\x5f\x0e\x00"})
    html = render_html(offline(files, doc.trust_store()))
    no_markup_from_the_chip(html)
    section = html[html.index('id="file-DG11"') :]
    section = section[: section.index('<div class="file"', 10)]
    assert "full name" in section and "&lt;script&gt;" in section
    assert "A\\u2028B" in section  # a line separator from the chip, shown
    assert "more characters not shown" in section  # 10,000 characters, cut
    assert "data:image/png;base64," in section  # the image found in the view, decoded
    assert "01" * 50 not in section  # "raw" is the file itself: not repeated


def test_an_unknown_file_is_shown_as_size_and_hex():
    doc = specimen()
    blob = bytes(range(256)) * 12  # 3,072 bytes: more than the hex shown
    # DG8 (data features, 9303-10 §4.7.8) has no parser: it is shown as size and hex.
    files = resign(doc, {**doc.dump(), "DG8": b"\x68\x82\x0c\x00" + blob})
    html = render_html(offline(files, doc.trust_store()))
    section = html[html.index('id="file-DG8"') :]
    assert "3076 bytes" in section
    assert "No decoder for this file" in section or "Does not parse" in section
    assert "68820c00000102" in section.replace("\n", "")


def test_visible_escapes_controls_and_format_characters():
    assert visible("ANNA MARIA") == "ANNA MARIA"
    assert visible("a\nb\x1b[31m") == "a\\x0ab\\x1b[31m"
    assert visible("x\u202ey\u200dz\u2029") == "x\\u202ey\\u200dz\\u2029"
    assert visible("back\\slash") == "back\\\\slash"
    assert visible("Müller 山田") == "Müller 山田"


# -- bad images ---------------------------------------------------------------------------------


def test_a_face_pillow_cannot_decode_is_shown_as_such():
    broken = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + os.urandom(400)
    inspection = offline(with_face(broken))
    html = render_html(inspection)
    assert "data:image/png" not in html
    assert 'class="undecoded"' in html and "does not decode" in html
    assert inspection.verdict.value in html


def _declaring(fmt: str, width: int, height: int) -> bytes:
    """A small image whose header declares *width* x *height* pixels."""
    image = Image.new("L", (16, 16))
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, format="JPEG")
        data = bytearray(buffer.getvalue())
        sof = data.index(b"\xff\xc0")
        data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
        return bytes(data)
    image.save(buffer, format="JPEG2000", no_jp2=True)
    data = bytearray(buffer.getvalue())
    siz = data.index(b"\xff\x51")  # SIZ: Lsiz, Rsiz, Xsiz, Ysiz (ISO/IEC 15444-1 A.5.1)
    data[siz + 6 : siz + 14] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize("fmt", ["JPEG", "J2K"])
def test_a_face_declaring_a_gigabyte_is_refused_without_allocating(fmt):
    bomb = _declaring(fmt, 32768, 32768)  # 1 GiB of 8-bit pixels, declared in a few bytes
    assert len(bomb) < 2000
    inspection = offline(with_face(bomb, "JPEG" if fmt == "JPEG" else "JPEG2000"))
    tracemalloc.start()
    try:
        html = render_html(inspection)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024
    assert "not decoded" in html and "1,073,741,824 pixels" in html
    assert "data:image/png" not in html


@pytest.mark.parametrize("fmt", ["JP2", "J2K"])
def test_jpeg2000_faces_as_jp2_and_as_a_raw_codestream_are_embedded(fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (48, 64), (30, 60, 200)).save(buffer, format="JPEG2000", no_jp2=(fmt == "J2K"))
    image = buffer.getvalue()
    assert image_kind(image) == fmt
    html = render_html(offline(with_face(image, "JPEG2000")))
    sources = img_sources(html)
    assert sources, "no face embedded"
    png = base64.b64decode(sources[0].split(",", 1)[1])
    with Image.open(io.BytesIO(png)) as face:
        assert face.size == (48, 64)
        pixel = face.convert("RGB").getpixel((24, 32))
        assert isinstance(pixel, tuple)
        assert pixel[2] > 150 and pixel[0] < 100  # the colour survived the decode


def test_to_png_bounds_and_errors():
    from epass.errors import ParseError

    assert to_png(jpeg()).startswith(b"\x89PNG")
    with pytest.raises(ParseError, match="not decoded") as exc:
        to_png(_declaring("JPEG", 5000, 5000))
    assert exc.value.file == "DG2" and 5000 * 5000 > MAX_FACE_PIXELS
    with pytest.raises(ParseError, match="does not decode"):
        to_png(b"not an image", file="DG5")
    cmyk = io.BytesIO()
    Image.new("CMYK", (8, 8)).save(cmyk, format="JPEG")
    assert to_png(cmyk.getvalue()).startswith(b"\x89PNG")  # PNG has no CMYK: converted


def test_the_number_of_images_is_bounded(monkeypatch):
    monkeypatch.setattr(html_module, "MAX_IMAGES", 0)
    html = render_html(live())
    assert "data:image/png" not in html and "more than 0 images" in html


# -- the command line --------------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.mark.parametrize("command", ["demo", "read"])
def test_html_option_writes_a_private_report(capsys, tmp_path, command):
    target = tmp_path / "report.html"
    args = ["demo"] if command == "demo" else ["read", "--virtual"]
    code, out, err = run(capsys, *args, "--html", str(target))
    assert code == 0 and "Verdict: VALID" in out
    assert f"HTML report written to {target}" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    html = target.read_text("utf-8")
    assert 'id="verdict-word">VALID<' in html and "data:image/png;base64," in html
    assert f"epass {command}" in html


def test_verify_html_and_json_together(capsys, tmp_path):
    from epass.dump import save_dump

    doc = specimen()
    save_dump(doc.dump(), tmp_path / "d")
    target = tmp_path / "r.html"
    code, out, _err = run(capsys, "verify", str(tmp_path / "d"), "--json", "--html", str(target))
    assert code == 2  # no --trust: INDETERMINATE
    assert '"verdict": "INDETERMINATE"' in out
    assert 'id="verdict-word">INDETERMINATE<' in target.read_text("utf-8")


def test_html_option_refuses_a_symlink_and_a_fifo_without_hanging(capsys, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    code, out, err = run(capsys, "demo", "--html", str(link))
    assert code == 3 and "Verdict: VALID" in out  # the result still shows
    assert "not a regular file" in err and victim.read_text() == "keep"
    fifo = tmp_path / "fifo.html"
    os.mkfifo(fifo)
    code, _out, err = run(capsys, "demo", "--html", str(fifo))
    assert code == 3 and "not a regular file" in err


def test_html_report_with_the_face_out_bomb_still_writes_the_report(capsys, tmp_path):
    from epass.dump import save_dump

    save_dump(with_face(_declaring("JPEG", 9000, 9000)), tmp_path / "d")
    target = tmp_path / "r.html"
    code, _out, err = run(
        capsys,
        "verify",
        str(tmp_path / "d"),
        "--face-out",
        str(tmp_path / "f.png"),
        "--html",
        str(target),
    )
    assert code == 3 and "not decoded" in err  # --face-out refuses the bomb ...
    assert "9000x9000" in target.read_text("utf-8")  # ... the report says why, and is written
    assert not Path(tmp_path / "f.png").exists()
