"""Service benchmark: throughput, cameras held without dropping, latency to searchable.

    .venv/bin/python benchmarks/bench_stream.py                      # the three figures
    .venv/bin/python benchmarks/bench_stream.py --cameras 4,8,10 --seconds 30
    .venv/bin/python benchmarks/bench_stream.py --soak 3600 --cameras 8   # one long run

(Memory over an hour of the real `platewatch serve` process: benchmarks/bench_soak.py.)

Runs the real service (synthetic 1280x720 road cameras with moving plates, the configured
detector, the shipped embedder, the embedded SQLite + hnswlib store in a temporary data
folder), prints its figures and appends them, with the command, machine and date, to the
"Service" section of docs/benchmarks.md.
"""

from __future__ import annotations

# aiortc before TensorFlow (TRAPS.md 1).
import stream.service  # isort: skip

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script from anywhere: the repository root holds the benchmarks package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphabet.text import PlateTextError, same_plate
from benchmarks._report import add_entry
from stream import metrics
from stream.assemble import build_components
from stream.config import ServiceConfig, parse_config
from stream.service import Components, Service
from stream.tracking import PassingPlate


class TimedSink:
    """The real sink, noting for each stored plate the seconds since its frames arrived."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.store = inner.store
        self.from_last: list[float] = []
        self.from_first: list[float] = []
        self.readings: list[tuple[str, str]] = []  # (camera, reading) of each stored plate

    def add(self, plates: Sequence[PassingPlate]) -> list[Any]:
        stored = self.inner.add(plates)
        self.readings += [(p.camera, p.reading) for p in plates]
        now = time.monotonic()
        self.from_last += [now - p.arrived for p in plates]
        self.from_first += [now - p.first_arrived for p in plates]
        return list(stored)

    def index_size(self) -> int:
        return int(self.inner.index_size())

    def close(self) -> None:
        self.inner.close()


class Sources:
    """Every camera source the service opens, so a run can ask the synthetic cameras which
    plates they showed (stream.service opens them through create_source)."""

    def __init__(self) -> None:
        self.opened: list[Any] = []
        self._create = stream.service.create_source
        stream.service.create_source = self._open

    def _open(self, *args: Any, **kwargs: Any) -> Any:
        source = self._create(*args, **kwargs)
        self.opened.append(source)
        return source

    def shown(self, min_frames: int = 3) -> set[tuple[str, str]]:
        """(camera, plate text) of every plate a synthetic camera showed in at least
        ``min_frames`` frames since the last call."""
        out = {
            (src.camera, text)
            for src in self.opened
            for text, frames in getattr(src, "shown", {}).items()
            if frames >= min_frames
        }
        self.opened.clear()
        return out


SOURCES = Sources()


def _config(
    args: argparse.Namespace, names: list[str], fps: float, sample_fps: float
) -> ServiceConfig:
    cameras = {
        name: {
            "source": {"type": "synthetic", "seed": i, "fps": fps},
            "sample_fps": sample_fps,
        }
        for i, name in enumerate(names)
    }
    return parse_config(
        {
            "defaults": {"motion": {"enabled": not args.no_motion, "regions": not args.no_regions}},
            "cameras": cameras,
            "detector": {"name": args.detector, "options": {"max_side": args.max_side}},
            "pipeline": {"detect_workers": args.workers},
        }
    )


def _sum(metric: str, names: list[str]) -> float:
    return sum(metrics.REGISTRY.get_sample_value(metric, {"camera": n}) or 0.0 for n in names)


def _stages() -> dict[str, float]:
    """Totals of the stage histograms so far: detection seconds and frames, embedding
    seconds and crops."""
    value = metrics.REGISTRY.get_sample_value
    return {
        "detect_s": value("platewatch_detection_seconds_sum") or 0.0,
        "frames": value("platewatch_detection_seconds_count") or 0.0,
        "embed_s": value("platewatch_embedding_seconds_sum") or 0.0,
        "crops": value("platewatch_embedding_batch_size_sum") or 0.0,
    }


async def _run(config: ServiceConfig, components: Components, seconds: float) -> dict[str, float]:
    names = list(config.cameras)
    service = Service(config, components)
    await service.start()
    await asyncio.sleep(3.0)  # warm-up: first connections, first network calls
    cpu0, t0 = time.process_time(), time.monotonic()
    keys = {
        "received": "platewatch_frames_received_total",
        "processed": "platewatch_frames_processed_total",
        "dropped": "platewatch_frames_dropped_total",
    }
    start = {k: _sum(m, names) for k, m in keys.items()}
    stages0 = _stages()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    end = {k: _sum(m, names) for k, m in keys.items()}
    stages = {k: v - stages0[k] for k, v in _stages().items()}
    await service.stop()
    got = {k: end[k] - start[k] for k in keys}
    # Cars shown against sightings stored, over the whole run (warm-up and the tracks
    # closed at stop included): a car counts when a sighting of its camera reads as its
    # plate (look-alikes O/0 and I/1 alike, as search treats them).
    shown = SOURCES.shown()
    stored = [r for r in getattr(components.sink, "readings", []) if r[0] in names]
    found = {car for car in shown if any(c == car[0] and _same(text, car[1]) for c, text in stored)}
    return {
        "cameras": len(names),
        "seconds": elapsed,
        "received_fps": got["received"] / elapsed,
        "processed_fps": got["processed"] / elapsed,
        "dropped": got["dropped"],
        "cpu_cores_used": cpu / elapsed,
        "detect_ms": 1000 * stages["detect_s"] / max(stages["frames"], 1),
        "embed_ms_per_crop": 1000 * stages["embed_s"] / max(stages["crops"], 1),
        "crops": stages["crops"],
        "cars_shown": len(shown),
        "cars_stored": len(found),
        "sightings": len(stored),
    }


def _same(reading: str, text: str) -> bool:
    try:
        return same_plate(reading, text)
    except PlateTextError:  # an empty or odd reading names no plate
        return False


def _row(r: dict[str, float]) -> str:
    return (
        f"| {int(r['cameras'])} | {r['received_fps']:.1f} | {r['processed_fps']:.1f} | "
        f"{int(r['dropped'])} | {r['cpu_cores_used']:.2f} | {r['detect_ms']:.0f} | "
        f"{r['embed_ms_per_crop']:.1f} ({int(r['crops'])}) | "
        f"{int(r['cars_stored'])} of {int(r['cars_shown'])} | {int(r['sightings'])} |"
    )


async def bench(args: argparse.Namespace) -> list[str]:
    data = Path(tempfile.mkdtemp(prefix="platewatch-bench-"))
    base = _config(args, ["warm"], 5.0, 5.0)
    inner = await asyncio.to_thread(build_components, base, data)
    sink = TimedSink(inner.sink)
    components = Components(inner.detector, inner.embedder, sink)
    lines = []
    cores = os.cpu_count() or 1

    if not args.soak:
        # 1. Throughput: two cameras offering frames faster than the pipeline takes them.
        # "Per core" is frames per CPU-second of this process, which stays meaningful on
        # a machine shared with other work; the wall-clock rate is printed beside it.
        names = [f"tput-{i}" for i in range(2)]
        r = await _run(_config(args, names, 30.0, 120.0), components, args.seconds)
        per_core = r["processed_fps"] / max(r["cpu_cores_used"], 1e-6)
        lines.append(
            f"- throughput: {per_core:.1f} frames per CPU-second (per core); wall clock "
            f"{r['processed_fps']:.1f} frames/s using {r['cpu_cores_used']:.2f} of {cores} "
            f"cores; 1280x720, moving plates, motion gate {'off' if args.no_motion else 'on'}"
        )

    # 2. Capacity: n cameras at 5 fps; the most that run without a dropped frame, and
    # how many a dedicated 2-core machine would hold at the CPU cost measured per camera.
    table = [
        "| cameras (5 fps) | received fps | processed fps | dropped | CPU cores used "
        "| detect ms/frame | embed ms/crop (crops) | cars shown whose plate was stored "
        "| sightings stored |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    held, cost = 0, []
    latency: tuple[list[float], list[float]] = ([], [])
    for n in [int(x) for x in args.cameras.split(",")]:
        names = [f"cap{n}-{i}" for i in range(n)]
        seconds = args.soak or args.seconds
        mark = len(sink.from_last)
        r = await _run(_config(args, names, 5.0, 5.0), components, seconds)
        table.append(_row(r))
        print(table[-1], flush=True)
        if r["dropped"] == 0:
            held = max(held, n)
            cost.append(r["cpu_cores_used"] / n)
            latency = (sink.from_last[mark:], sink.from_first[mark:])
    lines.append(f"- 5-fps cameras held without dropping here: {held} (tried {args.cameras})")
    if cost:
        per_camera = max(cost)
        lines.append(
            f"- CPU per 5-fps camera (worst run without drops): {per_camera:.3f} cores; "
            f"a dedicated 2-core machine would hold about {int(2 / per_camera)} cameras"
        )
    lines += ["", *table, ""]  # a table needs blank lines around it in Markdown

    # 3. Latency from arrival to searchable (stored, indexed), in the largest run that
    # kept up (an overloaded run measures its backlog, not the pipeline).
    if latency[0]:
        last = np.percentile(latency[0], [50, 95])
        first = np.percentile(latency[1], [50, 95])
        lines.append(
            f"- latency to searchable ({held} cameras, {len(latency[0])} sightings): from the "
            f"plate's last frame p50 {last[0]:.2f} s, p95 {last[1]:.2f} s (includes the "
            f"{base.tracking.close_after_s} s a track waits unseen before it closes); "
            f"from its first frame p50 {first[0]:.2f} s, p95 {first[1]:.2f} s"
        )
    components.sink.close()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", default="1,2,4,6,8,10", help="camera counts to try")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--soak", type=float, default=0.0, help="one long run of this many s")
    parser.add_argument("--detector", default="ppocr")
    parser.add_argument("--max-side", type=int, default=480, help="detector input size")
    parser.add_argument("--workers", type=int, default=2, help="detection threads")
    parser.add_argument("--no-motion", action="store_true", help="motion gate off")
    parser.add_argument(
        "--no-regions", action="store_true", help="detect on whole frames, not where they moved"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)

    lines = asyncio.run(bench(args))
    setup = f"detector {args.detector} max_side {args.max_side}, {args.workers} detection threads"
    setup += ", whole frames" if args.no_regions else ", searching where frames moved"
    text = "\n".join([setup, "", *lines])
    print(text)
    if not args.no_write:
        add_entry("Service", "", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
