"""Everything the API keeps beside the service: the watchlist, alerting, tokens.

Made when the app starts (the API router's lifespan runs after the service's), from the
service's config sections (``watchlist``, ``alerts``, ``auth``), its embedder and the
store's database, where the four tables of stream.alerts.tables live beside the
sightings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from stream import metrics
from stream.alerts.alerter import Alerter
from stream.alerts.channels import build_channels, close_channels, open_channels
from stream.alerts.config import AlertsConfig
from stream.alerts.dispatch import Dispatcher
from stream.alerts.entries import EntryStore
from stream.alerts.live import LiveFeed
from stream.alerts.outbox import Outbox
from stream.alerts.tables import create_tables
from stream.alerts.types import Channel
from stream.api import store_access
from stream.api.config import AuthConfig, WatchlistConfig
from stream.api.deps import ServiceLike
from stream.api.token_store import TokenStore
from stream.watchlist import Watchlist

log = logging.getLogger(__name__)

#: Seconds between checks of the watchlist table for changes made elsewhere.
REFRESH_S = 5.0


def _section(service: ServiceLike, name: str, default: Any) -> Any:
    getter = getattr(service.config, "section", None)
    found = getter(name) if getter else None
    return found if found is not None else default


@dataclass
class ApiHub:
    service: ServiceLike
    engine: Engine
    auth: AuthConfig
    watch: WatchlistConfig
    entries: EntryStore
    tokens: TokenStore
    outbox: Outbox
    watchlist: Watchlist
    live: LiveFeed
    dispatcher: Dispatcher
    alerter: Alerter
    channels: list[Channel]
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, service: ServiceLike) -> ApiHub:
        """Blocking: creates missing tables and embeds every watchlist entry once."""
        auth = _section(service, "auth", AuthConfig())
        watch = _section(service, "watchlist", WatchlistConfig())
        alerts = _section(service, "alerts", AlertsConfig())
        engine = store_access.engine_of(service.store)
        create_tables(engine)
        tz = ZoneInfo(watch.timezone) if watch.timezone else None
        watchlist = Watchlist(service.embedder, tz)
        entries = EntryStore(engine)
        watchlist.replace(entries.all())
        metrics.WATCHLIST_ENTRIES.set(len(watchlist))
        outbox = Outbox(engine)
        channels = build_channels(alerts)
        # In cluster mode the deliveries are claimed under the node's own name.
        node = getattr(getattr(service, "cluster", None), "node_id", None)
        dispatcher = Dispatcher(
            outbox, {c.name: c for c in channels}, alerts.retry, node, alerts.claim_s
        )
        live = LiveFeed(alerts.live_queue)
        alerter = Alerter(watchlist, outbox, live, dispatcher, watch.repeat_after_s)
        return cls(
            service, engine, auth, watch, entries, TokenStore(engine), outbox, watchlist,
            live, dispatcher, alerter, channels,
        )  # fmt: skip

    async def _hook(self, sighting: Any, plate: Any) -> None:
        facts = store_access.facts_of(sighting)
        await self.alerter.on_sighting(facts, plate.track, plate.crop)

    def refresh(self) -> bool:
        """Reload the watchlist if its table changed (an entry added by the CLI or by
        another service process); blocking. True when something changed."""
        stored = self.entries.all()
        if stored == self.watchlist.entries():
            return False
        self.watchlist.replace(stored)
        metrics.WATCHLIST_ENTRIES.set(len(self.watchlist))
        return True

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                if await asyncio.to_thread(self.refresh):
                    log.info("watchlist reloaded: %d entries", len(self.watchlist))
            except Exception:
                log.exception("watchlist reload failed; keeping the current one")

    async def start(self) -> None:
        await open_channels(self.channels)
        self.service.on_view(self.alerter.on_views)
        self.service.on_sighting(self._hook)
        self._tasks = [
            asyncio.create_task(self.dispatcher.run(), name="alert-delivery"),
            asyncio.create_task(self._refresh_loop(), name="watchlist-refresh"),
        ]
        log.info(
            "watchlist of %d entries; alert receivers: %s",
            len(self.watchlist),
            ", ".join(c.name for c in self.channels) or "none (live feed only)",
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await close_channels(self.channels)
