"""``platewatch eval retrieval DIR``: text→image and image→image search on labelled crops.

Scores one model, the OCR baseline (model.ocr_baseline) and, for comparison, the seed
configuration, on any folder with ``labels.csv`` (file, plate_text[, split]). Optional
distractors pad the gallery with crops of other datasets and synthetic plates of other
texts, each read by the same reader as the gallery. Prints a table (or one JSON object)
and writes a figure of sample queries and their top-3 crops.

JSON keys (``k`` in 1, 3, 10; hit rates in [0, 1]):

* ``text_top{k}``: vector cosine alone; ``csls_text_top{k}``: cosine calibrated for
  hubness (model.calibration); ``image_top1/3``: image→image by cosine.
* ``product_text_top{k}``: **the product's score**, what the store's text search ranks
  by: model.fusion with the model's fusion settings (``fusion_weight``, ``fusion``) over
  the readings its embedder gives (``reader``: ``ppocr`` or ``own``);
  ``product_read_exact``: share of crops that reader reads exactly;
  ``product_image_top1/3``: image→image as the store's image search ranks, the fused
  score with the example crop's own reading as the query text.
* ``fused_text_top{k}``: the same fused score over the network's own reading head;
  ``read_exact``: share of crops the head reads exactly.
* ``ocr_text_top{k}``, ``ocr_read_exact``: the OCR baseline alone (edit distance);
  ``ocr_fused_text_top1/3``: our cosine fused with that OCR's readings.
* ``seed_text_top{k}``, ``seed_image_top1/3``: the seed model.
* with ``--distractors N``: ``distractors`` (how many), ``distractors_text_top{k}``,
  ``distractors_csls_text_top{k}``, ``distractors_fused_text_top{k}``,
  ``distractors_product_text_top{k}``, ``distractors_image_top1/3``,
  ``distractors_product_image_top1/3``: the same scores with N distractors added.
* ``queries``, ``image_queries``, ``gallery``, ``crops_per_s`` (embed_crops, reading
  included), ``dataset``, ``split``, ``model``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from model import calibration, retrieval
from model.distractors import Distractors
from model.embed import load_embedder, resolve_model
from model.fusion import Fusion
from model.gallery import Dataset, ModelRun, embed_gallery, load_dataset
from model.reading import encode_keys
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
DEFAULT_OUT = Path("artifacts")


def score_model(run: ModelRun, ds: Dataset, extra: Distractors | None) -> dict[str, Any]:
    """Vector, fused, product and reading metrics of one model on one gallery."""
    queries = retrieval.distinct_texts(ds.texts)
    relevant = retrieval.text_relevance(queries, ds.texts)
    qv = run.embedder.embed_texts(queries).vectors
    cos = qv @ run.vectors.T
    text = retrieval.rank_queries(cos, relevant)
    out: dict[str, Any] = {f"text_top{k}": text.hit_rate(k) for k in retrieval.KS}
    out["_text"] = (queries, text)
    out["_cos"] = cos
    reference = calibration.reference_vectors(run.embedder)
    hub = calibration.hubness(run.vectors, reference)
    csls = retrieval.rank_queries(cos - 0.5 * hub[None, :], relevant)
    out |= {f"csls_text_top{k}": csls.hit_rate(k) for k in retrieval.KS}
    fusion = run.embedder.fusion
    if run.embedder.spec.has_reading:
        matched = retrieval.text_relevance(run.own_readings, ds.texts).diagonal()
        out["read_exact"] = float(np.mean(matched))
        matched = retrieval.text_relevance(run.readings, ds.texts).diagonal()
        out["product_read_exact"] = float(np.mean(matched))
    if run.embedder.spec.has_reading and fusion.weight > 0:
        own = fused_scores(fusion, cos, queries, run.own_readings, run.own_confidences)
        f_rank = retrieval.rank_queries(own, relevant)
        out |= {f"fused_text_top{k}": f_rank.hit_rate(k) for k in retrieval.KS}
        product = fused_scores(fusion, cos, queries, run.readings, run.confidences)
        p_rank = retrieval.rank_queries(product, relevant)
        out |= {f"product_text_top{k}": p_rank.hit_rate(k) for k in retrieval.KS}
        out |= {"fusion_weight": fusion.weight, "fusion": fusion.options(),
                "reader": run.embedder.reader_name}  # fmt: skip
    idx = retrieval.image_queries(ds.texts)
    if idx:
        sims = run.vectors[idx] @ run.vectors.T
        sims[np.arange(len(idx)), idx] = -np.inf
        img_relevant = retrieval.text_relevance([ds.texts[i] for i in idx], ds.texts)
        img = retrieval.rank_queries(sims, img_relevant)
        out |= {"image_top1": img.hit_rate(1), "image_top3": img.hit_rate(3)}
        if run.embedder.spec.has_reading and fusion.weight > 0:
            # The store's image search: the example crop's own reading is the query text.
            query_readings = [run.readings[i] for i in idx]
            product = fused_scores(fusion, sims, query_readings, run.readings, run.confidences)
            p_img = retrieval.rank_queries(product, img_relevant)
            out |= {"product_image_top1": p_img.hit_rate(1),
                    "product_image_top3": p_img.hit_rate(3)}  # fmt: skip
        if extra is not None:
            out |= extra.score_images(run, idx, sims, img_relevant)
    out |= {"image_queries": len(idx), "queries": len(queries), "gallery": len(ds.texts),
            "crops_per_s": round(run.crops_per_s, 1)}  # fmt: skip
    if extra is not None:
        out |= extra.score(run, queries, qv, cos, relevant)
        out |= extra.score_csls(run, qv, cos, relevant, reference)
    return out


def fused_scores(
    fusion: Fusion,
    cos: npt.NDArray[np.float32],
    queries: list[str],
    readings: list[str],
    confidences: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """(Q, G) fused scores (model.fusion, the store's text-search score)."""
    enc = encode_keys(readings)
    pairs = zip(cos, queries, strict=True)
    rows = [fusion.combine(c, fusion.terms_encoded(q, enc, confidences)) for c, q in pairs]
    return np.stack(rows)


def score_ocr(ds: Dataset, cache_dir: Path, cos: npt.NDArray[np.float32],
              fusion: Fusion) -> dict[str, Any]:  # fmt: skip
    """The OCR baseline alone, and our cosine fused with the OCR's readings (ocr_fused_*)."""
    from model import ocr_baseline

    readings = ocr_baseline.read_files(ds.folder, ds.files, cache_dir)
    texts = [r for r, _ in readings]
    conf = np.array([c for _, c in readings], np.float32)
    enc = ocr_baseline.encode_readings(texts)
    queries = retrieval.distinct_texts(ds.texts)
    scores = np.stack([ocr_baseline.ocr_scores(q, enc, conf) for q in queries])
    ranking = retrieval.rank_queries(scores, retrieval.text_relevance(queries, ds.texts))
    exact = retrieval.text_relevance(texts, ds.texts).diagonal()
    out = {f"ocr_text_top{k}": ranking.hit_rate(k) for k in retrieval.KS}
    fused = fused_scores(fusion, cos, queries, texts, conf)
    f_rank = retrieval.rank_queries(fused, retrieval.text_relevance(queries, ds.texts))
    out |= {f"ocr_fused_text_top{k}": f_rank.hit_rate(k) for k in (1, 3)}
    return out | {"ocr_read_exact": float(np.mean(exact))}


def evaluate(args: argparse.Namespace) -> tuple[dict[str, Any], Dataset, ModelRun, list[Image]]:
    ds = load_dataset(Path(args.dir), args.split, args.limit)
    images = ds.images()
    run = embed_gallery(load_embedder(args.model, getattr(args, "reader", None)), images)
    extra = (
        Distractors.build(ds, run.embedder, args.distractors, args.cache)
        if args.distractors
        else None
    )
    result = {"dataset": str(ds.folder), "split": args.split, "model": run.embedder.version}
    result |= score_model(run, ds, extra)
    if not args.no_ocr:
        fusion = run.embedder.fusion
        if fusion.weight == 0:
            fusion = Fusion(weight=0.5)
        result |= score_ocr(ds, Path(args.cache), result["_cos"], fusion)
    if not args.no_seed and args.model != "seed":
        try:
            resolve_model("seed")
        except PlatewatchError:
            log.info("no shipped seed model to compare with")
        else:
            seed = score_model(embed_gallery(load_embedder("seed"), images), ds, None)
            seed.pop("_cos")
            result |= {f"seed_{k}": v for k, v in seed.items()
                       if k.startswith(("text_top", "image_top"))}  # fmt: skip
    return result, ds, run, images


def print_table(result: dict[str, Any]) -> None:
    print(f"{result['dataset']} (split {result['split']}): {result['queries']} text queries, "
          f"{result['image_queries']} image queries, gallery {result['gallery']}, "
          f"model {result['model']}, reader {result.get('reader', 'own')}, "
          f"{result['crops_per_s']:.0f} crops/s")  # fmt: skip
    cols = ("", "csls_", "fused_", "product_", "ocr_", "ocr_fused_", "seed_", "distractors_",
            "distractors_product_")  # fmt: skip
    names = ("vector", "CSLS", "fused", "product", "OCR", "vec+OCR", "seed", "+distr.",
             "prod+dis")  # fmt: skip
    print(f"{'metric':<14}" + "".join(f"{n:>9}" for n in names))
    for m in ("text_top1", "text_top3", "text_top10", "image_top1", "image_top3", "read_exact"):
        cells = [result.get(p + m) for p in cols]
        print(f"{m:<14}" + "".join(f"{c:>9.3f}" if c is not None else f"{'-':>9}" for c in cells))


def run_cli(args: argparse.Namespace) -> int:
    result, ds, run, images = evaluate(args)
    queries, ranking = result.pop("_text")
    result.pop("_cos")
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print_table(result)
    from model.retrieval_figure import draw

    path = Path(args.figure) if args.figure else DEFAULT_OUT / f"retrieval_{ds.folder.name}.png"
    draw(run.embedder, queries, ranking, ds, images, path)
    print(f"figure: {path}")
    return 0
