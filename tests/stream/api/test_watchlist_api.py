"""/api/watchlist over real HTTP, bad requests, and the CLI in both modes."""

from __future__ import annotations

import pytest

from platewatch.cli import main
from tests.stream.api.conftest import Api


def test_create_read_update_delete(api: Api):
    with api.client("admin") as admin:
        made = admin.post(
            "/api/watchlist",
            json={"plate_text": "aa 5149-ek", "label": "van", "hours": "8:00-18:00"},
        )
        assert made.status_code == 201, made.text
        entry = made.json()["entry"]
        assert (entry["plate_text"], entry["hours"], entry["threshold"]) == (
            "AA5149EK", "08:00-18:00", 0.8,  # the configured default threshold
        )  # fmt: skip
        assert made.json()["past"] == []
        eid = entry["id"]
        assert admin.get(f"/api/watchlist/{eid}").json() == entry
        changed = admin.put(
            f"/api/watchlist/{eid}", json={"plate_text": "AA5149E?", "threshold": 0.9}
        )
        assert changed.status_code == 200
        assert (changed.json()["plate_text"], changed.json()["hours"]) == ("AA5149E?", None)
        listed = {e["id"]: e for e in admin.get("/api/watchlist").json()}
        assert listed[eid]["threshold"] == 0.9
        hub = api.server.app.state.api
        assert any(e.id == eid and e.plate_text == "AA5149E?" for e in hub.watchlist.entries())
        assert admin.delete(f"/api/watchlist/{eid}").status_code == 204
        assert admin.get(f"/api/watchlist/{eid}").status_code == 404
        assert all(e.id != eid for e in hub.watchlist.entries())


# (what is wrong, request kwargs, expected status, a word the answer must hold)
JSON_TYPE = {"content-type": "application/json"}
BAD_REQUESTS = [
    ("malformed JSON", {"content": b"{plate_text: ", "headers": JSON_TYPE}, 422, "JSON"),
    ("not an object", {"json": ["AA5149EK"]}, 422, "object"),
    ("unknown key", {"json": {"plate_text": "AB123", "colour": "red"}}, 422, "colour"),
    ("unsupported character", {"json": {"plate_text": "AB#123"}}, 422, "unsupported character"),
    ("too long", {"json": {"plate_text": "A" * 13}}, 422, "at most"),
    ("only separators", {"json": {"plate_text": "--"}}, 422, "empty"),
    ("threshold out of range", {"json": {"plate_text": "AB123", "threshold": 2}}, 422, "less than"),
    ("bad hours", {"json": {"plate_text": "AB123", "hours": "8-18"}}, 422, "HH:MM"),
    ("empty hours window", {"json": {"plate_text": "AB123", "hours": "08:00-08:00"}}, 422, "empty"),
    ("huge body", {"json": {"plate_text": "AB123", "label": "x" * 100_000}}, 413, "larger"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "kwargs", "status", "word"), BAD_REQUESTS)
def test_bad_entry_requests_get_clear_4xx(api: Api, what: str, kwargs, status: int, word: str):
    with api.client("admin") as admin:
        answer = admin.post("/api/watchlist", **kwargs)
    assert answer.status_code == status, (what, answer.text)
    assert word.lower() in answer.text.lower(), (what, answer.text)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/watchlist/424242"),
        ("PUT", "/api/watchlist/424242"),
        ("DELETE", "/api/watchlist/424242"),
        ("GET", "/api/alerts/424242"),
        ("POST", "/api/alerts/424242/ack"),
        ("GET", "/api/cameras/no-such-camera"),
        ("GET", "/api/cameras/no-such-camera/frame.jpg"),
        ("DELETE", "/api/cameras/no-such-camera"),
    ],
)
def test_unknown_ids_are_404(api: Api, method: str, path: str):
    with api.client("admin") as admin:
        body = {"plate_text": "AB123"} if method == "PUT" else None
        answer = admin.request(method, path, json=body)
    assert answer.status_code == 404
    assert "no " in answer.json()["detail"]


