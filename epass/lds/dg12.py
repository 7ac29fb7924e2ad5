"""DG12, additional document details (ICAO Doc 9303-10 §4.7.12).

::

    '6C' DG12
        '5C'   tag list: the tags present
        '5F19' issuing authority
        '5F26' date of issue, CCYYMMDD: eight ASCII digits (the
               specification) or four BCD bytes (seen in the field:
               '5F26' '04' 20 21 09 15)
        'A0'   other persons: '02' number of persons, '5F1A' each name
        '5F1B' endorsements and observations
        '5F1C' tax or exit requirements
        '5F1D' image of the front of the document (ISO/IEC 10918)
        '5F1E' image of the rear of the document (ISO/IEC 10918)
        '5F55' date and time of personalization, CCYYMMDDhhmmss (ASCII, or 7 BCD bytes)
        '5F56' serial number of the personalization system

Every field is optional. Text fields are decoded as in
:mod:`epass.lds.dg11`: invalid characters are replaced and reported.
The date of issue is also the fallback signing time of passive
authentication (:func:`epass.pa.policy.dg12_date_of_issue`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from epass import tlv
from epass.errors import ParseError
from epass.lds.text import (
    DateField,
    check_tag_list,
    collect_fields,
    decode_date,
    decode_text,
    decode_text_fields,
    encode_tag_list,
)

__all__ = ["MAX_OTHER_PERSONS", "Dg12", "encode", "encode_dg12", "parse"]

FILE = "DG12"
TAG_DG12 = 0x6C

TAG_ISSUING_AUTHORITY = 0x5F19
TAG_DATE_OF_ISSUE = 0x5F26
TAG_OTHER_PERSONS = 0xA0
TAG_OTHER_PERSON = 0x5F1A
TAG_COUNT = 0x02
TAG_ENDORSEMENTS = 0x5F1B
TAG_TAX_EXIT = 0x5F1C
TAG_FRONT_IMAGE = 0x5F1D
TAG_REAR_IMAGE = 0x5F1E
TAG_PERSONALIZATION_TIME = 0x5F55
TAG_PERSONALIZATION_DEVICE = 0x5F56

_TEXT_TAGS = (
    TAG_ISSUING_AUTHORITY,
    TAG_ENDORSEMENTS,
    TAG_TAX_EXIT,
    TAG_PERSONALIZATION_DEVICE,
)
_KNOWN = (
    *_TEXT_TAGS,
    TAG_DATE_OF_ISSUE,
    TAG_OTHER_PERSONS,
    TAG_OTHER_PERSON,
    TAG_FRONT_IMAGE,
    TAG_REAR_IMAGE,
    TAG_PERSONALIZATION_TIME,
)
#: Most other persons accepted ('02' is one byte).
MAX_OTHER_PERSONS = 255


@dataclass(frozen=True, repr=False)
class Dg12:
    """A parsed DG12; every field is ``None`` (or empty) when absent.

    :ivar date_of_issue: with its encoding (``"ASCII"`` or ``"BCD"``);
        :attr:`issue_date` is the calendar date.
    :ivar other_persons: names of other persons included in the document, as stored.
    :ivar front_image: / :ivar rear_image: image bytes.
    :ivar personalization_time: date and time of personalization.
    :ivar personalization_device: serial number of the personalization system.
    :ivar tag_list: the tags ``'5C'`` names (``None`` if absent).
    :ivar unknown: ``(tag, value)`` of every unknown object, kept as found.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar problems: what was not as specified.
    """

    issuing_authority: str | None = None
    date_of_issue: DateField | None = None
    other_persons: tuple[str, ...] = ()
    endorsements: str | None = None
    tax_exit_requirements: str | None = None
    front_image: bytes | None = None
    rear_image: bytes | None = None
    personalization_time: DateField | None = None
    personalization_device: str | None = None
    tag_list: tuple[int, ...] | None = None
    unknown: tuple[tuple[int, bytes], ...] = ()
    raw: bytes = b""
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Dg12({len(self.raw)} bytes, <document details hidden>)"

    @property
    def issue_date(self) -> datetime.date | None:
        """The date of issue as a date, ``None`` if absent or not a valid date."""
        return None if self.date_of_issue is None else self.date_of_issue.date


def _other_persons(group: tlv.Tlv | None, problems: list[str]) -> tuple[str, ...]:
    if group is None:
        return ()
    declared: int | None = None
    names: list[str] = []
    for child in group.iter_children(file=FILE):
        if child.tag == TAG_COUNT and declared is None:
            if child.length != 1:
                raise ParseError(
                    f"number of other persons of {child.length} bytes",
                    file=FILE,
                    offset=child.offset,
                )
            declared = child.view[0]
        elif child.tag == TAG_OTHER_PERSON:
            if len(names) == MAX_OTHER_PERSONS:
                raise ParseError(
                    f"more than {MAX_OTHER_PERSONS} other persons", file=FILE, offset=child.offset
                )
            names.append(
                decode_text(
                    child.value, tag=child.tag, offset=child.value_offset, problems=problems
                )
            )
        else:
            problems.append(
                f"unknown tag {child.tag:02X} in 'A0' at offset {child.offset} (ignored)"
            )
    if declared is None:
        problems.append("number of other persons '02' missing in 'A0'")
    elif declared != len(names):
        problems.append(f"'02' declares {declared} other persons, {len(names)} present")
    return tuple(names)


def parse(data: bytes) -> Dg12:
    """Parse DG12 (Doc 9303-10 §4.7.12).

    Dates in ASCII or BCD are both accepted (:attr:`DateField.encoding`
    says which); field content never raises.

    :raises ParseError: naming ``DG12`` and the offset when the bytes are
        not a ``'6C'`` TLV structure or the other-persons count is malformed.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG12)
    tlv.check_tree(top, file=FILE)
    problems: list[str] = []
    fields, unknown, tag_list = collect_fields(top, file=FILE, known=_KNOWN, problems=problems)
    present = {TAG_OTHER_PERSON if t == TAG_OTHER_PERSONS else t for t in fields}
    check_tag_list(tag_list, present, problems)
    text = decode_text_fields(fields, _TEXT_TAGS, problems)

    def date(tag: int, with_time: bool = False) -> DateField | None:
        item = fields.get(tag)
        if item is None:
            return None
        return decode_date(
            item.value, tag=tag, offset=item.value_offset, problems=problems, with_time=with_time
        )

    def image(tag: int) -> bytes | None:
        item = fields.get(tag)
        return None if item is None else item.value

    others = fields.get(TAG_OTHER_PERSONS)
    loose = fields.get(TAG_OTHER_PERSON)
    persons = _other_persons(others, problems)
    if loose is not None:  # '5F1A' directly in '6C'
        persons += (
            decode_text(loose.value, tag=loose.tag, offset=loose.value_offset, problems=problems),
        )
    return Dg12(
        issuing_authority=text.get(TAG_ISSUING_AUTHORITY),
        date_of_issue=date(TAG_DATE_OF_ISSUE),
        other_persons=persons,
        endorsements=text.get(TAG_ENDORSEMENTS),
        tax_exit_requirements=text.get(TAG_TAX_EXIT),
        front_image=image(TAG_FRONT_IMAGE),
        rear_image=image(TAG_REAR_IMAGE),
        personalization_time=date(TAG_PERSONALIZATION_TIME, with_time=True),
        personalization_device=text.get(TAG_PERSONALIZATION_DEVICE),
        tag_list=tag_list,
        unknown=unknown,
        raw=raw,
        problems=tuple(problems),
    )


