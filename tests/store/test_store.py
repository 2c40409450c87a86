"""The store against real databases: rows, vectors, search, filters, paging, retention,
dedup, restart after a crash, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from store import (
    DedupSettings,
    HnswSettings,
    NewSighting,
    SearchFilters,
    SightingNotFound,
    StoreError,
    add_deduplicated,
    open_store,
    search_vector,
)
from tests.store.conftest import DIM, MODEL, drop_tables, sighting, unit_vectors

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_add_get_and_files(target: tuple[str, Path]) -> None:
    url, data = target
    store = open_store(url, DIM, MODEL, data_dir=data)
    vecs = unit_vectors(3)
    stored = store.add_sightings([sighting(v, reading=f"AB{i}") for i, v in enumerate(vecs)])
    assert [s.reading for s in stored] == ["AB0", "AB1", "AB2"]
    again = store.get_sighting(stored[1].id)
    assert again.camera == "gate" and again.frame_count == 3
    assert again.first_seen == T0 and again.last_seen == T0 + timedelta(seconds=2)
    np.testing.assert_allclose(again.vector, vecs[1], atol=1e-6)
    assert again.crop_path and (data / again.crop_path).is_file()
    assert store.count() == 3 and len(store.index) == 3
    # pgserver's URL (postgresql://) has pgvector; Debian's server (+psycopg) has not.
    assert store.pgvector == url.startswith("postgresql://")
    with pytest.raises(SightingNotFound):
        store.get_sighting(10_000)
    store.close()


def test_search_ranks_by_cosine_with_filters_and_paging(target: tuple[str, Path]) -> None:
    url, data = target
    store = open_store(url, DIM, MODEL, data_dir=data)
    vecs = unit_vectors(40, seed=1)
    store.add_sightings(
        [
            sighting(v, camera="north" if i % 2 else "south", when=T0 + timedelta(minutes=i))
            for i, v in enumerate(vecs)
        ]
    )
    query = vecs[7]
    exact = np.argsort(-(vecs @ query))
    got = search_vector(store, query, k=5)
    assert [m.sighting.id - 1 for m in got] == exact[:5].tolist()  # ids start at 1
    assert got[0].score == pytest.approx(1.0, abs=1e-5)
    # Camera filter: only odd indices are "north".
    north = search_vector(store, query, k=5, filters=SearchFilters(camera="north"))
    assert all(m.sighting.camera == "north" for m in north) and len(north) == 5
    assert [m.sighting.id - 1 for m in north] == [i for i in exact if i % 2][:5]
    # Time filter and paging.
    since = T0 + timedelta(minutes=30)
    late = search_vector(store, query, k=20, filters=SearchFilters(since=since))
    assert len(late) == 10 and all(m.sighting.last_seen >= since for m in late)
    page2 = search_vector(store, query, k=5, filters=SearchFilters(offset=5))
    assert [m.sighting.id for m in page2] == [
        m.sighting.id for m in search_vector(store, query, 10)
    ][5:]
    high = search_vector(store, query, k=40, filters=SearchFilters(min_score=0.5))
    assert high and all(m.score >= 0.5 for m in high)
    store.close()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros(DIM, np.float32), "all zeros"),  # a vector with no direction
        (np.ones(DIM + 1, np.float32), f"{DIM} values"),  # wrong size
        (np.full(DIM, np.nan, np.float32), "NaN"),
    ],
)
def test_bad_vectors_are_refused_and_nothing_is_lost(
    tmp_path: Path, bad: np.ndarray, message: str
) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    store.add_sightings([sighting(unit_vectors(1)[0])])
    with pytest.raises(StoreError, match=message):
        store.add_sightings([sighting(unit_vectors(1, seed=3)[0]), sighting(bad)])
    assert store.count() == 1 and len(store.index) == 1


@pytest.mark.parametrize(
    ("k", "offset", "query", "message"),
    [
        (0, 0, unit_vectors(1)[0], "k must be"),  # nothing asked for
        (5000, 0, unit_vectors(1)[0], "k must be"),  # more than a page may hold
        (5, -1, unit_vectors(1)[0], "offset"),
        (5, 0, np.ones(DIM - 1, np.float32), f"{DIM} values"),  # another model's size
    ],
)
def test_bad_search_arguments(
    tmp_path: Path, k: int, offset: int, query: np.ndarray, message: str
) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    with pytest.raises(StoreError, match=message):
        search_vector(store, query, k, SearchFilters(offset=offset))


def test_unknown_vector_backend_and_pgvector_without_the_extension(
    tmp_path: Path, pg_url: str
) -> None:
    with pytest.raises(StoreError, match="vectors must be one of"):
        open_store(tmp_path, DIM, MODEL, vectors="faiss")
    # Debian's PostgreSQL has no pgvector: asking for it says so instead of falling back.
    with pytest.raises(StoreError, match="pgvector extension"):
        open_store(pg_url, DIM, MODEL, data_dir=tmp_path, vectors="pgvector")


def test_bad_crop_image_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    bad = sighting(unit_vectors(1)[0])
    object.__setattr__(bad, "crop", np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(StoreError, match="empty"):
        store.add_sightings([bad])
    assert store.count() == 0


def test_retention_deletes_rows_files_and_vectors(target: tuple[str, Path]) -> None:
    url, data = target
    store = open_store(url, DIM, MODEL, data_dir=data)
    vecs = unit_vectors(6, seed=4)
    old = store.add_sightings([sighting(v, when=T0 - timedelta(days=40)) for v in vecs[:3]])
    store.upsert_camera("lobby", retention_days=1)
    store.add_sightings(
        [sighting(v, camera="lobby", when=T0 - timedelta(days=3)) for v in vecs[3:5]]
    )
    kept = store.add_sightings([sighting(vecs[5], when=T0)])
    deleted = store.delete_older_than(30, now=T0)
    assert deleted == 5  # 3 older than 30 days, 2 of "lobby" older than its 1 day
    assert store.count() == 1 and len(store.index) == 1
    assert all(not (data / s.crop_path).exists() for s in old if s.crop_path)
    assert search_vector(store, vecs[0], k=5)[0].sighting.id == kept[0].id
    with pytest.raises(StoreError):
        store.delete_older_than(0)
    store.close()


def test_dedup_merges_a_pass_and_keeps_the_best_view(tmp_path: Path) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    v = unit_vectors(2, seed=5)
    first = add_deduplicated(store, [sighting(v[0], when=T0, score=0.4)])[0]
    # The same plate 5 s later, better seen: merged. Another plate: a new sighting.
    merged, other = add_deduplicated(
        store,
        [
            sighting(v[0], when=T0 + timedelta(seconds=5), score=0.9),
            sighting(v[1], when=T0 + timedelta(seconds=6)),
        ],
        DedupSettings(window_s=30, min_cosine=0.9),
    )
    assert merged.id == first.id and other.id != first.id
    assert merged.frame_count == 6 and merged.detector_score == pytest.approx(0.9)
    assert merged.last_seen == T0 + timedelta(seconds=7)
    # Same plate long after the window: a new pass.
    later = add_deduplicated(store, [sighting(v[0], when=T0 + timedelta(minutes=10))])[0]
    assert later.id not in (first.id, other.id)
    assert store.count() == 3


def test_restart_catches_up_and_drops_stale_index_entries(tmp_path: Path) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    vecs = unit_vectors(20, seed=6)
    store.add_sightings([sighting(v) for v in vecs[:10]])
    store.save_index()
    # Written after the last save: only in SQL when the process "dies".
    store.add_sightings([sighting(v) for v in vecs[10:]])
    store.engine.dispose()
    reopened = open_store(tmp_path, DIM, MODEL)
    assert len(reopened.index) == 20
    assert search_vector(reopened, vecs[15], k=1)[0].sighting.id == 16
    # A model change: the index is rebuilt for the new version's rows only.
    other = open_store(tmp_path, DIM, "another-model")
    assert len(other.index) == 0


INGEST = """
import sys, numpy as np
from datetime import UTC, datetime
from store import NewSighting, open_store
store = open_store(sys.argv[1], 16, "test-vectors")
rng = np.random.default_rng(0)
i = 0
while True:
    v = rng.normal(size=(20, 16)).astype(np.float32)
    store.add_sightings([NewSighting("gate", datetime.now(UTC), x, "test-vectors",
                                     crop=np.zeros((8, 32, 3), np.uint8)) for x in v])
    i += 20
    print(i, flush=True)
