"""Run the service and its HTTP server in one asyncio process until interrupted."""

from __future__ import annotations

# aiortc before TensorFlow (TRAPS.md 1): the service module imports it.
from stream.service import Service  # isort: skip

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from stream.app import create_app
from stream.assemble import build_components, data_dir
from stream.config import ServiceConfig

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once it has shut down, which would end the process
    before the service stores its open tracks and hands back its camera leases; here the
    signal only stops the server, and the process then closes down in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


async def serve(
    config: ServiceConfig, data: Path, port: int, announce: Callable[[str], None]
) -> None:
    """Build the components (on a thread), start the service, serve HTTP until stopped."""
    components = await asyncio.to_thread(build_components, config, data)
    service = Service(config, components)
    app = create_app(service)
    server = _Server(uvicorn.Config(app, host=config.http.host, port=port, log_level="warning"))
    await service.start()
    try:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            announce(
                f"platewatch serving {len(config.cameras)} camera(s) at "
                f"http://{config.http.host}:{port}  (data: {data})"
            )
        await serving
    finally:
        await service.stop()


def run_service(
    config: ServiceConfig,
    data: str | Path | None,
    port: int | None,
    announce: Callable[[str], None],
) -> int:
    """The ``serve`` and ``demo`` commands: returns the exit status.

    announce: called once with a line saying where the service listens.
    """
    folder = data_dir(data, config)
    chosen = port if port is not None else config.http.port
    try:
        asyncio.run(serve(config, folder, chosen, announce))
    except KeyboardInterrupt:
        return 130
    return 0
