"""Alerts go through the outbox to a real webhook server and the real MQTT broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from alphabet.render import render
from stream.alerts.alerter import Alerter, SightingFacts
from stream.alerts.config import MqttConfig, WebhookConfig
from stream.alerts.dispatch import Dispatcher, backoff_s
from stream.alerts.live import LiveFeed
from stream.alerts.mqtt import MqttChannel
from stream.alerts.outbox import AlertFilter, Outbox
from stream.alerts.types import Channel
from stream.alerts.webhook import (
    ALERT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    verify,
)
from stream.watchlist import Watchlist, WatchlistEntry
from tests.stream.api.pixels import PixelEmbedder, pixel_vector
from tests.stream.api.receivers import FAST, MqttListener, WebhookReceiver, mqtt_available

SECRET = "s3cret-shared-with-the-receiver"


def sighting(text: str, sighting_id: int = 1, camera: str = "gate") -> SightingFacts:
    return SightingFacts(sighting_id, camera, datetime.now(UTC), text, pixel_vector(render(text)))


def alerter_for(engine: Engine, channels: list[Channel]) -> tuple[Alerter, Dispatcher, Outbox]:
    watchlist = Watchlist(PixelEmbedder(), tz=UTC)
    watchlist.put(WatchlistEntry(7, "AB1234CD", 0.95, label="stolen van"))
    outbox = Outbox(engine)
    dispatcher = Dispatcher(outbox, {c.name: c for c in channels}, FAST)
    return Alerter(watchlist, outbox, LiveFeed(), dispatcher, repeat_after_s=0), dispatcher, outbox


async def until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@pytest.mark.parametrize(("failures", "expected"), [(1, 0.05), (2, 0.1), (3, 0.2), (10, 0.2)])
def test_backoff_doubles_up_to_the_cap(failures: int, expected: float):
    assert backoff_s(FAST, failures) == pytest.approx(expected)


async def test_webhook_gets_signed_json(engine: Engine, receiver: WebhookReceiver):
    hook = WebhookChannel(WebhookConfig(name="hook", url=receiver.url, secret=SECRET))
    alerter, dispatcher, outbox = alerter_for(engine, [hook])
    raised = await alerter.on_sighting(sighting("AB1234CD", sighting_id=42))
    assert len(raised) == 1
    assert await dispatcher.deliver_due() == 1
    (got,) = receiver.received
    body = got.json()
    assert body["sighting_id"] == 42 and body["entry_id"] == 7 and body["label"] == "stolen van"
    assert body["score"] >= 0.95
    assert got.headers[ALERT_HEADER] == str(raised[0].id)
    assert verify(SECRET, got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER])
    assert not verify(
        "wrong", got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER]
    )
    assert outbox.deliveries(raised[0].id)[0]["status"] == "delivered"
    await hook.close()


async def test_unwatched_plate_raises_nothing(engine: Engine, receiver: WebhookReceiver):
    hook = WebhookChannel(WebhookConfig(name="hook", url=receiver.url))
    alerter, dispatcher, outbox = alerter_for(engine, [hook])
    assert await alerter.on_sighting(sighting("XY9876ZT")) == []
    assert await dispatcher.deliver_due() == 0
    assert receiver.received == [] and outbox.find(AlertFilter()) == []
    await hook.close()


@pytest.mark.parametrize("outage", ["port closed", "answers 503"])
async def test_alert_held_while_down_arrives_once_after(
    engine: Engine, receiver: WebhookReceiver, outage: str
):
    hook = WebhookChannel(WebhookConfig(name="hook", url=receiver.url, timeout_s=1))
    alerter, dispatcher, outbox = alerter_for(engine, [hook])
    if outage == "port closed":
        receiver.stop()
    else:
        receiver.status = 503
    raised = await alerter.on_sighting(sighting("AB1234CD"))
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: outbox.deliveries(raised[0].id)[0]["attempts"] >= 2)
        state = outbox.deliveries(raised[0].id)[0]
        assert state["status"] == "pending" and state["last_error"]
        refused = len(receiver.received)  # 503 answers were received but not taken
        receiver.status = 200
        if outage == "port closed":
            receiver.start()
        await until(lambda: outbox.deliveries(raised[0].id)[0]["status"] == "delivered")
        await asyncio.sleep(0.5)  # several more rounds: nothing may be sent again
        dispatcher.wake()
        await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await hook.close()
    ok = receiver.received[refused:]
    assert [r.json()["id"] for r in ok] == [raised[0].id]


async def test_down_receiver_does_not_hold_up_the_other(engine: Engine, receiver: WebhookReceiver):
    dead = WebhookReceiver()  # never started: connection refused
    up = WebhookChannel(WebhookConfig(name="up", url=receiver.url))
    down = WebhookChannel(WebhookConfig(name="down", url=dead.url, timeout_s=1))
    alerter, dispatcher, outbox = alerter_for(engine, [up, down])
    for i in range(3):
        await alerter.on_sighting(sighting("AB1234CD", sighting_id=i))
    await dispatcher.deliver_due()
    assert len(receiver.received) == 3
    assert outbox.counts() == {"delivered": 3, "pending": 3}
    await up.close()
    await down.close()


@pytest.mark.skipif(not mqtt_available(), reason="no MQTT broker on 127.0.0.1:1883")
async def test_mqtt_topics_for_home_assistant(engine: Engine):
    prefix = f"pwtest-{uuid.uuid4().hex[:8]}"
    config = MqttConfig(topic_prefix=prefix, discovery_prefix=f"{prefix}-ha")
    listener = MqttListener([f"{prefix}/#", f"{prefix}-ha/#"])
    channel = MqttChannel(config)
    channel.start()
    try:
        alerter, dispatcher, outbox = alerter_for(engine, [channel])
        raised = await alerter.on_sighting(sighting("AB1234CD", camera="front gate"))
        for _ in range(50):
            if await dispatcher.deliver_due():
                break
            await asyncio.sleep(0.1)  # paho connects in its own thread
        got = {
            topic: (json.loads(p) if p not in (b"online", b"offline") else p, retain)
            for topic, p, retain in listener.drain(0.5)
        }
    finally:
        await channel.close()
    assert got[f"{prefix}/status"][0] == b"online"
    assert got[f"{prefix}/alerts"][0]["id"] == raised[0].id
    assert got[f"{prefix}/cameras/front_gate/alert"][0]["camera"] == "front gate"
    discovery = got[f"{prefix}-ha/sensor/platewatch_front_gate/alert/config"][0]
    assert discovery["state_topic"] == f"{prefix}/cameras/front_gate/alert"
    assert discovery["availability_topic"] == f"{prefix}/status"
    assert outbox.deliveries(raised[0].id)[0]["status"] == "delivered"
    # The retained status tells late subscribers the service went away.
    late = MqttListener([f"{prefix}/status"])
    try:
        topic, payload, retain = late.get()
    finally:
        late.close()
    assert (topic, payload, retain) == (f"{prefix}/status", b"offline", True)


@pytest.mark.skipif(not mqtt_available(), reason="no MQTT broker on 127.0.0.1:1883")
async def test_mqtt_broker_unreachable_keeps_alert_pending(engine: Engine):
    from tests.stream.api.receivers import free_port

    channel = MqttChannel(MqttConfig(port=free_port(), timeout_s=0.5))
    channel.start()
    try:
        alerter, dispatcher, outbox = alerter_for(engine, [channel])
        raised = await alerter.on_sighting(sighting("AB1234CD"))
        assert await dispatcher.deliver_due() == 0
    finally:
        await channel.close()
    state = outbox.deliveries(raised[0].id)[0]
    assert state["status"] == "pending" and "not connected" in state["last_error"]


async def test_live_feed_hears_stored_alerts(engine: Engine):
    watchlist = Watchlist(PixelEmbedder(), tz=UTC)
    watchlist.put(WatchlistEntry(1, "AB1234CD", 0.95))
    live = LiveFeed(queue_size=2)
    alerter = Alerter(watchlist, Outbox(engine), live, None, repeat_after_s=0)
    events = live.events(keepalive_s=0.1)
    assert (await anext(events)).startswith(b"event: ready")
    raised = await alerter.on_sighting(sighting("AB1234CD"))
    chunk = await anext(events)
    head, data = chunk.decode().strip().split("\ndata: ")
    assert head == f"event: alert\nid: {raised[0].id}"
    assert json.loads(data)["id"] == raised[0].id
    assert await anext(events) == b": keepalive\n\n"
    await events.aclose()
    assert live.listeners == 0


async def test_repeat_quiet_period(engine: Engine):
    watchlist = Watchlist(PixelEmbedder(), tz=UTC)
    watchlist.put(WatchlistEntry(1, "AB1234CD", 0.95))
    alerter = Alerter(watchlist, Outbox(engine), LiveFeed(), None, repeat_after_s=60)
    first = await alerter.on_sighting(sighting("AB1234CD", 1))
    again = await alerter.on_sighting(sighting("AB1234CD", 2))
    elsewhere = await alerter.on_sighting(sighting("AB1234CD", 3, camera="yard"))
    assert (len(first), len(again), len(elsewhere)) == (1, 0, 1)
    assert np.isfinite(first[0].score)
