"""The database of a local data folder (or a given URL), for the CLI's offline commands."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from stream.alerts.tables import create_tables

#: The SQLite file of the embedded store inside a data folder.
DB_FILE = "platewatch.db"


def data_folder(flag: str | None) -> Path:
    """--data, else $PLATEWATCH_DATA, else the store's default (store.datadir)."""
    try:
        datadir = importlib.import_module("store.datadir")
    except ModuleNotFoundError:
        env = os.environ.get("PLATEWATCH_DATA")
        folder = Path(flag or env or Path.home() / ".platewatch")
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return Path(datadir.resolve_data_dir(flag))


def database_url(data: str | None, config: str | None, db: str | None) -> str:
    """--db, else the config file's store.url, else the data folder's SQLite file."""
    if db:
        return db
    if config:
        from stream.config import load_config

        loaded = load_config(config)
        if loaded.store.url:
            return loaded.store.url
        data = data or (str(loaded.store.data_dir) if loaded.store.data_dir else None)
    return f"sqlite:///{data_folder(data) / DB_FILE}"


def open_engine(data: str | None, config: str | None = None, db: str | None = None) -> Engine:
    """An engine with the API's tables present."""
    engine = create_engine(database_url(data, config, db))
    create_tables(engine)
    return engine
