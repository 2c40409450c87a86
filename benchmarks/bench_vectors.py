"""hnswlib settings against recall and latency, on the store benchmark's vectors, no SQL.

    .venv/bin/python benchmarks/bench_vectors.py --size 1000000 --m 16 32 --ef 256 512 1024

For each M (and ef_construction) it builds a ``store.vectors.VectorIndex`` over the same
vectors as ``bench_store.py`` (ids 1..N, in the order bench_store loads its rows) with one
thread, then times the text queries at each ef: recall@10 against an exact scan, wall and
CPU p50/p99 of ``VectorIndex.search``. ``--save DIR`` keeps the last index built in the
store's on-disk form, for ``bench_store.py --reuse-index DIR``.

Figures are printed and appended to docs/benchmarks.md under "Store".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_store import (  # noqa: E402
    Data,
    append,
    exact_top,
    make_data,
    model_embeddings,
)
from store.vectors import HnswSettings, VectorIndex  # noqa: E402


def spread_dims(differences: npt.NDArray[np.float32], share: float = 0.9) -> int:
    """How many principal directions hold ``share`` of the variance of these vectors."""
    centred = differences - differences.mean(axis=0)
    power = np.linalg.svd(centred, compute_uv=False) ** 2
    return int(np.searchsorted(np.cumsum(power) / power.sum(), share) + 1)


def view_spread(data: Data, base: int) -> tuple[int, int]:
    """Directions holding 90% of the variance between two views of a plate: (real second
    views against their first, jittered copies against their crop)."""
    crops, _, second, _ = model_embeddings(base)
    real = spread_dims(second - crops[: len(second)])
    jittered = spread_dims(data.vectors[base : base + len(second)] - crops[: len(second)])
    return real, jittered


def build(data: Data, m: int, ef_construction: int) -> tuple[VectorIndex, float, float]:
    """The index over every vector (one thread), its build seconds and its size in MB."""
    n, dim = data.vectors.shape
    index = VectorIndex(dim, HnswSettings(m=m, ef_construction=ef_construction), capacity=n)
    t = time.perf_counter()
    for start in range(0, n, 50_000):
        part = data.vectors[start : start + 50_000]
        ids = np.arange(start + 1, start + 1 + len(part), dtype=np.int64)
        index.add(ids, part, threads=1)
    seconds = time.perf_counter() - t
    return index, seconds, index.memory_bytes() / 2**20


def sweep(index: VectorIndex, data: Data, efs: list[int], k: int) -> list[dict[str, float]]:
    truth = exact_top(data.vectors, data.queries, k) + 1
    out = []
    for ef in efs:
        index.settings = HnswSettings(
            m=index.settings.m, ef_construction=index.settings.ef_construction, ef=ef
        )
        index.search(data.queries[0], k)  # warm
        wall, cpu, hits = [], [], 0
        for q, expected in zip(data.queries, truth, strict=True):
            t, c = time.perf_counter(), time.thread_time()
            ids, _ = index.search(q, k)
            wall.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            hits += len(set(ids.tolist()) & set(expected.tolist()))
        w = np.array(wall) * 1000
        c_ = np.array(cpu) * 1000
        row = {
            "ef": ef,
            "recall": hits / (k * len(data.queries)),
            "p50": float(np.percentile(w, 50)),
            "p99": float(np.percentile(w, 99)),
            "cpu_p50": float(np.percentile(c_, 50)),
            "cpu_p99": float(np.percentile(c_, 99)),
            "load": os.getloadavg()[0],
        }
        print(row, flush=True)
        out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--base", type=int, default=20_000, help="synthetic crops embedded")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, nargs="+", default=[HnswSettings.m])
    parser.add_argument("--ef-construction", type=int, default=HnswSettings.ef_construction)
    parser.add_argument("--ef", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--save", type=Path, default=None, help="keep the last index here")
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--no-append", action="store_true", help="print only")
    args = parser.parse_args()
    data = make_data(args.size, args.base, args.queries)
    spread = view_spread(data, args.base) if args.size >= 2 * args.base else None
    rows: list[dict[str, Any]] = []
    for m in args.m:
        print(f"building M={m} ef_construction={args.ef_construction} over {args.size:,}")
        index, seconds, mb = build(data, m, args.ef_construction)
        print(f"built in {seconds:.0f} s, {mb:.0f} MB", flush=True)
        for r in sweep(index, data, args.ef, args.k):
            rows.append({"m": m, "build_s": seconds, "mb": mb} | r)
        if args.save:
            index.save(args.save, data.version)
        del index
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python benchmarks/bench_vectors.py " + " ".join(sys.argv[1:])
    lines = [
        "| M | ef | recall@10 | p50 ms | p99 ms | p99 CPU ms | build s (1 thread) "
        "| index MB per 1M | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['m']} | {r['ef']} | {r['recall']:.4f} | {r['p50']:.2f} | {r['p99']:.2f} "
            f"| {r['cpu_p99']:.2f} | {r['build_s']:.0f} | {r['mb'] * 1e6 / args.size:,.0f} "
            f"| {r['load']:.1f} |"
        )
    block = (
        f"\n### hnswlib settings, {args.size:,} vectors — {stamp}\n\n"
        f"`{command.strip()}` — {os.cpu_count()} CPUs (shared, load in the last column); "
        f"ef_construction={args.ef_construction}; {len(data.queries)} text queries, "
        f"k={args.k}; latency of `VectorIndex.search` alone. Vectors: {data.version} "
        f"embeddings of {min(args.size, args.base):,} synthetic crops"
        + (
            f", each repeated with jitter sigma={data.jitter:.4f} up to the size"
            if args.size > args.base
            else ""
        )
        + ".\n"
        + (
            f"90% of the variance between two real views of a plate lies in {spread[0]} "
            f"directions; between a crop and its jittered copy in {spread[1]} (of "
            f"{data.vectors.shape[1]}).\n"
            if spread
            else ""
        )
        + "\n"
        + "\n".join(lines)
        + "\n"
    )
    print(block)
    if not args.no_append:
        append(Path(args.out), block)
        print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
