"""Synthetic frames with plates drawn from the committed glyphs, for detector tests.

Each plate is the seed's render of its text on a white plate with a dark border, pasted
(optionally tilted) onto a noisy grey street-like background, so the true box is known.
Also the run every backend's real-photo test shares (:func:`tally_on_real_photos`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.render import render
from model.detect.evaluate import Tally, evaluate, load_labels
from model.protocols import Detector
from model.types import Frame, PlateDetections


@dataclass(frozen=True)
class Scene:
    """A frame and its true plates. boxes: (N, 4) float32 x, y, w, h; quads: (N, 4, 2)."""

    frame: Frame
    texts: tuple[str, ...]
    boxes: npt.NDArray[np.float32]
    quads: npt.NDArray[np.float32]


def plate_image(text: str, width: int) -> npt.NDArray[np.uint8]:
    """A (width/4.5, width, 3) BGR plate: black glyphs on white with a dark border."""
    height = max(8, round(width / 4.5))
    border = max(1, height // 12)
    inner = render(text, size=(width - 4 * border, height - 4 * border))
    plate = np.full((height, width), 250, np.uint8)
    plate[2 * border : height - 2 * border, 2 * border : width - 2 * border] = np.maximum(inner, 30)
    cv2.rectangle(plate, (0, 0), (width - 1, height - 1), 20, border)
    return np.asarray(cv2.cvtColor(plate, cv2.COLOR_GRAY2BGR), np.uint8)


def background(size: tuple[int, int], seed: int = 0) -> npt.NDArray[np.uint8]:
    """(height, width, 3) noisy grey gradient with a few dark car-like blocks."""
    width, height = size
    rng = np.random.default_rng(seed)
    ramp = np.linspace(70, 150, width, dtype=np.float32)[None, :].repeat(height, 0)
    img = ramp[..., None] + rng.normal(0, 6, (height, width, 3))
    for _ in range(3):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        cv2.rectangle(img, (x, y), (x + width // 5, y + height // 6), (40, 45, 50), -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def scene(
    texts: tuple[str, ...] = ("AB123CD",),
    size: tuple[int, int] = (1280, 720),
    plate_width: int = 220,
    tilt_deg: float = 0.0,
    seed: int = 0,
) -> Scene:
    """A frame of ``size`` (width, height) with one plate per text, left to right."""
    pixels = background(size, seed)
    width, height = size
    boxes, quads = [], []
    for i, text in enumerate(texts):
        plate = plate_image(text, plate_width)
        ph, pw = plate.shape[:2]
        cx = (i + 1) * width / (len(texts) + 1)
        cy = height * 0.6
        matrix = cv2.getRotationMatrix2D((pw / 2, ph / 2), tilt_deg, 1.0)
        matrix[:, 2] += (cx - pw / 2, cy - ph / 2)
        corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        quad = cv2.transform(corners[None], matrix)[0]
        mask = cv2.warpAffine(np.full((ph, pw), 255, np.uint8), matrix, size)
        warped = cv2.warpAffine(plate, matrix, size)
        pixels[mask > 127] = warped[mask > 127]
        lo, hi = quad.min(0), quad.max(0)
        boxes.append([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
        quads.append(quad)
    frame = Frame(camera="test", time=datetime.now(UTC), pixels=pixels)
    return Scene(frame, tuple(texts), np.array(boxes, np.float32), np.array(quads, np.float32))


def frame_of(pixels: npt.NDArray[np.uint8]) -> Frame:
    """A Frame around raw BGR pixels."""
    return Frame(camera="test", time=datetime.now(UTC), pixels=pixels)


def tally_on_real_photos(detector: Detector, folder: Path, split: str | None) -> Tally:
    """Run a backend over the first 12 labelled photos of a shared folder; every result must
    be a PlateDetections. Returns the evaluation tally of all 12."""
    tally = None
    for _, found, tally in evaluate(detector, load_labels(folder, split, limit=12)):  # noqa: B007
        assert isinstance(found, PlateDetections)
    assert tally is not None and tally.images == 12
    return tally
