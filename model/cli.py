"""Commands of the model package: ``platewatch train`` and ``platewatch eval ...``.

Argument definitions live here (cheap); each handler imports its heavy module lazily.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any


def _lazy(module: str, func: str = "run_cli") -> Any:
    def handler(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return handler


def add_commands(sub: Any) -> None:
    train = sub.add_parser("train", help="train a plate embedding model from a config file")
    train.add_argument(
        "--config",
        type=str,
        default="default",
        help="config file (YAML/JSON) or the name of a shipped config",
    )
    train.add_argument("--out", default=None, help="output folder (default runs/<name>)")
    train.add_argument("--resume", action="store_true", help="resume from the last checkpoint")
    train.set_defaults(handler=_lazy("model.train"))

    ev = sub.add_parser("eval", help="measure retrieval or detection on a labelled folder")
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="WHAT", required=True)

    ret = ev_sub.add_parser("retrieval", help="text->image and image->image search on crops")
    ret.add_argument("dir", help="folder with labels.csv (file,plate_text)")
    ret.add_argument("--model", default="default", help="model name or folder")
    ret.add_argument("--json", action="store_true", help="print one JSON object")
    ret.add_argument("--split", default=None, help="only rows of this split (uc3m_crops: val)")
    ret.add_argument("--limit", type=int, default=None, help="only the first N rows")
    ret.add_argument(
        "--distractors",
        type=int,
        default=0,
        metavar="N",
        help="pad the gallery with N crops that are never the answer",
    )
    ret.add_argument("--figure", default=None, help="PNG of sample queries (default artifacts/)")
    ret.add_argument("--cache", default="artifacts/cache", help="OCR and distractor cache folder")
    ret.add_argument("--no-ocr", action="store_true", help="skip the OCR baseline")
    ret.add_argument("--no-seed", action="store_true", help="skip the seed model comparison")
    ret.set_defaults(handler=_lazy("model.eval_retrieval"))

    stress = ev_sub.add_parser(
        "stress", help="text search on crops blurred, darkened, shrunk, cut, or crowded"
    )
    stress.add_argument("dir", help="folder with labels.csv (file,plate_text)")
    stress.add_argument("--model", default="default", help="model name or folder")
    stress.add_argument("--json", action="store_true", help="print one JSON object")
    stress.add_argument("--split", default=None, help="only rows of this split")
    stress.add_argument("--limit", type=int, default=None, help="only the first N rows")
    stress.add_argument(
        "--conditions",
        nargs="+",
        default=["clean", "blur", "night", "lowres", "partial", "near"],
        metavar="NAME",
        help="clean blur night lowres partial near (default: all)",
    )
    stress.add_argument(
        "--near", type=int, default=4, metavar="K", help="near-identical plates per query"
    )
    stress.add_argument("--seed", type=int, default=0, help="seed of the degradations")
    stress.set_defaults(handler=_lazy("model.eval_stress"))

    try:
        detect_cli = importlib.import_module("model.detect.cli")
    except ModuleNotFoundError as exc:
        if exc.name != "model.detect.cli":
            raise
    else:
        detect_cli.add_eval_command(ev_sub)
