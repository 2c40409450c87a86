"""The committed glyph sets: one 64x64 image per character (see make_glyphs.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.text import CHARSET, UNKNOWN
from platewatch.errors import PlatewatchError

GLYPHS_DIR = Path(__file__).parent / "glyphs"
GLYPH_SIZE = 64
#: The glyph set every canonical render uses; the generator may draw with others too.
DEFAULT_SET = "din"
DASH = "-"


class GlyphSetError(PlatewatchError):
    """A glyph set is missing or incomplete."""


def available_sets() -> list[str]:
    return sorted(p.name for p in GLYPHS_DIR.iterdir() if (p / "A.png").exists())


@lru_cache(maxsize=8)
def load_glyphs(name: str = DEFAULT_SET) -> dict[str, npt.NDArray[np.uint8]]:
    """Glyphs of one set: character -> (64, 64) uint8, 0 = ink, 255 = paper.

    Keys are A-Z, 0-9, ``-`` (separator) and ``?`` (a hidden character).
    """
    folder = GLYPHS_DIR / name
    if not folder.is_dir():
        raise GlyphSetError(f"no glyph set {name!r}; available: {', '.join(available_sets())}")
    files = {ch: f"{ch}.png" for ch in CHARSET} | {DASH: "dash.png", UNKNOWN: "unknown.png"}
    glyphs: dict[str, npt.NDArray[np.uint8]] = {}
    for ch, file in files.items():
        img = cv2.imread(str(folder / file), cv2.IMREAD_GRAYSCALE)
        if img is None or img.shape != (GLYPH_SIZE, GLYPH_SIZE):
            raise GlyphSetError(
                f"glyph {folder / file} is missing or not {GLYPH_SIZE}x{GLYPH_SIZE}"
            )
        glyph = np.asarray(img, np.uint8)
        glyph.setflags(write=False)
        glyphs[ch] = glyph
    return glyphs
