"""EasyOCR's CRAFT text detector, run offline from a weights file placed by hand.

EasyOCR fetches ``craft_mlt_25k.pth`` from the internet at first use and checks its md5
against ``easyocr.config``. Here the network class is taken from the easyocr package and
the weights are loaded directly from ``model_dir`` (EasyOCR's usual ``~/.EasyOCR/model``
by default): nothing is downloaded, and a file whose md5 differs from the published one is
still used, with a warning in the log (retrained or converted weights are legitimate).
Only the detector is needed: plates are read with the PP-OCR recogniser.

Needs the optional extra: ``pip install platewatch[easyocr]`` (easyocr, torch, torchvision).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import Field

from model.detect._frames import part_side, search_parts, usable_pixels
from model.detect._ppocr import BackendUnavailableError
from model.detect.memo import ReadingMemo
from model.detect.plates import PlateOptions, plates_from_text
from model.detect.textboxes import TextBoxes, join_parts, order_corners
from model.types import Frame, PlateDetections

log = logging.getLogger(__name__)

WEIGHTS_FILE = "craft_mlt_25k.pth"
WEIGHTS_URL = "https://github.com/JaidedAI/EasyOCR/releases/download/pre-v1.1.6/craft_mlt_25k.zip"
#: ImageNet statistics CRAFT was trained with, RGB, on 0-255 pixels.
_MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
_STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


class CraftOptions(PlateOptions):
    """Settings of the ``easyocr`` backend."""

    model_dir: Path = Field(
        default=Path("~/.EasyOCR/model"),
        title="folder holding craft_mlt_25k.pth",
        description="EasyOCR's usual model folder; the file is never downloaded",
    )
    max_side: int = Field(default=960, ge=64, le=4096, title="longer side the frame is scaled to")
    text_threshold: float = Field(default=0.7, gt=0, lt=1, title="character region score")
    link_threshold: float = Field(default=0.4, gt=0, lt=1, title="score linking characters")
    low_text: float = Field(default=0.4, gt=0, lt=1, title="region score bounding a word")


def weights_path(model_dir: Path) -> Path:
    """The CRAFT weights file; raises BackendUnavailableError saying where to put it."""
    folder = model_dir.expanduser()
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise BackendUnavailableError(
            f"EasyOCR detector weights not found: {WEIGHTS_FILE} is needed in {folder} "
            f"(it is never downloaded at run time). On a machine with internet, fetch "
            f"{WEIGHTS_URL}, unzip it, and copy {WEIGHTS_FILE} into {folder}, or pass "
            f"model_dir=<folder that holds it>. (EasyOCR's recogniser english_g2.pth is not "
            f"needed: plates are read with the PP-OCR recogniser.)"
        )
    return path


def _torch_modules() -> tuple[Any, Any, Any]:
    try:
        import torch
        from easyocr.craft import CRAFT
        from easyocr.craft_utils import getDetBoxes
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the easyocr backend needs the optional extra ({exc}); install it with "
            "`pip install 'platewatch[easyocr]'` (easyocr==1.7.2, torch==2.14.1, "
            "torchvision==0.29.1), then make sure only opencv-python-headless 4.x remains"
        ) from exc
    return torch, CRAFT, getDetBoxes


def _check_md5(path: Path) -> None:
    try:
        from easyocr.config import detection_models
    except ImportError:  # the config moved: nothing to compare with
        return
    expected = detection_models.get("craft", {}).get("md5sum")
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    if expected and digest != expected:
        log.warning(
            "%s has md5 %s, not the published %s; using it anyway (EasyOCR itself would "
            "refuse it and try to download)",
            path,
            digest,
            expected,
        )


class CraftDetector:
    """Plates as CRAFT text words that look and read like plates."""

    name = "easyocr"

    def __init__(self, options: CraftOptions | None = None) -> None:
        self.options = options or CraftOptions()
        path = weights_path(self.options.model_dir)
        torch, craft_class, self._get_boxes = _torch_modules()
        self._torch = torch
        _check_md5(path)
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        # Weights saved from DataParallel carry a "module." prefix on every key.
        state = {k.removeprefix("module."): v for k, v in state.items()}
        net = craft_class(pretrained=False)
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise BackendUnavailableError(f"{path} is not a CRAFT state_dict: {exc}") from exc
        self._net = net.eval()
        self.options.preload()
        self._memo = ReadingMemo()

    def _score_maps(
        self, pixels: np.ndarray, max_side: int
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Region and link scores at half the scaled frame's size, and that scale."""
        h, w = pixels.shape[:2]
        scale = max_side / max(h, w)
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        rgb = cv2.cvtColor(cv2.resize(pixels, (sw, sh)), cv2.COLOR_BGR2RGB).astype(np.float32)
        padded = np.zeros((-(-sh // 32) * 32, -(-sw // 32) * 32, 3), np.float32)
        padded[:sh, :sw] = (rgb - _MEAN) / _STD
        torch = self._torch
        with torch.inference_mode():
            prev = torch.get_num_threads()
            torch.set_num_threads(self.options.threads)
            try:
                out, _ = self._net(torch.from_numpy(padded.transpose(2, 0, 1)[None].copy()))
            finally:
                torch.set_num_threads(prev)
        maps = out[0].numpy()
        return maps[..., 0], maps[..., 1], scale

    def detect(self, frame: Frame) -> PlateDetections:
        """Plate boxes (x, y, w, h in frame pixels), their quads and scores in [0, 1].

        Only the frame's motion regions are searched when it has any (``Frame.regions``)."""
        pixels = usable_pixels(frame)
        if pixels is None:
            return PlateDetections()
        o = self.options
        found = [
            (x, y, self._text(part, part_side(o.max_side, part, pixels)))
            for x, y, part in search_parts(frame, pixels)
        ]
        memo = (self._memo, frame.camera) if o.reuse_readings else None
        return plates_from_text(pixels, join_parts(found), o, memo)

    def _text(self, pixels: np.ndarray, max_side: int) -> TextBoxes:
        """CRAFT's text words in (a part of) a frame, in its pixels."""
        o = self.options
        region, link, scale = self._score_maps(pixels, max_side)
        boxes, _, _ = self._get_boxes(region, link, o.text_threshold, o.link_threshold, o.low_text)
        quads, scores = [], []
        for box in boxes:
            quad = order_corners(np.asarray(box, np.float32) * (2.0 / scale))
            x0, y0 = np.floor(np.asarray(box).min(axis=0)).astype(int).clip(0)
            x1, y1 = np.ceil(np.asarray(box).max(axis=0)).astype(int)
            patch = region[y0 : y1 + 1, x0 : x1 + 1]
            quads.append(quad)
            scores.append(float(patch.max()) if patch.size else 0.0)
        return TextBoxes(
            np.array(quads, np.float32).reshape(-1, 4, 2),
            np.clip(np.array(scores, np.float32), 0, 1),
        )
