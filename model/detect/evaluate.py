"""Detection accuracy on a labelled folder: recall, precision, end-to-end reading, speed.

A folder holds ``labels.csv`` with ``file,plate_text,x,y,w,h[,split]``, one row per plate
box. A found box counts as a hit when its IoU with a true box is at least 0.5 (each true
box matched once, best-scored detections first). End-to-end reading counts a true plate
when it was found and the recogniser reads its crop as the same plate
(:func:`reads_as`: O/0 look-alikes match, and a ``?`` in the label may be read as one
character or none).
"""

from __future__ import annotations

import csv
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.text import UNKNOWN, PlateTextError, lookalike_key, normalize, same_plate
from model.detect import _ppocr
from model.detect.crops import cut_crops
from model.protocols import Detector
from model.types import Frame, PlateDetections
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

IOU_HIT = 0.5
REQUIRED_COLUMNS = ("file", "plate_text", "x", "y", "w", "h")


class LabelsError(PlatewatchError, ValueError):
    """A labels.csv is missing or malformed; the message names the file and row."""


@dataclass(frozen=True)
class LabelledImage:
    """One image and its true plates. boxes: (N, 4) float32 x, y, w, h in pixels."""

    path: Path
    plate_texts: tuple[str, ...]
    boxes: npt.NDArray[np.float32]


def load_labels(
    folder: Path, split: str | None = None, limit: int | None = None
) -> list[LabelledImage]:
    """Rows of ``folder/labels.csv`` grouped by image, in file order.

    split: keep only rows of this split (the ``split`` column must then exist).
    limit: keep only the first ``limit`` images.
    """
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise LabelsError(
            f"{labels} not found; a detection folder needs labels.csv "
            f"with columns {','.join(REQUIRED_COLUMNS)}[,split]"
        )
    with labels.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LabelsError(
                f"{labels} lacks column(s) {', '.join(missing)}; "
                f"needed: {','.join(REQUIRED_COLUMNS)}"
            )
        if split and "split" not in (reader.fieldnames or []):
            raise LabelsError(f"--split {split} given but {labels} has no split column")
        grouped: dict[str, tuple[list[str], list[list[float]]]] = {}
        for line, row in enumerate(reader, start=2):
            if split and row["split"] != split:
                continue
            try:
                box = [float(row[k]) for k in ("x", "y", "w", "h")]
            except ValueError:
                raise LabelsError(f"{labels} line {line}: x, y, w, h must be numbers") from None
            texts, boxes = grouped.setdefault(row["file"], ([], []))
            texts.append(row["plate_text"])
            boxes.append(box)
    images = [
        LabelledImage(folder / f, tuple(t), np.array(b, np.float32).reshape(-1, 4))
        for f, (t, b) in grouped.items()
    ]
    if not images:
        raise LabelsError(f"{labels} has no rows" + (f" in split {split!r}" if split else ""))
    return images[:limit] if limit else images


def iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Pairwise IoU of boxes a (N, 4) and b (M, 4), both x, y, w, h -> (N, M)."""
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return (inter / np.maximum(union, 1e-9)).astype(np.float32)


def match(truth: npt.NDArray[np.float32], found: PlateDetections) -> npt.NDArray[np.intp]:
    """For each true box, the index of the detection matched to it at IoU >= 0.5, or -1.

    Detections are taken best score first; each matches at most one true box.
    """
    result = np.full(len(truth), -1, np.intp)
    if not len(truth) or not len(found):
        return result
    overlap = iou(found.boxes, truth)
    for d in np.argsort(-found.scores):
        free = np.where(result < 0, overlap[d], -1.0)
        t = int(np.argmax(free))
        if free[t] >= IOU_HIT:
            result[t] = d
    return result


@dataclass
class Tally:
    """Running counts for one backend on one folder."""

    detector: str
    images: int = 0
    plates: int = 0
    found: int = 0
    hits: int = 0
    read_right: int = 0
    seconds: float = 0.0
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | str]:
        """The figures `platewatch eval detection --json` prints."""
        return {
            "detector": self.detector,
            "images": self.images,
            "plates": self.plates,
            "detections": self.found,
            "recall": round(self.hits / max(self.plates, 1), 4),
            "precision": round(self.hits / self.found, 4) if self.found else 0.0,
            "e2e_read": round(self.read_right / max(self.plates, 1), 4),
            "ms_per_image": round(1000 * self.seconds / max(self.images, 1), 2),
            "unreadable_images": len(self.unreadable),
        }


def read_image(path: Path) -> npt.NDArray[np.uint8] | None:
    """A BGR image from disk, or None when the file is missing or not an image."""
    data = np.fromfile(str(path), np.uint8) if path.is_file() else np.zeros(0, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if img is None else np.asarray(img, np.uint8)


def reads_as(reading: str, plate_text: str) -> bool:
    """True when a reading names the labelled plate.

    Look-alikes count as equal (:func:`alphabet.text.same_plate`). A ``?`` in the label is
    a character hidden in the image (UC3M masks two per plate): the reader sees a blot
    there and may read one character or none, so either is accepted.
    """
    try:
        if not reading:
            return False
        if UNKNOWN not in plate_text:
            return same_plate(reading, plate_text)
        pattern = "".join(
            ".?" if ch == UNKNOWN else re.escape(ch)
            for ch in lookalike_key(normalize(plate_text, allow_patterns=True))
        )
        return re.fullmatch(pattern, lookalike_key(normalize(reading))) is not None
    except PlateTextError:
        return False


def _reads_right(frame: Frame, found: PlateDetections, plate_text: str) -> bool:
    crop = cut_crops(frame, found, margin=0.05)
    if not len(crop):
        return False
    return reads_as(_ppocr.read_crops(crop.images[:1])[0].text, plate_text)


def evaluate(
    detector: Detector, images: list[LabelledImage]
) -> Iterator[tuple[LabelledImage, PlateDetections, Tally]]:
    """Run the detector on every image, yielding each result and the tally so far."""
    tally = Tally(detector.name)
    for item in images:
        pixels = read_image(item.path)
        if pixels is None:
            log.warning("cannot read %s; counted as an image with no plate found", item.path)
            tally.unreadable.append(str(item.path))
            pixels = np.zeros((8, 8, 3), np.uint8)
        frame = Frame(camera="eval", time=datetime.now(UTC), pixels=pixels)
        start = time.perf_counter()
        found = detector.detect(frame)
        tally.seconds += time.perf_counter() - start
        matched = match(item.boxes, found)
        tally.images += 1
        tally.plates += len(item.boxes)
        tally.found += len(found)
        tally.hits += int((matched >= 0).sum())
        for t, d in enumerate(matched):
            if d >= 0:
                tally.read_right += _reads_right(frame, found[np.array([d])], item.plate_texts[t])
        yield item, found, tally
