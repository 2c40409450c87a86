"""Searches over stored sightings: by vector, by plate text, by example image.

The vector part runs on the hnswlib index and over-fetches to honour filters; a filter
that leaves few rows (one camera, a short time span) switches to an exact scan of those
rows, which is both faster and exact there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from alphabet.text import WILDCARD, PlateTextError, matches, normalize
from model.fusion import Fusion
from model.protocols import Embedder
from store.pgvectors import PgVectorIndex
from store.readings import ReadingIndex
from store.store import S, Store, _filtered, _utc, sighting_of
from store.types import Match, Sighting, StoreError

#: Filters leaving at most this many rows are searched exactly instead of through the index.
EXACT_SCAN_LIMIT = 5_000
_MAX_K = 1000
#: Each open store's readings in memory (store.readings), made at its first text search.
_READINGS: WeakKeyDictionary[Store, ReadingIndex] = WeakKeyDictionary()


@dataclass(frozen=True)
class SearchFilters:
    """Which sightings a search may return, and which page of them."""

    camera: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None
    offset: int = 0

    @property
    def narrows(self) -> bool:
        return bool(self.camera or self.since or self.until)


def _check(k: int, filters: SearchFilters) -> None:
    if not 1 <= k <= _MAX_K:
        raise StoreError(f"k must be between 1 and {_MAX_K}, got {k}")
    if filters.offset < 0:
        raise StoreError("offset must not be negative")


def _exact(
    store: Store, vector: npt.NDArray[np.float32], need: int, f: SearchFilters
) -> list[tuple[Sighting, float]]:
    """Score every row the filter leaves (at most EXACT_SCAN_LIMIT), fetch the best."""
    query = _filtered(select(S.c.id, S.c.embedding), f.camera, f.since, f.until).where(
        S.c.model_version == store.model_version
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return []
    ids = np.array([r[0] for r in rows], np.int64)
    matrix = np.frombuffer(b"".join(r[1] for r in rows), "<f4").reshape(len(rows), -1)
    scores = matrix @ vector
    order = np.argsort(-scores)[:need]
    found = store.get_sightings(ids[order].tolist())
    return [(found[int(ids[i])], float(scores[i])) for i in order if int(ids[i]) in found]


def _pgvector(
    store: Store,
    index: PgVectorIndex,
    vector: npt.NDArray[np.float32],
    need: int,
    f: SearchFilters,
) -> list[tuple[Sighting, float]]:
    """The server searches, filters included (pgvector's iterative index scan)."""
    ids, scores = index.search_where(vector, need, f.camera, f.since, f.until)
    found = store.get_sightings(ids.tolist())
    return [
        (found[i], float(score))
        for i, score in zip(ids.tolist(), scores.tolist(), strict=True)
        if i in found
    ]


def _passing(store: Store, ids: list[int], f: SearchFilters) -> set[int]:
    """Those of ``ids`` whose row exists and passes the filter. Reads the key columns by
    primary key and filters here: given ``camera_id = ?`` the planner would rather walk
    the camera's whole index than look up a few hundred ids."""
    passing: set[int] = set()
    since = _utc(f.since) if f.since else None
    until = _utc(f.until) if f.until else None
    cols = select(S.c.id, S.c.camera_id, S.c.first_seen, S.c.last_seen)
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 900):
            for sid, camera, first, last in conn.execute(
                cols.where(S.c.id.in_(ids[start : start + 900]))
            ):
                if f.camera and camera != f.camera:
                    continue
                if (since and _utc(last) < since) or (until and _utc(first) > until):
                    continue
                passing.add(int(sid))
    return passing


def _approximate(
    store: Store, vector: npt.NDArray[np.float32], need: int, f: SearchFilters
) -> list[tuple[Sighting, float]]:
    if isinstance(store.index, PgVectorIndex):
        return _pgvector(store, store.index, vector, need, f)
    store.refresh_if_due()
    # Over-fetch, keep what passes the filter (and still has its row: another process
    # may have deleted it), and widen until enough pass.
    fetch = need if not f.narrows else need * 4
    while True:
        ids, scores = store.index.search(vector, fetch)
        passing = _passing(store, ids.tolist(), f)
        kept = [(i, s) for i, s in zip(ids.tolist(), scores.tolist(), strict=True) if i in passing]
        if len(kept) >= need or fetch >= len(store.index):
            break
        fetch = min(fetch * 4, len(store.index))
    found = store.get_sightings([i for i, _ in kept[:need]])
    return [(found[i], float(s)) for i, s in kept[:need] if i in found]


