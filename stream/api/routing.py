"""The API's route class: request size limit and user errors as 4xx, for every route.

FastAPI's routers cannot carry exception handlers or middleware of their own, so each
API route is built with :class:`ApiRoute`, which wraps its handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """The request body grew past the configured limit while being read."""


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def guarded() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise BodyTooLarge
        return message

    return guarded


def status_for(exc: PlatewatchError) -> int:
    """404 for what is not there, 422 for a value that cannot be accepted, else 400."""
    if isinstance(exc, LookupError):
        return 404
    if isinstance(exc, ValueError):
        return 422
    return 400


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than {limit} bytes"}, 413)


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            limit = int(request.app.state.api.auth.max_upload_bytes)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return _too_large(limit)
            request = Request(request.scope, _limited(request.receive, limit))
            try:
                return await handler(request)
            except BodyTooLarge:
                return _too_large(limit)
            except HTTPException as exc:
                if isinstance(exc.__cause__, BodyTooLarge):
                    return _too_large(limit)
                raise
            except PlatewatchError as exc:
                return JSONResponse({"detail": str(exc)}, status_for(exc))

        return guarded
