"""Detect -> crop -> embed (batched across cameras) -> track, off the event loop.

Detection runs on ``detect_workers`` threads, embedding on one thread in batches that
gather crops from every camera; TensorFlow and onnxruntime release the GIL, so the event
loop stays free for cameras and HTTP. A plate the detector read keeps that reading and is
not read a second time by the embedder's reader. Closed tracks are handed to ``emit``; each
new best view of an open track, as soon as it is embedded, to ``show`` (early alerts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from model.detect.crops import cut_crops
from model.protocols import Detector, Embedder
from model.types import Embeddings, PlateCrops
from stream import metrics
from stream.camera import Arrival
from stream.config import PipelineConfig
from stream.scheduler import FrameScheduler
from stream.tracking import PassingPlate, Tracker, TrackView

log = logging.getLogger(__name__)

#: How often tracks of cameras that went quiet are checked for closing (seconds).
SWEEP_S = 0.25


@dataclass(frozen=True)
class Detected:
    """A frame with its plate crops, waiting for embedding."""

    arrival: Arrival
    crops: PlateCrops


def _no_embeddings(dim: int) -> Embeddings:
    return Embeddings(np.zeros((0, dim), np.float32), [], np.zeros((0,), np.float32))


def _no_crops() -> PlateCrops:
    return PlateCrops([], np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))


def _detector_readings(
    crops: list[PlateCrops],
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """The detector's readings of every crop of a batch, in order ("" and 0 where it did
    not read)."""
    texts: list[str] = []
    confidences: list[npt.NDArray[np.float32]] = []
    for c in crops:
        if c.readings is None or c.read_confidences is None:
            texts += [""] * len(c)
            confidences.append(np.zeros(len(c), np.float32))
        else:
            texts += c.readings
            confidences.append(c.read_confidences)
    return texts, np.concatenate(confidences).astype(np.float32)


def _split(embeddings: Embeddings, sizes: list[int]) -> list[Embeddings]:
    out, start = [], 0
    for n in sizes:
        sl = slice(start, start + n)
        out.append(
            Embeddings(embeddings.vectors[sl], embeddings.readings[sl], embeddings.confidences[sl])
        )
        start += n
    return out


class Pipeline:
    """Owns the worker threads and the tracker; ``emit`` receives closed tracks, ``show``
    (called on the event loop; it must not block) the open tracks' new best views."""

    def __init__(
        self,
        models: tuple[Detector, Embedder],
        tracker: Tracker,
        config: PipelineConfig,
        emit: Callable[[list[PassingPlate]], Awaitable[None]],
        show: Callable[[list[TrackView]], None] | None = None,
    ) -> None:
        self.detector, self.embedder = models
        self.tracker = tracker
        self.config = config
        self.scheduler = FrameScheduler()
        self._emit = emit
        self._show = show
        # Frames waiting for embedding hold their pixels: bounded, so a slow embedder
        # pushes back onto the cameras' drop-oldest queues instead of growing memory.
        self._detected: asyncio.Queue[Detected] = asyncio.Queue(maxsize=config.embed_batch)
        self._detect_pool = ThreadPoolExecutor(config.detect_workers, thread_name_prefix="detect")
        self._embed_pool = ThreadPoolExecutor(1, thread_name_prefix="embed")
        self._tasks: list[asyncio.Task[None]] = []

    # --- stages ---------------------------------------------------------------------

    def _detect(self, arrival: Arrival) -> PlateCrops:
        """On a detect thread: plate crops of one frame."""
        start = time.perf_counter()
        detections = self.detector.detect(arrival.frame)
        crops = cut_crops(arrival.frame, detections)
        metrics.DETECT_SECONDS.observe(time.perf_counter() - start)
        metrics.DETECTIONS.labels(arrival.frame.camera).inc(len(crops))
        return crops

    async def _detect_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            arrival = await self.scheduler.next()
            camera = arrival.frame.camera
            try:
                crops = await loop.run_in_executor(self._detect_pool, self._detect, arrival)
            except Exception:  # one bad frame must not stop the pipeline
                log.exception(
                    "camera %s: detection failed on frame %s", camera, arrival.frame.index
                )
                crops = _no_crops()
            try:
                await self._detected.put(Detected(arrival, crops))
            finally:
                self.scheduler.done(camera)

    async def _gather(self) -> list[Detected]:
        """A batch: at least one frame; up to ``embed_batch`` crops or ``embed_wait_ms``."""
        batch = [await self._detected.get()]
        crops = len(batch[0].crops)
        deadline = time.monotonic() + self.config.embed_wait_ms / 1000
        while crops < self.config.embed_batch:
            try:
                item = self._detected.get_nowait()
            except asyncio.QueueEmpty:
                left = deadline - time.monotonic()
                if crops == 0 or left <= 0:
                    break  # frames without plates need no batch to wait for
                try:
                    item = await asyncio.wait_for(self._detected.get(), left)
                except TimeoutError:
                    break
            batch.append(item)
            crops += len(item.crops)
        return batch

    def _embed(self, batch: list[Detected]) -> list[Embeddings]:
        """On the embed thread: one network call for every crop of the batch. Crops the
        detector already read keep its reading and are not read again."""
        images = [im for item in batch for im in item.crops.images]
        if not images:
            return [_no_embeddings(self.embedder.dim) for _ in batch]
        readings, confidences = _detector_readings([item.crops for item in batch])
        start = time.perf_counter()
        embeddings = self.embedder.embed_crops(images, readings, confidences)
        metrics.EMBED_SECONDS.observe(time.perf_counter() - start)
        metrics.EMBED_BATCH.observe(len(images))
        return _split(embeddings, [len(item.crops) for item in batch])

    async def _embed_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._gather()
            try:
                results = await loop.run_in_executor(self._embed_pool, self._embed, batch)
            except Exception:
                log.exception("embedding failed for a batch of %d frames", len(batch))
                results = [_no_embeddings(self.embedder.dim) for _ in batch]
                batch = [Detected(item.arrival, _no_crops()) for item in batch]
            closed: list[PassingPlate] = []
            for item, embeddings in zip(batch, results, strict=True):
                frame = item.arrival.frame
                closed += self.tracker.update(frame, item.crops, embeddings, item.arrival.arrived)
                metrics.FRAMES_PROCESSED.labels(frame.camera).inc()
            metrics.TRACKS_OPEN.set(self.tracker.open_tracks())
            views = self.tracker.take_views()
            if views and self._show is not None:
                try:
                    self._show(views)
                except Exception:  # early alerts failing must not stop the pipeline
                    log.exception("handing %d track views on failed", len(views))
            if closed:
                await self._emit(closed)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            closed = self.tracker.sweep(time.monotonic())
            metrics.TRACKS_OPEN.set(self.tracker.open_tracks())
            if closed:
                await self._emit(closed)

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        workers = [self._detect_loop() for _ in range(self.config.detect_workers)]
        for coro in [*workers, self._embed_loop(), self._sweep_loop()]:
            self._tasks.append(asyncio.create_task(coro))

    async def stop(self) -> None:
        """Stop the workers and close every open track (emitted before returning)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        closed = self.tracker.flush()
        if closed:
            await self._emit(closed)
        self._detect_pool.shutdown(wait=False, cancel_futures=True)
        self._embed_pool.shutdown(wait=False, cancel_futures=True)