def _rows_in_filter(store: Store, f: SearchFilters, at_most: int) -> int:
    """How many rows the filter leaves, counting no further than ``at_most + 1``."""
    inner = _filtered(select(S.c.id), f.camera, f.since, f.until).limit(at_most + 1)
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inner.subquery())).scalar_one())


def search_vector(
    store: Store, vector: npt.NDArray[np.float32], k: int = 10, filters: SearchFilters | None = None
) -> list[Match]:
    """Sightings nearest to a (D,) unit vector by cosine, best first."""
    f = filters or SearchFilters()
    _check(k, f)
    v = np.asarray(vector, np.float32).reshape(-1)
    if v.shape != (store.dim,):
        raise StoreError(f"query vector must have {store.dim} values, got {v.size}")
    v = v / max(float(np.linalg.norm(v)), 1e-12)
    need = f.offset + k
    if f.narrows and _rows_in_filter(store, f, EXACT_SCAN_LIMIT) <= EXACT_SCAN_LIMIT:
        hits = _exact(store, v, need, f)
    else:
        hits = _approximate(store, v, need, f)
    matches_ = [Match(s, score, score) for s, score in hits[f.offset :]]
    if f.min_score is not None:
        matches_ = [m for m in matches_ if m.score >= f.min_score]
    return matches_


#: Sightings re-ranked by the fused score: at least this many best by cosine (more for
#: deep pages), and twice the page's end best by reading among those that could reach it.
FUSION_POOL = 50


def _fusion(embedder: Embedder, blend_reading: float | None) -> Fusion:
    """The fused score of a text search: the embedder's (its spec's settings), its
    weight replaced by ``blend_reading`` when given."""
    base = getattr(embedder, "fusion", None)
    if not isinstance(base, Fusion):
        base = Fusion()
    if blend_reading is None:
        return base
    if not 0.0 <= blend_reading <= 1.0:
        raise StoreError("blend_reading must be between 0 and 1")
    return replace(base, weight=blend_reading)


def _by_reading(
    store: Store, query: str, fusion: Fusion, need: int, f: SearchFilters, min_term: float
) -> dict[int, float]:
    """Ids and reading terms of the ``need`` sightings whose stored readings fit the
    query best, each at least ``min_term`` (a scan of the readings, held in memory by
    store.readings, which finds a plate the vectors rank far down in a large gallery)."""
    index = _READINGS.get(store)
    if index is None:
        index = _READINGS.setdefault(store, ReadingIndex())
    index.sync(store)
    return index.best(query, fusion, need, f.camera, f.since, f.until, min_term)


