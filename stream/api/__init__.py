"""The HTTP API: cameras, sightings, the watchlist and alerts, behind API tokens.

stream.app includes :data:`routers`; the first router's lifespan makes the
:class:`~stream.api.hub.ApiHub` (``app.state.api``) once the service has started.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from stream.api import (
    alert_routes,
    camera_routes,
    render_routes,
    sighting_routes,
    watchlist_routes,
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from stream.api.hub import ApiHub

    hub = await asyncio.to_thread(ApiHub.build, app.state.service)
    app.state.api = hub
    await hub.start()
    try:
        yield
    finally:
        await hub.stop()


_lifecycle = APIRouter(lifespan=_lifespan)


class _Routers(list[APIRouter]):
    """The API's routers; iterable (``for r in routers``) and callable (``routers()``)."""

    def __call__(self) -> list[APIRouter]:
        return list(self)


routers = _Routers(
    [
        _lifecycle,
        camera_routes.router,
        sighting_routes.router,
        render_routes.router,
        watchlist_routes.router,
        alert_routes.router,
    ]
)
