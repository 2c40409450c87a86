"""Several service processes share one outbox: each delivery is claimed, and sent, by
exactly one of them. Real databases (SQLite and the PostgreSQL server), each dispatcher
with its own engine (its own connections) or in its own process, and a real webhook
receiver."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from store.db import make_engine, migrate
from stream.alerts.config import RetryConfig, WebhookConfig
from stream.alerts.dispatch import Claim, Dispatcher
from stream.alerts.outbox import Outbox
from stream.alerts.types import Alert
from stream.alerts.webhook import WebhookChannel
from tests.postgres import fresh_database
from tests.stream.api.receivers import FAST, WebhookReceiver

REPO = Path(__file__).resolve().parents[3]


def second_engine(engine: Engine) -> Engine:
    """Another process's connections to the same database."""
    return make_engine(engine.url.render_as_string(hide_password=False))


def fill(outbox: Outbox, count: int, receivers: list[str]) -> list[int]:
    now = datetime.now(UTC)
    ids = []
    for i in range(count):
        plate = "AB1234CD"
        alert = Alert(0, i + 1, None, "gate", now, plate, 1, plate, "", 0.9, "vector", now)
        stored = outbox.add(alert, receivers)
        assert stored is not None
        ids.append(stored.id)
    return ids


def test_racing_claims_never_share_a_delivery(engine: Engine):
    fill(Outbox(engine), 120, ["hook"])
    engines = [engine] + [second_engine(engine) for _ in range(3)]
    for each in engines:  # connected before the race starts
        each.connect().close()
    taken: list[list[int]] = [[] for _ in engines]
    start = threading.Barrier(len(engines), timeout=30)

    def claim_all(i: int) -> None:
        outbox = Outbox(engines[i])
        start.wait()
        first = True
        while True:
            got = outbox.claim("hook", 2, Claim(f"node-{i}", datetime.now(UTC), 60))
            if not got:
                return
            taken[i] += [d.id for d in got]
            if first:  # every node claims once, all at the same moment, before the rest
                start.wait()
                first = False

    threads = [threading.Thread(target=claim_all, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for extra in engines[1:]:
        extra.dispose()
    every = [d for node in taken for d in node]
    assert len(every) == 120 and len(set(every)) == 120  # all taken, none twice
    assert all(taken)  # every node took part


async def test_two_dispatchers_send_each_alert_once(engine: Engine, receiver: WebhookReceiver):
    ids = fill(Outbox(engine), 30, ["hook"])
    other = second_engine(engine)
    hooks = [WebhookChannel(WebhookConfig(name="hook", url=receiver.url)) for _ in range(2)]
    first = Dispatcher(Outbox(engine), {"hook": hooks[0]}, FAST, node="a")
    second = Dispatcher(Outbox(other), {"hook": hooks[1]}, FAST, node="b")
    sent = Counter[str]()
    try:
        async with asyncio.timeout(30):
            while len(receiver.received) < len(ids):
                counts = await asyncio.gather(first.deliver_due(3), second.deliver_due(3))
                sent.update({"a": counts[0], "b": counts[1]})
        # More rounds from both: nothing is left to send, nothing is sent again.
        assert await asyncio.gather(first.deliver_due(), second.deliver_due()) == [0, 0]
    finally:
        for hook in hooks:
            await hook.close()
        other.dispose()
    got = [r.json()["id"] for r in receiver.received]
    assert sorted(got) == sorted(ids)  # each alert exactly once
    assert sent["a"] > 0 and sent["b"] > 0 and sent["a"] + sent["b"] == len(ids)
    assert Outbox(engine).counts() == {"delivered": len(ids)}


async def test_claims_of_a_dead_process_run_out(engine: Engine, receiver: WebhookReceiver):
    (alert_id,) = fill(Outbox(engine), 1, ["hook"])
    # A process claims the delivery, then dies before sending it.
    dead = Outbox(engine).claim("hook", 10, Claim("dead", datetime.now(UTC), 0.5))
    assert [d.alert.id for d in dead] == [alert_id]
    hook = WebhookChannel(WebhookConfig(name="hook", url=receiver.url))
    alive = Dispatcher(Outbox(engine), {"hook": hook}, FAST, node="alive")
    try:
        assert await alive.deliver_due() == 0  # still held by the dead process
        time.sleep(0.6)
        assert await alive.deliver_due() == 1
    finally:
        await hook.close()
    assert [r.json()["id"] for r in receiver.received] == [alert_id]


async def test_a_failed_send_waits_for_its_retry_time_in_every_process(
    engine: Engine, receiver: WebhookReceiver
):
    failing, *others = fill(Outbox(engine), 3, ["hook"])
    receiver.status = 503
    slow = RetryConfig(initial_s=30, max_s=30)
    hooks = [WebhookChannel(WebhookConfig(name="hook", url=receiver.url)) for _ in range(2)]
    first = Dispatcher(Outbox(engine), {"hook": hooks[0]}, slow, node="a")
    second = Dispatcher(Outbox(engine), {"hook": hooks[1]}, slow, node="b")
    try:
        # The first process claims all three, fails on the oldest and stops there,
        # handing the two it did not try back at once.
        assert await first.deliver_due() == 0
        receiver.status = 200
        # The other process takes those two, but not the failed one before its retry time.
        assert await second.deliver_due() == 2
    finally:
        for hook in hooks:
            await hook.close()
    (state,) = Outbox(engine).deliveries(failing)
    assert state["status"] == "pending" and state["attempts"] == 1 and "503" in state["last_error"]
    assert [r.json()["id"] for r in receiver.received[1:]] == others


@pytest.mark.slow
@pytest.mark.postgres
def test_two_service_processes_send_each_alert_once(receiver: WebhookReceiver):
    with fresh_database("claims") as url:
        engine = make_engine(url)
        migrate(engine)
        ids = fill(Outbox(engine), 40, ["hook"])
        args = [sys.executable, "-m", "tests.stream.api.dispatcher_process", url, receiver.url]
        procs = [
            subprocess.Popen(
                [*args, node], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for node in ("one", "two")
        ]
        for p in procs:  # both connected: then both start at once
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        counts = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
        counts_by_status = Outbox(engine).counts()
        engine.dispose()
    got = sorted(r.json()["id"] for r in receiver.received)
    assert got == sorted(ids)  # each alert once, from one process or the other
    assert sum(counts) == len(ids) and all(counts), counts  # both processes sent some
    assert counts_by_status == {"delivered": len(ids)}
