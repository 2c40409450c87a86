"""The alert outbox: an alert and one delivery row per receiver, committed together
before anything is sent, so a crash or a receiver that is down loses nothing.

An alert raised while its car is still in view names its track (``track``) and carries
the matching view (``crop_jpeg``); ``link`` fills in its sighting once the track is
stored. Deliveries are claimed (``claim``) by the process that sends them, so several
processes can share one outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from stream.alerts.dispatch import Claim, Delivery
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
        track=row["track"],
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
        crop_jpeg=row.get("crop_jpeg"),
    )


#: The alert columns listed and fetched: all but the crop, which only channels need.
_LISTED = [c for c in alerts.c if c.name != "crop_jpeg"]


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

    def add(self, alert: Alert, receivers: list[str]) -> Alert | None:
        """Store ``alert`` (its id is ignored) with a pending delivery per receiver;
        returns it with the id it was given, or None when its track already has an alert
        for its entry (one alert per entry per passing car)."""
        values = {k: v for k, v in alert.__dict__.items() if k != "id"}
        try:
            with self._engine.begin() as conn:
                inserted = conn.execute(alerts.insert().values(**values)).inserted_primary_key
                alert_id = int(inserted[0]) if inserted else 0
                if receivers:
                    conn.execute(
                        alert_deliveries.insert(),
                        [
                            {"alert_id": alert_id, "receiver": r, "status": "pending"}
                            for r in receivers
                        ],
                    )
        except IntegrityError:
            if alert.track is None:
                raise
            return None  # uq_alerts_track_entry: this pass was alerted on already
        return replace(alert, id=alert_id)

    def link(self, track: str, sighting_id: int) -> int:
        """The track's sighting is stored: its alerts name it. Returns how many."""
        query = update(alerts).where(alerts.c.track == track, alerts.c.sighting_id.is_(None))
        with self._engine.begin() as conn:
            return int(conn.execute(query.values(sighting_id=sighting_id)).rowcount)

    def claim(self, receiver: str, limit: int, claim: Claim) -> list[Delivery]:
        """Take up to ``limit`` of ``receiver``'s due deliveries, oldest alert first, for
        ``claim.node`` until ``claim.until``: no other process takes them meanwhile.

        One statement: the rows are picked once (a MATERIALIZED CTE; on PostgreSQL with
        FOR UPDATE SKIP LOCKED, so two processes pick different rows), and the UPDATE
        checks each picked row is still free. As a plain ``IN (subquery)`` PostgreSQL
        may run the subquery again per row, and each run, no longer seeing the rows
        just claimed as free, picks more: every pending row ends up taken. SQLite runs
        one writer at a time.
        """
        d = alert_deliveries.c
        now = claim.now
        free = or_(d.claimed_until.is_(None), d.claimed_until < now)
        due = or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now)
        wanted = and_(d.status == "pending", d.receiver == receiver, free, due)
        picked = (
            select(d.id)
            .where(wanted)
            .order_by(d.alert_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED")
        )
        take = (
            update(alert_deliveries)
            .where(d.id.in_(select(picked.c.id)), wanted)
            .values(claimed_by=claim.node, claimed_until=claim.until)
            .returning(d.id)
        )
        with self._engine.begin() as conn:
            taken = [int(i) for i in conn.execute(take).scalars().all()]
            if not taken:
                return []
            query = (
                select(d.id.label("delivery_id"), d.receiver, d.attempts, *alerts.c)
                .join_from(alert_deliveries, alerts, alerts.c.id == d.alert_id)
                .where(d.id.in_(taken))
                .order_by(d.alert_id)
            )
            rows = conn.execute(query).mappings().all()
        return [Delivery(r["delivery_id"], _alert(r), r["receiver"], r["attempts"]) for r in rows]

    def release(self, delivery_ids: list[int], node: str) -> None:
        """Hand back claimed deliveries that were not tried, for the next round."""
        if not delivery_ids:
            return
        d = alert_deliveries.c
        query = update(alert_deliveries).where(d.id.in_(delivery_ids), d.claimed_by == node)
        with self._engine.begin() as conn:
            conn.execute(query.values(claimed_by=None, claimed_until=None))

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
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    def failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """A send failed: retried from ``retry_at`` (by any process), or given up (None)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(alert_deliveries)
                .where(alert_deliveries.c.id == delivery_id)
                .values(
                    status="pending" if retry_at else "failed",
                    attempts=alert_deliveries.c.attempts + 1,
                    last_error=error[:2000],
                    next_attempt_at=retry_at,
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    def get(self, alert_id: int) -> Alert | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(*_LISTED).where(alerts.c.id == alert_id)).mappings().first()
        return _alert(row) if row else None

    def crop(self, alert_id: int) -> bytes | None:
        """The JPEG of the view that raised the alert; None when unknown or not kept."""
        query = select(alerts.c.crop_jpeg).where(alerts.c.id == alert_id)
        with self._engine.connect() as conn:
            found = conn.execute(query).scalar()
        return bytes(found) if found is not None else None

    def find(self, which: AlertFilter) -> list[Alert]:
        query = select(*_LISTED).order_by(alerts.c.raised_at.desc(), alerts.c.id.desc())
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
