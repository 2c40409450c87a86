"""Camera sources on their own: what they deliver and how they fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.config import CameraConfig
from stream.sources import SourceError, WhipHub, create_source
from tests.stream.media import free_port, traffic_frames, write_folder, write_video


def _source(raw: dict) -> object:
    config = CameraConfig.model_validate({"source": raw, "open_timeout_s": 1})
    return create_source("cam", config, WhipHub())


async def _first(source: object, n: int = 1) -> list:
    frames = []
    async for frame in source:  # type: ignore[attr-defined]
        frames.append(frame)
        if len(frames) == n:
            break
    await source.close()  # type: ignore[attr-defined]
    return frames


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360)])
async def test_synthetic_camera_delivers_frames_of_its_size(width: int, height: int) -> None:
    source = _source({"type": "synthetic", "width": width, "height": height, "fps": 50})
    frames = await _first(source, 3)
    assert [f.pixels.shape for f in frames] == [(height, width, 3)] * 3
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[0].time < frames[2].time


async def test_video_file_frames_keep_their_order(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", traffic_frames(["AB1234CD"], (320, 176), 6))
    frames = await _first(_source({"type": "url", "url": str(video)}), 6)
    assert [f.index for f in frames] == list(range(6))
    assert frames[0].pixels.shape == (176, 320, 3)


async def test_folder_skips_files_that_are_not_images(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "f", traffic_frames(["AB1234CD"], (64, 64), 2))
    (folder / "notes.txt").write_text("not a frame")
    (folder / "broken.png").write_bytes(b"not a png")
    frames = await _first(_source({"type": "folder", "path": str(folder), "fps": 100}), 5)
    assert len(frames) == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "folder", "path": "/nonexistent/frames"}, "does not exist"),
        ({"type": "url", "url": "/nonexistent/video.mp4"}, "cannot open /nonexistent/video.mp4"),
        ({"type": "url", "url": f"rtsp://127.0.0.1:{free_port()}/x"}, "cannot open rtsp://"),
    ],
)
async def test_a_source_that_cannot_open_says_which_and_why(raw: dict, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        await _first(_source(raw))


async def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"no .* images in"):
        await _first(_source({"type": "folder", "path": str(tmp_path / "empty")}))
