"""Distractors: extra gallery crops that are never the answer, to test search at scale.

Real crops of the *other* datasets beside the evaluated folder (scene datasets give their
plate boxes) come first, then synthetic plates of other texts (model.data). Any whose text
could be one of the queries (alphabet.text.same_plate) is dropped. Their embeddings are
cached per model version under the cache folder, since making 100,000 takes minutes.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alphabet.text import normalize
from model import retrieval
from model.data import DataConfig, PairSource
from model.embed import TFEmbedder
from model.gallery import Dataset, ModelRun
from model.preprocess import apply_steps, prepare_one, read_image
from model.reading import edit_distances, encode_keys, reading_similarity, same_plate_matrix
from model.spec import ModelSpec
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
CHUNK = 2048


def real_crops(root: Path, skip: Path) -> Iterator[tuple[Image, str]]:
    """(crop, plate text) from every dataset folder under root except skip."""
    for labels in sorted(root.glob("*/labels.csv")):
        folder = labels.parent
        if folder.resolve() == skip.resolve():
            continue
        with labels.open(newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    text = normalize(row["plate_text"], allow_patterns=True)
                    image = read_image(folder / row["file"])
                except PlatewatchError:
                    continue
                if "x" in row:
                    x, y, w, h = (int(float(row[k])) for k in ("x", "y", "w", "h"))
                    image = image[max(y, 0) : y + h, max(x, 0) : x + w]
                    if min(image.shape[:2]) < 4:
                        continue
                yield image, text


def _pool_dir(spec: ModelSpec, cache: Path) -> tuple[Path, tuple[str, ...]]:
    head = spec.preprocess[: spec.preprocess.index("resize") + 1]
    return cache / f"synthetic_{'-'.join(head)}_{spec.width}x{spec.height}", head


def fill_pool(spec: ModelSpec, n: int, cache: Path, worker: int = 0, workers: int = 1) -> None:
    """Draw the missing chunks of the synthetic pool (chunk k by worker k % workers), so
    several processes can share the work and an interrupted fill resumes."""
    folder, head = _pool_dir(spec, cache)
    folder.mkdir(parents=True, exist_ok=True)
    source = PairSource(DataConfig(hard_negatives=0.0, mask_prob=0.0))
    for k, start in enumerate(range(0, n, CHUNK)):
        path = folder / f"{start:08d}_{CHUNK}.npz"
        if k % workers != worker or path.exists():
            continue
        crops, texts = source.batch(CHUNK, seed=7_000_000 + start)
        images = np.stack([apply_steps(c, head, spec) for c in crops])
        np.savez(folder / "partial.npz" if workers == 1 else folder / f"partial{worker}.npz",
                 images=images, texts=np.array(texts))  # fmt: skip
        (folder / ("partial.npz" if workers == 1 else f"partial{worker}.npz")).rename(path)
        log.info("synthetic distractors: chunk at %d drawn", start)


def synthetic_pool(spec: ModelSpec, n: int, cache: Path) -> tuple[np.ndarray, list[str]]:
    """n synthetic plates (random texts of every format) taken through the spec's steps up
    to its resize, as uint8 (n, height, width[, channels]), and their texts.

    Cached under cache in chunks: the pool does not depend on the weights, so every model
    with the same leading steps and input size shares it (100,000 crops of 128x32: 400 MB).
    """
    fill_pool(spec, n, cache)
    folder, _ = _pool_dir(spec, cache)
    images: list[np.ndarray] = []
    texts: list[str] = []
    for start in range(0, n, CHUNK):
        z = np.load(folder / f"{start:08d}_{CHUNK}.npz")
        images.append(z["images"])
        texts.extend(str(t) for t in z["texts"])
    return np.concatenate(images)[:n], texts[:n]


@dataclass(frozen=True)
class Distractors:
    """vectors: (N, D) float32; readings, texts: N strings."""

    vectors: npt.NDArray[np.float32]
    readings: list[str]
    texts: list[str]

    @classmethod
    def build(cls, ds: Dataset, embedder: TFEmbedder, n: int, cache: str | Path) -> Distractors:
        """Real crops of the other datasets beside ds, then synthetic plates, n in all,
        none of whose texts could answer a query of ds."""
        cache = Path(cache)
        path = cache / f"distractors_{embedder.version}_{ds.folder.name}_{n}.npz"
        if path.exists():
            z = np.load(path)
            return cls(z["vectors"], [str(r) for r in z["readings"]], [str(t) for t in z["texts"]])
        queries = encode_keys(retrieval.distinct_texts(ds.texts), 16)

        def allowed(texts: list[str]) -> npt.NDArray[np.bool_]:
            hits = same_plate_matrix(queries, encode_keys(texts, 16))
            return np.asarray(~hits.any(axis=0), bool)

        real = list(islice(real_crops(ds.folder.parent, ds.folder), n))
        keep = allowed([t for _, t in real]).tolist()
        real = [r for r, k in zip(real, keep, strict=True) if k]
        parts = [embedder.embed_crops([im for im, _ in real])]
        texts = [t for _, t in real]
        log.info("distractors: %d real crops of other datasets", len(real))
        spec = embedder.spec
        if n > len(real) and "resize" in spec.preprocess:
            # One pool of n for every dataset (the real share differs between them).
            pool, pool_texts = synthetic_pool(spec, n, cache)
            chosen = np.flatnonzero(allowed(pool_texts))[: n - len(real)]
            tail = spec.preprocess[spec.preprocess.index("resize") + 1 :]
            for i in range(0, len(chosen), CHUNK):
                idx = chosen[i : i + CHUNK]
                x = np.stack([prepare_one(pool[j], spec, tail) for j in idx])
                parts.append(embedder.embed_prepared(x))
                texts.extend(pool_texts[j] for j in idx)
        vectors = np.concatenate([p.vectors for p in parts])
        readings = [r for p in parts for r in p.readings]
        out = cls(vectors, readings, texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, vectors=vectors, readings=np.array(readings), texts=np.array(texts))
        return out

    def score(
        self,
        run: ModelRun,
        queries: list[str],
        qv: npt.NDArray[np.float32],
        cos: npt.NDArray[np.float32],
        relevant: npt.NDArray[np.bool_],
    ) -> dict[str, Any]:
        """Text→image (vector and fused) and image→image hits with the distractors added."""
        n = len(self.texts)
        best = np.where(relevant, cos, -np.inf).max(axis=1)
        extra = retrieval.count_above(best, lambda s, e: qv @ self.vectors[s:e].T, n)
        text = retrieval.rank_queries(cos, relevant, extra)
        out: dict[str, Any] = {"distractors": n}
        out |= {f"distractors_text_top{k}": text.hit_rate(k) for k in retrieval.KS}
        weight = run.embedder.spec.fusion_weight
        if run.embedder.spec.has_reading:
            out |= self._fused(run, queries, qv, cos, relevant, weight)
        return out

    def score_csls(
        self,
        run: ModelRun,
        qv: npt.NDArray[np.float32],
        cos: npt.NDArray[np.float32],
        relevant: npt.NDArray[np.bool_],
        reference: npt.NDArray[np.float32],
    ) -> dict[str, Any]:
        """Text→image hits with the distractors, scored by CSLS (model.calibration)."""
        from model.calibration import hubness

        calibrated = cos - 0.5 * hubness(run.vectors, reference)[None, :]
        d_hub = 0.5 * hubness(self.vectors, reference)
        best = np.where(relevant, calibrated, -np.inf).max(axis=1)

        def chunk(s: int, e: int) -> npt.NDArray[np.float32]:
            return np.asarray(qv @ self.vectors[s:e].T - d_hub[None, s:e], np.float32)

        extra = retrieval.count_above(best, chunk, len(self.texts))
        ranking = retrieval.rank_queries(calibrated, relevant, extra)
        return {f"distractors_csls_text_top{k}": ranking.hit_rate(k) for k in retrieval.KS}

    def _fused(self, run: ModelRun, queries: list[str], qv: Any, cos: Any, relevant: Any,
               weight: float) -> dict[str, Any]:  # fmt: skip
        fused = np.stack([cos[i] + weight * reading_similarity(q, run.readings)
                          for i, q in enumerate(queries)])  # fmt: skip
        best = np.where(relevant, fused, -np.inf).max(axis=1)
        extra = np.zeros(len(queries), np.int64)
        codes, lengths = encode_keys(self.readings)
        # A distractor's fused score is at most cosine + weight: only those close enough in
        # cosine can overtake, so only their readings are compared.
        for s in range(0, len(self.texts), 8192):
            sims = qv @ self.vectors[s : s + 8192].T
            close = sims >= (best - weight)[:, None]
            for qi in np.flatnonzero(close.any(axis=1)):
                idx = np.flatnonzero(close[qi])
                dist = edit_distances(queries[qi], (codes[s + idx], lengths[s + idx]))
                term = np.maximum(0.0, 1.0 - dist / max(len(queries[qi]), 1))
                term[lengths[s + idx] == 0] = 0.0
                extra[qi] += int((sims[qi, idx] + weight * term >= best[qi]).sum())
        ranking = retrieval.rank_queries(fused, relevant, extra)
        return {f"distractors_fused_text_top{k}": ranking.hit_rate(k) for k in (1, 3)}
