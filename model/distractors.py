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
from model.fusion import Fusion
from model.gallery import Dataset, ModelRun
from model.preprocess import apply_steps, prepare_batch, prepare_one, read_image
from model.reader import Reader
from model.reading import encode_keys, same_plate_matrix
from model.spec import ModelSpec
from model.types import Embeddings
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


def _readings_path(folder: Path, start: int, reader: Reader) -> Path:
    return folder / f"{start:08d}_{CHUNK}.{reader.key}.npz"


def fill_pool(
    spec: ModelSpec,
    n: int,
    cache: Path,
    worker: int = 0,
    workers: int = 1,
    reader: Reader | None = None,
) -> None:
    """Draw the missing chunks of the synthetic pool (chunk k by worker k % workers), so
    several processes can share the work and an interrupted fill resumes. With a reader,
    each chunk's crops are also read at their drawn size (not the pool's reduced one) and
    the readings kept beside the chunk."""
    folder, head = _pool_dir(spec, cache)
    folder.mkdir(parents=True, exist_ok=True)
    source = PairSource(DataConfig(hard_negatives=0.0, mask_prob=0.0))
    for k, start in enumerate(range(0, n, CHUNK)):
        path = folder / f"{start:08d}_{CHUNK}.npz"
        read_path = _readings_path(folder, start, reader) if reader is not None else None
        if k % workers != worker or (path.exists() and (read_path is None or read_path.exists())):
            continue
        crops, texts = source.batch(CHUNK, seed=7_000_000 + start)
        partial = folder / f"partial{worker}.npz"
        if not path.exists():
            images = np.stack([apply_steps(c, head, spec) for c in crops])
            np.savez(partial, images=images, texts=np.array(texts))
            partial.rename(path)
            log.info("synthetic distractors: chunk at %d drawn", start)
        if reader is not None and read_path is not None:
            if [str(t) for t in np.load(path)["texts"]] != texts:
                raise PlatewatchError(f"{path} was drawn with other texts; delete {folder}")
            readings, conf = reader.read(crops)
            np.savez(partial, readings=np.array(readings, dtype=str), confidences=conf)
            partial.rename(read_path)
            log.info("synthetic distractors: chunk at %d read by %s", start, reader.name)


def synthetic_pool(
    spec: ModelSpec, n: int, cache: Path, reader: Reader | None = None
) -> tuple[np.ndarray, list[str], list[str] | None, npt.NDArray[np.float32] | None]:
    """n synthetic plates (random texts of every format) taken through the spec's steps up
    to its resize, as uint8 (n, height, width[, channels]), their texts and, with a
    reader, its readings and confidences of the drawn crops.

    Cached under cache in chunks: the pool does not depend on the weights, so every model
    with the same leading steps and input size shares it (100,000 crops of 128x32: 400 MB).
    """
    fill_pool(spec, n, cache, reader=reader)
    folder, _ = _pool_dir(spec, cache)
    images: list[np.ndarray] = []
    texts: list[str] = []
    readings: list[str] = []
    conf: list[np.ndarray] = []
    for start in range(0, n, CHUNK):
        z = np.load(folder / f"{start:08d}_{CHUNK}.npz")
        images.append(z["images"])
        texts.extend(str(t) for t in z["texts"])
        if reader is not None:
            r = np.load(_readings_path(folder, start, reader))
            readings.extend(str(t) for t in r["readings"])
            conf.append(r["confidences"])
    if reader is None:
        return np.concatenate(images)[:n], texts[:n], None, None
    return np.concatenate(images)[:n], texts[:n], readings[:n], np.concatenate(conf)[:n]


