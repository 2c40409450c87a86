"""Milliseconds per 1280x720 frame on one core, for each detection backend and for a frame
without motion through MotionGate. Prints the figures and appends them to
docs/benchmarks.md under "Detection".

    .venv/bin/python benchmarks/bench_detect.py [--frames 20] [--no-append]

Frames: 1280x720 real photos from ../shared/data/scenes_eu_us when present (the typical
camera frame), else synthetic frames with drawn plates.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

# One core: every library's thread pool is pinned before it is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._report import DOC, add_entry  # noqa: E402
from model.detect import BackendUnavailableError, create_detector  # noqa: E402
from model.detect.evaluate import load_labels, read_image  # noqa: E402
from model.detect.motion import MotionGate  # noqa: E402
from model.protocols import Detector  # noqa: E402
from model.types import Frame  # noqa: E402

SIZE = (1280, 720)
#: (label, backend, options) measured in this order.
VARIANTS: list[tuple[str, str, dict[str, object]]] = [
    ("ppocr default (float, max_side 960)", "ppocr", {}),
    ("ppocr 8-bit, max_side 960", "ppocr", {"int8": True}),
    ("ppocr float, max_side 640", "ppocr", {"max_side": 640}),
    ("ppocr 8-bit, max_side 640", "ppocr", {"max_side": 640, "int8": True}),
    ("ppocr float, max_side 1280", "ppocr", {"max_side": 1280}),
    ("ppocr float 960, no read check", "ppocr", {"verify": False}),
    ("easyocr (CRAFT, max_side 960)", "easyocr", {}),
    # TensorFlow last: torch (CRAFT) loaded after TensorFlow dies with SIGSEGV.
    ("platenet (max_side 640, refined)", "platenet", {}),
    ("platenet 640, no refiner", "platenet", {"refine": False}),
    ("platenet 800, refined", "platenet", {"max_side": 800}),
    ("platenet 640, refined + read check", "platenet", {"verify": True}),
    ("ppocr default + small_plates (platenet refined)", "ppocr", {"small_plates": True}),
]


def frames(count: int) -> tuple[list[Frame], str]:
    """``count`` 1280x720 frames and where they came from."""
    shared = Path(os.environ.get("PLATEWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    now = datetime.now(UTC)
    if (shared / "scenes_eu_us" / "labels.csv").exists():
        out = []
        for item in load_labels(shared / "scenes_eu_us"):
            img = read_image(item.path)
            if img is not None and img.shape[:2] == (SIZE[1], SIZE[0]):
                out.append(Frame("bench", now, img))
            if len(out) == count:
                return out, f"{count} real 1280x720 photos of scenes_eu_us"
    sys.path.insert(0, str(REPO / "tests"))
    from tests.model.detect.scenes import scene

    synth = [scene(("AB123CD",), size=SIZE, plate_width=160, seed=i).frame for i in range(count)]
    return synth, f"{count} synthetic 1280x720 frames with one drawn plate"


def stand_in_craft() -> Path | None:
    """A folder with a randomly initialised CRAFT state_dict, or None without torch."""
    try:
        import torch
        from easyocr.craft import CRAFT
    except ImportError:
        return None
    folder = Path(tempfile.mkdtemp(prefix="craft_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    torch.manual_seed(0)
    torch.save(CRAFT(pretrained=False).state_dict(), folder / "craft_mlt_25k.pth")
    return folder


@dataclass(frozen=True)
class Row:
    """One measured variant: wall and CPU milliseconds per frame, plates found per frame.

    CPU time is the process's own (one thread), so it stays a fair one-core figure when
    other jobs crowd the machine; wall time shows what the crowding did.
    """

    label: str
    wall_median: float
    cpu_median: float
    cpu_p90: float
    found: float


def _detect_next(detector: Detector, frames: Iterator[Frame]) -> object:
    return detector.detect(next(frames))


def measure(label: str, fn: Callable[[], object], repeat: int, found: float) -> Row:
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(1000 * (time.process_time() - c0))
        wall.append(1000 * (time.perf_counter() - w0))
    row = Row(
        label, statistics.median(wall), statistics.median(cpu), float(np.percentile(cpu, 90)), found
    )
    print(
        f"{label:52s} cpu median {row.cpu_median:8.2f} ms  p90 {row.cpu_p90:8.2f} ms  "
        f"wall median {row.wall_median:8.2f} ms"
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--no-append", action="store_true", help="only print the figures")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    batch, source = frames(args.frames)
    rows: list[Row] = []
    for label, name, options in VARIANTS:
        try:
            detector = create_detector(name, threads=1, **options)
        except BackendUnavailableError as exc:
            stand_in = stand_in_craft() if name == "easyocr" else None
            if stand_in is None:
                print(f"{label}: not measured ({exc})")
                continue
            # Speed does not depend on the weights' values: time CRAFT with random ones.
            detector = create_detector(name, threads=1, model_dir=stand_in, **options)
            label += " [stand-in weights: speed only]"
        for f in batch[:2]:  # warm-up: first runs allocate
            detector.detect(f)
        sample = batch[:2] if name == "easyocr" else batch[:5]
        found = sum(len(detector.detect(f)) for f in sample) / len(sample)
        # CRAFT (a VGG-16) takes seconds a frame on one core: a few frames tell enough.
        repeat = 3 if name == "easyocr" else len(batch)
        rows.append(measure(label, partial(_detect_next, detector, iter(batch)), repeat, found))
    gate = MotionGate()
    still = batch[0]
    gate.changed(still)
    rows.append(
        measure("MotionGate, frame without motion", lambda: gate.changed(still), 500, float("nan"))
    )
    if not args.no_append:
        append(rows, source)
    return 0


def append(rows: list[Row], source: str) -> None:
    lines = [
        f"One thread for onnxruntime, OpenCV, TensorFlow and torch; {source}.",
        "CPU ms is the process's own one-thread time per frame (the one-core cost); wall ms",
        "adds waiting.",
        "",
        "| variant | CPU ms/frame, median | CPU ms, p90 | wall ms, median | plates found/frame |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        shown = "—" if np.isnan(r.found) else f"{r.found:.1f}"
        lines.append(
            f"| {r.label} | {r.cpu_median:.2f} | {r.cpu_p90:.2f} | {r.wall_median:.2f} | {shown} |"
        )
    add_entry("Detection", "", "\n".join(lines))
    print(f"appended to {DOC}")


if __name__ == "__main__":
    raise SystemExit(main())
