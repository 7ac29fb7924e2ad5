"""Decoding the images a chip holds (faces, portraits, signatures) to PNG, bounded.

ICAO Doc 9303-10 §4.7.2 stores the face as JPEG (ISO/IEC 10918) or JPEG 2000
(ISO/IEC 15444-1, either as a JP2 file or as a raw J2K codestream). Pillow
reads all three; this module is the one place that lets it, under a pixel
budget checked against the image *header* before anything is decoded, so a
few bytes declaring a gigapixel image cost microseconds, not gigabytes.
"""

from __future__ import annotations

import io
import re
import warnings

from epass.errors import ParseError

__all__ = ["MAX_FACE_PIXELS", "MAX_SHOWN_SIDE", "image_kind", "to_png"]

#: Most pixels an image may declare before it is decoded (a face is about 0.1 MP).
MAX_FACE_PIXELS = 16_000_000
#: Longest side, in pixels, of an image embedded for display (reports, the kiosk page):
#: larger images are scaled down so one hostile file cannot make a report of tens of MB.
MAX_SHOWN_SIDE = 1200

_JPEG = b"\xff\xd8\xff"
_JP2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K = b"\xff\x4f\xff\x51"


def image_kind(data: bytes) -> str | None:
    """``"JPEG"``, ``"JP2"`` or ``"J2K"`` by the magic bytes of *data*, else ``None``."""
    head = bytes(data[:12])
    if head.startswith(_JPEG):
        return "JPEG"
    if head.startswith(_JP2):
        return "JP2"
    if head.startswith(_J2K):
        return "J2K"
    return None


def to_png(
    data: bytes,
    *,
    file: str = "DG2",
    max_pixels: int = MAX_FACE_PIXELS,
    max_side: int | None = None,
) -> bytes:
    """Decode a JPEG / JPEG 2000 (JP2 or J2K) image and encode it as PNG.

    :param data: the image bytes as the chip holds them.
    :param file: the LDS file they come from, for the error.
    :param max_pixels: the most pixels the image may declare.
    :param max_side: scale the image down (aspect kept) so that neither side
        exceeds this many pixels (``None``: full size, e.g. ``--face-out``).
    :returns: the PNG bytes.
    :raises ParseError: (naming *file*) when the image declares more than
        *max_pixels* pixels (nothing is decoded then; the message says
        "not decoded" and the declared size), or when Pillow cannot read it
        (the message says "does not decode" and why).
    """
    from PIL import Image, UnidentifiedImageError  # imported on first use: CLI start-up stays fast

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as picture:
                width, height = picture.size  # from the header: nothing decoded yet
                if width * height > max_pixels:
                    raise ParseError(
                        f"the image declares {width}x{height} pixels, more than the "
                        f"{max_pixels:,} a face may have: not decoded",
                        file=file,
                    )
                image: Image.Image = picture
                if max_side is not None and max(width, height) > max_side:
                    picture.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2../1/8
                    image = picture.copy()
                    image.thumbnail((max_side, max_side))
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                    image = image.convert("RGB")  # CMYK, YCbCr: PNG has no such mode
                buffer = io.BytesIO()
                image.save(buffer, format="PNG", compress_level=1)
    except ParseError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        declared = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow's own bound, crossed
        count = f" ({int(declared.group(1)):,} pixels)" if declared else ""
        raise ParseError(
            f"the image declares more pixels{count} than a face may have: not decoded",
            file=file,
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = "not a JPEG or JPEG 2000 image Pillow can read"
        if not isinstance(exc, UnidentifiedImageError):
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise ParseError(f"the image does not decode ({reason})", file=file) from exc
    return buffer.getvalue()
