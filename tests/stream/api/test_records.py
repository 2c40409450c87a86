"""Watchlist entries and API tokens in SQL, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from alphabet.text import PlateTextError
from stream.alerts.entries import EntryDraft, EntryStore
from stream.alerts.tables import api_tokens
from stream.api.token_store import TokenStore
from stream.api.tokens import TokenError, hash_secret, parse_token
from stream.watchlist import ActiveHours, WatchlistError


def test_entries_round_trip(engine: Engine):
    entries = EntryStore(engine)
    made = entries.add(EntryDraft("aa 5149-ek", 0.7, "van", "22:00-06:00"))
    assert (made.plate_text, made.threshold, made.label) == ("AA5149EK", 0.7, "van")
    assert made.hours == ActiveHours.parse("22:00-06:00")
    assert made.created is not None and made.created.utcoffset() is not None
    assert entries.get(made.id) == made
    changed = entries.replace(made.id, EntryDraft("KA*", 0.9))
    assert changed is not None and changed.by_reading and changed.hours is None
    assert [e.id for e in entries.all()] == [made.id]
    assert entries.replace(made.id + 1000, EntryDraft("AB1", 0.5)) is None
    assert entries.remove(made.id) and not entries.remove(made.id)


@pytest.mark.parametrize(
    ("draft", "error"),
    [
        (EntryDraft("AB#1", 0.5), PlateTextError),
        (EntryDraft("AB1", 1.5), WatchlistError),
        (EntryDraft("AB1", 0.5, hours="morning"), WatchlistError),
    ],
)
def test_bad_entries_are_not_stored(engine: Engine, draft: EntryDraft, error: type):
    entries = EntryStore(engine)
    with pytest.raises(error):
        entries.add(draft)
    assert entries.all() == []


def test_tokens(engine: Engine):
    tokens = TokenStore(engine)
    record, text = tokens.create("viewer", "read")
    token_id, secret = parse_token(text) or (0, "")
    assert token_id == record.id and record.role == "read"
    with engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.secret_hash)).scalar_one()
    assert stored == hash_secret(secret) and secret not in stored
    assert tokens.authenticate(text) == record
    assert tokens.authenticate(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    assert tokens.authenticate(f"pw_{record.id + 1}_{secret}") is None
    with pytest.raises(TokenError, match="exists"):
        tokens.create("viewer", "admin")
    with pytest.raises(TokenError, match="role"):
        tokens.create("other", "root")
    with pytest.raises(TokenError, match="name"):
        tokens.create("has space", "read")
    assert tokens.revoke(str(record.id)).revoked is not None
    assert tokens.authenticate(text) is None
    with pytest.raises(TokenError, match="no token"):
        tokens.revoke("nobody")
