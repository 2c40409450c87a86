"""Plate detections -> plate crops: join boxes of one plate, add a margin, straighten.

A tilted plate found as a quad is warped to an upright rectangle, so the reader and the
embedder always see characters standing up.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from model.detect._frames import usable_pixels
from model.types import Frame, PlateCrops, PlateDetections

#: Boxes overlapping more than this (intersection over the smaller box) are one plate.
SAME_PLATE_OVERLAP = 0.6
#: Default border kept around a plate, as a fraction of its height.
DEFAULT_MARGIN = 0.1


def _box_quads(boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    x, y, w, h = boxes.T
    return np.stack(
        [
            np.stack([x, y], 1),
            np.stack([x + w, y], 1),
            np.stack([x + w, y + h], 1),
            np.stack([x, y + h], 1),
        ],
        1,
    ).astype(np.float32)


def merge_same_plate(detections: PlateDetections) -> PlateDetections:
    """Join boxes that mostly overlap (one plate found twice or in pieces) into one.

    The joined box is the union; its score the highest; its quad the best-scored box's
    quad when the union adds little to it, else the union's rectangle; its reading (where
    the detector read) the best-scored box's.
    """
    n = len(detections)
    if n < 2:
        return detections
    boxes, scores = detections.boxes, detections.scores
    quads = detections.quads if detections.quads is not None else _box_quads(boxes)
    order = list(np.argsort(-scores))
    out_boxes, out_scores, out_quads, best = [], [], [], []
    while order:
        i = order.pop(0)
        best.append(i)
        x0, y0 = boxes[i, :2]
        x1, y1 = boxes[i, :2] + boxes[i, 2:]
        rest = []
        for j in order:
            bx0, by0 = boxes[j, :2]
            bx1, by1 = boxes[j, :2] + boxes[j, 2:]
            inter = max(0.0, min(x1, bx1) - max(x0, bx0)) * max(0.0, min(y1, by1) - max(y0, by0))
            smaller = min(boxes[i, 2] * boxes[i, 3], boxes[j, 2] * boxes[j, 3])
            if smaller > 0 and inter / smaller > SAME_PLATE_OVERLAP:
                x0, y0, x1, y1 = min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1)
            else:
                rest.append(j)
        order = rest
        union = np.array([x0, y0, x1 - x0, y1 - y0], np.float32)
        grew = union[2] * union[3] > 1.2 * boxes[i, 2] * boxes[i, 3]
        out_boxes.append(union)
        out_scores.append(scores[i])
        out_quads.append(_box_quads(union[None])[0] if grew else quads[i])
    kept = detections[np.array(best, np.intp)]
    return PlateDetections(
        np.array(out_boxes, np.float32),
        np.array(out_scores, np.float32),
        np.array(out_quads, np.float32),
        kept.readings,
        kept.read_confidences,
    )


def _grow(quad: npt.NDArray[np.float32], margin: float) -> npt.NDArray[np.float32]:
    """Push each side of a quad out by ``margin`` times the quad's height."""
    across = (quad[1] - quad[0] + quad[2] - quad[3]) / 2
    down = (quad[3] - quad[0] + quad[2] - quad[1]) / 2
    height = float(np.linalg.norm(down))
    ux = across / max(float(np.linalg.norm(across)), 1e-6)
    uy = down / max(height, 1e-6)
    d = margin * height
    shift = np.array([-ux - uy, ux - uy, ux + uy, -ux + uy], np.float32) * d
    return (quad + shift).astype(np.float32)


def cut_quads(
    pixels: npt.NDArray[np.uint8], quads: npt.NDArray[np.float32]
) -> list[npt.NDArray[np.uint8]]:
    """Warp each quad (N, 4, 2), corners clockwise from top-left, to an upright crop.

    Crop size follows the quad's side lengths (at least 1x1); pixels outside the frame
    are filled by replicating the border.
    """
    crops = []
    for q in quads:
        w = max(1, round((np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2))
        h = max(1, round((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2))
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        matrix = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
        crop = cv2.warpPerspective(
            pixels, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        crops.append(np.asarray(crop, np.uint8))
    return crops


def cut_crops(
    frame: Frame, detections: PlateDetections, margin: float = DEFAULT_MARGIN
) -> PlateCrops:
    """Cut one upright crop per plate.

    margin: border kept on every side, as a fraction of the plate's height (0 = tight).
    Boxes of one plate are joined first (see :func:`merge_same_plate`); a box with no
    area, or lying wholly outside the frame, gives no crop. The detector's readings, where
    it read, stay with their crops.
    """
    if margin < 0 or not np.isfinite(margin):
        raise ValueError(f"margin must be a finite fraction >= 0 of the plate height, got {margin}")
    pixels = usable_pixels(frame)
    merged = merge_same_plate(detections)
    b = merged.boxes
    inside = (b[:, 2] >= 1) & (b[:, 3] >= 1) & (b[:, 0] < frame.width) & (b[:, 1] < frame.height)
    inside &= (b[:, 0] + b[:, 2] > 0) & (b[:, 1] + b[:, 3] > 0)
    merged = merged[inside]
    if pixels is None or not len(merged):
        return PlateCrops([], np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))
    quads = merged.quads if merged.quads is not None else _box_quads(merged.boxes)
    images = cut_quads(pixels, np.array([_grow(q, margin) for q in quads], np.float32))
    return PlateCrops(images, merged.boxes, merged.scores, merged.readings, merged.read_confidences)
