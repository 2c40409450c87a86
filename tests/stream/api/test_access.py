"""Every endpoint with no token, a read-only token and an admin token."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from tests.stream.api.conftest import Api

CAMERA = {"name": "access-cam", "settings": {"source": {"type": "folder", "path": "/nonexistent"}}}
ENTRY = {"plate_text": "ZZ9999ZZ", "label": "access test"}
UPLOAD = object()  # marks the multipart image upload

# (method, path, JSON body, role needed). Unknown ids are fine: a 404 proves the caller
# was let in; what matters is that no caller below the role gets data or changes anything.
ENDPOINTS: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/cameras", None, "read"),
    ("POST", "/api/cameras", CAMERA, "admin"),
    ("GET", "/api/cameras/access-cam", None, "read"),
    ("GET", "/api/cameras/access-cam/frame.jpg", None, "read"),
    ("DELETE", "/api/cameras/access-cam", None, "admin"),
    ("GET", "/api/watchlist", None, "read"),
    ("POST", "/api/watchlist", ENTRY, "admin"),
    ("GET", "/api/watchlist/1", None, "read"),
    ("PUT", "/api/watchlist/1", ENTRY, "admin"),
    ("DELETE", "/api/watchlist/999999", None, "admin"),
    ("GET", "/api/alerts", None, "read"),
    ("GET", "/api/alerts/1", None, "read"),
    ("POST", "/api/alerts/1/ack", None, "admin"),
    ("GET", "/api/alerts/stream", None, "read"),
    ("GET", "/api/sightings", None, "read"),
    ("GET", "/api/sightings/search?text=AB1234CD", None, "read"),
    ("POST", "/api/sightings/search/image", UPLOAD, "read"),
    ("GET", "/api/sightings/1", None, "read"),
    ("GET", "/api/sightings/1/crop.jpg", None, "read"),
    ("GET", "/api/sightings/1/frame.jpg", None, "read"),
    ("GET", "/api/render?text=AB1234CD", None, "read"),
]


@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS)
@pytest.mark.parametrize("role", [None, "read", "admin"])
def test_roles(api: Api, role: str | None, method: str, path: str, body: Any, needed: str):
    with api.client(role) as client:
        if body is UPLOAD:
            _ok, png = cv2.imencode(".png", np.full((32, 128, 3), 255, np.uint8))
            answer = client.post(path, files={"image": ("plate.png", png.tobytes())})
        elif path.endswith("/stream"):
            with client.stream(method, path) as answer:  # an open SSE answer never ends
                pass
        else:
            answer = client.request(method, path, json=body)
    if role is None:
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"] == "Bearer"
    elif role == "read" and needed == "admin":
        assert answer.status_code == 403, answer.text
        assert "admin" in answer.json()["detail"]
    else:
        assert answer.status_code in (200, 201, 204, 404), answer.text


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer pw_1_notthesecretnotthesecretnotthesecret",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
def test_bad_tokens_refused(api: Api, authorization: str):
    with api.server.client() as client:
        answer = client.get("/api/watchlist", headers={"Authorization": authorization})
    assert answer.status_code == 401


def test_token_in_query_for_event_source(api: Api):
    with api.server.client() as client:
        ok = client.get("/api/alerts", params={"access_token": api.read_token})
        bad = client.get("/api/alerts", params={"access_token": api.read_token + "x"})
    assert (ok.status_code, bad.status_code) == (200, 401)


def test_revoked_token_refused(api: Api):
    from stream.api.token_store import TokenStore

    hub = api.server.app.state.api
    tokens = TokenStore(hub.engine)
    _, text = tokens.create("short-lived", "admin")
    with api.server.client(text) as client:
        assert client.get("/api/watchlist").status_code == 200
        tokens.revoke("short-lived")
        assert client.get("/api/watchlist").status_code == 401


@pytest.mark.parametrize("path", ["/health", "/metrics"])
def test_ops_endpoints_need_no_token(api: Api, path: str):
    with api.server.client() as client:
        assert client.get(path).status_code == 200
