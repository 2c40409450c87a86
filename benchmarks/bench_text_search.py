"""Text search latency in the store: fused score (the default) against cosine only.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_text_search.py [--rows 100000]

Fills a fresh SQLite store in a temporary folder with ``--rows`` sightings (random unit
vectors, random plate readings of every format, no images), then times
``store.search_text`` for 50 plate texts with the default embedder: fused (cosine + the
stored readings, model.fusion; their in-memory index, store.readings, is loaded by the
first search) and ``blend_reading=0``
(cosine through the vector index only). Prints mean and p95 milliseconds and the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import machine_line  # noqa: E402
from model.data import LAYOUTS, random_text  # noqa: E402
from model.embed import load_embedder  # noqa: E402
from store import NewSighting, open_store, search_text  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    embedder = load_embedder("default")
    rng = np.random.default_rng(0)
    formats = sorted(LAYOUTS)
    texts = [random_text(formats[i % len(formats)], rng) for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp), embedder.dim, embedder.version)
        t0 = datetime(2026, 11, 1, tzinfo=UTC)
        for s in range(0, args.rows, 5000):
            v = rng.normal(size=(min(5000, args.rows - s), embedder.dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            store.add_sightings([
                NewSighting(camera="c", first_seen=t0, embedding=v[i], reading=texts[s + i],
                            reading_confidence=0.9, model_version=embedder.version)
                for i in range(len(v))
            ])  # fmt: skip
        queries = texts[:: max(1, args.rows // args.queries)][: args.queries]
        print(machine_line())
        for name, blend in (("fused (default)", None), ("cosine only", 0.0)):
            start = time.perf_counter()
            search_text(store, queries[0], embedder, k=10, blend_reading=blend)
            print(f"{args.rows} sightings, {name}: first search {time.perf_counter() - start:.2f} s"
                  " (loads the readings into memory for the fused score)")  # fmt: skip
            ms = []
            for q in queries:
                start = time.perf_counter()
                search_text(store, q, embedder, k=10, blend_reading=blend)
                ms.append(1000 * (time.perf_counter() - start))
            print(f"{args.rows} sightings, {name}: mean {np.mean(ms):.1f} ms, "
                  f"p95 {np.percentile(ms, 95):.1f} ms")  # fmt: skip
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
