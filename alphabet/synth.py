"""Synthetic plates as a camera sees them, for training the embedder and for tests.

:func:`draw_plate` draws the clean frontal plate of a format (colours, EU band, grouping);
:func:`realistic_crop` puts it through what a road camera and a detector do to it: a
tight crop with car body around it, perspective, low resolution, blur, noise, glare and
shadow, night and infrared looks (Brazilian road cameras deliver green IR frames with light
characters), JPEG, occlusion, and the grey privacy blocks of published photos (``?``).

Everything is drawn at the crop's final size with a handful of OpenCV calls, so one core
makes thousands of crops a second. The same numpy Generator state gives the same crop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.formats import (
    FORMATS,
    PATTERN_SLOTS,
    Palette,
    PlateFormat,
    get_format,
    layout,
    random_plate_text,
)
from alphabet.glyphs import DASH, GLYPH_SIZE, load_glyphs
from alphabet.text import UNKNOWN, WILDCARD, PlateTextError, normalize

Image = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]

#: Plate height (px) that draw_plate uses.
CLEAN_HEIGHT = 64
#: Plate height range (px) in realistic crops: from far-away cameras to close ones.
MIN_PLATE_HEIGHT, MAX_PLATE_HEIGHT = 12, 80
# Rows of a 64x64 glyph that hold a letter's ink (the same for every character).
_INK_ROWS = (6, 58)
# Character pitch (centre to centre) as a share of the character height on real plates.
_PITCH = 0.74
# A gap between groups and a dash take these shares of a character cell's width.
_GAP_WIDTH, _DASH_WIDTH = 0.55, 0.6

__all__ = ["draw_plate", "generate_batch", "random_text", "realistic_crop"]


def random_text(fmt: str, rng: np.random.Generator) -> str:
    """A random valid plate text of format ``fmt`` (see alphabet.formats.random_plate_text)."""
    return random_plate_text(fmt, rng)


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


def _check_text(text: str) -> str:
    plate_text = normalize(text, allow_patterns=True)
    if WILDCARD in plate_text:
        raise PlateTextError(
            f"{text!r} holds '*', which stands for any number of characters and cannot be "
            "drawn; use '?' for each hidden character"
        )
    return plate_text


class _Plate:
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


def _draw(
    plate_text: str, plate_format: PlateFormat, height: int, rng: np.random.Generator
) -> _Plate:
    """Draw a plate ``height`` px high: colours, border, band, strip and characters."""
    palette: Palette = plate_format.palettes[int(rng.integers(len(plate_format.palettes)))]
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
    return _Plate(pixels, char_cells)


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
    plate = _draw(plate_text, get_format(fmt), height, rng)
    pixels = plate.pixels
    for (x, y, w, h), ch in zip(plate.cells, plate_text, strict=True):
        if ch == UNKNOWN:
            pixels[max(y, 0) : y + h, max(x, 0) : x + w] = 150
    return pixels


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _background(size: tuple[int, int], rng: np.random.Generator, d: float) -> Image:
    """Car body around the plate, (h, w, 3) uint8: a colour with a vertical gradient and,
    often, bumper edges, grille bars or lamps as horizontal bands."""
    width, height = size
    body = rng.uniform(10, 230, size=3)
    if rng.random() < 0.5:  # most cars are grey-ish
        body[:] = body.mean()
    ends = np.clip(np.outer(rng.uniform(0.5, 1.2, 2), body), 0, 255).astype(np.uint8)
    img = np.asarray(cv2.resize(ends[:, None, :], (width, height)), np.uint8)
    for _ in range(int(rng.integers(0, 1 + round(3 * d)))):
        y = int(rng.integers(height))
        band = max(int(height * rng.uniform(0.02, 0.15)), 1)
        cv2.rectangle(img, (0, y), (width, y + band), rng.uniform(0, 255, 3).tolist(), -1)
    return img


def _plate_holder(img: Image, corners: npt.NDArray[np.float32], rng: np.random.Generator) -> None:
    """A dark or chrome frame just around the plate, in place (drawn under the plate).

    corners: (4, 2) plate corners in the crop, clockwise from top-left.
    """
    centre = corners.mean(axis=0)
    grown = centre + (corners - centre) * [1 + rng.uniform(0.02, 0.06), 1 + rng.uniform(0.06, 0.25)]
    colour = [rng.uniform(10, 50)] * 3 if rng.random() < 0.7 else [rng.uniform(150, 230)] * 3
    cv2.fillConvexPoly(img, np.round(grown).astype(np.int32), colour)


# BGR -> grey weights (ITU-R BT.601), as cv2.cvtColor uses them.
_GREY = np.array([0.114, 0.587, 0.299], np.float32)
# An infrared frame shown by a colour camera: green, a little blue, less red.
_IR_TINT = np.array([0.45, 1.0, 0.35], np.float32)


def _colour_matrix(
    img: Image, rng: np.random.Generator, d: float
) -> tuple[npt.NDArray[np.float32], bool]:
    """The 3x4 affine colour map of one exposure: day cast, night, or infrared grey.

    Exposure, colour cast, contrast, IR greyscale with its tint and polarity are all
    affine in the pixel values, so one cv2.transform applies them together. Returns the
    matrix and whether the exposure is infrared.
    """
    infrared = rng.random() < 0.35 * d
    mode = rng.random()
    if infrared:  # infrared: grey, often green, often light characters on dark
        sign = -1.0 if rng.random() < 0.6 else 1.0
        gain = rng.uniform(0.5, 1.1)
        tint = _IR_TINT * rng.uniform(0.85, 1.15, 3) if rng.random() < 0.7 else np.ones(3)
        linear = np.outer(tint, _GREY * sign * gain)
        offset = tint * ((255.0 if sign < 0 else 0.0) * gain + rng.uniform(-20, 30))
    elif mode < 0.2 * d:  # night under white light: dark, warm or cold
        linear = np.diag(rng.uniform(0.25, 0.6) * rng.uniform(0.8, 1.2, 3))
        offset = np.zeros(3)
    else:
        gain = rng.uniform(1 - 0.3 * d, 1 + 0.3 * d)
        linear = np.diag(rng.uniform(1 - 0.3 * d, 1 + 0.3 * d, 3) * gain)
        offset = np.zeros(3)
    # Contrast about the mean: out = mean + c * (x - mean).
    contrast = rng.uniform(_lerp(0.9, 0.3, d), _lerp(1.0, 0.85, d))
    channel_mean = np.array(cv2.mean(img)[:3])
    mean = float((linear @ channel_mean + offset).mean())
    matrix = np.hstack([linear * contrast, (offset * contrast + mean * (1 - contrast))[:, None]])
    return matrix.astype(np.float32), infrared


def _gaussian(img: Image, sigma: float) -> Image:
    """Gaussian blur with the kernel cut at two sigmas (OpenCV's default is three for
    uint8): the tails change nothing visible and cost a third of the time."""
    k = 2 * int(2 * sigma + 0.5) + 1
    return np.asarray(cv2.GaussianBlur(img, (k, k), sigma), np.uint8)


def _light(img: Image, rng: np.random.Generator, d: float) -> Image:
    """Exposure and colour (see _colour_matrix), IR bloom, shadow ramp and glare.

    All in uint8 with saturating OpenCV arithmetic: it is several times faster than float
    on these small images, and a camera's pixels saturate the same way.
    """
    h, w = img.shape[:2]
    matrix, infrared = _colour_matrix(img, rng, d)
    img = np.asarray(cv2.transform(img, matrix), np.uint8)
    if infrared and rng.random() < 0.5:
        # Retro-reflective plates glow under IR: a soft halo around the bright parts.
        halo = _gaussian(img, max(h / 12, 0.8))
        img = np.asarray(cv2.addWeighted(img, 1.0, halo, 0.4, 0.0), np.uint8)
    if rng.random() < 0.4 * d:  # shadow: a linear ramp across the crop
        corners = 255 * (1 - rng.uniform(0.2, 0.7) * rng.uniform(0, 1, size=(2, 2)))
        ramp = cv2.resize(corners.astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
        ramp3 = cv2.cvtColor(ramp, cv2.COLOR_GRAY2BGR)
        img = np.asarray(cv2.multiply(img, ramp3, scale=1 / 255), np.uint8)
    if rng.random() < 0.25 * d:  # glare: a bright soft spot
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        sx = rng.uniform(0.1, 0.5) * w
        gx = np.exp(-(((np.arange(w, dtype=np.float32) - cx) / sx) ** 2))
        gy = np.exp(-(((np.arange(h, dtype=np.float32) - cy) / (sx * 0.6)) ** 2))
        spot = (rng.uniform(60, 220) * gy[:, None] * gx[None, :]).astype(np.uint8)
        img = np.asarray(cv2.add(img, cv2.cvtColor(spot, cv2.COLOR_GRAY2BGR)), np.uint8)
    return img


def _blur(img: Image, rng: np.random.Generator, d: float, plate_h: int) -> Image:
    """Motion blur, defocus and lost resolution, sharing one budget.

    The budget is a Gaussian sigma proportional to the plate's height in pixels
    (``plate_h``): a blur that leaves an 80 px plate readable wipes out a 12 px one. The
    three effects split it, so stacked together they stay within what real crops show.
    Budget and odds grow with the square root of difficulty: middling difficulties
    already blur as much as typical real crops, and 0 leaves the plate sharp.
    """
    budget = 0.4 + np.sqrt(d) * plate_h / 16
    if rng.random() < 0.35 * d:
        k = int(rng.integers(2, 3 + round(budget)))
        budget -= k / 3
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        centre = (k / 2 - 0.5, k / 2 - 0.5)
        rot = cv2.getRotationMatrix2D(centre, float(rng.uniform(-30, 30)), 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, rot, (k, k)), np.float32)
        kernel /= max(float(kernel.sum()), 1e-6)
        img = np.asarray(cv2.filter2D(img, -1, kernel), np.uint8)
    if budget > 0.3 and rng.random() < 0.9 * np.sqrt(d):
        sigma = rng.uniform(0.3, budget)
        budget -= sigma
        img = _gaussian(img, sigma)
    if budget > 0.6 and rng.random() < 0.55 * np.sqrt(d):
        # Seen at lower resolution, then enlarged (digital zoom, a detector's upscaled crop).
        h, w = img.shape[:2]
        factor = rng.uniform(1.2, 1.0 + budget)
        size = (max(round(w / factor), 4), max(round(h / factor), 4))
        small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        img = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)
    return img


def _corners(
    plate_size: tuple[int, int], rng: np.random.Generator, d: float
) -> tuple[npt.NDArray[np.float32], tuple[int, int]]:
    """Where the plate's four corners land in the crop, and the crop size (w, h).

    plate_size: (w, h) of the plate at its final scale. Rotation, shear and perspective
    grow with difficulty; margins of car body surround the plate as a detector cuts it.
    """
    pw, ph = plate_size
    angle = math.radians(rng.normal(0, 5 * d))
    cos, sin = math.cos(angle), math.sin(angle)
    shear = rng.normal(0, 0.12 * d)
    persp = rng.uniform(-0.12, 0.12) * d  # one side nearer the camera: taller
    jitter = rng.normal(0, 0.015 * d, size=8).tolist()
    pts: list[tuple[float, float]] = []
    # Plain floats: four points do not pay numpy's per-call cost.
    for i, (x, y) in enumerate(
        ((-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2))
    ):
        x += shear * y
        y *= 1 + (persp if x > 0 else -persp)
        pts.append(
            (x * cos - y * sin + jitter[2 * i] * pw, x * sin + y * cos + jitter[2 * i + 1] * ph)
        )
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    # Detector boxes are tight: a few percent of car body, sometimes a cut-off border.
    mx = span_x * rng.uniform(-0.01 * d, _lerp(0.04, 0.08, d))
    my = span_y * rng.uniform(-0.03 * d, _lerp(0.12, 0.25, d))
    # A detector's box is not centred on the plate: shift the plate a little.
    sx, sy = rng.uniform(-0.5, 0.5, size=2).tolist()
    dx, dy = mx - min(xs) + sx * mx * d, my - min(ys) + sy * my * d
    corners = np.array([(x + dx, y + dy) for x, y in pts], np.float32)
    size = (max(math.ceil(span_x + 2 * mx), 8), max(math.ceil(span_y + 2 * my), 8))
    return corners, size


@lru_cache(maxsize=1)
def _noise_tile() -> FloatImage:
    """A fixed field of unit Gaussian noise, (256, 512, 3) float32, cut into windows."""
    tile = np.random.default_rng(0x5EED).standard_normal((256, 512, 3), np.float32)
    tile.setflags(write=False)
    return tile


def _noise(shape: tuple[int, ...], rng: np.random.Generator) -> FloatImage:
    """Unit Gaussian noise of ``shape`` (h, w, 3): a random window of a fixed tile, which
    costs a slice instead of drawing every pixel; larger shapes are drawn afresh."""
    tile = _noise_tile()
    h, w = shape[0], shape[1]
    if h > tile.shape[0] or w > tile.shape[1]:
        return rng.standard_normal((h, w, 3), np.float32)
    y = int(rng.integers(tile.shape[0] - h + 1))
    x = int(rng.integers(tile.shape[1] - w + 1))
    flip = rng.random() < 0.5
    window = tile[y : y + h, x : x + w]
    return window[:, ::-1] if flip else window


def _privacy_masks(
    img: Image,
    cells: list[tuple[int, int, int, int]],
    to_crop: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> None:
    """Hide characters behind flat grey boxes, in place.

    Published photos (UC3M-LP) hide characters behind upright boxes a little taller than
    the letters, drawn on the finished image: so they are neither warped nor blurred.
    cells: (x, y, w, h) of each hidden character on the plate; to_crop: plate -> crop 3x3.
    """
    grey = (rng.uniform(90, 200) + rng.uniform(-12, 12, 3)).tolist()
    for x, y, w, h in cells:
        pad = 0.08 * h
        quad = np.array(
            [[x, y - pad], [x + w, y - pad], [x + w, y + h + pad], [x, y + h + pad]], np.float32
        )
        bx, by, bw, bh = cv2.boundingRect(cv2.perspectiveTransform(quad[None], to_crop)[0])
        cv2.rectangle(img, (bx, by), (bx + bw - 1, by + bh - 1), grey, -1)


def _grime(img: Image, rng: np.random.Generator) -> Image:
    """Dirt and wear: the crop darkened by up to 25% in soft blotches a few characters
    wide (a coarse random field, enlarged smoothly)."""
    h, w = img.shape[:2]
    field = rng.uniform(255 * 0.75, 255, size=(3, 8)).astype(np.uint8)
    blotches = cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.asarray(
        cv2.multiply(img, cv2.cvtColor(blotches, cv2.COLOR_GRAY2BGR), scale=1 / 255), np.uint8
    )


def _occlude(img: Image, rng: np.random.Generator, plate_box: tuple[int, int, int, int]) -> None:
    """Cover an end or the lower edge of the plate (tow hook, bumper, dirt), in place."""
    x, y, w, h = plate_box
    colour = rng.uniform(0, 120, size=3)
    if rng.random() < 0.5:
        ow = int(w * rng.uniform(0.04, 0.15))
        x0 = x if rng.random() < 0.5 else x + w - ow
        cv2.rectangle(img, (x0, y - 2), (x0 + ow, y + h + 2), colour.tolist(), -1)
    else:
        oh = int(h * rng.uniform(0.1, 0.25))
        cv2.rectangle(img, (x - 2, y + h - oh), (x + w + 2, y + h + 2), colour.tolist(), -1)


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
    lo_h = _lerp(40, MIN_PLATE_HEIGHT, d)
    hi_h = _lerp(64, MAX_PLATE_HEIGHT, d)
    target_h = round(float(np.exp(rng.uniform(np.log(lo_h), np.log(hi_h)))))
    # Drawn at its final size: glyphs shrink by area averaging, as a sensor sees them.
    plate = _draw(plate_text, plate_format, target_h, rng)
    ph, pw = plate.pixels.shape[:2]
    pts, size = _corners((pw, ph), rng, d)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    to_crop = np.asarray(cv2.getPerspectiveTransform(src, pts), np.float64)
    crop = _background(size, rng, d)
    if rng.random() < 0.4:
        _plate_holder(crop, pts, rng)
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
        _occlude(crop, rng, (x, y, w, h))
    if rng.random() < 0.3 * d:
        crop = _grime(crop, rng)
    crop = _light(crop, rng, d)
    if rng.random() < 0.05 * d:  # light characters on dark: inverted polarity
        crop = np.asarray(cv2.bitwise_not(crop), np.uint8)
    out = _blur(crop, rng, d, target_h)
    sigma = rng.uniform(0, 12 * d)
    if sigma > 0.5:
        noise = _noise(out.shape, rng)
        out = np.asarray(cv2.addWeighted(out, 1.0, noise, sigma, 0.0, dtype=cv2.CV_8U), np.uint8)
    masked = [cell for cell, ch in zip(plate.cells, plate_text, strict=True) if ch == UNKNOWN]
    if masked:
        _privacy_masks(out, masked, to_crop, rng)
    if rng.random() < 0.8 * max(d, 0.1):
        quality = int(rng.uniform(_lerp(90, 20, d), 95))
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
