"""A watched plate shown by a real RTSP stream raises an alert that reaches a real webhook
receiver and the real MQTT broker, through the real detector, embedder and store; the
alert leaves while the car is still in view, and names its sighting once that is stored.

The RTSP server is GStreamer's (tests/stream/conftest.py); the embedder is the shipped
model (the test skips, saying so, where no trained model is present).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from model.embed import ModelNotFoundError
from stream.alerts.entries import EntryDraft, EntryStore
from stream.alerts.outbox import AlertFilter, Outbox
from stream.app import create_app
from stream.assemble import build_components
from stream.camera import CameraStatus
from stream.config import parse_config
from stream.service import Service
from tests.stream.api.receivers import MqttListener, WebhookReceiver, mqtt_available
from tests.stream.api.server import LiveServer
from tests.stream.media import traffic_frames, write_folder

pytestmark = pytest.mark.slow

MODEL = os.environ.get("PLATEWATCH_MODEL", "default")
WATCHED, PASSING, ABSENT = "AB1234CD", "KX5678PT", "MH0042QW"
#: Cosine an entry needs; the shipped model puts a plate's crops at ~0.6 from its render.
THRESHOLD = float(os.environ.get("PLATEWATCH_E2E_THRESHOLD", "0.5"))


async def test_watched_plate_on_rtsp_alerts_webhook_and_mqtt(
    rtsp_factory: Any, tmp_path: Path
) -> None:
    if not mqtt_available():
        pytest.skip("no MQTT broker on 127.0.0.1:1883 (.ci/run starts Mosquitto)")
    rtsp = rtsp_factory([WATCHED, PASSING], size=(800, 448), count=48)
    receiver = WebhookReceiver()
    receiver.start()
    prefix = f"pwe2e-{uuid.uuid4().hex[:8]}"
    config = parse_config(
        {
            "cameras": {"gate": {"source": {"type": "url", "url": rtsp.url}}},
            "detector": {"name": "ppocr", "options": {"max_side": 640}},
            "tracking": {"close_after_s": 1.0},
            "model": {"embedder": MODEL},
            "alerts": {
                "webhooks": [{"name": "hook", "url": receiver.url, "secret": "k"}],
                "mqtt": {"topic_prefix": prefix, "discovery": False},
            },
            "watchlist": {"repeat_after_s": 600},
        }
    )
    try:
        components = await asyncio.to_thread(build_components, config, tmp_path / "data")
    except ModelNotFoundError as exc:
        pytest.skip(f"no shipped embedding model: {exc}")
    store = components.sink.store
    entries = EntryStore(store.engine)
    watched = entries.add(EntryDraft(WATCHED, threshold=THRESHOLD, label="e2e"))
    absent = entries.add(EntryDraft(ABSENT, threshold=THRESHOLD))
    listener = MqttListener([f"{prefix}/alerts"])
    server = LiveServer(create_app(Service(config, components)))
    await asyncio.to_thread(server.start)
    try:
        async with asyncio.timeout(90):
            while not receiver.received:
                await asyncio.sleep(0.2)
        topic, payload, _ = await asyncio.to_thread(listener.get, 10)
        hub = server.app.state.api
        first_id = receiver.received[0].json()["id"]
        async with asyncio.timeout(30):  # the car passes, its track closes and is stored
            while (await asyncio.to_thread(hub.outbox.get, first_id)).sighting_id is None:
                await asyncio.sleep(0.2)
        linked = await asyncio.to_thread(hub.outbox.get, first_id)
        await asyncio.sleep(3)  # the other plate passes too
        sightings = store.list_sightings(camera="gate", limit=100)
        watched_vector = hub.watchlist.vector_of(WATCHED)
        passing_vector = hub.watchlist.vector_of(PASSING)
    finally:
        await asyncio.to_thread(server.stop)
        listener.close()
        receiver.stop()
    alerts = [r.json() for r in receiver.received]
    first = alerts[0]
    assert first["entry_id"] == watched.id and first["camera"] == "gate", alerts
    assert first["label"] == "e2e" and first["score"] >= THRESHOLD, alerts
    assert all(a["entry_id"] != absent.id for a in alerts), alerts
    # The alerted sighting looks more like the watched plate than like the other one.
    # Sent while the car was in view; linked to its sighting once the track was stored.
    assert first["sighting_id"] is None and first["track"] and first["crop_jpeg"], first
    assert linked.track == first["track"] and linked.sighting_id is not None
    alerted = next(s for s in sightings if s.id == linked.sighting_id)
    cosines = float(alerted.vector @ watched_vector), float(alerted.vector @ passing_vector)
    assert cosines[0] > cosines[1], (cosines, alerted.reading)
    assert json.loads(payload)["id"] == first["id"] and topic == f"{prefix}/alerts"


async def test_alert_leaves_before_the_track_closes_once_per_pass(tmp_path: Path) -> None:
    # Tracks cannot close by themselves here: only stopping the service closes them.
    frames = traffic_frames([WATCHED], (800, 448), 24)
    folder = write_folder(tmp_path / "frames", frames)
    receiver = WebhookReceiver()
    receiver.start()
    config = parse_config(
        {
            "cameras": {"gate": {"source": {"type": "folder", "path": str(folder), "fps": 5}}},
            "detector": {"name": "ppocr", "options": {"max_side": 640}},
            "tracking": {"close_after_s": 600, "close_after_frames": 1000},
            "model": {"embedder": MODEL},
            "alerts": {"webhooks": [{"name": "hook", "url": receiver.url}]},
            "watchlist": {"repeat_after_s": 0},
        }
    )
    try:
        components = await asyncio.to_thread(build_components, config, tmp_path / "data")
    except ModelNotFoundError as exc:
        pytest.skip(f"no shipped embedding model: {exc}")
    store = components.sink.store
    watched = EntryStore(store.engine).add(EntryDraft(WATCHED, threshold=THRESHOLD))
    service = Service(config, components)
    server = LiveServer(create_app(service))
    await asyncio.to_thread(server.start)
    try:
        async with asyncio.timeout(90):
            while not receiver.received:
                await asyncio.sleep(0.1)
        stored_while_in_view = store.list_sightings(camera="gate", limit=10)
        await service.camera("gate").wait_for(CameraStatus.ENDED, timeout=60)
        await asyncio.sleep(2)  # the last frames go through the pipeline: no more alerts
    finally:
        await asyncio.to_thread(server.stop)  # closes the open track: its sighting is stored
        receiver.stop()
    (body,) = [r.json() for r in receiver.received]  # however many frames match: one alert
    assert body["entry_id"] == watched.id and body["sighting_id"] is None, body
    assert stored_while_in_view == []  # sent before the pass was a sighting
    (sighting,) = store.list_sightings(camera="gate", limit=10)
    (alert,) = Outbox(store.engine).find(AlertFilter())
    assert alert.id == body["id"] and alert.sighting_id == sighting.id
    assert sighting.frame_count > 1
