"""The seed's synthetic plate: the "ideal" image every real photo of a plate maps to.

Each character's glyph is 64x64; glyphs are concatenated left to right and the strip is
Otsu-thresholded. Eight characters make exactly 512x64; other lengths are scaled to the
same size, so every render has one shape.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.glyphs import DEFAULT_SET, load_glyphs
from alphabet.text import WILDCARD, PlateTextError, normalize

#: (width, height) of a render, as in the seed.
RENDER_SIZE = (512, 64)


def glyph_strip(plate_text: str, glyph_set: str = DEFAULT_SET) -> npt.NDArray[np.uint8]:
    """Glyphs of a normalised text side by side: (64, 64 * len) uint8, ink 0, paper 255."""
    glyphs = load_glyphs(glyph_set)
    return np.hstack([glyphs[ch] for ch in plate_text])


def render(
    text: str,
    size: tuple[int, int] = RENDER_SIZE,
    glyph_set: str = DEFAULT_SET,
) -> npt.NDArray[np.uint8]:
    """Render a plate text as the seed's binary synthetic plate.

    text: any plate text; it is normalised first (``?`` draws the hidden-character glyph).
    size: (width, height) of the result.
    Returns (height, width) uint8 holding only 0 (ink) and 255 (paper).

    Raises PlateTextError for text that cannot be a plate, or that holds ``*`` (a run of
    unknown length has no picture).
    """
    plate_text = normalize(text, allow_patterns=True)
    if WILDCARD in plate_text:
        raise PlateTextError(
            f"{text!r} holds '*', which stands for any number of characters and cannot be "
            "drawn; use '?' for each unknown character"
        )
    strip = glyph_strip(plate_text, glyph_set)
    width, height = size
    interp = cv2.INTER_AREA if strip.shape[1] > width else cv2.INTER_LINEAR
    resized = np.asarray(cv2.resize(strip, (width, height), interpolation=interp), np.uint8)
    if resized.min() == resized.max():
        return resized
    _, binary = cv2.threshold(resized, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return np.asarray(binary, np.uint8)
