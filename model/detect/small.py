"""Plates too small to read, added to what a text detector found.

The text-detector backends keep a line only when the PP-OCR recogniser reads it as a
plate; a plate a few pixels high cannot be read, so it is never kept, however surely it is
a plate (on the UC3M-LP ``train`` scenes, fewer than half of the plates under 12 px high
pass the reading check, more than half from 12 px up). ``platenet`` finds plates by their
look, not their text: its boxes lower than ``max_height`` frame pixels that overlap no
plate already found are added, unread ("" and confidence 0: the embedder's reader reads
their crops).
"""

from __future__ import annotations

import numpy as np

from model.detect.evaluate import iou
from model.types import PlateDetections

#: Boxes overlapping an already found plate by more than this are the same plate.
SAME_PLATE_IOU = 0.3


def add_small_plates(
    found: PlateDetections, extra: PlateDetections, max_height: float
) -> PlateDetections:
    """``found`` plus the boxes of ``extra`` lower than ``max_height`` pixels that overlap
    none of ``found``; readings and quads are kept where ``found`` has them."""
    keep = extra.boxes[:, 3] < max_height
    if len(found) and keep.any():
        keep &= iou(extra.boxes, found.boxes).max(axis=1) <= SAME_PLATE_IOU
    small = extra[keep]
    if not len(small):
        return found
    boxes = np.concatenate([found.boxes, small.boxes]).astype(np.float32)
    scores = np.concatenate([found.scores, small.scores]).astype(np.float32)
    quads = None
    if found.quads is not None:
        x, y, w, h = small.boxes.T
        corners = [np.stack(c, 1) for c in ((x, y), (x + w, y), (x + w, y + h), (x, y + h))]
        quads = np.concatenate([found.quads, np.stack(corners, 1)]).astype(np.float32)
    if found.readings is None or found.read_confidences is None:
        return PlateDetections(boxes, scores, quads)
    readings = [*found.readings, *[""] * len(small)]
    conf = np.concatenate([found.read_confidences, np.zeros(len(small), np.float32)])
    return PlateDetections(boxes, scores, quads, readings, conf.astype(np.float32))
