"""The WHIP endpoints (RFC 9725): POST an SDP offer to /whip/{camera}, DELETE to hang up."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from stream.sources.whip import WhipError, WhipHub


def whip_router(hub: WhipHub) -> APIRouter:
    """Routes that hand publishers to ``hub``."""
    router = APIRouter(tags=["webrtc"])

    @router.post("/whip/{camera}", status_code=201)
    async def whip_publish(camera: str, request: Request) -> Response:
        """Publish a WebRTC camera: the body is the SDP offer; 201 with the SDP answer and
        the session's Location."""
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        if kind != "application/sdp":
            detail = f"Content-Type must be application/sdp, got {kind or 'none'}"
            return JSONResponse({"detail": detail}, 415)
        offer = (await request.body()).decode("utf-8", "replace")
        try:
            session = await hub.publish(camera, offer)
        except WhipError as exc:
            return JSONResponse({"detail": str(exc)}, 404 if camera not in hub.cameras() else 400)
        return Response(
            session.pc.localDescription.sdp,
            status_code=201,
            media_type="application/sdp",
            headers={"Location": f"/whip/{camera}/{session.id}"},
        )

    @router.delete("/whip/{camera}/{session_id}")
    async def whip_end(camera: str, session_id: str) -> Response:
        """End a WHIP session (the publisher hangs up)."""
        try:
            await hub.end(camera, session_id)
        except WhipError as exc:
            return JSONResponse({"detail": str(exc)}, 404)
        return Response(status_code=200)

    return router
