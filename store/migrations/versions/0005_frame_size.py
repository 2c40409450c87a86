"""sightings: the size of the frame a sighting's box was found in

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: sightings stored before this (or without a frame) have no frame size.
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("frame_width", sa.Integer, nullable=True))
        batch.add_column(sa.Column("frame_height", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("frame_height")
        batch.drop_column("frame_width")
