"""End-to-end text search on full scenes: plates cut by a detector, found by text.

    python -m model.eval_scenes ../shared/data/scenes_eu_us [--limit N] [--json] [--reread]

Every scene of the folder (labels.csv: file, plate_text, x, y, w, h) goes through the
default detector (model.detect.create_detector) and model.detect.crops.cut_crops, as the
camera pipeline does; every crop of every scene forms one gallery, embedded by the default
embedder with the detector's readings handed on, as the pipeline hands them on (crops the
detector did not read are read by the embedder's reader; ``--reread`` reads every crop
again, the way the service worked before). Each distinct plate text is then searched as
the store searches it (model.fusion with the model's settings), and a hit at k counts when
one of the first k crops lies on the labelled plate (its box overlaps the labelled box) of
a scene carrying that text. Also reported: the vector-only score, the share of scenes whose
plate gave any crop (an upper bound on the hit rate), the share of crops whose reading
came from the detector, the embedding call's time per crop (reading included), and over the
crops lying on a labelled plate the share read exactly and the mean reading confidence.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from model import retrieval
from model.embed import load_embedder
from model.preprocess import read_image
from model.reading import encode_keys
from model.types import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scene:
    file: str
    text: str
    box: tuple[float, float, float, float]


def load_scenes(folder: Path, limit: int | None) -> list[Scene]:
    import csv

    from alphabet.text import normalize

    with (folder / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    return [
        Scene(r["file"], normalize(r["plate_text"], allow_patterns=True),
              tuple(float(r[k]) for k in ("x", "y", "w", "h")))  # type: ignore[arg-type]
        for r in rows
    ]  # fmt: skip


def overlap(a: npt.NDArray[np.float32], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller of two x, y, w, h boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return float(inter / max(min(a[2] * a[3], b[2] * b[3]), 1e-9))


@dataclass
class SceneCrops:
    """Every crop the detector cut from the scenes, as the camera pipeline cuts them.

    readings, confidences: the detector's reading of each crop ("" and 0 where it did not
    read); owners: (N,) scene index; on_plate: (N,) whether the crop lies on the labelled plate.
    """

    images: list[npt.NDArray[np.uint8]]
    readings: list[str]
    confidences: npt.NDArray[np.float32]
    owners: npt.NDArray[np.int64]
    on_plate: npt.NDArray[np.bool_]


def cut_scenes(
    folder: Path,
    scenes: list[Scene],
    detector_name: str | None = None,
    options: dict[str, Any] | None = None,
) -> SceneCrops:
    """Run a detector (the default unless named) and cut_crops on every scene."""
    from model.detect import DEFAULT_DETECTOR, create_detector
    from model.detect.crops import cut_crops

    detector = create_detector(detector_name or DEFAULT_DETECTOR, **(options or {}))
    images: list[npt.NDArray[np.uint8]] = []
    readings: list[str] = []
    confidences: list[float] = []
    owner: list[int] = []
    on_plate: list[bool] = []
    for i, sc in enumerate(scenes):
        pixels = read_image(folder / sc.file)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        frame = Frame("scenes", datetime.now(UTC), pixels)
        crops = cut_crops(frame, detector.detect(frame))
        n = len(crops)
        images += crops.images
        readings += crops.readings if crops.readings is not None else [""] * n
        conf = crops.read_confidences
        confidences += conf.tolist() if conf is not None else [0.0] * n
        owner += [i] * n
        on_plate += [overlap(box, sc.box) >= 0.5 for box in crops.boxes]
    return SceneCrops(
        images,
        readings,
        np.array(confidences, np.float32),
        np.array(owner, np.int64),
        np.array(on_plate, bool),
    )


def score(scenes: list[Scene], crops: SceneCrops, reread: bool = False) -> dict[str, Any]:
    """Embed the crops as the service does (the detector's readings handed on, or every crop
    read again by the embedder's reader when ``reread``) and search each distinct text."""
    embedder = load_embedder("default")
    handed = (None, None) if reread else (crops.readings, crops.confidences)
    embedder.embed_texts(["AB123"])  # warm-up: the first network call traces the graph
    start = time.perf_counter()
    emb = embedder.embed_crops(crops.images, *handed)
    embed_s = time.perf_counter() - start
    owners, plate = crops.owners, crops.on_plate
    queries = retrieval.distinct_texts([s.text for s in scenes])
    same = retrieval.text_relevance(queries, [s.text for s in scenes])  # (Q, scenes)
    relevant = same[:, owners] & plate[None, :]
    cos = embedder.embed_texts(queries).vectors @ emb.vectors.T
    enc = encode_keys(emb.readings)
    fusion = embedder.fusion
    fused = np.stack(
        [fusion.combine(c, fusion.terms_encoded(q, enc, emb.confidences))
         for c, q in zip(cos, queries, strict=True)]
    )  # fmt: skip
    vec = retrieval.rank_queries(cos, relevant)
    prod = retrieval.rank_queries(fused, relevant)
    found = {int(owners[j]) for j in np.flatnonzero(plate)}
    read_by_detector = 0 if reread else sum(bool(t) for t in crops.readings)
    exact = [emb.readings[j] == scenes[owners[j]].text for j in np.flatnonzero(plate)]
    return {
        "scenes": len(scenes),
        "crops": len(crops.images),
        "queries": len(queries),
        "plate_cut": len(found) / max(len(scenes), 1),
        "reader": embedder.reader_name,
        "read_by_detector": read_by_detector / max(len(crops.images), 1),
        "embed_ms_per_crop": 1000 * embed_s / max(len(crops.images), 1),
        "plate_read_exact": float(np.mean(exact)) if exact else 0.0,
        "plate_read_confidence": float(emb.confidences[plate].mean()) if exact else 0.0,
        **{f"text_top{k}": vec.hit_rate(k) for k in (1, 3)},
        **{f"product_text_top{k}": prod.hit_rate(k) for k in (1, 3)},
    }


def evaluate(
    folder: Path,
    limit: int | None,
    reread: bool = False,
    detector_name: str | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Detector -> crops -> embed (readings handed on unless ``reread``) -> text search."""
    from model.detect import DEFAULT_DETECTOR

    scenes = load_scenes(folder, limit)
    crops = cut_scenes(folder, scenes, detector_name, options)
    return {
        "dataset": str(folder),
        "detector": detector_name or DEFAULT_DETECTOR,
        **score(scenes, crops, reread),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--reread",
        action="store_true",
        help="read every crop again with the embedder's reader instead of handing on the "
        "detector's readings (the service before it handed them on)",
    )
    ap.add_argument("--detector", default=None, help="detection backend (default: the default)")
    ap.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="detector option, e.g. -o small_plates=true (repeatable)",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from model.detect.report import parse_options

    result = evaluate(
        Path(args.dir), args.limit, args.reread, args.detector, parse_options(args.option)
    )
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for k, v in result.items():
            print(f"{k:<20} {v:.3f}" if isinstance(v, float) else f"{k:<20} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
