"""Displayed images: DG5 (portrait) and DG7 (signature or usual mark), 9303-10 §4.7.5, §4.7.7.

::

    '65' DG5 / '67' DG7
        '02'   number of instances (1 byte)
        '5F40' displayed portrait (DG5) / '5F43' displayed signature or usual
               mark (DG7): the image, ISO/IEC 10918 (JPEG) or ISO/IEC
               15444 (JPEG 2000); repeated per instance

The images are exposed as bytes with the format their magic bytes tell;
decoding them is the display's job (Pillow). A declared length beyond the
bytes present (a "gigabyte" image) is refused by the TLV decoder before
anything is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from epass import tlv
from epass.errors import ParseError
from epass.lds import biometric as bio

__all__ = [
    "MAX_IMAGES",
    "DisplayedImage",
    "DisplayedImages",
    "encode_displayed_images",
    "parse_displayed_images",
]

TAG_INSTANCES = 0x02
#: Most images accepted: the number of instances is one byte.
MAX_IMAGES = 255


@dataclass(frozen=True)
class DisplayedImage:
    """One displayed image.

    :ivar image: the image bytes as stored.
    :ivar image_format: ``"JPEG"``, ``"JPEG2000"``, ``"PNG"`` or ``"UNKNOWN"``
        (from the magic bytes; 9303-10 allows JPEG and JPEG 2000).
    :ivar offset: where the image bytes start in the file.
    """

    image: bytes = field(repr=False)
    image_format: str
    offset: int

    @property
    def size(self) -> int:
        """The number of image bytes."""
        return len(self.image)


@dataclass(frozen=True)
class DisplayedImages:
    """The images of DG5 or DG7.

    :ivar images: every image, in order.
    :ivar raw: the bytes parsed (what the SOD hash covers).
    :ivar declared_instances: what ``'02'`` declares (``None`` if absent).
    :ivar problems: oddities that did not stop parsing: unknown tags (kept
        out of :attr:`images`), a count that disagrees, an image that is
        neither JPEG nor JPEG 2000.
    """

    images: tuple[DisplayedImage, ...]
    raw: bytes = field(repr=False)
    declared_instances: int | None = None
    problems: tuple[str, ...] = ()


_Group = TypeVar("_Group", bound=DisplayedImages)


def parse_displayed_images(
    data: bytes, result: type[_Group], *, file: str, tag: int, image_tag: int
) -> _Group:
    """Parse a displayed-image data group into *result* (DG5's or DG7's class).

    :raises ParseError: naming *file* and the offset on malformed TLV (an
        image length beyond the bytes present included), a malformed count,
        or more than :data:`MAX_IMAGES` images.
    """
    raw = bytes(data)
    top = tlv.decode_single(raw, file=file, expected_tag=tag)
    problems: list[str] = []
    declared: int | None = None
    images: list[DisplayedImage] = []
    for child in top.iter_children(file=file):
        if child.tag == TAG_INSTANCES and declared is None:
            if child.length != 1:
                raise ParseError(
                    f"number of instances of {child.length} bytes (expected 1)",
                    file=file,
                    offset=child.offset,
                )
            declared = child.view[0]
        elif child.tag == image_tag:
            if len(images) == MAX_IMAGES:
                raise ParseError(f"more than {MAX_IMAGES} images", file=file, offset=child.offset)
            image = child.value
            fmt = bio.detect_image_format(image)
            if not image:
                problems.append(f"image {len(images) + 1}: empty")
            elif fmt not in (bio.FORMAT_JPEG, bio.FORMAT_JPEG2000):
                problems.append(
                    f"image {len(images) + 1}: {fmt}, not JPEG or JPEG 2000 (offset "
                    f"{child.value_offset})"
                )
            images.append(DisplayedImage(image, fmt, child.value_offset))
        else:
            problems.append(
                f"unknown tag {child.tag:02X} at offset {child.offset} ({child.length} bytes, "
                "ignored)"
            )
    if declared is None:
        problems.append("number of instances '02' missing")
    elif declared != len(images):
        problems.append(f"'02' declares {declared} images, {len(images)} present")
    return result(tuple(images), raw, declared, tuple(problems))


def encode_displayed_images(tag: int, image_tag: int, images: Sequence[bytes]) -> bytes:
    """Encode a displayed-image data group holding *images* (the count first).

    :raises ValueError: for no image or more than :data:`MAX_IMAGES`.
    """
    if not images:
        raise ValueError("at least one image is needed")
    if len(images) > MAX_IMAGES:
        raise ValueError(f"at most {MAX_IMAGES} images")
    body = tlv.encode(TAG_INSTANCES, bytes([len(images)]))
    body += b"".join(tlv.encode(image_tag, bytes(image)) for image in images)
    return tlv.encode(tag, body)
