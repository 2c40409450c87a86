"""Store memory per sighting: what a long-running service's store adds as sightings arrive.

    .venv/bin/python benchmarks/bench_store_growth.py              # 300 to warm up, 4 x 600
    .venv/bin/python benchmarks/bench_store_growth.py --no-write

Opens a fresh SQLite + hnswlib store (128-d vectors), adds sightings one at a time as the
service does (a crop, a 640x360 frame thumbnail, a reading), with a vector search after
each, and prints after each round glibc's ``mallinfo2`` (memory in use and free inside
malloc's arenas, and in blocks with a mapping of their own) and the process's RssAnon.
600 sightings is an hour of bench_soak.py's two cameras. glibc only (Linux).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._report import add_entry  # noqa: E402
from store import NewSighting, open_store, search_vector  # noqa: E402
from stream.heap import fix_mmap_threshold, malloc_info  # noqa: E402

DIM = 128
MB = 2**20


def _figures() -> dict[str, float]:
    info = malloc_info()
    if info is None:
        raise SystemExit("needs glibc 2.33+ (mallinfo2)")
    return {
        "in_use": info["uordblks"] / MB,
        "free": info["fordblks"] / MB,
        "mapped": info["hblkhd"] / MB,
        # RssAnon from /proc/self/status: light, where reading smaps here would allocate
        "rss_anon": int(Path("/proc/self/status").read_text().split("RssAnon:")[1].split()[0])
        / 1024,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--warmup", type=int, default=300, help="sightings before measuring")
    parser.add_argument("--per-round", type=int, default=600, help="sightings a round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    fix_mmap_threshold(256)  # as the service sets it (pipeline.heap_mmap_kb's default)
    rng = np.random.default_rng(0)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="platewatch-growth-") as tmp:
        store = open_store(Path(tmp), DIM, "growth")

        def add(i: int) -> None:
            v = rng.normal(size=DIM).astype(np.float32)
            v /= np.linalg.norm(v)
            store.add_sightings([
                NewSighting(
                    f"cam{i % 2}", t0 + timedelta(seconds=6 * i), v, "growth",
                    box=(400, 300, 120, 24), crop=np.full((24, 120, 3), i % 255, np.uint8),
                    frame=np.full((360, 640, 3), 5, np.uint8), frame_size=(1280, 720),
                    reading=f"AB{i % 10000:04d}CD", reading_confidence=0.8,
                )
            ])  # fmt: skip
            search_vector(store, v, k=5)

        for i in range(args.warmup):
            add(i)
        gc.collect()
        rows = [(args.warmup, _figures())]
        n = args.warmup
        for _ in range(args.rounds):
            for _ in range(args.per_round):
                add(n)
                n += 1
            gc.collect()
            rows.append((n, _figures()))
        store.close()
    lines = [
        "| sightings | malloc in use, MB | free in arenas, MB | own mappings, MB | RssAnon, MB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for count, f in rows:
        lines.append(
            f"| {count} | {f['in_use']:.2f} | {f['free']:.2f} | {f['mapped']:.2f} | "
            f"{f['rss_anon']:.1f} |"
        )
    first, last = rows[0], rows[-1]
    added = last[0] - first[0]
    per = {k: (last[1][k] - first[1][k]) / added * args.per_round for k in first[1]}
    lines.append(
        f"\n- per {args.per_round} sightings (from {first[0]} to {last[0]}): malloc in use "
        f"{per['in_use']:+.2f} MB, own mappings {per['mapped']:+.2f} MB, RssAnon "
        f"{per['rss_anon']:+.2f} MB; SQLite + hnswlib ({DIM}-d), a vector search after each add"
    )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        add_entry("Store", "Memory per sighting", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
