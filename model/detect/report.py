"""The work behind ``platewatch eval detection``: run, tabulate, draw sample frames."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from model.detect import (
    BackendUnavailableError,
    DetectorConfigError,
    available_detectors,
    create_detector,
    detector_names,
    option_fields,
)
from model.detect.evaluate import LabelledImage, evaluate, load_labels, read_image
from model.types import PlateDetections

log = logging.getLogger(__name__)

#: Sample frames drawn per backend, and the size of each tile.
SAMPLES = 12
TILE = (320, 240)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``["max_side=960", "verify=false"]`` -> ``{"max_side": 960, "verify": False}``."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise DetectorConfigError(f"option {pair!r} must be KEY=VALUE, e.g. max_side=960")
        try:
            options[key] = json.loads(raw.lower() if raw.lower() in ("true", "false") else raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def _options_for(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options this backend knows (others are for the other backends of --all)."""
    fields = option_fields(name)
    return {k: v for k, v in options.items() if k in fields}


def _draw(item: LabelledImage, found: PlateDetections) -> npt.NDArray[np.uint8] | None:
    image = read_image(item.path)
    if image is None:
        return None
    thick = max(1, round(max(image.shape[:2]) / 400))
    for x, y, w, h in item.boxes.astype(int):
        cv2.rectangle(image, (x, y), (x + w, y + h), (0, 200, 0), thick)
    for x, y, w, h in found.boxes.astype(int):
        cv2.rectangle(image, (x, y), (x + w, y + h), (0, 0, 255), thick)
    scale = min(TILE[0] / image.shape[1], TILE[1] / image.shape[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    tile = np.zeros((TILE[1], TILE[0], 3), np.uint8)
    tile[: small.shape[0], : small.shape[1]] = small
    return tile


def write_samples(tiles: list[npt.NDArray[np.uint8]], path: Path) -> None:
    """Tiles in rows of four, saved as one PNG."""
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack(rows))


def _table(results: list[dict[str, Any]]) -> str:
    cols = [
        "detector",
        "images",
        "plates",
        "detections",
        "recall",
        "precision",
        "e2e_read",
        "ms_per_image",
    ]
    lines = ["  ".join(f"{c:>12}" for c in cols)]
    for r in results:
        lines.append("  ".join(f"{r[c]!s:>12}" for c in cols))
    return "\n".join(lines)


def run_cli(args: argparse.Namespace) -> int:
    """Handler of ``platewatch eval detection``; returns the exit status."""
    folder = Path(args.dir)
    images = load_labels(folder, args.split, args.limit)
    options = parse_options(args.option)
    if args.all or args.detector == "all":
        names = list(available_detectors())
    elif args.detector in detector_names():
        names = [args.detector]
    else:
        raise DetectorConfigError(
            f"unknown detector {args.detector!r}; choose one of {', '.join(detector_names())} "
            "or 'all'"
        )
    results = []
    for name in names:
        try:
            detector = create_detector(name, **_options_for(name, options))
        except BackendUnavailableError:
            if len(names) == 1:
                raise
            log.exception("skipping %s", name)
            continue
        tiles: list[npt.NDArray[np.uint8]] = []
        summary: dict[str, Any] = {}
        for item, found, tally in evaluate(detector, images):
            if not args.json and len(tiles) < SAMPLES:
                tile = _draw(item, found)
                if tile is not None:
                    tiles.append(tile)
            summary = tally.summary()
        summary["dir"] = str(folder)
        summary["split"] = args.split
        results.append(summary)
        if tiles:
            png = Path(args.artifacts) / f"detection_{folder.name}_{name}.png"
            write_samples(tiles, png)
            summary["samples_png"] = str(png)
    if args.json:
        if len(results) == 1:
            print(json.dumps(results[0]))
        else:
            print(json.dumps({"detectors": results}))
        return 0
    print(_table(results))
    for r in results:
        if "samples_png" in r:
            print(
                f"{r['detector']}: sample frames (true boxes green, found red): {r['samples_png']}"
            )
    return 0
