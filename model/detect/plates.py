"""Text boxes -> plate detections: the rules every text-detector backend shares.

Text boxes on one line are joined (model.detect.textboxes); lines shaped like plates are
read with the PP-OCR recogniser and kept when they show enough plate characters (the reading
stays with the plate); each kept line is grown by a small border to the plate around it.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
from pydantic import Field

from model.detect import _ppocr
from model.detect.crops import cut_quads
from model.detect.memo import ReadingMemo
from model.detect.options import BackendOptions
from model.detect.textboxes import GroupOptions, TextBoxes, plate_candidates
from model.types import PlateDetections

_DATE = re.compile(r"\d{2,4}[-./]\d{1,2}[-./]\d{1,4}")


class PlateOptions(BackendOptions):
    """How text lines become plates (shared by the text-detector backends)."""

    verify: bool = Field(
        default=True,
        title="read candidates",
        description="read each candidate with the PP-OCR recogniser and keep only lines "
        "showing enough plate characters (about 5-10 ms per candidate)",
    )
    min_chars: int = Field(default=5, ge=1, le=12, title="fewest characters a plate shows")
    max_chars: int = Field(default=9, ge=1, le=12, title="most characters a plate shows")
    min_read_confidence: float = Field(
        default=0.6, ge=0, le=1, title="recogniser confidence needed"
    )
    max_candidates: int = Field(default=6, ge=1, title="most candidates read per frame")
    reuse_readings: bool = Field(
        default=True,
        title="reuse readings of unchanged lines",
        description="a candidate line at the same place as in the camera's previous frame, "
        "whose pixels did not change (a sign, a parked car), keeps its reading instead of "
        "being read again (model.detect.memo)",
    )
    pad_x: float = Field(
        default=0.0, ge=0, le=2, title="plate border beside the text, in line heights"
    )
    pad_y: float = Field(
        default=0.05, ge=0, le=2, title="plate border above and below, in line heights"
    )

    def preload(self) -> None:
        """Load the recogniser now when it will be needed, so a missing one fails at start."""
        if self.verify:
            _ppocr.session(_ppocr.REC_FILE, self.threads)


def plates_from_text(
    pixels: npt.NDArray[np.uint8],
    boxes: TextBoxes,
    options: PlateOptions,
    memo: tuple[ReadingMemo, str] | None = None,
) -> PlateDetections:
    """Plates among the text boxes of one frame (pixels: (H, W, 3) BGR uint8).

    memo: a ReadingMemo and the frame's camera: candidate lines unchanged since that
    camera's previous frame keep their reading instead of being read again."""
    cands = plate_candidates(boxes, GroupOptions())
    if not len(cands):
        return PlateDetections()
    order = np.argsort(-cands.scores)[: options.max_candidates]
    quads, scores = cands.quads[order], cands.scores[order]
    if not options.verify:
        plates = pad_quads(quads, options.pad_x, options.pad_y, pixels.shape[1], pixels.shape[0])
        return detections_from_quads(plates, scores.astype(np.float32))
    readings = _read(cut_quads(pixels, quads), quads, options.threads, memo)
    keep = np.array([reads_like_plate(r, options) for r in readings], bool)
    conf = np.array([r.confidence for r in readings], np.float32)
    quads, scores = quads[keep], np.sqrt(scores[keep] * conf[keep])
    plates = pad_quads(quads, options.pad_x, options.pad_y, pixels.shape[1], pixels.shape[0])
    # The reading that kept each plate travels with it, so the embedder need not read again.
    texts = [r.text for r, k in zip(readings, keep, strict=True) if k]
    return detections_from_quads(plates, scores.astype(np.float32), texts, conf[keep])


def _read(
    crops: list[npt.NDArray[np.uint8]],
    quads: npt.NDArray[np.float32],
    threads: int,
    memo: tuple[ReadingMemo, str] | None,
) -> list[_ppocr.Reading]:
    """The recogniser's reading of each cut line; lines the memo knows are not read again."""
    if memo is None:
        return _ppocr.read_crops(crops, threads)
    store, camera = memo
    known, thumbs = store.recall(camera, quads, crops)
    todo = [i for i, r in enumerate(known) if r is None]
    fresh = iter(_ppocr.read_crops([crops[i] for i in todo], threads) if todo else [])
    readings = [r if r is not None else next(fresh) for r in known]
    store.keep(camera, quads, thumbs, readings)
    return readings


def reads_like_plate(reading: _ppocr.Reading, options: PlateOptions) -> bool:
    """True when a reading could be a plate's text.

    Plates carry 5-9 characters with at least one digit (the few all-letter vanity plates
    are lost; brand names, state names and shop signs are not kept). Digits alone split by
    colons (``06:40:28``) or like a date (``2014-04-28``), or a run of 8 or more digits, are
    a camera's date/time overlay, not a plate. (A colon between letters and digits is
    often the crest or sticker between a plate's groups: ``BY:649AG`` stays.)
    """
    text = reading.text
    if text.isdigit() and (":" in reading.raw or _DATE.search(reading.raw)):
        return False
    if reading.confidence < options.min_read_confidence:
        return False
    if not options.min_chars <= len(text) <= options.max_chars:
        return False
    digits = sum(ch.isdigit() for ch in text)
    return digits > 0 and not (digits == len(text) and len(text) >= 8)


def pad_quads(
    quads: npt.NDArray[np.float32], pad_x: float, pad_y: float, width: float, height: float
) -> npt.NDArray[np.float32]:
    """Grow each text-line quad (N, 4, 2) to the plate around it, in units of line height,
    clipped to the frame (width x height pixels)."""
    out = []
    for q in quads:
        across = (q[1] - q[0] + q[2] - q[3]) / 2
        down = (q[3] - q[0] + q[2] - q[1]) / 2
        line_h = float(np.linalg.norm(down))
        ux = across / max(float(np.linalg.norm(across)), 1e-6)
        uy = down / max(line_h, 1e-6)
        dx, dy = ux * pad_x * line_h, uy * pad_y * line_h
        grown = q + np.array([-dx - dy, dx - dy, dx + dy, -dx + dy], np.float32)
        grown[:, 0] = np.clip(grown[:, 0], 0, width)
        grown[:, 1] = np.clip(grown[:, 1], 0, height)
        out.append(grown)
    return np.array(out, np.float32).reshape(-1, 4, 2)


def detections_from_quads(
    quads: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    readings: list[str] | None = None,
    read_confidences: npt.NDArray[np.float32] | None = None,
) -> PlateDetections:
    """PlateDetections whose boxes are the axis-aligned hulls of the quads (N, 4, 2), with
    the plates' readings where they were read."""
    if not len(quads):
        return PlateDetections()
    lo, hi = quads.min(axis=1), quads.max(axis=1)
    boxes = np.concatenate([lo, hi - lo], axis=1).astype(np.float32)
    scores = np.clip(scores, 0, 1).astype(np.float32)
    conf = None if read_confidences is None else read_confidences.astype(np.float32)
    return PlateDetections(boxes, scores, quads.astype(np.float32), readings, conf)