@pytest.mark.parametrize("path", ["/api/watchlist/abc", "/api/alerts/1.5", "/api/watchlist/-"])
def test_non_numeric_ids_are_422(api: Api, path: str):
    with api.client("read") as client:
        assert client.get(path).status_code == 422


def test_cli_remote_mode(api: Api, capsys: pytest.CaptureFixture[str]):
    where = ["--url", api.server.url, "--token", api.admin_token]
    assert main(["watch", "add", "KA*", "--label", "region", *where]) == 0
    out = capsys.readouterr().out
    assert "KA*" in out and "region" in out and "0 matching sighting(s)" in out
    assert main(["watch", "list", "--json", *where]) == 0
    import json

    listed = json.loads(capsys.readouterr().out)
    eid = next(e["id"] for e in listed if e["plate_text"] == "KA*")
    assert main(["watch", "remove", str(eid), *where]) == 0
    assert main(["watch", "remove", str(eid), *where]) == 2
    assert "404" in capsys.readouterr().err
    read_only = ["--url", api.server.url, "--token", api.read_token]
    assert main(["watch", "add", "AB123", *read_only]) == 2
    assert "403" in capsys.readouterr().err


def test_cli_local_entry_reaches_running_service(api: Api, capsys: pytest.CaptureFixture[str]):
    hub = api.server.app.state.api
    db = ["--db", str(hub.engine.url)]
    assert main(["watch", "add", "XY4321ZT", "--threshold", "0.7", "--no-past", *db]) == 0
    capsys.readouterr()
    assert hub.refresh() is True  # what the service's 5-second check does
    assert any(e.plate_text == "XY4321ZT" for e in hub.watchlist.entries())


def test_cli_tokens(tmp_path, capsys: pytest.CaptureFixture[str]):
    data = ["--data", str(tmp_path)]
    assert main(["token", "create", "cam-viewer", "--role", "read", *data]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("pw_")
    assert main(["token", "create", "cam-viewer", *data]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["token", "list", *data]) == 0
    listing = capsys.readouterr().out
    assert "cam-viewer" in listing and "active" in listing and token not in listing
    assert main(["token", "revoke", "cam-viewer", *data]) == 0
    assert main(["token", "revoke", "nobody", *data]) == 2
    capsys.readouterr()
    assert main(["token", "list", *data]) == 0
    assert "revoked" in capsys.readouterr().out
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'platewatch.db'}")
    with engine.connect() as conn:
        stored = conn.execute(text("select secret_hash from api_tokens")).scalar_one()
    assert token.split("_", 2)[2] not in stored and len(stored) == 64


def test_cli_local_add_searches_the_past(tmp_path, capsys: pytest.CaptureFixture[str]):
    from datetime import UTC, datetime, timedelta

    import cv2

    from alphabet.render import render
    from model.embed import ModelNotFoundError, load_embedder
    from store.store import open_store
    from store.types import NewSighting

    try:
        embedder = load_embedder("default")
    except ModelNotFoundError as exc:
        pytest.skip(f"no shipped embedding model: {exc}")
    store = open_store(tmp_path, embedder.dim, embedder.version)
    now = datetime.now(UTC)
    shown = [("AB1234CD", now - timedelta(hours=2)), ("AB1234CD", now - timedelta(hours=30))]
    crops = [cv2.cvtColor(render(t, size=(256, 48)), cv2.COLOR_GRAY2BGR) for t, _ in shown]
    vectors = embedder.embed_crops(crops).vectors
    store.add_sightings(
        [
            NewSighting("gate", when, v, embedder.version, crop=c, reading=t)
            for (t, when), v, c in zip(shown, vectors, crops, strict=True)
        ]
    )
    store.close()
    assert main(["watch", "add", "AB1234CD", "--threshold", "0.5", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 matching sighting(s) in the last 24 h" in out  # the 30-hour-old one is outside
    assert "gate" in out and "AB1234CD" in out
