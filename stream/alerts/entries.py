"""Watchlist entries in SQL: the lasting copy the in-memory Watchlist is loaded from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine, RowMapping

from stream.alerts.outbox import utc
from stream.alerts.tables import watchlist_entries
from stream.watchlist import ActiveHours, WatchlistEntry, check_plate_text


@dataclass(frozen=True)
class EntryDraft:
    """What a user gives for a new entry (or the full new state of an edited one).

    plate_text: as typed, normalised here (``?`` and ``*`` allowed); hours: ``HH:MM-HH:MM``.
    """

    plate_text: str
    threshold: float
    label: str = ""
    hours: str | None = None


def _entry(row: RowMapping) -> WatchlistEntry:
    return WatchlistEntry(
        id=row["id"],
        plate_text=row["plate_text"],
        threshold=float(row["threshold"]),
        label=row["label"],
        hours=ActiveHours.parse(row["hours"]) if row["hours"] else None,
        created=utc(row["created"]),
    )


def _values(draft: EntryDraft) -> dict[str, object]:
    """Checked column values; raises PlateTextError or WatchlistError naming the field."""
    text = check_plate_text(draft.plate_text)
    hours = ActiveHours.parse(draft.hours) if draft.hours else None
    # Building the entry checks the threshold range.
    WatchlistEntry(0, text, draft.threshold, draft.label, hours)
    return {
        "plate_text": text,
        "threshold": float(draft.threshold),
        "label": draft.label,
        "hours": str(hours) if hours else None,
    }


class EntryStore:
    """CRUD on ``watchlist_entries``; blocking calls."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, draft: EntryDraft) -> WatchlistEntry:
        values = _values(draft) | {"created": datetime.now(UTC)}
        with self._engine.begin() as conn:
            key = conn.execute(watchlist_entries.insert().values(**values)).inserted_primary_key
        entry = self.get(int(key[0]) if key else 0)
        if entry is None:  # the row was deleted between the two statements
            raise LookupError("watchlist entry vanished while being added")
        return entry

    def get(self, entry_id: int) -> WatchlistEntry | None:
        query = select(watchlist_entries).where(watchlist_entries.c.id == entry_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _entry(row) if row else None

    def all(self) -> list[WatchlistEntry]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(watchlist_entries).order_by("id")).mappings().all()
        return [_entry(r) for r in rows]

    def replace(self, entry_id: int, draft: EntryDraft) -> WatchlistEntry | None:
        """Give an entry new values; None when no entry has that id."""
        query = update(watchlist_entries).where(watchlist_entries.c.id == entry_id)
        with self._engine.begin() as conn:
            changed = conn.execute(query.values(**_values(draft))).rowcount
        return self.get(entry_id) if changed else None

    def remove(self, entry_id: int) -> bool:
        query = delete(watchlist_entries).where(watchlist_entries.c.id == entry_id)
        with self._engine.begin() as conn:
            return bool(conn.execute(query).rowcount)
