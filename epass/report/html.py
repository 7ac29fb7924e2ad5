"""The HTML report of an inspection: one self-contained file an examiner can open offline and file.

:func:`render_html` turns an :class:`~epass.inspection.Inspection` into one
HTML document (template ``epass/templates/report.html.j2``, Jinja2) laid out
for a screen and for print:

1. the verdict (VALID / INVALID / INDETERMINATE) with the checks that decided
   it, what the verdict does not cover, the document's time validity;
2. the holder (DG1, 9303-10 §4.7.1) with the face (DG2, §4.7.2): JPEG and
   JPEG 2000 (JP2 or a raw J2K codestream) decoded with Pillow under a pixel
   budget (:mod:`epass.report.images`) and embedded as PNG ``data:`` URIs;
3. chip authenticity (9303-11 §6) and access control (the protocol, what the
   chip offered, any fallback), rendered from ``to_dict()`` generically so
   that fields added there appear without a change here;
4. every check of every section with its evidence; the certificate chain
   (DS and CSCA: subject, issuer, serial, validity at the check time, key,
   fingerprint, where the anchor came from); EF.SOD and the data-group hashes;
5. every file read, decoded: the parsed view of each file that has a parser
   (:data:`epass.lds.document.PARSERS`), walked generically; images found in
   it decoded like the face; files without a parser as size and hex;
6. the link summary: APDUs by command, bytes each way, seconds (no APDU data).

Safety: autoescaping is on, and every value printed goes through
:func:`visible` first (control, format and bidirectional-override characters
become ``\\uNNNN`` escapes), so nothing a chip stores reaches the HTML
unescaped or rearranges the text around it. The file loads nothing: no
script, no font, no stylesheet from elsewhere; its Content-Security-Policy
forbids scripts and every source but inline styles and ``data:`` images.
Every walk is bounded (depth, items, string length, hex bytes, images), so a
hostile file cannot make the report unbounded.

Holder data appears because the user asked for the report; it is never logged.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum, IntEnum
from typing import Any

import jinja2
from markupsafe import Markup

from epass._version import __version__
from epass.errors import EpassError, ParseError
from epass.inspection import Inspection
from epass.lds import document as _document
from epass.lds.files import LdsFile, lds_order
from epass.report.images import MAX_FACE_PIXELS, MAX_SHOWN_SIDE, image_kind, to_png

__all__ = ["MAX_HEX_BYTES", "MAX_IMAGES", "MAX_TEXT", "render_html", "visible"]

#: Longest text value shown (characters); the rest is cut with a note.
MAX_TEXT = 4000
#: Most bytes of a file or field shown as hex.
MAX_HEX_BYTES = 2048
#: Most images decoded into one report (faces included).
MAX_IMAGES = 12
#: Deepest nesting of a parsed view walked; items of one list shown.
MAX_DEPTH = 8
MAX_ITEMS = 200
#: Most nodes of all parsed views together.
MAX_NODES = 50_000
#: Field names never shown in a parsed view (``raw`` is the file itself, shown as hex).
_HIDDEN_FIELDS = frozenset({"raw"})
#: Fields of parsed views that hold BER-TLV tags (EF.COM's tag list, DG11/DG12 '5C', unknown
#: objects): shown in hex as ICAO 9303-10 writes them ('5F0E'), never as decimal numbers.
_TAG_FIELDS = frozenset({"tags", "tag_list", "unknown_tags", "unknown"})


def visible(value: object) -> str:
    """*value* as text whose every character shows: nothing can hide, move or fold text.

    C0/C1 controls, DEL, the line and paragraph separators and every format
    character (bidirectional overrides and isolates, zero-width joiners) become
    ``\\xNN`` / ``\\uNNNN`` / ``\\UNNNNNNNN``; a backslash is doubled so an
    escape cannot be faked. HTML escaping comes after (autoescape).
    """
    text = str(value)
    if "\\" not in text and text.isprintable():  # str.isprintable is False for Cc, Cf, Zl, Zp
        return text
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def _finalize(value: object) -> object:
    """Every ``{{ ... }}`` output passes here before it is escaped."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return visible(value)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("epass", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hexrows"] = _hex_rows
    env.filters["label"] = _label
    return env


def _label(key: object) -> str:
    """``"bytes_received"`` -> ``"bytes received"``."""
    return str(key).replace("_", " ")


def _hex_rows(hex_text: str, width: int = 64) -> list[str]:
    return [hex_text[i : i + width] for i in range(0, len(hex_text), width)]


# -- images ------------------------------------------------------------------------------------


