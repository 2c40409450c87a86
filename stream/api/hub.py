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
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

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
        dispatcher = Dispatcher(outbox, {c.name: c for c in channels}, alerts.retry)
        live = LiveFeed(alerts.live_queue)
        alerter = Alerter(watchlist, outbox, live, dispatcher, watch.repeat_after_s)
        return cls(
            service, engine, auth, watch, entries, TokenStore(engine), outbox, watchlist,
            live, dispatcher, alerter, channels,
        )  # fmt: skip

    async def _hook(self, sighting: Any) -> None:
        await self.alerter.on_sighting(store_access.facts_of(sighting))

    async def start(self) -> None:
        await open_channels(self.channels)
        self.service.on_sighting(self._hook)
        self._task = asyncio.create_task(self.dispatcher.run(), name="alert-delivery")
        log.info(
            "watchlist of %d entries; alert receivers: %s",
            len(self.watchlist),
            ", ".join(c.name for c in self.channels) or "none (live feed only)",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await close_channels(self.channels)
