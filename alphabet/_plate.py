"""Drawing a clean frontal plate: lettering laid out from the format's pattern, colours,
border, EU band and small print. Private to alphabet.synth."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.formats import PATTERN_SLOTS, Palette, PlateFormat, layout, pick_palette
from alphabet.glyphs import DASH, GLYPH_SIZE, load_glyphs
from alphabet.text import UNKNOWN

Image = npt.NDArray[np.uint8]

# Rows of a 64x64 glyph that hold a letter's ink (the same for every character).
_INK_ROWS = (6, 58)
# Character pitch (centre to centre) as a share of the character height on real plates.
_PITCH = 0.74
# A gap between groups and a dash take these shares of a character cell's width.
_GAP_WIDTH, _DASH_WIDTH = 0.55, 0.6


@lru_cache(maxsize=256)
def _ink_columns(glyph_set: str, ch: str) -> tuple[int, int]:
    """First and one-past-last column holding ink in a 64x64 glyph."""
    cols = np.flatnonzero((load_glyphs(glyph_set)[ch] < 128).any(axis=0))
    if cols.size == 0:
        return 0, GLYPH_SIZE
    return int(cols[0]), int(cols[-1]) + 1


@lru_cache(maxsize=4096)
def _glyph_ink(glyph_set: str, ch: str, room: int) -> Image:
    """A glyph's ink at full resolution, cut to its own columns and squeezed to at most
    ``room`` columns (a narrow pitch condenses wide letters): (52, w) uint8, 255 = ink."""
    x0, x1 = _ink_columns(glyph_set, ch)
    ink = 255 - load_glyphs(glyph_set)[ch][_INK_ROWS[0] : _INK_ROWS[1], x0:x1]
    if ink.shape[1] > room:
        ink = np.asarray(
            cv2.resize(ink, (room, ink.shape[0]), interpolation=cv2.INTER_AREA), np.uint8
        )
    ink.setflags(write=False)
    return ink


def _line_alpha(glyph_set: str, cells: list[tuple[str, int, int, int, int]]) -> tuple[Image, int]:
    """Ink coverage of a whole line of characters and where it starts (x, plate pixels).

    Glyphs keep their own proportions (a ``1`` stays narrow), are no wider than 92% of
    the pitch and sit centred in their cells, as on a plate's monospaced lettering. The
    line is laid out at the glyphs' resolution and shrunk in one resize: (ink_h, w) uint8.
    """
    first, last = cells[0], cells[-1]
    ink_h = first[4]
    scale = (_INK_ROWS[1] - _INK_ROWS[0]) / ink_h
    line_x0, line_x1 = first[1], last[1] + last[3]
    strip = np.zeros(
        (_INK_ROWS[1] - _INK_ROWS[0], max(round((line_x1 - line_x0) * scale), 1)), np.uint8
    )
    for ch, x, _, pitch, _ in cells:
        room = max(int(pitch * scale * 0.92), 1)
        ink = _glyph_ink(glyph_set, "8" if ch == UNKNOWN else ch, room)
        nx = round((x - line_x0) * scale + (pitch * scale - ink.shape[1]) / 2)
        nx = min(max(nx, 0), strip.shape[1] - ink.shape[1])
        if nx >= 0:
            np.maximum(strip[:, nx : nx + ink.shape[1]], ink, out=strip[:, nx : nx + ink.shape[1]])
    interp = cv2.INTER_AREA if ink_h < strip.shape[0] else cv2.INTER_LINEAR
    line = cv2.resize(strip, (max(line_x1 - line_x0, 1), ink_h), interpolation=interp)
    return np.asarray(line, np.uint8), line_x0


class Plate:
    """A frontal plate drawn at one height, with where each character sits.

    pixels: (h, w, 3) BGR uint8; cells: (x, y, w, h) of each character, in order.
    """

    def __init__(self, pixels: Image, cells: list[tuple[int, int, int, int]]) -> None:
        self.pixels = pixels
        self.cells = cells


@dataclass(frozen=True)
class _Lettering:
    """How one plate's characters are set: height as a share of the plate's, and pitch
    (centre to centre) as a share of the character height. Fonts and makers differ."""

    char_height: float
    pitch: float = _PITCH


def _plate_layout(
    plate_text: str,
    plate_format: PlateFormat,
    size: tuple[int, int],
    left: int,
    lettering: _Lettering | None = None,
) -> list[tuple[str, int, int, int, int]]:
    """(char, x, y, pitch, ink_h) of every character and dash on a plate of ``size`` (w, h).

    Characters are ``lettering.char_height`` of the plate high (the format's by default),
    spaced at a fixed pitch (narrowed when the text would not fit), and the line is
    centred right of ``left`` (the band).
    """
    lettering = lettering or _Lettering(plate_format.char_height)
    width, height = size
    pattern = layout(plate_text, plate_format)
    units = sum(
        1.0 if c in PATTERN_SLOTS else _GAP_WIDTH if c == " " else _DASH_WIDTH for c in pattern
    )
    ink_h = max(round(height * lettering.char_height), 4)
    margin = max(2, width // 30)
    room = width - left - 2 * margin
    pitch = max(min(room / units, ink_h * lettering.pitch), 2.0)
    x = left + margin + (room - pitch * units) / 2
    y = (height - ink_h) // 2 + (round(height * 0.06) if plate_format.top_strip else 0)
    cells: list[tuple[str, int, int, int, int]] = []
    chars = iter(plate_text)
    for c in pattern:
        step = pitch * (1.0 if c in PATTERN_SLOTS else _GAP_WIDTH if c == " " else _DASH_WIDTH)
        cell_w = max(int(x + step) - int(x), 2)
        if c in PATTERN_SLOTS:
            cells.append((next(chars), int(x), y, cell_w, ink_h))
        elif c == "-":
            cells.append((DASH, int(x), y, cell_w, ink_h))
        x += step
    return cells


@lru_cache(maxsize=2)
def _gamma_table(gamma: float) -> Image:
    return np.asarray(255 * (np.arange(256) / 255) ** gamma, np.uint8)


def _stroke(alpha: Image, height: int, thicker: bool) -> Image:
    """Thicker or thinner strokes of an ink coverage map (h, w) uint8, 255 = ink.

    Large plates: a pixel of dilation or erosion; small ones: a gamma on the coverage,
    which thickens or thins strokes by a fraction of a pixel.
    """
    if height >= 28:
        kernel = np.ones((2, 2), np.uint8)
        out = cv2.dilate(alpha, kernel) if thicker else cv2.erode(alpha, kernel)
        return np.asarray(out, np.uint8)
    return np.asarray(cv2.LUT(alpha, _gamma_table(0.6 if thicker else 1.6)), np.uint8)


def _band(
    pixels: Image, plate_format: PlateFormat, band: tuple[int, int], rng: np.random.Generator
) -> None:
    """The EU band at the left edge, in place: a ring of small stars above a country code.

    band: (width, border) in pixels. The stars stay small and the code is thin white print,
    as on real plates, so that a reader does not take the band for a character.
    """
    left, border = band
    height = pixels.shape[0]
    if plate_format.band is None:
        return
    pixels[border:-border, border:left] = plate_format.band
    if left < 6:
        return
    cx, cy, radius = left / 2, height * 0.3, left * 0.3
    dot = max(round(left / 20), 1)
    for k in range(12):  # twelve stars
        angle = k * math.pi / 6
        centre = (round(cx + radius * math.cos(angle)), round(cy + radius * math.sin(angle)))
        cv2.circle(pixels, centre, dot, (0, 204, 255), -1)
    code = plate_format.band_codes[int(rng.integers(len(plate_format.band_codes)))]
    scale = left / (22.0 * max(len(code), 1.3))
    (tw, _), _ = cv2.getTextSize(code, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    origin = (round(cx - tw / 2), round(height * 0.8))
    cv2.putText(
        pixels, code, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1, cv2.LINE_AA
    )


def draw_frontal(
    plate_text: str, plate_format: PlateFormat, height: int, rng: np.random.Generator
) -> Plate:
    """Draw a plate ``height`` px high: colours, border, band, strip and characters."""
    palette: Palette = pick_palette(plate_format, rng)
    glyph_set = plate_format.glyph_sets[int(rng.integers(len(plate_format.glyph_sets)))]
    width = max(round(height * plate_format.aspect * rng.uniform(0.97, 1.03)), 8)
    left = 0
    if plate_format.band is not None:
        left = max(round(width * 0.075), 2)

    alpha = np.zeros((height, width), np.uint8)
    lettering = _Lettering(
        plate_format.char_height * rng.uniform(0.93, 1.05), _PITCH * rng.uniform(0.85, 1.08)
    )
    cells = _plate_layout(plate_text, plate_format, (width, height), left, lettering)
    line, line_x = _line_alpha(glyph_set, cells)
    y = cells[0][2]
    # The line may overhang a very small plate by a pixel: clip it to the plate.
    y0, y1 = max(y, 0), min(y + line.shape[0], height)
    x0, x1 = max(line_x, 0), min(line_x + line.shape[1], width)
    alpha[y0:y1, x0:x1] = line[y0 - y : y1 - y, x0 - line_x : x1 - line_x]
    char_cells = [(x, cy, w, h) for ch, x, cy, w, h in cells if ch != DASH]
    # Stroke weight varies with font, wear and the camera's sharpening.
    weight = rng.random()
    if weight < 0.25:
        alpha = _stroke(alpha, height, thicker=False)
    elif weight > 0.75:
        alpha = _stroke(alpha, height, thicker=True)

    bg = np.array(palette.background, np.float32) * rng.uniform(0.9, 1.05)
    ink = np.array(palette.ink, np.float32)
    # pixels = bg + alpha / 255 * (ink - bg), per channel, in one call.
    colours = np.stack([(ink - bg) / 255, bg], axis=1)
    pixels = np.asarray(cv2.transform(alpha[:, :, None], colours), np.uint8)
    border = max(1, height // 28)
    cv2.rectangle(pixels, (0, 0), (width - 1, height - 1), palette.border, border)
    if plate_format.band is not None:
        _band(pixels, plate_format, (left, border), rng)
    if plate_format.top_strip:
        # A line of small print (city or state name): texture, not meant to be read.
        strip_h = max(int(height * 0.1), 1)
        x0, x1 = int(width * rng.uniform(0.25, 0.35)), int(width * rng.uniform(0.65, 0.75))
        y0 = max(int(height * 0.05), border)
        marks = rng.random(max((x1 - x0) // max(strip_h // 2, 1), 1)) < 0.7
        strip = np.repeat(marks, max(strip_h // 2, 1))[: x1 - x0]
        pixels[y0 : y0 + strip_h, x0 : x0 + strip.size][:, strip] = ink
    return Plate(pixels, char_cells)
