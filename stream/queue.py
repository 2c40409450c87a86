"""A bounded frame queue that drops the OLDEST item when full, and counts every drop.

A live camera must never wait for the pipeline: when detection falls behind, the newest
frame is the one worth keeping, so the oldest waiting frame makes room for it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from platewatch.errors import PlatewatchError

T = TypeVar("T")


class QueueSizeError(PlatewatchError, ValueError):
    """A queue was asked to hold fewer than one item."""


class DropOldestQueue(Generic[T]):
    """FIFO of at most ``maxsize`` items; ``put`` never blocks.

    on_drop: called with each dropped item (for metrics), on the caller's thread.
    Single event loop only: put/get are not thread-safe.
    """

    def __init__(self, maxsize: int, on_drop: Callable[[T], None] | None = None) -> None:
        if maxsize < 1:
            raise QueueSizeError(f"queue size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.dropped = 0
        self._items: deque[T] = deque()
        self._on_drop = on_drop
        self._ready = asyncio.Event()
        #: Called after every put (the pipeline's scheduler listens here).
        self.on_put: Callable[[], None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> T | None:
        """Append ``item``; return the item dropped to make room, or None."""
        dropped = None
        if len(self._items) >= self.maxsize:
            dropped = self._items.popleft()
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(dropped)
        self._items.append(item)
        self._ready.set()
        if self.on_put is not None:
            self.on_put()
        return dropped

    def get_nowait(self) -> T | None:
        """The oldest item, or None when empty."""
        if not self._items:
            return None
        item = self._items.popleft()
        if not self._items:
            self._ready.clear()
        return item

    async def get(self) -> T:
        """Wait for, then return, the oldest item."""
        while True:
            item = self.get_nowait()
            if item is not None:
                return item
            await self._ready.wait()

    def clear(self) -> int:
        """Empty the queue (not counted as drops); return how many items were removed."""
        n = len(self._items)
        self._items.clear()
        self._ready.clear()
        return n
