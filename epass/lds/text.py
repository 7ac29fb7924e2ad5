"""Field decoding shared by the data groups of printed details (ICAO Doc 9303-10 §4.7.11-§4.7.16).

DG11, DG12 and DG16 hold text fields, dates and tag lists inside simple
BER-TLV templates. What chips carry is not always what the specification
says, so every decoder here is total: it returns a value and, when the
bytes were not as specified, appends a sentence to a ``problems`` list
instead of raising.

* **Text** is UTF-8 (9303-10 §4.7.11: fields in "national characters";
  the LDS text encoding is UTF-8, EF.COM's Unicode version). Bytes that are
  not UTF-8 are decoded with U+FFFD replacement; control characters (C0, C1
  and DEL, which could drive a terminal) are replaced by U+FFFD too. Either
  is reported, naming the tag and the offset.
* **Dates** are ``CCYYMMDD`` as eight ASCII digits (the specification), or
  four bytes of BCD (seen in the field, e.g. ``'5F26' '04' 20 21 09 15``);
  date-times (``'5F55'``) ``CCYYMMDDhhmmss`` as fourteen digits or seven
  BCD bytes. A date with unknown parts (``00`` for month or day, as 9303-3
  §4.8.2 allows for a date of birth) keeps its text and has no
  :class:`datetime.date`.
* **Tag lists** (``'5C'``, 9303-10 §4.7.11) are concatenated tags.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from epass import tlv

__all__ = [
    "DateField",
    "check_tag_list",
    "collect_fields",
    "decode_date",
    "decode_text",
    "decode_text_fields",
    "encode_tag_list",
    "parse_tag_list",
    "printable_text",
    "split_fields",
]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_REPLACEMENT = "\ufffd"


def decode_text(value: bytes, *, tag: int, offset: int, problems: list[str]) -> str:
    """*value* as UTF-8 text; invalid bytes and control characters become U+FFFD and are reported.

    :param tag: the field's tag, for the report.
    :param offset: the value's offset in its file, for the report.
    """
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            f"tag {tag:02X} at offset {offset + exc.start}: not UTF-8; "
            "shown with replacement characters"
        )
        text = value.decode("utf-8", "replace")
    if _CONTROL.search(text):
        problems.append(f"tag {tag:02X} at offset {offset}: control characters replaced by U+FFFD")
        text = _CONTROL.sub(_REPLACEMENT, text)
    return text


def printable_text(value: bytes) -> str | None:
    """*value* as text when it is UTF-8 without control characters (tabs and
    line breaks allowed), else ``None``: the text view of an opaque field."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(text.replace("\t", "").replace("\n", "").replace("\r", "")):
        return None
    return text


def split_fields(text: str) -> tuple[str, ...]:
    """A ``<``-separated field (place of birth, address, other numbers) as its parts.

    9303-10 §4.7.11 separates the parts of these fields with the filler
    ``<``; empty parts are dropped.
    """
    return tuple(part.strip() for part in text.split("<") if part.strip())


@dataclass(frozen=True)
class DateField:
    """A date or date-time field as stored.

    :ivar text: the digits (``"20210915"``, ``"20161115013612"``), as
        decoded from either encoding; what could not be decoded is shown in hex.
    :ivar encoding: ``"ASCII"`` or ``"BCD"`` (``"unknown"`` when neither).
    :ivar date: the calendar date, ``None`` when partly unknown or invalid.
    :ivar time: the date and time for a date-time field (naive: the LDS
        states no time zone), else ``None``.
    """

    text: str
    encoding: str
    date: datetime.date | None = None
    time: datetime.datetime | None = None


def _bcd(value: bytes) -> str | None:
    digits = value.hex()
    return digits if digits.isdigit() else None


def decode_date(
    value: bytes, *, tag: int, offset: int, problems: list[str], with_time: bool = False
) -> DateField:
    """Decode ``CCYYMMDD`` (or ``CCYYMMDDhhmmss`` if *with_time*) from ASCII digits or BCD.

    Never raises: anything else is reported in *problems* and kept as hex.
    """
    digits = 14 if with_time else 8
    text: str | None = None
    encoding = "unknown"
    if len(value) == digits and value.isdigit():
        text, encoding = value.decode("ascii"), "ASCII"
    elif len(value) == digits // 2:
        text = _bcd(value)
        if text is not None:
            encoding = "BCD"
    if text is None:
        what = "CCYYMMDDhhmmss" if with_time else "CCYYMMDD"
        problems.append(
            f"tag {tag:02X} at offset {offset}: {len(value)} bytes are not a {what} date "
            f"(ASCII digits or BCD)"
        )
        return DateField(value.hex().upper(), encoding)
    day: datetime.date | None = None
    when: datetime.datetime | None = None
    try:
        day = datetime.date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
        if with_time:
            when = datetime.datetime(
                day.year, day.month, day.day, int(text[8:10]), int(text[10:12]), int(text[12:14])
            )
    except ValueError:
        if text[4:6] != "00" and text[6:8] != "00":  # 00: unknown part, allowed
            problems.append(f"tag {tag:02X} at offset {offset}: {text} is not a valid date")
        else:
            problems.append(f"tag {tag:02X} at offset {offset}: date {text} is partly unknown")
    return DateField(text, encoding, day, when)


