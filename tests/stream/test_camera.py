"""Camera runners on real sources: sampling, queueing, status changes, reconnects."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stream import metrics
from stream.camera import CameraRunner, CameraStatus, backoff_delay
from stream.config import CameraConfig, ReconnectSettings
from stream.sources import WhipHub, create_source
from tests.stream.conftest import RtspServer
from tests.stream.media import free_port, traffic_frames, write_folder, write_video

PLATES = ["AB1234CD", "KX5678PT"]


def _runner(name: str, raw: dict) -> CameraRunner:
    config = CameraConfig.model_validate(raw)
    hub = WhipHub()
    return CameraRunner(name, config, lambda: create_source(name, config, hub))


def _value(metric: str, camera: str) -> float:
    return metrics.REGISTRY.get_sample_value(metric, {"camera": camera}) or 0.0


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (50, 30.0)],  # doubling, capped
)
def test_backoff_doubles_up_to_the_cap(failures: int, expected: float) -> None:
    assert backoff_delay(failures, ReconnectSettings(initial_s=0.5, max_s=30)) == expected


async def test_video_file_is_read_sampled_and_ends(tmp_path: Path) -> None:
    video = write_video(tmp_path / "road.mp4", traffic_frames(PLATES, (640, 360), 40), fps=10)
    # a 10 fps file sampled at 5 fps: every other frame; motion gate off to count exactly
    runner = _runner(
        "file-cam",
        {
            "source": {"type": "url", "url": str(video)},
            "sample_fps": 5,
            "queue_size": 100,
            "motion": {"enabled": False},
        },
    )
    runner.start()
    await runner.wait_for(CameraStatus.ENDED, timeout=20)
    state = runner.state()
    assert state.frames_received == 40
    assert state.frames_queued == 20 and len(runner.queue) == 20
    assert runner.latest is not None and runner.latest.pixels.shape == (360, 640, 3)
    assert _value("platewatch_frames_received_total", "file-cam") == 40
    assert _value("platewatch_frames_decoded_total", "file-cam") == 40
    assert _value("platewatch_frames_queued_total", "file-cam") == 20
    await runner.stop()


async def test_full_queue_drops_oldest_and_counts(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "imgs", traffic_frames(PLATES, (320, 180), 12))
    runner = _runner(
        "drop-cam",
        {
            "source": {"type": "folder", "path": str(folder), "fps": 20},
            "sample_fps": 120,  # keeps every frame of a 20 fps source
            "queue_size": 4,
            "motion": {"enabled": False},
        },
    )
    runner.start()
    await runner.wait_for(CameraStatus.ENDED, timeout=10)
    # nobody consumes: 12 frames into a queue of 4 keep the newest 4 and drop 8
    kept = [runner.queue.get_nowait() for _ in range(4)]
    assert [a.frame.index for a in kept if a is not None] == [8, 9, 10, 11]
    assert runner.state().frames_dropped == 8
    assert _value("platewatch_frames_dropped_total", "drop-cam") == 8
    await runner.stop()


async def test_motion_gate_skips_a_still_scene(tmp_path: Path) -> None:
    still = traffic_frames(PLATES, (320, 180), 1) * 6  # the same picture six times
    folder = write_folder(tmp_path / "still", still)
    runner = _runner(
        "still-cam",
        {"source": {"type": "folder", "path": str(folder), "fps": 20}, "sample_fps": 120},
    )
    runner.start()
    await runner.wait_for(CameraStatus.ENDED, timeout=10)
    assert runner.state().frames_queued == 1  # only the first frame counts as changed
    skipped = metrics.REGISTRY.get_sample_value(
        "platewatch_frames_skipped_total", {"camera": "still-cam", "reason": "motion"}
    )
    assert skipped == 5
    await runner.stop()


async def test_dead_camera_goes_reconnecting_then_down() -> None:
    runner = _runner(
        "dead-cam",
        {
            "source": {"type": "url", "url": f"rtsp://127.0.0.1:{free_port()}/none"},
            "open_timeout_s": 1,
            "reconnect": {"initial_s": 0.05, "max_s": 0.1, "down_after": 3},
        },
    )
    assert runner.status == CameraStatus.STARTING
    runner.start()
    await runner.wait_for(CameraStatus.RECONNECTING, timeout=10)
    await runner.wait_for(CameraStatus.DOWN, timeout=10)
    state = runner.state()
    assert state.failures >= 3 and state.last_error and "cannot open" in state.last_error
    assert _value("platewatch_camera_up", "dead-cam") == 0
    await runner.stop()
    assert runner.status == CameraStatus.STOPPED


async def test_rtsp_camera_dies_and_comes_back(rtsp_factory) -> None:  # type: ignore[no-untyped-def]
    server: RtspServer = rtsp_factory(PLATES)
    runner = _runner(
        "rtsp-cam",
        {
            "source": {"type": "url", "url": server.url},
            "read_timeout_s": 1,
            "reconnect": {"initial_s": 0.2, "max_s": 0.5, "down_after": 100},
        },
    )
    runner.start()
    await runner.wait_for(CameraStatus.UP, timeout=15)
    assert _value("platewatch_camera_up", "rtsp-cam") == 1
    server.stop()
    await runner.wait_for(CameraStatus.RECONNECTING, timeout=10)
    assert _value("platewatch_camera_up", "rtsp-cam") == 0
    received = runner.state().frames_received
    server.start()
    await runner.wait_for(CameraStatus.UP, timeout=15)
    await asyncio.sleep(1)
    assert runner.state().frames_received > received
    await runner.stop()


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_rtsp_over_either_transport(rtsp_factory, transport: str) -> None:  # type: ignore[no-untyped-def]
    server: RtspServer = rtsp_factory(PLATES, size=(320, 176), count=12)
    name = f"rtsp-{transport}"
    runner = _runner(name, {"source": {"type": "url", "url": server.url, "transport": transport}})
    runner.start()
    await runner.wait_for(CameraStatus.UP, timeout=15)
    await asyncio.sleep(0.5)
    assert runner.state().frames_received >= 2
    assert runner.latest is not None and runner.latest.pixels.shape == (176, 320, 3)
    assert _value("platewatch_frames_received_total", name) >= 2
    await runner.stop()


@pytest.mark.parametrize("regions", [True, False])
async def test_queued_frames_name_the_regions_that_moved(tmp_path: Path, regions: bool) -> None:
    frames = traffic_frames(PLATES, (640, 360), 8)  # a car crossing a still road
    folder = write_folder(tmp_path / f"road-{regions}", frames)
    name = f"regions-{regions}"
    runner = _runner(
        name,
        {
            "source": {"type": "folder", "path": str(folder), "fps": 20},
            "sample_fps": 120,
            "queue_size": 100,
            "motion": {"regions": regions},
        },
    )
    runner.start()
    await runner.wait_for(CameraStatus.ENDED, timeout=10)
    queued = [runner.queue.get_nowait() for _ in range(len(runner.queue))]
    frames_kept = [a.frame for a in queued if a is not None]
    assert len(frames_kept) >= 4
    assert frames_kept[0].regions == ()  # the first frame is searched whole
    later = [f.regions for f in frames_kept[1:]]
    if regions:
        # each later frame names where the car moved: a part of the picture, not all of it
        assert all(later)
        assert all(sum(w * h for _, _, w, h in r) < 0.6 * 640 * 360 for r in later)
    else:
        assert not any(later)
    await runner.stop()
