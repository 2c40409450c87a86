"""/api/cameras: list, add, remove, status, latest frame."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from stream.api.auth import admin_access, read_access
from stream.api.deps import service_of
from stream.api.routing import ApiRoute
from stream.api.schemas import CameraIn, CameraOut

router = APIRouter(prefix="/api/cameras", tags=["cameras"], route_class=ApiRoute)

JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}, "description": "JPEG image"}
}


def _state(request: Request, name: str) -> CameraOut:
    service = service_of(request)
    for state in service.camera_states():
        if state.name == name:
            return CameraOut.of(state)
    known = ", ".join(s.name for s in service.camera_states()) or "none"
    raise HTTPException(404, f"no camera {name!r}; cameras: {known}")


@router.get("", dependencies=[read_access])
async def list_cameras(request: Request) -> list[CameraOut]:
    return [CameraOut.of(s) for s in service_of(request).camera_states()]


@router.post("", status_code=201, dependencies=[admin_access])
async def add_camera(request: Request, body: CameraIn) -> CameraOut:
    """Start a camera now (it is not written to the config file)."""
    service = service_of(request)
    if any(s.name == body.name for s in service.camera_states()):
        raise HTTPException(409, f"camera {body.name!r} exists already; remove it first")
    config = service.config.camera_from(body.settings)  # ConfigError -> 422
    return CameraOut.of(await service.add_camera(body.name, config))


@router.get("/{name}", dependencies=[read_access])
async def camera_status(request: Request, name: str) -> CameraOut:
    return _state(request, name)


@router.delete("/{name}", status_code=204, dependencies=[admin_access])
async def remove_camera(request: Request, name: str) -> Response:
    _state(request, name)
    await service_of(request).remove_camera(name)
    return Response(status_code=204)


@router.get(
    "/{name}/frame.jpg", dependencies=[read_access], response_class=Response, responses=JPEG
)
async def latest_frame(request: Request, name: str) -> Response:
    _state(request, name)
    jpeg = await service_of(request).latest_jpeg(name)
    if not jpeg:
        raise HTTPException(404, f"camera {name!r} has sent no frame yet")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
