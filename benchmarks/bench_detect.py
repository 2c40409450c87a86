"""Milliseconds per 1280x720 frame on one core, for each detection backend and for a frame
without motion through MotionGate. Prints the figures and appends them to
docs/benchmarks.md under "Detection".

    .venv/bin/python benchmarks/bench_detect.py [--frames 20] [--no-append]

Frames: 1280x720 real photos from ../shared/data/scenes_eu_us when present (the typical
camera frame), else synthetic frames with drawn plates.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

# One core: every library's thread pool is pinned before it is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.detect import BackendUnavailableError, create_detector  # noqa: E402
from model.detect.evaluate import load_labels, read_image  # noqa: E402
from model.detect.motion import MotionGate  # noqa: E402
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
    torch.manual_seed(0)
    torch.save(CRAFT(pretrained=False).state_dict(), folder / "craft_mlt_25k.pth")
    return folder


def time_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - start))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--no-append", action="store_true", help="only print the figures")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    batch, source = frames(args.frames)
    rows: list[tuple[str, float, float, float]] = []
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
        it = iter(batch * 2)
        ms = time_ms(lambda d=detector, i=it: d.detect(next(i)), len(batch))
        found = sum(len(detector.detect(f)) for f in batch[:5])
        rows.append((label, statistics.median(ms), float(np.percentile(ms, 90)), found / 5))
        print(f"{label:34s} median {rows[-1][1]:7.1f} ms  p90 {rows[-1][2]:7.1f} ms")
    gate = MotionGate()
    still = batch[0]
    gate.changed(still)
    ms = time_ms(lambda: gate.changed(still), 500)
    rows.append(
        (
            "MotionGate, frame without motion",
            statistics.median(ms),
            float(np.percentile(ms, 90)),
            float("nan"),
        )
    )
    print(f"{rows[-1][0]:34s} median {rows[-1][1]:7.3f} ms  p90 {rows[-1][2]:7.3f} ms")
    if not args.no_append:
        append(rows, source)
    return 0


def append(rows: list[tuple[str, float, float, float]], source: str) -> None:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    doc = REPO / "docs" / "benchmarks.md"
    if not doc.exists():
        doc.write_text("# Benchmarks\n\nFigures appended by the scripts in benchmarks/.\n")
    lines = [
        "",
        f"## Detection — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "`.venv/bin/python benchmarks/bench_detect.py` — one thread for onnxruntime, OpenCV",
        f"and torch; {cpu}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}; {source}; load average "
        f"{os.getloadavg()[0]:.1f} at the end (other jobs share these cores).",
        "",
        "| backend | median ms/frame | p90 ms/frame | plates found per frame |",
        "|---|---:|---:|---:|",
    ]
    for label, med, p90, found in rows:
        shown = "—" if np.isnan(found) else f"{found:.1f}"
        lines.append(f"| {label} | {med:.2f} | {p90:.2f} | {shown} |")
    with doc.open("a") as f:
        f.write("\n".join(lines) + "\n")
    print(f"appended to {doc}")


if __name__ == "__main__":
    raise SystemExit(main())
