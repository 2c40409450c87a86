"""/api/sightings over real HTTP: search by text and by uploaded image, list, images."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from alphabet.render import render
from stream.tracking import PassingPlate
from tests.stream.api.conftest import Api
from tests.stream.api.pixels import pixel_vector

PLATES = [("AB1234CD", "gate"), ("XY9876ZT", "gate"), ("KA0001AA", "yard")]
BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def plate_image(text: str) -> np.ndarray:
    return cv2.cvtColor(render(text, size=(256, 32)), cv2.COLOR_GRAY2BGR)


@pytest.fixture(scope="module")
def stored(api: Api) -> dict[str, int]:
    """Sightings written through the service's own sink; plate text -> sighting id."""
    plates = [
        PassingPlate(
            camera=camera,
            first_seen=BASE + timedelta(minutes=i),
            last_seen=BASE + timedelta(minutes=i),
            crop=plate_image(text),
            frame=cv2.copyMakeBorder(plate_image(text), 40, 40, 40, 40, cv2.BORDER_CONSTANT),
            box=np.array([0, 0, 256, 32], np.float32),
            vector=pixel_vector(plate_image(text)),
            reading=text,
            reading_confidence=0.9,
            detection_score=0.9,
            hits=3,
            arrived=time.monotonic(),
            first_arrived=time.monotonic(),
        )
        for i, (text, camera) in enumerate(PLATES)
    ]
    rows = api.service.components.sink.add(plates)
    return {p.reading: r.id for p, r in zip(plates, rows, strict=True)}


@pytest.mark.parametrize("text", ["AB1234CD", "ab 1234-cd", "XY98?6ZT"])
def test_search_by_text_ranks_the_plate_first(api: Api, stored: dict[str, int], text: str):
    with api.client("read") as client:
        answer = client.get("/api/sightings/search", params={"text": text, "limit": 3})
    assert answer.status_code == 200, answer.text
    hits = answer.json()
    want = "XY9876ZT" if "XY" in text else "AB1234CD"
    assert hits[0]["id"] == stored[want]
    assert hits[0]["score"] >= hits[-1]["score"]
    assert hits[0]["crop_url"] == f"/api/sightings/{stored[want]}/crop.jpg"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"camera": "yard"}, ["KA0001AA"]),
        ({"since": (BASE + timedelta(minutes=1)).isoformat()}, ["XY9876ZT", "KA0001AA"]),
        ({"until": "2026-11-20T12:00:30"}, ["AB1234CD"]),  # naive: read as UTC
        ({"camera": "nowhere"}, []),
    ],
)
def test_filters(api: Api, stored: dict[str, int], params: dict[str, str], expected: list[str]):
    with api.client("read") as client:
        found = client.get("/api/sightings/search", params={"text": "AB1234CD", **params}).json()
        listed = client.get("/api/sightings", params=params).json()
    assert sorted(h["id"] for h in found) == sorted(stored[t] for t in expected)
    assert sorted(h["id"] for h in listed) == sorted(stored[t] for t in expected)


def test_search_by_uploaded_image(api: Api, stored: dict[str, int]):
    _ok, png = cv2.imencode(".png", plate_image("KA0001AA"))
    with api.client("read") as client:
        answer = client.post(
            "/api/sightings/search/image", files={"image": ("plate.png", png.tobytes())}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["id"] == stored["KA0001AA"]


@pytest.mark.parametrize(
    ("what", "kwargs", "status", "word"),
    [
        ("not an image", {"files": {"image": ("x.png", b"%PDF-1.4 not a picture")}}, 422, "not a"),
        ("empty file", {"files": {"image": ("x.png", b"")}}, 422, "0 bytes"),
        ("wrong field", {"files": {"photo": ("x.png", b"abc")}}, 422, "'image'"),
        ("JSON instead", {"json": {"image": "AAAA"}}, 415, "multipart"),
        ("huge upload", {"files": {"image": ("x.png", b"\0" * 100_000)}}, 413, "larger"),
    ],
)
def test_bad_uploads(api: Api, what: str, kwargs, status: int, word: str):
    with api.client("read") as client:
        answer = client.post("/api/sightings/search/image", **kwargs)
    assert answer.status_code == status, (what, answer.text)
    assert word in answer.json()["detail"], (what, answer.text)


@pytest.mark.parametrize(
    ("text", "word"),
    [("AB#12", "unsupported character"), ("", "at least 1"), ("A" * 13, "at most")],
)
def test_bad_search_text(api: Api, text: str, word: str):
    with api.client("read") as client:
        answer = client.get("/api/sightings/search", params={"text": text})
    assert answer.status_code == 422
    assert word in answer.text


def test_star_pattern_searches_readings(api: Api, stored: dict[str, int]):
    with api.client("read") as client:
        found = client.get("/api/sightings/search", params={"text": "*98*"}).json()
    assert [h["id"] for h in found] == [stored["XY9876ZT"]]


def test_one_sighting_and_its_images(api: Api, stored: dict[str, int]):
    sid = stored["AB1234CD"]
    with api.client("read") as client:
        one = client.get(f"/api/sightings/{sid}")
        crop = client.get(f"/api/sightings/{sid}/crop.jpg")
        frame = client.get(f"/api/sightings/{sid}/frame.jpg")
        missing = client.get("/api/sightings/999999")
        no_crop = client.get("/api/sightings/999999/crop.jpg")
    assert one.status_code == 200 and one.json()["reading"] == "AB1234CD"
    for answer, min_side in ((crop, 32), (frame, 112)):
        assert answer.headers["content-type"] == "image/jpeg"
        decoded = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and min(decoded.shape[:2]) >= min_side * 0.5
    assert (missing.status_code, no_crop.status_code) == (404, 404)


def test_remote_search(api: Api, stored: dict[str, int]):
    from stream.api.client import RemoteError, remote_search

    found = remote_search(
        api.server.url, api.read_token, "AB1234CD", camera="gate", since=BASE, limit=2
    )
    assert [h["id"] for h in found][:1] == [stored["AB1234CD"]]
    assert all(h["camera"] == "gate" for h in found)
    with pytest.raises(RemoteError, match=r"401.*PLATEWATCH_TOKEN"):
        remote_search(api.server.url, None, "AB1234CD")
    with pytest.raises(RemoteError, match="422"):
        remote_search(api.server.url, api.read_token, "AB#1")
    with pytest.raises(RemoteError, match="cannot reach"):
        remote_search("http://127.0.0.1:9", api.read_token, "AB1234CD")


@pytest.mark.parametrize(
    ("text", "status"), [("AB1234CD", 200), ("ab 12?4", 200), ("AB*", 422), ("AB#", 422)]
)
def test_render(api: Api, text: str, status: int):
    with api.client("read") as client:
        answer = client.get("/api/render", params={"text": text})
    assert answer.status_code == status, answer.text
    if status == 200:
        image = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert image.shape == (64, 512)
        assert np.array_equal(image, render(text))
