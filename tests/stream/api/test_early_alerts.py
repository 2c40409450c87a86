"""Alerts raised while the car is still in view: from an open track's best view, one per
watch entry per track, linked to the sighting once the track is stored, and never lost
when the process dies in between. Real outbox (SQLite and PostgreSQL), real webhook."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime

import cv2
import numpy as np
from sqlalchemy.engine import Engine

from alphabet.render import render
from stream.alerts.alerter import Alerter, SightingFacts
from stream.alerts.config import WebhookConfig
from stream.alerts.dispatch import Dispatcher
from stream.alerts.live import LiveFeed
from stream.alerts.outbox import AlertFilter, Outbox
from stream.alerts.webhook import WebhookChannel
from stream.tracking import TrackView
from stream.watchlist import Watchlist, WatchlistEntry
from tests.stream.api.pixels import PixelEmbedder, pixel_vector
from tests.stream.api.receivers import FAST, WebhookReceiver

WATCHED, OTHER = "AB1234CD", "XY9876ZT"


def view(text: str, track: str, camera: str = "gate") -> TrackView:
    """A best view of an open track showing ``text`` (its crop is the rendered plate)."""
    plate = render(text)  # (64, 512) grey
    return TrackView(
        camera=camera,
        track=track,
        seen_at=datetime.now(UTC),
        reading=text,
        crop=cv2.cvtColor(plate, cv2.COLOR_GRAY2BGR),
        vector=pixel_vector(plate),
        first_arrived=0.0,
        arrived=0.0,
    )


def new_track() -> str:
    return uuid.uuid4().hex


def alerter_for(
    engine: Engine, receiver: WebhookReceiver, entries: list[WatchlistEntry]
) -> tuple[Alerter, Dispatcher, WebhookChannel]:
    watchlist = Watchlist(PixelEmbedder(), tz=UTC)
    watchlist.replace(entries)
    outbox = Outbox(engine)
    hook = WebhookChannel(WebhookConfig(name="hook", url=receiver.url, timeout_s=1))
    dispatcher = Dispatcher(outbox, {"hook": hook}, FAST)
    alerter = Alerter(watchlist, outbox, LiveFeed(), dispatcher, repeat_after_s=0)
    return alerter, dispatcher, hook


async def test_alert_is_sent_before_the_track_closes_then_linked(
    engine: Engine, receiver: WebhookReceiver
):
    alerter, dispatcher, hook = alerter_for(
        engine, receiver, [WatchlistEntry(7, WATCHED, 0.95, label="stolen van")]
    )
    track = new_track()
    alerter.on_views([view(OTHER, new_track()), view(WATCHED, track)])
    await alerter.settle()
    assert await dispatcher.deliver_due() == 1
    (got,) = receiver.received
    body = got.json()
    # Sent while the car is in view: no sighting yet, the track, camera, time, score, crop.
    assert body["sighting_id"] is None and body["track"] == track
    assert body["camera"] == "gate" and body["entry_id"] == 7 and body["reading"] == WATCHED
    assert body["score"] >= 0.95 and body["seen_at"]
    crop = cv2.imdecode(np.frombuffer(base64.b64decode(body["crop_jpeg"]), np.uint8), 1)
    assert crop is not None and crop.shape[1] > crop.shape[0]  # a plate-shaped image

    # The track closes: its sighting is stored, and the alert names it.
    facts = SightingFacts(55, "gate", datetime.now(UTC), WATCHED, pixel_vector(render(WATCHED)))
    assert await alerter.on_sighting(facts, track) == []  # no second alert
    outbox = Outbox(engine)
    (stored,) = outbox.find(AlertFilter())
    assert stored.id == body["id"] and stored.sighting_id == 55 and stored.track == track
    assert outbox.crop(stored.id) == base64.b64decode(body["crop_jpeg"])
    assert await dispatcher.deliver_due() == 0 and len(receiver.received) == 1
    await hook.close()


async def test_one_alert_per_track_and_entry(engine: Engine, receiver: WebhookReceiver):
    entries = [WatchlistEntry(1, WATCHED, 0.95), WatchlistEntry(2, WATCHED, 0.9, "fleet list")]
    alerter, dispatcher, hook = alerter_for(engine, receiver, entries)
    first, second = new_track(), new_track()
    for _ in range(4):  # every frame of the pass shows the plate, better and better
        alerter.on_views([view(WATCHED, first)])
    alerter.on_views([view(WATCHED, second)])  # the next car with that plate
    await alerter.settle()
    facts = SightingFacts(9, "gate", datetime.now(UTC), WATCHED, pixel_vector(render(WATCHED)))
    await alerter.on_sighting(facts, first)
    await dispatcher.deliver_due()
    alerts = Outbox(engine).find(AlertFilter())
    pairs = sorted((a.track, a.entry_id) for a in alerts)
    assert pairs == sorted([(first, 1), (first, 2), (second, 1), (second, 2)])
    assert sorted(r.json()["id"] for r in receiver.received) == sorted(a.id for a in alerts)
    await hook.close()


async def test_sighting_reading_still_alerts_once_the_track_closes(
    engine: Engine, receiver: WebhookReceiver
):
    # A '*' entry is matched on the reading, which is final only when the track closes.
    alerter, _, hook = alerter_for(engine, receiver, [WatchlistEntry(3, "AB12*", 0.9)])
    track = new_track()
    early = view(WATCHED, track)
    alerter.on_views([TrackView(**{**early.__dict__, "reading": ""})])  # nothing read yet
    await alerter.settle()
    assert Outbox(engine).find(AlertFilter()) == []
    facts = SightingFacts(4, "gate", datetime.now(UTC), WATCHED, early.vector)
    (alert,) = await alerter.on_sighting(facts, track, early.crop)
    assert (alert.sighting_id, alert.track, alert.method) == (4, track, "reading")
    assert Outbox(engine).crop(alert.id) is not None
    await hook.close()


async def test_early_alert_survives_the_process_dying_before_the_track_closes(
    engine: Engine, receiver: WebhookReceiver
):
    entry = WatchlistEntry(7, WATCHED, 0.95)
    receiver.stop()  # the receiver is down too: nothing leaves this process
    alerter, dispatcher, hook = alerter_for(engine, receiver, [entry])
    track = new_track()
    alerter.on_views([view(WATCHED, track)])
    await alerter.settle()
    assert await dispatcher.deliver_due() == 0
    await hook.close()
    del alerter, dispatcher  # the process dies: its open track is never stored
    await asyncio.sleep(2 * FAST.initial_s)  # a restart takes longer than the retry wait

    receiver.start()
    again, dispatcher, hook = alerter_for(engine, receiver, [entry])  # the restart
    task = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(5):
            while not receiver.received:
                await asyncio.sleep(0.02)
        # The same track seen again after the restart (a replayed view) raises nothing.
        again.on_views([view(WATCHED, track)])
        await again.settle()
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await hook.close()
    (got,) = receiver.received
    assert got.json()["track"] == track and got.json()["sighting_id"] is None
    assert got.json()["crop_jpeg"]
    (stored,) = Outbox(engine).find(AlertFilter())
    assert Outbox(engine).deliveries(stored.id)[0]["status"] == "delivered"


async def test_sightings_without_a_track_each_alert(engine: Engine, receiver: WebhookReceiver):
    # Sightings indexed from files, or made before tracks had keys, have no track.
    alerter, _, hook = alerter_for(engine, receiver, [WatchlistEntry(7, WATCHED, 0.95)])
    for sighting_id, track in [(1, None), (2, ""), (3, "")]:
        facts = SightingFacts(
            sighting_id, "gate", datetime.now(UTC), WATCHED, pixel_vector(render(WATCHED))
        )
        (alert,) = await alerter.on_sighting(facts, track)
        assert (alert.sighting_id, alert.track) == (sighting_id, None)
    await hook.close()