#: Longest tag list accepted (tags); a DG11 defines 14 tags, a DG12 10.
MAX_TAG_LIST = 64


def parse_tag_list(item: tlv.Tlv, *, file: str, problems: list[str]) -> tuple[int, ...]:
    """The tags a ``'5C'`` tag list names (9303-10 §4.7.11), as ints (``0x5F0E``).

    A tag cut short at the end, or more than :data:`MAX_TAG_LIST` tags, is
    reported and the list ends there.
    """
    value = item.view
    tags: list[int] = []
    pos = 0
    while pos < len(value):
        if len(tags) == MAX_TAG_LIST:
            problems.append(f"{file}: tag list longer than {MAX_TAG_LIST} tags (rest ignored)")
            break
        tag = value[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            for _ in range(tlv.MAX_TAG_BYTES - 1):
                if pos >= len(value):
                    problems.append(
                        f"{file}: tag list ends inside a tag (offset {item.value_offset + pos})"
                    )
                    return tuple(tags)
                byte = value[pos]
                tag = (tag << 8) | byte
                pos += 1
                if not byte & 0x80:
                    break
        tags.append(tag)
    return tuple(tags)


def encode_tag_list(tags: Iterable[int]) -> bytes:
    """A ``'5C'`` tag list object naming *tags*, in order."""
    return tlv.encode(0x5C, b"".join(tlv.encode_tag(t) for t in tags))


def collect_fields(
    top: tlv.Tlv, *, file: str, known: Iterable[int], problems: list[str]
) -> tuple[dict[int, tlv.Tlv], tuple[tuple[int, bytes], ...], tuple[int, ...] | None]:
    """Sort the children of a details template into known fields and the rest.

    :param known: the tags the data group defines (besides ``'5C'``).
    :returns: ``(fields by tag, unknown objects as (tag, value), the '5C'
        tag list or None)``. A repeated known tag keeps its first
        occurrence; unknown tags are kept and reported, never raised.
    :raises ParseError: if the template's value is not a TLV sequence.
    """
    wanted = frozenset(known)
    fields: dict[int, tlv.Tlv] = {}
    unknown: list[tuple[int, bytes]] = []
    tag_list: tuple[int, ...] | None = None
    for child in top.iter_children(file=file):
        if child.tag == 0x5C and tag_list is None:
            tag_list = parse_tag_list(child, file=file, problems=problems)
        elif child.tag in wanted:
            if child.tag in fields:
                problems.append(
                    f"tag {child.tag:02X} repeated at offset {child.offset} (first one shown)"
                )
            else:
                fields[child.tag] = child
        else:
            unknown.append((child.tag, child.value))
            problems.append(
                f"unknown tag {child.tag:02X} at offset {child.offset} ({child.length} bytes, kept)"
            )
    if tag_list is None:
        problems.append("tag list '5C' missing")
    return fields, tuple(unknown), tag_list


def decode_text_fields(
    fields: dict[int, tlv.Tlv], tags: Iterable[int], problems: list[str]
) -> dict[int, str]:
    """:func:`decode_text` of each of *tags* present in *fields*, by tag, in *tags* order.

    Invalid text is appended to *problems* (by :func:`decode_text`), never raised.
    """
    text: dict[int, str] = {}
    for tag in tags:
        item = fields.get(tag)
        if item is not None:
            text[tag] = decode_text(
                item.value, tag=tag, offset=item.value_offset, problems=problems
            )
    return text


def check_tag_list(
    tag_list: tuple[int, ...] | None, present: Iterable[int], problems: list[str]
) -> None:
    """Report tags the ``'5C'`` list names that are absent, and present tags it does not name."""
    if tag_list is None:
        return
    listed, found = set(tag_list), set(present)
    for tag in sorted(listed - found):
        problems.append(f"tag list names {tag:02X} but it is absent")
    for tag in sorted(found - listed):
        problems.append(f"tag {tag:02X} present but not in the tag list")
