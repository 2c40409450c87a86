"""A labelled gallery of plate crops and one model's embeddings of it."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from alphabet.text import normalize
from model.embed import TFEmbedder
from model.preprocess import prepare_batch, read_image
from platewatch.errors import PlatewatchError

Image = npt.NDArray[np.uint8]


class DatasetError(PlatewatchError):
    """A folder to evaluate lacks labels.csv, a split, or images."""


@dataclass(frozen=True)
class Dataset:
    """A labelled crop folder: files (relative to folder) and their normalised texts."""

    folder: Path
    files: list[str]
    texts: list[str]

    def images(self) -> list[Image]:
        return [read_image(self.folder / f) for f in self.files]


def load_dataset(folder: Path, split: str | None = None, limit: int | None = None) -> Dataset:
    labels = folder / "labels.csv"
    if not labels.exists():
        raise DatasetError(f"{folder} has no labels.csv (columns file,plate_text)")
    with labels.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if split:
        if rows and "split" not in rows[0]:
            raise DatasetError(f"{labels} has no split column; drop --split")
        rows = [r for r in rows if r["split"] == split]
    if limit:
        rows = rows[:limit]
    if not rows:
        raise DatasetError(f"no rows to evaluate in {labels} (split={split!r})")
    texts = [normalize(r["plate_text"], allow_patterns=True) for r in rows]
    return Dataset(folder, [r["file"] for r in rows], texts)


@dataclass(frozen=True)
class ModelRun:
    """One model's view of a gallery: crop embeddings, readings and timing.

    readings, confidences: what the embedder returns (its reader's, model.reader), the
    ones the store keeps. own_readings, own_confidences: the network's reading head's.
    crops_per_s: embed_crops throughput, reading included.
    """

    embedder: TFEmbedder
    vectors: npt.NDArray[np.float32]
    readings: list[str]
    confidences: npt.NDArray[np.float32]
    own_readings: list[str]
    own_confidences: npt.NDArray[np.float32]
    crops_per_s: float


def embed_gallery(embedder: TFEmbedder, images: list[Image]) -> ModelRun:
    embedder.embed_crops(images[:8])  # warm-up: the first call traces the graph
    t = time.perf_counter()
    emb = embedder.embed_crops(images)
    rate = len(images) / max(time.perf_counter() - t, 1e-9)
    own = emb
    if embedder.reader is not None:
        own = embedder.embed_prepared(prepare_batch(images, embedder.spec))
    return ModelRun(embedder, emb.vectors, emb.readings, emb.confidences, own.readings,
                    own.confidences, rate)  # fmt: skip
