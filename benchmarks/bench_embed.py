"""Embedding speed: crops/s batched and single-crop latency, for each shipped model.

    .venv/bin/python benchmarks/bench_embed.py [--models default seed] [--seconds 5]

Crops are synthetic (alphabet.synth, else model.data.degrade), 80-200 px wide, BGR; the
time covers preprocessing and the network, as a camera pipeline would pay it. Figures are
printed and appended to docs/benchmarks.md under "Embedding".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._report import add_entry  # noqa: E402
from model.data import DataConfig, PairSource  # noqa: E402
from model.embed import load_embedder  # noqa: E402


def timed(fn: object, seconds: float) -> tuple[float, int]:
    """Mean seconds per call of fn over about `seconds`, and the number of calls."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()  # type: ignore[operator]
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls, calls


def bench(model: str, crops: list[np.ndarray], batch: int, seconds: float) -> dict[str, float]:
    emb = load_embedder(model)
    emb.embed_crops(crops[:batch])
    emb.embed_crops(crops[:1])
    per_batch, _ = timed(lambda: emb.embed_crops(crops[:batch]), seconds)
    single, _ = timed(lambda: emb.embed_crops(crops[:1]), seconds)
    lat = []
    for c in crops[:200]:
        t = time.perf_counter()
        emb.embed_crops([c])
        lat.append(time.perf_counter() - t)
    return {
        "crops_per_s": batch / per_batch,
        "single_ms_mean": 1000 * single,
        "single_ms_p95": 1000 * float(np.percentile(lat, 95)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "seed"])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    crops, _ = PairSource(DataConfig()).batch(args.batch, seed=123)
    load = os.getloadavg()[0]
    lines = []
    for model in args.models:
        r = bench(model, crops, args.batch, args.seconds)
        version = load_embedder(model).version
        line = (f"| {version} | {r['crops_per_s']:.0f} | {r['single_ms_mean']:.2f} | "
                f"{r['single_ms_p95']:.2f} |")  # fmt: skip
        print(line)
        lines.append(line)
    body = (f"Batch {args.batch}; load average {load:.1f} at the start.\n\n"
            "| model | crops/s batched | single crop ms (mean) | single crop ms (p95) |\n"
            "|---|---|---|---|\n" + "\n".join(lines))  # fmt: skip
    add_entry("Embedding", "", body, doc=Path(args.out))
    print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
