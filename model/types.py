"""The typed results that flow between pipeline stages.

Each stage hands on one small frozen object of parallel arrays whose shapes are checked
when it is made, so a mistake shows where it happens, not three stages later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt


class ShapeError(ValueError):
    """A pipeline result was built with arrays of inconsistent shape or type."""


@dataclass(frozen=True)
class Frame:
    """One decoded camera frame.

    pixels: (H, W, 3) uint8, BGR (OpenCV's order).
    regions: the parts of the frame worth searching for plates, (x, y, w, h) in pixels,
    as the motion gate found them; empty: the whole frame. Detectors that honour it
    search only there and still report boxes in whole-frame pixels.
    """

    camera: str
    time: datetime
    pixels: npt.NDArray[np.uint8]
    index: int = 0
    regions: tuple[tuple[int, int, int, int], ...] = ()

    def __post_init__(self) -> None:
        p = self.pixels
        if not isinstance(p, np.ndarray) or p.dtype != np.uint8:
            raise ShapeError("Frame.pixels must be a uint8 numpy array")
        if p.ndim != 3 or p.shape[2] != 3 or p.shape[0] < 1 or p.shape[1] < 1:
            raise ShapeError(f"Frame.pixels must be (H, W, 3) BGR, got shape {p.shape}")
        for region in self.regions:
            if len(region) != 4:
                raise ShapeError(f"Frame.regions holds (x, y, w, h) boxes, got {region!r}")
            x, y, w, h = region
            if w < 1 or h < 1 or x < 0 or y < 0 or x + w > p.shape[1] or y + h > p.shape[0]:
                size = f"{p.shape[1]}x{p.shape[0]}"
                raise ShapeError(f"Frame region {region!r} is empty or outside the {size} frame")

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def _empty_boxes() -> npt.NDArray[np.float32]:
    return np.zeros((0, 4), np.float32)


def _empty_scores() -> npt.NDArray[np.float32]:
    return np.zeros((0,), np.float32)


def _check_readings(
    n: int, readings: list[str] | None, confidences: npt.NDArray[np.float32] | None
) -> None:
    """Readings come with their confidences, one of each per box, or not at all."""
    if (readings is None) != (confidences is None):
        raise ShapeError("readings and read_confidences come together or not at all")
    if (
        readings is not None
        and confidences is not None
        and (len(readings) != n or confidences.shape != (n,))
    ):
        raise ShapeError(
            f"{n} boxes need {n} readings and read_confidences ({n},), "
            f"got {len(readings)} and {confidences.shape}"
        )


def _pick_readings(
    readings: list[str] | None,
    confidences: npt.NDArray[np.float32] | None,
    mask: npt.NDArray[np.bool_] | npt.NDArray[np.intp],
) -> tuple[list[str] | None, npt.NDArray[np.float32] | None]:
    if readings is None or confidences is None:
        return None, None
    index = np.arange(len(readings))[mask]
    return [readings[i] for i in index], confidences[mask]


@dataclass(frozen=True)
class PlateDetections:
    """Plate boxes found in one frame.

    boxes: (N, 4) float32, x, y, w, h in pixels of the frame (top-left corner, size).
    scores: (N,) float32 in [0, 1].
    quads: optional (N, 4, 2) float32 corner points (clockwise from top-left) for tilted
    plates; None where the detector gives only axis-aligned boxes.
    readings: optional N plate texts (A-Z0-9, "" where nothing was read) that the detector
    read on each box's text line while checking it; None where the detector does not read.
    read_confidences: (N,) float32 in [0, 1], the confidence of each reading; None with them.
    """

    boxes: npt.NDArray[np.float32] = field(default_factory=_empty_boxes)
    scores: npt.NDArray[np.float32] = field(default_factory=_empty_scores)
    quads: npt.NDArray[np.float32] | None = None
    readings: list[str] | None = None
    read_confidences: npt.NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        b, s = self.boxes, self.scores
        if b.ndim != 2 or b.shape[1] != 4:
            raise ShapeError(f"boxes must be (N, 4), got {b.shape}")
        if s.shape != (b.shape[0],):
            raise ShapeError(f"scores must be ({b.shape[0]},), got {s.shape}")
        if self.quads is not None and self.quads.shape != (b.shape[0], 4, 2):
            raise ShapeError(f"quads must be ({b.shape[0]}, 4, 2), got {self.quads.shape}")
        _check_readings(b.shape[0], self.readings, self.read_confidences)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def __getitem__(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> PlateDetections:
        quads = None if self.quads is None else self.quads[mask]
        readings, conf = _pick_readings(self.readings, self.read_confidences, mask)
        return PlateDetections(self.boxes[mask], self.scores[mask], quads, readings, conf)


@dataclass(frozen=True)
class PlateCrops:
    """Plate regions cut out of one frame, straightened, ready for preprocessing.

    images: list of N (h, w, 3) uint8 BGR crops (sizes differ).
    boxes: (N, 4) float32, the box each crop came from (x, y, w, h in frame pixels).
    scores: (N,) float32 detector confidence.
    readings, read_confidences: the detector's reading of each plate and its confidence
    (as on PlateDetections; None where the detector does not read).
    """

    images: list[npt.NDArray[np.uint8]]
    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    readings: list[str] | None = None
    read_confidences: npt.NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,):
            raise ShapeError(
                f"{n} crops need boxes (N, 4) and scores (N,), "
                f"got {self.boxes.shape} and {self.scores.shape}"
            )
        for i, im in enumerate(self.images):
            if im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3 or min(im.shape[:2]) < 1:
                raise ShapeError(f"crop {i} must be a non-empty (h, w, 3) uint8 image")
        _check_readings(n, self.readings, self.read_confidences)

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class Embeddings:
    """Unit vectors for a batch of plate images.

    vectors: (N, D) float32, each row of L2 norm 1.
    readings: N plate texts read from the same images ("" where nothing was read).
    confidences: (N,) float32 in [0, 1], confidence of each reading.
    """

    vectors: npt.NDArray[np.float32]
    readings: list[str]
    confidences: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        v = self.vectors
        if v.ndim != 2 or v.dtype != np.float32:
            raise ShapeError(f"vectors must be (N, D) float32, got {v.shape} {v.dtype}")
        n = v.shape[0]
        if len(self.readings) != n or self.confidences.shape != (n,):
            raise ShapeError(f"{n} vectors need {n} readings and confidences")

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])
