"""The live alert feed behind ``/api/alerts/stream`` (Server-Sent Events).

Each listener gets its own bounded queue; a slow browser tab loses its oldest alerts
(and is told how many) instead of holding memory or slowing the others down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import suppress

from stream.alerts.types import Alert


def sse_event(event: str, data: object, event_id: str | None = None) -> bytes:
    """One Server-Sent Events message: ``event:``, optional ``id:``, one ``data:`` line."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
    return (head + f"data: {json.dumps(data, separators=(',', ':'))}\n\n").encode()


class LiveFeed:
    """Fan-out of alerts to the connected listeners; ``publish`` never blocks.

    Call ``publish`` from the event loop that runs the listeners (use
    ``loop.call_soon_threadsafe`` from a worker thread).
    """

    def __init__(self, queue_size: int = 256) -> None:
        self._size = queue_size
        self._listeners: set[asyncio.Queue[Alert]] = set()
        self.dropped = 0

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def publish(self, alert: Alert) -> None:
        for queue in self._listeners:
            if queue.full():
                with suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(alert)

    async def events(self, keepalive_s: float = 15.0) -> AsyncIterator[bytes]:
        """SSE bytes for one listener: a ``ready`` event, then each alert as ``alert``;
        a comment line every ``keepalive_s`` keeps proxies from closing the connection."""
        queue: asyncio.Queue[Alert] = asyncio.Queue(self._size)
        self._listeners.add(queue)
        try:
            yield sse_event("ready", {"listeners": len(self._listeners)})
            while True:
                try:
                    alert = await asyncio.wait_for(queue.get(), keepalive_s)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                yield sse_event("alert", alert.payload(), str(alert.id))
        finally:
            self._listeners.discard(queue)
