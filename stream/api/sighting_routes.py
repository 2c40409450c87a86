"""/api/sightings: search by typed text or uploaded image, list by camera and time, one
sighting with its crop and frame images."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import cv2
import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.datastructures import UploadFile

from platewatch.errors import PlatewatchError
from stream.api import store_access
from stream.api.auth import read_access
from stream.api.deps import hub_of
from stream.api.routing import ApiRoute
from stream.api.schemas import RowId, SightingOut
from stream.api.store_access import SightingFilter

router = APIRouter(prefix="/api/sightings", tags=["sightings"], route_class=ApiRoute)

JPEG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}}}
UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {"image": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}

Camera = Annotated[str | None, Query(max_length=128, description="only this camera")]
Since = Annotated[datetime | None, Query(description="seen at or after (ISO 8601; UTC if naive)")]
Until = Annotated[datetime | None, Query(description="seen before (ISO 8601)")]
Limit = Annotated[int, Query(ge=1, le=500, description="at most this many")]


class UploadError(PlatewatchError, ValueError):
    """The upload is not a readable image; the message says what was received."""


def _decode(data: bytes, name: str) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if pixels is None:
        raise UploadError(f"{name!r} ({len(data)} bytes) is not a JPEG, PNG or BMP image")
    return pixels


@router.get("/search", dependencies=[read_access])
async def search_text(
    request: Request,
    text: Annotated[str, Query(min_length=1, max_length=40, description="plate text, '?' ok")],
    camera: Camera = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 20,
) -> list[SightingOut]:
    """Sightings of the typed plate, best first: cosine to its render's embedding fused
    with how well each sighting's reading fits the text (``score``, ``vector_score``,
    ``reading_score``)."""
    which = SightingFilter(camera, since, until, limit)
    return await asyncio.to_thread(store_access.search_text, hub_of(request), text, which)


@router.post("/search/image", dependencies=[read_access], openapi_extra=UPLOAD_SCHEMA)
async def search_image(
    request: Request,
    camera: Camera = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 20,
) -> list[SightingOut]:
    """Sightings of the plate in an uploaded photo (multipart field ``image``), best first:
    cosine to the photo's embedding fused with how well each sighting's reading fits the
    photo's own reading (cosine alone where the photo reads as nothing)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        raise HTTPException(415, f"send multipart/form-data with an 'image' file, not {kind!r}")
    async with request.form(max_files=1, max_fields=5) as form:
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "the form needs a file field named 'image'")
        data = await upload.read()
        name = upload.filename or "image"
    pixels = await asyncio.to_thread(_decode, data, name)
    which = SightingFilter(camera, since, until, limit)
    return await asyncio.to_thread(store_access.search_image, hub_of(request), pixels, which)


@router.get("", dependencies=[read_access])
async def list_sightings(
    request: Request,
    camera: Camera = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
) -> list[SightingOut]:
    """Sightings newest first, by camera and time."""
    which = SightingFilter(camera, since, until, limit)
    return await asyncio.to_thread(store_access.list_sightings, hub_of(request), which)


@router.get("/{sighting_id}", dependencies=[read_access])
async def get_sighting(request: Request, sighting_id: RowId) -> SightingOut:
    found = await asyncio.to_thread(store_access.get_sighting, hub_of(request), sighting_id)
    if found is None:
        raise HTTPException(404, f"no sighting {sighting_id}")
    return found


async def _image(request: Request, sighting_id: int, which: str) -> Response:
    jpeg = await asyncio.to_thread(store_access.image_of, hub_of(request), sighting_id, which)
    if jpeg is None:
        raise HTTPException(404, f"no {which} image for sighting {sighting_id}")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "max-age=86400"})


@router.get(
    "/{sighting_id}/crop.jpg", dependencies=[read_access], response_class=Response, responses=JPEG
)
async def crop_image(request: Request, sighting_id: RowId) -> Response:
    """The plate crop the sighting's vector was made from."""
    return await _image(request, sighting_id, "crop")


@router.get(
    "/{sighting_id}/frame.jpg", dependencies=[read_access], response_class=Response, responses=JPEG
)
async def frame_image(request: Request, sighting_id: RowId) -> Response:
    """The whole camera frame the crop was cut from (where the store keeps frames)."""
    return await _image(request, sighting_id, "frame")
