"""The SQL tables of the watchlist, alerts, their deliveries and API tokens.

They are defined with every other table in store.schema and created by the store's
migrations; this module names the ones the alerting and API code use.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from store.db import migrate
from store.schema import alert_deliveries, alerts, api_tokens, watchlist_entries

__all__ = ["alert_deliveries", "alerts", "api_tokens", "create_tables", "watchlist_entries"]


def create_tables(engine: Engine) -> None:
    """Bring the database to the store's newest schema (idempotent)."""
    migrate(engine)
