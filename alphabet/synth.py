"""Synthetic plates as a camera sees them, for training the embedder and for tests.

:func:`draw_plate` draws the clean frontal plate of a format (colours, EU band, grouping);
:func:`realistic_crop` puts it through what a road camera and a detector do to it: a
tight crop with car body around it, perspective, low resolution, blur, noise, glare and
shadow, night and infrared looks (Brazilian road cameras deliver green IR frames with light
characters), JPEG, occlusion, and the grey privacy blocks of published photos (``?``).

Everything is drawn at the crop's final size in uint8 with a few OpenCV calls per effect:
one core makes 1,300 (full difficulty) to 2,000 (clean) crops per CPU-second on the shared
development machine (benchmarks/bench_synth.py, docs/benchmarks.md). The same numpy
Generator state gives the same crop.

The mix was tuned against real crops (br_cc, uc3m_crops): at the difficulties training
draws (0.3-1), the real crops' median sharpness and contrast lie inside the synthetic
spread (tests/alphabet/test_synth_look.py), and an off-the-shelf reader (PP-OCRv4) reads
real crops about as well as synthetic ones of difficulty 0.6-0.8.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from alphabet import _camera as camera
from alphabet._plate import draw_frontal
from alphabet.formats import FORMATS, get_format, random_plate_text
from alphabet.text import UNKNOWN, WILDCARD, PlateTextError, normalize

Image = npt.NDArray[np.uint8]

#: Plate height (px) that draw_plate uses.
CLEAN_HEIGHT = 64
#: Plate height range (px) in realistic crops: from far-away cameras to close ones.
MIN_PLATE_HEIGHT, MAX_PLATE_HEIGHT = 12, 80

__all__ = ["draw_plate", "generate_batch", "random_text", "realistic_crop"]


def random_text(fmt: str, rng: np.random.Generator) -> str:
    """A random valid plate text of format ``fmt`` (see alphabet.formats.random_plate_text)."""
    return random_plate_text(fmt, rng)


def _check_text(text: str) -> str:
    plate_text = normalize(text, allow_patterns=True)
    if WILDCARD in plate_text:
        raise PlateTextError(
            f"{text!r} holds '*', which stands for any number of characters and cannot be "
            "drawn; use '?' for each hidden character"
        )
    return plate_text


def draw_plate(
    text: str, fmt: str, rng: np.random.Generator, *, height: int = CLEAN_HEIGHT
) -> Image:
    """The clean frontal plate of ``text`` in format ``fmt``: (height, w, 3) BGR uint8,
    w = height x the format's aspect ratio (64 x 297 for a Ukrainian plate).

    ``?`` characters are drawn as uniform grey blocks (privacy masks). Palette, glyph set
    and stroke weight come from ``rng``. Raises PlateTextError for text that cannot be a
    plate or holds ``*``, PlateFormatError for an unknown format, ValueError for a height
    below 8 px.
    """
    plate_text = _check_text(text)
    if height < 8:
        raise ValueError(f"plate height must be at least 8 px, got {height}")
    plate = draw_frontal(plate_text, get_format(fmt), height, rng)
    pixels = plate.pixels
    for (x, y, w, h), ch in zip(plate.cells, plate_text, strict=True):
        if ch == UNKNOWN:
            pixels[max(y, 0) : y + h, max(x, 0) : x + w] = 150
    return pixels


def realistic_crop(text: str, fmt: str, rng: np.random.Generator, difficulty: float = 1.0) -> Image:
    """A crop of a plate as a camera and a detector deliver it: BGR uint8 (h, w, 3).

    text: plate text (normalised here); ``?`` is drawn as a flat grey privacy block.
    fmt: a format name from alphabet.formats.FORMATS; texts that fit none of its patterns
        are drawn as one group in its colours.
    difficulty: 0 gives a clean, frontal, sharp plate about 40-64 px high; 1 the full
        training mix (12-80 px high plates, perspective, blur, noise, night, IR, glare,
        shadow, JPEG, occlusion).
    """
    plate_text = _check_text(text)
    plate_format = get_format(fmt)
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be between 0 and 1, got {difficulty}")
    d = float(difficulty)
    # Far plates are common: sample heights log-uniformly at full difficulty.
    lo_h = camera.lerp(40, MIN_PLATE_HEIGHT, d)
    hi_h = camera.lerp(64, MAX_PLATE_HEIGHT, d)
    target_h = round(float(np.exp(rng.uniform(np.log(lo_h), np.log(hi_h)))))
    # Drawn at its final size: glyphs shrink by area averaging, as a sensor sees them.
    plate = draw_frontal(plate_text, plate_format, target_h, rng)
    ph, pw = plate.pixels.shape[:2]
    pts, size = camera.corners((pw, ph), rng, d)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    to_crop = np.asarray(cv2.getPerspectiveTransform(src, pts), np.float64)
    crop = camera.background(size, rng, d)
    if rng.random() < 0.4:
        camera.plate_holder(crop, pts, rng)
    cv2.warpPerspective(
        plate.pixels,
        to_crop,
        size,
        dst=crop,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )
    if rng.random() < 0.12 * d:
        x, y, w, h = cv2.boundingRect(pts)
        camera.occlude(crop, rng, (x, y, w, h))
    if rng.random() < 0.3 * d:
        crop = camera.grime(crop, rng)
    crop = camera.light(crop, rng, d)
    if rng.random() < 0.05 * d:  # light characters on dark: inverted polarity
        crop = np.asarray(cv2.bitwise_not(crop), np.uint8)
    out = camera.blur(crop, rng, d, target_h)
    sigma = rng.uniform(0, 12 * d)
    if sigma > 0.5:
        noise = camera.noise(out.shape, rng)
        out = np.asarray(cv2.addWeighted(out, 1.0, noise, sigma, 0.0, dtype=cv2.CV_8U), np.uint8)
    jpeg = rng.random() < 0.8 * max(d, 0.1)
    quality = int(rng.uniform(camera.lerp(90, 20, d), 95))
    # Masks draw from rng last: a plate with hidden characters differs from the same plate
    # without them only where the grey blocks are.
    masked = [cell for cell, ch in zip(plate.cells, plate_text, strict=True) if ch == UNKNOWN]
    if masked:
        camera.privacy_masks(out, masked, to_crop, rng)
    if jpeg:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR), np.uint8)
    return np.ascontiguousarray(out, dtype=np.uint8)


def mask_characters(plate_text: str, rng: np.random.Generator, count: int | None = None) -> str:
    """Hide ``count`` characters with ``?``; by default one to three, most often two (as
    UC3M-LP hides two of every plate)."""
    chars = list(plate_text)
    if count is None:
        count = int(rng.choice([1, 2, 2, 2, 3]))
    count = min(count, len(chars))
    for i in rng.choice(len(chars), size=count, replace=False):
        chars[int(i)] = UNKNOWN
    return "".join(chars)


def generate_batch(
    n: int,
    seed: int,
    formats: Sequence[str] | None = None,
    difficulty: float = 1.0,
    mask_prob: float = 0.0,
) -> tuple[list[Image], list[str]]:
    """n realistic crops (BGR uint8, sizes vary) and their plate texts.

    formats: names to draw from uniformly (default: all in FORMATS). With ``mask_prob`` > 0
    that share of plates has characters hidden, and its text holds ``?`` there. The same
    arguments give the same batch.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= mask_prob <= 1.0:
        raise ValueError(f"mask_prob must be between 0 and 1, got {mask_prob}")
    names = list(formats) if formats is not None else sorted(FORMATS)
    if not names:
        raise ValueError("formats is empty; give at least one of " + ", ".join(sorted(FORMATS)))
    for name in names:
        get_format(name)
    rng = np.random.default_rng(seed)
    crops: list[Image] = []
    texts: list[str] = []
    for _ in range(n):
        fmt = names[int(rng.integers(len(names)))]
        plate_text = random_plate_text(fmt, rng)
        if mask_prob > 0 and rng.random() < mask_prob:
            plate_text = mask_characters(plate_text, rng)
        crops.append(realistic_crop(plate_text, fmt, rng, difficulty))
        texts.append(plate_text)
    return crops, texts
