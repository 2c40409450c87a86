"""/api/watchlist: create, read, update and delete watched plates."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from stream import metrics
from stream.alerts.entries import EntryDraft
from stream.api import store_access
from stream.api.auth import admin_access, read_access
from stream.api.deps import hub_of
from stream.api.routing import ApiRoute
from stream.api.schemas import EntryCreated, EntryIn, EntryOut, RowId

router = APIRouter(prefix="/api/watchlist", tags=["watchlist"], route_class=ApiRoute)


def _draft(hub: Any, body: EntryIn) -> EntryDraft:
    default = hub.watch.default_threshold
    threshold = default if body.threshold is None else body.threshold
    return EntryDraft(body.plate_text, threshold, body.label, body.hours)


def _missing(entry_id: int) -> HTTPException:
    return HTTPException(404, f"no watchlist entry {entry_id}")


@router.get("", dependencies=[read_access])
async def list_entries(request: Request) -> list[EntryOut]:
    return [EntryOut.of(e) for e in hub_of(request).watchlist.entries()]


@router.post("", status_code=201, dependencies=[admin_access])
async def add_entry(request: Request, body: EntryIn) -> EntryCreated:
    """Watch a plate; the answer also lists matching sightings of the look-back window."""
    hub = hub_of(request)
    entry = await asyncio.to_thread(hub.entries.add, _draft(hub, body))
    await asyncio.to_thread(hub.watchlist.put, entry)
    metrics.WATCHLIST_ENTRIES.set(len(hub.watchlist))
    past = await asyncio.to_thread(store_access.look_back, hub, entry)
    return EntryCreated(entry=EntryOut.of(entry), past=past)


@router.get("/{entry_id}", dependencies=[read_access])
async def get_entry(request: Request, entry_id: RowId) -> EntryOut:
    entry = await asyncio.to_thread(hub_of(request).entries.get, entry_id)
    if entry is None:
        raise _missing(entry_id)
    return EntryOut.of(entry)


@router.put("/{entry_id}", dependencies=[admin_access])
async def replace_entry(request: Request, entry_id: RowId, body: EntryIn) -> EntryOut:
    hub = hub_of(request)
    entry = await asyncio.to_thread(hub.entries.replace, entry_id, _draft(hub, body))
    if entry is None:
        raise _missing(entry_id)
    await asyncio.to_thread(hub.watchlist.put, entry)
    return EntryOut.of(entry)


@router.delete("/{entry_id}", status_code=204, dependencies=[admin_access])
async def delete_entry(request: Request, entry_id: RowId) -> Response:
    hub = hub_of(request)
    if not await asyncio.to_thread(hub.entries.remove, entry_id):
        raise _missing(entry_id)
    hub.watchlist.remove(entry_id)
    metrics.WATCHLIST_ENTRIES.set(len(hub.watchlist))
    return Response(status_code=204)
