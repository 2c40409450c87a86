"""Cameras shared out between service processes through row leases in the database.

Each process (a *node*) heartbeats in ``nodes`` and holds cameras by writing its id and
an expiry into ``cameras.lease_owner``/``lease_expires``. A claim is one conditional
UPDATE per camera (``WHERE lease_expires < now OR lease_owner = me``), so two nodes can
never both win the same row; a live node renews what it holds, a dead one stops renewing
and its cameras become free when the lease runs out. A node claims at most its fair share,
ceil(cameras / live nodes), and hands back the surplus when more nodes appear.

Times come from the database's clock (PostgreSQL ``now()``), so nodes on machines whose
clocks disagree still agree on when a lease ends. ``lease_history`` records who ran which
camera from when to when.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from platewatch.errors import PlatewatchError
from store import schema

log = logging.getLogger(__name__)
C = schema.cameras

# Tables of migration 0004 (only this module reads or writes them).
_meta = MetaData()
nodes = Table(
    "nodes",
    _meta,
    Column("id", String(128), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat", DateTime(timezone=True), nullable=False),
)
lease_history = Table(
    "lease_history",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(128), nullable=False),
    Column("node_id", String(128), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
)

#: A node whose heartbeat is this many leases old is deleted from ``nodes``.
FORGET_AFTER_LEASES = 10


class LeaseError(PlatewatchError, ValueError):
    """Lease settings are impossible (the message names the setting and what is allowed)."""


@dataclass(frozen=True)
class LeaseSettings:
    """node_id: this process's name, unique among the nodes; lease_s: seconds a claim
    holds without renewal (the longest a dead node's cameras stay unserved)."""

    node_id: str
    lease_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.node_id or len(self.node_id) > 128:
            raise LeaseError(f"node_id must have 1 to 128 characters, got {self.node_id!r}")
        if not self.lease_s > 0:
            raise LeaseError(f"lease_s must be positive seconds, got {self.lease_s}")


@dataclass(frozen=True)
class LeaseStep:
    """One round's outcome. held: cameras this node holds now (renewed or newly claimed);
    surplus: cameras it holds beyond its fair share, to stop and then :meth:`Leases.release`;
    live_nodes: nodes with a fresh heartbeat (this one included); share: the fair share."""

    held: frozenset[str]
    surplus: frozenset[str]
    live_nodes: int
    share: int


def fair_share(cameras: int, live_nodes: int) -> int:
    """The most cameras one node should hold: ceil(cameras / live nodes)."""
    return math.ceil(cameras / max(1, live_nodes))


class Leases:
    """The lease rows of one node for a fixed set of camera ids (the config's cameras)."""

    def __init__(self, engine: Engine, settings: LeaseSettings, camera_ids: Iterable[str]) -> None:
        self.engine = engine
        self.settings = settings
        self.camera_ids = sorted(set(camera_ids))
        self._lease = timedelta(seconds=settings.lease_s)

    @property
    def node_id(self) -> str:
        return self.settings.node_id

    def _now(self, conn: Connection) -> datetime:
        if conn.dialect.name == "postgresql":
            moment: datetime = conn.execute(select(func.now())).scalar_one()
            return moment.astimezone(UTC)
        return datetime.now(UTC)  # SQLite: one machine, one clock

    def register(self) -> None:
        """Insert a ``cameras`` row for each camera id that has none (enabled, no lease)."""
        with self.engine.begin() as conn:
            dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            now = self._now(conn)
            for camera_id in self.camera_ids:
                # Nodes starting together register the same cameras: the first row wins.
                conn.execute(
                    dialect(C)
                    .values(id=camera_id, enabled=True, created_at=now)
                    .on_conflict_do_nothing(index_elements=["id"])
                )

    def step(self) -> LeaseStep:
        """Heartbeat, renew what this node holds, claim free cameras up to the fair share."""
        with self.engine.begin() as conn:
            now = self._now(conn)
            live = self._heartbeat(conn, now)
            enabled = self._enabled(conn)
            share = fair_share(len(enabled), live)
            held = self._renew(conn, now)
            free = self._free(conn, now)
        for camera_id in enabled:
            if len(held) >= share:
                break
            # Each try is its own atomic UPDATE: another node may win it meanwhile.
            if camera_id in free and self._claim(camera_id):
                held.add(camera_id)
        surplus = sorted(held)[share:] if len(held) > share else []
        return LeaseStep(frozenset(held), frozenset(surplus), live, share)

    def _heartbeat(self, conn: Connection, now: datetime) -> int:
        me = nodes.c.id == self.node_id
        if conn.execute(update(nodes).where(me).values(heartbeat=now)).rowcount == 0:
            conn.execute(insert(nodes).values(id=self.node_id, started_at=now, heartbeat=now))
        stale = now - self._lease * FORGET_AFTER_LEASES
        conn.execute(delete(nodes).where(nodes.c.heartbeat < stale))
        fresh = nodes.c.heartbeat >= now - self._lease
        return int(conn.execute(select(func.count()).select_from(nodes).where(fresh)).scalar_one())

    def _enabled(self, conn: Connection) -> list[str]:
        rows = conn.execute(
            select(C.c.id).where(C.c.id.in_(self.camera_ids), C.c.enabled).order_by(C.c.id)
        )
        return [r for (r,) in rows]

    def _renew(self, conn: Connection, now: datetime) -> set[str]:
        # Only leases still running: one that ran out may belong to another node already.
        mine = and_(C.c.lease_owner == self.node_id, C.c.lease_expires > now)
        rows = conn.execute(
            update(C)
            .where(mine, C.c.enabled)
            .values(lease_expires=now + self._lease)
            .returning(C.c.id)
        )
        return {r for (r,) in rows}

    def _free(self, conn: Connection, now: datetime) -> set[str]:
        open_ = or_(C.c.lease_expires.is_(None), C.c.lease_expires < now)
        rows = conn.execute(select(C.c.id).where(C.c.id.in_(self.camera_ids), open_))
        return {r for (r,) in rows}

    def _claim(self, camera_id: str) -> bool:
        """Take one camera if its lease is free or ran out; True when this node won it."""
        with self.engine.begin() as conn:
            now = self._now(conn)
            before = conn.execute(
                select(C.c.lease_owner, C.c.lease_expires).where(C.c.id == camera_id)
            ).first()
            free = or_(
                C.c.lease_expires.is_(None),
                C.c.lease_expires < now,
                C.c.lease_owner == self.node_id,
            )
            won = conn.execute(
                update(C)
                .where(C.c.id == camera_id, C.c.enabled, free)
                .values(lease_owner=self.node_id, lease_expires=now + self._lease)
            ).rowcount
            if not won:
                return False
            if before is not None and before.lease_owner and before.lease_owner != self.node_id:
                # The last holder never said it let go: its lease's end is when it stopped.
                self._close_history(conn, camera_id, before.lease_owner, before.lease_expires)
            conn.execute(
                insert(lease_history).values(
                    camera_id=camera_id, node_id=self.node_id, claimed_at=now
                )
            )
        log.info("node %s claimed camera %s", self.node_id, camera_id)
        return True

    def _close_history(
        self, conn: Connection, camera_id: str, node_id: str, at: datetime | None
    ) -> None:
        h = lease_history.c
        conn.execute(
            update(lease_history)
            .where(h.camera_id == camera_id, h.node_id == node_id, h.released_at.is_(None))
            .values(released_at=at)
        )

    def release(self, camera_ids: Iterable[str]) -> None:
        """Give cameras back (after they stopped here), so another node may claim them now."""
        ids = sorted(set(camera_ids))
        if not ids:
            return
        with self.engine.begin() as conn:
            now = self._now(conn)
            conn.execute(
                update(C)
                .where(C.c.id.in_(ids), C.c.lease_owner == self.node_id)
                .values(lease_owner=None, lease_expires=None)
            )
            for camera_id in ids:
                self._close_history(conn, camera_id, self.node_id, now)
        log.info("node %s released cameras %s", self.node_id, ", ".join(ids))

    def leave(self) -> None:
        """Release every camera this node holds and drop its heartbeat (a clean stop)."""
        with self.engine.connect() as conn:
            held = [
                r for (r,) in conn.execute(select(C.c.id).where(C.c.lease_owner == self.node_id))
            ]
        self.release(held)
        with self.engine.begin() as conn:
            conn.execute(delete(nodes).where(nodes.c.id == self.node_id))


def history(engine: Engine) -> list[tuple[str, str, datetime, datetime | None]]:
    """Every lease taken: (camera id, node id, claimed at, released at or None), in
    claim order per camera."""
    h = lease_history.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(h.camera_id, h.node_id, h.claimed_at, h.released_at).order_by(
                h.camera_id, h.claimed_at, h.id
            )
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]
