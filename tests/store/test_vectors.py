"""The hnswlib index on its own: recall of the default settings on clustered near-duplicates
(the shape of many sightings of the same plates), its memory, the pgvector build memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from store.pgvectors import build_memory_mb
from store.vectors import HnswSettings, VectorIndex


def unit(v: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float32]:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def near_duplicates(
    plates: int, copies: int, dim: int, seed: int = 0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``plates`` random directions each seen ``copies`` times with noise (cosine ~0.8 to
    its plate, as two real views of one plate), and one query near each of 200 plates."""
    rng = np.random.default_rng(seed)
    base = unit(rng.normal(size=(plates, dim)).astype(np.float32))
    sigma = np.sqrt((1 / 0.8**2 - 1) / dim)
    views = unit(np.repeat(base, copies, axis=0) + rng.normal(0, sigma, (plates * copies, dim)))
    queries = unit(base[:200] + rng.normal(0, sigma, (200, dim)))
    return views, queries


def recall_at_10(
    settings: HnswSettings, views: npt.NDArray[np.float32], queries: npt.NDArray[np.float32]
) -> float:
    index = VectorIndex(views.shape[1], settings, capacity=len(views))
    index.add(np.arange(1, len(views) + 1, dtype=np.int64), views, threads=1)
    exact = np.argsort(-(queries @ views.T), axis=1)[:, :10] + 1
    hits = 0
    for q, truth in zip(queries, exact, strict=True):
        ids, scores = index.search(q, 10)
        assert np.all(np.diff(scores) <= 1e-6)  # best first
        hits += len(set(ids.tolist()) & set(truth.tolist()))
    return hits / (10 * len(queries))


def test_default_settings_find_the_exact_top_10_among_near_duplicates() -> None:
    views, queries = near_duplicates(plates=400, copies=25, dim=64)
    assert recall_at_10(HnswSettings(), views, queries) >= 0.99
    # The same data defeats a narrow search: the figure above is the settings' doing.
    assert recall_at_10(HnswSettings(m=4, ef_construction=10, ef=10), views, queries) < 0.9


def test_memory_is_the_vectors_plus_the_links() -> None:
    dim, n = 32, 2000
    settings = HnswSettings(m=16)
    index = VectorIndex(dim, settings, capacity=n)
    empty = index.memory_bytes()
    rng = np.random.default_rng(1)
    index.add(np.arange(1, n + 1, dtype=np.int64), unit(rng.normal(size=(n, dim))))
    per_vector = (index.memory_bytes() - empty) / n
    # 4*dim bytes of vector, 2*M links of 4 bytes on layer 0, a label and a little more.
    assert 4 * dim + 2 * settings.m * 4 <= per_vector <= 4 * dim + 2 * settings.m * 4 + 64


def test_pgvector_build_memory_fits_the_graph_within_bounds() -> None:
    assert build_memory_mb(0, 128, 16) == 512
    one_million = build_memory_mb(1_000_000, 128, 16)
    # The measured index is ~800 MB per million at D=128, M=16: the build gets more.
    assert 900 <= one_million <= 2000
    assert build_memory_mb(100_000_000, 128, 16) == 8192
