"""DG5, the displayed portrait (ICAO Doc 9303-10 §4.7.5).

::

    '65' DG5
        '02'   number of instances
        '5F40' displayed portrait: JPEG (ISO/IEC 10918) or JPEG 2000 (ISO/IEC 15444)

See :mod:`epass.lds.displayed_image` for what is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from epass.lds.displayed_image import (
    DisplayedImage,
    DisplayedImages,
    encode_displayed_images,
    parse_displayed_images,
)

__all__ = ["Dg5", "DisplayedImage", "encode", "encode_dg5", "parse"]

FILE = "DG5"
TAG_DG5 = 0x65
TAG_DISPLAYED_PORTRAIT = 0x5F40


@dataclass(frozen=True)
class Dg5(DisplayedImages):
    """A parsed DG5: :attr:`images` are the displayed portraits."""

    @property
    def portraits(self) -> tuple[DisplayedImage, ...]:
        """The displayed portraits (same as :attr:`images`)."""
        return self.images


def parse(data: bytes) -> Dg5:
    """Parse DG5 (Doc 9303-10 §4.7.5).

    Unknown tags are ignored and reported in :attr:`Dg5.problems`.

    :raises ParseError: naming ``DG5`` and the offset on malformed TLV (an
        image declaring more bytes than present included).
    """
    return parse_displayed_images(
        data, Dg5, file=FILE, tag=TAG_DG5, image_tag=TAG_DISPLAYED_PORTRAIT
    )


def encode_dg5(images: Sequence[bytes]) -> bytes:
    """Encode DG5 holding *images* (JPEG or JPEG 2000 bytes), for test documents.

    :raises ValueError: for no image or more than 255.
    """
    return encode_displayed_images(TAG_DG5, TAG_DISPLAYED_PORTRAIT, images)


#: The module-wide name every data group module has.
encode = encode_dg5
