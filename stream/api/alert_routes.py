"""/api/alerts: list, one alert with its deliveries, acknowledge, and the live feed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from stream.alerts.outbox import AlertFilter
from stream.api.auth import Caller, admin_role, read_access
from stream.api.deps import hub_of
from stream.api.routing import ApiRoute
from stream.api.schemas import AlertDetail, AlertOut, DeliveryOut, QueryId, RowId

router = APIRouter(prefix="/api/alerts", tags=["alerts"], route_class=ApiRoute)


@router.get("", dependencies=[read_access])
async def list_alerts(
    request: Request,
    since: datetime | None = None,
    until: datetime | None = None,
    camera: Annotated[str | None, Query(max_length=128)] = None,
    entry_id: QueryId = None,
    unacknowledged: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[AlertOut]:
    """Newest first. Times are ISO 8601 (a time without zone is read as UTC)."""
    which = AlertFilter(since, until, camera, entry_id, unacknowledged, limit, offset)
    found = await asyncio.to_thread(hub_of(request).outbox.find, which)
    return [AlertOut.of(a) for a in found]


@router.get("/stream", dependencies=[read_access], response_class=StreamingResponse)
async def alert_stream(request: Request) -> StreamingResponse:
    """Server-Sent Events: ``ready`` once, then each new alert as an ``alert`` event.

    Browsers: ``new EventSource('/api/alerts/stream?access_token=...')``.
    """
    return StreamingResponse(
        hub_of(request).live.events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}", dependencies=[read_access])
async def get_alert(request: Request, alert_id: RowId) -> AlertDetail:
    hub = hub_of(request)
    alert = await asyncio.to_thread(hub.outbox.get, alert_id)
    if alert is None:
        raise HTTPException(404, f"no alert {alert_id}")
    deliveries = await asyncio.to_thread(hub.outbox.deliveries, alert_id)
    return AlertDetail(
        **AlertOut.of(alert).model_dump(), deliveries=[DeliveryOut(**d) for d in deliveries]
    )


@router.post("/{alert_id}/ack")
async def acknowledge(
    request: Request, alert_id: RowId, caller: Annotated[Caller, Depends(admin_role)]
) -> AlertOut:
    """Mark an alert as seen by a person (the first acknowledgement is kept)."""
    alert = await asyncio.to_thread(hub_of(request).outbox.acknowledge, alert_id, caller.name)
    if alert is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return AlertOut.of(alert)
