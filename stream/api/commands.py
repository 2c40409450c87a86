"""Handlers of ``platewatch watch`` and ``platewatch token`` (printing is their job).

``watch`` works on the local database, or on a running service with ``--url``. Locally an
entry is only written down; a running service picks it up within seconds (it re-reads
the watchlist table), and adding through ``--url`` also lists past matches.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from stream.alerts.entries import EntryDraft, EntryStore
from stream.api.client import ApiClient
from stream.api.config import WatchlistConfig
from stream.api.local import open_engine
from stream.api.token_store import TokenStore
from stream.watchlist import WatchlistEntry


def _client(args: argparse.Namespace) -> ApiClient | None:
    url = args.url or os.environ.get("PLATEWATCH_URL")
    if not url:
        return None
    return ApiClient(url, args.token or os.environ.get("PLATEWATCH_TOKEN"))


def _engine(args: argparse.Namespace) -> Any:
    return open_engine(args.data, args.config, args.db)


def _row(entry: dict[str, Any]) -> str:
    hours = entry.get("hours") or "all day"
    label = f"  {entry['label']}" if entry.get("label") else ""
    head = f"{entry['id']:>6}  {entry['plate_text']:<14} {entry['threshold']:>6.2f}"
    return f"{head}  {hours:<11}{label}"


def _past_row(sighting: dict[str, Any]) -> str:
    reading = sighting["reading"] or "?"
    return (
        f"  {sighting['seen_at']}  {sighting['camera']:<16} {reading:<12} {sighting['score']:.3f}"
    )


def _as_dict(entry: WatchlistEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "plate_text": entry.plate_text,
        "threshold": entry.threshold,
        "label": entry.label,
        "hours": str(entry.hours) if entry.hours else None,
        "created": entry.created.isoformat() if entry.created else None,
    }


def watch_add(args: argparse.Namespace) -> int:
    body = {"plate_text": args.text, "label": args.label, "hours": args.hours}
    if args.threshold is not None:
        body["threshold"] = args.threshold
    client = _client(args)
    if client is not None:
        with client:
            created = client.request("POST", "/api/watchlist", json=body)
        print(_row(created["entry"]))
        past = created["past"]
        print(f"{len(past)} matching sighting(s) in the look-back window")
        for s in past:
            print(_past_row(s))
        return 0
    threshold = WatchlistConfig().default_threshold if args.threshold is None else args.threshold
    entry = EntryStore(_engine(args)).add(EntryDraft(args.text, threshold, args.label, args.hours))
    print(_row(_as_dict(entry)))
    if not args.no_past:
        past = _local_past(args, entry)
        print(
            f"{len(past)} matching sighting(s) in the last {WatchlistConfig().lookback_hours:g} h"
        )
        for s in past:
            print(_past_row(s.model_dump(mode="json")))
    return 0


def _local_past(args: argparse.Namespace, entry: WatchlistEntry) -> list[Any]:
    """Search the local store for the new entry (loads the embedding model)."""
    from model.embed import load_embedder
    from store.datadir import resolve_data_dir
    from store.store import open_store
    from stream.api.local import database_target
    from stream.api.store_access import past_matches

    embedder = load_embedder(args.model)
    target = database_target(args.data, args.config, args.db)
    store = open_store(target, embedder.dim, embedder.version, data_dir=resolve_data_dir(args.data))
    try:
        return past_matches(store, embedder, entry, WatchlistConfig())
    finally:
        store.close()


def watch_list(args: argparse.Namespace) -> int:
    client = _client(args)
    if client is not None:
        with client:
            entries: list[dict[str, Any]] = client.request("GET", "/api/watchlist")
    else:
        entries = [_as_dict(e) for e in EntryStore(_engine(args)).all()]
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    print(f"{'id':>6}  {'plate':<14} {'thresh':>6}  {'hours':<11}  label")
    for entry in entries:
        print(_row(entry))
    return 0


def watch_remove(args: argparse.Namespace) -> int:
    from platewatch.cli import CommandError

    client = _client(args)
    if client is not None:
        with client:
            client.request("DELETE", f"/api/watchlist/{args.id}")
    elif not EntryStore(_engine(args)).remove(args.id):
        raise CommandError(f"no watchlist entry {args.id} (see 'platewatch watch list')")
    print(f"removed watchlist entry {args.id}")
    return 0


def token_create(args: argparse.Namespace) -> int:
    record, text = TokenStore(_engine(args)).create(args.name, args.role)
    print(f"token {record.name!r} (id {record.id}, role {record.role}); shown only this once:")
    print(text)
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    record = TokenStore(_engine(args)).revoke(args.name)
    print(f"revoked token {record.name!r} (id {record.id})")
    return 0


def token_list(args: argparse.Namespace) -> int:
    print(f"{'id':>4}  {'name':<24} {'role':<6} {'created':<20} {'state'}")
    for t in TokenStore(_engine(args)).all():
        state = f"revoked {t.revoked:%Y-%m-%d %H:%M}" if t.revoked else "active"
        print(f"{t.id:>4}  {t.name:<24} {t.role:<6} {t.created:%Y-%m-%d %H:%M}     {state}")
    return 0
