"""Re-embedding stored crops for a new model: searches go on meanwhile, then the store
swaps to the new model's vectors at once; a crop that is gone is skipped, never lost."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from model.types import Embeddings
from store import open_store, search_vector
from store.reindex import reindex
from tests.store.conftest import DIM, MODEL, sighting, unit_vectors


class PixelEmbedder:
    """A second "model" small enough to reason about: the crop shrunk to 4x8 grey pixels,
    centred and normalised (D=32). A real Embedder, just not a network."""

    dim = 32
    version = "pixels-v2"

    def embed_crops(self, crops: Sequence[npt.NDArray[np.uint8]]) -> Embeddings:
        rows = []
        for crop in crops:
            grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
            v = cv2.resize(grey, (8, 4), interpolation=cv2.INTER_AREA).astype(np.float32)
            v = v.reshape(-1) - v.mean()
            rows.append(v / max(float(np.linalg.norm(v)), 1e-6))
        n = len(rows)
        return Embeddings(np.stack(rows), ["NEW"] * n, np.full(n, 0.5, np.float32))

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        raise NotImplementedError("the test searches by crop")


def crop_of(seed: int) -> npt.NDArray[np.uint8]:
    """A plate-sized crop with a coarse pattern of its own (survives JPEG)."""
    coarse = np.random.default_rng(seed).integers(0, 255, (4, 8), dtype=np.uint8)
    grey = cv2.resize(coarse, (96, 24), interpolation=cv2.INTER_NEAREST)
    return np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), np.uint8)


def test_reindex_swaps_to_the_new_model_and_searches_go_on(
    target: tuple[str, Path],
) -> None:
    url, data = target
    store = open_store(url, DIM, MODEL, data_dir=data)
    vecs = unit_vectors(8, seed=9)
    stored = []
    for i, v in enumerate(vecs):
        s = sighting(v, reading="OLD")
        object.__setattr__(s, "crop", crop_of(i))
        stored.extend(store.add_sightings([s]))
    # One crop file lost: that sighting is skipped and kept.
    assert stored[7].crop_path
    (data / stored[7].crop_path).unlink()
    old_hits: list[int] = []

    def during(_n: int) -> None:
        # Searches run on the old model's index while the new one is being built.
        old_hits.append(search_vector(store, vecs[2], k=1)[0].sighting.id)

    new_model = PixelEmbedder()
    done, skipped = reindex(store, new_model, batch=3, progress=during)
    assert (done, skipped) == (7, 1)
    assert old_hits and set(old_hits) == {stored[2].id}
    assert store.model_version == new_model.version and store.dim == new_model.dim
    assert len(store.index) == 7
    for i in range(7):
        query = new_model.embed_crops([crop_of(i)]).vectors[0]
        best = search_vector(store, query, k=1)[0]
        assert best.sighting.id == stored[i].id and best.score > 0.95
        assert best.sighting.reading == "NEW"
    assert store.get_sighting(stored[7].id).model_version == MODEL
    store.close()
    # Reopened with the new model, the saved (or server-side) index is the new one.
    again = open_store(url, new_model.dim, new_model.version, data_dir=data)
    assert len(again.index) == 7
    again.close()


def test_reindex_of_an_empty_store(tmp_path: Path) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    assert reindex(store, PixelEmbedder()) == (0, 0)
    with pytest.raises(LookupError):
        store.get_sighting(1)
