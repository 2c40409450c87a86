"""A folder of images played as a camera, in name order, at a set frame rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from model.types import Frame
from stream import metrics
from stream.config import CameraConfig, FolderSource
from stream.sources.base import SourceError

#: File endings read as images.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def _read(path: Path) -> np.ndarray | None:
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if pixels is None else np.ascontiguousarray(pixels, np.uint8)


class FolderCamera:
    """Each image once (or round and round with ``loop``); unreadable files are skipped."""

    waits_for_publisher = False

    def __init__(self, camera: str, config: CameraConfig) -> None:
        if not isinstance(config.source, FolderSource):
            raise TypeError(f"camera {camera!r} is not a folder source")
        self.camera = camera
        self.source = config.source
        self.finite = not config.source.loop
        self._closed = False

    def _files(self) -> list[Path]:
        folder = self.source.path
        if not folder.is_dir():
            raise SourceError(f"camera {self.camera!r}: folder {folder} does not exist")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise SourceError(
                f"camera {self.camera!r}: no {'/'.join(IMAGE_SUFFIXES)} images in {folder}"
            )
        return files

    async def __aiter__(self) -> AsyncIterator[Frame]:
        files = await asyncio.to_thread(self._files)
        period = 1.0 / self.source.fps
        start = time.monotonic()
        index = 0
        while not self._closed:
            for path in files:
                pixels = await asyncio.to_thread(_read, path)
                if self._closed:
                    return
                if pixels is None:
                    continue
                metrics.FRAMES_RECEIVED.labels(self.camera).inc()
                yield Frame(self.camera, datetime.now(UTC), pixels, index)
                index += 1
                delay = start + index * period - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if not self.source.loop:
                return

    async def close(self) -> None:
        self._closed = True
