"""Build the 8-bit copy of the PP-OCRv4 text detector that the ``ppocr`` backend runs.

    .venv/bin/python -m model.detect.quantize        # needs the `onnx` package

Static QDQ quantisation (uint8 activations, int8 weights) with onnxruntime, calibrated on
synthetic road scenes (alphabet.scene) only, so no evaluation photo shapes the result.
The output is committed as weights/ch_PP-OCRv4_det_int8.onnx (derived from PaddleOCR's
Apache-2.0 weights shipped in rapidocr-onnxruntime; see weights/LICENSE.txt).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from alphabet.scene import synth_scene
from model.detect import _ppocr

log = logging.getLogger(__name__)

#: Calibration scenes: enough for stable activation ranges, few enough to run in a minute.
CALIBRATION_FRAMES = 24
#: Input sizes seen in use (longer side), so ranges cover both presets.
CALIBRATION_SIDES = (640, 960, 1280)


def _calibration_inputs() -> Iterator[dict[str, np.ndarray]]:
    rng = np.random.default_rng(20261124)
    for i in range(CALIBRATION_FRAMES):
        scene = synth_scene(rng, size=(1280, 720), n_plates=(1, 3))
        side = CALIBRATION_SIDES[i % len(CALIBRATION_SIDES)]
        yield {"x": _ppocr.prepare(scene.pixels, side)[0]}


def build(out: Path = _ppocr.INT8_PATH) -> Path:
    """Quantise the shipped float detector into ``out`` and return it."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = _calibration_inputs()

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    source = _ppocr.models_dir() / _ppocr.DET_FILE
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "det_pre.onnx"
        # The model's dynamic input sizes defeat symbolic shape inference; it is not needed.
        quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
        # Per-channel scales need a newer opset than the model's; per-tensor matches the
        # float model's output to 99.6 % of pixels at the 0.3 threshold.
        quantize_static(
            str(pre),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=False,
        )
    log.info("wrote %s (%d bytes)", out, out.stat().st_size)
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build()
