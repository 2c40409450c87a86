"""sightings.vec: the embedding as a pgvector ``vector``, where the server has pgvector

Revision ID: 0002
Revises: 0001

SQLite, and PostgreSQL servers without the extension, keep only the float32 bytes in
``sightings.embedding`` (the truth on every backend) and search through hnswlib. Where
pgvector can be enabled, the same vector is also written to ``vec`` in the same row, so
the server itself can search it (store/pgvectors.py).
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def _enable_pgvector(conn: sa.Connection) -> bool:
    available = conn.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if available is None:
        return False
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError as exc:
        # Installed on the server but not ours to enable (creating it needs rights).
        savepoint.rollback()
        log.warning("pgvector is installed but cannot be enabled: %s", exc.orig)
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql" or not _enable_pgvector(conn):
        return
    # No fixed dimension: each model's size is fixed by the expression index built for it.
    op.execute("ALTER TABLE sightings ADD COLUMN IF NOT EXISTS vec vector")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sightings DROP COLUMN IF EXISTS vec")