def _fused_scores(
    sightings: list[Sighting], query: str, vector: npt.NDArray[np.float32], fusion: Fusion
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Fused scores, cosines and reading terms of some sightings for one query."""
    cos = np.array([float(s.vector @ vector) for s in sightings], np.float32)
    conf = np.array([s.reading_confidence for s in sightings], np.float32)
    terms = fusion.reading_terms(query, [s.reading for s in sightings], conf)
    return fusion.combine(cos, terms), cos, terms


def _fused(
    store: Store,
    query: str,
    vector: npt.NDArray[np.float32],
    fusion: Fusion,
    k: int,
    f: SearchFilters,
) -> list[Match]:
    """Re-rank the union of the vector's and the readings' best candidates by the fused
    score (model.fusion, the score evaluation measures)."""
    need = max(FUSION_POOL, 4 * (k + f.offset))
    plain = SearchFilters(f.camera, f.since, f.until)
    pool = {
        m.sighting.id: m.sighting for m in search_vector(store, vector, min(_MAX_K, need), plain)
    }
    # A row outside the vector pool ranks in the page only if its fused score beats the
    # page's last one among the pool; its cosine is at most 1, so its reading term must
    # reach min_term: the reading scan looks only for those.
    min_term = 0.0
    if len(pool) >= k + f.offset and fusion.weight > 0:
        got = _fused_scores(list(pool.values()), query, vector, fusion)[0]
        last = float(np.sort(got)[::-1][k + f.offset - 1])
        min_term = max(0.0, (last - (1.0 - fusion.weight)) / fusion.weight)
    if f.min_score is not None and fusion.weight > 0:
        min_term = max(min_term, (f.min_score - (1.0 - fusion.weight)) / fusion.weight)
    by_reading = _by_reading(store, query, fusion, 2 * (k + f.offset), plain, min_term)
    more = [i for i in by_reading if i not in pool]
    pool |= store.get_sightings(more)
    sightings = list(pool.values())
    if not sightings:
        return []
    scores, cos, terms = _fused_scores(sightings, query, vector, fusion)
    order = np.argsort(-scores, kind="stable")[f.offset : f.offset + k]
    ranked = [Match(sightings[i], float(scores[i]), float(cos[i]), float(terms[i])) for i in order]
    if f.min_score is not None:
        ranked = [m for m in ranked if m.score >= f.min_score]
    return ranked


def search_text(
    store: Store,
    text: str,
    embedder: Embedder,
    k: int = 10,
    filters: SearchFilters | None = None,
    blend_reading: float | None = None,
) -> list[Match]:
    """Sightings of a plate text, best first.

    The text is rendered and embedded by the same network as the crops. ``?`` stands for
    one hidden character and is rendered as such. ``*`` (a run of unknown length) cannot be
    drawn, so such patterns are matched against the stored readings and ranked by the
    vector of the pattern's fixed part. Otherwise the score is the fused score of
    model.fusion (cosine blended with how well each stored reading fits the query), with
    the embedder's settings; ``blend_reading`` in [0, 1] replaces its weight (0: cosine
    only).
    """
    f = filters or SearchFilters()
    _check(k, f)
    fusion = _fusion(embedder, blend_reading)
    query = normalize(text, allow_patterns=True)
    if WILDCARD in query:
        return _search_wildcard(store, query, embedder, k, f)
    vector = embedder.embed_texts([query]).vectors[0]
    if fusion.weight == 0.0:
        return search_vector(store, vector, k, f)
    return _fused(store, query, vector, fusion, k, f)


def _search_wildcard(
    store: Store, pattern: str, embedder: Embedder, k: int, f: SearchFilters
) -> list[Match]:
    fixed = pattern.replace(WILDCARD, "")
    vector = embedder.embed_texts([fixed]).vectors[0] if fixed.strip("?") else None
    query: Any = _filtered(select(S), f.camera, f.since, f.until)
    found: list[Match] = []
    with store.engine.connect() as conn:
        for part in conn.execute(query.execution_options(yield_per=5000)).partitions(5000):
            for row in part:
                if not row._mapping["reading"] or not matches(pattern, row._mapping["reading"]):
                    continue
                s = sighting_of(row)
                score = float(s.vector @ vector) if vector is not None else 1.0
                found.append(Match(s, score, score, 1.0))
    found.sort(key=lambda m: -m.score)
    found = found[f.offset : f.offset + k]
    if f.min_score is not None:
        found = [m for m in found if m.score >= f.min_score]
    return found


def search_image(
    store: Store,
    image: npt.NDArray[np.uint8],
    embedder: Embedder,
    k: int = 10,
    filters: SearchFilters | None = None,
    blend_reading: float | None = None,
) -> list[Match]:
    """Sightings of the plate an example image shows (a crop, BGR or grey uint8).

    The crop is embedded and read by the embedder; its reading is the query text of the
    fused score, as in a text search (model.fusion, the embedder's settings;
    ``blend_reading`` replaces its weight, 0: cosine only). A crop that reads as nothing
    is ranked by cosine alone.
    """
    f = filters or SearchFilters()
    _check(k, f)
    fusion = _fusion(embedder, blend_reading)
    seen = embedder.embed_crops([image])
    vector = seen.vectors[0]
    query = _query_of_reading(seen.readings[0])
    if fusion.weight == 0.0 or not query:
        return search_vector(store, vector, k, f)
    return _fused(store, query, vector, fusion, k, f)


def _query_of_reading(reading: str) -> str:
    """A crop's reading as a text query: normalised, patterns (``*``) dropped; empty when
    nothing plate-like is left."""
    try:
        return normalize(reading.replace(WILDCARD, ""), allow_patterns=True)
    except PlateTextError:
        return ""
