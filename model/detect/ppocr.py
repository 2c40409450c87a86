"""The offline default: PP-OCRv4's text detector, its text lines joined into plates.

The weights come inside the rapidocr-onnxruntime wheel, so this backend works on a fresh
machine with no download. A text detector finds every kind of text (stickers, signs,
badges); model.detect.plates keeps the lines that are shaped and read like plates.
"""

from __future__ import annotations

from pydantic import Field

from model.detect import _ppocr
from model.detect._frames import scaled_windows, usable_pixels
from model.detect.memo import ReadingMemo
from model.detect.plates import PlateOptions, plates_from_text
from model.detect.small import add_small_plates
from model.detect.textboxes import TextBoxOptions, join_parts, text_boxes
from model.protocols import Detector
from model.types import Frame, PlateDetections


class PpocrOptions(PlateOptions):
    """Settings of the ``ppocr`` backend."""

    max_side: int = Field(
        default=960,
        ge=64,
        le=4096,
        title="detector input size",
        description="the frame is scaled so its longer side has this many pixels "
        "(small frames are scaled up); smaller is faster, larger finds smaller plates",
    )
    int8: bool = Field(
        default=False,
        title="8-bit detector",
        description="run the 8-bit copy of the text detector: about 1.8x faster on one core "
        "but it finds fewer plates (docs/detection.md)",
    )
    threshold: float = Field(default=0.3, gt=0, lt=1, title="text pixel probability")
    min_score: float = Field(default=0.5, gt=0, lt=1, title="mean probability of a text region")
    small_plates: bool = Field(
        default=False,
        title="also find plates too small to read",
        description="run the platenet network as well and add its plates lower than "
        "small_height pixels that no text line found (unread; model.detect.small); "
        "about 11 ms more a 1280x720 frame",
    )
    small_height: float = Field(
        default=12.0, gt=0, le=1000, title="plates lower than this (frame pixels) are small"
    )


class PpocrDetector:
    """Plates as PP-OCR text lines that look and read like plates."""

    name = "ppocr"

    def __init__(self, options: PpocrOptions | None = None) -> None:
        self.options = options or PpocrOptions()
        det = str(_ppocr.INT8_PATH) if self.options.int8 else _ppocr.DET_FILE
        _ppocr.session(det, self.options.threads)  # fail now, not at frame one
        self.options.preload()
        self._boxes = TextBoxOptions(
            threshold=self.options.threshold, min_score=self.options.min_score
        )
        self._memo = ReadingMemo()
        self._small: Detector | None = None
        if self.options.small_plates:
            from model.detect.platenet import PlatenetDetector, PlatenetOptions

            self._small = PlatenetDetector(PlatenetOptions(threads=self.options.threads))

    def detect(self, frame: Frame) -> PlateDetections:
        """Plate boxes (x, y, w, h in frame pixels), their quads and scores in [0, 1].

        Only the frame's motion regions are searched when it has any (``Frame.regions``):
        windows of the scaled frame aligned to the network's stride (see
        :func:`model.detect._frames.scaled_windows`)."""
        pixels = usable_pixels(frame)
        if pixels is None:
            return PlateDetections()
        o = self.options
        scale, windows = scaled_windows(frame, pixels, o.max_side, _ppocr.STRIDE)
        found = []
        for x, y, window in windows:
            pmap = _ppocr.window_probability(window, scale, o.threads, o.int8)
            found.append((x / scale, y / scale, text_boxes(pmap, self._boxes)))
        memo = (self._memo, frame.camera) if o.reuse_readings else None
        plates = plates_from_text(pixels, join_parts(found), o, memo)
        if self._small is None:
            return plates
        return add_small_plates(plates, self._small.detect(frame), o.small_height)
