"""The ``platenet`` network: a small fully convolutional plate detector, and its decoding.

The frame is scaled so its longer side has ``max_side`` pixels (padded to a multiple of
the stride). The network gives, on a grid at 1/4 of that scale, the probability that a
cell lies near a plate's centre and, for each cell, its distances to the plate's left,
top, right and bottom edges (in grid cells). Cells above a threshold are grouped into
connected regions; each region is one plate whose box is the probability-weighted mean of
its cells' boxes.

Shapes and sizes come from a spec (``weights/platenet/spec.json``) so the training script
and the detector build the same network.
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
from model.detect._frames import scale_frame

#: The committed weights and their spec.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "platenet"
#: Grid stride of the outputs, in input pixels.
STRIDE = 4
#: Input sizes are padded to a multiple of this (the deepest stride).
PAD_TO = 16


@dataclass(frozen=True)
class NetSpec:
    """What the detector needs to rebuild and feed the network."""

    widths: tuple[int, int, int, int] = (16, 32, 48, 64)
    head: int = 32
    max_side: int = 640
    threshold: float = 0.3
    #: Where the weights came from and how they score (written by the training script).
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> NetSpec:
        raw = json.loads(path.read_text())
        return cls(
            widths=tuple(int(w) for w in raw["widths"]),  # type: ignore[arg-type]
            head=int(raw["head"]),
            max_side=int(raw["max_side"]),
            threshold=float(raw["threshold"]),
            meta=dict(raw.get("meta", {})),
        )


def conv_bn_block(layers: Any, x: Any, ch: int, kernel: int = 1, stride: int = 1) -> Any:
    """Convolution, batch norm, ReLU (``layers``: keras.layers)."""
    x = layers.Conv2D(ch, kernel, stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def sep_block(layers: Any, x: Any, ch: int, stride: int = 1, kernel: int = 3) -> Any:
    """Depthwise-separable block: depthwise conv, batch norm, ReLU, then a 1x1 conv_bn."""
    x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return conv_bn_block(layers, x, ch)


def build_net(spec: NetSpec) -> Any:
    """The Keras model: (B, H, W, 3) float in [0, 1] -> (B, H/4, W/4, 5) (logit, l, t, r, b).

    H and W must be multiples of 16. Depthwise-separable blocks, a top-down path from 1/16
    back to 1/4 for context, about 40k weights.
    """
    keras = _tf.keras()
    layers = keras.layers
    w1, w2, w3, w4 = spec.widths

    def conv_bn(x: Any, ch: int, kernel: int = 1, stride: int = 1) -> Any:
        return conv_bn_block(layers, x, ch, kernel, stride)

    def sep(x: Any, ch: int, stride: int = 1, kernel: int = 3) -> Any:
        return sep_block(layers, x, ch, stride, kernel)

    inp = keras.Input((None, None, 3))
    x = conv_bn(inp, w1, 3, 2)  # 1/2
    c4 = sep(sep(x, w2, 2), w2)  # 1/4
    c8 = sep(sep(c4, w3, 2), w3)  # 1/8
    c16 = sep(sep(sep(c8, w4, 2), w4, kernel=5), w4, kernel=5)  # 1/16
    p8 = layers.Add()([layers.UpSampling2D(2)(conv_bn(c16, spec.head)), conv_bn(c8, spec.head)])
    p8 = sep(p8, spec.head)
    p4 = layers.Add()([layers.UpSampling2D(2)(p8), conv_bn(c4, spec.head)])
    p4 = sep(p4, spec.head)
    heat = layers.Conv2D(1, 1, bias_initializer=keras.initializers.Constant(-4.6), name="heat")(p4)
    sides = layers.Conv2D(4, 1, name="sides")(p4)
    out = layers.Concatenate()([heat, sides])
    return keras.Model(inp, out, name="platenet")


def prepare(bgr: npt.NDArray[np.uint8], max_side: int) -> tuple[npt.NDArray[np.float32], float]:
    """The frame scaled to ``max_side`` (longer side, small frames scaled up), padded to a
    multiple of 16, as (1, H, W, 3) float32 in [0, 1]; and the scale used."""
    small, scale = scale_frame(bgr, max_side)
    return padded_input(small), scale


def padded_input(small: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """(1, H, W, 3) float32 in [0, 1] of already scaled pixels, padded to multiples of 16."""
    nh, nw = small.shape[:2]
    ph, pw = -(-nh // PAD_TO) * PAD_TO, -(-nw // PAD_TO) * PAD_TO
    x = np.zeros((1, ph, pw, 3), np.float32)
    x[0, :nh, :nw] = small.astype(np.float32) * (1 / 255)
    return x


def decode(
    out: npt.NDArray[np.float32], threshold: float, min_cells: int = 1
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Boxes (N, 4: x, y, w, h in network-input pixels) and scores from one output map
    (Hc, Wc, 5: heat logit and the four side distances in grid cells, before softplus)."""
    prob = 1 / (1 + np.exp(-out[..., 0]))
    mask = (prob > threshold).astype(np.uint8)
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
    sides = np.logaddexp(0, out[..., 1:]) * STRIDE  # softplus, in input pixels
    ys, xs = np.nonzero(labels)
    ids = (labels[ys, xs] - 1).astype(np.intp)
    cx, cy = (xs + 0.5) * STRIDE, (ys + 0.5) * STRIDE
    s = sides[ys, xs]
    corners = np.stack([cx - s[:, 0], cy - s[:, 1], cx + s[:, 2], cy + s[:, 3]], 1)
    p = prob[ys, xs].astype(np.float64)
    n = count - 1
    weight = np.bincount(ids, p, n)
    cells = np.bincount(ids, None, n)
    sums = np.stack([np.bincount(ids, p * corners[:, k], n) for k in range(4)], 1)
    box = sums / weight[:, None]
    score = np.zeros(n, np.float64)
    np.maximum.at(score, ids, p)
    keep = (cells >= min_cells) & (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
    box, score = box[keep], score[keep]
    xywh = np.stack([box[:, 0], box[:, 1], box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]], 1)
    return xywh.astype(np.float32), score.astype(np.float32)
