"""Reading cost: PP-OCR's recogniser (model.reader) per crop, single and batched, one thread.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_reader.py [--crops 512]

Crops are synthetic (alphabet.synth), 80-250 px wide, BGR. Prints ms per crop for the
reader alone (one crop per call, and batches of 8 and 32) and for the default embedder's
embed_crops with its own head only and with the reader, and the machine it ran on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import machine_line  # noqa: E402
from model.data import DataConfig, PairSource  # noqa: E402
from model.embed import load_embedder  # noqa: E402
from model.reader import PpocrReader  # noqa: E402


def ms_per_crop(fn: object, crops: list, batch: int) -> float:
    fn(crops[:batch])  # type: ignore[operator]
    start = time.perf_counter()
    for i in range(0, len(crops), batch):
        fn(crops[i : i + batch])  # type: ignore[operator]
    return 1000 * (time.perf_counter() - start) / len(crops)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", type=int, default=512)
    args = parser.parse_args()
    crops, _ = PairSource(DataConfig(hard_negatives=0.0, mask_prob=0.0)).batch(args.crops, 321)
    print(machine_line())
    for batch in (1, 8, 32):
        reader = PpocrReader(threads=1, batch=batch)
        ms = ms_per_crop(reader.read, crops, batch)
        print(f"reader {reader.key}, batch {batch}: {ms:.2f} ms/crop")
    for name in ("own", "ppocr"):
        emb = load_embedder("default", reader=name)
        for batch in (1, 256):
            ms = ms_per_crop(emb.embed_crops, crops, batch)
            print(f"embed_crops, reader {name}, batch {batch}: {ms:.2f} ms/crop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
