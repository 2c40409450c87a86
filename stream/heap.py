"""Keep the C heap from creeping: large blocks mapped on their own, free pages handed back.

A live camera's changed frames are searched only where they moved, so the detector's
buffers change size with every frame. glibc's allocator serves large blocks (at least
``M_MMAP_THRESHOLD`` bytes) with a mapping of their own, given back when freed, and smaller
ones from its arenas. By default that threshold moves: each freed mapped block raises it
to the block's size (up to 32 MB), so after the first decoded 1280x720 frame (2.7 MB) is
freed, every frame and every window buffer comes from the arenas, and with ever-changing
sizes the free pieces pile up between live ones. Measured on 40-minute soaks of
``platewatch serve`` (2 RTSP cameras; glibc's ``mallinfo2`` read every minute): without a
fixed threshold the memory in use stayed at about 205 MB while the free memory held in the
arenas rose from 15 to 33 MB, resident memory with it (slope +9.7 MB/h after warm-up);
with the threshold fixed at 256 kB the arenas held 155-158 MB with 6-8 MB free and the
slope was +4.1 MB/h, most of it memory in use (148.4 to 150.0 MB over minutes 10-38;
the vector index and the readings held in memory grow with every stored sighting).

So the service fixes the threshold at start (``pipeline.heap_mmap_kb``, 256; 0 leaves
glibc's moving default) and still hands whole free pages inside the arenas back every
``pipeline.heap_trim_s`` seconds (``malloc_trim(0)``, off the event loop).

glibc also gives each new thread an arena of its own, up to eight per core: the service's
threads (camera readers, detector, embedder, the store writer, the HTTP server, and the
thread pools of onnxruntime and TensorFlow) each keep their own free pieces, which no
other thread's allocation can reuse. The service caps the arenas (``pipeline.heap_arenas``,
2; glibc's ``M_ARENA_MAX``) before it loads anything, so the threads share them. Where the
C library is not glibc (musl, macOS) none of this is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
from collections.abc import Callable

from stream import metrics

log = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def malloc_trim() -> Callable[[], int] | None:
    """glibc's ``malloc_trim(0)`` as a function returning 1 when memory was released, or
    None where the C library has none."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


#: glibc's mallopt parameter numbers (malloc.h).
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def _mallopt(param: int, value: int) -> bool:
    """glibc's ``mallopt``; False where there is none or it refused."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(param, value))


def fix_mmap_threshold(kb: int) -> bool:
    """Serve blocks of at least ``kb`` kB with mappings of their own, always (glibc's
    ``mallopt(M_MMAP_THRESHOLD)``, which also stops the threshold moving). True when set;
    False where there is no glibc or ``kb`` is 0."""
    return kb > 0 and _mallopt(M_MMAP_THRESHOLD, kb * 1024)


def limit_arenas(count: int) -> bool:
    """Let threads share at most ``count`` malloc arenas (glibc's ``mallopt(M_ARENA_MAX)``).
    Threads that already hold an arena keep it, so call this before threads start. True
    when set; False where there is no glibc or ``count`` is 0 (glibc's default: eight a core)."""
    return count > 0 and _mallopt(M_ARENA_MAX, count)


@functools.cache
def tune_allocator(mmap_kb: int, arenas: int) -> None:
    """Both settings at once, logged: what ``platewatch serve`` does before it loads the models.
    They hold for the whole process, so the same settings again (the service's start, after
    the command set them) do nothing."""
    if limit_arenas(arenas):
        log.info("C heap: threads share at most %d malloc arenas", arenas)
    if fix_mmap_threshold(mmap_kb):
        log.info("C heap: blocks of %d kB and more mapped on their own", mmap_kb)


#: glibc's ``struct mallinfo2`` (malloc.h), every field a size_t.
_MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
              "uordblks", "fordblks", "keepcost")  # fmt: skip


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


def malloc_info() -> dict[str, int] | None:
    """glibc's ``mallinfo2`` (bytes): ``uordblks`` in use and ``fordblks`` free inside the
    arenas, ``hblkhd`` in blocks with a mapping of their own, and the rest of its fields;
    None where there is none (not glibc, or older than 2.33)."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return {name: int(getattr(info, name)) for name in _MALLINFO2}


def resident_bytes() -> int | None:
    """This process's resident memory, from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def trim_once(trim: Callable[[], int]) -> int:
    """Trim the heap; the resident bytes that went back to the system (0 when unknown)."""
    before = resident_bytes()
    trim()
    after = resident_bytes()
    released = max(before - after, 0) if before is not None and after is not None else 0
    metrics.HEAP_TRIMS.inc()
    metrics.HEAP_RELEASED.inc(released)
    return released


class HeapTrimmer:
    """Sets the allocator (:func:`tune_allocator`: ``mmap_kb``, ``arenas``) at start, then
    calls :func:`trim_once` every ``every_s`` seconds on a worker thread until stopped."""

    def __init__(self, every_s: float, mmap_kb: int = 256, arenas: int = 2) -> None:
        self.every_s = every_s
        self.mmap_kb = mmap_kb
        self.arenas = arenas
        self._trim = malloc_trim()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        tune_allocator(self.mmap_kb, self.arenas)
        if self.every_s <= 0:
            return
        if self._trim is None:
            log.info("no malloc_trim in this C library: the heap is not trimmed")
            return
        self._task = asyncio.create_task(self._loop(), name="heap-trim")

    async def _loop(self) -> None:
        trim = self._trim
        assert trim is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.every_s)
            released = await loop.run_in_executor(None, trim_once, trim)
            log.debug("heap trimmed: %.1f MB back to the system", released / 2**20)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