class _Images:
    """Decodes images for one report, each once, at most :data:`MAX_IMAGES`."""

    def __init__(self) -> None:
        self._done: dict[int, dict[str, Any]] = {}
        self._keep: list[bytes] = []  # ids stay unique while the report is built
        self.count = 0

    def node(self, data: bytes, *, file: str, where: str) -> dict[str, Any]:
        kind = image_kind(data) or "unknown format"
        key = id(data)
        seen = self._done.get(key)
        if seen is not None:
            return {"t": "ref", "kind": kind, "size": len(data), "where": seen["where"]}
        node: dict[str, Any] = {"t": "image", "kind": kind, "size": len(data), "where": where}
        if self.count >= MAX_IMAGES:
            node["error"] = f"not decoded: more than {MAX_IMAGES} images in one report"
        else:
            self.count += 1
            try:
                png = to_png(data, file=file, max_pixels=MAX_FACE_PIXELS, max_side=MAX_SHOWN_SIDE)
            except ParseError as exc:
                node["error"] = exc.reason
            else:
                node["uri"] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        self._done[key] = node
        self._keep.append(data)
        return node


# -- generic walk of parsed views and evidence -------------------------------------------------


class _Walker:
    """Turns parsed views and JSON values into bounded nodes the template renders."""

    def __init__(self, images: _Images) -> None:
        self.images = images
        self.nodes = 0

    def walk(
        self, value: Any, *, file: str = "", where: str = "", depth: int = 0
    ) -> dict[str, Any]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            return {"t": "text", "v": "(not shown: the report's size bound is reached)"}
        if value is None:
            return {"t": "none"}
        if isinstance(value, bool):
            return {"t": "text", "v": "yes" if value else "no"}
        if isinstance(value, IntEnum):
            return {"t": "text", "v": f"{value.name} ({int(value)})"}
        if isinstance(value, Enum):
            return {"t": "text", "v": str(value.value)}
        if isinstance(value, str):
            return _text(value)
        if isinstance(value, int | float):
            return {"t": "text", "v": str(value)}
        if isinstance(value, datetime | date):
            return {"t": "text", "v": value.isoformat()}
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            if image_kind(data) is not None:
                return self.images.node(data, file=file, where=where or file)
            return _bytes(data, 64)
        if depth >= MAX_DEPTH:
            return {"t": "text", "v": f"({type(value).__name__}, nested too deep to show)"}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            items = []
            for f in dataclasses.fields(value):
                if f.name in _HIDDEN_FIELDS:
                    continue
                sub = getattr(value, f.name, None)
                if f.name in _TAG_FIELDS:
                    sub = _tags_hex(sub)
                items.append((f.name, self.walk(sub, file=file, where=f.name, depth=depth + 1)))
            return {"t": "map", "items": items, "type": type(value).__name__}
        if isinstance(value, Mapping):
            items = []
            for n, (k, sub) in enumerate(value.items()):
                if n >= MAX_ITEMS:
                    items.append(("…", _text(f"{len(value) - MAX_ITEMS} more entries not shown")))
                    break
                label = k.label if isinstance(k, LdsFile) else k
                items.append((str(label), self.walk(sub, file=file, where=where, depth=depth + 1)))
            return {"t": "map", "items": items, "type": ""}
        if isinstance(value, list | tuple | set | frozenset):
            seq = list(value) if not isinstance(value, set | frozenset) else sorted(value, key=str)
            shown = [
                self.walk(sub, file=file, where=f"{where}[{i}]", depth=depth + 1)
                for i, sub in enumerate(seq[:MAX_ITEMS])
            ]
            return {"t": "list", "items": shown, "more": max(0, len(seq) - MAX_ITEMS)}
        # a library object (an asn1crypto value): named, not walked
        return {"t": "text", "v": f"({type(value).__name__})"}


def _tags_hex(value: Any) -> Any:
    """Tags (ints) in a tag field as ``'5F0E'``; ``(tag, value)`` pairs keep their value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value:02X}" if value >= 0 else str(value)
    if isinstance(value, tuple | list):
        if len(value) == 2 and isinstance(value[0], int) and not isinstance(value[1], int):
            return (_tags_hex(value[0]), value[1])
        return [_tags_hex(v) for v in value]
    return value


def _text(value: str) -> dict[str, Any]:
    if len(value) > MAX_TEXT:
        return {"t": "text", "v": value[:MAX_TEXT], "cut": len(value) - MAX_TEXT}
    return {"t": "text", "v": value}


def _bytes(data: bytes, limit: int) -> dict[str, Any]:
    return {
        "t": "bytes",
        "size": len(data),
        "hex": data[:limit].hex(),
        "more": max(0, len(data) - limit),
    }


# -- the sections ------------------------------------------------------------------------------


def _faces(inspection: Inspection, images: _Images) -> tuple[list[dict[str, Any]], str | None]:
    """Every face of DG2, decoded (or why not); and DG2's parse error, if any."""
    try:
        dg2 = inspection.document.dg2
    except ParseError as exc:
        return [], str(exc)
    if dg2 is None:
        return [], None
    out = []
    for index, face in enumerate(dg2.faces):
        node = images.node(face.image, file="DG2", where=f"DG2 face {index + 1}")
        out.append(
            {
                "index": index,
                "format": face.image_format,
                "declared_format": face.declared_format,
                "detected_format": face.detected_format,
                "width": face.width,
                "height": face.height,
                "encoding": face.encoding,
                "image": node,
            }
        )
    return out, None


