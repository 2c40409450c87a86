"""New sightings in, alerts out: match against the watchlist, store, then announce.

Runs as the service's ``on_sighting`` hook, after the sighting is stored. The order is
the outbox's promise: the alert and its deliveries are committed first, then the live
feed hears of it and the dispatcher is woken to send it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from stream import metrics
from stream.alerts.dispatch import Dispatcher
from stream.alerts.live import LiveFeed
from stream.alerts.outbox import Outbox
from stream.alerts.types import Alert
from stream.watchlist import SeenPlate, Watchlist, WatchMatch

log = logging.getLogger(__name__)


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


class Alerter:
    """One per service. ``repeat_after_s``: the same entry on the same camera stays quiet
    this long after an alert (a parked car is not an alert per frame)."""

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

    def _quiet(self, match: WatchMatch, sighting: StoredSighting) -> bool:
        key = (match.entry.id, sighting.camera)
        last = self._last.get(key)
        if (
            last is not None
            and abs((sighting.seen_at - last).total_seconds()) < self._repeat_after_s
        ):
            return True
        self._last[key] = sighting.seen_at
        return False

    def raise_alerts(self, sighting: StoredSighting) -> list[Alert]:
        """Match and store (blocking: call it in a worker thread)."""
        started = time.perf_counter()
        found = self.watchlist.match(sighting)
        metrics.WATCHLIST_MATCH_SECONDS.observe(time.perf_counter() - started)
        raised = []
        for m in found:
            if self._quiet(m, sighting):
                continue
            alert = Alert(
                id=0,
                sighting_id=int(sighting.id),
                camera=sighting.camera,
                seen_at=sighting.seen_at,
                reading=sighting.reading,
                entry_id=m.entry.id,
                plate_text=m.entry.plate_text,
                label=m.entry.label,
                score=m.score,
                method=m.method,
                raised_at=datetime.now(UTC),
            )
            raised.append(self._outbox.add(alert, self._receivers))
            metrics.ALERTS_RAISED.labels(sighting.camera).inc()
        for alert in raised:
            log.info(
                "alert %s: %s on %s (entry %s %r, score %.3f)",
                alert.id,
                alert.reading or "?",
                alert.camera,
                alert.entry_id,
                alert.plate_text,
                alert.score,
            )
        return raised

    async def on_sighting(self, sighting: StoredSighting) -> list[Alert]:
        """The service hook: alerts are stored before they are announced or sent."""
        raised = await asyncio.to_thread(self.raise_alerts, sighting)
        for alert in raised:
            self._live.publish(alert)
        if raised and self._dispatcher is not None:
            self._dispatcher.wake()
        return raised
