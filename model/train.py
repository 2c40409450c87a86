"""``platewatch train``: train a plate embedding model from a config, resumably.

Contrastive objective (the default): each step draws B distinct plate texts with a
realistic crop each (model.data), renders every text (alphabet.render), passes crops and
renders through the one network, and minimises the symmetric InfoNCE loss between crop
and render embeddings, plus a CTC loss of the reading head on both. Autoencoder objective
(the seed): MSE from the cleaned crop's reconstruction to the cleaned render.

Every batch is seeded by (config seed, step), so a resumed run sees the batches an
uninterrupted one would. Checkpoints, ``history.csv`` and ``loss.png`` are written to the
output folder; at the end the weights and spec are exported to ``<out>/export``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from alphabet.render import render
from alphabet.text import lookalike_key
from model import net
from model._tf import keras, tensorflow
from model.data import PairSource
from model.preprocess import prepare_batch
from model.spec import WEIGHTS_FILE, ModelSpec, save_spec
from model.train_config import TrainConfig, load_config

log = logging.getLogger(__name__)

Batch = dict[str, npt.NDArray[Any]]


def encode_texts(texts: list[str], alphabet: str) -> tuple[np.ndarray, np.ndarray]:
    """Texts → (N, L) int32 labels (alphabet index + 1; 0 is the CTC blank and padding)
    and (N,) int32 lengths."""
    index = {c: i + 1 for i, c in enumerate(alphabet)}
    longest = max(len(t) for t in texts)
    labels = np.zeros((len(texts), longest), np.int32)
    for i, t in enumerate(texts):
        labels[i, : len(t)] = [index[c] for c in t]
    return labels, np.array([len(t) for t in texts], np.int32)


def make_batch(source: PairSource, spec: ModelSpec, size: int, seed: int) -> Batch:
    crops, texts = source.batch(size, seed)
    renders = [render(t) for t in texts]
    out: Batch = {"crops": prepare_batch(crops, spec), "renders": prepare_batch(renders, spec)}
    out["keys"] = np.array([lookalike_key(t) for t in texts])
    if spec.has_reading:
        out["labels"], out["label_len"] = encode_texts(texts, spec.alphabet)
    return out


def join_batches(new: Batch, old: Batch) -> Batch:
    """new + the plates of old whose text new does not hold (one plate, one row)."""
    keep = ~np.isin(old["keys"], new["keys"])
    out: Batch = {}
    for k, v in new.items():
        w = old[k][keep]
        if k == "labels" and v.shape[1] != w.shape[1]:
            width = max(v.shape[1], w.shape[1])
            v = np.pad(v, ((0, 0), (0, width - v.shape[1])))
            w = np.pad(w, ((0, 0), (0, width - w.shape[1])))
        out[k] = np.concatenate([v, w])
    return out


def prefetch(cfg: TrainConfig, spec: ModelSpec, start: int) -> Iterator[Batch]:
    """Batches for steps start, start+1, ... made in a background thread.

    With ``train.reuse`` = r, each step draws batch_size / r fresh plates and reuses those
    of the r - 1 steps before it: drawing realistic crops costs as much CPU as the
    network's step, and each crop is still met among different negatives each time.
    """
    source = PairSource(cfg.data_config())
    q: queue.Queue[Batch] = queue.Queue(maxsize=3)
    reuse = cfg.train.reuse
    part = cfg.train.batch_size // reuse

    def fresh(step: int) -> Batch:
        return make_batch(source, spec, part, cfg.train.seed * 1_000_003 + step)

    def work() -> None:
        recent = [fresh(s) for s in range(max(start - reuse + 1, 0), start)]
        step = start
        while True:
            recent = [*recent[-(reuse - 1) :], fresh(step)] if reuse > 1 else [fresh(step)]
            batch = recent[-1]
            for older in reversed(recent[:-1]):
                batch = join_batches(batch, older)
            q.put({k: v for k, v in batch.items() if k != "keys"})
            step += 1

    threading.Thread(target=work, daemon=True, name="train-batches").start()
    while True:
        yield q.get()


def _lr(cfg: TrainConfig) -> Any:
    t = cfg.train
    return keras().optimizers.schedules.CosineDecay(
        0.0 if t.warmup_steps else t.learning_rate, decay_steps=max(t.steps - t.warmup_steps, 1),
        warmup_target=t.learning_rate if t.warmup_steps else None, warmup_steps=t.warmup_steps,
        alpha=0.02,
    )  # fmt: skip


def step_function(model: Any, optimizer: Any, cfg: TrainConfig, spec: ModelSpec) -> Any:
    """A compiled training step: batch → dict of scalar losses."""
    tf = tensorflow()
    t = cfg.train
    ce = keras().losses.sparse_categorical_crossentropy

    def contrastive(b: dict[str, Any]) -> dict[str, Any]:
        n = tf.shape(b["crops"])[0]
        out = model(tf.concat([b["crops"], b["renders"]], 0), training=True)
        e_crop, e_render = out["embedding"][:n], out["embedding"][n:]
        sim = tf.matmul(e_crop, e_render, transpose_b=True) / t.temperature
        target = tf.range(n)
        nce = 0.5 * tf.reduce_mean(ce(target, sim, from_logits=True)) + 0.5 * tf.reduce_mean(
            ce(target, tf.transpose(sim), from_logits=True)
        )
        losses = {"nce": nce}
        total = nce
        if spec.has_reading and t.ctc_weight > 0:
            logits = out["logits"]
            labels = tf.concat([b["labels"], b["labels"]], 0)
            lengths = tf.concat([b["label_len"], b["label_len"]], 0)
            steps = tf.fill([2 * n], tf.shape(logits)[1])
            ctc = tf.reduce_mean(
                tf.nn.ctc_loss(
                    labels, logits, lengths, steps, logits_time_major=False, blank_index=0
                )
            )
            losses["ctc"] = ctc
            total = total + t.ctc_weight * ctc
        losses["loss"] = total
        return losses

    def autoencoder(b: dict[str, Any]) -> dict[str, Any]:
        out = model(b["crops"], training=True)
        mse = tf.reduce_mean(tf.square(out["reconstruction"] - b["renders"]))
        return {"mse": mse, "loss": mse}

    objective = contrastive if t.objective == "contrastive" else autoencoder

    @tf.function(reduce_retracing=True)
    def train_step(b: dict[str, Any]) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            losses = objective(b)
        grads = tape.gradient(losses["loss"], model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return losses

    return train_step


def plot_history(history: Path, png: Path) -> None:
    """Loss curves from history.csv (one line per step) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history.open() as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return
    keys = [k for k in rows[0] if k != "step"]
    steps = np.array([int(r["step"]) for r in rows])
    fig, ax = plt.subplots(figsize=(7, 4))
    window = max(1, len(rows) // 100)
    for k in keys:
        values = np.array([float(r[k]) for r in rows])
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1 :], smooth, label=k)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def export(model: Any, spec: ModelSpec, cfg: TrainConfig, folder: Path, step: int) -> Path:
    """Weights + spec.json into folder; the spec's version is the name and a content hash."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS_FILE
    model.save_weights(weights)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    d = cfg.data
    data = {
        "training_steps": step, "batch_size": cfg.train.batch_size,
        "plates_seen": step * cfg.train.batch_size, "formats": list(d.formats),
        "synthetic": "alphabet.synth when present, else model.data.degrade",
        "difficulty": d.difficulty, "mask_prob": d.mask_prob, "hard_negatives": d.hard_negatives,
        "real": d.real, "real_fraction": d.real_fraction, "seed": cfg.train.seed,
        "objective": cfg.train.objective,
    }  # fmt: skip
    save_spec(spec.replace(version=f"{spec.name}-{digest}", data=data), folder)
    return folder


def train(cfg: TrainConfig, out: Path, resume: bool = False) -> Path:
    """Run (or resume) training; returns the export folder."""
    tf = tensorflow()
    keras().utils.set_random_seed(cfg.train.seed)
    spec = cfg.spec()
    model = net.build(spec)
    optimizer = keras().optimizers.Adam(_lr(cfg))
    step_var = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_var)
    manager = tf.train.CheckpointManager(ckpt, out / "checkpoints", max_to_keep=2)
    out.mkdir(parents=True, exist_ok=True)
    history = out / "history.csv"
    if resume and manager.latest_checkpoint:
        # Create Adam's moment slots first, so the checkpoint fills them at once (a deferred
        # restore would leave them at zero and jolt the first steps after a resume).
        optimizer.build(model.trainable_variables)
        ckpt.restore(manager.latest_checkpoint)
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step_var))
    elif history.exists():
        history.unlink()
    start = int(step_var)
    train_step = step_function(model, optimizer, cfg, spec)
    t0 = time.monotonic()
    batches = prefetch(cfg, spec, start)
    bar = tqdm(range(start, cfg.train.steps), initial=start, total=cfg.train.steps,
               desc=f"train {cfg.name}", unit="step")  # fmt: skip
    fh = history.open("a", newline="")
    writer: csv.DictWriter[str] | None = None
    step = start
    for step in bar:
        losses = {k: float(v) for k, v in train_step(next(batches)).items()}
        if writer is None:
            writer = csv.DictWriter(fh, fieldnames=["step", *losses])
            if fh.tell() == 0:
                writer.writeheader()
        writer.writerow({"step": step, **{k: f"{v:.5f}" for k, v in losses.items()}})
        bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()})
        step_var.assign(step + 1)
        done = step + 1 == cfg.train.steps
        late = cfg.train.max_minutes and time.monotonic() - t0 > 60 * cfg.train.max_minutes
        if (step + 1) % cfg.train.checkpoint_every == 0 or done or late:
            fh.flush()
            manager.save(checkpoint_number=step + 1)
            plot_history(history, out / "loss.png")
        if late:
            log.info("stopping after %.0f minutes at step %d (resume with --resume)",
                     cfg.train.max_minutes, step + 1)  # fmt: skip
            break
    fh.close()
    return export(model, spec, cfg, out / "export", int(step_var))


def run_cli(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    out = Path(args.out) if args.out else Path("runs") / cfg.name
    folder = train(cfg, out, resume=args.resume)
    print(f"exported {folder} (copy it to model/weights/<name>/ to ship it)")
    return 0