def _files(inspection: Inspection, walker: _Walker) -> list[dict[str, Any]]:
    """Every file of the document, in LDS order: its hash status and its decoded view."""
    document = inspection.document
    status = {dg.name: dg for dg in inspection.passive.data_groups}
    out = []
    for file in sorted(document.raw, key=lds_order):
        data = document.raw[file]
        entry: dict[str, Any] = {"label": file.label, "size": len(data), "view": None}
        result = status.get(file.label)
        if result is not None:
            entry["hash"] = result.to_dict()
        if file in _document.PARSERS:
            try:
                parsed = document.parsed(file)
            except ParseError as exc:
                entry["error"] = str(exc)
            except EpassError as exc:  # a parser must raise ParseError; show anything else too
                entry["error"] = f"{type(exc).__name__}: {exc}"
            else:
                entry["view"] = walker.walk(parsed, file=file.label, where=file.label)
        if entry["view"] is None:
            entry["hex"] = _bytes(data, MAX_HEX_BYTES)
        out.append(entry)
    return out


def _chain(
    report: Mapping[str, Any], checked_at: datetime, walker: _Walker
) -> list[dict[str, Any]]:
    """The certificate chain, anchor first: each certificate with its validity at *checked_at*."""
    out: list[dict[str, Any]] = []
    for role, key in (("CSCA (trust anchor)", "anchor"), ("Document Signer (DS)", "signer")):
        cert = report.get(key)
        if not isinstance(cert, Mapping):
            out.append({"role": role, "cert": None})
            continue
        state = "unknown"
        try:
            start = datetime.fromisoformat(str(cert["not_before"]))
            end = datetime.fromisoformat(str(cert["not_after"]))
            if checked_at < start:
                state = "not yet valid at the check time"
            elif checked_at > end:
                state = "expired at the check time"
            else:
                state = "valid at the check time"
        except (KeyError, ValueError, TypeError):
            pass
        shown = {k: v for k, v in cert.items() if k != "subject"}
        out.append({"role": role, "cert": dict(cert), "state": state, "node": walker.walk(shown)})
    return out


_CONSUMED = frozenset(
    {
        "schema",
        "epass_version",
        "source",
        "source_detail",
        "checked_at",
        "verdict",
        "reasons",
        "not_checked",
        "time_validity",
        "findings",
        "checks",
        "read",
        "document",
        "passive_authentication",
        "chip_authenticity",
    }
)


def render_html(inspection: Inspection, *, title: str | None = None) -> str:
    """The inspection as one self-contained HTML document (UTF-8 text).

    :param inspection: the result of :func:`epass.inspect` or :func:`epass.inspect_dump`.
    :param title: the heading (default: ``"epass inspection report"``).
    :returns: the HTML; it loads nothing and runs no script.

    Never raises for what the document holds: a file that does not parse, a
    face Pillow cannot decode, an image declaring more than
    :data:`~epass.report.images.MAX_FACE_PIXELS` pixels are each shown as such.
    """
    report = inspection.to_dict()
    images = _Images()
    walker = _Walker(images)
    faces, dg2_error = _faces(inspection, images)
    checks = report["checks"]
    by_name = {c["name"]: c for c in checks}
    sections: dict[str, list[dict[str, Any]]] = {}
    for check in checks:
        entry = dict(check)
        entry["evidence_node"] = walker.walk(check.get("evidence") or {})
        sections.setdefault(str(check["section"]), []).append(entry)
    proof = {dg.number: dg.status.value for dg in inspection.passive.data_groups}
    pa = report["passive_authentication"]
    chip = dict(report["chip_authenticity"])
    chip_checks = chip.pop("checks", [])
    chip_rest = {k: v for k, v in chip.items() if k not in ("status", "detail")}
    read = report.get("read")
    context = {
        "title": title or "epass inspection report",
        "r": report,
        "version": __version__,
        "reason_checks": [by_name.get(name, {"name": name}) for name in report["reasons"]],
        "holder": report["document"]["holder"],
        "dg1_status": proof.get(1),
        "dg2_status": proof.get(2),
        "faces": faces,
        "dg2_error": dg2_error,
        "sections": sections,
        "section_titles": {
            "read": "Reading the chip",
            "passive_authentication": "Passive authentication (ICAO 9303-11 §5.1)",
            "document": "The document as a whole",
            "chip_authenticity": "Chip authenticity (ICAO 9303-11 §6)",
        },
        "chain": _chain(pa, inspection.checked_at, walker),
        "pa": pa,
        "sod_node": walker.walk(pa.get("sod")),
        "chip": chip,
        "chip_rows": [
            next(
                (r for r in sections.get("chip_authenticity", ()) if r["name"] == c["name"]),
                {**c, "evidence_node": walker.walk(c.get("evidence") or {})},
            )
            for c in chip_checks
        ],
        "chip_rest": walker.walk(chip_rest) if chip_rest else None,
        "read": read,
        "access_node": walker.walk(read["access"]) if read else None,
        "capabilities_node": walker.walk(read.get("capabilities")) if read else None,
        "files": _files(inspection, walker),
        "extra": [(k, walker.walk(v)) for k, v in report.items() if k not in _CONSUMED],
    }
    template = _environment().get_template("report.html.j2")
    return template.render(context)
