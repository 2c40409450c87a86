"""/api/alerts: list, one alert with its deliveries and crop, acknowledge, the live feed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from stream.alerts.outbox import AlertFilter
from stream.alerts.types import Alert
from stream.api.auth import Caller, admin_role, read_access
from stream.api.deps import hub_of
from stream.api.routing import ApiRoute
from stream.api.schemas import AlertDetail, DeliveryOut, QueryId, RowId

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
) -> list[Alert]:
    """Newest first. Times are ISO 8601 (a time without zone is read as UTC).

    ``sighting_id`` is null while the car that raised the alert is still in view (the
    alert names its ``track``); it is filled in once the pass is stored as a sighting.
    """
    which = AlertFilter(since, until, camera, entry_id, unacknowledged, limit, offset)
    found: list[Alert] = await asyncio.to_thread(hub_of(request).outbox.find, which)
    return found


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
    return AlertDetail.of(alert, [DeliveryOut(**d) for d in deliveries])


@router.get(
    "/{alert_id}/crop.jpg",
    dependencies=[read_access],
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "JPEG"}},
)
async def alert_crop(request: Request, alert_id: RowId) -> Response:
    """The plate view that raised the alert (kept with the alert, so it is there before
    the pass is stored as a sighting, and after retention removed the sighting)."""
    jpeg = await asyncio.to_thread(hub_of(request).outbox.crop, alert_id)
    if jpeg is None:
        raise HTTPException(404, f"no crop for alert {alert_id}")
    return Response(jpeg, media_type="image/jpeg")


@router.post("/{alert_id}/ack")
async def acknowledge(
    request: Request, alert_id: RowId, caller: Annotated[Caller, Depends(admin_role)]
) -> Alert:
    """Mark an alert as seen by a person (the first acknowledgement is kept)."""
    alert: Alert | None = await asyncio.to_thread(
        hub_of(request).outbox.acknowledge, alert_id, caller.name
    )
    if alert is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return alert
