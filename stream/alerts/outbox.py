"""The alert outbox: an alert and one delivery row per receiver, committed together
before anything is sent, so a crash or a receiver that is down loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine, RowMapping

from stream.alerts.dispatch import Delivery
from stream.alerts.tables import alert_deliveries, alerts
from stream.alerts.types import Alert


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return None if moment is None else _utc(moment)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _alert(row: RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        sighting_id=row["sighting_id"],
        camera=row["camera"],
        seen_at=_utc(row["seen_at"]),
        reading=row["reading"],
        entry_id=row["entry_id"],
        plate_text=row["plate_text"],
        label=row["label"],
        score=float(row["score"]),
        method=row["method"],
        raised_at=_utc(row["raised_at"]),
        acknowledged_at=utc(row["acknowledged_at"]),
    )


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to list; times are UTC, ``until`` exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    camera: str | None = None
    entry_id: int | None = None
    unacknowledged: bool = False
    limit: int = 100
    offset: int = 0


class Outbox:
    """Alerts and their deliveries in SQL; blocking calls (run them off the event loop)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, alert: Alert, receivers: list[str]) -> Alert:
        """Store ``alert`` (its id is ignored) with a pending delivery per receiver;
        returns it with the id it was given."""
        values: dict[str, Any] = alert.payload() | {
            "seen_at": alert.seen_at,
            "raised_at": alert.raised_at,
            "acknowledged_at": None,
            "score": alert.score,
        }
        values.pop("id")
        with self._engine.begin() as conn:
            inserted = conn.execute(alerts.insert().values(**values)).inserted_primary_key
            alert_id = int(inserted[0]) if inserted else 0
            if receivers:
                conn.execute(
                    alert_deliveries.insert(),
                    [{"alert_id": alert_id, "receiver": r, "status": "pending"} for r in receivers],
                )
        return Alert(**{**alert.__dict__, "id": int(alert_id)})

    def pending(self, receivers: list[str], limit: int) -> list[Delivery]:
        d = alert_deliveries.c
        query = (
            select(d.id.label("delivery_id"), d.receiver, d.attempts, *alerts.c)
            .join_from(alert_deliveries, alerts, alerts.c.id == d.alert_id)
            .where(d.status == "pending", d.receiver.in_(receivers))
            .order_by(d.alert_id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Delivery(r["delivery_id"], _alert(r), r["receiver"], r["attempts"]) for r in rows]

    def delivered(self, delivery_id: int, at: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(alert_deliveries)
                .where(alert_deliveries.c.id == delivery_id)
                .values(
                    status="delivered",
                    delivered_at=at,
                    attempts=alert_deliveries.c.attempts + 1,
                    last_error=None,
                )
            )

    def failed(self, delivery_id: int, error: str, give_up: bool) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(alert_deliveries)
                .where(alert_deliveries.c.id == delivery_id)
                .values(
                    status="failed" if give_up else "pending",
                    attempts=alert_deliveries.c.attempts + 1,
                    last_error=error[:2000],
                )
            )

    def get(self, alert_id: int) -> Alert | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().first()
        return _alert(row) if row else None

    def find(self, which: AlertFilter) -> list[Alert]:
        query = select(alerts).order_by(alerts.c.raised_at.desc(), alerts.c.id.desc())
        if which.since is not None:
            query = query.where(alerts.c.raised_at >= which.since)
        if which.until is not None:
            query = query.where(alerts.c.raised_at < which.until)
        if which.camera is not None:
            query = query.where(alerts.c.camera == which.camera)
        if which.entry_id is not None:
            query = query.where(alerts.c.entry_id == which.entry_id)
        if which.unacknowledged:
            query = query.where(alerts.c.acknowledged_at.is_(None))
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(which.limit).offset(which.offset)).mappings().all()
        return [_alert(r) for r in rows]

    def acknowledge(self, alert_id: int, by: str) -> Alert | None:
        """Mark an alert seen by a person (first acknowledgement wins); None if unknown."""
        with self._engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .where(alerts.c.acknowledged_at.is_(None))
                .values(acknowledged_at=datetime.now(UTC), acknowledged_by=by)
            )
        return self.get(alert_id)

    def deliveries(self, alert_id: int) -> list[dict[str, Any]]:
        """Each receiver's delivery state of one alert."""
        cols = alert_deliveries.c
        query = (
            select(cols.receiver, cols.status, cols.attempts, cols.last_error, cols.delivered_at)
            .where(cols.alert_id == alert_id)
            .order_by(cols.receiver)
        )
        with self._engine.connect() as conn:
            return [
                {**r, "delivered_at": utc(r["delivered_at"])}
                for r in conn.execute(query).mappings().all()
            ]

    def counts(self) -> dict[str, int]:
        """Deliveries by status (pending, delivered, failed)."""
        query = select(alert_deliveries.c.status, func.count()).group_by(alert_deliveries.c.status)
        with self._engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query).all()}
