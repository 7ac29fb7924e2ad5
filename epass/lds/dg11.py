"""DG11, additional personal details (ICAO Doc 9303-10 §4.7.11).

::

    '6B' DG11
        '5C'   tag list: the tags present
        '5F0E' full name of the holder in national characters ('<' separators:
               primary identifier '<<' secondary identifier)
        'A0'   other names: '02' number of other names, '5F0F' each name
        '5F10' personal number
        '5F2B' full date of birth, CCYYMMDD (also seen as 4 BCD bytes)
        '5F11' place of birth ('<' separates the parts)
        '5F42' permanent address ('<' separates the parts)
        '5F12' telephone
        '5F13' profession
        '5F14' title
        '5F15' personal summary
        '5F16' proof of citizenship: an image (ISO/IEC 10918)
        '5F17' other valid travel document numbers ('<' separated)
        '5F18' custody information

Every field is optional. Text is decoded by :func:`epass.lds.text.decode_text`:
invalid UTF-8 and control characters are replaced and reported in
:attr:`Dg11.problems`, never raised. Unknown tags are kept in
:attr:`Dg11.unknown` and reported.

Worked example (9303-10 Appendix A.5, with the two lengths the published
example gets wrong corrected: '6B' length 60, '5F12' length 0B)::

    6B 60 5C 0A 5F0E 5F11 5F42 5F12 5F13
          5F0E 0D "SMITH<<JOHN<J"   5F11 0A "ANYTOWN<MN"
          5F42 17 "123 MAPLE RD<ANYTOWN<MN"   5F12 0B "16125551212"
          5F13 0C "TRAVEL<AGENT"
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from epass import tlv
from epass.errors import ParseError
from epass.lds import biometric as bio
from epass.lds.text import (
    DateField,
    check_tag_list,
    collect_fields,
    decode_date,
    decode_text,
    decode_text_fields,
    encode_tag_list,
    split_fields,
)

__all__ = ["MAX_OTHER_NAMES", "Dg11", "encode", "encode_dg11", "parse"]

FILE = "DG11"
TAG_DG11 = 0x6B

TAG_FULL_NAME = 0x5F0E
TAG_OTHER_NAMES = 0xA0
TAG_OTHER_NAME = 0x5F0F
TAG_COUNT = 0x02
TAG_PERSONAL_NUMBER = 0x5F10
TAG_FULL_DATE_OF_BIRTH = 0x5F2B
TAG_PLACE_OF_BIRTH = 0x5F11
TAG_PERMANENT_ADDRESS = 0x5F42
TAG_TELEPHONE = 0x5F12
TAG_PROFESSION = 0x5F13
TAG_TITLE = 0x5F14
TAG_PERSONAL_SUMMARY = 0x5F15
TAG_PROOF_OF_CITIZENSHIP = 0x5F16
TAG_OTHER_TD_NUMBERS = 0x5F17
TAG_CUSTODY_INFORMATION = 0x5F18

_TEXT_TAGS = (
    TAG_FULL_NAME,
    TAG_PERSONAL_NUMBER,
    TAG_PLACE_OF_BIRTH,
    TAG_PERMANENT_ADDRESS,
    TAG_TELEPHONE,
    TAG_PROFESSION,
    TAG_TITLE,
    TAG_PERSONAL_SUMMARY,
    TAG_OTHER_TD_NUMBERS,
    TAG_CUSTODY_INFORMATION,
)
_KNOWN = (
    *_TEXT_TAGS,
    TAG_OTHER_NAMES,
    TAG_OTHER_NAME,
    TAG_FULL_DATE_OF_BIRTH,
    TAG_PROOF_OF_CITIZENSHIP,
)
#: Most other names accepted ('02' is one byte).
MAX_OTHER_NAMES = 255


@dataclass(frozen=True, repr=False)
class Dg11:
    """A parsed DG11; every field is ``None`` (or empty) when absent.

    :ivar full_name: as stored, ``<`` separators kept (``"SMITH<<JOHN<J"``);
        :attr:`name` splits it.
    :ivar other_names: each other name as stored.
    :ivar full_date_of_birth: the date, with its encoding (ASCII or BCD).
    :ivar place_of_birth: / :ivar permanent_address: as stored; the
        ``_parts`` properties split them at ``<``.
    :ivar proof_of_citizenship: the image bytes.
    :ivar other_valid_td_numbers: the numbers, split at ``<``.
    :ivar tag_list: the tags ``'5C'`` names (``None`` if absent).
    :ivar unknown: ``(tag, value)`` of every unknown object, kept as found.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar problems: what was not as specified (invalid text, dates, tag list
        mismatches, unknown tags).
    """

    full_name: str | None = None
    other_names: tuple[str, ...] = ()
    personal_number: str | None = None
    full_date_of_birth: DateField | None = None
    place_of_birth: str | None = None
    permanent_address: str | None = None
    telephone: str | None = None
    profession: str | None = None
    title: str | None = None
    personal_summary: str | None = None
    proof_of_citizenship: bytes | None = None
    other_valid_td_numbers: tuple[str, ...] = ()
    custody_information: str | None = None
    tag_list: tuple[int, ...] | None = None
    unknown: tuple[tuple[int, bytes], ...] = ()
    raw: bytes = b""
    problems: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"Dg11({len(self.raw)} bytes, <personal data hidden>)"

    @property
    def name(self) -> tuple[str, str] | None:
        """``(primary identifier, secondary identifier)`` from :attr:`full_name`.

        The full name is split at the first ``<<``; other ``<`` become spaces.
        """
        if self.full_name is None:
            return None
        primary, _sep, secondary = self.full_name.partition("<<")
        return " ".join(split_fields(primary)), " ".join(split_fields(secondary))

    @property
    def place_of_birth_parts(self) -> tuple[str, ...]:
        """:attr:`place_of_birth` split at ``<`` (``("ANYTOWN", "MN")``)."""
        return () if self.place_of_birth is None else split_fields(self.place_of_birth)

    @property
    def permanent_address_parts(self) -> tuple[str, ...]:
        """:attr:`permanent_address` split at ``<``."""
        return () if self.permanent_address is None else split_fields(self.permanent_address)

    @property
    def date_of_birth(self) -> datetime.date | None:
        """The full date of birth as a date, ``None`` if absent or partly unknown."""
        return None if self.full_date_of_birth is None else self.full_date_of_birth.date

    @property
    def proof_of_citizenship_format(self) -> str | None:
        """The image format of :attr:`proof_of_citizenship` by its magic bytes."""
        if self.proof_of_citizenship is None:
            return None
        return bio.detect_image_format(self.proof_of_citizenship)


def _other_names(fields: dict[int, tlv.Tlv], problems: list[str]) -> tuple[str, ...]:
    names: list[str] = []
    declared: int | None = None
    group = fields.get(TAG_OTHER_NAMES)
    items: list[tlv.Tlv] = []
    if group is not None:
        for child in group.iter_children(file=FILE):
            if child.tag == TAG_COUNT and declared is None:
                if child.length != 1:
                    raise ParseError(
                        f"number of other names of {child.length} bytes",
                        file=FILE,
                        offset=child.offset,
                    )
                declared = child.view[0]
            elif child.tag == TAG_OTHER_NAME:
                items.append(child)
            else:
                problems.append(
                    f"unknown tag {child.tag:02X} in 'A0' at offset {child.offset} (ignored)"
                )
        if declared is None:
            problems.append("number of other names '02' missing in 'A0'")
    loose = fields.get(TAG_OTHER_NAME)
    if loose is not None:  # some issuers put '5F0F' directly in '6B'
        items.append(loose)
    if len(items) > MAX_OTHER_NAMES:
        raise ParseError(
            f"more than {MAX_OTHER_NAMES} other names", file=FILE, offset=items[-1].offset
        )
    for item in items:
        names.append(
            decode_text(item.value, tag=item.tag, offset=item.value_offset, problems=problems)
        )
    if declared is not None and declared != len(items):
        problems.append(f"'02' declares {declared} other names, {len(items)} present")
    return tuple(names)


def parse(data: bytes) -> Dg11:
    """Parse DG11 (Doc 9303-10 §4.7.11).

    Never raises for the content of a field: invalid characters, malformed
    dates, unknown tags and tag-list mismatches are reported in
    :attr:`Dg11.problems`.

    :raises ParseError: naming ``DG11`` and the offset when the bytes are
        not a ``'6B'`` TLV structure (truncated, garbage, trailing bytes) or
        the other-names count is malformed.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=FILE, expected_tag=TAG_DG11)
    tlv.check_tree(top, file=FILE)
    problems: list[str] = []
    fields, unknown, tag_list = collect_fields(top, file=FILE, known=_KNOWN, problems=problems)
    present = {TAG_OTHER_NAME if t == TAG_OTHER_NAMES else t for t in fields}
    check_tag_list(tag_list, present, problems)
    text = decode_text_fields(fields, _TEXT_TAGS, problems)
    birth = fields.get(TAG_FULL_DATE_OF_BIRTH)
    proof = fields.get(TAG_PROOF_OF_CITIZENSHIP)
    other_numbers = text.get(TAG_OTHER_TD_NUMBERS)
    return Dg11(
        full_name=text.get(TAG_FULL_NAME),
        other_names=_other_names(fields, problems),
        personal_number=text.get(TAG_PERSONAL_NUMBER),
        full_date_of_birth=None
        if birth is None
        else decode_date(birth.value, tag=birth.tag, offset=birth.value_offset, problems=problems),
        place_of_birth=text.get(TAG_PLACE_OF_BIRTH),
        permanent_address=text.get(TAG_PERMANENT_ADDRESS),
        telephone=text.get(TAG_TELEPHONE),
        profession=text.get(TAG_PROFESSION),
        title=text.get(TAG_TITLE),
        personal_summary=text.get(TAG_PERSONAL_SUMMARY),
        proof_of_citizenship=None if proof is None else proof.value,
        other_valid_td_numbers=() if other_numbers is None else split_fields(other_numbers),
        custody_information=text.get(TAG_CUSTODY_INFORMATION),
        tag_list=tag_list,
        unknown=unknown,
        raw=raw,
        problems=tuple(problems),
    )


