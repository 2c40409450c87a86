"""Two real ``platewatch serve`` processes share four synthetic cameras through leases in
a real PostgreSQL database; one is killed (SIGKILL) and the other takes its cameras over
within lease_s + renew_s, with every sighting kept and no camera run by both at once."""

from __future__ import annotations

import itertools
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from store.db import migrate
from store.leases import LeaseError, Leases, LeaseSettings, fair_share, history
from tests.conftest import REPO
from tests.postgres import fresh_database
from tests.stream.media import free_port

CAMERAS = ["cam-1", "cam-2", "cam-3", "cam-4"]
PLATES = ["AA5149EK", "KA0712BM", "BC4821HT", "AI9035KX"]
LEASE_S, RENEW_S = 4.0, 1.0
#: The promise: a dead node's cameras run elsewhere within a lease and a round; the
#: slack covers one round's own time and starting a camera on this busy 2-core machine.
TAKEOVER_S = LEASE_S + RENEW_S + 3.0


@pytest.fixture
def db_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server at 127.0.0.1:5432, dropped afterwards."""
    with fresh_database("cluster") as url:
        yield url


def _config(tmp: Path, node: str, url: str) -> Path:
    source = {"type": "synthetic", "width": 480, "height": 270, "fps": 2.0}
    config = {
        "cameras": {
            name: {"source": {**source, "seed": i, "plates": [PLATES[i]]}}
            for i, name in enumerate(CAMERAS)
        },
        "detector": {"name": "ppocr", "options": {"max_side": 480}},
        "tracking": {"close_after_s": 1.0},
        "store": {"url": url},
        "auth": {"enabled": False},
        "cluster": {"enabled": True, "lease_s": LEASE_S, "renew_s": RENEW_S, "node_id": node},
    }
    path = tmp / f"{node}.json"
    path.write_text(json.dumps(config))
    return path


def _serve(tmp: Path, node: str, url: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    args = ["serve", "--config", str(_config(tmp, node, url)), "--port", str(port)]
    with (tmp / f"{node}.log").open("w") as log:  # the child keeps its own copy open
        process = subprocess.Popen(
            [sys.executable, "-m", "platewatch", *args, "--data", str(tmp / node)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    return process, port


def _announced(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """The process's first line, or "" if it says nothing within ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        return process.stdout.readline() if sel.select(timeout) else ""


