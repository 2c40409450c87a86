"""SQL tables of the watchlist, alerts, their deliveries and API tokens.

Columns follow the store's conventions (integer ids, timezone-aware UTC times). They sit
in the same database as the sightings so that an alert and its deliveries are committed
together, before anything is sent. ``create_tables`` is idempotent (CREATE IF NOT EXISTS).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

watchlist_entries = Table(
    "watchlist_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plate_text", String(32), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("hours", String(16), nullable=True),  # "HH:MM-HH:MM" local time, NULL: all day
    Column("created", DateTime(timezone=True), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No foreign key: a sighting may be pruned by retention while its alert is kept.
    Column("sighting_id", Integer, nullable=False),
    Column("camera", String(128), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("reading", String(32), nullable=False, default=""),
    Column("entry_id", Integer, nullable=False),
    Column("plate_text", String(32), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("score", Float, nullable=False),
    Column("method", String(16), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("acknowledged_by", String(64), nullable=True),
    Index("ix_alerts_raised_at", "raised_at"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("receiver", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending|delivered|failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("alert_id", "receiver", name="uq_alert_deliveries_alert_receiver"),
    Index("ix_alert_deliveries_pending", "status", "receiver", "alert_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True), nullable=True),
    Column("last_used", DateTime(timezone=True), nullable=True),
)


def create_tables(engine: Engine) -> None:
    """Create whichever of the four tables the database lacks."""
    metadata.create_all(engine, checkfirst=True)
