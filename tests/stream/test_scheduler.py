"""Cameras take turns for detection, one frame each in flight at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np

from model.types import Frame
from stream.camera import Arrival
from stream.queue import DropOldestQueue
from stream.scheduler import FrameScheduler


def _arrival(camera: str, i: int) -> Arrival:
    return Arrival(Frame(camera, datetime.now(UTC), np.zeros((4, 4, 3), np.uint8), i), 0.0)


async def test_a_busy_camera_does_not_starve_the_others() -> None:
    scheduler = FrameScheduler()
    queues = {name: DropOldestQueue[Arrival](100) for name in ("busy", "b", "c")}
    for name, queue in queues.items():
        scheduler.add(name, queue)
    for i in range(50):
        queues["busy"].put(_arrival("busy", i))
    queues["b"].put(_arrival("b", 0))
    queues["c"].put(_arrival("c", 0))
    order = []
    for _ in range(5):
        item = await scheduler.next()
        order.append(item.frame.camera)
        scheduler.done(item.frame.camera)
    # round robin: the quiet cameras get their frames within the first turn
    assert set(order[:3]) == {"busy", "b", "c"} and order[3:] == ["busy", "busy"]


async def test_one_frame_per_camera_in_flight() -> None:
    scheduler = FrameScheduler()
    queue = DropOldestQueue[Arrival](10)
    scheduler.add("cam", queue)
    queue.put(_arrival("cam", 0))
    queue.put(_arrival("cam", 1))
    first = await scheduler.next()
    waiting = asyncio.create_task(scheduler.next())
    await asyncio.sleep(0.02)
    assert not waiting.done()  # frame 1 waits until frame 0 is done
    scheduler.done("cam")
    second = await asyncio.wait_for(waiting, 1)
    assert (first.frame.index, second.frame.index) == (0, 1)


async def test_next_wakes_on_a_new_frame() -> None:
    scheduler = FrameScheduler()
    queue = DropOldestQueue[Arrival](10)
    scheduler.add("cam", queue)
    waiting = asyncio.create_task(scheduler.next())
    await asyncio.sleep(0.02)
    assert not waiting.done()
    queue.put(_arrival("cam", 7))
    assert (await asyncio.wait_for(waiting, 1)).frame.index == 7