def _digits(value: str | datetime.date, n: int, encoding: str) -> bytes:
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y%m%d%H%M%S")
    elif isinstance(value, datetime.date):
        text = value.strftime("%Y%m%d")
    else:
        text = value
    if len(text) != n or not text.isdigit():
        raise ValueError(f"expected {n} digits, not {text!r}")
    if encoding == "ASCII":
        return text.encode("ascii")
    if encoding == "BCD":
        return bytes.fromhex(text)
    raise ValueError(f"date encoding is 'ASCII' or 'BCD', not {encoding!r}")


def encode_dg12(
    *,
    issuing_authority: str | None = None,
    date_of_issue: str | datetime.date | None = None,
    other_persons: Sequence[str] = (),
    endorsements: str | None = None,
    tax_exit_requirements: str | None = None,
    front_image: bytes | None = None,
    rear_image: bytes | None = None,
    personalization_time: str | datetime.datetime | None = None,
    personalization_device: str | None = None,
    date_encoding: str = "ASCII",
) -> bytes:
    """Encode DG12 for a test document (9303-10 §4.7.12), fields in the table's order.

    :param date_encoding: ``"ASCII"`` (the specification) or ``"BCD"`` (seen
        in the field), for both the date of issue and the personalization time.
    :raises ValueError: for a malformed date or more than 255 other persons.
    """
    if len(other_persons) > MAX_OTHER_PERSONS:
        raise ValueError(f"at most {MAX_OTHER_PERSONS} other persons")
    objects: list[tuple[int, bytes]] = []

    def put(tag: int, value: bytes | None) -> None:
        if value is not None:
            objects.append((tag, tlv.encode(tag, value)))

    def utf8(value: str | None) -> bytes | None:
        return None if value is None else value.encode("utf-8")

    put(TAG_ISSUING_AUTHORITY, utf8(issuing_authority))
    if date_of_issue is not None:
        put(TAG_DATE_OF_ISSUE, _digits(date_of_issue, 8, date_encoding))
    if other_persons:
        body = tlv.encode(TAG_COUNT, bytes([len(other_persons)]))
        body += b"".join(tlv.encode(TAG_OTHER_PERSON, p.encode("utf-8")) for p in other_persons)
        objects.append((TAG_OTHER_PERSON, tlv.encode(TAG_OTHER_PERSONS, body)))
    put(TAG_ENDORSEMENTS, utf8(endorsements))
    put(TAG_TAX_EXIT, utf8(tax_exit_requirements))
    put(TAG_FRONT_IMAGE, front_image)
    put(TAG_REAR_IMAGE, rear_image)
    if personalization_time is not None:
        put(TAG_PERSONALIZATION_TIME, _digits(personalization_time, 14, date_encoding))
    put(TAG_PERSONALIZATION_DEVICE, utf8(personalization_device))
    body = encode_tag_list(tag for tag, _ in objects) + b"".join(o for _, o in objects)
    return tlv.encode(TAG_DG12, body)


#: The module-wide name every data group module has.
encode = encode_dg12
