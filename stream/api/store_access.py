"""The one module that knows the store's API: the rest of stream.api uses these functions.

Sightings are searched, listed and fetched through the store object the service holds
(``service.store``, store.open_store's result); the API's own tables live in the same
database (its SQLAlchemy engine).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Engine

from platewatch.errors import PlatewatchError
from store import search
from store.search import SearchFilters
from store.types import StoreError
from stream.alerts.alerter import SightingFacts
from stream.api.config import WatchlistConfig
from stream.api.schemas import SightingOut
from stream.watchlist import WatchlistEntry

log = logging.getLogger(__name__)


class StoreAccessError(PlatewatchError, RuntimeError):
    """The store object lacks something the API needs; the message says what."""


def engine_of(store: Any) -> Engine:
    """The SQLAlchemy engine of the store's database."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        raise StoreAccessError(f"the store {type(store).__name__} exposes no SQLAlchemy engine")
    return engine


def _first(obj: Any, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _aware(moment: datetime | None) -> datetime | None:
    """Query times without a zone are UTC."""
    return None if moment is None else _utc(moment)


def facts_of(sighting: Any) -> SightingFacts:
    """The fields an alert needs, from the store's sighting record."""
    seen_at = _first(sighting, "seen_at", "last_seen", "time", "first_seen")
    vector = _first(sighting, "vector", "embedding")
    return SightingFacts(
        id=int(sighting.id),
        camera=str(sighting.camera),
        seen_at=_utc(seen_at) if isinstance(seen_at, datetime) else datetime.now(UTC),
        reading=str(_first(sighting, "reading", "plate_text") or ""),
        vector=np.asarray(vector, np.float32),
    )


def sighting_out(sighting: Any, score: float | None = None, match: Any = None) -> SightingOut:
    """The API's view of a sighting; ``match`` (a store search Match) adds the parts of
    its score."""
    facts = facts_of(sighting)
    return SightingOut(
        id=facts.id,
        camera=facts.camera,
        seen_at=facts.seen_at,
        reading=facts.reading,
        reading_confidence=_first(sighting, "reading_confidence"),
        score=score,
        vector_score=None if match is None else float(match.vector_score),
        reading_score=None if match is None or match.reading_score is None
        else float(match.reading_score),
        crop_url=f"/api/sightings/{facts.id}/crop.jpg",
        frame_url=f"/api/sightings/{facts.id}/frame.jpg",
        box=_box_fractions(sighting),
    )


def _box_fractions(sighting: Any) -> list[float] | None:
    """The plate box as fractions of its frame (the kept frame is a thumbnail)."""
    size = getattr(sighting, "frame_size", None)
    box = getattr(sighting, "box", None)
    if not size or box is None:
        return None
    width, height = size
    x, y, w, h = (float(v) for v in box)
    return [x / width, y / height, w / width, h / height]


@dataclass(frozen=True)
class SightingFilter:
    """Which sightings: camera, time window (``until`` exclusive), how many."""

    camera: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20


def _store(hub: Any) -> Any:
    return hub.service.store


def _filters(which: SightingFilter) -> Any:
    return SearchFilters(camera=which.camera, since=_aware(which.since), until=_aware(which.until))


def _out(matches: list[Any]) -> list[SightingOut]:
    return [sighting_out(m.sighting, float(m.score), m) for m in matches]


def search_vector(
    hub: Any, vector: npt.NDArray[np.float32], which: SightingFilter
) -> list[SightingOut]:
    """Sightings nearest to ``vector`` (D,) by cosine, best first."""
    return _out(search.search_vector(_store(hub), vector, which.limit, _filters(which)))


def search_text(hub: Any, text: str, which: SightingFilter) -> list[SightingOut]:
    """Sightings of a typed plate text (rendered and embedded; ``*`` patterns are matched
    on the readings). PlateTextError for text that cannot be a plate."""
    embedder = hub.service.embedder
    found = search.search_text(_store(hub), text, embedder, which.limit, _filters(which))
    return _out(found)


def search_image(
    hub: Any, pixels: npt.NDArray[np.uint8], which: SightingFilter
) -> list[SightingOut]:
    """pixels: (h, w, 3) BGR uint8 plate photo; embedded and read like a camera crop,
    ranked by the fused score with its reading as the query text."""
    embedder = hub.service.embedder
    found = search.search_image(_store(hub), pixels, embedder, which.limit, _filters(which))
    return _out(found)


def list_sightings(hub: Any, which: SightingFilter) -> list[SightingOut]:
    """Newest first."""
    found = _store(hub).list_sightings(
        camera=which.camera,
        since=_aware(which.since),
        until=_aware(which.until),
        limit=which.limit,
    )
    return [sighting_out(s) for s in found]


def _sighting(hub: Any, sighting_id: int) -> Any:
    try:
        return _store(hub).get_sighting(sighting_id)
    except LookupError:  # store.types.SightingNotFound
        return None


def get_sighting(hub: Any, sighting_id: int) -> SightingOut | None:
    found = _sighting(hub, sighting_id)
    return sighting_out(found) if found is not None else None


def image_of(hub: Any, sighting_id: int, kind: str) -> bytes | None:
    """JPEG bytes of a sighting's ``crop`` or ``frame``; None when not kept."""
    found = _sighting(hub, sighting_id)
    rel = getattr(found, f"{kind}_path", None) if found is not None else None
    if not rel:
        return None
    path = Path(_store(hub).data_dir) / rel
    try:
        return path.read_bytes()
    except OSError:  # pruned by retention, or the folder was moved
        log.warning("image %s of sighting %s is missing", path, sighting_id)
        return None


def past_matches(
    store: Any, embedder: Any, entry: WatchlistEntry, window: WatchlistConfig
) -> list[SightingOut]:
    """Sightings of the look-back window that a new entry already matches: by cosine over
    its threshold, or (``*`` entries) by reading. A failing search is logged, not raised:
    the entry is stored either way."""
    if window.lookback_hours <= 0:
        return []
    filters = SearchFilters(since=datetime.now(UTC) - timedelta(hours=window.lookback_hours))
    k = window.lookback_limit
    try:
        if entry.by_reading:
            return _out(search.search_text(store, entry.plate_text, embedder, k, filters))
        vector = embedder.embed_texts([entry.plate_text]).vectors[0]
        found = _out(search.search_vector(store, vector, k, filters))
    except StoreError as exc:
        log.warning("look-back for watchlist entry %s skipped: %s", entry.id, exc)
        return []
    return [s for s in found if s.score is not None and s.score >= entry.threshold]


def look_back(hub: Any, entry: WatchlistEntry) -> list[SightingOut]:
    """:func:`past_matches` in the running service."""
    return past_matches(hub.service.store, hub.service.embedder, entry, hub.watch)
