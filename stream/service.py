"""The live service: every configured camera, one pipeline, one store writer, hooks.

>>> service = Service(config, Components(detector, embedder, sink))
>>> await service.start(); ...; await service.stop()

The HTTP API works through the methods here: camera states, add/remove a camera at run
time, the latest frame as JPEG, the store and the embedder, ``on_view`` hooks handed
each open track's new best view as soon as it is embedded, and ``on_sighting`` hooks
called after each sighting is stored (the watchlist plugs into both: it alerts early,
and links the stored sighting to the alerts of its track).
"""

from __future__ import annotations

# aiortc before anything that may load TensorFlow (TRAPS.md 1): see stream/sources/whip.py.
from stream.sources.whip import WhipHub  # isort: skip

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import cv2

from model.protocols import Detector, Embedder
from platewatch.errors import PlatewatchError
from stream import metrics
from stream.camera import CameraRunner, CameraState
from stream.config import CameraConfig, ServiceConfig, WhipSource
from stream.heap import HeapTrimmer
from stream.pipeline import Pipeline
from stream.sink import SightingSink
from stream.sources import create_source
from stream.tracking import PassingPlate, Tracker, TrackView

log = logging.getLogger(__name__)

#: Seconds before a failed store write is tried again (once).
STORE_RETRY_S = 1.0

#: An async callback run after each sighting is stored, with the store's sighting and
#: the passing plate it was made from (``plate.track`` names the pass).
SightingHook = Callable[[Any, PassingPlate], Awaitable[None]]

#: A callback handed the new best views of open tracks, on the event loop: it must
#: not block (hand the work to a thread of its own).
ViewHook = Callable[[Sequence[TrackView]], None]


