"""A real WebRTC publisher for the tests: aiortc sending synthetic traffic over WHIP."""

from __future__ import annotations

import asyncio
import fractions
import time

import av
import httpx
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

#: RTP's video clock.
CLOCK = 90_000


class FramesTrack(VideoStreamTrack):
    """Plays ``frames`` (BGR) round and round at ``fps``."""

    def __init__(self, frames: list[np.ndarray], fps: float) -> None:
        super().__init__()
        self.frames, self.fps = frames, fps
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent / self.fps - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = av.VideoFrame.from_ndarray(self.frames[self.sent % len(self.frames)], "bgr24")
        frame.pts = int(self.sent * CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, CLOCK)
        self.sent += 1
        return frame


class WhipPublisher:
    """POSTs its offer to a WHIP URL and streams until :meth:`stop` (which DELETEs)."""

    def __init__(self, url: str, frames: list[np.ndarray], fps: float = 5.0) -> None:
        self.url = url
        self.track = FramesTrack(frames, fps)
        self.pc = RTCPeerConnection()
        self.location: str | None = None

    async def start(self) -> httpx.Response:
        self.pc.addTrack(self.track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                self.url,
                content=self.pc.localDescription.sdp,
                headers={"Content-Type": "application/sdp"},
            )
        if answer.status_code == 201:
            self.location = answer.headers["location"]
            await self.pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        return answer

    async def stop(self, hang_up: bool = True) -> None:
        if hang_up and self.location is not None:
            base = httpx.URL(self.url)
            async with httpx.AsyncClient() as client:
                await client.delete(str(base.copy_with(path=self.location)))
        await self.pc.close()
