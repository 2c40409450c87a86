"""Train the refiner, the second look at ``platenet``'s candidates (model.detect.refine_net).

    .venv/bin/python -m model.detect.train_refine --out runs/refine [--epochs 12]
        [--data ../shared/data/uc3m_scenes] [--synthetic 3000] [--seed 0] [--threads 2]
        [--export]

Data: windows around candidate boxes, each labelled from the true plates of its image:

- the images: the ``train`` split of ``uc3m_scenes`` (less every 10th image, held out to
  pick the threshold, as ``train_platenet`` does), and synthetic frames drawn here: road
  scenes (:func:`alphabet.scene.synth_scene`) and car close-ups
  (:func:`alphabet.closeup.synth_closeup`), half each;
- the candidates: what the committed ``platenet`` finds in each image at a low threshold
  (its real mistakes and its real rough boxes), true boxes jittered the way platenet's
  boxes are off (too wide, shifted), and random boxes;
- a candidate is a plate when its IoU with a true plate is at least ``POS_IOU`` and that
  plate lies inside its window (the box to learn is then that plate's), not a plate when
  its IoU with every true plate is under ``NEG_IOU`` and no plate is centred in its window;
  anything in between is left out.

After training, the refiner's threshold is the best F1 of the whole detector (platenet's
candidates, then the refiner) on the held-out images: the held-out tenth of
``uc3m_scenes`` ``train`` and the first tenth of the synthetic frames.
``uc3m_scenes`` ``val`` and ``scenes_eu_us`` are never read. Everything depends only on
the seed; the windows cut are kept in ``OUT/windows.npz`` and reused. ``--epochs 0`` picks
the threshold for the weights already in ``OUT``. ``--export`` writes the weights and spec
to model/detect/weights/refine/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.closeup import synth_closeup
from alphabet.scene import synth_scene
from model import _tf
from model.detect.evaluate import iou, match
from model.detect.refine_net import (
    WEIGHTS_DIR,
    RefineSpec,
    build_net,
    cut_windows,
    windows_for,
)
from model.detect.train_platenet import uc3m_train_images
from model.types import PlateDetections

log = logging.getLogger(__name__)

#: A candidate overlapping a true plate this much is that plate (its box is refined).
POS_IOU = 0.3
#: A candidate overlapping every true plate less than this (and centred on none) is not one.
NEG_IOU = 0.15
#: platenet's threshold when mining candidates: low, to see its near misses too.
MINE_THRESHOLD = 0.25


@dataclass
class Image:
    """One training image (BGR, its own resolution) and its true plates (x, y, w, h)."""

    pixels: npt.NDArray[np.uint8]
    boxes: npt.NDArray[np.float32]


@dataclass
class Windows:
    """Cut windows, their labels (1 plate, 0 not) and edge targets (x0, y0, x1, y1 in
    window units; zeros where not a plate)."""

    x: npt.NDArray[np.uint8]
    y: npt.NDArray[np.float32]
    edges: npt.NDArray[np.float32]

    @classmethod
    def join(cls, parts: list[Windows]) -> Windows:
        return cls(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.y for p in parts]),
            np.concatenate([p.edges for p in parts]),
        )


def load_uc3m(folder: Path) -> tuple[list[Image], list[Image]]:
    """(training, held-out) images of the ``train`` split at their own size."""
    train: list[Image] = []
    held: list[Image] = []
    for is_held, img, boxes in uc3m_train_images(folder):
        (held if is_held else train).append(Image(img, boxes))
    return train, held


def synth_images(count: int, seed: int, start: int = 0) -> Iterator[Image]:
    """Synthetic frames ``start`` to ``count - 1``, road scenes and close-ups alternately;
    frame k depends only on the seed and k."""
    for k in range(start, count):
        rng = np.random.default_rng([seed, 7, k])
        if k % 2:
            sizes: tuple[tuple[int, int], ...] = ((800, 600), (1024, 768), (1280, 720))
            scene = synth_closeup(rng, sizes[int(rng.integers(len(sizes)))])
        else:
            sizes = ((1280, 720), (960, 540), (800, 600), (640, 480))
            scene = synth_scene(rng, sizes[int(rng.integers(len(sizes)))], (1, 4))
        yield Image(np.asarray(scene.pixels, np.uint8), scene.boxes.astype(np.float32))


def jittered(boxes: npt.NDArray[np.float32], rng: np.random.Generator, n: int) -> Any:
    """``n`` rough copies of each true box, off the way platenet's boxes are off."""
    if not len(boxes):
        return np.zeros((0, 4), np.float32)
    b = np.repeat(boxes, n, axis=0)
    w = b[:, 2] * rng.uniform(0.8, 2.0, len(b))
    h = b[:, 3] * rng.uniform(0.8, 1.3, len(b))
    cx = b[:, 0] + b[:, 2] / 2 + rng.uniform(-0.15, 0.15, len(b)) * b[:, 2]
    cy = b[:, 1] + b[:, 3] / 2 + rng.uniform(-0.2, 0.2, len(b)) * b[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, w, h], 1).astype(np.float32)


