"""The frame queue drops the oldest item when full and counts every drop."""

from __future__ import annotations

import asyncio

import pytest

from stream.queue import DropOldestQueue, QueueSizeError


@pytest.mark.parametrize(
    ("size", "puts", "left", "dropped"),
    [
        (3, [1, 2], [1, 2], []),  # room for all: nothing dropped
        (3, [1, 2, 3], [1, 2, 3], []),  # exactly full
        (3, [1, 2, 3, 4, 5], [3, 4, 5], [1, 2]),  # the oldest go first
        (1, [1, 2, 3], [3], [1, 2]),  # size one keeps only the newest
    ],
)
async def test_drop_oldest(size: int, puts: list[int], left: list[int], dropped: list[int]) -> None:
    seen: list[int] = []
    queue: DropOldestQueue[int] = DropOldestQueue(size, on_drop=seen.append)
    returned = [queue.put(x) for x in puts]
    assert [r for r in returned if r is not None] == dropped == seen
    assert queue.dropped == len(dropped)
    assert [await queue.get() for _ in range(len(queue))] == left
    assert queue.get_nowait() is None


async def test_get_waits_for_a_put() -> None:
    queue: DropOldestQueue[str] = DropOldestQueue(2)
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    queue.put("frame")
    assert await asyncio.wait_for(waiter, 1) == "frame"


@pytest.mark.parametrize("size", [0, -1])
def test_size_must_be_positive(size: int) -> None:
    with pytest.raises(QueueSizeError, match="at least 1"):
        DropOldestQueue(size)
