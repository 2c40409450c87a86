"""``platewatch eval detection DIR``: argument definitions only; the work is in
model.detect.report, imported when the command runs."""

from __future__ import annotations

import argparse
import importlib
from typing import Any


def _run(args: argparse.Namespace) -> int:
    return int(importlib.import_module("model.detect.report").run_cli(args))


def add_eval_command(eval_subparsers: Any) -> None:
    """Add ``detection`` to the ``platewatch eval`` subcommands."""
    p = eval_subparsers.add_parser(
        "detection",
        help="plate detection recall, precision, end-to-end reading and speed on a folder",
        description="Run plate detectors on a folder with labels.csv "
        "(file,plate_text,x,y,w,h[,split]) and report recall and precision at IoU >= 0.5, "
        "end-to-end reading (found and read right) and milliseconds per image.",
    )
    p.add_argument("dir", help="folder with labels.csv and the images it names")
    p.add_argument(
        "--detector",
        default="ppocr",
        help="backend name (ppocr, platenet, easyocr), or 'all' for every available one",
    )
    p.add_argument("--all", action="store_true", help="same as --detector all")
    p.add_argument("--split", default=None, help="only rows whose split column is this")
    p.add_argument("--limit", type=int, default=None, help="only the first N images")
    p.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="detector option, e.g. -o max_side=960 (repeatable; applies to every backend "
        "that has it)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object, nothing else")
    p.add_argument(
        "--artifacts",
        default="artifacts",
        help="folder for the sample-frame PNG (default ./artifacts, ignored by git)",
    )
    p.set_defaults(handler=_run)
