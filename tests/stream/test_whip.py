"""WebRTC cameras over WHIP: a real aiortc publisher against the real endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from stream.camera import CameraRunner, CameraStatus
from stream.config import CameraConfig
from stream.sources import WhipHub, create_source
from stream.sources.whip_http import whip_router
from tests.stream.media import free_port, traffic_frames
from tests.stream.publisher import WhipPublisher

WHIP_CAMERA = CameraConfig.model_validate({"source": {"type": "whip"}, "read_timeout_s": 2})


@pytest.fixture
async def whip_server() -> AsyncIterator[tuple[str, WhipHub]]:
    """The WHIP routes served by uvicorn on a loopback port, and their hub."""
    hub = WhipHub()
    app = FastAPI()
    app.include_router(whip_router(hub))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}", hub
    server.should_exit = True
    await task
    await hub.close()


async def test_publisher_feeds_the_camera_and_hanging_up_takes_it_down(
    whip_server: tuple[str, WhipHub],
) -> None:
    base, hub = whip_server
    runner = CameraRunner("phone", WHIP_CAMERA, lambda: create_source("phone", WHIP_CAMERA, hub))
    runner.start()
    await runner.wait_for(CameraStatus.DOWN, timeout=5)  # nobody publishes yet

    frames = traffic_frames(["AB1234CD"], (640, 360), 24)
    publisher = WhipPublisher(f"{base}/whip/phone", frames)
    answer = await publisher.start()
    assert answer.status_code == 201
    assert answer.headers["content-type"] == "application/sdp"
    assert answer.headers["location"].startswith("/whip/phone/")
    assert "m=video" in answer.text
    await runner.wait_for(CameraStatus.UP, timeout=15)
    await asyncio.sleep(1.0)
    assert runner.state().frames_received >= 3
    assert runner.latest is not None and runner.latest.pixels.shape == (360, 640, 3)

    await publisher.stop()
    await runner.wait_for(CameraStatus.DOWN, timeout=10)
    await runner.stop()


@pytest.mark.parametrize(
    ("camera", "content_type", "body", "status"),
    [
        ("phone", "text/plain", "v=0", 415),  # not an SDP body
        ("nobody", "application/sdp", "v=0", 404),  # not a WHIP camera
        ("phone", "application/sdp", "this is not SDP", 400),  # an offer aiortc refuses
    ],
)
async def test_bad_offers_are_refused(
    whip_server: tuple[str, WhipHub], camera: str, content_type: str, body: str, status: int
) -> None:
    base, hub = whip_server
    hub.allow("phone")
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{base}/whip/{camera}", content=body, headers={"Content-Type": content_type}
        )
    assert answer.status_code == status
    assert answer.json()["detail"]


async def test_delete_of_an_unknown_session_is_404(whip_server: tuple[str, WhipHub]) -> None:
    base, hub = whip_server
    hub.allow("phone")
    async with httpx.AsyncClient() as client:
        answer = await client.delete(f"{base}/whip/phone/0123")
    assert answer.status_code == 404 and "no WHIP session" in answer.json()["detail"]