def _date_bytes(value: str | datetime.date, encoding: str) -> bytes:
    text = value.strftime("%Y%m%d") if isinstance(value, datetime.date) else value
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"a date is CCYYMMDD, not {text!r}")
    if encoding == "ASCII":
        return text.encode("ascii")
    if encoding == "BCD":
        return bytes.fromhex(text)
    raise ValueError(f"date encoding is 'ASCII' or 'BCD', not {encoding!r}")


def encode_dg11(
    *,
    full_name: str | None = None,
    other_names: Sequence[str] = (),
    personal_number: str | None = None,
    full_date_of_birth: str | datetime.date | None = None,
    place_of_birth: str | None = None,
    permanent_address: str | None = None,
    telephone: str | None = None,
    profession: str | None = None,
    title: str | None = None,
    personal_summary: str | None = None,
    proof_of_citizenship: bytes | None = None,
    other_valid_td_numbers: Sequence[str] = (),
    custody_information: str | None = None,
    date_encoding: str = "ASCII",
) -> bytes:
    """Encode DG11 for a test document (9303-10 §4.7.11), fields in the table's order.

    Text is written as UTF-8 as given (use ``<`` separators where the
    specification wants them); the tag list names every field written.

    :param date_encoding: ``"ASCII"`` (the specification) or ``"BCD"``.
    :raises ValueError: for a malformed date or more than 255 other names.
    """
    if len(other_names) > MAX_OTHER_NAMES:
        raise ValueError(f"at most {MAX_OTHER_NAMES} other names")
    objects: list[tuple[int, bytes]] = []

    def text(tag: int, value: str | None) -> None:
        if value is not None:
            objects.append((tag, tlv.encode(tag, value.encode("utf-8"))))

    text(TAG_FULL_NAME, full_name)
    if other_names:
        body = tlv.encode(TAG_COUNT, bytes([len(other_names)]))
        body += b"".join(tlv.encode(TAG_OTHER_NAME, n.encode("utf-8")) for n in other_names)
        objects.append((TAG_OTHER_NAME, tlv.encode(TAG_OTHER_NAMES, body)))
    text(TAG_PERSONAL_NUMBER, personal_number)
    if full_date_of_birth is not None:
        objects.append(
            (
                TAG_FULL_DATE_OF_BIRTH,
                tlv.encode(TAG_FULL_DATE_OF_BIRTH, _date_bytes(full_date_of_birth, date_encoding)),
            )
        )
    text(TAG_PLACE_OF_BIRTH, place_of_birth)
    text(TAG_PERMANENT_ADDRESS, permanent_address)
    text(TAG_TELEPHONE, telephone)
    text(TAG_PROFESSION, profession)
    text(TAG_TITLE, title)
    text(TAG_PERSONAL_SUMMARY, personal_summary)
    if proof_of_citizenship is not None:
        objects.append(
            (TAG_PROOF_OF_CITIZENSHIP, tlv.encode(TAG_PROOF_OF_CITIZENSHIP, proof_of_citizenship))
        )
    if other_valid_td_numbers:
        text(TAG_OTHER_TD_NUMBERS, "<".join(other_valid_td_numbers))
    text(TAG_CUSTODY_INFORMATION, custody_information)
    body = encode_tag_list(tag for tag, _ in objects) + b"".join(o for _, o in objects)
    return tlv.encode(TAG_DG11, body)


#: The module-wide name every data group module has.
encode = encode_dg11
