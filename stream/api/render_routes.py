"""/api/render: a plate text as the synthetic plate the search compares photos with."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import cv2
from fastapi import APIRouter, Query, Response

from alphabet.render import render
from stream.api.auth import read_access
from stream.api.routing import ApiRoute

router = APIRouter(prefix="/api", tags=["sightings"], route_class=ApiRoute)

PNG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/png": {}}}}


def _png(text: str) -> bytes:
    """(64, 512) binary render as PNG bytes; PlateTextError for text that is no plate."""
    ok, buf = cv2.imencode(".png", render(text))
    return buf.tobytes() if ok else b""


@router.get("/render", dependencies=[read_access], response_class=Response, responses=PNG)
async def render_text(
    text: Annotated[str, Query(min_length=1, max_length=40, description="plate text, '?' ok")],
) -> Response:
    """The 512x64 render of a plate text ('*' has no picture: 422)."""
    png = await asyncio.to_thread(_png, text)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})
