"""The refiner at work: each candidate plate looked at again, rescored and re-boxed.

``Refiner(folder).refine(pixels, boxes, threshold)`` cuts a window around each candidate
box from the frame at full resolution (:mod:`model.detect.refine_net`), runs the network on
all of them in one call, then once more through windows around the boxes it found (the
spec's ``passes``), and returns the refined boxes scoring at least ``threshold``, one per
plate (candidates that end up on the same plate are joined; the best-scored one stays).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from model import _tf
from model.detect._weights import load_net
from model.detect.evaluate import iou
from model.detect.refine_net import (
    WEIGHTS_DIR,
    RefineSpec,
    build_net,
    cut_windows,
    to_frame_boxes,
    windows_for,
)

#: Refined boxes overlapping a better-scored one by more than this are the same plate.
SAME_PLATE_IOU = 0.4


def same_plate_keep(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32]) -> Any:
    """Indices of the boxes to keep, best score first: each box overlapping an already kept
    one by more than SAME_PLATE_IOU is dropped."""
    if not len(boxes):
        return np.zeros(0, np.intp)
    overlap = iou(boxes, boxes)
    keep: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if all(overlap[i, j] <= SAME_PLATE_IOU for j in keep):
            keep.append(int(i))
    return np.array(keep, np.intp)


class Refiner:
    """The refiner network with its spec, ready to run on a frame's candidates."""

    def __init__(self, folder: Path | None = None, threads: int = 1) -> None:
        folder = folder or WEIGHTS_DIR
        self.spec, self._model = load_net(
            folder,
            "refiner",
            "make them with `python -m model.detect.train_refine --export`, or set refine=false",
            RefineSpec.load,
            build_net,
            threads,
        )
        tf = _tf.tensorflow()
        shape = (None, self.spec.height, self.spec.width, 3)
        self._run = tf.function(
            lambda x: self._model(x, training=False),
            input_signature=[tf.TensorSpec(shape, tf.float32)],
        )

    def scores(
        self, pixels: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Refined boxes (x, y, w, h, frame pixels) and plate scores in [0, 1] of every
        candidate box, in the order given (nothing joined or dropped). Each pass after the
        first looks through a window around the box the one before found; a candidate's
        score is the best of its passes (the box, the last pass's)."""
        best = np.zeros(len(boxes), np.float32)
        for _ in range(max(self.spec.passes, 1)):
            if not len(boxes):
                break
            windows = windows_for(boxes, self.spec)
            x = cut_windows(pixels, windows, self.spec).astype(np.float32) * (1 / 255)
            out = np.asarray(self._run(x))
            probs = (1 / (1 + np.exp(-out[:, 0].astype(np.float64)))).astype(np.float32)
            best = np.maximum(best, probs)
            boxes = to_frame_boxes(out[:, 1:], windows)
        return np.asarray(boxes, np.float32).reshape(-1, 4), best

    def refine(
        self, pixels: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32], threshold: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The refined plates scoring at least ``threshold``, one box per plate, best first."""
        refined, probs = self.scores(pixels, boxes)
        sure = probs >= threshold
        refined, probs = refined[sure], probs[sure]
        keep = same_plate_keep(refined, probs)
        return refined[keep], probs[keep]
