"""Draw the committed glyph sets from free fonts (run once; the PNGs are committed).

    python -m alphabet.make_glyphs            # all sets, fonts from Debian packages

Each set is a folder ``alphabet/glyphs/<name>/`` with one 64x64 PNG per character
(dark character on white, as the seed's ALPHABET folder), ``dash.png`` for a separator,
``unknown.png`` for a hidden character (a solid block, as privacy masks look on real
photos), and ``LICENSE.txt`` naming the font and its licence.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from alphabet.text import CHARSET

GLYPH_SIZE = 64
GLYPHS_DIR = Path(__file__).parent / "glyphs"

#: name -> (font file, Debian package, licence line)
FONT_SETS: dict[str, tuple[str, str, str]] = {
    "din": (
        "/usr/share/fonts/truetype/opendin/OSP-DIN.ttf",
        "fonts-opendin",
        "OSP-DIN (c) 2011 OSP, Antoine Begon, Ludivine Loiseau, Harrisson. "
        "SIL Open Font License 1.1.",
    ),
    "dejavu": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
        "fonts-dejavu-extra",
        "DejaVu Sans Condensed Bold (c) Bitstream, Inc.; DejaVu changes are in the public "
        "domain. Bitstream Vera Fonts licence (free to use, modify and redistribute).",
    ),
}

#: Fraction of the 64 px cell the character's height fills (plate characters are tall).
_FILL_H = 0.82
_MAX_FILL_W = 0.86


def _draw_char(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray:
    """The character as a tight binary mask (uint8, 255 = ink)."""
    canvas = Image.new("L", (400, 400), 0)
    ImageDraw.Draw(canvas).text((100, 50), ch, font=font, fill=255)
    arr = np.asarray(canvas)
    ys, xs = np.nonzero(arr > 127)
    return arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _place(mask: np.ndarray, height_fill: float) -> np.ndarray:
    """Scale a tight mask to the cell's character height, centred; dark ink on white."""
    h, w = mask.shape
    target_h = round(GLYPH_SIZE * height_fill)
    target_w = max(1, round(w * target_h / h))
    target_w = min(target_w, round(GLYPH_SIZE * _MAX_FILL_W))
    scaled = cv2.resize(mask, (target_w, target_h), interpolation=cv2.INTER_AREA)
    cell = np.zeros((GLYPH_SIZE, GLYPH_SIZE), np.uint8)
    y0 = (GLYPH_SIZE - target_h) // 2
    x0 = (GLYPH_SIZE - target_w) // 2
    cell[y0 : y0 + target_h, x0 : x0 + target_w] = scaled
    _, binary = cv2.threshold(cell, 127, 255, cv2.THRESH_BINARY)
    return 255 - binary


def make_set(name: str, out_dir: Path) -> None:
    font_path, package, licence = FONT_SETS[name]
    if not Path(font_path).exists():
        raise SystemExit(f"{font_path} is missing: apt-get install {package}")
    font = ImageFont.truetype(font_path, 200)
    out_dir.mkdir(parents=True, exist_ok=True)
    for ch in CHARSET:
        cv2.imwrite(str(out_dir / f"{ch}.png"), _place(_draw_char(font, ch), _FILL_H))
    # A separator: a short thick bar at mid height.
    dash = np.full((GLYPH_SIZE, GLYPH_SIZE), 255, np.uint8)
    dash[29:36, 16:48] = 0
    cv2.imwrite(str(out_dir / "dash.png"), dash)
    # A hidden character: a solid block the size of a character.
    unknown = np.full((GLYPH_SIZE, GLYPH_SIZE), 255, np.uint8)
    pad_y = (GLYPH_SIZE - round(GLYPH_SIZE * _FILL_H)) // 2
    unknown[pad_y : GLYPH_SIZE - pad_y, 8:56] = 0
    cv2.imwrite(str(out_dir / "unknown.png"), unknown)
    (out_dir / "LICENSE.txt").write_text(
        f"Glyphs drawn by alphabet/make_glyphs.py from {Path(font_path).name} "
        f"(Debian package {package}).\n{licence}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=GLYPHS_DIR)
    args = parser.parse_args()
    for name in FONT_SETS:
        make_set(name, args.out / name)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
