"""What the routes need from the running service, and how they get it.

The routes reach everything through ``request.app.state``: the service
(``app.state.service``, stream.service.Service) and this package's :class:`ApiHub`
(``app.state.api``, made when the app starts, see stream.api.hub).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from fastapi import Request

from model.protocols import Embedder


class CameraStateLike(Protocol):
    name: str
    status: Any
    since: Any
    failures: int
    frames_received: int
    frames_queued: int
    frames_dropped: int
    queue_depth: int
    last_error: str | None


class ServiceLike(Protocol):
    """The parts of stream.service.Service the API uses."""

    config: Any
    started: bool

    @property
    def store(self) -> Any: ...
    @property
    def embedder(self) -> Embedder: ...
    def on_sighting(self, hook: Any) -> None: ...
    def on_view(self, hook: Any) -> None: ...
    def camera_states(self) -> Sequence[CameraStateLike]: ...
    def camera(self, name: str) -> Any: ...
    async def add_camera(self, name: str, config: Any) -> CameraStateLike: ...
    async def remove_camera(self, name: str) -> None: ...
    async def latest_jpeg(self, name: str, quality: int = 80) -> bytes | None: ...


def service_of(request: Request) -> ServiceLike:
    service: ServiceLike = request.app.state.service
    return service


def hub_of(request: Request) -> Any:
    """The ApiHub (typed Any here to keep this module free of import cycles)."""
    return request.app.state.api
