"""One camera's life: connect, sample, gate on motion, queue, reconnect with backoff.

A runner never waits for the pipeline: kept frames go into a DropOldestQueue, and a slow
or dead camera only ever delays itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from model.detect.motion import MotionGate, MotionOptions
from model.types import Frame
from stream import metrics
from stream.config import CameraConfig, ReconnectSettings
from stream.queue import DropOldestQueue
from stream.sources.base import FrameSource

log = logging.getLogger(__name__)


class CameraStatus(enum.StrEnum):
    STARTING = "starting"
    UP = "up"
    RECONNECTING = "reconnecting"
    DOWN = "down"
    ENDED = "ended"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Arrival:
    """A frame kept for detection and when it arrived (time.monotonic(), seconds)."""

    frame: Frame
    arrived: float


@dataclass(frozen=True)
class CameraState:
    """What the API shows of a camera. since: when the status last changed (UTC)."""

    name: str
    status: CameraStatus
    since: datetime
    failures: int
    frames_received: int
    frames_queued: int
    frames_dropped: int
    queue_depth: int
    last_error: str | None


def backoff_delay(failures: int, settings: ReconnectSettings) -> float:
    """Seconds to wait after ``failures`` failures in a row (>= 1): grows by ``factor``."""
    return float(min(settings.max_s, settings.initial_s * settings.factor ** max(0, failures - 1)))


class CameraRunner:
    """Runs one camera until stopped. ``queue`` receives the frames worth detecting."""

    def __init__(
        self,
        name: str,
        config: CameraConfig,
        open_source: Callable[[], FrameSource],
    ) -> None:
        self.name = name
        self.config = config
        self.queue: DropOldestQueue[Arrival] = DropOldestQueue(
            config.queue_size, on_drop=lambda _f: metrics.FRAMES_DROPPED.labels(name).inc()
        )
        self.latest: Frame | None = None
        self._open_source = open_source
        motion = config.motion
        self._gate = MotionGate(
            MotionOptions(motion.width, motion.threshold, motion.min_area, motion.margin)
        )
        self._status = CameraStatus.STARTING
        self._since = datetime.now(UTC)
        self._failures = 0
        self._received = 0
        self._queued = 0
        self._last_kept: datetime | None = None
        self._last_error: str | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        metrics.CAMERA_UP.labels(name).set(0)

    # --- status ---------------------------------------------------------------------

    @property
    def status(self) -> CameraStatus:
        return self._status

    def _set_status(self, status: CameraStatus) -> None:
        if status != self._status:
            log.info("camera %s: %s -> %s", self.name, self._status, status)
            self._status = status
            self._since = datetime.now(UTC)
            self._changed.set()
        metrics.CAMERA_UP.labels(self.name).set(1 if status == CameraStatus.UP else 0)

    async def wait_for(self, status: CameraStatus, timeout: float) -> None:
        """Wait until the camera reaches ``status``; raises TimeoutError after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while self._status != status:
                self._changed.clear()
                await self._changed.wait()

    def state(self) -> CameraState:
        return CameraState(
            name=self.name,
            status=self._status,
            since=self._since,
            failures=self._failures,
            frames_received=self._received,
            frames_queued=self._queued,
            frames_dropped=self.queue.dropped,
            queue_depth=len(self.queue),
            last_error=self._last_error,
        )

    # --- frames ---------------------------------------------------------------------

    def _keep(self, frame: Frame) -> Frame | None:
        """Sampling at ``sample_fps`` (by frame time), then the motion gate: the frame to
        detect on (with the regions that moved, when the gate is set to name them), or
        None when it is left out."""
        last = self._last_kept
        if last is not None:
            gap = (frame.time - last).total_seconds()
            # A small tolerance so a 5 fps camera sampled at 5 fps keeps every frame.
            if 0 <= gap < 0.9 / self.config.sample_fps:
                metrics.FRAMES_SKIPPED.labels(self.name, "sampling").inc()
                return None
        self._last_kept = frame.time
        motion = self.config.motion
        if not motion.enabled:
            return frame
        # The gate works on a 160-pixel thumbnail (~0.1 ms): cheap enough for the loop.
        verdict = self._gate.check(frame)
        if not verdict.changed:
            metrics.FRAMES_SKIPPED.labels(self.name, "motion").inc()
            return None
        if motion.regions and verdict.regions:
            return replace(frame, regions=verdict.regions)
        return frame

    def _accept(self, frame: Frame) -> None:
        self._received += 1
        self.latest = frame
        metrics.FRAMES_DECODED.labels(self.name).inc()
        kept = self._keep(frame)
        if kept is not None:
            self._queued += 1
            self.queue.put(Arrival(kept, time.monotonic()))
            metrics.FRAMES_QUEUED.labels(self.name).inc()
        metrics.QUEUE_DEPTH.labels(self.name).set(len(self.queue))

    async def _read(self, source: FrameSource) -> None:
        """Read one connection until it ends; raises on failure or timeout."""
        iterator = source.__aiter__()
        first_timeout = None if source.waits_for_publisher else self.config.open_timeout_s
        timeout = first_timeout
        got_frame = False
        while True:
            try:
                async with asyncio.timeout(timeout):
                    frame = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError:
                what = "read" if got_frame else "open"
                raise TimeoutError(f"no frame within the {what} timeout of {timeout} s") from None
            if self._status != CameraStatus.UP:
                self._failures = 0
                self._last_error = None
                self._set_status(CameraStatus.UP)
            timeout = self.config.read_timeout_s
            got_frame = True
            self._accept(frame)

    async def run(self) -> None:
        """Connect, read, and on failure reconnect with exponential backoff, forever."""
        settings = self.config.reconnect
        while True:
            source = self._open_source()
            if source.waits_for_publisher and self._status != CameraStatus.RECONNECTING:
                self._set_status(CameraStatus.DOWN)  # until someone publishes
            try:
                await self._read(source)
                if source.finite:
                    self._set_status(CameraStatus.ENDED)
                    return
                error = "the stream ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of a camera is that camera's alone
                error = str(exc) or type(exc).__name__
            finally:
                with contextlib.suppress(Exception):
                    await source.close()
            self._failures += 1
            self._last_error = error
            metrics.CAMERA_RECONNECTS.labels(self.name).inc()
            down = self._failures >= settings.down_after or source.waits_for_publisher
            self._set_status(CameraStatus.DOWN if down else CameraStatus.RECONNECTING)
            self._gate.reset()
            delay = 0.0 if source.waits_for_publisher else backoff_delay(self._failures, settings)
            log.warning("camera %s: %s; retrying in %.1f s", self.name, error, delay)
            await asyncio.sleep(delay)

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._guarded(), name=f"camera-{self.name}")

    async def _guarded(self) -> None:
        started = time.monotonic()
        try:
            await self.run()
        finally:
            log.debug("camera %s ran %.1f s", self.name, time.monotonic() - started)

    async def stop(self) -> None:
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_status(CameraStatus.STOPPED)
        metrics.QUEUE_DEPTH.labels(self.name).set(0)
