"""The second look at a candidate plate: a small network that scores and re-boxes it.

``platenet`` finds nearly every plate somewhere near one of its candidate boxes, but its
boxes are rough (too wide on 2:1 US plates) and among its candidates are lamps, badges and
signs. The refiner looks again at each candidate through a window cut around it from the
frame at full resolution, scaled to a fixed ``height x width`` input, and gives

- the probability that a plate is centred in the window (the candidate is a plate), and
- that plate's box, as its left, top, right and bottom edges in window coordinates (0..1).

Window geometry: centred on the candidate, ``window_h = max(pad_h * h, pad_w * w / aspect)``
high and ``aspect`` times as wide, so a plate of any common shape (4.7:1 European, 2:1 US)
fits with its surroundings. Shapes come from a spec (``weights/refine/spec.json``) shared by
the training script and the detector.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from model import _tf
from model.detect.platenet_net import conv_bn_block, sep_block

#: The committed weights and their spec.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "refine"


@dataclass(frozen=True)
class RefineSpec:
    """What the detector needs to rebuild and feed the refiner."""

    height: int = 64
    width: int = 128
    widths: tuple[int, int, int, int] = (24, 48, 72, 96)
    dense: int = 64
    #: Window around a candidate: height max(pad_h * h, pad_w * w / aspect), width aspect x it.
    pad_h: float = 2.4
    pad_w: float = 1.4
    #: platenet's probability for a candidate to be looked at again.
    candidate_threshold: float = 0.3
    #: Looks at each candidate: the second through a window around the first's box, so a
    #: candidate far off its plate's centre is scored where the plate is.
    passes: int = 2
    #: Refined plates scoring below this are dropped (picked on held-out training images).
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> RefineSpec:
        raw = json.loads(path.read_text())
        return cls(
            height=int(raw["height"]),
            width=int(raw["width"]),
            widths=tuple(int(w) for w in raw["widths"]),  # type: ignore[arg-type]
            dense=int(raw["dense"]),
            pad_h=float(raw["pad_h"]),
            pad_w=float(raw["pad_w"]),
            candidate_threshold=float(raw.get("candidate_threshold", cls.candidate_threshold)),
            passes=int(raw.get("passes", cls.passes)),
            threshold=float(raw["threshold"]),
            meta=dict(raw.get("meta", {})),
        )


def windows_for(boxes: npt.NDArray[np.float32], spec: RefineSpec) -> npt.NDArray[np.float32]:
    """The window (x, y, w, h, frame pixels) the refiner looks through for each candidate
    box (N, 4: x, y, w, h)."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    cx, cy = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    wh = np.maximum(spec.pad_h * b[:, 3], spec.pad_w * b[:, 2] / spec.aspect)
    wh = np.maximum(wh, 4.0)
    ww = wh * spec.aspect
    return np.stack([cx - ww / 2, cy - wh / 2, ww, wh], 1).astype(np.float32)


def cut_windows(
    pixels: npt.NDArray[np.uint8], windows: npt.NDArray[np.float32], spec: RefineSpec
) -> npt.NDArray[np.uint8]:
    """(N, height, width, 3) uint8: each window of the BGR frame scaled to the input size
    (parts beyond the frame's edge repeat the border)."""
    out = np.zeros((len(windows), spec.height, spec.width, 3), np.uint8)
    for i, (x, y, w, h) in enumerate(windows):
        sx, sy = spec.width / w, spec.height / h
        m = np.array([[sx, 0, -x * sx], [0, sy, -y * sy]], np.float32)
        shrink = min(sx, sy) < 1
        out[i] = cv2.warpAffine(
            pixels,
            m,
            (spec.width, spec.height),
            flags=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    return out


def to_frame_boxes(
    edges: npt.NDArray[np.float32], windows: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Boxes (x, y, w, h, frame pixels) from the refiner's edges (N, 4: x0, y0, x1, y1 in
    window units 0..1) and the windows they were found in."""
    e = np.asarray(edges, np.float32).reshape(-1, 4)
    x0 = windows[:, 0] + e[:, 0] * windows[:, 2]
    y0 = windows[:, 1] + e[:, 1] * windows[:, 3]
    x1 = windows[:, 0] + e[:, 2] * windows[:, 2]
    y1 = windows[:, 1] + e[:, 3] * windows[:, 3]
    return np.stack([x0, y0, np.maximum(x1 - x0, 0), np.maximum(y1 - y0, 0)], 1).astype(np.float32)


def build_net(spec: RefineSpec) -> Any:
    """The Keras model: (B, height, width, 3) float in [0, 1] -> (B, 5): the plate logit and
    the edges x0, y0, x1, y1 in window units (sigmoid already applied)."""
    keras = _tf.keras()
    layers = keras.layers
    w1, w2, w3, w4 = spec.widths

    def conv_bn(x: Any, ch: int, kernel: int = 1, stride: int = 1) -> Any:
        return conv_bn_block(layers, x, ch, kernel, stride)

    def sep(x: Any, ch: int, stride: int = 1) -> Any:
        return sep_block(layers, x, ch, stride)

    inp = keras.Input((spec.height, spec.width, 3))
    x = conv_bn(inp, w1, 3, 1)
    x = sep(x, w1, 2)  # 1/2
    x = sep(sep(x, w2, 2), w2)  # 1/4
    x = sep(sep(x, w3, 2), w3)  # 1/8
    x = sep(sep(x, w4, 2), w4)  # 1/16
    x = layers.Flatten()(x)
    x = layers.Dense(spec.dense * 2, activation="relu")(x)
    x = layers.Dense(spec.dense, activation="relu")(x)
    logit = layers.Dense(1, name="plate")(x)
    edges = layers.Dense(4, activation="sigmoid", name="edges")(x)
    out = layers.Concatenate()([logit, edges])
    return keras.Model(inp, out, name="refine")
