"""Readers: the text a plate crop shows, read by a dedicated recogniser.

The embedding network has its own CTC head (model.reading), a by-product of its trunk. A
dedicated line recogniser reads plates far better: PP-OCRv4's, whose ONNX weights ship
inside the rapidocr-onnxruntime wheel (model.detect._ppocr loads them, fully offline).
A model's spec names its reader (``reader``: ``"ppocr"`` or ``"own"``); the embedder
composes it, so every Embeddings it returns carries the better reading. Where
rapidocr-onnxruntime is not installed the embedder falls back to its own head.

Each crop is resized to the recogniser's height and at least MIN_WIDTH pixels wide
(a plate crop of aspect 2:1 would otherwise give the CTC only 12 columns for 7
characters, and it drops characters: on synthetic plates and the UC3M train split,
stretching to 112-176 pixels read 3-4% more plates exactly than no stretch; 144 is
used). Crops are read in batches of similar width, padded on the right to the widest.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from model.spec import READERS

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
#: Crops per recogniser call.
BATCH = 8
#: Narrowest input (pixels at the recogniser's 48-pixel height); wider crops keep their aspect.
MIN_WIDTH = 144
_MAX_WIDTH = 480


class Reader(Protocol):
    """Reads plate crops: N readings (A-Z0-9, "" where nothing was read) and (N,) float32
    confidences in [0, 1]."""

    name: str
    key: str

    def read(self, crops: Sequence[Image]) -> tuple[list[str], npt.NDArray[np.float32]]: ...


def ppocr_available() -> bool:
    """True when rapidocr-onnxruntime (which carries the recogniser's weights) is installed."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def _bgr(crop: Image) -> Image:
    if crop.ndim == 2:
        return np.asarray(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR), np.uint8)
    return crop


class PpocrReader:
    """PP-OCRv4's recogniser on plate characters only (model.detect._ppocr)."""

    name = "ppocr"
    #: Names what reads and how, for caches of readings.
    key = f"ppocr-w{MIN_WIDTH}"

    def __init__(self, threads: int = 1, batch: int = BATCH) -> None:
        from model.detect import _ppocr

        self._ppocr = _ppocr
        self.threads = threads
        self.batch = max(1, batch)
        self._session = _ppocr.session(_ppocr.REC_FILE, threads)
        self._keep, self._letters = _ppocr._charset()

    def _width(self, crop: Image) -> int:
        h, w = crop.shape[:2]
        height = self._ppocr.REC_HEIGHT
        return int(np.clip(round(height * w / max(h, 1)), MIN_WIDTH, _MAX_WIDTH))

    def _decode(self, probs: npt.NDArray[np.float32]) -> tuple[str, float]:
        """probs: (T, C) over the kept classes → plate text and mean character confidence."""
        best = probs.argmax(axis=1)
        text, confs, prev = [], [], 0
        for t, k in enumerate(best):
            if k and k != prev:
                ch = self._letters[k]
                if ch.isalnum():
                    text.append(ch)
                    confs.append(float(probs[t, k] / max(float(probs[t].sum()), 1e-6)))
            prev = k
        return "".join(text), float(np.mean(confs)) if confs else 0.0

    def read(self, crops: Sequence[Image]) -> tuple[list[str], npt.NDArray[np.float32]]:
        n = len(crops)
        texts = [""] * n
        conf = np.zeros(n, np.float32)
        if n == 0:
            return texts, conf
        widths = [self._width(c) for c in crops]
        order = np.argsort(widths, kind="stable")
        height = self._ppocr.REC_HEIGHT
        for s in range(0, n, self.batch):
            idx = order[s : s + self.batch]
            wide = max(widths[i] for i in idx)
            # Normalised input is in [-1, 1]; the padding is 0 (mid grey), as PP-OCR pads.
            x = np.zeros((len(idx), 3, height, wide), np.float32)
            for j, i in enumerate(idx):
                im = cv2.resize(_bgr(crops[i]), (widths[i], height), interpolation=cv2.INTER_LINEAR)
                x[j, :, :, : widths[i]] = im.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
            probs = self._session.run(None, {"x": x})[0][:, :, self._keep]
            for j, i in enumerate(idx):
                texts[i], conf[i] = self._decode(probs[j])
        return texts, conf


def create_reader(name: str, threads: int = 1) -> Reader | None:
    """The reader a spec names; None for ``own`` (the network's head) and, with a warning,
    for ``ppocr`` where rapidocr-onnxruntime is missing."""
    if name not in READERS:
        raise ValueError(f"unknown reader {name!r}; known: {', '.join(READERS)}")
    if name == "own":
        return None
    if not ppocr_available():
        log.warning(
            "reader %r needs rapidocr-onnxruntime (pip install --no-deps "
            "rapidocr-onnxruntime==1.4.4); using the network's own reading head",
            name,
        )
        return None
    return PpocrReader(threads)
