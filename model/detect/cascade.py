"""OpenCV's Haar cascade for plates (``haarcascade_russian_plate_number.xml``).

It needs no network and runs in a few milliseconds, but it was trained on one country's
plates and misses or misplaces many others; docs/detection.md gives its measured figures.
It ships with opencv-python(-headless) 4.x; OpenCV 5 dropped the cascades.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from model.detect._frames import usable_pixels
from model.detect._ppocr import BackendUnavailableError
from model.detect.options import BackendOptions
from model.types import Frame, PlateDetections

log = logging.getLogger(__name__)

CASCADE_FILE = "haarcascade_russian_plate_number.xml"


class CascadeOptions(BackendOptions):
    """Settings of the ``cascade`` backend."""

    max_side: int = Field(default=800, ge=64, le=4096, title="longer side the frame is scaled to")
    scale_factor: float = Field(default=1.1, gt=1.0, le=2.0, title="step between searched scales")
    min_neighbors: int = Field(default=4, ge=0, le=50, title="overlapping hits a plate needs")
    min_width: int = Field(default=24, ge=8, title="smallest plate searched, in scaled pixels")


def cascade_path() -> Path:
    """Where OpenCV keeps the plate cascade; raises BackendUnavailableError if it is gone."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if folder is None or not hasattr(cv2, "CascadeClassifier"):
        raise BackendUnavailableError(
            f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 dropped them); "
            "install opencv-python-headless==4.14.0.94"
        )
    path = Path(folder) / CASCADE_FILE
    if not path.is_file():
        raise BackendUnavailableError(f"{path} is missing; reinstall opencv-python-headless 4.x")
    return path


class CascadeDetector:
    """Axis-aligned plate boxes from the Haar cascade; scores from its stage weights."""

    name = "cascade"

    def __init__(self, options: CascadeOptions | None = None) -> None:
        self.options = options or CascadeOptions()
        self._cascade = cv2.CascadeClassifier(str(cascade_path()))
        if self._cascade.empty():
            raise BackendUnavailableError(f"OpenCV could not load {cascade_path()}")

    def detect(self, frame: Frame) -> PlateDetections:
        """Plate boxes (x, y, w, h in frame pixels) and scores in [0, 1]."""
        pixels = usable_pixels(frame)
        if pixels is None:
            return PlateDetections()
        o = self.options
        scale = min(1.0, o.max_side / max(pixels.shape[:2]))
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        min_size = (o.min_width, max(1, o.min_width // 4))
        if min(grey.shape) < min_size[1] or grey.shape[1] < min_size[0]:
            return PlateDetections()
        boxes, _, weights = self._cascade.detectMultiScale3(
            grey,
            scaleFactor=o.scale_factor,
            minNeighbors=o.min_neighbors,
            minSize=min_size,
            outputRejectLevels=True,
        )
        if len(boxes) == 0:
            return PlateDetections()
        # The last stage's weight is a margin, not a probability; squash it to (0, 1).
        scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, np.float64).reshape(-1)))
        return PlateDetections(
            (np.asarray(boxes, np.float32).reshape(-1, 4) / scale).astype(np.float32),
            scores.astype(np.float32),
        )