@dataclass(frozen=True)
class Distractors:
    """vectors: (N, D) float32; texts: N strings. readings, confidences: what the model's
    embedder reads on each (its reader's, as the store would keep them); own_readings,
    own_confidences: the network's reading head's. Synthetic distractors are read on the
    crops as drawn, never given their labels."""

    vectors: npt.NDArray[np.float32]
    readings: list[str]
    confidences: npt.NDArray[np.float32]
    own_readings: list[str]
    own_confidences: npt.NDArray[np.float32]
    texts: list[str]

    @classmethod
    def build(cls, ds: Dataset, embedder: TFEmbedder, n: int, cache: str | Path) -> Distractors:
        """Real crops of the other datasets beside ds, then synthetic plates, n in all,
        none of whose texts could answer a query of ds."""
        cache = Path(cache)
        path = cache / (
            f"distractors_{embedder.version}_{embedder.reader_name}_{ds.folder.name}_{n}.npz"
        )
        if path.exists():
            z = np.load(path)
            return cls(z["vectors"], [str(r) for r in z["readings"]], z["confidences"],
                       [str(r) for r in z["own_readings"]], z["own_confidences"],
                       [str(t) for t in z["texts"]])  # fmt: skip
        queries = encode_keys(retrieval.distinct_texts(ds.texts), 16)

        def allowed(texts: list[str]) -> npt.NDArray[np.bool_]:
            hits = same_plate_matrix(queries, encode_keys(texts, 16))
            return np.asarray(~hits.any(axis=0), bool)

        real = list(islice(real_crops(ds.folder.parent, ds.folder), n))
        keep = allowed([t for _, t in real]).tolist()
        real = [r for r, k in zip(real, keep, strict=True) if k]
        images = [im for im, _ in real]
        spec = embedder.spec
        parts = [embedder.embed_crops(images)]
        own = [embedder.embed_prepared(prepare_batch(images, spec)) if images else parts[0]]
        texts = [t for _, t in real]
        log.info("distractors: %d real crops of other datasets", len(real))
        if n > len(real) and "resize" in spec.preprocess:
            # One pool of n for every dataset (the real share differs between them).
            pool, pool_texts, pool_read, pool_conf = synthetic_pool(spec, n, cache, embedder.reader)
            chosen = np.flatnonzero(allowed(pool_texts))[: n - len(real)]
            tail = spec.preprocess[spec.preprocess.index("resize") + 1 :]
            for i in range(0, len(chosen), CHUNK):
                idx = chosen[i : i + CHUNK]
                x = np.stack([prepare_one(pool[j], spec, tail) for j in idx])
                head = embedder.embed_prepared(x)
                own.append(head)
                if pool_read is not None and pool_conf is not None:
                    read = [pool_read[j] or head.readings[k] for k, j in enumerate(idx)]
                    conf = np.where([bool(pool_read[j]) for j in idx], pool_conf[idx],
                                    head.confidences).astype(np.float32)  # fmt: skip
                    head = Embeddings(head.vectors, read, conf)
                parts.append(head)
                texts.extend(pool_texts[j] for j in idx)
        out = cls(
            np.concatenate([p.vectors for p in parts]),
            [r for p in parts for r in p.readings],
            np.concatenate([p.confidences for p in parts]).astype(np.float32),
            [r for p in own for r in p.readings],
            np.concatenate([p.confidences for p in own]).astype(np.float32),
            texts,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, vectors=out.vectors, readings=np.array(out.readings, dtype=str),
                 confidences=out.confidences, own_readings=np.array(out.own_readings, dtype=str),
                 own_confidences=out.own_confidences, texts=np.array(texts, dtype=str))  # fmt: skip
        return out

    def score(
        self,
        run: ModelRun,
        queries: list[str],
        qv: npt.NDArray[np.float32],
        cos: npt.NDArray[np.float32],
        relevant: npt.NDArray[np.bool_],
    ) -> dict[str, Any]:
        """Text→image hits with the distractors added: vector, fused with the reading
        head's readings (fused_) and the product's score (product_)."""
        text = self._by_cosine(qv, cos, relevant)
        out: dict[str, Any] = {"distractors": len(self.texts)}
        out |= {f"distractors_text_top{k}": text.hit_rate(k) for k in retrieval.KS}
        fusion = run.embedder.fusion
        if run.embedder.spec.has_reading and fusion.weight > 0:
            own = self._fused(fusion, queries, qv, cos, relevant,
                              (run.own_readings, run.own_confidences),
                              (self.own_readings, self.own_confidences))  # fmt: skip
            out |= {f"distractors_fused_text_top{k}": own.hit_rate(k) for k in retrieval.KS}
            product = self._fused(fusion, queries, qv, cos, relevant,
                                  (run.readings, run.confidences),
                                  (self.readings, self.confidences))  # fmt: skip
            out |= {f"distractors_product_text_top{k}": product.hit_rate(k)
                    for k in retrieval.KS}  # fmt: skip
        return out

    def score_images(
        self,
        run: ModelRun,
        idx: list[int],
        sims: npt.NDArray[np.float32],
        relevant: npt.NDArray[np.bool_],
    ) -> dict[str, Any]:
        """Image→image hits with the distractors added: idx are the query crops' gallery
        indices, sims their cosines to the gallery (each query itself -inf)."""
        qv = run.vectors[idx]
        img = self._by_cosine(qv, sims, relevant)
        out: dict[str, Any] = {f"distractors_image_top{k}": img.hit_rate(k) for k in (1, 3)}
        fusion = run.embedder.fusion
        if run.embedder.spec.has_reading and fusion.weight > 0:
            product = self._fused(fusion, [run.readings[i] for i in idx], qv, sims, relevant,
                                  (run.readings, run.confidences),
                                  (self.readings, self.confidences))  # fmt: skip
            out |= {f"distractors_product_image_top{k}": product.hit_rate(k) for k in (1, 3)}
        return out

    def _by_cosine(
        self,
        qv: npt.NDArray[np.float32],
        cos: npt.NDArray[np.float32],
        relevant: npt.NDArray[np.bool_],
    ) -> retrieval.Ranking:
        """The ranking by cosine over the gallery (cos, relevant) and the distractors."""
        best = np.where(relevant, cos, -np.inf).max(axis=1)
        extra = retrieval.count_above(best, lambda s, e: qv @ self.vectors[s:e].T, len(self.texts))
        return retrieval.rank_queries(cos, relevant, extra)

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

    def _fused(
        self,
        fusion: Fusion,
        queries: list[str],
        qv: npt.NDArray[np.float32],
        cos: npt.NDArray[np.float32],
        relevant: npt.NDArray[np.bool_],
        gallery: tuple[list[str], npt.NDArray[np.float32]],
        extra: tuple[list[str], npt.NDArray[np.float32]],
    ) -> retrieval.Ranking:
        """The fused score (model.fusion) over gallery and distractors, each with its
        readings and confidences."""
        fused = np.stack([fusion.scores(c, q, *gallery) for c, q in zip(cos, queries, strict=True)])
        best = np.where(relevant, fused, -np.inf).max(axis=1)
        counts = np.zeros(len(queries), np.int64)
        for s in range(0, len(self.texts), 16384):
            enc = encode_keys(extra[0][s : s + 16384])
            sims = qv @ self.vectors[s : s + 16384].T
            for qi, q in enumerate(queries):
                term = fusion.terms_encoded(q, enc, extra[1][s : s + 16384])
                counts[qi] += int((fusion.combine(sims[qi], term) >= best[qi]).sum())
        return retrieval.rank_queries(fused, relevant, counts)
