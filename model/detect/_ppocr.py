"""The PP-OCRv4 networks shipped inside the rapidocr-onnxruntime wheel, run with onnxruntime.

Only the ONNX files are used: the text detector (a DB segmentation net that gives a
per-pixel "text here" probability) and the recogniser (a CTC line reader). Loading them
directly keeps the thread count and the input size under our control.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from model.detect._frames import scale_frame
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

DET_FILE = "ch_PP-OCRv4_det_infer.onnx"
#: The same detector quantised to 8 bits by model/detect/quantize.py (committed).
INT8_PATH = Path(__file__).parent / "weights" / "ch_PP-OCRv4_det_int8.onnx"
REC_FILE = "ch_PP-OCRv4_rec_infer.onnx"
#: The recogniser's input height in pixels; width follows the crop's aspect ratio.
REC_HEIGHT = 48
#: The detector needs sides that are multiples of this.
STRIDE = 32


class BackendUnavailableError(PlatewatchError, RuntimeError):
    """A detection backend cannot run here; the message says what is missing and how to fix."""


def models_dir() -> Path:
    """The folder of ONNX files inside the installed rapidocr-onnxruntime package."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError(
            "the offline detector needs the rapidocr-onnxruntime package (its wheel carries "
            "the PP-OCR weights); install it with "
            "`pip install --no-deps rapidocr-onnxruntime==1.4.4`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@lru_cache(maxsize=8)
def session(file: str, threads: int) -> Any:
    """One onnxruntime session per (model file, thread count), shared by every detector.

    file: a file name inside rapidocr's models folder, or an absolute path.
    """
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BackendUnavailableError(
            "onnxruntime is not installed; `pip install onnxruntime`"
        ) from exc
    path = Path(file) if Path(file).is_absolute() else models_dir() / file
    if not path.is_file():
        fix = (
            "rebuild it with `python -m model.detect.quantize` or pass int8=False"
            if path == INT8_PATH
            else "reinstall rapidocr-onnxruntime==1.4.4"
        )
        raise BackendUnavailableError(f"{path} is missing; {fix}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _to_input(bgr: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """(h, w, 3) uint8 -> (1, 3, h, w) float32 in [-1, 1], as PP-OCR was trained."""
    x = bgr.astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


@dataclass(frozen=True)
class ProbabilityMap:
    """The detector's text probability at a reduced scale.

    prob: (h, w) float32 in [0, 1], aligned with the frame's top-left corner.
    scale: map pixels per frame pixel (the same on both axes).
    """

    prob: npt.NDArray[np.float32]
    scale: float


def prepare(
    bgr: npt.NDArray[np.uint8], max_side: int
) -> tuple[npt.NDArray[np.float32], tuple[int, int], float]:
    """The detector's input for a frame scaled so its longer side is ``max_side`` pixels.

    Small frames are scaled up (small plates are found far more often at 2x); the scaled
    image is padded, not stretched, to multiples of 32. Returns the (1, 3, H, W) input,
    the scaled image's (height, width) inside it, and the scale.
    """
    small, scale = scale_frame(bgr, max_side)
    return _to_input(_padded(small)), (small.shape[0], small.shape[1]), scale


def _padded(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The image padded with black on the right and bottom to multiples of 32."""
    h, w = image.shape[:2]
    padded = np.zeros((-(-h // STRIDE) * STRIDE, -(-w // STRIDE) * STRIDE, 3), np.uint8)
    padded[:h, :w] = image
    return padded


def text_probability(
    bgr: npt.NDArray[np.uint8], max_side: int, threads: int = 1, int8: bool = False
) -> ProbabilityMap:
    """Run the text detector (the 8-bit copy when ``int8``) on a frame; see :func:`prepare`."""
    small, scale = scale_frame(bgr, max_side)
    return window_probability(small, scale, threads, int8)


def window_probability(
    window: npt.NDArray[np.uint8], scale: float, threads: int = 1, int8: bool = False
) -> ProbabilityMap:
    """The text detector on a window of an already scaled frame (padded here to multiples
    of 32); ``scale``: the frame's scale, kept on the map."""
    sh, sw = window.shape[:2]
    model = str(INT8_PATH) if int8 else DET_FILE
    out = session(model, threads).run(None, {"x": _to_input(_padded(window))})[0]
    return ProbabilityMap(out[0, 0, :sh, :sw].astype(np.float32), scale)


@lru_cache(maxsize=1)
def _charset() -> tuple[npt.NDArray[np.intp], str]:
    """Indices of the recogniser's classes that can appear on a plate, and their letters.

    The recogniser knows 6,623 characters (mostly Chinese); reading only the blank, A-Z,
    a-z, 0-9 and the separators in SEPARATORS stops plate glyphs from being read as
    look-alike symbols.
    """
    meta = session(REC_FILE, 1).get_modelmeta().custom_metadata_map
    chars = ["<blank>", *meta["character"].splitlines(), " "]
    keep = [0] + [
        i
        for i, c in enumerate(chars)
        if len(c) == 1 and c.isascii() and (c.isalnum() or c in SEPARATORS)
    ]
    letters = "".join(chars[i].upper() if i else "_" for i in keep)  # "_": the blank
    return np.array(keep, np.intp), letters


#: Punctuation the reader may see: plate group separators, and the colons and slashes of
#: the date/time a camera writes on its picture (which must not pass for a plate).
SEPARATORS = "-.:/"


@dataclass(frozen=True)
class Reading:
    """What the recogniser read on one crop.

    text: upper-case A-Z0-9 only. raw: the same with the separators it saw (``-.:/``).
    confidence: mean probability of the characters read, in [0, 1].
    """

    text: str
    confidence: float
    raw: str = ""


def read_crops(crops: list[npt.NDArray[np.uint8]], threads: int = 1) -> list[Reading]:
    """Read each BGR crop (any size, a single line of text expected) with the recogniser."""
    if not crops:
        return []
    keep, letters = _charset()
    sess = session(REC_FILE, threads)
    readings = []
    for crop in crops:
        h, w = crop.shape[:2]
        width = int(np.clip(round(REC_HEIGHT * w / max(h, 1)), 16, 480))
        x = _to_input(cv2.resize(crop, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR))
        probs = sess.run(None, {"x": x})[0][0][:, keep]  # (T, C) over plate characters only
        best = probs.argmax(axis=1)
        text, confs, prev = [], [], 0
        for t, k in enumerate(best):
            if k and k != prev:
                text.append(letters[k])
                confs.append(float(probs[t, k] / max(probs[t].sum(), 1e-6)))
            prev = k
        raw = "".join(text)
        clean = "".join(ch for ch in raw if ch.isalnum())
        readings.append(Reading(clean, float(np.mean(confs)) if confs else 0.0, raw))
    return readings
