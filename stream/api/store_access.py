"""The one module that knows the store's API: the rest of stream.api uses these functions.

Sightings are searched, listed and fetched through the store object the service holds
(``service.store``, store.open_store's result); the API's own tables live in the same
database (its SQLAlchemy engine).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Engine

from platewatch.errors import PlatewatchError
from stream.alerts.alerter import SightingFacts
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


def sighting_out(sighting: Any, score: float | None = None) -> SightingOut:
    facts = facts_of(sighting)
    return SightingOut(
        id=facts.id,
        camera=facts.camera,
        seen_at=facts.seen_at,
        reading=facts.reading,
        reading_confidence=_first(sighting, "reading_confidence"),
        score=score,
        crop_url=f"/api/sightings/{facts.id}/crop.jpg",
        frame_url=f"/api/sightings/{facts.id}/frame.jpg",
    )


def search_vector(
    hub: Any, vector: npt.NDArray[np.float32], since: datetime | None, limit: int
) -> list[SightingOut]:
    """Sightings nearest to ``vector`` (cosine, best first) seen after ``since``."""
    store = hub.service.store
    search = getattr(store, "search_vector", None)
    if search is None:
        raise StoreAccessError("the store offers no vector search")
    hits = search(vector, k=limit, since=since)
    return [sighting_out(h.sighting, float(h.score)) for h in hits]


def look_back(hub: Any, entry: WatchlistEntry) -> list[SightingOut]:
    """Sightings of the configured look-back window that the new entry already matches."""
    hours = hub.watch.lookback_hours
    if hours <= 0 or entry.by_reading:
        return []
    since = datetime.now(UTC) - timedelta(hours=hours)
    try:
        found = search_vector(
            hub, hub.watchlist.vector_of(entry.plate_text), since, hub.watch.lookback_limit
        )
    except StoreAccessError as exc:
        log.warning("look-back for watchlist entry %s skipped: %s", entry.id, exc)
        return []
    return [s for s in found if s.score is not None and s.score >= entry.threshold]
