"""A running platewatch app for the API tests: the real service, real HTTP, real tokens."""

from __future__ import annotations

# aiortc before anything that may load TensorFlow (TRAPS.md 1).
from stream.service import Components, Service  # isort: skip

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from model.detect import create_detector
from store.db import make_engine, migrate
from stream.api.token_store import TokenStore
from stream.app import create_app
from stream.config import StoreConfig, parse_config
from stream.storesink import open_sink
from tests.postgres import fresh_database
from tests.stream.api.pixels import PixelEmbedder
from tests.stream.api.receivers import WebhookReceiver
from tests.stream.api.server import LiveServer


@dataclass
class Api:
    """The server plus one token of each role."""

    server: LiveServer
    service: Service
    read_token: str
    admin_token: str
    webhook: WebhookReceiver

    def client(self, role: str | None) -> Any:
        token = {"read": self.read_token, "admin": self.admin_token, None: None}[role]
        return self.server.client(token)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server at 127.0.0.1:5432, dropped afterwards."""
    with fresh_database("api") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The store's database, migrated: a SQLite file, or PostgreSQL (emptied after)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'platewatch.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = make_engine(url)
    migrate(eng)
    yield eng
    if request.param == "postgresql":
        with eng.begin() as conn:
            conn.execute(text("TRUNCATE alerts, alert_deliveries, watchlist_entries, api_tokens"))
    eng.dispose()


@pytest.fixture(scope="session")
def detector() -> Any:
    return create_detector("ppocr")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, detector: Any) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("api")
    embedder = PixelEmbedder()
    sink = open_sink(StoreConfig(), folder, embedder)  # the real store: SQLite + hnswlib
    tokens = TokenStore(sink.store.engine)
    _, read = tokens.create("viewer", "read")
    _, admin = tokens.create("operator", "admin")
    webhook = WebhookReceiver()
    webhook.start()
    config = parse_config(
        {
            "alerts": {
                "webhooks": [{"name": "hook", "url": webhook.url, "secret": "k"}],
                "retry": {"initial_s": 0.05, "max_s": 0.5},
            },
            "auth": {"max_upload_bytes": 64 * 1024},
            "watchlist": {"timezone": "UTC", "repeat_after_s": 0},
        }
    )
    service = Service(config, Components(detector, embedder, sink))
    server = LiveServer(create_app(service))
    server.start()
    try:
        yield Api(server, service, read, admin, webhook)
    finally:
        server.stop()
        webhook.stop()
        sink.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A real webhook receiver on loopback, stopped after the test."""
    r = WebhookReceiver()
    r.start()
    yield r
    r.stop()
