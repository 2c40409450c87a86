"""A cheap "did anything move?" check, so a static scene costs almost nothing.

The frame is shrunk to a small grey thumbnail, blurred, and compared with the last
thumbnail that counted as changed; a frame is "changed" when enough of the picture
differs by more than a threshold. Comparing against the last *changed* frame (not the
previous one) keeps a slow pan or a creeping shadow from slipping through frame by frame.

A changed frame also says *where* it changed (:attr:`Motion.regions`): the changed
patches of the thumbnail, grown by a margin and merged, in frame pixels. Detectors search
only those parts of the frame (``Frame.regions``), so a car crossing a fixed camera's view
costs the detector a fraction of the whole picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from model.types import Frame
from platewatch.errors import PlatewatchError


class MotionConfigError(PlatewatchError, ValueError):
    """A MotionGate setting is out of range; the message names it."""


@dataclass(frozen=True)
class MotionOptions:
    """width: thumbnail width in pixels (height follows the aspect ratio).
    threshold: grey-level difference (0-255) that counts a pixel as changed.
    min_area: fraction of the thumbnail (0-1) that must change for the frame to count.
    margin: how far each changed patch is grown, as a fraction of the frame's longer side
    (a plate sits inside its moving car, and the detector needs some context around it).
    max_region_area: when the grown regions cover more than this fraction of the frame,
    the whole frame is searched instead.
    """

    width: int = 160
    threshold: int = 18
    min_area: float = 0.002
    margin: float = 0.05
    max_region_area: float = 0.6

    def __post_init__(self) -> None:
        if not 8 <= self.width <= 4096:
            raise MotionConfigError(f"width must be 8..4096 pixels, got {self.width}")
        if not 1 <= self.threshold <= 254:
            raise MotionConfigError(f"threshold must be 1..254 grey levels, got {self.threshold}")
        if not 0.0 <= self.min_area <= 1.0:
            raise MotionConfigError(f"min_area must be a fraction 0..1, got {self.min_area}")
        if not 0.0 <= self.margin <= 1.0:
            raise MotionConfigError(f"margin must be a fraction 0..1, got {self.margin}")
        if not 0.0 <= self.max_region_area <= 1.0:
            raise MotionConfigError(
                f"max_region_area must be a fraction 0..1, got {self.max_region_area}"
            )


#: A part of a frame: x, y, width, height in pixels.
Region = tuple[int, int, int, int]

#: More separate regions than this are searched as their one enclosing box.
MAX_REGIONS = 4


@dataclass(frozen=True)
class Motion:
    """The gate's verdict on one frame.

    changed: the frame differs enough from the last changed frame to be looked at.
    regions: where it changed (x, y, w, h in frame pixels, not overlapping); empty when
    the whole frame should be searched (the first frame, a new size, a change over most
    of the picture) or when nothing changed.
    """

    changed: bool
    regions: tuple[Region, ...] = ()


class MotionGate:
    """One per camera: ``changed(frame)`` is True for the first frame, after a change, and
    when the frame size changes; False while the scene stays still."""

    def __init__(self, options: MotionOptions | None = None) -> None:
        self.options = options or MotionOptions()
        self._reference: npt.NDArray[np.uint8] | None = None

    def _thumbnail(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        h, w = pixels.shape[:2]
        tw = min(self.options.width, w)
        th = max(1, round(h * tw / w))
        # Nearest-neighbour sampling then a blur: far cheaper than INTER_AREA on a full
        # frame, and the blur removes the sensor noise that sampling lets through.
        small = cv2.resize(pixels, (tw, th), interpolation=cv2.INTER_NEAREST)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return np.asarray(cv2.GaussianBlur(grey, (5, 5), 0), np.uint8)

    def changed(self, frame: Frame) -> bool:
        """True when the frame differs enough from the last changed frame."""
        return self.check(frame).changed

    def check(self, frame: Frame) -> Motion:
        """Whether the frame differs enough from the last changed frame, and where."""
        thumb = self._thumbnail(frame.pixels)
        ref = self._reference
        if ref is None or ref.shape != thumb.shape:
            self._reference = thumb
            return Motion(True)
        mask = cv2.absdiff(thumb, ref) > self.options.threshold
        if np.count_nonzero(mask) < max(1, self.options.min_area * mask.size):
            return Motion(False)
        self._reference = thumb
        return Motion(True, self._regions(mask, frame.width, frame.height))

    def _regions(self, mask: npt.NDArray[np.bool_], width: int, height: int) -> tuple[Region, ...]:
        """The changed patches of a thumbnail mask as grown, merged frame regions."""
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        sx, sy = width / mask.shape[1], height / mask.shape[0]
        grow = self.options.margin * max(width, height)
        boxes = []
        for x, y, w, h, _area in stats[1:count]:
            boxes.append(
                [
                    max(0.0, x * sx - grow),
                    max(0.0, y * sy - grow),
                    min(float(width), (x + w) * sx + grow),
                    min(float(height), (y + h) * sy + grow),
                ]
            )
        merged = _merge(boxes)
        if len(merged) > MAX_REGIONS:
            merged = [
                [
                    min(b[0] for b in merged),
                    min(b[1] for b in merged),
                    max(b[2] for b in merged),
                    max(b[3] for b in merged),
                ]
            ]
        area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in merged)
        if not merged or area > self.options.max_region_area * width * height:
            return ()
        out = []
        for x0, y0, x1, y1 in merged:
            left, top = int(np.floor(x0)), int(np.floor(y0))
            out.append((left, top, int(np.ceil(x1)) - left, int(np.ceil(y1)) - top))
        return tuple(out)

    def reset(self) -> None:
        """Forget the reference: the next frame counts as changed."""
        self._reference = None


def _merge(boxes: list[list[float]]) -> list[list[float]]:
    """Boxes (x0, y0, x1, y1) joined until none overlap: each overlapping pair becomes
    their enclosing box."""
    boxes = [list(b) for b in boxes]
    joined = True
    while joined:
        joined = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    joined = True
                    break
            if joined:
                break
    return boxes
