"""The database of a local data folder (or a given URL), for the CLI's offline commands."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from store.datadir import resolve_data_dir
from store.db import make_engine
from stream.alerts.tables import create_tables


def database_target(data: str | None, config: str | None, db: str | None) -> str:
    """--db, else the config file's store.url, else the data folder (its SQLite file)."""
    if db:
        return db
    if config:
        from stream.config import load_config

        loaded = load_config(config)
        if loaded.store.url:
            return loaded.store.url
        data = data or (str(loaded.store.data_dir) if loaded.store.data_dir else None)
    return str(resolve_data_dir(data))


def open_engine(data: str | None, config: str | None = None, db: str | None = None) -> Engine:
    """An engine on the store's database, migrated to the newest schema."""
    engine = make_engine(database_target(data, config, db))
    create_tables(engine)
    return engine
