"""watchlist_entries: enabled, embedding, model_version, updated_at; alert_deliveries:
next_attempt_at (retry time of the outbox)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watchlist_entries") as batch:
        batch.add_column(
            sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true())
        )
        # The entry's rendered text embedded by model_version (cached; NULL: not yet).
        batch.add_column(sa.Column("embedding", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("model_version", sa.String(128), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(
            sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_column("next_attempt_at")
    with op.batch_alter_table("watchlist_entries") as batch:
        for name in ("updated_at", "model_version", "embedding", "enabled"):
            batch.drop_column(name)
