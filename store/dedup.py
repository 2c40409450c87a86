"""Many frames of one car passing one camera become one sighting.

The live service tracks plates across frames and stores one sighting per pass; this is
the safety net behind it (and what ``platewatch index`` uses): a new sighting that looks
like one the same camera stored moments ago is merged into it instead of stored again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from store.search import SearchFilters, search_vector
from store.store import Store, _utc
from store.types import NewSighting, Sighting, StoreError


@dataclass(frozen=True)
class DedupSettings:
    """window_s: how far back a pass may still be extended; min_cosine: how alike two
    views must be to be one plate."""

    window_s: float = 30.0
    min_cosine: float = 0.9

    def __post_init__(self) -> None:
        if self.window_s < 0 or not -1.0 <= self.min_cosine <= 1.0:
            raise StoreError("dedup window must be >= 0 s and min_cosine in [-1, 1]")


def add_deduplicated(
    store: Store, new: Sequence[NewSighting], settings: DedupSettings | None = None
) -> list[Sighting]:
    """Store each sighting, or merge it into a recent look-alike of the same camera.

    The merged sighting keeps the better view (higher detector score), the earliest first
    and latest last time, and the sum of the frame counts. Returns one stored sighting per
    input, in order (a merged input returns the sighting it joined).
    """
    cfg = settings or DedupSettings()
    out: list[Sighting] = []
    for s in new:
        seen = _utc(s.first_seen)
        near = search_vector(
            store,
            np.asarray(s.embedding, np.float32),
            k=1,
            filters=SearchFilters(camera=s.camera, since=seen - timedelta(seconds=cfg.window_s)),
        )
        if near and near[0].score >= cfg.min_cosine:
            old = near[0].sighting
            better = s if s.detector_score > old.detector_score else None
            out.append(
                store.update_sighting(
                    old.id,
                    last_seen=s.last_seen or s.first_seen,
                    frame_count_add=s.frame_count,
                    better=better,
                )
            )
        else:
            out.extend(store.add_sightings([s]))
    return out
