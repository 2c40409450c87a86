"""A cheap "did anything move?" check, so a static scene costs almost nothing.

The frame is shrunk to a small grey thumbnail, blurred, and compared with the last
thumbnail that counted as changed; a frame is "changed" when enough of the picture
differs by more than a threshold. Comparing against the last *changed* frame (not the
previous one) keeps a slow pan or a creeping shadow from slipping through frame by frame.
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
    """

    width: int = 160
    threshold: int = 18
    min_area: float = 0.002

    def __post_init__(self) -> None:
        if not 8 <= self.width <= 4096:
            raise MotionConfigError(f"width must be 8..4096 pixels, got {self.width}")
        if not 1 <= self.threshold <= 254:
            raise MotionConfigError(f"threshold must be 1..254 grey levels, got {self.threshold}")
        if not 0.0 <= self.min_area <= 1.0:
            raise MotionConfigError(f"min_area must be a fraction 0..1, got {self.min_area}")


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
        thumb = self._thumbnail(frame.pixels)
        ref = self._reference
        if ref is None or ref.shape != thumb.shape:
            self._reference = thumb
            return True
        diff = cv2.absdiff(thumb, ref)
        moved = np.count_nonzero(diff > self.options.threshold)
        if moved >= max(1, self.options.min_area * diff.size):
            self._reference = thumb
            return True
        return False

    def reset(self) -> None:
        """Forget the reference: the next frame counts as changed."""
        self._reference = None
