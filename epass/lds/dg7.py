"""DG7, the displayed signature or usual mark (ICAO Doc 9303-10 §4.7.7).

::

    '67' DG7
        '02'   number of instances
        '5F43' displayed signature or usual mark: JPEG (ISO/IEC 10918) or
               JPEG 2000 (ISO/IEC 15444)

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

__all__ = ["Dg7", "DisplayedImage", "encode", "encode_dg7", "parse"]

FILE = "DG7"
TAG_DG7 = 0x67
TAG_DISPLAYED_SIGNATURE = 0x5F43


@dataclass(frozen=True)
class Dg7(DisplayedImages):
    """A parsed DG7: :attr:`images` are the displayed signatures or usual marks."""

    @property
    def signatures(self) -> tuple[DisplayedImage, ...]:
        """The displayed signatures or usual marks (same as :attr:`images`)."""
        return self.images


def parse(data: bytes) -> Dg7:
    """Parse DG7 (Doc 9303-10 §4.7.7).

    Unknown tags are ignored and reported in :attr:`Dg7.problems`.

    :raises ParseError: naming ``DG7`` and the offset on malformed TLV (an
        image declaring more bytes than present included).
    """
    return parse_displayed_images(
        data, Dg7, file=FILE, tag=TAG_DG7, image_tag=TAG_DISPLAYED_SIGNATURE
    )


def encode_dg7(images: Sequence[bytes]) -> bytes:
    """Encode DG7 holding *images* (JPEG or JPEG 2000 bytes), for test documents.

    :raises ValueError: for no image or more than 255.
    """
    return encode_displayed_images(TAG_DG7, TAG_DISPLAYED_SIGNATURE, images)


#: The module-wide name every data group module has.
encode = encode_dg7