"""


def test_kill_9_during_ingest_loses_no_committed_sighting(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", INGEST, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 60
    while committed < 200 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert committed >= 200, "the ingest process did not get going"
    store = open_store(tmp_path, DIM, MODEL)
    # Every batch it reported committed is there (it may have committed one more).
    assert store.count() >= committed
    assert len(store.index) == store.count()
    assert store.index.live_ids() == set(range(1, store.count() + 1))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_share_one_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two service processes (here two Store objects, each with its own hnswlib index)
    writing to one database: each search first catches up with the other's rows, including
    one that committed late with a lower id than rows already seen."""
    url = str(tmp_path / "shared") if backend == "sqlite" else request.getfixturevalue("pg_url")
    now = HnswSettings(refresh_s=0)  # catch up before every search
    a = open_store(url, DIM, MODEL, data_dir=tmp_path / "a", hnsw=now)
    b = open_store(url, DIM, MODEL, data_dir=tmp_path / "b", hnsw=now)
    try:
        vecs = unit_vectors(12, seed=8)
        written = a.add_sightings([sighting(v) for v in vecs[:10]])
        assert len(b.index) == 0  # not yet looked
        assert search_vector(b, vecs[4], k=1)[0].sighting.id == written[4].id
        assert len(b.index) == 10
        # A row that "committed late" (its id below b's high-water mark) reaches b's index.
        late = a.add_sightings([sighting(vecs[10])])[0]
        b.index.remove([late.id])
        b.refresh()
        assert b.index.holds(late.id) and len(b.index) == 11
        # A row deleted by one process is never returned by the other.
        a.delete_sightings([written[4].id])
        assert all(m.sighting.id != written[4].id for m in search_vector(b, vecs[4], k=5))
    finally:
        a.close()
        b.close()
        if backend == "postgresql":
            drop_tables(url)


