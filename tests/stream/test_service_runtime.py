"""The service's own API: cameras added and removed while it runs, the latest frame,
``on_sighting`` hooks, and open tracks stored at shutdown. Real detector, model, store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import create_engine, text

from model.detect import create_detector
from model.embed import ModelNotFoundError, load_embedder
from model.protocols import Detector, Embedder
from stream import metrics
from stream.camera import CameraStatus
from stream.config import StoreConfig, parse_config
from stream.service import CameraError, Components, Service
from stream.storesink import open_sink
from tests.postgres import fresh_database
from tests.stream.media import traffic_frames, write_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models() -> tuple[Detector, Embedder]:
    try:
        embedder = load_embedder("default")
    except ModelNotFoundError as exc:
        pytest.skip(f"no shipped embedding model yet: {exc}")
    return create_detector("ppocr", max_side=640), embedder


def _hook_errors() -> float:
    return metrics.REGISTRY.get_sample_value("platewatch_sighting_hook_errors_total") or 0.0


def _processed(camera: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "platewatch_frames_processed_total", {"camera": camera}
    )
    return value or 0.0


def _service(models: tuple[Detector, Embedder], data: Path, tree: dict[str, Any]) -> Service:
    config = parse_config(tree)
    detector, embedder = models
    return Service(config, Components(detector, embedder, open_sink(StoreConfig(), data, embedder)))


async def test_cameras_added_and_removed_at_run_time(
    models: tuple[Detector, Embedder], tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "frames", traffic_frames(["PT4455KX"], (800, 448), 24))
    service = _service(models, tmp_path / "data", {"tracking": {"close_after_s": 0.5}})
    stored: list[Any] = []

    async def hook(sighting: Any, plate: Any) -> None:
        stored.append(sighting)

    async def broken(sighting: Any, plate: Any) -> None:
        raise RuntimeError("a hook that fails must not stop the others")

    hook_errors = _hook_errors()
    service.on_sighting(broken)
    service.on_sighting(hook)
    await service.start()
    assert service.camera_states() == []
    camera = service.config.camera_from(
        {"source": {"type": "folder", "path": str(folder), "fps": 10}, "sample_fps": 10}
    )
    state = await service.add_camera("late", camera)
    assert state.name == "late"
    with pytest.raises(CameraError, match="exists already"):
        await service.add_camera("late", camera)
    await service.camera("late").wait_for(CameraStatus.ENDED, timeout=20)

    jpeg = await service.latest_jpeg("late")
    assert jpeg is not None and cv2.imdecode(np.frombuffer(jpeg, np.uint8), 1).shape == (
        448,
        800,
        3,
    )

    async with asyncio.timeout(20):
        while not stored:
            await asyncio.sleep(0.1)
    (sighting,) = stored  # one car passed: one sighting, handed to every hook
    assert sighting.camera == "late" and sighting.frame_count >= 3
    assert _hook_errors() == hook_errors + 1  # the broken hook was counted, once

    await service.remove_camera("late")
    assert [s.name for s in service.camera_states()] == []
    with pytest.raises(CameraError, match="no camera 'late'"):
        service.camera("late")
    rendered = metrics.render()[0].decode()
    assert 'camera="late"' not in rendered  # a removed camera's series are gone
    await service.stop()


async def test_stop_stores_plates_still_in_view(
    models: tuple[Detector, Embedder], tmp_path: Path
) -> None:
    # Only frames with the plate fully in view: the track is still open at shutdown.
    frames = traffic_frames(["HA7788BC"], (800, 448), 24)[6:12]
    folder = write_folder(tmp_path / "frames", frames)
    tree = {
        "cameras": {"stop-cam": {"source": {"type": "folder", "path": str(folder), "fps": 10}}},
        "tracking": {"close_after_s": 600, "close_after_frames": 1000},
    }
    service = _service(models, tmp_path / "data", tree)
    await service.start()
    await service.camera("stop-cam").wait_for(CameraStatus.ENDED, timeout=20)
    queued = service.camera("stop-cam").state().frames_queued
    async with asyncio.timeout(30):  # let the pipeline finish the last frames
        while _processed("stop-cam") < queued:
            await asyncio.sleep(0.1)
    store = service.store
    assert store.count() == 0
    await service.stop()
    reopened = open_sink(StoreConfig(), tmp_path / "data", models[1])
    try:
        assert reopened.store.count(camera="stop-cam") == 1
    finally:
        reopened.close()


async def test_disabled_and_whip_cameras_at_start(
    models: tuple[Detector, Embedder], tmp_path: Path
) -> None:
    tree = {
        "cameras": {
            "off": {"source": {"type": "synthetic"}, "enabled": False},
            "phone": {"source": {"type": "whip"}},
        }
    }
    service = _service(models, tmp_path / "data", tree)
    await service.start()
    states = {s.name: s.status for s in service.camera_states()}
    assert states["off"] == CameraStatus.STOPPED
    assert service.whip.cameras() == ["phone"]  # takes offers from the first moment
    await service.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server at 127.0.0.1:5432, dropped afterwards."""
    with fresh_database("stream") as url:
        yield url


@pytest.mark.postgres
async def test_sightings_go_to_postgresql_when_the_config_names_it(
    models: tuple[Detector, Embedder], tmp_path: Path, pg_url: str
) -> None:
    folder = write_folder(tmp_path / "frames", traffic_frames(["KA1122PT"], (800, 448), 24))
    config = parse_config(
        {
            "cameras": {"pg-cam": {"source": {"type": "folder", "path": str(folder), "fps": 10}}},
            "store": {"url": pg_url},
            "tracking": {"close_after_s": 0.5},
        }
    )
    detector, embedder = models
    sink = open_sink(config.store, tmp_path / "data", embedder)
    service = Service(config, Components(detector, embedder, sink))
    await service.start()
    await service.camera("pg-cam").wait_for(CameraStatus.ENDED, timeout=20)
    async with asyncio.timeout(30):
        while service.store.count(camera="pg-cam") == 0:
            await asyncio.sleep(0.2)
    await service.stop()
    rows = create_engine(pg_url)
    with rows.connect() as conn:
        stored = conn.execute(text("select count(*) from sightings where camera_id = 'pg-cam'"))
        assert stored.scalar_one() == 1
    rows.dispose()
