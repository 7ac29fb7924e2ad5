"""DG16, persons to notify (ICAO Doc 9303-10 §4.7.16).

::

    '70' DG16
        '02'   number of templates (persons)
        'A1'   template of the first person ('A2' the second, ... one tag per person)
            '5F50' date the data was recorded, CCYYMMDD (ASCII; BCD also read)
            '5F51' name of the person ('<' separators, as in the MRZ)
            '5F52' telephone
            '5F53' address ('<' separates the parts)

Text is decoded as in :mod:`epass.lds.dg11`: invalid characters are
replaced and reported, never raised; unknown tags are kept and reported.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from epass import tlv
from epass.errors import ParseError
from epass.lds.text import DateField, decode_date, decode_text, split_fields

__all__ = ["MAX_PERSONS", "Dg16", "PersonSpec", "PersonToNotify", "encode", "encode_dg16", "parse"]

FILE = "DG16"
TAG_DG16 = 0x70
TAG_COUNT = 0x02
TAG_DATE_RECORDED = 0x5F50
TAG_NAME = 0x5F51
TAG_TELEPHONE = 0x5F52
TAG_ADDRESS = 0x5F53
#: The first person's template; person *n* has ``0xA0 + n``.
TAG_FIRST_TEMPLATE = 0xA1
#: Most persons: one-byte context tags 'A1' to 'BE' (30 templates).
MAX_PERSONS = 30


@dataclass(frozen=True, repr=False)
class PersonToNotify:
    """One person to notify; a field is ``None`` when absent.

    :ivar date_recorded: when the data was recorded.
    :ivar name: as stored (``"SMITH<<JOHN"``); :attr:`address_parts` splits the address.
    :ivar unknown: ``(tag, value)`` of unknown objects in the template.
    """

    date_recorded: DateField | None = None
    name: str | None = None
    telephone: str | None = None
    address: str | None = None
    unknown: tuple[tuple[int, bytes], ...] = ()

    def __repr__(self) -> str:
        return "PersonToNotify(<personal data hidden>)"

    @property
    def address_parts(self) -> tuple[str, ...]:
        """:attr:`address` split at ``<``."""
        return () if self.address is None else split_fields(self.address)


@dataclass(frozen=True, repr=False)
class Dg16:
    """A parsed DG16.

    :ivar persons: every person, in template order.
    :ivar declared_count: what ``'02'`` declares (``None`` if absent).
    :ivar unknown: ``(tag, value)`` of unknown top-level objects.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar problems: what was not as specified.
    """

    persons: tuple[PersonToNotify, ...]
    declared_count: int | None
    unknown: tuple[tuple[int, bytes], ...]
    raw: bytes
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Dg16({len(self.persons)} persons, <personal data hidden>)"


def _person(template: tlv.Tlv, problems: list[str]) -> PersonToNotify:
    values: dict[int, tlv.Tlv] = {}
    unknown: list[tuple[int, bytes]] = []
    for child in template.iter_children(file=FILE):
        if child.tag in (TAG_DATE_RECORDED, TAG_NAME, TAG_TELEPHONE, TAG_ADDRESS):
            if child.tag in values:
                problems.append(f"tag {child.tag:02X} repeated at offset {child.offset}")
            else:
                values[child.tag] = child
        else:
            unknown.append((child.tag, child.value))
            problems.append(
                f"unknown tag {child.tag:02X} at offset {child.offset} ({child.length} bytes, kept)"
            )

    def text(tag: int) -> str | None:
        item = values.get(tag)
        if item is None:
            return None
        return decode_text(item.value, tag=tag, offset=item.value_offset, problems=problems)

    date = values.get(TAG_DATE_RECORDED)
    return PersonToNotify(
        date_recorded=None
        if date is None
        else decode_date(date.value, tag=date.tag, offset=date.value_offset, problems=problems),
        name=text(TAG_NAME),
        telephone=text(TAG_TELEPHONE),
        address=text(TAG_ADDRESS),
        unknown=tuple(unknown),
    )


def parse(data: bytes) -> Dg16:
    """Parse DG16 (Doc 9303-10 §4.7.16).

    :raises ParseError: naming ``DG16`` and the offset when the bytes are
        not a ``'70'`` TLV structure, the count is malformed, or there are
        more than :data:`MAX_PERSONS` templates.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG16)
    tlv.check_tree(top, file=FILE)
    problems: list[str] = []
    declared: int | None = None
    persons: list[PersonToNotify] = []
    unknown: list[tuple[int, bytes]] = []
    for child in top.iter_children(file=FILE):
        if child.tag == TAG_COUNT and declared is None:
            if child.length != 1:
                raise ParseError(
                    f"number of templates of {child.length} bytes", file=FILE, offset=child.offset
                )
            declared = child.view[0]
        elif TAG_FIRST_TEMPLATE <= child.tag < TAG_FIRST_TEMPLATE + MAX_PERSONS:
            if len(persons) == MAX_PERSONS:
                raise ParseError(
                    f"more than {MAX_PERSONS} persons to notify", file=FILE, offset=child.offset
                )
            expected = TAG_FIRST_TEMPLATE + len(persons)
            if child.tag != expected:
                problems.append(
                    f"template tag {child.tag:02X} at offset {child.offset} "
                    f"(expected {expected:02X})"
                )
            persons.append(_person(child, problems))
        else:
            unknown.append((child.tag, child.value))
            problems.append(
                f"unknown tag {child.tag:02X} at offset {child.offset} ({child.length} bytes, kept)"
            )
    if declared is None:
        problems.append("number of templates '02' missing")
    elif declared != len(persons):
        problems.append(f"'02' declares {declared} persons, {len(persons)} present")
    return Dg16(tuple(persons), declared, tuple(unknown), raw, tuple(problems))


@dataclass(frozen=True, repr=False)
class PersonSpec:
    """What :func:`encode` writes for one person (every field optional)."""

    name: str | None = None
    telephone: str | None = None
    address: str | None = None
    date_recorded: str | datetime.date | None = None

    def __repr__(self) -> str:
        return "PersonSpec(<personal data hidden>)"


def encode_dg16(persons: Sequence[PersonSpec]) -> bytes:
    """Encode DG16 for a test document: the count, then 'A1', 'A2', ... (9303-10 §4.7.16).

    :raises ValueError: for no person, more than :data:`MAX_PERSONS`, or a
        date that is not CCYYMMDD.
    """
    if not persons:
        raise ValueError("at least one person is needed")
    if len(persons) > MAX_PERSONS:
        raise ValueError(f"at most {MAX_PERSONS} persons")
    body = tlv.encode(TAG_COUNT, bytes([len(persons)]))
    for index, person in enumerate(persons):
        template = b""
        if person.date_recorded is not None:
            when = person.date_recorded
            text = when.strftime("%Y%m%d") if isinstance(when, datetime.date) else when
            if len(text) != 8 or not text.isdigit():
                raise ValueError(f"date recorded is CCYYMMDD, not {text!r}")
            template += tlv.encode(TAG_DATE_RECORDED, text.encode("ascii"))
        for tag, value in (
            (TAG_NAME, person.name),
            (TAG_TELEPHONE, person.telephone),
            (TAG_ADDRESS, person.address),
        ):
            if value is not None:
                template += tlv.encode(tag, value.encode("utf-8"))
        body += tlv.encode(TAG_FIRST_TEMPLATE + index, template)
    return tlv.encode(TAG_DG16, body)


#: The module-wide name every data group module has.
encode = encode_dg16
