"""Every parser refuses 16 MB of junk with a ParseError naming the file, in bounded memory.

The parsers are linear in their input and copy nothing per element, so junk
is refused after a few bytes or after a bounded number of objects
(``tlv.MAX_ITEMS``, ``security_infos.MAX_INFOS``, ``dg2.MAX_FACES``...), even
without the size bounds :class:`~epass.lds.document.Document` applies first.
Time is measured by ``tools/fuzz.py --junk``, not here; memory is asserted
with tracemalloc (the input itself is allocated before tracing starts).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from epass import tlv
from epass.errors import ParseError
from epass.lds import com, dg1, dg2, dg14, dg15, mrz, security_infos
from epass.lds.document import Document
from epass.lds.files import LdsFile

SIZE = 16 << 20
BODY = SIZE - 16
#: Peak of extra memory a parse may take: a few copies of a 16 MB input at most.
PEAK_BOUND = 64 << 20

enc = tlv.encode


def _fill(unit: bytes, n: int = BODY) -> bytes:
    return unit * (n // len(unit))


def _card_access(data: bytes) -> object:
    return security_infos.parse_security_infos(data, file="EF.CardAccess")


def _tlv_tree(data: bytes) -> object:
    return [tlv.check_tree(item, file="TLV") for item in tlv.iter_decode(data, file="TLV")]


PARSERS: dict[str, tuple[int, Callable[[bytes], object]]] = {
    "EF.COM": (0x60, com.parse),
    "DG1": (0x61, dg1.parse),
    "DG2": (0x75, dg2.parse),
    "DG14": (0x6E, dg14.parse),
    "DG15": (0x6F, dg15.parse),
    "EF.CardAccess": (0x31, _card_access),
    "TLV": (0x30, _tlv_tree),
}

_PACE_OID = bytes.fromhex("060A04007F00070202040202")
_RSA_ALGORITHM = enc(0x30, bytes.fromhex("06092A864886F70D010101") + enc(0x05, b""))
_RECORD = b"FAC\x00010\x00" + BODY.to_bytes(4, "big") + (2).to_bytes(2, "big")
# Face 1 spans the whole record (its image is ~16 MB); face 2 is then cut off.
_FACE = (BODY - 40).to_bytes(4, "big") + bytes(16)

#: A huge value inside the deepest container each parser opens.
DEEP: list[tuple[str, str, bytes]] = [
    ("EF.COM", "tag list", enc(0x60, enc(0x5C, _fill(b"\x61")))),
    ("DG1", "MRZ", enc(0x61, enc(0x5F1F, _fill(b"A")))),
    (
        "DG2",
        "19794 record",
        enc(
            0x75,
            enc(
                0x7F61,
                enc(0x02, b"\x01") + enc(0x7F60, enc(0x5F2E, _RECORD + _FACE + bytes(BODY - 60))),
            ),
        ),
    ),
    ("DG2", "templates", enc(0x75, enc(0x7F61, _fill(enc(0x7F60, b""))))),
    (
        "DG2",
        "39794 blocks",
        enc(0x75, enc(0x7F61, enc(0x7F60, enc(0x7F2E, enc(0xA1, _fill(enc(0xA1, b""))))))),
    ),
    ("DG14", "element", enc(0x6E, enc(0x31, enc(0x30, _PACE_OID + enc(0x04, bytes(BODY)))))),
    ("DG14", "elements", enc(0x6E, enc(0x31, _fill(enc(0x30, _PACE_OID + enc(0x02, b"\x02")))))),
    ("DG14", "long tag", enc(0x6E, enc(0x31, enc(0x30, _PACE_OID + b"\x1f" + _fill(b"\xff"))))),
    ("DG15", "key", enc(0x6F, enc(0x30, _RSA_ALGORITHM + enc(0x03, bytes(BODY))))),
    ("DG15", "long tag", enc(0x6F, enc(0x30, b"\x1f" + _fill(b"\xff")))),
    ("EF.CardAccess", "elements", enc(0x31, _fill(enc(0x30, b"")))),
]


def _cases() -> list[tuple[str, str]]:
    generic = ["zeros", "FF", "wrapped zeros", "wrapped FF", "repeated 0200", "nested 30"]
    out = [(name, kind) for name in PARSERS for kind in generic]
    return out + [(name, kind) for name, kind, _ in DEEP]


def _junk(name: str, kind: str) -> bytes:
    tag = PARSERS[name][0]
    generic = {
        "zeros": lambda: bytes(SIZE),
        "FF": lambda: b"\xff" * SIZE,
        "wrapped zeros": lambda: enc(tag, bytes(BODY)),
        "wrapped FF": lambda: enc(tag, b"\xff" * BODY),
        "repeated 0200": lambda: enc(tag, _fill(b"\x02\x00")),
        # a constructed object claiming 800 MB, repeated: only the first is looked at
        "nested 30": lambda: enc(tag, _fill(b"\x30\x84") + bytes(4)),
    }
    if kind in generic:
        return generic[kind]()
    return next(data for n, k, data in DEEP if (n, k) == (name, kind))


def _peak_of(fn: Callable[[], object]) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        fn()
    except BaseException as exc:
        error: BaseException | None = exc
    else:
        error = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, peak


@pytest.mark.parametrize("name, kind", _cases())
def test_junk_is_a_parse_error_naming_the_file_in_bounded_memory(name, kind):
    data = _junk(name, kind)
    assert len(data) >= BODY
    error, peak = _peak_of(lambda: PARSERS[name][1](data))
    assert isinstance(error, ParseError), f"{name} {kind}: {error!r}"
    assert error.file == name
    assert error.offset is not None and 0 <= error.offset <= len(data)
    assert peak < PEAK_BOUND, f"{name} {kind}: {peak / 2**20:.1f} MB"


@pytest.mark.parametrize("text", ["A" * SIZE, " " * SIZE, "P<UTO" + "<" * SIZE], ids=str.__len__)
def test_mrz_text_is_bounded_before_it_is_split(text):
    error, peak = _peak_of(lambda: mrz.parse(text))
    assert isinstance(error, ParseError)
    assert f"at most {mrz.MAX_TEXT}" in str(error)
    assert peak < 1 << 20  # nothing of the text is copied


@pytest.mark.parametrize("file", [LdsFile.DG1, LdsFile.DG2, LdsFile.DG14, LdsFile.DG15])
def test_document_refuses_oversize_files_before_parsing(file):
    doc = Document({file: bytes(SIZE)})
    error, peak = _peak_of(lambda: doc.parsed(file))
    assert isinstance(error, ParseError)
    assert error.file == file.label
    assert peak < 1 << 20


def test_repeated_objects_stop_at_max_items():
    data = _fill(b"\x02\x00", 2 * (tlv.MAX_ITEMS + 1))
    assert len(tlv.decode_all(data[: 2 * tlv.MAX_ITEMS], file="X")) == tlv.MAX_ITEMS
    with pytest.raises(ParseError, match=f"more than {tlv.MAX_ITEMS}") as info:
        tlv.decode_all(data, file="X")
    assert info.value.offset == 2 * tlv.MAX_ITEMS


def test_padding_bytes_are_not_tags_unless_asked():
    with pytest.raises(ParseError, match="'00' is not a tag"):
        tlv.decode_all(bytes.fromhex("020101 0000"), file="EF.ATR/INFO")
    with pytest.raises(ParseError, match="'FF' is not a tag"):
        tlv.decode(bytes.fromhex("FF0100"))
    items = tlv.decode_all(bytes.fromhex("00 020101 FFFF 020102 00"), padding=True)
    assert [(i.tag, i.value, i.offset) for i in items] == [(2, b"\x01", 1), (2, b"\x02", 6)]


def test_children_share_the_buffer_instead_of_copying():
    inner = enc(0x04, bytes(1000))  # 04 8203E8 + value
    middle = enc(0x30, inner)  # 30 8203EC + inner
    data = enc(0x30, middle * 3)  # 30 820BD0 + 3 x middle
    top = tlv.decode_single(data)
    child = top.children()[1]
    grandchild = child.require(0x04)
    assert grandchild.view.obj is data  # a view of the caller's bytes, no copy
    assert child.offset == 4 + len(middle)
    assert grandchild.offset == child.offset + 4
    assert grandchild.value == bytes(1000)
    assert grandchild.encoded == inner


def test_a_view_over_bytes_is_decoded_in_place_and_a_bytearray_is_copied():
    data = enc(0x30, enc(0x04, b"abc"))
    view = memoryview(data)[2:]
    item = tlv.decode_single(view, base=2)
    assert item.view.obj is data
    assert (item.offset, item.value_offset, item.value) == (2, 4, b"abc")
    mutable = bytearray(data)
    copied = tlv.decode_single(mutable)
    mutable[4] = ord("X")
    assert copied.require(0x04).value == b"abc"


def test_check_tree_bounds_depth_and_count():
    nested = b""
    for _ in range(5):
        nested = enc(0x30, nested)
    item = tlv.decode_single(nested)
    assert tlv.check_tree(item) == 5
    with pytest.raises(ParseError, match="nesting deeper than 3"):
        tlv.check_tree(item, max_depth=3)
    with pytest.raises(ParseError, match="more than 4 data objects"):
        tlv.check_tree(item, max_items=4)


# --- the bounds each parser adds on top of the TLV codec ---------------------------------


def _dg2_record(count: int, points: int) -> bytes:
    """A DG2 whose one 19794-5 record declares *count* faces, the first with *points* points."""
    face = (
        (20 + 8 * points + 12).to_bytes(4, "big")
        + points.to_bytes(2, "big")
        + bytes(14)
        + bytes(8 * points)
        + bytes(12)
    )
    record = b"FAC\x00010\x00" + (14 + len(face)).to_bytes(4, "big") + count.to_bytes(2, "big")
    bit = enc(0x7F60, enc(0x5F2E, record + face))
    return enc(0x75, enc(0x7F61, enc(0x02, b"\x01") + bit))


def test_dg2_face_and_feature_point_counts_are_bounded():
    assert len(dg2.parse(_dg2_record(1, dg2.MAX_FEATURE_POINTS)).faces[0].feature_points) == 255
    with pytest.raises(ParseError, match="feature points") as info:
        dg2.parse(_dg2_record(1, dg2.MAX_FEATURE_POINTS + 1))
    assert info.value.file == "DG2"
    with pytest.raises(ParseError, match=f"more than the {dg2.MAX_FACES}"):
        dg2.parse(_dg2_record(dg2.MAX_FACES + 1, 0))
    with pytest.raises(ParseError, match="truncated"):  # within the bound: the count is checked
        dg2.parse(_dg2_record(dg2.MAX_FACES, 0))


def test_dg15_key_der_is_shape_checked_before_asn1crypto():
    # An RSA key whose RSAPublicKey starts with a tag of 200 continuation bytes: asn1crypto's
    # cost on such a tag is quadratic, so the DER is checked first.
    key = enc(0x03, b"\x00" + b"\x3f" + b"\xff" * 200 + b"\x01\x00")
    data = enc(0x6F, enc(0x30, _RSA_ALGORITHM + key))
    with pytest.raises(ParseError, match="tag longer than 3 bytes") as info:
        dg15.parse(data)
    assert info.value.file == "DG15"
    assert info.value.offset == data.index(b"\x3f\xff")


def test_security_info_shape_is_checked_before_asn1crypto():
    deep = _PACE_OID + enc(0x02, b"\x02")
    for _ in range(tlv.MAX_DEPTH):
        deep = enc(0x30, deep)
    with pytest.raises(ParseError, match="nesting deeper") as info:
        dg14.parse(enc(0x6E, enc(0x31, enc(0x30, _PACE_OID + deep))))
    assert info.value.file == "DG14"
    one = enc(0x30, _PACE_OID + enc(0x02, b"\x02"))
    assert len(security_infos.parse_security_infos(enc(0x31, one * 3), file="X").infos) == 3
    with pytest.raises(ParseError, match=f"more than {security_infos.MAX_INFOS}"):
        security_infos.parse_security_infos(
            enc(0x31, one * (security_infos.MAX_INFOS + 1)), file="X"
        )


def test_com_tag_list_is_bounded():
    ok = enc(0x60, enc(0x5C, b"\x61" * com.MAX_TAG_LIST))
    assert len(com.parse(ok).tags) == com.MAX_TAG_LIST
    with pytest.raises(ParseError, match="tag list of 257 bytes"):
        com.parse(enc(0x60, enc(0x5C, b"\x61" * (com.MAX_TAG_LIST + 1))))