def random_boxes(shape: tuple[int, ...], rng: np.random.Generator, n: int) -> Any:
    """``n`` plate-shaped boxes anywhere in a frame of ``shape``."""
    fh, fw = shape[:2]
    h = np.exp(rng.uniform(np.log(6), np.log(max(fh / 6, 8)), n))
    w = h * rng.uniform(1.5, 5.0, n)
    x = rng.uniform(0, np.maximum(fw - w, 1))
    y = rng.uniform(0, np.maximum(fh - h, 1))
    return np.stack([x, y, w, h], 1).astype(np.float32)


def label(
    candidates: npt.NDArray[np.float32], truth: npt.NDArray[np.float32], spec: RefineSpec
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Labels (1, 0), edge targets, and which candidates to keep (not in between)."""
    n = len(candidates)
    y = np.zeros(n, np.float32)
    edges = np.zeros((n, 4), np.float32)
    keep = np.ones(n, bool)
    win = windows_for(candidates, spec)
    if not len(truth):
        return y, edges, keep
    overlap = iou(candidates, truth)  # (N, T)
    best = overlap.argmax(1)
    tx0, ty0 = truth[:, 0], truth[:, 1]
    tx1, ty1 = truth[:, 0] + truth[:, 2], truth[:, 1] + truth[:, 3]
    for i in range(n):
        wx, wy, ww, wh = win[i]
        t = best[i]
        inside = (
            tx0[t] >= wx - 0.02 * ww
            and ty0[t] >= wy - 0.05 * wh
            and tx1[t] <= wx + 1.02 * ww
            and ty1[t] <= wy + 1.05 * wh
        )
        if overlap[i, t] >= POS_IOU and inside:
            y[i] = 1
            edges[i] = np.clip(
                [(tx0[t] - wx) / ww, (ty0[t] - wy) / wh, (tx1[t] - wx) / ww, (ty1[t] - wy) / wh],
                0,
                1,
            )
            continue
        cx, cy = (tx0 + tx1) / 2, (ty0 + ty1) / 2
        centred = (np.abs(cx - (wx + ww / 2)) < ww / 4) & (np.abs(cy - (wy + wh / 2)) < wh / 4)
        if overlap[i].max() >= NEG_IOU or centred.any():
            keep[i] = False
    return y, edges, keep


class Miner:
    """Candidates for an image: platenet's own, jittered truths, random boxes."""

    def __init__(self, threads: int) -> None:
        from model.detect.platenet import PlatenetDetector, PlatenetOptions

        self.platenet = PlatenetDetector(PlatenetOptions(threads=threads, refine=False))

    def proposals(
        self, pixels: npt.NDArray[np.uint8], max_side: int, threshold: float = MINE_THRESHOLD
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """platenet's candidate boxes (frame pixels) and probabilities at ``max_side``."""
        from model.detect.platenet_net import decode

        self.platenet.max_side = max_side
        out, scale = self.platenet.raw(pixels)
        boxes, scores = decode(out, threshold)
        return boxes / scale, scores

    def windows(
        self, image: Image, rng: np.random.Generator, spec: RefineSpec, sides: tuple[int, ...]
    ) -> Windows:
        found = [self.proposals(image.pixels, s)[0] for s in sides]
        candidates = np.concatenate(
            [*found, jittered(image.boxes, rng, 2), random_boxes(image.pixels.shape, rng, 2)]
        ).astype(np.float32)
        y, edges, keep = label(candidates, image.boxes, spec)
        candidates, y, edges = candidates[keep], y[keep], edges[keep]
        return Windows(cut_windows(image.pixels, windows_for(candidates, spec), spec), y, edges)


def mine(
    images: Iterable[Image],
    miner: Miner,
    spec: RefineSpec,
    seed: int,
    small_sides: tuple[int, ...],
) -> Windows:
    """Windows of every image; frames under 480 px are searched at each of ``small_sides``
    (small frames are scaled up more in use), larger ones at 640."""
    rng = np.random.default_rng([seed, 11])
    parts = []
    for k, image in enumerate(images):
        sides = small_sides if max(image.pixels.shape[:2]) < 480 else (640,)
        parts.append(miner.windows(image, rng, spec, sides))
        if (k + 1) % 500 == 0:
            log.info("mined %d images", k + 1)
    return Windows.join(parts)


def augment(x: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Photometric changes (brightness, contrast, colour, grey, blur, noise), [0, 1]."""
    out = x.astype(np.float32)
    n = len(out)
    grey = rng.random(n) < 0.2
    out[grey] = out[grey].mean(axis=3, keepdims=True)
    f32 = np.float32
    out *= rng.uniform(0.6, 1.4, (n, 1, 1, 1)).astype(f32)
    out += rng.uniform(-40, 40, (n, 1, 1, 1)).astype(f32)
    out *= rng.uniform(0.85, 1.15, (n, 1, 1, 3)).astype(f32)
    for i in np.nonzero(rng.random(n) < 0.25)[0]:
        out[i] = cv2.GaussianBlur(out[i], (0, 0), rng.uniform(0.5, 1.5))
    noisy = rng.random(n) < 0.3
    out[noisy] += rng.normal(0, rng.uniform(2, 10), out[noisy].shape).astype(f32)
    np.clip(out, 0, 255, out=out)
    return out * f32(1 / 255)


def make_step(model: Any, optimizer: Any) -> Any:
    tf = _tf.tensorflow()

    @tf.function(reduce_retracing=True)
    def step(x: Any, y: Any, e: Any) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            cls = tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=out[:, 0])
            )
            box = tf.reduce_sum(box_loss(out[:, 1:], e) * y) / tf.maximum(tf.reduce_sum(y), 1.0)
            loss = cls + 2.0 * box
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return cls, box

    return step


def box_loss(p: Any, t: Any) -> Any:
    """1 - IoU plus the L1 distance of the edges (window units), per row."""
    tf = _tf.tensorflow()
    iw = tf.nn.relu(tf.minimum(p[:, 2], t[:, 2]) - tf.maximum(p[:, 0], t[:, 0]))
    ih = tf.nn.relu(tf.minimum(p[:, 3], t[:, 3]) - tf.maximum(p[:, 1], t[:, 1]))
    inter = iw * ih
    area_p = tf.nn.relu(p[:, 2] - p[:, 0]) * tf.nn.relu(p[:, 3] - p[:, 1])
    area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    return 1 - inter / (area_p + area_t - inter + 1e-6) + tf.reduce_sum(tf.abs(p - t), 1)


def predict(model: Any, x: npt.NDArray[np.uint8], batch: int = 256) -> npt.NDArray[np.float32]:
    """(N, 5): plate probability and edges, for uint8 windows."""
    outs = []
    for i in range(0, len(x), batch):
        out = np.asarray(model(x[i : i + batch].astype(np.float32) / 255, training=False))
        outs.append(out)
    out = np.concatenate(outs) if outs else np.zeros((0, 5), np.float32)
    out[:, 0] = 1 / (1 + np.exp(-out[:, 0]))
    return out.astype(np.float32)


def held_figures(model: Any, held: Windows) -> dict[str, float]:
    """Accuracy of the plate score at 0.5 and the mean IoU of refined boxes on plates."""
    out = predict(model, held.x)
    pos = held.y > 0.5
    right = ((out[:, 0] > 0.5) == pos).mean() if len(out) else 0.0
    p, t = out[pos, 1:], held.edges[pos]
    iw = np.clip(np.minimum(p[:, 2], t[:, 2]) - np.maximum(p[:, 0], t[:, 0]), 0, None)
    ih = np.clip(np.minimum(p[:, 3], t[:, 3]) - np.maximum(p[:, 1], t[:, 1]), 0, None)
    inter = iw * ih
    union = (
        np.clip(p[:, 2] - p[:, 0], 0, None) * np.clip(p[:, 3] - p[:, 1], 0, None)
        + (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
        - inter
    )
    ious = inter / np.maximum(union, 1e-9)
    return {
        "held_accuracy": round(float(right), 4),
        "held_mean_iou": round(float(ious.mean()) if len(ious) else 0.0, 4),
        "held_iou_over_half": round(float((ious >= 0.5).mean()) if len(ious) else 0.0, 4),
    }


#: Refiner thresholds tried on the held-out images.
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def sweep(
    folder: Path, miner: Miner, images: Iterable[Image], candidate_threshold: float
) -> list[tuple[float, float, float]]:
    """(threshold, recall, precision) of the whole detector (platenet's candidates at its
    trained scale, then the refiner in ``folder``) on held-out images, for each of SWEEP."""
    from model.detect.refine import Refiner, same_plate_keep

    refiner = Refiner(folder)
    true = 0
    hits = np.zeros(len(SWEEP))
    found = np.zeros(len(SWEEP))
    for image in images:
        boxes, probs = miner.proposals(
            image.pixels, miner.platenet.spec.max_side, candidate_threshold
        )
        boxes = boxes[np.argsort(-probs, kind="stable")[:16]]
        refined, scores = refiner.scores(image.pixels, boxes)
        true += len(image.boxes)
        for k, thr in enumerate(SWEEP):
            sure = scores >= thr
            keep = same_plate_keep(refined[sure], scores[sure])
            got = PlateDetections(refined[sure][keep], scores[sure][keep])
            found[k] += len(got)
            hits[k] += int((match(image.boxes, got) >= 0).sum())
    return [
        (thr, hits[k] / max(true, 1), hits[k] / max(found[k], 1)) for k, thr in enumerate(SWEEP)
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/refine"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data/uc3m_scenes"))
    ap.add_argument("--synthetic", type=int, default=3000, help="synthetic frames to mine")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export", action="store_true", help="write model/detect/weights/refine")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    cv2.setNumThreads(args.threads)
    tf = _tf.tensorflow()
    with contextlib.suppress(RuntimeError):
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras = _tf.keras()
    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    spec = RefineSpec()
    cache = args.out / "windows.npz"
    if cache.is_file():
        with np.load(cache) as z:
            train = Windows(z["x"], z["y"], z["edges"])
            held = Windows(z["hx"], z["hy"], z["hedges"])
        log.info("windows from %s", cache)
    else:
        t0 = time.time()
        uc3m, uc3m_held = load_uc3m(args.data) if args.data.is_dir() else ([], [])
        log.info("images: uc3m train %d, held out %d", len(uc3m), len(uc3m_held))
        miner = Miner(args.threads)
        n_held = args.synthetic // 10  # the first tenth of the synthetic frames is held out
        synth = synth_images(args.synthetic, args.seed, n_held)
        train = mine(chain(uc3m, synth), miner, spec, args.seed, (640, 960))
        synth_held = synth_images(n_held, args.seed)
        held = mine(chain(uc3m_held, synth_held), miner, spec, args.seed + 1, (640, 960))
        np.savez(
            cache, x=train.x, y=train.y, edges=train.edges,
            hx=held.x, hy=held.y, hedges=held.edges,
        )  # fmt: skip
        log.info("mined in %.0f s", time.time() - t0)
    log.info(
        "windows: train %d (%d plates), held out %d (%d plates)",
        len(train.y), int(train.y.sum()), len(held.y), int(held.y.sum()),
    )  # fmt: skip

    model = build_net(spec)
    log.info("refine: %d weights", model.count_params())
    history = args.out / "history.jsonl"
    if args.epochs == 0:
        with np.load(args.out / "weights.npz") as z:
            model.set_weights([z[f"arr_{i}"] for i in range(len(z.files))])
        log.info("weights from %s", args.out / "weights.npz")
    else:
        train_epochs(model, train, held, args, history)
    np.savez_compressed(args.out / "weights.npz", *model.get_weights())
    spec.save(args.out / "spec.json")

    _, uc3m_held = load_uc3m(args.data) if args.data.is_dir() else ([], [])
    held_images = chain(uc3m_held, synth_images(args.synthetic // 10, args.seed))
    table = sweep(args.out, Miner(args.threads), held_images, spec.candidate_threshold)
    for thr, r, p in table:
        log.info("held-out threshold %.1f: recall %.3f precision %.3f", thr, r, p)
    best, r, p = max(table, key=lambda row: 2 * row[1] * row[2] / max(row[1] + row[2], 1e-9))
    epochs = len(history.read_text().splitlines()) if history.is_file() else args.epochs
    final = replace(
        spec,
        threshold=best,
        meta={
            "trained_by": "python -m model.detect.train_refine "
            f"--epochs {epochs} --batch {args.batch} --lr {args.lr} --seed {args.seed} "
            f"--synthetic {args.synthetic}",
            "train_windows": len(train.y),
            "train_plates": int(train.y.sum()),
            **held_figures(model, held),
            "held_out_images": f"uc3m_scenes train every 10th ({len(uc3m_held)}) and "
            f"{args.synthetic // 10} synthetic frames",
            "held_out_at_threshold": {"recall": round(r, 3), "precision": round(p, 3)},
        },
    )
    final.save(args.out / "spec.json")
    if args.export:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(WEIGHTS_DIR / "weights.npz", *model.get_weights())
        final.save(WEIGHTS_DIR / "spec.json")
        log.info("exported to %s", WEIGHTS_DIR)


def train_epochs(model: Any, train: Windows, held: Windows, args: Any, history: Path) -> None:
    """Train ``model`` for ``args.epochs`` epochs, a line of figures each in ``history``
    and the weights saved to ``args.out`` after each."""
    tf = _tf.tensorflow()
    keras = _tf.keras()
    steps_per_epoch = len(train.y) // args.batch
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr, args.epochs * steps_per_epoch, alpha=0.02
    )
    train_step = make_step(model, keras.optimizers.Adam(schedule))
    rng = np.random.default_rng([args.seed, 3])
    for epoch in range(args.epochs):
        t0 = time.time()
        order = rng.permutation(len(train.y))
        sums = np.zeros(2)
        for s in range(steps_per_epoch):
            idx = np.sort(order[s * args.batch : (s + 1) * args.batch])
            x = augment(train.x[idx], rng)
            cls, box = train_step(
                tf.constant(x), tf.constant(train.y[idx]), tf.constant(train.edges[idx])
            )
            sums += [float(cls), float(box)]
        rec = {
            "epoch": epoch + 1,
            "cls": sums[0] / steps_per_epoch,
            "box": sums[1] / steps_per_epoch,
            **held_figures(model, held),
            "s": round(time.time() - t0, 1),
        }
        log.info("%s", rec)
        with history.open("a") as fh:
            fh.write(json.dumps(rec) + "\n")
        np.savez_compressed(args.out / "weights.npz", *model.get_weights())


if __name__ == "__main__":
    main()
