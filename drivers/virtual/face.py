"""Synthetic face images for test documents (no real person is depicted).

Draws a simple portrait (head, hair, eyes, nose, mouth, shoulders on a plain
background, in the proportions ICAO Doc 9303-3 and ISO/IEC 19794-5 §8 ask of
a full-frontal image), adds deterministic sensor-like noise so the image
compresses like a photograph, and encodes it as JPEG or JPEG 2000. The size of
the encoded image can be aimed at, since a reader's speed depends on it.
"""

from __future__ import annotations

import io
import random
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter

__all__ = ["FaceFormat", "synthetic_face"]

FaceFormat = Literal["JPEG", "JPEG2000"]


def _portrait(width: int, height: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)  # noqa: S311 - test image, not security
    img = Image.new("RGB", (width, height), (214, 222, 230))
    draw = ImageDraw.Draw(img)
    cx = width // 2
    head_w, head_h = int(width * 0.42), int(height * 0.46)
    top = int(height * 0.17)
    skin = (224 - rnd.randint(0, 60), 182 - rnd.randint(0, 60), 150 - rnd.randint(0, 50))
    hair = (rnd.randint(20, 120), rnd.randint(15, 80), rnd.randint(10, 60))
    # shoulders
    draw.ellipse(
        (cx - int(width * 0.45), int(height * 0.72), cx + int(width * 0.45), int(height * 1.3)),
        fill=(40 + rnd.randint(0, 60), 60, 90 + rnd.randint(0, 60)),
    )
    # neck
    draw.rectangle(
        (cx - head_w // 5, top + int(head_h * 0.8), cx + head_w // 5, int(height * 0.85)),
        fill=skin,
    )
    # hair behind the head, then the face
    draw.ellipse(
        (cx - head_w // 2 - 8, top - 14, cx + head_w // 2 + 8, top + int(head_h * 0.75)),
        fill=hair,
    )
    draw.ellipse((cx - head_w // 2, top, cx + head_w // 2, top + head_h), fill=skin)
    # eyes on the horizontal midline of the head
    eye_y = top + int(head_h * 0.45)
    for dx in (-head_w // 5, head_w // 5):
        ex = cx + dx
        draw.ellipse((ex - 14, eye_y - 7, ex + 14, eye_y + 7), fill=(250, 250, 250))
        draw.ellipse((ex - 6, eye_y - 6, ex + 6, eye_y + 6), fill=(70, 90, 60 + rnd.randint(0, 90)))
        draw.line((ex - 16, eye_y - 14, ex + 16, eye_y - 16), fill=hair, width=4)
    # nose and mouth
    draw.line((cx, eye_y + 8, cx - 6, eye_y + int(head_h * 0.2)), fill=(150, 110, 90), width=3)
    mouth_y = top + int(head_h * 0.75)
    draw.arc((cx - 26, mouth_y - 14, cx + 26, mouth_y + 10), 20, 160, fill=(150, 60, 60), width=4)
    return img.filter(ImageFilter.GaussianBlur(1.2))


def _noisy(img: Image.Image, amount: int, seed: int) -> Image.Image:
    if amount <= 0:
        return img
    rnd = random.Random(seed ^ 0x5EED)  # noqa: S311 - test image, not security
    noise = bytes(rnd.randrange(256) for _ in range(img.width * img.height))
    layer = Image.frombytes("L", img.size, noise).convert("RGB")
    return Image.blend(img, layer, min(0.5, amount / 100))


def _encode(img: Image.Image, fmt: FaceFormat, quality: int) -> bytes:
    """Encode at *quality* 1..100 (for JPEG 2000 mapped to a compression rate)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, format="JPEG", quality=quality, optimize=True)
    else:
        # JP2 container (ISO/IEC 15444-1 Annex I); the rate (compression ratio) falls as
        # quality rises: quality 100 -> 1.5:1, quality 1 -> 100:1.
        rate = 1.5 * (100 / 1.5) ** ((100 - quality) / 99)
        img.save(
            out, format="JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[rate]
        )
    return out.getvalue()


def _closest(img: Image.Image, fmt: FaceFormat, target: int) -> bytes:
    """Binary search over quality for the encoding closest to *target* bytes."""
    lo, hi = 1, 100
    best = _encode(img, fmt, hi)
    while lo <= hi:
        mid = (lo + hi) // 2
        data = _encode(img, fmt, mid)
        if abs(len(data) - target) < abs(len(best) - target):
            best = data
        if len(data) < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return best


def synthetic_face(
    *,
    fmt: FaceFormat = "JPEG",
    width: int = 240,
    height: int = 320,
    target_size: int | None = None,
    seed: int = 1,
) -> tuple[bytes, int, int]:
    """Make a synthetic portrait.

    :param fmt: ``"JPEG"`` or ``"JPEG2000"`` (JP2 file format).
    :param width: / :param height: pixel size (ICAO's 3:4 aspect by default).
    :param target_size: aim for about this many bytes (within ~5%, by
        adjusting noise and quality); ``None`` gives a small, clean image.
    :param seed: the same seed gives the same image.
    :returns: ``(encoded image, width, height)``.
    """
    base = _portrait(width, height, seed)
    if target_size is None:
        return _encode(base, fmt, 80), width, height
    best = b""
    for noise in (0, 4, 8, 12, 16, 24, 32, 48):
        img = _noisy(base, noise, seed)
        data = _closest(img, fmt, target_size)
        if not best or abs(len(data) - target_size) < abs(len(best) - target_size):
            best = data
        if abs(len(best) - target_size) <= target_size // 20:
            break
    return best, width, height
