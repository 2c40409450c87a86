"""cameras, sightings, watchlist, alerts, deliveries, tokens

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("settings", sa.JSON, nullable=True),
        sa.Column("retention_days", sa.Float, nullable=True),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires", _tz(), nullable=True),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("first_seen", _tz(), nullable=False),
        sa.Column("last_seen", _tz(), nullable=False),
        sa.Column("frame_count", sa.Integer, nullable=False),
        sa.Column("box_x", sa.Float, nullable=False),
        sa.Column("box_y", sa.Float, nullable=False),
        sa.Column("box_w", sa.Float, nullable=False),
        sa.Column("box_h", sa.Float, nullable=False),
        sa.Column("crop_path", sa.Text, nullable=True),
        sa.Column("frame_path", sa.Text, nullable=True),
        sa.Column("source_file", sa.Text, nullable=True),
        sa.Column("reading", sa.String(32), nullable=False),
        sa.Column("reading_confidence", sa.Float, nullable=False),
        sa.Column("detector_score", sa.Float, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
    )
    op.create_index("ix_sightings_camera_first_seen", "sightings", ["camera_id", "first_seen"])
    op.create_index("ix_sightings_last_seen", "sightings", ["last_seen"])
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plate_text", sa.String(32), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("hours", sa.String(16), nullable=True),
        sa.Column("created", _tz(), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sighting_id", sa.Integer, nullable=False),
        sa.Column("camera", sa.String(128), nullable=False),
        sa.Column("seen_at", _tz(), nullable=False),
        sa.Column("reading", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("plate_text", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("raised_at", _tz(), nullable=False),
        sa.Column("acknowledged_at", _tz(), nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_alerts_raised_at", "alerts", ["raised_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", _tz(), nullable=True),
        sa.UniqueConstraint("alert_id", "receiver", name="uq_alert_deliveries_alert_receiver"),
    )
    op.create_index(
        "ix_alert_deliveries_pending", "alert_deliveries", ["status", "receiver", "alert_id"]
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created", _tz(), nullable=False),
        sa.Column("revoked", _tz(), nullable=True),
        sa.Column("last_used", _tz(), nullable=True),
    )


def downgrade() -> None:
    for table in ("api_tokens", "alert_deliveries", "alerts", "watchlist_entries"):
        op.drop_table(table)
    op.drop_index("ix_sightings_last_seen", "sightings")
    op.drop_index("ix_sightings_camera_first_seen", "sightings")
    op.drop_table("sightings")
    op.drop_table("cameras")