def _owners(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, lease_owner FROM cameras ORDER BY id"))
        return {r[0]: r[1] for r in rows}


def _sighting_ids(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {int(r[0]): r[1] for r in conn.execute(text("SELECT id, camera_id FROM sightings"))}


def _frames(port: int) -> dict[str, float]:
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.findall(
        r'^platewatch_frames_processed_total\{camera="([^"]+)"\} (\S+)$', body, re.MULTILINE
    )
    return {camera: float(v) for camera, v in found}


def _wait(what: str, check: Callable[[], bool], timeout: float) -> float:
    """Poll ``check()`` until true; returns the seconds it took. Fails naming ``what``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.25)
    pytest.fail(f"{what}: not within {timeout:.0f} s")


@pytest.mark.slow
def test_killed_node_cameras_move_to_the_live_one(tmp_path: Path, db_url: str) -> None:
    engine = create_engine(db_url)
    a, port_a = _serve(tmp_path, "node-a", db_url)
    b, _port_b = _serve(tmp_path, "node-b", db_url)
    try:
        for process, node in ((a, "node-a"), (b, "node-b")):
            assert "serving" in _announced(process), (tmp_path / f"{node}.log").read_text()
        # Fair share: two each, once both heartbeat.
        _wait(
            "cameras split 2 + 2",
            lambda: sorted(map(str, _owners(engine).values())) == ["node-a"] * 2 + ["node-b"] * 2,
            30,
        )
        # Sightings stored by both nodes before the kill.
        _wait(
            "sightings from cameras of both nodes",
            lambda: (
                {_owners(engine)[c] for c in set(_sighting_ids(engine).values())}
                == {"node-a", "node-b"}
            ),
            45,
        )
        owners = _owners(engine)
        b_cameras = sorted(c for c, o in owners.items() if o == "node-b")
        before = _sighting_ids(engine)
        frames_a = _frames(port_a)

        b.send_signal(signal.SIGKILL)
        b.wait(10)
        with engine.connect() as conn:
            killed_at: datetime = conn.execute(text("SELECT now()")).scalar_one()
        took = _wait(
            "node-b's cameras claimed by node-a",
            lambda: set(_owners(engine).values()) == {"node-a"},
            TAKEOVER_S,
        )
        # ... and running there: frames of every camera keep coming on node-a.
        _wait(
            "node-a processing node-b's cameras",
            lambda: all(_frames(port_a).get(c, 0) > frames_a.get(c, 0) for c in b_cameras),
            TAKEOVER_S,
        )
        gauges = httpx.get(f"http://127.0.0.1:{port_a}/metrics", timeout=5).text
        assert "platewatch_cluster_cameras_held 4.0" in gauges
        assert "platewatch_cluster_live_nodes 1.0" in gauges
        print(f"takeover: claimed {took:.1f} s after SIGKILL (promise {TAKEOVER_S:.0f} s)")

        # No sighting lost: every row stored before the kill is still there.
        after = _sighting_ids(engine)
        assert set(before) <= set(after)

        # No camera held by two nodes at once: per camera, each lease ends before the
        # next one starts; node-a took node-b's only after node-b's lease ran out.
        for camera in CAMERAS:
            leases = [h for h in history(engine) if h[0] == camera]
            for (_, _, _, released), (_, _, claimed, _) in itertools.pairwise(leases):
                assert released is not None and released <= claimed, (camera, leases)
        for camera in b_cameras:
            last_b, first_a = [h for h in history(engine) if h[0] == camera][-2:]
            assert (last_b[1], first_a[1]) == ("node-b", "node-a")
            assert first_a[2] >= killed_at, "claimed before node-b died"

        # node-a answers searches over all sightings, node-b's included.
        found: set[int] = set()
        for camera in b_cameras:
            plate = PLATES[CAMERAS.index(camera)]
            reply = httpx.get(
                f"http://127.0.0.1:{port_a}/api/sightings/search",
                params={"text": plate, "camera": camera, "limit": 500},
                timeout=30,
            )
            reply.raise_for_status()
            found |= {int(s["id"]) for s in reply.json()}
        assert {i for i, c in before.items() if c in b_cameras} <= found

        # A clean stop hands every lease back at once.
        a.send_signal(signal.SIGTERM)
        a.wait(30)
        assert set(_owners(engine).values()) == {None}
    finally:
        for process in (a, b):
            if process.poll() is None:
                process.kill()
                process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
        engine.dispose()


# --- the lease rows themselves, in this process (fast) -----------------------------------


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _node(engine: Engine, name: str, lease_s: float = 60.0) -> Leases:
    leases = Leases(engine, LeaseSettings(name, lease_s), CAMERAS)
    leases.register()
    return leases


@pytest.mark.parametrize(
    ("cameras", "nodes", "share"),
    [
        (4, 1, 4),
        (4, 2, 2),
        (5, 2, 3),  # the odd camera goes to whoever claims first
        (4, 3, 2),
        (2, 5, 1),  # more nodes than cameras: some run none
        (0, 2, 0),
        (3, 0, 3),  # no heartbeat seen yet counts as this node alone
    ],
)
def test_fair_share(cameras: int, nodes: int, share: int) -> None:
    assert fair_share(cameras, nodes) == share


def test_second_node_gets_the_surplus_the_first_hands_back(engine: Engine) -> None:
    a = _node(engine, "a")
    first = a.step()
    assert first.held == set(CAMERAS) and first.live_nodes == 1
    b = _node(engine, "b")
    assert b.step().held == set()  # all leased: nothing to take yet
    step = a.step()  # a now sees two live nodes and holds twice its share
    assert (step.live_nodes, step.share, len(step.surplus)) == (2, 2, 2)
    a.release(step.surplus)
    assert b.step().held == step.surplus
    assert a.step().held == set(CAMERAS) - step.surplus  # renewal keeps the rest


def test_an_unexpired_lease_is_never_taken(engine: Engine) -> None:
    a, b = _node(engine, "a"), _node(engine, "b")
    a.step()
    for _ in range(3):
        assert b.step().held == set()
    assert set(_owners(engine).values()) == {"a"}


def test_an_expired_lease_moves_and_the_old_holder_cannot_renew_it(engine: Engine) -> None:
    # Short leases for both (nodes of one cluster share the setting).
    a, b = _node(engine, "a", lease_s=1.5), _node(engine, "b", lease_s=1.5)
    a.step()
    time.sleep(2.0)  # a stops renewing (as a dead process would)
    assert b.step().held == set(CAMERAS)  # b alone is live by now
    assert a.step().held == set()  # a's late renewal finds the rows taken
    for camera in CAMERAS:
        (_, first, _, released), (_, second, claimed, _) = [
            h for h in history(engine) if h[0] == camera
        ]
        assert (first, second) == ("a", "b")
        assert released is not None and released <= claimed


def test_leave_hands_everything_back(engine: Engine) -> None:
    a = _node(engine, "a")
    a.step()
    a.leave()
    assert set(_owners(engine).values()) == {None}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM nodes")).scalar_one() == 0


@pytest.mark.parametrize(
    ("node_id", "lease_s", "says"),
    [
        ("", 10.0, "node_id"),
        ("x" * 129, 10.0, "node_id"),
        ("a", 0.0, "lease_s"),
        ("a", -1.0, "lease_s"),
    ],
)
def test_bad_lease_settings_are_refused(node_id: str, lease_s: float, says: str) -> None:
    with pytest.raises(LeaseError, match=says):
        LeaseSettings(node_id, lease_s)


def test_a_camera_switched_off_in_the_database_is_not_claimed(engine: Engine) -> None:
    a = _node(engine, "a")
    _node(engine, "b")  # registering again keeps the rows as they are
    with engine.begin() as conn:
        conn.execute(text("UPDATE cameras SET enabled = false WHERE id = 'cam-4'"))
    a.register()
    assert a.step().held == set(CAMERAS) - {"cam-4"}


def test_leases_on_a_sqlite_data_folder(tmp_path: Path) -> None:
    # One machine, several processes on one SQLite file: the same rules, the local clock.
    engine = create_engine(f"sqlite:///{tmp_path / 'leases.db'}")
    migrate(engine)
    try:
        a, b = _node(engine, "a", lease_s=1.0), _node(engine, "b", lease_s=1.0)
        assert a.step().held == set(CAMERAS)
        assert b.step().held == set()
        time.sleep(1.3)
        assert b.step().held == set(CAMERAS)
    finally:
        engine.dispose()
