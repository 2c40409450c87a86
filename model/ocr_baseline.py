"""The rival: an off-the-shelf OCR reading each crop, gallery ranked by edit distance.

The recogniser is PP-OCRv4's (the ONNX network inside the rapidocr-onnxruntime wheel,
fully offline), run alone: no text detection, no angle classifier, each crop read as one
line. Readings are cached per folder under the cache directory, keyed by file, size and
modification time, because reading a gallery takes ~15 ms a crop.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alphabet.text import CHARSET
from model.reading import edit_distances, encode_keys
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
_CYRILLIC = str.maketrans("АВЕІКМНОРСТХУЇ", "ABEIKMHOPCTXYI")


class OcrUnavailableError(PlatewatchError):
    """rapidocr-onnxruntime is not installed, so the OCR baseline cannot run."""


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        raise OcrUnavailableError(
            "the OCR baseline needs rapidocr-onnxruntime: "
            "pip install --no-deps rapidocr-onnxruntime==1.4.4"
        ) from None
    return RapidOCR()


def clean_reading(raw: str) -> str:
    """OCR text → plate characters only (upper case A-Z, 0-9; everything else dropped)."""
    return "".join(c for c in raw.upper().translate(_CYRILLIC) if c in CHARSET)


def read_crop(image: Image) -> tuple[str, float]:
    """One crop's reading and the recogniser's confidence in [0, 1]."""
    result, _ = _engine()(image, use_det=False, use_cls=False, use_rec=True)
    if not result:
        return "", 0.0
    text, score = result[0][0], result[0][1]
    return clean_reading(str(text)), float(score)


def read_files(folder: Path, files: Sequence[str], cache_dir: Path) -> list[tuple[str, float]]:
    """Readings of folder/file for each file, through a JSON cache in cache_dir."""
    from model.preprocess import read_image

    cache_dir.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    cache_file = cache_dir / f"ocr_{tag}.json"
    cache: dict[str, list[Any]] = {}
    if cache_file.exists():
        cache = json.loads(cache_file.read_text())
    out: list[tuple[str, float]] = []
    fresh = 0
    for file in files:
        st = (folder / file).stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
        hit = cache.get(file)
        if hit is None or hit[2] != stamp:
            text, score = read_crop(read_image(folder / file))
            cache[file] = [text, score, stamp]
            fresh += 1
        out.append((cache[file][0], float(cache[file][1])))
    if fresh:
        cache_file.write_text(json.dumps(cache))
        log.info("OCR baseline read %d crops (%d from cache)", fresh, len(files) - fresh)
    return out


def ocr_scores(
    query: str, readings: tuple[np.ndarray, np.ndarray], confidences: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """(N,) ranking scores of N readings for one query: minus the edit distance, ties
    broken by the recogniser's confidence."""
    return -edit_distances(query, readings).astype(np.float32) + 0.5 * confidences


def encode_readings(readings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    return encode_keys(list(readings))
