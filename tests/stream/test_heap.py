"""The heap trimmer hands free C heap pages back to the system (stream/heap.py)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stream import metrics
from stream.config import ServiceConfig
from stream.heap import (
    HeapTrimmer,
    fix_mmap_threshold,
    limit_arenas,
    malloc_info,
    malloc_trim,
    resident_bytes,
    trim_once,
    tune_allocator,
)

needs_trim = pytest.mark.skipif(
    malloc_trim() is None or resident_bytes() is None,
    reason="needs glibc's malloc_trim and /proc (Linux with glibc)",
)


def _mapped_bytes() -> int | None:
    """Bytes of blocks the C heap serves with mappings of their own (glibc's mallinfo2)."""
    info = malloc_info()
    return None if info is None else info["hblkhd"]


def _value(counter: object) -> float:
    return float(counter._value.get())  # type: ignore[attr-defined]


@needs_trim
def test_trim_gives_back_pages_freed_between_live_blocks() -> None:
    trim = malloc_trim()
    assert trim is not None
    trim_once(trim)  # start from a trimmed heap
    rng = np.random.default_rng(0)
    # Blocks of changing sizes under the mmap threshold, as a detector's windows are;
    # every tenth stays alive, so the freed ones are holes the heap cannot shrink past.
    blocks = [np.ones(int(rng.integers(8_000, 14_000)), np.float64) for _ in range(3000)]
    keep = blocks[::10]
    del blocks
    before = resident_bytes()
    trims, released_total = _value(metrics.HEAP_TRIMS), _value(metrics.HEAP_RELEASED)
    released = trim_once(trim)
    after = resident_bytes()
    assert before is not None and after is not None
    # About 3000 * 0.9 * 88 kB = 240 MB were freed; most of it must go back.
    assert released > 100 * 2**20, f"only {released / 2**20:.1f} MB released"
    assert before - after > 100 * 2**20
    assert _value(metrics.HEAP_TRIMS) == trims + 1
    assert _value(metrics.HEAP_RELEASED) == released_total + released
    assert len(keep) == 300


@needs_trim
async def test_trimmer_runs_every_interval_until_stopped() -> None:
    trimmer = HeapTrimmer(0.05)
    before = _value(metrics.HEAP_TRIMS)
    trimmer.start()
    assert trimmer.active
    await asyncio.sleep(0.4)
    await trimmer.stop()
    assert not trimmer.active
    ran = _value(metrics.HEAP_TRIMS) - before
    assert ran >= 3
    await asyncio.sleep(0.15)
    assert _value(metrics.HEAP_TRIMS) - before == ran  # stopped means stopped


async def test_interval_zero_never_trims() -> None:
    trimmer = HeapTrimmer(0)
    trimmer.start()
    assert not trimmer.active
    await trimmer.stop()


def test_config_default_and_bounds() -> None:
    assert ServiceConfig().pipeline.heap_trim_s == 60.0
    with pytest.raises(ValueError, match="heap_trim_s"):
        ServiceConfig.model_validate({"pipeline": {"heap_trim_s": -1}})


def test_metrics_show_the_process_memory() -> None:
    text = metrics.render()[0].decode()
    if resident_bytes() is not None:
        assert "platewatch_process_resident_memory_bytes" in text
    assert "platewatch_heap_trims_total" in text


#: Run in a fresh process, so no free block left in the heap by other tests can serve it.
_THRESHOLD_PROBE = """
import sys
import numpy as np
from stream.heap import fix_mmap_threshold
from tests.stream.test_heap import _mapped_bytes
big = np.ones(1 << 20, np.float64)  # 8 MB, mapped; freeing it raises the moving threshold
del big
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold(256)
before = _mapped_bytes()
block = np.ones(75_000, np.float64)  # 600 kB
during = _mapped_bytes()
del block
print(before, during, _mapped_bytes())
"""


def _probe(mode: str) -> tuple[int, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _THRESHOLD_PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()
    before, during, after = (int(v) for v in out)
    return before, during, after


@pytest.mark.skipif(_mapped_bytes() is None, reason="needs glibc 2.33+ (mallinfo2)")
def test_fixed_threshold_maps_blocks_the_moving_one_would_not() -> None:
    # Freeing an 8 MB mapped block raises glibc's moving threshold to 8 MB: from then on a
    # 600 kB block comes from the arenas. With the threshold fixed at 256 kB it is mapped
    # on its own, and given back when freed.
    before, during, after = _probe("moving")
    assert during == before
    before, during, after = _probe("fixed")
    assert during - before >= 600_000
    assert after == before


def test_threshold_zero_leaves_the_default() -> None:
    assert not fix_mmap_threshold(0)


#: Four threads alive at once, each allocating C heap blocks; glibc's malloc_stats then
#: prints one "Arena N:" section per arena to stderr.
_ARENA_PROBE = """
import ctypes, sys, threading
import numpy as np
from stream.heap import limit_arenas
if sys.argv[1] != "0":
    assert limit_arenas(int(sys.argv[1]))
ready = threading.Barrier(5)
done = threading.Event()
def work():
    blocks = [np.ones(1000 + i) for i in range(50)]  # 8 kB blocks: from an arena
    ready.wait()
    done.wait()
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
ready.wait()
ctypes.CDLL(None).malloc_stats()
done.set()
for t in threads:
    t.join()
"""


def _arenas(limit: int) -> int:
    err = subprocess.run(
        [sys.executable, "-c", _ARENA_PROBE, str(limit)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stderr
    return sum(line.startswith("Arena ") for line in err.splitlines())


@pytest.mark.skipif(_mapped_bytes() is None, reason="needs glibc 2.33+ (malloc_stats, mallopt)")
def test_arena_limit_makes_threads_share() -> None:
    # By default each of the four threads gets an arena of its own (glibc allows eight a
    # core); capped at 2, the main thread's and one more are all there are.
    assert _arenas(0) >= 5
    assert _arenas(2) == 2
    assert not limit_arenas(0)


def test_arena_default_and_bounds() -> None:
    assert ServiceConfig().pipeline.heap_arenas == 2
    with pytest.raises(ValueError, match="heap_arenas"):
        ServiceConfig.model_validate({"pipeline": {"heap_arenas": -1}})


def test_allocator_settings_are_applied_once(caplog: pytest.LogCaptureFixture) -> None:
    # `platewatch serve` sets them before the models load, and the service's start asks
    # again with the same values: the second time does nothing (and logs nothing).
    tune_allocator(256, 2)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="stream.heap"):
        tune_allocator(256, 2)
    assert not caplog.records
