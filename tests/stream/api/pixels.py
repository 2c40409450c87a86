"""An embedder made of rendered pixels, for tests that need exact, known cosines.

The real network is the model package's; these tests check the watchlist's bookkeeping
(stacking, thresholds, hours, patterns), where a vector whose cosine with each text is
known in advance makes the expected matches computable. It renders with alphabet.render,
the same code path the real embedder's text side uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.render import render
from alphabet.text import normalize
from model.types import Embeddings


def pixel_vector(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (64, 8), interpolation=cv2.INTER_AREA).astype(np.float32)
    v = (255.0 - small).ravel()
    v -= v.mean()
    return (v / (np.linalg.norm(v) + 1e-9)).astype(np.float32)


class PixelEmbedder:
    dim = 512
    version = "pixels-64x8"

    def __init__(self) -> None:
        self.text_calls = 0

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        self.text_calls += 1
        norm = [normalize(t, allow_patterns=True) for t in texts]
        vecs = np.stack([pixel_vector(render(t)) for t in norm]) if norm else np.zeros((0, 512))
        return Embeddings(vecs.astype(np.float32), norm, np.ones(len(norm), np.float32))

    def embed_crops(self, crops: Sequence[npt.NDArray[np.uint8]]) -> Embeddings:
        vecs = np.stack([pixel_vector(c) for c in crops]) if crops else np.zeros((0, 512))
        n = len(crops)
        return Embeddings(vecs.astype(np.float32), [""] * n, np.zeros(n, np.float32))