def test_filtered_search_through_the_index_agrees_with_the_exact_scan(
    target: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter normally leaving few rows is scanned exactly; with the limit at 0 the same
    query goes through the index, over-fetching: both give the exact answer here."""
    from store import search

    url, data = target
    store = open_store(url, DIM, MODEL, data_dir=data)
    vecs = unit_vectors(300, seed=10)
    store.add_sightings(
        [
            sighting(v, camera=f"cam{i % 5}", when=T0 + timedelta(minutes=i))
            for i, v in enumerate(vecs)
        ]
    )
    query = unit_vectors(1, seed=11)[0]
    f = SearchFilters(camera="cam3", since=T0 + timedelta(minutes=100), offset=2)
    exact = [m.sighting.id for m in search_vector(store, query, k=8, filters=f)]
    expected = [i + 1 for i in np.argsort(-(vecs @ query)) if i % 5 == 3 and i >= 100][
        2:10
    ]  # ids start at 1; row i was last seen i minutes (and 2 s) after T0
    assert exact == expected
    monkeypatch.setattr(search, "EXACT_SCAN_LIMIT", 0)
    assert [m.sighting.id for m in search_vector(store, query, k=8, filters=f)] == expected
    store.close()


def test_frame_thumbnail_keeps_the_frame_size_of_its_box(target: tuple[str, Path]) -> None:
    url, data = target
    store = open_store(url, DIM, MODEL, data_dir=data)
    frame = np.zeros((720, 1280, 3), np.uint8)
    with_frame = NewSighting(
        "gate", T0, unit_vectors(1)[0], MODEL, box=(640, 360, 128, 32), frame=frame
    )
    without = sighting(unit_vectors(1, seed=9)[0])
    a, b = store.add_sightings([with_frame, without])
    got = store.get_sighting(a.id)
    assert got.frame_size == (1280, 720) and a.frame_size == (1280, 720)
    assert got.frame_path and max(cv2.imread(str(data / got.frame_path)).shape) == 640
    assert store.get_sighting(b.id).frame_size is None
    store.close()


def test_a_frame_already_scaled_down_keeps_the_size_it_was_stated(tmp_path: Path) -> None:
    store = open_store(tmp_path, DIM, MODEL)
    small = np.full((360, 640, 3), 90, np.uint8)  # a 1280x720 frame, scaled by the caller
    stated = NewSighting(
        "gate",
        T0,
        unit_vectors(1)[0],
        MODEL,
        box=(640, 360, 128, 32),
        frame=small,
        frame_size=(1280, 720),
    )
    (a,) = store.add_sightings([stated])
    assert store.get_sighting(a.id).frame_size == (1280, 720)
    kept = cv2.imread(str(tmp_path / a.frame_path))
    assert kept.shape == (360, 640, 3) and abs(int(kept.mean()) - 90) <= 1
    bad = NewSighting("gate", T0, unit_vectors(1)[0], MODEL, frame=small, frame_size=(0, 720))
    with pytest.raises(StoreError, match="frame_size"):
        store.add_sightings([bad])
    assert store.count() == 1  # the good one kept, nothing of the bad one
    store.close()


def test_sqlite_connections_keep_a_small_page_cache(tmp_path: Path) -> None:
    # Each pooled connection's private cache is capped (store.db.SQLITE_CACHE_KIB), so a
    # long-running service's memory does not grow with the file; WAL and FULL sync stay.
    from sqlalchemy import text

    from store.db import SQLITE_CACHE_KIB, make_engine

    engine = make_engine(tmp_path)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -SQLITE_CACHE_KIB
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()
