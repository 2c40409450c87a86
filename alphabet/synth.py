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

from collections.abc import Sequence
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
from alphabet.glyphs import DASH, load_glyphs
from alphabet.text import UNKNOWN, WILDCARD, PlateTextError, normalize

Image = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]

#: Plate height (px) that draw_plate uses.
CLEAN_HEIGHT = 64
#: Plate height range (px) in realistic crops: from far-away cameras to close ones.
MIN_PLATE_HEIGHT, MAX_PLATE_HEIGHT = 12, 80
# The ink of a 64x64 glyph spans rows 6..57: the glyph cell is this much taller than a letter.
_GLYPH_INK_SHARE = 52 / 64
# A gap between groups and a dash take these shares of a character cell's width.
_GAP_WIDTH, _DASH_WIDTH = 0.55, 0.6

__all__ = ["draw_plate", "generate_batch", "random_text", "realistic_crop"]


def random_text(fmt: str, rng: np.random.Generator) -> str:
    """A random valid plate text of format ``fmt`` (see alphabet.formats.random_plate_text)."""
    return random_plate_text(fmt, rng)


@lru_cache(maxsize=8192)
def _glyph_alpha(glyph_set: str, ch: str, width: int, height: int) -> FloatImage:
    """Ink coverage of one glyph resized to (height, width): float32 0 (paper) .. 1 (ink)."""
    glyph = load_glyphs(glyph_set)[ch]
    interp = cv2.INTER_AREA if height < glyph.shape[0] else cv2.INTER_LINEAR
    small = cv2.resize(glyph, (width, height), interpolation=interp)
    alpha = (255.0 - small.astype(np.float32)) / 255.0
    alpha.setflags(write=False)
    return alpha


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

    pixels: (h, w, 3) float32 BGR 0..255; cells: (x, y, w, h) of each character, in order.
    """

    def __init__(self, pixels: FloatImage, cells: list[tuple[int, int, int, int]]) -> None:
        self.pixels = pixels
        self.cells = cells


def _plate_layout(
    plate_text: str, plate_format: PlateFormat, size: tuple[int, int], left: int
) -> list[tuple[str, int, int, int, int]]:
    """(char, x, y, w, h) of every glyph cell (characters and dashes) on a plate of ``size``.

    Character cells are as wide as the glyphs look natural, no wider than the space allows,
    and the whole line is centred in the room right of ``left`` (the band).
    """
    width, height = size
    pattern = layout(plate_text, plate_format)
    units = sum(
        1.0 if c in PATTERN_SLOTS else _GAP_WIDTH if c == " " else _DASH_WIDTH for c in pattern
    )
    cell_h = max(int(round(height * plate_format.char_height / _GLYPH_INK_SHARE)), 4)
    room = width - left - max(2, width // 40)
    cell_w = max(min(room / units, cell_h * 0.95), 2.0)
    x = left + (room - cell_w * units) / 2 + max(1, width // 80)
    y = (height - cell_h) // 2 + (int(height * 0.06) if plate_format.top_strip else 0)
    cells: list[tuple[str, int, int, int, int]] = []
    chars = iter(plate_text)
    for c in pattern:
        step = cell_w * (1.0 if c in PATTERN_SLOTS else _GAP_WIDTH if c == " " else _DASH_WIDTH)
        if c in PATTERN_SLOTS:
            cells.append((next(chars), int(x), y, max(int(x + step) - int(x), 2), cell_h))
        elif c == "-":
            cells.append((DASH, int(x), y, max(int(x + step) - int(x), 2), cell_h))
        x += step
    return cells


def _draw(
    plate_text: str, plate_format: PlateFormat, height: int, rng: np.random.Generator
) -> _Plate:
    """Draw a plate ``height`` px high: colours, border, band, strip and characters."""
    palette: Palette = plate_format.palettes[int(rng.integers(len(plate_format.palettes)))]
    glyph_set = plate_format.glyph_sets[int(rng.integers(len(plate_format.glyph_sets)))]
    width = max(int(round(height * plate_format.aspect * rng.uniform(0.97, 1.03))), 8)
    left = 0
    if plate_format.band is not None:
        left = max(int(round(width * 0.075)), 2)

    alpha = np.zeros((height, width), np.float32)
    cells = _plate_layout(plate_text, plate_format, (width, height), left)
    char_cells: list[tuple[int, int, int, int]] = []
    for ch, x, y, w, h in cells:
        glyph = _glyph_alpha(glyph_set, "8" if ch == UNKNOWN else ch, w, h)
        y0, x0 = max(y, 0), max(x, 0)
        y1, x1 = min(y + h, height), min(x + w, width)
        if y1 > y0 and x1 > x0:
            np.maximum(
                alpha[y0:y1, x0:x1],
                glyph[y0 - y : y1 - y, x0 - x : x1 - x],
                out=alpha[y0:y1, x0:x1],
            )
        if ch != DASH:
            char_cells.append((x, y, w, h))
    # Stroke weight varies with font, wear and the camera's sharpening.
    weight = rng.random()
    if height >= 24 and weight < 0.25:
        alpha = cv2.erode(alpha, np.ones((2, 2), np.uint8))
    elif height >= 24 and weight > 0.75:
        alpha = cv2.dilate(alpha, np.ones((2, 2), np.uint8))

    bg = np.array(palette.background, np.float32) * rng.uniform(0.9, 1.05)
    ink = np.array(palette.ink, np.float32)
    pixels = bg + alpha[:, :, None] * (ink - bg)
    border = max(1, height // 28)
    cv2.rectangle(pixels, (0, 0), (width - 1, height - 1), palette.border, border)
    if plate_format.band is not None:
        pixels[border:-border, border:left] = plate_format.band
        ring = (left // 2, height // 3)
        cv2.circle(pixels, ring, max(left // 4, 1), (0, 204, 255), max(1, height // 64))
        cv2.rectangle(
            pixels,
            (left // 4, int(height * 0.62)),
            (left * 3 // 4, int(height * 0.82)),
            (235, 235, 235),
            -1,
        )
    if plate_format.top_strip:
        # A line of small print (city or state name): texture, not meant to be read.
        strip_h = max(int(height * 0.1), 1)
        x0, x1 = int(width * rng.uniform(0.25, 0.35)), int(width * rng.uniform(0.65, 0.75))
        y0 = max(int(height * 0.05), border)
        marks = rng.random(max((x1 - x0) // max(strip_h // 2, 1), 1)) < 0.7
        strip = np.repeat(marks, max(strip_h // 2, 1))[: x1 - x0]
        pixels[y0 : y0 + strip_h, x0 : x0 + strip.size][:, strip] = ink
    return _Plate(pixels, char_cells)


def draw_plate(text: str, fmt: str, rng: np.random.Generator) -> Image:
    """The clean frontal plate of ``text`` in format ``fmt``: (64, w, 3) BGR uint8.

    ``?`` characters are drawn as uniform grey blocks (privacy masks). Palette, glyph set
    and stroke weight come from ``rng``. Raises PlateTextError for text that cannot be a
    plate or holds ``*``, PlateFormatError for an unknown format.
    """
    plate_text = _check_text(text)
    plate = _draw(plate_text, get_format(fmt), CLEAN_HEIGHT, rng)
    pixels = plate.pixels
    for (x, y, w, h), ch in zip(plate.cells, plate_text, strict=True):
        if ch == UNKNOWN:
            pixels[max(y, 0) : y + h, max(x, 0) : x + w] = 150.0
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _background(size: tuple[int, int], rng: np.random.Generator) -> FloatImage:
    """Car body around the plate: a colour with a vertical gradient, (h, w, 3) float32."""
    width, height = size
    body = rng.uniform(10, 230, size=3).astype(np.float32)
    if rng.random() < 0.5:  # most cars are grey-ish
        body[:] = body.mean()
    ramp = np.linspace(rng.uniform(0.5, 1.2), rng.uniform(0.5, 1.2), height, dtype=np.float32)
    return np.ascontiguousarray(
        np.broadcast_to(body * ramp[:, None, None], (height, width, 3)), dtype=np.float32
    )


def _light(img: FloatImage, rng: np.random.Generator, d: float) -> FloatImage:
    """Colour cast, exposure, contrast, shadow ramp and glare; may turn night or IR."""
    h, w = img.shape[:2]
    mode = rng.random()
    if mode < 0.25 * d:  # infrared camera: grey, often green, often light characters
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if rng.random() < 0.6:
            gray = 255.0 - gray
        gray = gray * rng.uniform(0.5, 1.1) + rng.uniform(-20, 30)
        tint = (
            np.array([0.55, 1.0, 0.5], np.float32) * rng.uniform(0.85, 1.15, 3).astype(np.float32)
            if rng.random() < 0.7
            else np.ones(3, np.float32)
        )
        img = gray[:, :, None] * tint
        if rng.random() < 0.5:  # retro-reflective characters bloom under IR
            img = img + 0.5 * cv2.GaussianBlur(img, (0, 0), max(h / 12, 0.8))
    elif mode < 0.4 * d:  # night, white light: dark, low contrast, warm or cold
        img = img * rng.uniform(0.15, 0.45) * rng.uniform(0.8, 1.2, 3).astype(np.float32)
    else:
        cast = rng.uniform(1 - 0.3 * d, 1 + 0.3 * d, 3).astype(np.float32)
        img = img * cast * rng.uniform(1 - 0.4 * d, 1 + 0.25 * d)
    contrast = rng.uniform(1 - 0.6 * d, 1.0)
    mean = float(img.mean())
    img = mean + (img - mean) * contrast
    if rng.random() < 0.4 * d:  # shadow: a linear ramp across the crop
        angle = rng.uniform(0, 2 * np.pi)
        xs = np.linspace(-1, 1, w, dtype=np.float32) * np.cos(angle)
        ys = np.linspace(-1, 1, h, dtype=np.float32) * np.sin(angle)
        ramp = np.clip(0.5 + (xs[None, :] + ys[:, None]) * rng.uniform(1, 4), 0, 1)
        img = img * (1 - rng.uniform(0.2, 0.7) * ramp)[:, :, None]
    if rng.random() < 0.25 * d:  # glare: a bright soft spot
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        sx = rng.uniform(0.1, 0.5) * w
        gx = np.exp(-(((np.arange(w, dtype=np.float32) - cx) / sx) ** 2))
        gy = np.exp(-(((np.arange(h, dtype=np.float32) - cy) / (sx * 0.6)) ** 2))
        img = img + rng.uniform(60, 220) * (gy[:, None] * gx[None, :])[:, :, None]
    return img


def _blur(img: Image, rng: np.random.Generator, d: float) -> Image:
    """Motion blur (a line kernel) and/or defocus (Gaussian), stronger with difficulty."""
    if rng.random() < 0.35 * d:
        k = int(rng.integers(2, 3 + int(5 * d)))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        centre = (k / 2 - 0.5, k / 2 - 0.5)
        rot = cv2.getRotationMatrix2D(centre, float(rng.uniform(-30, 30)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        kernel /= max(float(kernel.sum()), 1e-6)
        img = cv2.filter2D(img, -1, kernel)
    if rng.random() < 0.6 * d:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.5 + 1.2 * d))
    return img


def _corners(
    plate_size: tuple[int, int], rng: np.random.Generator, d: float
) -> tuple[npt.NDArray[np.float32], tuple[int, int]]:
    """Where the plate's four corners land in the crop, and the crop size (w, h).

    plate_size: (w, h) of the plate at its final scale. Rotation, shear and perspective
    grow with difficulty; margins of car body surround the plate as a detector cuts it.
    """
    pw, ph = plate_size
    angle = np.deg2rad(rng.normal(0, 4 * d))
    shear = rng.normal(0, 0.12 * d)
    persp = rng.uniform(-0.12, 0.12) * d  # one side nearer the camera: taller
    pts = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) - [pw / 2, ph / 2]
    pts[:, 0] += shear * pts[:, 1]
    pts[:, 1] *= 1 + persp * np.sign(pts[:, 0])[:] * 1.0
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    pts = pts @ rot.T
    pts += rng.normal(0, 0.015 * d, size=(4, 2)).astype(np.float32) * [pw, ph]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mx = (hi[0] - lo[0]) * rng.uniform(0.01, _lerp(0.04, 0.12, d))
    my = (hi[1] - lo[1]) * rng.uniform(0.03, _lerp(0.12, 0.35, d))
    # A detector's box is not centred on the plate: shift the plate a little.
    shift = rng.uniform(-0.5, 0.5, size=2) * [mx, my] * d
    pts = pts - lo + [mx, my] + shift
    size = (int(np.ceil(hi[0] - lo[0] + 2 * mx)), int(np.ceil(hi[1] - lo[1] + 2 * my)))
    return pts.astype(np.float32), (max(size[0], 8), max(size[1], 8))


def _occlude(
    img: FloatImage, rng: np.random.Generator, plate_box: tuple[int, int, int, int]
) -> None:
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
    target_h = int(round(np.exp(rng.uniform(np.log(lo_h), np.log(hi_h)))))
    draw_h = max(target_h, 32)
    plate = _draw(plate_text, plate_format, draw_h, rng)
    ph0, pw0 = plate.pixels.shape[:2]
    scale = target_h / ph0
    pts, size = _corners((pw0 * scale, target_h), rng, d)
    src = np.array([[0, 0], [pw0, 0], [pw0, ph0], [0, ph0]], np.float32)
    homography = cv2.getPerspectiveTransform(src, pts)
    crop = _background(size, rng)
    src_img = plate.pixels
    if scale < 0.7:  # shrink with area averaging first so thin strokes do not alias away
        src_img = cv2.resize(
            src_img,
            (max(int(pw0 * scale * 1.4), 4), max(int(ph0 * scale * 1.4), 4)),
            interpolation=cv2.INTER_AREA,
        )
        shrink = np.diag([pw0 / src_img.shape[1], ph0 / src_img.shape[0], 1.0]).astype(np.float64)
        homography = homography @ shrink
    cv2.warpPerspective(
        src_img,
        homography,
        size,
        dst=crop,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )
    box = cv2.boundingRect(pts)
    if rng.random() < 0.12 * d:
        _occlude(crop, rng, box)
    crop = _light(crop, rng, d)
    if rng.random() < 0.15 * d:  # light characters on dark: inverted polarity
        crop = 255.0 - crop
    out = np.clip(crop, 0, 255).astype(np.uint8)
    out = _blur(out, rng, d)
    sigma = rng.uniform(0, 12 * d)
    if sigma > 0.5:
        noise = rng.normal(0, sigma, size=out.shape).astype(np.float32)
        out = np.clip(out + noise, 0, 255).astype(np.uint8)
    masked = [cell for cell, ch in zip(plate.cells, plate_text, strict=True) if ch == UNKNOWN]
    if masked:
        grey = rng.uniform(90, 200) + rng.uniform(-12, 12, 3)
        for x, y, w, h in masked:
            quad = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
            warped = cv2.perspectiveTransform(quad[None], cv2.getPerspectiveTransform(src, pts))[0]
            cv2.fillConvexPoly(out, np.round(warped).astype(np.int32), grey.tolist())
    if rng.random() < 0.8 * max(d, 0.1):
        quality = int(rng.uniform(_lerp(90, 20, d), 95))
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(out, dtype=np.uint8)


def mask_characters(plate_text: str, rng: np.random.Generator) -> str:
    """Hide one to three characters (UC3M hides two) with ``?``."""
    chars = list(plate_text)
    count = min(int(rng.choice([1, 2, 2, 2, 3])), len(chars))
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
