"""The SQL tables. SQL is the source of truth: each sighting's embedding is in its row.

Changes go through Alembic migrations (store/migrations/versions); this module is the
current shape that the code reads and writes.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

cameras = Table(
    "cameras",
    metadata,
    Column("id", String(128), primary_key=True),  # the camera's name in the config
    Column("url", Text, nullable=True),
    Column("kind", String(32), nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("settings", JSON, nullable=True),
    Column("retention_days", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Which service process runs the camera, and until when its claim holds.
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires", DateTime(timezone=True), nullable=True),
)

sightings = Table(
    "sightings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(128), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("frame_count", Integer, nullable=False, default=1),
    Column("box_x", Float, nullable=False, default=0.0),
    Column("box_y", Float, nullable=False, default=0.0),
    Column("box_w", Float, nullable=False, default=0.0),
    Column("box_h", Float, nullable=False, default=0.0),
    Column("crop_path", Text, nullable=True),  # relative to the data folder
    Column("frame_path", Text, nullable=True),
    Column("source_file", Text, nullable=True),  # the file a sighting was indexed from
    Column("frame_width", Integer, nullable=True),  # of the frame the box is measured in
    Column("frame_height", Integer, nullable=True),
    Column("reading", String(32), nullable=False, default=""),
    Column("reading_confidence", Float, nullable=False, default=0.0),
    Column("detector_score", Float, nullable=False, default=0.0),
    Column("embedding", LargeBinary, nullable=False),  # float32 little-endian, unit norm
    Column("model_version", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_sightings_camera_first_seen", "camera_id", "first_seen"),
    Index("ix_sightings_last_seen", "last_seen"),
)

# The watchlist, alerts, their deliveries (an outbox: stored before sent) and API tokens.
watchlist_entries = Table(
    "watchlist_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plate_text", String(32), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("hours", String(16), nullable=True),  # "HH:MM-HH:MM" local time, NULL: all day
    Column("created", DateTime(timezone=True), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    # The entry's rendered text embedded by model_version (a cache; NULL: not yet).
    Column("embedding", LargeBinary, nullable=True),
    Column("model_version", String(128), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=True),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No foreign key: a sighting may be pruned by retention while its alert is kept.
    # NULL until the car's track closes and is stored: an alert is raised while the car
    # is still in view, and names its track meanwhile.
    Column("sighting_id", Integer, nullable=True),
    Column("track", String(64), nullable=True),
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
    Column("crop_jpeg", LargeBinary, nullable=True),  # the view that raised it
    Index("ix_alerts_raised_at", "raised_at"),
    # One alert per watch entry per passing car (NULL tracks: alerts of older rows).
    Index("uq_alerts_track_entry", "track", "entry_id", unique=True),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("receiver", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),  # retry after this
    # The service process sending it, and until when no other process may.
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
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
