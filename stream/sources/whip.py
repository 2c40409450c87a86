"""WebRTC cameras: publishers POST an SDP offer to /whip/{camera} (WHIP, RFC 9725).

:class:`WhipHub` holds one publishing session per camera (a new offer replaces the old
one); :class:`WhipCamera` reads the video track of whichever session is current.

This module imports aiortc at import time on purpose: aiortc (pylibsrtp) must be loaded
before TensorFlow in the same process, and the service imports this module first.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from model.types import Frame
from platewatch.errors import PlatewatchError
from stream import metrics
from stream.config import CameraConfig, WhipSource

log = logging.getLogger(__name__)


class WhipError(PlatewatchError, ValueError):
    """A WHIP request cannot be served: unknown camera or session, or an unusable offer."""


@dataclass
class WhipSession:
    """One publisher's connection; ``track`` is set once its video arrives."""

    camera: str
    id: str
    pc: RTCPeerConnection
    track: MediaStreamTrack | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class WhipHub:
    """Publishing sessions by camera. Only cameras registered with ``allow`` accept offers."""

    def __init__(self) -> None:
        self._allowed: set[str] = set()
        self._sessions: dict[str, WhipSession] = {}
        self._changed: dict[str, asyncio.Condition] = {}

    def allow(self, camera: str) -> None:
        self._allowed.add(camera)
        self._changed.setdefault(camera, asyncio.Condition())

    async def forbid(self, camera: str) -> None:
        """Stop accepting offers for ``camera`` and close its session."""
        self._allowed.discard(camera)
        session = self._sessions.get(camera)
        if session is not None:
            await self.end(camera, session.id)

    def cameras(self) -> list[str]:
        return sorted(self._allowed)

    async def publish(self, camera: str, offer_sdp: str) -> WhipSession:
        """Answer a publisher's offer; the answer SDP is ``session.pc.localDescription.sdp``.

        Raises WhipError for a camera that is not a WHIP camera or an offer aiortc refuses.
        """
        if camera not in self._allowed:
            allowed = ", ".join(sorted(self._allowed)) or "none configured"
            raise WhipError(f"camera {camera!r} does not take WHIP; WHIP cameras: {allowed}")
        if "m=video" not in offer_sdp:
            raise WhipError(f"camera {camera!r}: the SDP offer has no video (no 'm=video' line)")
        pc = RTCPeerConnection()
        session = WhipSession(camera, uuid.uuid4().hex, pc)

        @pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and session.track is None:
                session.track = track
                session.ready.set()

        @pc.on("connectionstatechange")
        async def _on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self._sessions.get(camera) is session:
                await self.end(camera, session.id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, TypeError, AttributeError) as exc:
            await pc.close()
            raise WhipError(f"camera {camera!r}: the SDP offer was refused: {exc}") from None
        old = self._sessions.get(camera)
        self._sessions[camera] = session
        if old is not None:
            log.info("camera %s: a new WHIP publisher replaces session %s", camera, old.id)
            await old.pc.close()
        async with self._changed[camera]:
            self._changed[camera].notify_all()
        log.info("camera %s: WHIP publisher connected (session %s)", camera, session.id)
        return session

    async def end(self, camera: str, session_id: str) -> None:
        """Close a session (DELETE of its resource). Raises WhipError if it is not current."""
        session = self._sessions.get(camera)
        if session is None or session.id != session_id:
            raise WhipError(f"camera {camera!r} has no WHIP session {session_id!r}")
        del self._sessions[camera]
        await session.pc.close()
        log.info("camera %s: WHIP session %s ended", camera, session_id)

    async def next_track(self, camera: str) -> MediaStreamTrack:
        """Wait for a publisher of ``camera`` whose video has arrived; return its track."""
        cond = self._changed.setdefault(camera, asyncio.Condition())
        while True:
            session = self._sessions.get(camera)
            if session is not None:
                await session.ready.wait()
                if self._sessions.get(camera) is session and session.track is not None:
                    return session.track
                continue
            async with cond:
                await cond.wait()

    async def close(self) -> None:
        for session in list(self._sessions.values()):
            await session.pc.close()
        self._sessions.clear()


def _to_bgr(av_frame: Any) -> np.ndarray:
    return np.ascontiguousarray(av_frame.to_ndarray(format="bgr24"))


class WhipCamera:
    """Frames of the current publisher of one camera; ends when that publisher leaves."""

    finite = False
    waits_for_publisher = True

    def __init__(self, camera: str, config: CameraConfig, hub: WhipHub) -> None:
        if not isinstance(config.source, WhipSource):
            raise TypeError(f"camera {camera!r} is not a whip source")
        self.camera = camera
        self.hub = hub
        hub.allow(camera)
        self._index = 0

    async def __aiter__(self) -> AsyncIterator[Frame]:
        track = await self.hub.next_track(self.camera)
        while True:
            try:
                av_frame = await track.recv()
            except MediaStreamError:
                return  # the publisher left; the camera runner waits for the next one
            metrics.FRAMES_RECEIVED.labels(self.camera).inc()
            pixels = await asyncio.to_thread(_to_bgr, av_frame)
            yield Frame(self.camera, datetime.now(UTC), pixels, self._index)
            self._index += 1

    async def close(self) -> None:
        pass  # the hub owns the connection; the service closes the hub
