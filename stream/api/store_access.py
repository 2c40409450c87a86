"""The one module that knows the store's API: the rest of stream.api uses these functions.

Sightings are searched, listed and fetched through the store object the service holds
(``service.store``, store.open_store's result); the API's own tables live in the same
database (its SQLAlchemy engine).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Engine

from alphabet.text import WILDCARD, PlateTextError, normalize
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


@dataclass(frozen=True)
class SightingFilter:
    """Which sightings: camera, time window (``until`` exclusive), how many."""

    camera: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20


def _store(hub: Any) -> Any:
    return hub.service.store


def _method(store: Any, name: str) -> Any:
    found = getattr(store, name, None)
    if found is None:
        raise StoreAccessError(f"the store {type(store).__name__} has no {name}()")
    return found


def search_vector(
    hub: Any, vector: npt.NDArray[np.float32], which: SightingFilter
) -> list[SightingOut]:
    """Sightings nearest to ``vector`` (D,) by cosine, best first."""
    search = _method(_store(hub), "search_vector")
    hits = search(
        np.asarray(vector, np.float32),
        k=which.limit,
        camera=which.camera,
        since=_aware(which.since),
        until=_aware(which.until),
    )
    return [sighting_out(h.sighting, float(h.score)) for h in hits]


def search_text(hub: Any, text: str, which: SightingFilter) -> list[SightingOut]:
    """Render and embed the typed text (``?`` allowed), then search. PlateTextError for
    text that cannot be a plate or holds ``*``."""
    plate_text = normalize(text, allow_patterns=True)
    if WILDCARD in plate_text:
        raise PlateTextError(
            f"{text!r} holds '*', which cannot be drawn for a search; use '?' for each "
            "unknown character"
        )
    vector = hub.service.embedder.embed_texts([plate_text]).vectors[0]
    return search_vector(hub, vector, which)


def search_image(
    hub: Any, pixels: npt.NDArray[np.uint8], which: SightingFilter
) -> list[SightingOut]:
    """pixels: (h, w, 3) BGR uint8 plate photo; embedded like a camera crop."""
    vector = hub.service.embedder.embed_crops([pixels]).vectors[0]
    return search_vector(hub, vector, which)


def list_sightings(hub: Any, which: SightingFilter) -> list[SightingOut]:
    recent = _method(_store(hub), "recent")
    found = recent(
        camera=which.camera, since=_aware(which.since), until=_aware(which.until), limit=which.limit
    )
    return [sighting_out(s) for s in found]


def get_sighting(hub: Any, sighting_id: int) -> SightingOut | None:
    found = _method(_store(hub), "get")(sighting_id)
    return sighting_out(found) if found is not None else None


def image_of(hub: Any, sighting_id: int, kind: str) -> bytes | None:
    """JPEG bytes of a sighting's ``crop`` or ``frame``; None when not kept."""
    data = _method(_store(hub), "image")(sighting_id, kind)
    return bytes(data) if data else None


def look_back(hub: Any, entry: WatchlistEntry) -> list[SightingOut]:
    """Sightings of the configured look-back window that the new entry already matches."""
    hours = hub.watch.lookback_hours
    if hours <= 0 or entry.by_reading:
        return []
    since = datetime.now(UTC) - timedelta(hours=hours)
    try:
        which = SightingFilter(since=since, limit=hub.watch.lookback_limit)
        found = search_vector(hub, hub.watchlist.vector_of(entry.plate_text), which)
    except StoreAccessError as exc:
        log.warning("look-back for watchlist entry %s skipped: %s", entry.id, exc)
        return []
    return [s for s in found if s.score is not None and s.score >= entry.threshold]
