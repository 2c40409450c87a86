"""End-to-end text search on full scenes: plates cut by the default detector, found by text.

    python -m model.eval_scenes ../shared/data/scenes_eu_us [--limit N] [--json]

Every scene of the folder (labels.csv: file, plate_text, x, y, w, h) goes through the
default detector (model.detect.create_detector) and model.detect.crops.cut_crops, as the
camera pipeline does; every crop of every scene forms one gallery, embedded and read by
the default embedder. Each distinct plate text is then searched as the store searches it
(model.fusion with the model's settings), and a hit at k counts when one of the first k
crops lies on the labelled plate (its box overlaps the labelled box) of a scene carrying
that text. Also reported: the vector-only score, and the share of scenes whose plate
gave any crop (an upper bound on the hit rate).
"""

from __future__ import annotations

import argparse
import json
import logging
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


def evaluate(folder: Path, limit: int | None) -> dict[str, Any]:
    from model.detect import create_detector
    from model.detect.crops import cut_crops

    scenes = load_scenes(folder, limit)
    detector = create_detector()
    images: list[npt.NDArray[np.uint8]] = []
    owner: list[int] = []  # scene index of each crop
    on_plate: list[bool] = []  # whether the crop lies on the labelled plate
    for i, sc in enumerate(scenes):
        pixels = read_image(folder / sc.file)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        frame = Frame("scenes", datetime.now(UTC), pixels)
        crops = cut_crops(frame, detector.detect(frame))
        for im, box in zip(crops.images, crops.boxes, strict=True):
            images.append(im)
            owner.append(i)
            on_plate.append(overlap(box, sc.box) >= 0.5)
    embedder = load_embedder("default")
    emb = embedder.embed_crops(images)
    owners = np.array(owner, np.int64)
    plate = np.array(on_plate, bool)
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
    return {
        "dataset": str(folder),
        "scenes": len(scenes),
        "crops": len(images),
        "queries": len(queries),
        "plate_cut": len(found) / max(len(scenes), 1),
        "reader": embedder.reader_name,
        **{f"text_top{k}": vec.hit_rate(k) for k in (1, 3)},
        **{f"product_text_top{k}": prod.hit_rate(k) for k in (1, 3)},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = evaluate(Path(args.dir), args.limit)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for k, v in result.items():
            print(f"{k:<20} {v:.3f}" if isinstance(v, float) else f"{k:<20} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
