"""What a road camera and a detector do to a plate: tight crop geometry and the car body
around it, exposure and colour (day, night, infrared), blur, noise, dirt, occlusion and
the privacy blocks of published photos. Private to alphabet.synth; uint8 throughout.

Every ``d`` argument is the crop's difficulty, 0 (clean) to 1 (the full training mix);
every ``rng`` the caller's numpy Generator, so one seed gives one crop.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]


def lerp(a: float, b: float, t: float) -> float:
    """a at t = 0, b at t = 1, linear between."""
    return a + (b - a) * t


def background(size: tuple[int, int], rng: np.random.Generator, d: float) -> Image:
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


def plate_holder(img: Image, corners: npt.NDArray[np.float32], rng: np.random.Generator) -> None:
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
    contrast = rng.uniform(lerp(0.9, 0.3, d), lerp(1.0, 0.85, d))
    channel_mean = np.array(cv2.mean(img)[:3])
    mean = float((linear @ channel_mean + offset).mean())
    matrix = np.hstack([linear * contrast, (offset * contrast + mean * (1 - contrast))[:, None]])
    return matrix.astype(np.float32), infrared


def _gaussian(img: Image, sigma: float) -> Image:
    """Gaussian blur with the kernel cut at two sigmas (OpenCV's default is three for
    uint8): the tails change nothing visible and cost a third of the time."""
    k = 2 * int(2 * sigma + 0.5) + 1
    return np.asarray(cv2.GaussianBlur(img, (k, k), sigma), np.uint8)


def light(img: Image, rng: np.random.Generator, d: float) -> Image:
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


def blur(img: Image, rng: np.random.Generator, d: float, plate_h: int) -> Image:
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


def corners(
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
    mx = span_x * rng.uniform(-0.01 * d, lerp(0.04, 0.08, d))
    my = span_y * rng.uniform(-0.03 * d, lerp(0.12, 0.25, d))
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


def noise(shape: tuple[int, ...], rng: np.random.Generator) -> FloatImage:
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


def privacy_masks(
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


def grime(img: Image, rng: np.random.Generator) -> Image:
    """Dirt and wear: the crop darkened by up to 25% in soft blotches a few characters
    wide (a coarse random field, enlarged smoothly)."""
    h, w = img.shape[:2]
    field = rng.uniform(255 * 0.75, 255, size=(3, 8)).astype(np.uint8)
    blotches = cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.asarray(
        cv2.multiply(img, cv2.cvtColor(blotches, cv2.COLOR_GRAY2BGR), scale=1 / 255), np.uint8
    )


def occlude(img: Image, rng: np.random.Generator, plate_box: tuple[int, int, int, int]) -> None:
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
