"""Real media for the service tests: encoded video files, image folders, raw frames."""

from __future__ import annotations

import socket
from pathlib import Path

import av
import cv2
import numpy as np

from stream.sources.synthetic import PlainTraffic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def traffic_frames(plates: list[str], size: tuple[int, int], count: int) -> list[np.ndarray]:
    traffic = PlainTraffic(0, size, plates)
    return [traffic.frame(i).pixels for i in range(count)]


def write_video(path: Path, frames: list[np.ndarray], fps: int = 5) -> Path:
    """Encode BGR frames to an H.264 MP4 with PyAV (FFmpeg)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for pixels in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="bgr24")))
        out.mux(stream.encode(None))
    return path


def write_folder(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, pixels in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), pixels)
    return folder
