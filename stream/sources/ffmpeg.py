"""RTSP, HTTP (MJPEG, HLS) and video files through PyAV (FFmpeg), decoded on a thread."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import numpy as np

from model.types import Frame
from stream import metrics
from stream.config import CameraConfig, UrlSource
from stream.sources.base import Handoff, SourceError

log = logging.getLogger(__name__)


#: Largest gap (seconds) between a live frame's stream time and its arrival before the
#: stream clock is re-anchored to arrival.
MAX_DRIFT_S = 2.0


def _is_network(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


class FfmpegSource:
    """Frames of one URL. Network streams are live (late frames are dropped and counted);
    files are read as fast as they are consumed unless ``realtime`` paces them."""

    waits_for_publisher = False

    def __init__(self, camera: str, config: CameraConfig) -> None:
        if not isinstance(config.source, UrlSource):
            raise TypeError(f"camera {camera!r} is not a url source")
        self.camera = camera
        self.source = config.source
        self.live = _is_network(self.source.url)
        self.finite = not self.live and not self.source.loop
        self._timeouts = (config.open_timeout_s, config.read_timeout_s)
        self._handoff: Handoff | None = None
        self._thread: threading.Thread | None = None

    def _options(self) -> dict[str, str]:
        if self.source.url.startswith("rtsp"):
            return {"rtsp_transport": self.source.transport}
        return {}

    def _open(self) -> Any:
        try:
            return av.open(self.source.url, options=self._options(), timeout=self._timeouts)
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(
                f"camera {self.camera!r}: cannot open {self.source.url}: {exc}"
            ) from None

    def _decode(self, handoff: Handoff) -> None:
        """The decoding thread: every video frame, converted to BGR, handed to the loop."""
        error: BaseException | None = None
        index = 0
        try:
            while not handoff.stopped.is_set():
                container = self._open()
                try:
                    index = self._play(container, handoff, index)
                finally:
                    container.close()
                if not (self.source.loop and not self.live):
                    break
        except av.FFmpegError as exc:
            error = SourceError(f"camera {self.camera!r}: stream {self.source.url} failed: {exc}")
        except SourceError as exc:
            error = exc
        except Exception as exc:  # the loop side must hear of any failure
            log.exception("camera %s: decoder crashed", self.camera)
            error = SourceError(f"camera {self.camera!r}: decoder crashed: {exc}")
        handoff.finish(error)

    @staticmethod
    def _frames(container: Any, stream: Any, received: Any) -> Iterator[Any]:
        """Decoded frames of ``stream``; each compressed packet is counted as received."""
        for packet in container.demux(stream):
            if packet.size:
                received.inc()
            yield from packet.decode()

    def _play(self, container: Any, handoff: Handoff, index: int) -> int:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start_wall = time.monotonic()
        start_time = datetime.now(UTC)
        received = metrics.FRAMES_RECEIVED.labels(self.camera)
        for av_frame in self._frames(container, stream, received):
            if handoff.stopped.is_set():
                break
            offset = float(av_frame.time or 0.0)
            if self.source.realtime and not self.live:
                delay = start_wall + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            # Stamps follow the stream's own timing so sampling keeps the right frames even
            # when a server sends a burst at start; live streams are re-anchored to the
            # arrival clock whenever the two drift apart by more than MAX_DRIFT_S.
            stamp = start_time + timedelta(seconds=offset)
            if self.live:
                now = datetime.now(UTC)
                if abs((stamp - now).total_seconds()) > MAX_DRIFT_S:
                    start_time = now - timedelta(seconds=offset)
                    stamp = now
            pixels = np.ascontiguousarray(av_frame.to_ndarray(format="bgr24"))
            handoff.put(Frame(self.camera, stamp, pixels, index))
            index += 1
        return index

    async def __aiter__(self) -> AsyncIterator[Frame]:
        loop = asyncio.get_running_loop()
        handoff = Handoff(
            loop,
            live=self.live or self.source.realtime,
            on_drop=metrics.FRAMES_DROPPED.labels(self.camera).inc,
        )
        self._handoff = handoff
        self._thread = threading.Thread(
            target=self._decode, args=(handoff,), name=f"decode-{self.camera}", daemon=True
        )
        self._thread.start()
        try:
            while True:
                frame = await handoff.get()
                if frame is None:
                    return
                yield frame
        finally:
            handoff.stopped.set()

    async def close(self) -> None:
        if self._handoff is not None:
            self._handoff.stopped.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            # The thread notices within one read timeout; waiting here would hold the loop.
            await asyncio.to_thread(thread.join, self._timeouts[1] + 1.0)
