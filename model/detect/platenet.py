"""The ``platenet`` backend: the project's own small plate detector (TensorFlow).

A fully convolutional network trained by ``python -m model.detect.train_platenet`` on
synthetic road scenes and the UC3M-LP ``train`` split; weights and their spec are
committed under ``model/detect/weights/platenet/``. It finds plates directly (no text
reading). Its candidates are then looked at again by the refiner (``refine``, on by
default; ``model/detect/refine.py``), which rescores and re-boxes each from the frame at
full resolution; optionally the PP-OCR reading check of ``ppocr`` follows (``verify``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from model import _tf
from model.detect import _ppocr
from model.detect._frames import scaled_windows, usable_pixels
from model.detect._weights import load_net
from model.detect.crops import cut_quads
from model.detect.options import BackendOptions
from model.detect.platenet_net import (
    PAD_TO,
    WEIGHTS_DIR,
    NetSpec,
    build_net,
    decode,
    padded_input,
    prepare,
)
from model.detect.plates import PlateOptions, reads_like_plate
from model.detect.refine import Refiner
from model.types import Frame, PlateDetections

log = logging.getLogger(__name__)


class PlatenetOptions(BackendOptions):
    """Settings of the ``platenet`` backend."""

    max_side: int | None = Field(
        default=None,
        ge=64,
        le=4096,
        title="network input size",
        description="the frame is scaled so its longer side has this many pixels (small "
        "frames are scaled up); default: the size the weights were trained for (spec.json)",
    )
    threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        title="plate probability",
        description="plates scoring below it are dropped: the refiner's score when refine is "
        "on, else the network's cell probability; default: the value in the refiner's or "
        "platenet's spec.json, picked on held-out training images",
    )
    refine: bool = Field(
        default=True,
        title="look again",
        description="cut a window around each candidate from the full-resolution frame and "
        "let the refiner network rescore and re-box it (model/detect/refine_net.py)",
    )
    candidate_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        title="candidate probability",
        description="with refine: grid cells above it form the candidates looked at again; "
        "default: the refiner's spec.json",
    )
    max_candidates: int = Field(
        default=16, ge=1, le=256, title="candidates a frame", description="best-scored first"
    )
    verify: bool = Field(
        default=False,
        title="read candidates",
        description="read each found plate with the PP-OCR recogniser and keep only those "
        "that read like a plate (the ppocr rules; about 5-10 ms per plate)",
    )
    weights_dir: str | None = Field(
        default=None,
        title="weights folder",
        description="folder holding spec.json and weights.npz; default: the committed ones",
    )


class PlatenetDetector:
    """Plates found by the platenet network."""

    name = "platenet"

    def __init__(self, options: PlatenetOptions | None = None) -> None:
        self.options = options or PlatenetOptions()
        folder = Path(self.options.weights_dir) if self.options.weights_dir else WEIGHTS_DIR
        self.spec, self._model = load_net(
            folder,
            "platenet",
            "make them with `python -m model.detect.train_platenet --export`, or set the "
            "weights_dir option",
            NetSpec.load,
            build_net,
            self.options.threads,
        )
        self.max_side = self.options.max_side or self.spec.max_side
        self.refiner: Refiner | None = None
        if self.options.refine:
            self.refiner = Refiner(threads=self.options.threads)
            self.threshold = self.options.threshold or self.refiner.spec.threshold
            self.candidate_threshold = (
                self.options.candidate_threshold or self.refiner.spec.candidate_threshold
            )
        else:
            self.threshold = self.options.threshold or self.spec.threshold
            self.candidate_threshold = self.threshold
        if self.options.verify:
            _ppocr.session(_ppocr.REC_FILE, self.options.threads)  # fail now, not at frame one
        tf = _tf.tensorflow()
        self._run = tf.function(
            lambda x: self._model(x, training=False),
            input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)],
            reduce_retracing=True,
        )

    def raw(self, pixels: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], float]:
        """The network's output grid (Hc, Wc, 5) for BGR pixels, and the input scale."""
        x, scale = prepare(pixels, self.max_side)
        return np.asarray(self._run(x))[0], scale

    def detect(self, frame: Frame) -> PlateDetections:
        """Plate boxes (x, y, w, h in frame pixels) and scores in [0, 1]; no quads.

        Only the frame's motion regions are searched when it has any (``Frame.regions``)."""
        pixels = usable_pixels(frame)
        if pixels is None:
            return PlateDetections()
        scale, windows = scaled_windows(frame, pixels, self.max_side, PAD_TO)
        part_found, found_scores = [], []
        for x0, y0, window in windows:
            out = np.asarray(self._run(padded_input(window)))[0]
            part_boxes, part_scores = decode(out, self.candidate_threshold)
            part_found.append((part_boxes + np.array([x0, y0, 0, 0], np.float32)) / scale)
            found_scores.append(part_scores)
        boxes = (
            np.concatenate(part_found).astype(np.float32)
            if part_found
            else np.zeros((0, 4), np.float32)
        )
        scores = np.concatenate(found_scores) if found_scores else np.zeros((0,), np.float32)
        if self.refiner is not None and len(boxes):
            best = np.argsort(-scores, kind="stable")[: self.options.max_candidates]
            boxes, scores = self.refiner.refine(pixels, boxes[best], self.threshold)
        if not len(boxes):
            return PlateDetections()
        h, w = pixels.shape[:2]
        x1 = np.clip(boxes[:, 0], 0, w)
        y1 = np.clip(boxes[:, 1], 0, h)
        x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, w)
        y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0, h)
        keep = (x2 - x1 >= 2) & (y2 - y1 >= 2)
        xywh = np.stack([x1, y1, x2 - x1, y2 - y1], 1)[keep].astype(np.float32)
        found = PlateDetections(xywh, scores[keep].astype(np.float32))
        return self._verified(pixels, found) if self.options.verify else found

    def _verified(self, pixels: np.ndarray[Any, Any], found: PlateDetections) -> PlateDetections:
        """Only the plates whose crop reads like a plate (model.detect.plates rules)."""
        if not len(found):
            return found
        x, y, w, h = found.boxes.T
        quads = np.stack(
            [np.stack(c, 1) for c in ((x, y), (x + w, y), (x + w, y + h), (x, y + h))], 1
        ).astype(np.float32)
        readings = _ppocr.read_crops(cut_quads(pixels, quads), self.options.threads)
        rules = PlateOptions()
        keep = np.array([reads_like_plate(r, rules) for r in readings], bool)
        return found[keep]
