"""Commands of the alphabet package: ``platewatch render``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _size(value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must be WIDTHxHEIGHT, e.g. 512x64, not {value!r}"
        ) from None
    if not (8 <= w <= 4096 and 8 <= h <= 1024):
        raise argparse.ArgumentTypeError("size must be between 8x8 and 4096x1024")
    return w, h


def _render(args: argparse.Namespace) -> int:
    import cv2

    from alphabet.render import render
    from platewatch.cli import CommandError

    image = render(args.text, size=args.size, glyph_set=args.glyphs)
    out: Path = args.output
    if out.suffix.lower() not in {".png", ".bmp", ".pgm", ".tif", ".tiff"}:
        raise CommandError(f"output {out} must end in .png (a lossless format keeps it binary)")
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), image):
        raise CommandError(f"could not write {out}")
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]})")
    return 0


def _synth(args: argparse.Namespace) -> int:
    import cv2

    from alphabet.sheet import sample_sheet
    from platewatch.cli import CommandError

    out: Path = args.output
    if out.suffix.lower() not in {".png", ".jpg", ".jpeg"}:
        raise CommandError(f"output {out} must end in .png or .jpg")
    sheet = sample_sheet(args.count, args.seed, args.formats, args.difficulty, args.masked)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet):
        raise CommandError(f"could not write {out}")
    print(f"wrote {out} ({args.count} synthetic crops, difficulty {args.difficulty:g})")
    return 0


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not {value!r}") from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not {value}")
    return share


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {value!r}") from None
    if not 1 <= count <= 10_000:
        raise argparse.ArgumentTypeError(f"expected 1 to 10000 crops, not {count}")
    return count


def add_commands(sub: Any) -> None:
    p = sub.add_parser("render", help="draw a plate text as the synthetic plate it is matched to")
    p.add_argument("text", help="plate text, e.g. AA5149EK ('?' for a hidden character)")
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    p.add_argument("--size", type=_size, default=(512, 64), help="WIDTHxHEIGHT (default 512x64)")
    p.add_argument("--glyphs", default="din", help="glyph set (default din)")
    p.set_defaults(handler=_render)

    p = sub.add_parser(
        "synth", help="write a sheet of synthetic camera-like plate crops (training data look)"
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG or JPEG file to write")
    p.add_argument("-n", "--count", type=_count, default=40, help="crops on the sheet (default 40)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--formats", nargs="+", default=None, help="plate formats (default: all; ua eu br es us)"
    )
    p.add_argument("--difficulty", type=_share, default=1.0, help="0 clean .. 1 full mix")
    p.add_argument("--masked", type=_share, default=0.0, help="share with hidden characters")
    p.set_defaults(handler=_synth)
