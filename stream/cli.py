"""Commands of the service: ``serve``, ``validate-config`` and ``demo``.

Argument definitions only; each handler imports the service lazily (aiortc first, then
the models), so ``platewatch --help`` stays instant.
"""

from __future__ import annotations

import argparse
from typing import Any

#: Plates the demo's cars carry, in turn; the first is on the demo's watchlist.
DEMO_PLATES = ["AA5149EK", "KA0712BM", "BC4821HT", "AI9035KX", "CE6617AP", "BH2290OO"]
#: The demo's watchlist entry (text, label, cosine threshold): it fires on the first car,
#: within a minute of starting. Its crops score about 0.8 against the render with the
#: shipped model; other plates of the demo stay far below 0.7.
DEMO_WATCH = (DEMO_PLATES[0], "demo: watched van", 0.7)

#: The demo: one synthetic road camera, the offline detector, the embedded store.
DEMO_CONFIG: dict[str, Any] = {
    "cameras": {
        "demo-road": {
            "source": {"type": "synthetic", "seed": 1, "fps": 5.0, "plates": DEMO_PLATES}
        },
    },
    "detector": {"name": "ppocr", "options": {"max_side": 480}},
    "tracking": {"close_after_s": 1.0},
}


def _say(line: str) -> None:
    print(line, flush=True)


def _tune_heap(config: Any) -> None:
    """The C heap's settings, before the models load and their threads start."""
    from stream.heap import tune_allocator

    tune_allocator(config.pipeline.heap_mmap_kb, config.pipeline.heap_arenas)


def _serve(args: argparse.Namespace) -> int:
    from stream.config import load_config

    config = load_config(args.config)
    _tune_heap(config)
    from stream.run import run_service

    return run_service(config, data=args.data, port=args.port, announce=_say)


def _validate(args: argparse.Namespace) -> int:
    from stream.config import load_config

    config = load_config(args.file)
    cameras = ", ".join(config.cameras) or "none"
    print(f"{args.file}: valid; cameras: {cameras}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from stream.config import parse_config

    if args.print_config:
        import yaml

        print(yaml.safe_dump(DEMO_CONFIG, sort_keys=False), end="")
        return 0
    config = parse_config({**DEMO_CONFIG, "http": {"host": "127.0.0.1", "port": args.port}})
    _tune_heap(config)
    _prepare_demo(args.data)
    from stream.run import run_service

    return run_service(config, data=args.data, port=args.port, announce=_say)


def _prepare_demo(data: str | None) -> None:
    """On a data folder's first demo: put the demo's plate on the watchlist, and make an
    admin token for the web page (printed once; only its hash is kept)."""
    from stream.alerts.entries import EntryDraft, EntryStore
    from stream.api.local import open_engine
    from stream.api.token_store import TokenStore

    engine = open_engine(data)
    try:
        entries = EntryStore(engine)
        if not entries.all():
            text, label, threshold = DEMO_WATCH
            entries.add(EntryDraft(text, threshold, label))
            _say(f"watchlist: {text} ({label}); an alert fires when the demo camera sees it")
        tokens = TokenStore(engine)
        if not tokens.all():
            _record, secret = tokens.create("demo", "admin")
            _say(f"web page token (admin, shown only this once): {secret}")
    finally:
        engine.dispose()


def add_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the live service for the cameras of a config file")
    serve.add_argument("--config", required=True, help="YAML or JSON config file")
    serve.add_argument("--data", default=None, help="data folder (else $PLATEWATCH_DATA)")
    serve.add_argument("--port", type=int, default=None, help="override http.port")
    serve.set_defaults(handler=_serve)

    check = sub.add_parser("validate-config", help="check a config file and say what is wrong")
    check.add_argument("file", help="YAML or JSON config file")
    check.set_defaults(handler=_validate)

    demo = sub.add_parser("demo", help="the service on a synthetic road camera, nothing to set up")
    demo.add_argument("--data", default=None, help="data folder (else $PLATEWATCH_DATA)")
    demo.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    demo.add_argument(
        "--print-config", action="store_true", help="print the demo's config file and stop"
    )
    demo.set_defaults(handler=_demo)
