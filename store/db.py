"""Opening the database: SQLite (WAL) in the data folder, or a PostgreSQL URL; migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
DB_FILE = "platewatch.db"
#: PostgreSQL advisory lock key held while migrating (any constant the app alone uses).
MIGRATE_LOCK = 0x706C6174


class StoreOpenError(PlatewatchError, RuntimeError):
    """The database could not be opened or migrated; the message says which and why."""


#: Each SQLite connection's own page cache, in KiB. SQLite's default (2,000 KiB) is per
#: connection, and the pool holds up to 15: a long-running service's caches then fill as the
#: file grows, up to ~30 MB. Pages beyond it are read through the system's page cache,
#: which is shared and given back under pressure.
SQLITE_CACHE_KIB = 256


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed sighting survives a crash of the process and of the machine.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def is_url(target: str | Path) -> bool:
    return "://" in str(target)


def make_engine(target: str | Path) -> Engine:
    """An engine for a database URL, or for the SQLite file inside a data folder."""
    if is_url(target):
        url = str(target)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    folder = Path(target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreOpenError(f"cannot create the data folder {folder}: {exc}") from None
    engine = create_engine(
        f"sqlite:///{folder / DB_FILE}", connect_args={"check_same_thread": False, "timeout": 30}
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # Alembic announces every step at INFO; a service opening its store need not.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Processes starting together on one fresh database take turns (held
                # until this transaction ends), else both try to create the same tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise StoreOpenError(f"cannot open or migrate {engine.url!r}: {exc.orig}") from None
