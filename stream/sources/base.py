"""What every camera source is, and the thread-to-loop handoff the decoding ones share."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from model.types import Frame
from platewatch.errors import PlatewatchError


class SourceError(PlatewatchError, ConnectionError):
    """A camera could not be opened or stopped delivering; the message says which and why."""


class FrameSource(Protocol):
    """An async iterator of frames from one camera; ending means the camera stopped.

    finite: True when an end is normal (a file, a folder) and needs no reconnect.
    waits_for_publisher: True when frames come only once someone publishes (WHIP): the
    wait for the first frame is then not a failure.
    """

    finite: bool
    waits_for_publisher: bool

    def __aiter__(self) -> AsyncIterator[Frame]: ...

    async def close(self) -> None:
        """Stop reading and release the connection; safe to call twice."""
        ...


_END = object()


class Handoff:
    """Frames from a decoding thread to the event loop.

    live: when the loop falls behind, the oldest waiting frame is dropped (``on_drop``
    counts it) so the decoder never stalls a network stream; otherwise (a file read as
    fast as it is consumed) the thread waits for room.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        live: bool,
        size: int = 2,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        self._loop = loop
        self._live = live
        self._items: deque[object] = deque()
        self._size = size
        self._on_drop = on_drop
        self._room = threading.Condition()
        self._ready = asyncio.Event()
        self.stopped = threading.Event()

    def _wake(self) -> None:
        self._ready.set()

    def put(self, frame: Frame) -> None:
        """Called on the decoding thread."""
        with self._room:
            if self._live:
                if len(self._items) >= self._size:
                    self._items.popleft()
                    if self._on_drop is not None:
                        self._on_drop()
            else:
                while len(self._items) >= self._size and not self.stopped.is_set():
                    self._room.wait(0.1)
            self._items.append(frame)
        self._loop.call_soon_threadsafe(self._wake)

    def finish(self, error: BaseException | None = None) -> None:
        """Called on the decoding thread when it ends, with the error that ended it."""
        with self._room:
            self._items.append(error if error is not None else _END)
        self._loop.call_soon_threadsafe(self._wake)

    async def get(self) -> Frame | None:
        """The next frame; None at a normal end; raises the decoder's error."""
        while True:
            with self._room:
                item = self._items.popleft() if self._items else None
                self._room.notify_all()
                if not self._items:
                    self._ready.clear()
            if item is _END:
                return None
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, Frame):
                return item
            await self._ready.wait()
