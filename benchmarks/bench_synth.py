"""Images per second of the synthetic generator on one core: realistic crops at three
difficulties, clean plates, still scenes and traffic frames. Prints the figures and
appends them to docs/benchmarks.md under "Synthetic generator".

    .venv/bin/python benchmarks/bench_synth.py [--crops 3000] [--repeat 3] [--no-append]
                                              [--ocr 100]

With ``--ocr N`` it also reads N real crops of br_cc and uc3m_crops (../shared/data) and N
synthetic crops of the same format at several difficulties with the PP-OCRv4 recogniser
(model.ocr_baseline), and reports exact-read share and character error rate of each: how
hard the synthetic mix is next to real cameras, judged by a reader neither was tuned on.

Two figures per row, each the best of ``--repeat`` runs: items per second of wall-clock
time, and items per second of the process's own CPU time. On a shared, busy machine the
second is the fair one-core figure (the load average at the start is printed beside it).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

# One core: every library's thread pool is pinned before it is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alphabet.formats import FORMATS, random_plate_text  # noqa: E402
from alphabet.scene import SyntheticTraffic, synth_scene  # noqa: E402
from alphabet.synth import draw_plate, generate_batch  # noqa: E402
from benchmarks._machine import cpu_name  # noqa: E402
from benchmarks._report import DOC, add_entry  # noqa: E402

Rate = tuple[float, float]


def rate(work: Callable[[], int], repeat: int) -> Rate:
    """Best (wall-clock, CPU-time) items per second over ``repeat`` runs of ``work``,
    which returns how many items it made."""
    wall, cpu = 0.0, 0.0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        count = work()
        wall = max(wall, count / (time.perf_counter() - start))
        cpu = max(cpu, count / max(time.process_time() - start_cpu, 1e-9))
    return wall, cpu


def measure(crops: int, repeat: int) -> list[tuple[str, Rate]]:
    """(what, rates) for each part of the generator."""
    generate_batch(200, seed=99)  # warm-up: glyph caches, first allocations
    rows: list[tuple[str, Rate]] = []
    for difficulty in (0.0, 0.5, 1.0):

        def crops_at(d: float = difficulty) -> int:
            return len(generate_batch(crops, seed=1, difficulty=d, mask_prob=0.1)[0])

        rows.append((f"realistic crops, difficulty {difficulty:g}", rate(crops_at, repeat)))

    def clean() -> int:
        rng = np.random.default_rng(2)
        names = sorted(FORMATS)
        for i in range(crops):
            fmt = names[i % len(names)]
            draw_plate(random_plate_text(fmt, rng), fmt, rng)
        return crops

    rows.append(("clean plates (draw_plate, 64 px high)", rate(clean, repeat)))

    def scenes() -> int:
        rng = np.random.default_rng(3)
        for _ in range(20):
            synth_scene(rng)
        return 20

    rows.append(("still scenes 1280x720 (synth_scene)", rate(scenes, repeat)))

    def traffic() -> int:
        road = SyntheticTraffic(4, plates=["AA5149EK", "ABC1234"])
        for i in range(100):
            road.frame(i)
        return 100

    rows.append(("traffic frames 1280x720 (SyntheticTraffic)", rate(traffic, repeat)))
    return rows


#: (dataset folder, plate format of its plates, characters hidden per real crop).
OCR_SETS = (("br_cc", "br", 0), ("uc3m_crops", "es", 2))
OCR_DIFFICULTIES = (0.3, 0.6, 0.8, 1.0)


def _read_all(crops: list[np.ndarray], texts: list[str]) -> tuple[float, float]:
    """(share read exactly, character error rate) against the visible characters: a
    hidden character (``?``, a grey block) counts as read when the reader skips it."""
    from alphabet.text import edit_distance
    from model.ocr_baseline import read_crop

    exact, errors = 0, 0.0
    for crop, text in zip(crops, texts, strict=True):
        text = text.replace("?", "")
        distance = edit_distance(read_crop(crop)[0], text)
        exact += distance == 0
        errors += min(distance, len(text)) / len(text)
    return exact / len(texts), errors / len(texts)


def ocr_realism(count: int) -> list[tuple[str, float, float]]:
    """(what, exact share, CER) for real crops and synthetic ones at several difficulties."""
    import csv

    from alphabet.synth import mask_characters, realistic_crop

    shared = Path(os.environ.get("PLATEWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    rows: list[tuple[str, float, float]] = []
    for folder, fmt, hidden in OCR_SETS:
        labels = shared / folder / "labels.csv"
        if not labels.exists():
            print(f"{folder}: not found under {shared}, skipped")
            continue
        with labels.open(newline="") as fh:
            items = list(csv.DictReader(fh))[:count]
        real = [np.asarray(cv2.imread(str(shared / folder / i["file"])), np.uint8) for i in items]
        rows.append((f"{folder} (real)", *_read_all(real, [i["plate_text"] for i in items])))
        for difficulty in OCR_DIFFICULTIES:
            rng = np.random.default_rng(0)
            texts = [random_plate_text(fmt, rng) for _ in range(count)]
            if hidden:
                texts = [mask_characters(t, rng, hidden) for t in texts]
            crops = [realistic_crop(t, fmt, rng, difficulty) for t in texts]
            rows.append((f"synthetic {fmt}, difficulty {difficulty:g}", *_read_all(crops, texts)))
        for what, exact, cer in rows[-1 - len(OCR_DIFFICULTIES) :]:
            print(f"{what:44s} exact {exact:5.2f}  CER {cer:5.3f}")
    return rows


def machine() -> str:
    cpu = cpu_name() or "unknown CPU"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def body(rows: list[tuple[str, Rate]], load: float, ocr: list[tuple[str, float, float]]) -> str:
    """The figures as Markdown, for the "Synthetic generator" section."""
    lines = [
        f"One thread for OpenCV; 1-minute load average {load:.1f} at the start (best of "
        "repeated runs).",
        "",
        "| what | items per second (wall clock) | items per CPU-second, one core |",
        "|---|---:|---:|",
    ]
    lines += [f"| {what} | {wall:,.0f} | {cpu:,.0f} |" for what, (wall, cpu) in rows]
    if ocr:
        lines += [
            "",
            "Read by the PP-OCRv4 recogniser (model.ocr_baseline), scored on the visible",
            "characters (privacy blocks removed from the expected text):",
            "",
            "| crops | read exactly | character error rate |",
            "|---|---:|---:|",
        ]
        lines += [f"| {what} | {exact:.2f} | {cer:.3f} |" for what, exact, cer in ocr]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--crops", type=int, default=3000, help="crops per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best kept)")
    parser.add_argument("--no-append", action="store_true", help="only print the figures")
    parser.add_argument("--ocr", type=int, default=0, help="real/synthetic crops to read (0: skip)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    load = os.getloadavg()[0]
    print(f"{machine()}; load average {load:.1f}")
    rows = measure(args.crops, args.repeat)
    print(f"{'':44s} {'wall /s':>9s} {'cpu /s':>9s}")
    for what, (wall, cpu) in rows:
        print(f"{what:44s} {wall:9,.0f} {cpu:9,.0f}")
    ocr = ocr_realism(args.ocr) if args.ocr > 0 else []
    if not args.no_append:
        add_entry("Synthetic generator", "", body(rows, load, ocr))
        print(f"appended to {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