class CameraError(PlatewatchError, KeyError):
    """A camera name is unknown, or already taken; the message lists the cameras."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Components:
    """The heavy parts the service runs, built by stream.assemble (or by a test)."""

    detector: Detector
    embedder: Embedder
    sink: SightingSink


class Service:
    """Runs cameras into the pipeline and stored sightings out to the hooks."""

    def __init__(self, config: ServiceConfig, components: Components) -> None:
        self.config = config
        self.components = components
        self.whip = WhipHub()
        self.pipeline = Pipeline(
            (components.detector, components.embedder),
            Tracker(config.tracking),
            config.pipeline,
            self._enqueue,
            self._show,
        )
        self._cameras: dict[str, CameraRunner] = {}
        self._hooks: list[SightingHook] = []
        self._view_hooks: list[ViewHook] = []
        self._to_store: asyncio.Queue[list[PassingPlate]] = asyncio.Queue()
        self._store_pool = ThreadPoolExecutor(1, thread_name_prefix="store")  # one writer
        self._writer: asyncio.Task[None] | None = None
        self._pending = 0  # batches handed to the writer and not yet stored
        heap = config.pipeline
        self.heap = HeapTrimmer(heap.heap_trim_s, heap.heap_mmap_kb, heap.heap_arenas)
        self.cluster: Any = None  # stream.cluster.LeaseKeeper in cluster mode
        self.started = False

    # --- what the API uses ------------------------------------------------------------

    @property
    def store(self) -> Any:
        """The store object (store.open_store's result) sightings are written to."""
        return self.components.sink.store

    @property
    def embedder(self) -> Embedder:
        return self.components.embedder

    def on_sighting(self, hook: SightingHook) -> None:
        """Register ``hook``; it is awaited with each stored sighting and its passing
        plate, in storing order."""
        self._hooks.append(hook)

    def on_view(self, hook: ViewHook) -> None:
        """Register ``hook``; it is called with each batch of new best views of open
        tracks, as soon as they are embedded (before their tracks close)."""
        self._view_hooks.append(hook)

    def camera_states(self) -> list[CameraState]:
        return [runner.state() for runner in self._cameras.values()]

    def camera(self, name: str) -> CameraRunner:
        runner = self._cameras.get(name)
        if runner is None:
            known = ", ".join(sorted(self._cameras)) or "none"
            raise CameraError(f"no camera {name!r}; cameras: {known}")
        return runner

    async def add_camera(self, name: str, config: CameraConfig) -> CameraState:
        """Start a camera now. Raises CameraError if the name is taken."""
        if name in self._cameras:
            raise CameraError(f"camera {name!r} exists already; remove it first")
        runner = CameraRunner(name, config, lambda: create_source(name, config, self.whip))
        self._cameras[name] = runner
        self.pipeline.scheduler.add(name, runner.queue)
        if isinstance(config.source, WhipSource):
            self.whip.allow(name)  # a publisher may knock before the runner first runs
        if config.enabled:
            runner.start()
        else:
            await runner.stop()  # configured but switched off: shown as stopped
        return runner.state()

    async def remove_camera(self, name: str) -> None:
        """Stop a camera; its open tracks are closed and stored. Raises CameraError."""
        runner = self.camera(name)
        await runner.stop()
        await self.whip.forbid(name)
        self.pipeline.scheduler.remove(name)
        del self._cameras[name]
        closed = self.pipeline.tracker.flush(name)
        if closed:
            await self._enqueue(closed)
        metrics.forget_camera(name)

    async def latest_jpeg(self, name: str, quality: int = 80) -> bytes | None:
        """The camera's most recent frame as JPEG bytes, or None before its first frame."""
        frame = self.camera(name).latest
        if frame is None:
            return None

        def encode() -> bytes:
            ok, buf = cv2.imencode(".jpg", frame.pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
            return buf.tobytes() if ok else b""

        return await asyncio.to_thread(encode)

    # --- storing ------------------------------------------------------------------------

    def _show(self, views: list[TrackView]) -> None:
        for hook in self._view_hooks:
            try:
                hook(views)
            except Exception:  # one broken hook must not stop the others
                log.exception("on_view hook %r failed", hook)

    async def _enqueue(self, plates: list[PassingPlate]) -> None:
        self._pending += 1
        await self._to_store.put(plates)

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        sink = self.components.sink
        while True:
            plates = await self._to_store.get()
            try:
                stored = await loop.run_in_executor(self._store_pool, sink.add, plates)
            except Exception:
                metrics.STORE_ERRORS.inc()
                log.warning("storing %d sightings failed; retrying once", len(plates))
                await asyncio.sleep(STORE_RETRY_S)
                try:
                    stored = await loop.run_in_executor(self._store_pool, sink.add, plates)
                except Exception:
                    metrics.STORE_ERRORS.inc()
                    log.exception("storing %d sightings failed again; dropped", len(plates))
                    self._pending -= 1
                    continue
            done = time.monotonic()
            for plate in plates:
                metrics.END_TO_END_SECONDS.observe(done - plate.arrived)
                metrics.SIGHTINGS_STORED.labels(plate.camera).inc()
            metrics.INDEX_SIZE.set(sink.index_size())
            self._pending -= 1
            await self._run_hooks(stored, plates)

    async def _run_hooks(self, sightings: Sequence[Any], plates: Sequence[PassingPlate]) -> None:
        for sighting, plate in zip(sightings, plates, strict=True):
            for hook in self._hooks:
                try:
                    await hook(sighting, plate)
                except Exception:  # one broken hook must not stop storing
                    metrics.HOOK_ERRORS.inc()
                    log.exception("on_sighting hook %r failed", hook)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every closed track handed over so far has been stored."""
        async with asyncio.timeout(timeout):
            while self._pending:
                await asyncio.sleep(0.02)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer, the pipeline, and every configured camera."""
        metrics.INDEX_SIZE.set(self.components.sink.index_size())
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")
        self.pipeline.start()
        self.heap.start()
        cluster = self.config.section("cluster")
        if cluster is not None and getattr(cluster, "enabled", False):
            # Cameras shared with other processes: the keeper starts those this one holds.
            from stream.cluster import ClusterConfig, LeaseKeeper

            self.cluster = LeaseKeeper(self, cast(ClusterConfig, cluster))
            await self.cluster.start()
        else:
            for name, camera in self.config.cameras.items():
                await self.add_camera(name, camera)
        self.started = True
        log.info("service running %d cameras", len(self._cameras))

    async def stop(self) -> None:
        """Stop cameras, close open tracks into sightings, store them, close the store."""
        if self.cluster is not None:
            await self.cluster.stop()  # its cameras first, then its leases handed back
        # Together: a network camera may take up to its read timeout to let go.
        await asyncio.gather(*(runner.stop() for runner in self._cameras.values()))
        await self.pipeline.stop()
        await self.heap.stop()
        await self.whip.close()
        with contextlib.suppress(TimeoutError):
            await self.drain()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await asyncio.get_running_loop().run_in_executor(
            self._store_pool, self.components.sink.close
        )
        self._store_pool.shutdown(wait=True)
        self.started = False
