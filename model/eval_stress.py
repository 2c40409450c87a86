"""``platewatch eval stress DIR``: text search when the camera makes it hard.

The crops of a labelled folder are searched by their typed texts, as in ``eval
retrieval``, under conditions cameras bring, each applied to every crop of the gallery:

* ``clean``: the crops as they are;
* ``blur``: Gaussian blur, sigma a twentieth of the crop's height (defocus, motion);
* ``night``: a quarter of the light, gamma 1.6, sensor noise (sigma 6 grey levels);
* ``lowres``: shrunk to 12 px high and blown up again (a far camera);
* ``partial``: only the left 60 % of the crop (a plate partly hidden or cut by the frame);
* ``near``: the clean crops among ``--near`` synthetic crops per query of plates one
  character away from it (look-alike swaps first: ``8``/``B``, ``5``/``S`` ...), drawn in
  the query's format: a gallery crowded with near-identical plates.

Each condition is scored for the product (the fused score of model.fusion over the
embedder's readings, what the store ranks by), the vector alone, and the OCR baseline
(model.ocr_baseline reading the same degraded crops, ranked by edit distance). The
degradations are seeded per crop, so a run repeats exactly. Nothing is cached: every
condition's crops are read afresh by both readers.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.formats import guess_format
from alphabet.synth import realistic_crop
from alphabet.text import DIGITS, LETTERS, UNKNOWN, lookalike_key
from model import ocr_baseline, retrieval
from model.embed import TFEmbedder, load_embedder
from model.eval_retrieval import fused_scores
from model.fusion import CONFUSABLE
from model.gallery import load_dataset
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
CONDITIONS = ("clean", "blur", "night", "lowres", "partial", "near")
KS = (1, 3)


class StressError(PlatewatchError, ValueError):
    """An unknown condition or a bad option."""


def _blur(image: Image, rng: np.random.Generator) -> Image:
    sigma = max(image.shape[0] / 20.0, 0.8)
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), np.uint8)


def _night(image: Image, rng: np.random.Generator) -> Image:
    dark = 255.0 * (image.astype(np.float32) / 255.0) ** 1.6 * 0.25
    noisy = dark + rng.normal(0.0, 6.0, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _lowres(image: Image, rng: np.random.Generator) -> Image:
    h, w = image.shape[:2]
    small_h = min(12, h)
    size = (max(1, round(w * small_h / h)), small_h)
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)


def _partial(image: Image, rng: np.random.Generator) -> Image:
    return np.ascontiguousarray(image[:, : max(1, round(image.shape[1] * 0.6))])


DEGRADE: dict[str, Callable[[Image, np.random.Generator], Image]] = {
    "clean": lambda image, rng: image,
    "blur": _blur,
    "night": _night,
    "lowres": _lowres,
    "partial": _partial,
}
_SWAPS = {pair[i]: pair[1 - i] for pair in CONFUSABLE for i in (0, 1)}


def near_texts(text: str, k: int, rng: np.random.Generator) -> list[str]:
    """Up to k texts one character from ``text``: a look-alike swap where the character
    has one, else another letter for a letter and digit for a digit; ``?`` kept."""
    positions = [i for i, c in enumerate(text) if c != UNKNOWN]
    out: list[str] = []
    seen = {lookalike_key(text)}
    for _ in range(8 * k):
        if len(out) >= k or not positions:
            break
        i = int(rng.choice(positions))
        c = text[i]
        swap = _SWAPS.get(c) if rng.random() < 0.6 else None
        pool = LETTERS if c in LETTERS else DIGITS
        new = swap or str(rng.choice([x for x in pool if lookalike_key(x) != lookalike_key(c)]))
        variant = text[:i] + new + text[i + 1 :]
        if lookalike_key(variant) not in seen:
            seen.add(lookalike_key(variant))
            out.append(variant)
    return out


def crowd(queries: list[str], k: int, seed: int) -> tuple[list[Image], list[str]]:
    """k synthetic crops per query of plates one character away (none of them the answer
    to any query)."""
    rng = np.random.default_rng(seed)
    texts = [t for q in queries for t in near_texts(q, k, rng)]
    if texts:
        answers = np.asarray(retrieval.text_relevance(queries, texts).any(axis=0), bool)
        texts = [t for t, hit in zip(texts, answers, strict=True) if not hit]
    images = [realistic_crop(t, guess_format(t), rng, difficulty=0.5) for t in texts]
    return images, texts


def score(
    embedder: TFEmbedder,
    queries: list[str],
    query_vectors: npt.NDArray[np.float32],
    images: list[Image],
    texts: list[str],
) -> dict[str, float]:
    """Text→image hit rates of the product, the vector and the OCR baseline on one gallery;
    query_vectors: the embedded renders of the queries (the same for every condition)."""
    relevant = retrieval.text_relevance(queries, texts)
    emb = embedder.embed_crops(images)
    cos = query_vectors @ emb.vectors.T
    out: dict[str, float] = {}
    ranks = {
        "vector": retrieval.rank_queries(cos, relevant),
        "product": retrieval.rank_queries(
            fused_scores(embedder.fusion, cos, queries, emb.readings, emb.confidences), relevant
        ),
    }
    read = [ocr_baseline.read_crop(im) for im in images]
    enc = ocr_baseline.encode_readings([t for t, _ in read])
    conf = np.array([c for _, c in read], np.float32)
    ocr = np.stack([ocr_baseline.ocr_scores(q, enc, conf) for q in queries])
    ranks["ocr"] = retrieval.rank_queries(ocr, relevant)
    for name, ranking in ranks.items():
        out |= {f"{name}_text_top{k}": ranking.hit_rate(k) for k in KS}
    out["product_read_exact"] = float(
        np.mean(retrieval.text_relevance(emb.readings, texts).diagonal())
    )
    out["ocr_read_exact"] = float(
        np.mean(retrieval.text_relevance([t for t, _ in read], texts).diagonal())
    )
    out["gallery"] = len(texts)
    return out


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    unknown = sorted(set(args.conditions) - set(CONDITIONS))
    if unknown:
        raise StressError(f"unknown conditions {unknown}; known: {', '.join(CONDITIONS)}")
    if args.near < 1:
        raise StressError(f"--near must be at least 1, got {args.near}")
    ds = load_dataset(Path(args.dir), args.split, args.limit)
    images = ds.images()
    embedder = load_embedder(args.model)
    queries = retrieval.distinct_texts(ds.texts)
    query_vectors = embedder.embed_texts(queries).vectors
    result: dict[str, Any] = {
        "dataset": str(ds.folder), "split": args.split, "model": embedder.version,
        "reader": embedder.reader_name, "queries": len(queries), "seed": args.seed,
    }  # fmt: skip
    conditions: dict[str, Any] = {}
    for name in args.conditions:
        start = time.perf_counter()
        if name == "near":
            extra, extra_texts = crowd(queries, args.near, args.seed)
            gallery, texts = images + extra, ds.texts + extra_texts
            result["near_per_query"] = args.near
        else:
            degrade = DEGRADE[name]
            gallery = [
                degrade(im, np.random.default_rng([args.seed, i])) for i, im in enumerate(images)
            ]
            texts = ds.texts
        conditions[name] = score(embedder, queries, query_vectors, gallery, texts)
        log.info("stress %s: %.0f s", name, time.perf_counter() - start)
    result["conditions"] = conditions
    return result


def print_table(result: dict[str, Any]) -> None:
    print(f"{result['dataset']} (split {result['split']}): {result['queries']} text queries, "
          f"model {result['model']}, reader {result['reader']}")  # fmt: skip
    cols = [f"{who}_text_top{k}" for who in ("product", "vector", "ocr") for k in KS]
    names = [c.replace("_text", "") for c in cols]
    print(f"{'condition':<10}{'gallery':>8}" + "".join(f"{n:>13}" for n in names))
    for name, row in result["conditions"].items():
        print(f"{name:<10}{row['gallery']:>8}" + "".join(f"{row[c]:>13.3f}" for c in cols))


def run_cli(args: argparse.Namespace) -> int:
    result = evaluate(args)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print_table(result)
    return 0
