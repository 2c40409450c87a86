"""Re-embedding stored crops when a new model ships, while searches go on.

The new vectors go into a new index built beside the one in use; searches keep using the
old index and the old rows throughout. At the end, one transaction gives every row its
new vector, reading and model version, and the store swaps to the new index under its
write lock: a search sees either the old model's world or the new one's, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, select, update

from model.protocols import Embedder
from store.pgvectors import PgVectorIndex
from store.store import S, Store
from store.vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    """What the new model made of the rows so far, keyed by sighting id; ``index`` is the
    new hnswlib index, built as they come (None on pgvector, whose rows are the index)."""

    vectors: dict[int, npt.NDArray[np.float32]]
    readings: dict[int, tuple[str, float]]
    index: VectorIndex | None


def _embed_batch(
    store: Store, embedder: Embedder, rows: list[tuple[int, str | None]], pending: _Pending
) -> int:
    """Embed the crops of (id, crop_path) rows into ``pending``; returns how many were
    skipped (a crop file missing or unreadable: the row stays, on its old vector)."""
    ids: list[int] = []
    crops: list[npt.NDArray[np.uint8]] = []
    for sid, rel in rows:
        image = cv2.imread(str(store.data_dir / rel)) if rel else None
        if image is None:
            log.warning("sighting %s: crop %s missing or unreadable; not re-embedded", sid, rel)
            continue
        ids.append(int(sid))
        crops.append(np.asarray(image, np.uint8))
    if crops:
        emb = embedder.embed_crops(crops)
        for sid, vec, reading, conf in zip(
            ids, emb.vectors, emb.readings, emb.confidences.tolist(), strict=True
        ):
            pending.vectors[sid] = np.asarray(vec, np.float32)
            pending.readings[sid] = (reading, float(conf))
        if pending.index is not None:
            pending.index.add(np.array(ids, np.int64), np.asarray(emb.vectors, np.float32))
    return len(rows) - len(ids)


def _to_do(store: Store, version: str, after: int, batch: int) -> list[tuple[int, str | None]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(S.c.id, S.c.crop_path)
            .where(S.c.model_version != version, S.c.id > after)
            .order_by(S.c.id)
            .limit(batch)
        )
        return [(int(r[0]), r[1]) for r in rows]


def _commit(store: Store, embedder: Embedder, pending: _Pending) -> None:
    """Rows take their new vectors in one transaction; then the store swaps index."""
    table = store._table
    params = []
    for sid, vec in pending.vectors.items():
        reading, conf = pending.readings[sid]
        values = {
            "sid": sid,
            "embedding": vec.astype("<f4").tobytes(),
            "reading": reading[:32],
            "reading_confidence": conf,
            "model_version": embedder.version,
        }
        if store.pgvector:
            values["vec"] = vec
        params.append(values)
    with store.engine.begin() as conn:
        if params:
            cols = {k: table.c[k].type for k in params[0] if k != "sid"}
            stmt = (
                update(table)
                .where(table.c.id == bindparam("sid"))
                .values({k: bindparam(k, type_=t) for k, t in cols.items()})
            )
            conn.execute(stmt, params)


def reindex(
    store: Store,
    embedder: Embedder,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Re-embed every sighting not yet on ``embedder.version``; the store then searches
    with the new model's vectors (its ``model_version`` and ``dim`` become the new ones).

    Returns (re-embedded, skipped). A sighting whose crop file is missing or unreadable is
    skipped (and logged), never deleted: it keeps its old vector and drops out of searches
    on the new model.
    """
    capacity = max(1024, store.count())
    new = None if store.pgvector else VectorIndex(embedder.dim, store.hnsw, capacity)
    pending = _Pending({}, {}, new)
    skipped = 0
    last_id = 0
    while rows := _to_do(store, embedder.version, last_id, batch):
        skipped += _embed_batch(store, embedder, rows, pending)
        last_id = rows[-1][0]
        if progress:
            progress(len(rows))
    with store._write_lock:
        # Sightings stored while the crops above were embedded.
        while rows := _to_do(store, embedder.version, last_id, batch):
            skipped += _embed_batch(store, embedder, rows, pending)
            last_id = rows[-1][0]
        _commit(store, embedder, pending)
        store.model_version = embedder.version
        store.dim = embedder.dim
        if new is None:
            store.index = PgVectorIndex(store.engine, embedder.dim, embedder.version, store.hnsw)
        else:
            # Rows already on the new model (stored by a process running it) join too.
            store._catch_up(new)
            store.index = new
            store.save_index()
    log.info(
        "re-embedded %d sightings with %s; %d skipped",
        len(pending.vectors),
        embedder.version,
        skipped,
    )
    return len(pending.vectors), skipped
