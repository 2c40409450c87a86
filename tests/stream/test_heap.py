"""The heap trimmer hands free C heap pages back to the system (stream/heap.py)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from stream import metrics
from stream.config import ServiceConfig
from stream.heap import HeapTrimmer, malloc_trim, resident_bytes, trim_once

needs_trim = pytest.mark.skipif(
    malloc_trim() is None or resident_bytes() is None,
    reason="needs glibc's malloc_trim and /proc (Linux with glibc)",
)


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
