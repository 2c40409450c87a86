"""Plate images and plate texts to unit vectors, with a reading of each crop.

``load_embedder("default")`` loads a shipped model (``model/weights/<name>/``: spec.json
beside the weights) or any folder holding one. Inference is batched and synchronous: it
blocks, so async callers run it in a thread (``asyncio.to_thread``) or a worker process.
One loaded embedder may be shared by several threads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alphabet.render import render
from alphabet.text import normalize
from model import net
from model._tf import keras, tensorflow
from model.fusion import Fusion
from model.preprocess import check_steps, prepare_batch
from model.reader import Reader, create_reader
from model.reading import decode_greedy
from model.spec import SPEC_FILE, WEIGHTS_FILE, ModelSpec, load_spec
from model.types import Embeddings
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).parent / "weights"
#: Crops per network call; larger batches gain little on a CPU and cost memory.
BATCH_SIZE = 256


class ModelNotFoundError(PlatewatchError):
    """No shipped model of that name and no folder with a spec.json at that path."""


def shipped_models() -> list[str]:
    return sorted(p.name for p in WEIGHTS_DIR.iterdir() if (p / SPEC_FILE).exists())


def resolve_model(name_or_path: str) -> Path:
    """The folder of a model: a shipped name (``default``, ``seed``) or a path."""
    path = Path(name_or_path).expanduser()
    if (path / SPEC_FILE).exists():
        return path.resolve()
    shipped = WEIGHTS_DIR / name_or_path
    if (shipped / SPEC_FILE).exists():
        return shipped
    raise ModelNotFoundError(
        f"no model {name_or_path!r}: not a folder with {SPEC_FILE} and not a shipped model "
        f"(shipped: {', '.join(shipped_models()) or 'none'})"
    )


class TFEmbedder:
    """The Embedder protocol (model.protocols) over a Keras network and its spec.

    Crops are read by the reader the spec names (model.reader), or by ``reader`` when
    given; with none (``own``, or rapidocr-onnxruntime missing) by the network's head.
    ``fusion`` is the model's fused text-search score (model.fusion).
    """

    def __init__(self, folder: Path, reader: str | None = None) -> None:
        self.folder = folder
        self.spec: ModelSpec = load_spec(folder)
        self.reader: Reader | None = create_reader(reader or self.spec.reader)
        #: Who reads the crops and how: "own" or the reader's key (keys reading caches).
        self.reader_name = self.reader.key if self.reader is not None else "own"
        self.fusion: Fusion = self.spec.fusion
        check_steps(self.spec.preprocess)
        tf = tensorflow()
        full = net.build(self.spec)
        weights = folder / WEIGHTS_FILE
        if not weights.exists():
            raise ModelNotFoundError(f"{folder} has a spec but no {WEIGHTS_FILE}")
        full.load_weights(weights)
        # Only the outputs search needs (the seed's decoder is training-only).
        wanted = {k: full.get_layer(k).output for k in ("embedding", "logits") if k in full.output}
        self._net = keras().Model(full.input, wanted)
        shape = [None, self.spec.height, self.spec.width, self.spec.channels]
        self._call = tf.function(
            lambda x: self._net(x, training=False),
            input_signature=[tf.TensorSpec(shape, tf.float32)],
        )
        self.dim = self.spec.embedding_dim
        self.version = self.spec.version
        log.info(
            "loaded model %s (%s, D=%d) from %s", self.spec.name, self.version, self.dim, folder
        )

    def _run(self, x: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        parts: dict[str, list[np.ndarray]] = {}
        for i in range(0, len(x), BATCH_SIZE):
            out: dict[str, Any] = self._call(x[i : i + BATCH_SIZE])
            for k, v in out.items():
                parts.setdefault(k, []).append(v.numpy())
        return {k: np.concatenate(v) for k, v in parts.items()}

    def embed_prepared(self, x: npt.NDArray[np.float32]) -> Embeddings:
        """x: (N, height, width, channels) float32 from model.preprocess.prepare_batch."""
        n = len(x)
        if n == 0:
            return Embeddings(np.zeros((0, self.dim), np.float32), [], np.zeros(0, np.float32))
        out = self._run(x)
        vectors = out["embedding"].astype(np.float32)
        if "logits" in out:
            readings, conf = decode_greedy(out["logits"], self.spec.alphabet)
        else:
            readings, conf = [""] * n, np.zeros(n, np.float32)
        return Embeddings(vectors, readings, conf)

    def embed_crops(
        self,
        crops: Sequence[npt.NDArray[np.uint8]],
        readings: Sequence[str] | None = None,
        confidences: npt.NDArray[np.float32] | None = None,
    ) -> Embeddings:
        """crops: N (h, w, 3) BGR or (h, w) gray uint8 plate images → N unit vectors and
        readings. readings, confidences: N texts already read on the crops (by the detector;
        "" where not read) and their (N,) confidences in [0, 1]; a crop with a reading is
        not read again. The others get the reader's reading, or the head's where the reader
        read nothing. Raises ImageError for an empty or non-uint8 image, ValueError for
        readings that do not fit the crops."""
        emb = self.embed_prepared(prepare_batch(crops, self.spec))
        texts, conf = _given_readings(len(emb), readings, confidences)
        unread = [i for i, t in enumerate(texts) if not t]
        if self.reader is not None and unread:
            read, read_conf = self.reader.read([crops[i] for i in unread])
            for j, i in enumerate(unread):
                texts[i], conf[i] = read[j], read_conf[j]
        if all(not t for t in texts):
            return emb
        has = np.array([bool(t) for t in texts], bool)
        final = [t or own for t, own in zip(texts, emb.readings, strict=True)]
        return Embeddings(
            emb.vectors, final, np.where(has, conf, emb.confidences).astype(np.float32)
        )

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        """texts: N plate texts (``?`` allowed) → N unit vectors of their renders; the
        readings are the normalised texts. Raises PlateTextError."""
        plate_texts = [normalize(t, allow_patterns=True) for t in texts]
        renders = [render(t) for t in plate_texts]
        emb = self.embed_prepared(prepare_batch(renders, self.spec))
        return Embeddings(emb.vectors, plate_texts, np.ones(len(plate_texts), np.float32))


def _given_readings(
    n: int, readings: Sequence[str] | None, confidences: npt.NDArray[np.float32] | None
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """The readings handed in for n crops, as a list to fill ("" where none) and (n,) float32."""
    if readings is None:
        return [""] * n, np.zeros(n, np.float32)
    shape = None if confidences is None else np.shape(confidences)
    if len(readings) != n or shape != (n,):
        raise ValueError(
            f"{n} crops need {n} readings and ({n},) confidences, "
            f"got {len(readings)} readings and confidences {shape}"
        )
    return list(readings), np.asarray(confidences, np.float32).copy()


@lru_cache(maxsize=4)
def _load(folder: Path, reader: str | None) -> TFEmbedder:
    return TFEmbedder(folder, reader)


def load_embedder(name_or_path: str = "default", reader: str | None = None) -> TFEmbedder:
    """The embedder of a shipped model name or a model folder; loaded once per folder and
    reader (None: the one its spec names)."""
    return _load(resolve_model(name_or_path), reader)
