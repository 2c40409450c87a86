"""Searching only where a frame moved against searching the whole frame: synthetic 1280x720
road traffic (cars with plates crossing a still street with signs), each changed frame
through MotionGate, detected twice by the same backend. Prints plates found, detections
that are no plate, CPU milliseconds per frame and the share of the picture searched;
appends them to docs/benchmarks.md under "Detection".

    .venv/bin/python benchmarks/bench_regions.py [--frames 100] [--seeds 3] [--no-append]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

# One core: every library's thread pool is pinned before it is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alphabet.scene import SyntheticTraffic  # noqa: E402
from benchmarks._report import add_entry  # noqa: E402
from model.detect import create_detector  # noqa: E402
from model.detect.evaluate import match  # noqa: E402
from model.detect.motion import MotionGate, MotionOptions  # noqa: E402
from model.types import Frame  # noqa: E402

SIZE = (1280, 720)


def run(
    backend: str, options: dict[str, object], frames: int, seeds: int, margin: float
) -> list[str]:
    """One table row per way of searching, for one backend."""
    # Readings are not reused, so both ways pay for every candidate they read.
    extra = {"reuse_readings": False} if backend != "platenet" else {}
    ways = {"whole frame": create_detector(backend, **options, **extra)}
    ways["where it moved"] = create_detector(backend, **options, **extra)
    found = dict.fromkeys(ways, 0)
    false = dict.fromkeys(ways, 0)
    cpu = dict.fromkeys(ways, 0.0)
    passes: dict[str, set[tuple[int, str]]] = {way: set() for way in ways}
    seen: set[tuple[int, str]] = set()
    plates = changed = 0
    area: list[float] = []
    for seed in range(1, seeds + 1):
        traffic = SyntheticTraffic(seed, size=SIZE, fps=5)
        gate = MotionGate(MotionOptions(margin=margin))
        for i in range(frames):
            scene = traffic.frame(i)
            frame = Frame("bench", datetime.now(UTC), np.ascontiguousarray(scene.pixels), i)
            verdict = gate.check(frame)
            if not verdict.changed:
                continue
            changed += 1
            area.append(sum(w * h for *_, w, h in verdict.regions) / (SIZE[0] * SIZE[1]) or 1.0)
            truth = np.asarray(scene.boxes, np.float32).reshape(-1, 4)
            plates += len(truth)
            seen.update((seed, text) for text in scene.texts)
            for way, detector in ways.items():
                shown = frame if way == "whole frame" else replace(frame, regions=verdict.regions)
                start = time.process_time()
                result = detector.detect(shown)
                cpu[way] += time.process_time() - start
                matched = match(truth, result)
                passes[way].update((seed, scene.texts[t]) for t in np.flatnonzero(matched >= 0))
                hits = int((matched >= 0).sum())
                found[way] += hits
                false[way] += len(result) - hits
    label = f"{backend} {options}" if options else backend
    return [
        f"| {label} | {way} | {found[way]} of {plates} | {len(passes[way])} of {len(seen)} "
        f"| {false[way]} | "
        f"{1000 * cpu[way] / max(changed, 1):.1f} | "
        f"{100 * (np.mean(area) if way != 'whole frame' else 1.0):.0f} % |"
        for way in ways
    ] + [f"<!-- {changed} changed frames of {frames * seeds} -->"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames per traffic seed")
    parser.add_argument("--seeds", type=int, default=3, help="traffic scenes")
    parser.add_argument(
        "--margin", type=float, default=MotionOptions.margin, help="MotionGate margin"
    )
    parser.add_argument(
        "--backends", default="ppocr,ppocr:480,platenet", help="NAME[:max_side], comma-separated"
    )
    parser.add_argument("--no-append", action="store_true", help="print only")
    args = parser.parse_args(argv)
    rows = [
        "| backend | searched | plates found in frames (IoU >= 0.5) | cars whose plate was "
        "found at least once | detections that are no plate "
        "| CPU ms per changed frame | share of the picture searched |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for spec in args.backends.split(","):
        backend, _, side = spec.partition(":")
        options: dict[str, object] = {"max_side": int(side)} if side else {}
        *table, note = run(backend, options, args.frames, args.seeds, args.margin)
        rows += table
        notes.append(note)
        print(*table, sep="\n", flush=True)
    body = "\n".join(
        [
            f"synthetic traffic, {args.seeds} scenes x {args.frames} frames at 1280x720, "
            f"one thread, motion margin {args.margin}; only frames MotionGate lets through "
            + notes[0].removeprefix("<!-- ").removesuffix(" -->"),
            "",
            *rows,
        ]
    )
    print(body)
    if not args.no_append:
        add_entry("Detection", "Searching where frames moved", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
