"""Migration 0006 on a database that already holds alerts: nothing is lost.

On SQLite the alerts table is rebuilt to let ``sighting_id`` be NULL; dropping the old
table would take the deliveries with it through their ON DELETE CASCADE if the migration
did not keep them aside. Real SQLite file and the real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from store.db import MIGRATIONS, make_engine
from stream.alerts.outbox import AlertFilter, Outbox
from tests.postgres import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database, not migrated."""
    if request.param == "sqlite":
        engine = make_engine(tmp_path)  # the data folder's SQLite, as the service opens it
        yield engine
        engine.dispose()
        return
    with fresh_database("migration") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def to(engine: Engine, revision: str, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_upgrade_keeps_alerts_and_their_deliveries(bare: Engine):
    to(bare, "0005")
    with bare.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alerts (sighting_id, camera, seen_at, reading, entry_id, "
                "plate_text, label, score, method, raised_at) VALUES (41, 'gate', "
                "'2026-11-24 08:00:00+00:00', 'AB1234CD', 3, 'AB1234CD', 'van', 0.8, "
                "'vector', '2026-11-24 08:00:01+00:00')"
            )
        )
        alert_id = conn.execute(text("SELECT id FROM alerts")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO alert_deliveries (alert_id, receiver, status, attempts) "
                "VALUES (:a, 'hook', 'pending', 2), (:a, 'mqtt', 'delivered', 1)"
            ),
            {"a": alert_id},
        )
    to(bare, "head")
    outbox = Outbox(bare)
    (alert,) = outbox.find(AlertFilter())
    assert (alert.id, alert.sighting_id, alert.track, alert.label) == (alert_id, 41, None, "van")
    states = {d["receiver"]: (d["status"], d["attempts"]) for d in outbox.deliveries(alert_id)}
    assert states == {"hook": ("pending", 2), "mqtt": ("delivered", 1)}
    columns = {c["name"]: c for c in inspect(bare).get_columns("alerts")}
    assert columns["sighting_id"]["nullable"] and {"track", "crop_jpeg"} <= set(columns)
    # Back down and up again: the schema steps both ways.
    to(bare, "0005", down=True)
    to(bare, "head")
    assert [a.id for a in outbox.find(AlertFilter())] == [alert_id]
    assert len(outbox.deliveries(alert_id)) == 2
