"""The ``platewatch`` command: one entry point, subcommands contributed by each package.

Each package keeps its own commands in ``<package>/cli.py`` with a function
``add_commands(subparsers)``; heavy imports (TensorFlow, OpenCV) happen inside the
command handlers so that ``platewatch --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from platewatch import __version__
from platewatch.errors import PlatewatchError

#: Packages whose ``cli.add_commands`` are asked for subcommands, in help order.
COMMAND_MODULES = ("alphabet.cli", "model.cli", "store.cli", "stream.cli", "stream.api.cli")


class CommandError(PlatewatchError):
    """A command failed for a reason the user can act on; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platewatch",
        description="Live licence-plate search and watchlist service.",
    )
    parser.add_argument("--version", action="version", version=f"platewatch {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # A package not written yet (or its parent) contributes no commands.
            if not (exc.name and name.startswith(exc.name)):
                raise
            continue
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except PlatewatchError as exc:
        print(f"platewatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
