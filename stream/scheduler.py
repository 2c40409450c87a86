"""Fair hand-out of queued frames from many cameras to the detection workers.

Cameras take turns (round robin), and a camera has at most one frame in detection at a
time, so its frames reach the tracker in order and a busy camera cannot starve the rest.
"""

from __future__ import annotations

import asyncio
from collections import deque

from stream.camera import Arrival
from stream.queue import DropOldestQueue


class FrameScheduler:
    def __init__(self) -> None:
        self._queues: dict[str, DropOldestQueue[Arrival]] = {}
        self._order: deque[str] = deque()
        self._busy: set[str] = set()
        self._wake = asyncio.Event()

    def add(self, camera: str, queue: DropOldestQueue[Arrival]) -> None:
        self._queues[camera] = queue
        self._order.append(camera)
        queue.on_put = self._wake.set
        self._wake.set()

    def remove(self, camera: str) -> None:
        queue = self._queues.pop(camera, None)
        if queue is not None:
            queue.on_put = None
            self._order.remove(camera)

    def _take(self) -> Arrival | None:
        for _ in range(len(self._order)):
            camera = self._order[0]
            self._order.rotate(-1)
            if camera in self._busy:
                continue
            item = self._queues[camera].get_nowait()
            if item is not None:
                self._busy.add(camera)
                return item
        return None

    async def next(self) -> Arrival:
        """The next frame to detect; call :meth:`done` with its camera when finished."""
        while True:
            item = self._take()
            if item is not None:
                return item
            self._wake.clear()
            await self._wake.wait()

    def done(self, camera: str) -> None:
        self._busy.discard(camera)
        self._wake.set()
