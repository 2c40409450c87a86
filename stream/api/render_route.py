"""/api/render: the synthetic plate a typed text becomes before it is embedded, as PNG.

The web page shows it beside the search results, so an operator sees what the search
compared the camera crops with (``?`` draws the hidden-character glyph).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import cv2
from fastapi import APIRouter, Query, Response

from alphabet.render import render
from platewatch.errors import PlatewatchError
from stream.api.auth import read_access
from stream.api.routing import ApiRoute

router = APIRouter(prefix="/api", tags=["sightings"], route_class=ApiRoute)

PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "PNG image, 512x64 grey"}
}


class RenderError(PlatewatchError, RuntimeError):
    """The render could not be encoded as PNG."""


def render_png(text: str) -> bytes:
    """PNG bytes of the seed's render of ``text`` (64 x 512, ink 0 on paper 255).

    Raises PlateTextError (a 422 answer) for text that cannot be a plate or holds '*'.
    """
    ok, encoded = cv2.imencode(".png", render(text))
    if not ok:
        raise RenderError(f"could not encode the render of {text!r} as PNG")
    return encoded.tobytes()


@router.get("/render", dependencies=[read_access], response_class=Response, responses=PNG)
async def render_text(
    text: Annotated[str, Query(min_length=1, max_length=40, description="plate text, '?' ok")],
) -> Response:
    """The synthetic plate a search for ``text`` is made from."""
    png = await asyncio.to_thread(render_png, text)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})
