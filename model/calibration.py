"""Hubness calibration of crop↔render cosines (CSLS, Conneau et al. 2018).

Some crops sit close to *every* render (sharp synthetic-looking plates), others far from
all of them (blurred night shots); raw cosine then lets the former crowd the answer out of
a large gallery. CSLS scores a crop against a query render by ``cos - hub/2``, where ``hub``
is the crop's mean cosine to its k nearest renders among a fixed reference set of random
plate texts. ``hub`` depends on the crop alone, so it can be computed once when the crop
is indexed and stored beside its vector.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from model.data import LAYOUTS, random_text
from model.embed import TFEmbedder

#: Reference renders and neighbours per crop; the texts are drawn with a fixed seed.
REFERENCE_SIZE = 2048
NEIGHBOURS = 10


def reference_vectors(embedder: TFEmbedder, seed: int = 0) -> npt.NDArray[np.float32]:
    """(REFERENCE_SIZE, D) render vectors of random texts of every format."""
    rng = np.random.default_rng(seed)
    formats = sorted(LAYOUTS)
    texts = [random_text(formats[i % len(formats)], rng) for i in range(REFERENCE_SIZE)]
    return embedder.embed_texts(texts).vectors


def hubness(
    vectors: npt.NDArray[np.float32], reference: npt.NDArray[np.float32], chunk: int = 8192
) -> npt.NDArray[np.float32]:
    """(N,) mean cosine of each crop vector to its NEIGHBOURS nearest reference renders."""
    out = np.empty(len(vectors), np.float32)
    for s in range(0, len(vectors), chunk):
        sims = vectors[s : s + chunk] @ reference.T
        top = np.partition(sims, -NEIGHBOURS, axis=1)[:, -NEIGHBOURS:]
        out[s : s + chunk] = top.mean(axis=1)
    return out
