"""Views and sightings in, alerts out: match against the watchlist, store, then announce.

Early: the service hands over each open track's new best view (:meth:`Alerter.on_views`)
as soon as it is embedded, and the first view that matches an entry raises the alert
there and then, while the car is still in view: one alert per entry per track, which the
outbox's unique (track, entry) index holds even across a restart. When the track closes,
its stored sighting (:meth:`Alerter.on_sighting`) is checked once more (its reading is
final then, and an entry may have been added meanwhile) and linked to the track's alerts.

The outbox's promise sets the order: an alert and its deliveries are committed first,
then the live feed hears of it and the dispatcher is woken to send it. The blocking work
runs on one thread of the alerter's own, in the order it was handed over, so a track's
early alert is always stored before its sighting is linked to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from stream import metrics
from stream.alerts.dispatch import Dispatcher
from stream.alerts.live import LiveFeed
from stream.alerts.outbox import Outbox
from stream.alerts.types import Alert
from stream.tracking import TrackView
from stream.watchlist import SeenPlate, Watchlist, WatchMatch

log = logging.getLogger(__name__)

#: Open tracks remembered with the entries they alerted on; past this the oldest are
#: forgotten (the outbox's unique index still stops a second alert for them).
MAX_TRACKS = 10_000
#: JPEG quality of the crop an alert carries.
CROP_QUALITY = 90


class StoredSighting(SeenPlate, Protocol):
    """What an alert needs of a stored sighting: what the watchlist compares, plus its id."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class SightingFacts:
    """A plain StoredSighting, for callers that hold the fields separately."""

    id: int
    camera: str
    seen_at: datetime
    reading: str
    vector: npt.NDArray[np.float32]


def crop_jpeg(crop: npt.NDArray[np.uint8] | None) -> bytes | None:
    """(h, w, 3) uint8 BGR -> JPEG bytes; None for no crop or one that will not encode."""
    if crop is None or crop.size == 0:
        return None
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, CROP_QUALITY])
    return buf.tobytes() if ok else None


@dataclass(frozen=True)
class _Seen:
    """One matched view or sighting, with where its alert comes from."""

    plate: SeenPlate
    track: str | None
    sighting_id: int | None
    crop: npt.NDArray[np.uint8] | None


