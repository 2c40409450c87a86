"""Re-embedding stored crops when a new model ships.

Rows are updated in batches (embedding, reading, model version), each batch in its own
transaction, so searches keep running throughout; a service opened with the new model
builds its index from the re-embedded rows, one still on the old model keeps its index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import select, update

from model.protocols import Embedder
from store.store import S, Store

log = logging.getLogger(__name__)


def reindex(
    store: Store,
    embedder: Embedder,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Re-embed every sighting not yet on ``embedder.version``.

    Returns (re-embedded, skipped); a sighting whose crop file is missing or unreadable is
    skipped (and logged), never deleted.
    """
    done = skipped = 0
    last_id = 0
    while True:
        with store.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(S.c.id, S.c.crop_path)
                    .where(S.c.model_version != embedder.version, S.c.id > last_id)
                    .order_by(S.c.id)
                    .limit(batch)
                )
            )
        if not rows:
            return done, skipped
        last_id = int(rows[-1][0])
        ids: list[int] = []
        crops: list[npt.NDArray[np.uint8]] = []
        for sid, rel in rows:
            image = cv2.imread(str(store.data_dir / rel)) if rel else None
            if image is None:
                log.warning("sighting %s: crop %s missing or unreadable; not re-embedded", sid, rel)
                skipped += 1
                continue
            ids.append(int(sid))
            crops.append(np.asarray(image, np.uint8))
        if crops:
            emb = embedder.embed_crops(crops)
            with store.engine.begin() as conn:
                for sid, vec, reading, conf in zip(
                    ids, emb.vectors, emb.readings, emb.confidences.tolist(), strict=True
                ):
                    conn.execute(
                        update(S)
                        .where(S.c.id == sid)
                        .values(
                            embedding=np.asarray(vec, "<f4").tobytes(),
                            reading=reading[:32],
                            reading_confidence=float(conf),
                            model_version=embedder.version,
                        )
                    )
            done += len(ids)
        if progress:
            progress(len(rows))
