"""Synthetic road frames with known plates: for detector tests and the built-in camera.

:func:`synth_scene` draws one still frame: sky, buildings, road, a few car-like shapes
each carrying a plate, and non-plate text (road signs, shop signs) that a detector must
not take for a plate. :class:`SyntheticTraffic` is a deterministic moving scene: cars
cross the view one after another, and between cars the picture is exactly still.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.formats import FORMATS, guess_format, random_plate_text
from alphabet.synth import draw_plate
from alphabet.text import normalize
from platewatch.errors import PlatewatchError

Image = npt.NDArray[np.uint8]

#: Words a detector sees on signs and shop fronts; none of them is a plate.
SIGN_WORDS = (
    "STOP", "BUS", "TAXI", "PARKING", "EXIT", "HOTEL", "PHARMACY", "SPEED 50", "KM 12",
    "OPEN 24H", "CAFE", "A4 BERLIN", "TEL 555 0134", "SALE -50%",
)  # fmt: skip


class SceneError(PlatewatchError, ValueError):
    """Scene arguments out of range; the message names the argument."""


@dataclass(frozen=True)
class Scene:
    """One synthetic frame and the plates in it.

    pixels: (H, W, 3) BGR uint8. boxes: (N, 4) float32 x, y, w, h in pixels, each inside
    the frame. texts: N normalised plate texts. formats: N format names.
    """

    pixels: Image
    boxes: npt.NDArray[np.float32]
    texts: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.pixels.ndim != 3 or self.pixels.shape[2] != 3 or self.pixels.dtype != np.uint8:
            raise SceneError(
                f"pixels must be (H, W, 3) uint8, got {self.pixels.shape} {self.pixels.dtype}"
            )
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise SceneError(f"boxes must be (N, 4), got {self.boxes.shape}")
        if not len(self.texts) == len(self.formats) == len(self.boxes):
            raise SceneError(
                f"{len(self.boxes)} boxes, {len(self.texts)} texts and {len(self.formats)} "
                "formats: they must be as many"
            )


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    if width < 64 or height < 64:
        raise SceneError(f"size must be at least 64x64 (width, height), got {width}x{height}")
    return int(width), int(height)


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, size=3)
    return int(c[0]), int(c[1]), int(c[2])


def _backdrop(size: tuple[int, int], rng: np.random.Generator) -> Image:
    """Sky, buildings with windows, a road with lane marks and a few signs: (H, W, 3)."""
    width, height = size
    horizon = int(height * rng.uniform(0.3, 0.5))
    sky = np.linspace(rng.uniform(150, 240), rng.uniform(90, 200), horizon, dtype=np.float32)
    img = np.empty((height, width, 3), np.uint8)
    tint = rng.uniform(0.8, 1.1, 3).astype(np.float32)
    img[:horizon] = np.clip(sky[:, None, None] * tint, 0, 255).astype(np.uint8)
    img[horizon:] = _colour(rng, 60, 110)
    x = 0
    while x < width:  # a skyline of buildings
        bw = int(width * rng.uniform(0.06, 0.2))
        top = int(horizon * rng.uniform(0.1, 0.8))
        cv2.rectangle(img, (x, top), (x + bw, horizon), _colour(rng, 60, 200), -1)
        step = max(bw // 5, 4)
        for wx in range(x + step // 2, x + bw - step // 2, step):
            for wy in range(top + step // 2, horizon - step, step):
                if rng.random() < 0.6:
                    cv2.rectangle(
                        img, (wx, wy), (wx + step // 2, wy + step // 2), _colour(rng, 30, 230), -1
                    )
        x += bw
    lane_y = (horizon + height) // 2
    for lx in range(0, width, max(width // 10, 8)):
        cv2.rectangle(
            img,
            (lx, lane_y),
            (lx + max(width // 20, 4), lane_y + max(height // 120, 1)),
            (220, 220, 220),
            -1,
        )
    for _ in range(int(rng.integers(1, 4))):  # signs: text that is not a plate
        word = SIGN_WORDS[int(rng.integers(len(SIGN_WORDS)))]
        scale = max(width / 1280, 0.1) * rng.uniform(0.6, 1.4)
        (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, scale, max(int(2 * scale), 1))
        sx = int(rng.uniform(0, max(width - tw - 10, 1)))
        sy = int(rng.uniform(th + 10, max(horizon, th + 11)))
        background, ink = (
            ((30, 110, 30), (255, 255, 255))
            if rng.random() < 0.5
            else ((230, 230, 230), (20, 20, 20))
        )
        cv2.rectangle(img, (sx - 5, sy - th - 5), (sx + tw + 5, sy + 5), background, -1)
        cv2.putText(
            img,
            word,
            (sx, sy),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            ink,
            max(int(2 * scale), 1),
            cv2.LINE_AA,
        )
    return img


@dataclass(frozen=True)
class _Car:
    """A car seen from behind, with its plate: a sprite and where the plate sits on it.

    pixels: (h, w, 3) uint8; mask: (h, w) bool, True on the car; plate: (x, y, w, h).
    """

    pixels: Image
    mask: npt.NDArray[np.bool_]
    plate: tuple[int, int, int, int]
    text: str
    fmt: str


def _car(text: str, fmt: str, plate_h: int, rng: np.random.Generator) -> _Car:
    """Draw a boxy car rear ``plate_h * 9`` px wide around a frontal plate ``plate_h`` high."""
    plate = draw_plate(text, fmt, rng, height=max(plate_h, 8))
    ph, pw = plate.shape[:2]
    cw = max(int(ph * rng.uniform(8, 10)), pw + 8)
    ch = int(cw * rng.uniform(0.6, 0.8))
    body = _colour(rng, 20, 235)
    pixels = np.zeros((ch, cw, 3), np.uint8)
    mask = np.zeros((ch, cw), np.uint8)
    roof = int(ch * 0.4)
    cabin = np.array(
        [[cw * 0.18, 0], [cw * 0.82, 0], [cw * 0.95, roof], [cw * 0.05, roof]], np.int32
    )
    for layer, value in ((pixels, body), (mask, 1)):
        cv2.fillConvexPoly(layer, cabin, value)
        cv2.rectangle(layer, (0, roof), (cw - 1, int(ch * 0.9)), value, -1)
        for wx in (int(cw * 0.15), int(cw * 0.85)):  # wheels below the body
            cv2.circle(
                layer,
                (wx, int(ch * 0.88)),
                max(int(ch * 0.12), 2),
                (25, 25, 25) if layer is pixels else 1,
                -1,
            )
    glass = np.array(
        [
            [cw * 0.22, ch * 0.05],
            [cw * 0.78, ch * 0.05],
            [cw * 0.88, roof * 0.92],
            [cw * 0.12, roof * 0.92],
        ],
        np.int32,
    )
    cv2.fillConvexPoly(pixels, glass, _colour(rng, 30, 90))
    light_y = int(roof + ch * 0.08)
    for lx in (int(cw * 0.04), int(cw * 0.84)):  # rear lights
        cv2.rectangle(
            pixels,
            (lx, light_y),
            (lx + int(cw * 0.12), light_y + int(ch * 0.08)),
            (30, 30, 200),
            -1,
        )
    px = (cw - pw) // 2
    py = min(int(ch * rng.uniform(0.58, 0.66)), ch - ph - 1)
    pixels[py : py + ph, px : px + pw] = plate
    return _Car(pixels, mask.astype(bool), (px, py, pw, ph), text, fmt)


def _paste(img: Image, car: _Car, x: int, y: int) -> tuple[float, float, float, float] | None:
    """Draw ``car`` with its top-left at (x, y), clipped to the frame, in place.

    Returns the plate's box in the frame, or None when the plate is not wholly in view.
    """
    height, width = img.shape[:2]
    ch, cw = car.mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + cw, width), min(y + ch, height)
    if x1 > x0 and y1 > y0:
        mask = car.mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
        sprite = car.pixels[y0 - y : y1 - y, x0 - x : x1 - x]
        np.copyto(img[y0:y1, x0:x1], sprite, where=mask)
    px, py, pw, ph = car.plate
    bx, by = x + px, y + py
    if bx < 0 or by < 0 or bx + pw > width or by + ph > height:
        return None
    return float(bx), float(by), float(pw), float(ph)


def _boxes(boxes: list[tuple[float, float, float, float]]) -> npt.NDArray[np.float32]:
    return np.array(boxes, np.float32).reshape(-1, 4)


def synth_scene(
    rng: np.random.Generator,
    size: tuple[int, int] = (1280, 720),
    n_plates: tuple[int, int] = (1, 3),
) -> Scene:
    """A still road scene (width, height) = ``size`` with between ``n_plates[0]`` and
    ``n_plates[1]`` plates (inclusive) on cars side by side, plus non-plate sign text.

    Plates are 12-60 px high at 1280x720 (scaled with the frame), in random formats.
    """
    width, height = _check_size(size)
    lo, hi = n_plates
    if not 0 <= lo <= hi:
        raise SceneError(f"n_plates must be (min, max) with 0 <= min <= max, got {n_plates}")
    img = _backdrop((width, height), rng)
    count = int(rng.integers(lo, hi + 1))
    names = sorted(FORMATS)
    boxes: list[tuple[float, float, float, float]] = []
    texts: list[str] = []
    formats: list[str] = []
    slot = width / max(count, 1)
    for k in range(count):
        fmt = names[int(rng.integers(len(names)))]
        text = random_plate_text(fmt, rng)
        # A car must fit its slot: at most 1/10 of the slot per plate height.
        cap = max(int(slot / 10), 8)
        plate_h = min(int(np.exp(rng.uniform(np.log(12), np.log(60))) * height / 720), cap)
        car = _car(text, fmt, max(plate_h, 8), rng)
        ch, cw = car.mask.shape
        x = int(k * slot + rng.uniform(0, max(slot - cw, 0)))
        y = int(rng.uniform(height * 0.45, max(height - ch, height * 0.45 + 1)))
        box = _paste(img, car, x, y)
        if box is not None:
            boxes.append(box)
            texts.append(text)
            formats.append(fmt)
    # Sensor noise, one value per pixel for all channels (cheap at full-HD).
    noise = rng.integers(-4, 5, size=img.shape[:2], dtype=np.int16)[:, :, None]
    img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    # The lens and the stream's encoder: a little softness and JPEG blocks, as on cameras.
    if rng.random() < 0.7:
        img = np.asarray(cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.0)), np.uint8)
    if rng.random() < 0.5:
        quality = int(rng.integers(50, 95))
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            img = np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR), np.uint8)
    return Scene(img, _boxes(boxes), texts, formats)


class SyntheticTraffic:
    """A deterministic road for the built-in camera: cars cross the view one at a time.

    Car k carries ``plates[k % len(plates)]`` (random plates when none are given), drives
    across the frame in 2.5-4 s, and 1-2 s of still, empty road follow before the next.
    ``frame(i)`` depends only on the seed and i, so any frame can be drawn again; frames
    between cars are pixel-identical (a motion gate sees nothing).
    """

    def __init__(
        self,
        seed: int,
        size: tuple[int, int] = (1280, 720),
        fps: float = 5.0,
        plates: Sequence[str] | None = None,
    ) -> None:
        if fps <= 0:
            raise SceneError(f"fps must be positive, got {fps}")
        self.seed = int(seed)
        self.size = _check_size(size)
        self.fps = float(fps)
        self.plates = [normalize(p) for p in plates] if plates else []
        self._background = _backdrop(self.size, np.random.default_rng([self.seed, 0]))
        self._background.setflags(write=False)
        #: frame where car k enters, and frames it is in view; extended as needed.
        self._starts: list[int] = []
        self._lengths: list[int] = []
        self._cars: dict[int, _Car] = {}

    def _schedule(self, i: int) -> tuple[int, int] | None:
        """(car index, step within its crossing) for frame i, None between cars."""
        while not self._starts or self._starts[-1] + self._lengths[-1] <= i:
            k = len(self._starts)
            rng = np.random.default_rng([self.seed, 1, k])
            gap = max(round(rng.uniform(1.0, 2.0) * self.fps), 1)
            start = (self._starts[-1] + self._lengths[-1] if k else 0) + gap
            self._starts.append(start)
            self._lengths.append(max(round(rng.uniform(2.5, 4.0) * self.fps), 3))
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        if k < 0 or i >= self._starts[k] + self._lengths[k]:
            return None
        return k, i - self._starts[k]

    def car(self, k: int) -> _Car:
        """Car k's sprite (cached: it looks the same in every frame of its crossing)."""
        if k not in self._cars:
            rng = np.random.default_rng([self.seed, 2, k])
            if self.plates:
                text = self.plates[k % len(self.plates)]
                fmt = guess_format(text)
            else:
                fmt = sorted(FORMATS)[int(rng.integers(len(FORMATS)))]
                text = random_plate_text(fmt, rng)
            width, height = self.size
            plate_h = max(int(height * rng.uniform(0.045, 0.07)), 8)
            plate_h = min(plate_h, max(width // 12, 8))
            if len(self._cars) > 64:  # cars long gone are not drawn again in order
                self._cars.clear()
            self._cars[k] = _car(text, fmt, plate_h, rng)
        return self._cars[k]

    def frame(self, i: int) -> Scene:
        """Frame i (i >= 0) of the road: (H, W, 3) BGR uint8 with its plates' boxes."""
        if i < 0:
            raise SceneError(f"frame index must be >= 0, got {i}")
        when = self._schedule(i)
        if when is None:
            return Scene(self._background.copy(), _boxes([]), [], [])
        k, step = when
        car = self.car(k)
        width, height = self.size
        ch, cw = car.mask.shape
        rng = np.random.default_rng([self.seed, 3, k])
        left_to_right = rng.random() < 0.5
        y = int(rng.uniform(height * 0.5, max(height - ch, height * 0.5 + 1)))
        progress = (step + 0.5) / self._lengths[k]
        travel = -cw + (width + cw) * (progress if left_to_right else 1 - progress)
        img = self._background.copy()
        box = _paste(img, car, int(travel), y)
        if box is None:
            return Scene(img, _boxes([]), [], [])
        return Scene(img, _boxes([box]), [car.text], [car.fmt])