class Alerter:
    """One per service. ``repeat_after_s``: the same entry on the same camera stays quiet
    this long after an alert, across tracks (a parked car the tracker loses and finds
    again is not a new alert)."""

    def __init__(
        self,
        watchlist: Watchlist,
        outbox: Outbox,
        live: LiveFeed,
        dispatcher: Dispatcher | None,
        repeat_after_s: float = 60.0,
    ) -> None:
        self.watchlist = watchlist
        self._outbox = outbox
        self._live = live
        self._dispatcher = dispatcher
        self._receivers = list(dispatcher.receivers) if dispatcher else []
        self._repeat_after_s = repeat_after_s
        self._last: dict[tuple[int, str], datetime] = {}
        # track -> entries it alerted on (or was kept quiet for): decided, never again.
        self._decided: dict[str, set[int]] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="alerts")
        self._announcing: set[asyncio.Task[list[Alert]]] = set()

    # --- blocking side (the alerter's thread) -------------------------------------------

    def _match(self, seen: SeenPlate) -> list[WatchMatch]:
        started = time.perf_counter()
        found = self.watchlist.match(seen)
        metrics.WATCHLIST_MATCH_SECONDS.observe(time.perf_counter() - started)
        return found

    def _quiet(self, match: WatchMatch, seen: SeenPlate) -> bool:
        key = (match.entry.id, seen.camera)
        last = self._last.get(key)
        if last is not None and abs((seen.seen_at - last).total_seconds()) < self._repeat_after_s:
            return True
        self._last[key] = seen.seen_at
        return False

    def _decided_for(self, track: str) -> set[int]:
        decided = self._decided.get(track)
        if decided is None:
            if len(self._decided) >= MAX_TRACKS:
                del self._decided[next(iter(self._decided))]
            decided = self._decided[track] = set()
        return decided

    def _raise(self, seen: _Seen, found: list[WatchMatch], decided: set[int]) -> list[Alert]:
        raised: list[Alert] = []
        jpeg: bytes | None = None
        for m in found:
            if m.entry.id in decided:
                continue
            decided.add(m.entry.id)
            if self._quiet(m, seen.plate):
                continue
            if jpeg is None:
                jpeg = crop_jpeg(seen.crop)
            alert = Alert(
                id=0,
                sighting_id=seen.sighting_id,
                track=seen.track,
                camera=seen.plate.camera,
                seen_at=seen.plate.seen_at,
                reading=seen.plate.reading,
                entry_id=m.entry.id,
                plate_text=m.entry.plate_text,
                label=m.entry.label,
                score=m.score,
                method=m.method,
                raised_at=datetime.now(UTC),
                crop_jpeg=jpeg,
            )
            stored = self._outbox.add(alert, self._receivers)
            if stored is not None:  # None: this track's alert for the entry exists
                raised.append(stored)
                metrics.ALERTS_RAISED.labels(seen.plate.camera).inc()
        return raised

    def raise_early(self, views: Sequence[TrackView]) -> list[Alert]:
        """Match open tracks' new best views and store their first alert per entry
        (blocking: call it in a worker thread)."""
        raised: list[Alert] = []
        for view in views:
            found = self._match(view)
            if found:
                seen = _Seen(view, view.track, None, view.crop)
                raised += self._raise(seen, found, self._decided_for(view.track))
        _log_raised(raised)
        return raised

    def raise_alerts(
        self,
        sighting: StoredSighting,
        track: str | None = None,
        crop: npt.NDArray[np.uint8] | None = None,
    ) -> list[Alert]:
        """Match a stored sighting and store its alerts; link the alerts its track raised
        early to it (blocking: call it in a worker thread). crop: (h, w, 3) uint8 BGR."""
        track = track or None  # a sighting not made from a track ("" or None)
        decided = self._decided.pop(track, set()) if track else set()
        seen = _Seen(sighting, track, int(sighting.id), crop)
        raised = self._raise(seen, self._match(sighting), decided)
        if track:
            self._outbox.link(track, int(sighting.id))
        _log_raised(raised)
        return raised

    # --- event loop side ----------------------------------------------------------------

    async def _announce(self, future: Future[list[Alert]]) -> list[Alert]:
        raised = await asyncio.wrap_future(future)
        for alert in raised:
            self._live.publish(alert)
        if raised and self._dispatcher is not None:
            self._dispatcher.wake()
        return raised

    async def _announce_logged(self, future: Future[list[Alert]]) -> list[Alert]:
        try:
            return await self._announce(future)
        except Exception:
            log.exception("early alerts failed")
            return []

    def on_views(self, views: Sequence[TrackView]) -> None:
        """The service's view hook (event loop; never blocks): alerts are stored, then
        announced, in the background."""
        future = self._pool.submit(self.raise_early, list(views))
        task = asyncio.ensure_future(self._announce_logged(future))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def on_sighting(
        self,
        sighting: StoredSighting,
        track: str | None = None,
        crop: npt.NDArray[np.uint8] | None = None,
    ) -> list[Alert]:
        """The service's sighting hook: alerts are stored before they are announced."""
        return await self._announce(self._pool.submit(self.raise_alerts, sighting, track, crop))

    async def settle(self) -> None:
        """Wait until the views handed over so far are matched, stored and announced."""
        await asyncio.wrap_future(self._pool.submit(lambda: None))
        while self._announcing:
            await asyncio.gather(*list(self._announcing))


def _log_raised(raised: list[Alert]) -> None:
    for alert in raised:
        log.info(
            "alert %s: %s on %s (entry %s %r, score %.3f, %s)",
            alert.id,
            alert.reading or "?",
            alert.camera,
            alert.entry_id,
            alert.plate_text,
            alert.score,
            f"sighting {alert.sighting_id}" if alert.sighting_id else "car still in view",
        )
