"""Train the ``platenet`` plate detector on synthetic road scenes and UC3M-LP ``train``.

    .venv/bin/python -m model.detect.train_platenet --out runs/platenet [--steps 6000]
        [--data ../shared/data/uc3m_scenes] [--seed 0] [--threads 1] [--export]
        [--init model/detect/weights/platenet] [--closeups 0.6]

Data: half of every batch is synthetic (drawn here, so nothing is downloaded): a share
``--closeups`` of daylight close-ups of one car (:func:`alphabet.closeup.synth_closeup`),
the rest road scenes (:func:`alphabet.scene.synth_scene`); the other half comes from the
``train`` split of ``uc3m_scenes`` (its licence allows research use), less every 10th
image, which is held out to pick the threshold.
``uc3m_scenes`` ``val`` and ``scenes_eu_us`` are never read. Each step's batch depends
only on the seed and the step number, and a checkpoint is written every ``--every`` steps
to ``OUT/ckpt``: run the same command again and it carries on from the last one.
``--init DIR`` starts a new run from exported weights (``weights.npz`` and ``spec.json``,
e.g. the committed ones) instead of random ones; a checkpoint in ``OUT/ckpt``, when there
is one, wins over it. ``--export`` writes the weights and spec to
model/detect/weights/platenet/.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import os
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.closeup import synth_closeup
from alphabet.scene import synth_scene
from model import _tf
from model.detect.evaluate import match
from model.detect.platenet_net import STRIDE, WEIGHTS_DIR, NetSpec, build_net, decode
from model.types import PlateDetections

log = logging.getLogger(__name__)

CROP = 256
GRID = CROP // STRIDE


@dataclass
class Sample:
    """An image at 'network scale' (longer side 640) and its plate boxes x, y, w, h."""

    pixels: npt.NDArray[np.uint8]
    boxes: npt.NDArray[np.float32]


def uc3m_train_images(
    folder: Path,
) -> Iterator[tuple[bool, npt.NDArray[np.uint8], npt.NDArray[np.float32]]]:
    """(held out, BGR image, true boxes) of each readable image of the ``train`` split, in
    file-name order; every 10th image is held out to pick thresholds."""
    by_file: dict[str, list[list[float]]] = {}
    with (folder / "labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["split"] != "train":
                continue
            by_file.setdefault(row["file"], []).append(
                [float(row[k]) for k in ("x", "y", "w", "h")]
            )
    for i, name in enumerate(sorted(by_file)):
        img = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        if img is not None:
            yield i % 10 == 9, np.asarray(img, np.uint8), np.array(by_file[name], np.float32)


def load_uc3m(folder: Path, max_side: int) -> tuple[list[Sample], list[Sample]]:
    """(training, held-out) samples of the ``train`` split, scaled to ``max_side``."""
    train: list[Sample] = []
    held: list[Sample] = []
    for is_held, img, boxes in uc3m_train_images(folder):
        scale = max_side / max(img.shape[:2])
        small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        (held if is_held else train).append(Sample(np.asarray(small, np.uint8), boxes * scale))
    return train, held


def synth_sample(rng: np.random.Generator, max_side: int, closeups: float = 0.0) -> Sample:
    """A synthetic frame at network scale: a close-up with probability ``closeups``,
    otherwise a road scene with 1-4 plates."""
    if rng.random() < closeups:
        sizes: tuple[tuple[int, int], ...] = ((640, 480), (800, 600), (800, 450), (600, 800))
        w, h = sizes[int(rng.integers(len(sizes)))]
        scene = synth_closeup(rng, (w, h))
    else:
        sizes = ((640, 360), (640, 480), (480, 640), (800, 450))
        w, h = sizes[int(rng.integers(len(sizes)))]
        scene = synth_scene(rng, (w, h), (1, 4))
    scale = max_side / max(w, h)
    img = cv2.resize(scene.pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return Sample(np.asarray(img, np.uint8), scene.boxes * scale)


def crop(sample: Sample, rng: np.random.Generator, scale_range: tuple[float, float]) -> Sample:
    """A CROP x CROP view at a random scale, centred near a plate most of the time,
    with light photometric changes."""
    s = float(np.exp(rng.uniform(np.log(scale_range[0]), np.log(scale_range[1]))))
    h, w = sample.pixels.shape[:2]
    view = CROP / s  # crop side in sample pixels
    if len(sample.boxes) and rng.random() < 0.8:
        bx, by, bw, bh = sample.boxes[int(rng.integers(len(sample.boxes)))]
        cx = bx + bw / 2 + rng.uniform(-0.4, 0.4) * max(view - bw, 0)
        cy = by + bh / 2 + rng.uniform(-0.4, 0.4) * max(view - bh, 0)
    else:
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    x0, y0 = cx - view / 2, cy - view / 2
    m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float32)
    pixels = cv2.warpAffine(
        sample.pixels, m, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    boxes = sample.boxes.copy()
    if len(boxes):
        boxes[:, :2] = (boxes[:, :2] - [x0, y0]) * s
        boxes[:, 2:] *= s
    img: npt.NDArray[Any] = pixels.astype(np.float32)
    if rng.random() < 0.2:
        img[:] = img.mean(axis=2, keepdims=True)
    img = img * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40)
    img = img * rng.uniform(0.85, 1.15, 3)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2))
    return Sample(np.clip(img, 0, 255).astype(np.uint8), boxes)


def targets(boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(GRID, GRID, 7): heat target, heat weight (0 in the ring around a centre), l, t, r, b
    in cells, and a positive-cell flag. A plate's centre region is the middle 40 % of its
    box (at least the cell holding its centre); the rest of its box is not scored."""
    t = np.zeros((GRID, GRID, 7), np.float32)
    t[..., 1] = 1
    centres = (np.arange(GRID) + 0.5) * STRIDE
    for x, y, w, h in boxes:
        x1, y1 = max(x, 0), max(y, 0)
        x2, y2 = min(x + w, CROP), min(y + h, CROP)
        if x2 - x1 < 0.5 * w or y2 - y1 < 0.5 * h or h < 3:
            # mostly cut off or too small to see: neither plate nor background
            cols = (centres >= x - STRIDE) & (centres <= x + w + STRIDE)
            rows = (centres >= y - STRIDE) & (centres <= y + h + STRIDE)
            t[np.ix_(rows, cols, [1])] = 0
            continue
        cols = (centres >= x) & (centres <= x + w)
        rows = (centres >= y) & (centres <= y + h)
        t[np.ix_(rows, cols, [1])] = 0
        cx, cy = x + w / 2, y + h / 2
        pc = np.abs(centres - cx) <= max(0.2 * w, STRIDE / 2)
        pr = np.abs(centres - cy) <= max(0.2 * h, STRIDE / 2)
        if not pc.any():
            pc[min(max(int(cx // STRIDE), 0), GRID - 1)] = True
        if not pr.any():
            pr[min(max(int(cy // STRIDE), 0), GRID - 1)] = True
        ri, ci = np.nonzero(pr)[0], np.nonzero(pc)[0]
        gy, gx = np.meshgrid(centres[ri], centres[ci], indexing="ij")
        sides = np.stack([gx - x, gy - y, x + w - gx, y + h - gy], -1) / STRIDE
        block = t[ri[:, None], ci[None, :]]
        block[..., 0] = 1
        block[..., 1] = 1
        block[..., 2:6] = np.maximum(sides, 0.05)
        block[..., 6] = 1
        t[ri[:, None], ci[None, :]] = block
    return t


@dataclass(frozen=True)
class Mix:
    """What a batch holds: ``size`` crops, half from ``uc3m`` (when given); of the
    synthetic half a share ``closeups`` are car close-ups."""

    size: int
    max_side: int
    closeups: float = 0.0


def batch(
    step: int, seed: int, mix: Mix, uc3m: list[Sample]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    rng = np.random.default_rng([seed, step])
    xs, ts = [], []
    for k in range(mix.size):
        if uc3m and k % 2 == 0:
            sample = crop(uc3m[int(rng.integers(len(uc3m)))], rng, (0.6, 1.6))
        else:
            frame = synth_sample(rng, mix.max_side, mix.closeups)
            # Close-up plates are already large at network scale: do not blow them up.
            scales = (0.5, 1.4) if frame.boxes[:, 2].max(initial=0) > 40 else (0.7, 2.2)
            sample = crop(frame, rng, scales)
        xs.append(sample.pixels.astype(np.float32) / 255)
        ts.append(targets(sample.boxes))
    return np.stack(xs), np.stack(ts)


def make_step(model: Any, optimizer: Any) -> Any:
    tf = _tf.tensorflow()

    def loss_fn(out: Any, t: Any) -> tuple[Any, Any]:
        logit, raw = out[..., 0], out[..., 1:5]
        target, weight, sides, pos = t[..., 0], t[..., 1], t[..., 2:6], t[..., 6]
        p = tf.sigmoid(logit)
        ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logit)
        focal = tf.where(target > 0.5, (1 - p) ** 2, p**2) * ce * weight
        npos = tf.maximum(tf.reduce_sum(pos), 1.0)
        heat = tf.reduce_sum(focal) / npos
        d = tf.nn.softplus(raw)
        inter = (tf.minimum(d[..., 0], sides[..., 0]) + tf.minimum(d[..., 2], sides[..., 2])) * (
            tf.minimum(d[..., 1], sides[..., 1]) + tf.minimum(d[..., 3], sides[..., 3])
        )
        area_p = (d[..., 0] + d[..., 2]) * (d[..., 1] + d[..., 3])
        area_t = (sides[..., 0] + sides[..., 2]) * (sides[..., 1] + sides[..., 3])
        iou = inter / (area_p + area_t - inter + 1e-6)
        box = tf.reduce_sum((1 - iou) * pos) / npos
        return heat, box

    @tf.function(reduce_retracing=True)
    def step(x: Any, t: Any) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            heat, box = loss_fn(out, t)
            loss = heat + 2.0 * box
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return heat, box

    return step


def evaluate(model: Any, held: list[Sample], threshold: float) -> tuple[float, float]:
    """Recall and precision at IoU >= 0.5 on held-out samples (already at network scale)."""
    found = true = hits = 0
    for sample in held:
        h, w = sample.pixels.shape[:2]
        ph, pw = -(-h // 16) * 16, -(-w // 16) * 16
        x = np.zeros((1, ph, pw, 3), np.float32)
        x[0, :h, :w] = sample.pixels / 255
        out = np.asarray(model(x, training=False))[0]
        boxes, scores = decode(out, threshold)
        found += len(boxes)
        true += len(sample.boxes)
        hits += int((match(sample.boxes, PlateDetections(boxes, scores)) >= 0).sum())
    return hits / max(true, 1), hits / max(found, 1)


class InitError(ValueError):
    """``--init`` names a folder without usable exported weights."""


def load_exported(model: Any, spec: NetSpec, folder: Path) -> None:
    """Set ``model``'s weights from ``folder``/weights.npz, checking its spec.json first."""
    try:
        saved = NetSpec.load(folder / "spec.json")
        with np.load(folder / "weights.npz") as npz:
            weights = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InitError(f"--init {folder}: no readable spec.json and weights.npz ({exc})") from exc
    if (saved.widths, saved.head) != (spec.widths, spec.head):
        raise InitError(
            f"--init {folder}: widths {saved.widths} head {saved.head} do not match this "
            f"network's {spec.widths} head {spec.head}"
        )
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise InitError(f"--init {folder}: weights.npz does not fit spec.json ({exc})") from exc


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/platenet"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data/uc3m_scenes"))
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--every", type=int, default=250, help="checkpoint and report every N steps")
    ap.add_argument("--export", action="store_true", help="write model/detect/weights/platenet")
    ap.add_argument(
        "--init", type=Path, default=None, help="start from exported weights in this folder"
    )
    ap.add_argument(
        "--closeups", type=float, default=0.0, help="share of synthetic crops that are close-ups"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    cv2.setNumThreads(args.threads)
    tf = _tf.tensorflow()
    with contextlib.suppress(RuntimeError):  # TensorFlow already running: keep its pool
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras = _tf.keras()
    keras.utils.set_random_seed(args.seed)

    spec = NetSpec()
    uc3m, held = load_uc3m(args.data, spec.max_side) if args.data.is_dir() else ([], [])
    log.info("uc3m train %d images, %d held out", len(uc3m), len(held))
    model = build_net(spec)
    log.info("platenet: %d weights", model.count_params())
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr, args.steps, alpha=0.05, warmup_target=None
    )
    optimizer = keras.optimizers.Adam(schedule)
    step_var = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_var)
    manager = tf.train.CheckpointManager(ckpt, str(args.out / "ckpt"), max_to_keep=2)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step_var))
    elif args.init is not None:
        load_exported(model, spec, args.init)
        log.info("started from the weights in %s", args.init)
    train_step = make_step(model, optimizer)
    mix = Mix(args.batch, spec.max_side, args.closeups)
    history = args.out / "history.jsonl"
    start, t0 = int(step_var), time.time()
    sums = np.zeros(2)
    for step in range(start, args.steps):
        x, t = batch(step, args.seed, mix, uc3m)
        heat, box = train_step(tf.constant(x), tf.constant(t))
        sums += [float(heat), float(box)]
        step_var.assign(step + 1)
        if (step + 1) % args.every == 0 or step + 1 == args.steps:
            n = (step - start) % args.every + 1
            manager.save()
            recall, precision = evaluate(model, held[:60], spec.threshold) if held else (0, 0)
            rec = {
                "step": step + 1,
                "heat": sums[0] / n,
                "box": sums[1] / n,
                "held_recall": recall,
                "held_precision": precision,
                "s_per_step": (time.time() - t0) / (step + 1 - start),
            }
            log.info("%s", rec)
            with history.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            sums[:] = 0
    model.save_weights(str(args.out / "platenet.weights.h5"))
    best = spec.threshold
    if held:
        scored = []
        for thr in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            r, p = evaluate(model, held, thr)
            log.info("held-out threshold %.1f: recall %.3f precision %.3f", thr, r, p)
            scored.append((2 * r * p / max(r + p, 1e-9), thr, r, p))
        _, best, r, p = max(scored)
    final = replace(
        spec,
        threshold=best,
        meta={
            "trained_by": "python -m model.detect.train_platenet "
            f"--steps {args.steps} --batch {args.batch} --lr {args.lr} --seed {args.seed} "
            f"--closeups {args.closeups}" + (f" --init {args.init}" if args.init else ""),
            "uc3m_train_images": len(uc3m),
            "held_out_images": len(held),
        },
    )
    final.save(args.out / "spec.json")
    if args.export:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(WEIGHTS_DIR / "weights.npz", *model.get_weights())
        final.save(WEIGHTS_DIR / "spec.json")
        log.info("exported to %s", WEIGHTS_DIR)


if __name__ == "__main__":
    main()
