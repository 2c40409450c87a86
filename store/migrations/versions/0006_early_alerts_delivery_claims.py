"""alerts raised before their sighting is stored (track, crop, sighting_id nullable);
alert_deliveries: a claim, so one of several service processes sends each delivery

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DELIVERY_COLUMNS = (
    "id, alert_id, receiver, status, attempts, last_error, delivered_at, next_attempt_at"
)


def _alter_alerts(change: str) -> None:
    """Run ``change`` ("upgrade" or "downgrade") on the alerts table.

    On SQLite the table is rebuilt (a column's NULL-ability cannot be altered in place),
    and dropping the old table deletes its deliveries through their ON DELETE CASCADE
    when foreign keys are on: they are kept aside and put back.
    """
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(
            f"CREATE TEMP TABLE _deliveries_0006 AS SELECT {_DELIVERY_COLUMNS} "
            "FROM alert_deliveries"
        )
    with op.batch_alter_table("alerts") as batch:
        if change == "upgrade":
            # An alert raised while its car is still in view has no sighting yet: it names
            # the track, and the sighting is filled in when the track is stored.
            batch.alter_column("sighting_id", existing_type=sa.Integer, nullable=True)
            batch.add_column(sa.Column("track", sa.String(64), nullable=True))
            batch.add_column(sa.Column("crop_jpeg", sa.LargeBinary, nullable=True))
        else:
            batch.drop_column("crop_jpeg")
            batch.drop_column("track")
            batch.alter_column("sighting_id", existing_type=sa.Integer, nullable=False)
    if sqlite:
        op.execute("DELETE FROM alert_deliveries")
        op.execute(
            f"INSERT INTO alert_deliveries ({_DELIVERY_COLUMNS}) "
            f"SELECT {_DELIVERY_COLUMNS} FROM _deliveries_0006"
        )
        op.execute("DROP TABLE _deliveries_0006")


def upgrade() -> None:
    _alter_alerts("upgrade")
    # One alert per watch entry per passing car, however many of its frames match.
    op.create_index("uq_alerts_track_entry", "alerts", ["track", "entry_id"], unique=True)
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
    op.drop_index("uq_alerts_track_entry", "alerts")
    op.execute("DELETE FROM alerts WHERE sighting_id IS NULL")
    _alter_alerts("downgrade")
