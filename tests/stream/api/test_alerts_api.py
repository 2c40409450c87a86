"""/api/alerts over real HTTP: an alert raised in the running service is listed, streamed
live (SSE), delivered to the configured webhook, and acknowledged."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import UTC, datetime

import cv2
import numpy as np

from alphabet.render import render
from stream import metrics
from stream.alerts.alerter import SightingFacts
from stream.alerts.entries import EntryDraft
from stream.tracking import TrackView
from tests.stream.api.conftest import Api
from tests.stream.api.pixels import pixel_vector


def raise_in_service(api: Api, text: str, sighting_id: int) -> list[int]:
    """Run the service's own sighting hook, on its event loop, for a sighting of ``text``."""
    hub = api.server.app.state.api
    loop = hub._tasks[0].get_loop()
    facts = SightingFacts(sighting_id, "gate", datetime.now(UTC), text, pixel_vector(render(text)))
    raised = asyncio.run_coroutine_threadsafe(hub.alerter.on_sighting(facts), loop).result(10)
    return [a.id for a in raised]


def test_alert_listed_streamed_delivered_acknowledged(api: Api):
    hub = api.server.app.state.api
    entry = hub.entries.add(EntryDraft("QW4455ER", 0.95, label="alerts api"))
    hub.watchlist.put(entry)
    delivered_before = metrics.ALERTS_DELIVERED.labels("hook")._value.get()
    events: list[str] = []
    ready = threading.Event()

    def listen() -> None:
        with (
            api.server.client() as client,
            client.stream(
                "GET", "/api/alerts/stream", params={"access_token": api.read_token}
            ) as answer,
        ):
            assert answer.headers["content-type"].startswith("text/event-stream")
            for line in answer.iter_lines():
                if line.startswith("event: ready"):
                    ready.set()
                if line.startswith("data: ") and '"entry_id"' in line:
                    events.append(line[6:])
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(10)
    (alert_id,) = raise_in_service(api, "QW4455ER", 9001)
    listener.join(10)
    assert [json.loads(e)["id"] for e in events] == [alert_id]

    with api.client("read") as client:
        listed = client.get("/api/alerts", params={"entry_id": entry.id}).json()
        assert [a["id"] for a in listed] == [alert_id]
        assert listed[0]["sighting_id"] == 9001 and listed[0]["acknowledged_at"] is None
        for _ in range(100):  # the dispatcher sends it to the webhook receiver
            detail = client.get(f"/api/alerts/{alert_id}").json()
            if detail["deliveries"][0]["status"] == "delivered":
                break
            threading.Event().wait(0.05)
    assert detail["deliveries"][0]["receiver"] == "hook"
    assert detail["deliveries"][0]["status"] == "delivered"
    assert any(r.json()["id"] == alert_id for r in api.webhook.received)
    assert metrics.ALERTS_DELIVERED.labels("hook")._value.get() == delivered_before + 1

    with api.client("admin") as admin:
        acked = admin.post(f"/api/alerts/{alert_id}/ack").json()
        again = admin.post(f"/api/alerts/{alert_id}/ack").json()
        open_ = admin.get("/api/alerts", params={"unacknowledged": True}).json()
    assert acked["acknowledged_at"] is not None
    assert again["acknowledged_at"] == acked["acknowledged_at"]  # the first one is kept
    assert alert_id not in [a["id"] for a in open_]


def test_unwatched_sighting_raises_nothing(api: Api):
    assert raise_in_service(api, "NN0000NN", 9002) == []


def test_early_alert_shows_its_crop_then_its_sighting(api: Api):
    hub = api.server.app.state.api
    loop = hub._tasks[0].get_loop()
    entry = hub.entries.add(EntryDraft("ZX7788TT", 0.95, label="early"))
    hub.watchlist.put(entry)
    plate = render("ZX7788TT")
    track = uuid.uuid4().hex
    seen = TrackView(
        "gate", track, datetime.now(UTC), "ZX7788TT", cv2.cvtColor(plate, cv2.COLOR_GRAY2BGR),
        pixel_vector(plate), 0.0, 0.0,
    )  # fmt: skip

    async def in_view() -> None:
        hub.alerter.on_views([seen])
        await hub.alerter.settle()

    asyncio.run_coroutine_threadsafe(in_view(), loop).result(10)
    with api.client("read") as client:
        (listed,) = client.get("/api/alerts", params={"entry_id": entry.id}).json()
        assert listed["sighting_id"] is None and listed["track"] == track
        assert "crop_jpeg" not in listed  # the image is served on its own
        answer = client.get(f"/api/alerts/{listed['id']}/crop.jpg")
        assert answer.headers["content-type"] == "image/jpeg"
        crop = cv2.imdecode(np.frombuffer(answer.content, np.uint8), 1)
        assert crop.shape[:2] == plate.shape[:2]
        assert client.get("/api/alerts/999999/crop.jpg").status_code == 404
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Alert"]
        assert "crop_jpeg" not in schema["properties"] and "track" in schema["properties"]

    # The car has passed: its sighting is stored and the alert names it.
    facts = SightingFacts(9100, "gate", datetime.now(UTC), "ZX7788TT", pixel_vector(plate))
    linked = hub.alerter.on_sighting(facts, track)
    assert asyncio.run_coroutine_threadsafe(linked, loop).result(10) == []
    with api.client("read") as client:
        detail = client.get(f"/api/alerts/{listed['id']}").json()
    assert detail["sighting_id"] == 9100 and detail["deliveries"][0]["receiver"] == "hook"
