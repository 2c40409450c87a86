"""The HTTP face of the service: /metrics, /health, /ready and WHIP, plus the API's routers.

Routes for cameras, sightings, the watchlist and alerts belong to stream.api, whose
``routers`` (a list of APIRouter) are included when that package exists; its static page
(stream/api/web or stream/web) is served at / when present.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse

from stream import metrics
from stream.service import Service
from stream.sources.whip_http import whip_router

log = logging.getLogger(__name__)

#: Folders searched, in order, for the API's static web page.
WEB_DIRS = (Path(__file__).parent / "api" / "web", Path(__file__).parent / "web")


def _api_routers() -> list[APIRouter]:
    try:
        api = importlib.import_module("stream.api")
    except ModuleNotFoundError as exc:
        if exc.name in ("stream.api",):
            return []
        raise
    return [r for r in getattr(api, "routers", []) if isinstance(r, APIRouter)]


def create_app(service: Service) -> FastAPI:
    """The FastAPI app; its lifespan starts the service unless it is running already."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        owned = not service.started
        if owned:
            await service.start()
        try:
            yield
        finally:
            if owned:
                await service.stop()

    app = FastAPI(title="platewatch", lifespan=lifespan)
    app.state.service = service

    @app.get("/metrics", tags=["ops"])
    def prometheus() -> Response:
        body, kind = metrics.render()
        return Response(body, media_type=kind)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """The process answers: nothing more is checked."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    def ready() -> Response:
        """200 once models are loaded and cameras started; lists each camera's status."""
        cameras = {s.name: str(s.status) for s in service.camera_states()}
        body = {"ready": service.started, "cameras": cameras}
        return JSONResponse(body, 200 if service.started else 503)

    app.include_router(whip_router(service.whip))
    for router in _api_routers():
        app.include_router(router)
    for web in WEB_DIRS:
        if (web / "index.html").exists():
            from fastapi.staticfiles import StaticFiles

            app.mount("/", StaticFiles(directory=web, html=True), name="web")
            break
    return app
