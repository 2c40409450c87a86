"""Readings of a camera's candidate text lines, reused while their pixels stay the same.

Reading a candidate line with the recogniser is about half of what the ``ppocr`` backend
costs a frame, and much of what a fixed camera shows as text does not move: shop signs,
painted words, a parked car. A line found at the same place as in that camera's previous
frame, whose pixels (a small grey thumbnail of the cut line) differ by no more than sensor
noise, keeps its previous reading instead of being read again. Anything that changes — a
car driving in, light changing — is read afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from model.detect._ppocr import Reading

#: Thumbnail of a cut line: (width, height) in pixels.
THUMB = (64, 16)


@dataclass(frozen=True)
class _Seen:
    box: npt.NDArray[np.float32]  # (4,) x0, y0, x1, y1
    thumb: npt.NDArray[np.float32]  # (16, 64) grey
    reading: Reading


def _thumb(crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return np.asarray(cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA), np.float32)


def _iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = float(w * h)
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / max(union, 1e-9)


class ReadingMemo:
    """Per camera, the candidate lines of its last frame and their readings.

    min_iou: how well a line's box must overlap the earlier one's; max_diff: the largest
    mean absolute difference of their thumbnails, in grey levels, still counted as unchanged.
    Shared by the detection threads (a lock guards it); one entry per camera, replaced by
    each frame of that camera, so it holds at most a frame's lines per camera.
    """

    def __init__(self, min_iou: float = 0.8, max_diff: float = 6.0) -> None:
        self.min_iou = min_iou
        self.max_diff = max_diff
        self._seen: dict[str, list[_Seen]] = {}
        self._lock = threading.Lock()

    def recall(
        self, camera: str, quads: npt.NDArray[np.float32], crops: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[list[Reading | None], list[npt.NDArray[np.float32]]]:
        """The earlier reading of each line where it is unchanged (else None), and the
        thumbnails of the lines (to hand back to :meth:`keep`)."""
        with self._lock:
            before = list(self._seen.get(camera, ()))
        thumbs = [_thumb(c) for c in crops]
        found: list[Reading | None] = []
        for quad, thumb in zip(quads, thumbs, strict=True):
            box = np.concatenate([quad.min(axis=0), quad.max(axis=0)]).astype(np.float32)
            match = next(
                (
                    s.reading
                    for s in before
                    if _iou(box, s.box) >= self.min_iou
                    and float(np.abs(s.thumb - thumb).mean()) <= self.max_diff
                ),
                None,
            )
            found.append(match)
        return found, thumbs

    def keep(
        self,
        camera: str,
        quads: npt.NDArray[np.float32],
        thumbs: Sequence[npt.NDArray[np.float32]],
        readings: Sequence[Reading],
    ) -> None:
        """Remember this frame's lines and readings for the camera's next frame."""
        seen = [
            _Seen(np.concatenate([q.min(axis=0), q.max(axis=0)]).astype(np.float32), t, r)
            for q, t, r in zip(quads, thumbs, readings, strict=True)
        ]
        with self._lock:
            self._seen[camera] = seen
