"""Alert benchmark: watchlist cost per sighting, and alert latency to a webhook.

    .venv/bin/python benchmarks/bench_alerts.py                  # all three figures
    .venv/bin/python benchmarks/bench_alerts.py --entries 100,1000,10000 --seconds 120

1. Watchlist: the cost of checking one sighting (or one view of a passing car) against E
   entries (one (E, D) x (D,) product plus the active-hours mask), entries embedded by
   the shipped model.
2. Stored -> webhook: from the service's on_sighting hook (sighting stored) to the
   webhook receiver's socket, through the real outbox (SQLite, committed before sending),
   dispatcher (claiming each delivery) and signed HTTP POST to a receiver on 127.0.0.1.
3. Frame -> webhook: the real service on a synthetic road camera (ppocr, shipped model,
   SQLite + hnswlib store). Alerts are raised from an open track's best view as soon as
   it is embedded, so this is from the arrival of the frame whose view raised the alert
   (and from the arrival of the pass's first frame) to the webhook receiver's socket.

Prints its figures and appends them, with the command, machine and date, to the
"Alerts" section of docs/benchmarks.md.
"""

from __future__ import annotations

# aiortc before TensorFlow (TRAPS.md 1).
import stream.service  # noqa: F401  # isort: skip

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alphabet.text import DIGITS, LETTERS  # noqa: E402
from benchmarks._report import add_entry  # noqa: E402
from model.embed import load_embedder  # noqa: E402
from store.store import open_store  # noqa: E402
from stream.alerts.alerter import Alerter, SightingFacts  # noqa: E402
from stream.alerts.config import RetryConfig, WebhookConfig  # noqa: E402
from stream.alerts.dispatch import Dispatcher  # noqa: E402
from stream.alerts.entries import EntryDraft, EntryStore  # noqa: E402
from stream.alerts.live import LiveFeed  # noqa: E402
from stream.alerts.outbox import Outbox  # noqa: E402
from stream.alerts.webhook import WebhookChannel  # noqa: E402
from stream.watchlist import ActiveHours, Watchlist, WatchlistEntry  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"


class Receiver:
    """A webhook receiver on 127.0.0.1 noting time.monotonic() at each alert's arrival."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.bodies: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                now = time.monotonic()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.arrivals[int(body["id"])] = now
                owner.bodies.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def random_plates(n: int, rng: random.Random) -> list[str]:
    def one() -> str:
        return (
            "".join(rng.choices(LETTERS, k=2))
            + "".join(rng.choices(DIGITS, k=4))
            + "".join(rng.choices(LETTERS, k=2))
        )

    return [one() for _ in range(n)]


def percentiles(values: Sequence[float]) -> str:
    a = np.asarray(values, np.float64) * 1000
    return (
        f"p50 {np.percentile(a, 50):.1f} ms, p95 {np.percentile(a, 95):.1f} ms, "
        f"max {a.max():.1f} ms (n={a.size})"
    )


def bench_watchlist(embedder: Any, sizes: list[int], rounds: int) -> list[str]:
    rng = random.Random(0)
    plates = random_plates(max(sizes), rng)
    started = time.perf_counter()
    watchlist = Watchlist(embedder)
    watchlist.replace(WatchlistEntry(i, t, 0.8) for i, t in enumerate(plates))
    embed_s = time.perf_counter() - started
    queries = embedder.embed_texts(random_plates(rounds, rng)).vectors
    lines = [
        f"- watchlist set-up: {len(plates)} entries rendered and embedded once in "
        f"{embed_s:.1f} s (D = {embedder.dim})"
    ]
    hours = ActiveHours.parse("06:00-22:00")
    for size in sizes:
        watchlist.replace(
            WatchlistEntry(i, t, 0.8, hours=hours if i % 2 else None)
            for i, t in enumerate(plates[:size])
        )
        cost = []
        for v in queries:
            seen = SightingFacts(0, "cam", datetime.now(UTC), "", v)
            t0 = time.perf_counter()
            watchlist.match(seen)
            cost.append(time.perf_counter() - t0)
        us = np.asarray(cost) * 1e6
        lines.append(
            f"- watchlist of {size:,} entries (half with active hours): "
            f"{np.mean(us):.0f} µs per sighting (p50 {np.percentile(us, 50):.0f} µs, "
            f"p95 {np.percentile(us, 95):.0f} µs, {rounds} sightings)"
        )
    return lines


async def bench_stored_to_webhook(embedder: Any, count: int) -> list[str]:
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(tmp, embedder.dim, embedder.version)
        watchlist = Watchlist(embedder)
        entry = EntryStore(store.engine).add(EntryDraft("AB1234CD", 0.5))
        watchlist.replace([entry])
        vector = watchlist.vector_of("AB1234CD")
        outbox = Outbox(store.engine)
        hook = WebhookChannel(WebhookConfig(name="hook", url=receiver.url, secret="k"))
        dispatcher = Dispatcher(outbox, {"hook": hook}, RetryConfig())
        alerter = Alerter(watchlist, outbox, LiveFeed(), dispatcher, repeat_after_s=0)
        task = asyncio.create_task(dispatcher.run())
        started: dict[int, float] = {}
        for i in range(count):
            t0 = time.monotonic()
            raised = await alerter.on_sighting(
                SightingFacts(i + 1, "cam", datetime.now(UTC), "", vector)
            )
            started[raised[0].id] = t0
            await asyncio.sleep(0.02)  # sightings arrive spread out, as from cameras
        async with asyncio.timeout(30):
            while len(receiver.arrivals) < count:
                await asyncio.sleep(0.01)
        task.cancel()
        await hook.close()
        store.close()
    receiver.close()
    latency = [receiver.arrivals[i] - t0 for i, t0 in started.items()]
    return [f"- sighting stored -> webhook received (outbox on SQLite): {percentiles(latency)}"]


class ViewArrivals:
    """A view hook noting when the frame of each offered view arrived (time.monotonic())."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, datetime], tuple[float, float]] = {}

    def __call__(self, views: Sequence[Any]) -> None:
        for view in views:
            self.arrived[(view.track, view.seen_at)] = (view.first_arrived, view.arrived)

    def of(self, body: dict[str, Any]) -> tuple[float, float] | None:
        """(first frame, alerting frame) arrival of an alert's webhook body."""
        return self.arrived.get((body["track"], datetime.fromisoformat(body["seen_at"])))


async def bench_frame_to_webhook(args: argparse.Namespace) -> list[str]:
    seconds, threshold = args.seconds, args.threshold
    from stream.app import create_app
    from stream.assemble import build_components
    from stream.config import parse_config
    from stream.service import Service

    plates = random_plates(12, random.Random(1))
    receiver = Receiver()
    config = parse_config(
        {
            "cameras": {
                "road": {
                    "source": {
                        "type": "synthetic",
                        "seed": 3,
                        "width": 1280,
                        "height": 720,
                        "fps": 5,
                        "plates": plates,
                    }
                }
            },
            "detector": {"name": "ppocr", "options": {"max_side": 640}},
            "pipeline": {"detect_workers": 2},
            "tracking": {
                "close_after_s": args.close_after_s,
                "close_after_frames": args.close_after_frames,
            },
            "alerts": {"webhooks": [{"name": "hook", "url": receiver.url}]},
            "watchlist": {"repeat_after_s": 0},
        }
    )
    views = ViewArrivals()
    with tempfile.TemporaryDirectory() as tmp:
        built = await asyncio.to_thread(build_components, config, Path(tmp))
        entries = EntryStore(built.sink.store.engine)
        for text in plates:
            entries.add(EntryDraft(text, threshold))
        service = Service(config, built)
        service.on_view(views)  # before the app's own hook: noted before any alert leaves
        import uvicorn

        server = uvicorn.Server(uvicorn.Config(create_app(service), port=0, log_level="error"))
        task = asyncio.create_task(server.serve())
        await asyncio.sleep(seconds)
        server.should_exit = True
        await task
        stored = len(built.sink.store.list_sightings(limit=100000))
    receiver.close()
    last, first = [], []
    for body in receiver.bodies:
        arrived = views.of(body)
        got = receiver.arrivals[int(body["id"])]
        if arrived:
            first.append(got - arrived[0])
            last.append(got - arrived[1])
    if not last:
        return [f"- frame -> webhook: no alert in {seconds:.0f} s (threshold {threshold})"]
    tracks = len({b["track"] for b in receiver.bodies})
    return [
        f"- frame whose view raised the alert -> webhook ({len(last)} alerts on {tracks} "
        f"passing cars in {seconds:.0f} s, {stored} sightings stored, entry threshold "
        f"{threshold}, tracks closed after {args.close_after_s:g} s or "
        f"{args.close_after_frames} frames): {percentiles(last)}",
        f"- first frame of the pass -> webhook: {percentiles(first)}",
    ]


async def bench(args: argparse.Namespace) -> list[str]:
    embedder = load_embedder(args.model)
    sizes = [int(s) for s in args.entries.split(",")]
    lines = bench_watchlist(embedder, sizes, args.rounds)
    lines += await bench_stored_to_webhook(embedder, args.alerts)
    if args.seconds > 0:
        lines += await bench_frame_to_webhook(args)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", default="default", help="embedding model name or folder")
    parser.add_argument("--entries", default="100,1000,10000", help="watchlist sizes")
    parser.add_argument("--rounds", type=int, default=500, help="sightings per size")
    parser.add_argument("--alerts", type=int, default=200, help="alerts for stored -> webhook")
    parser.add_argument("--seconds", type=float, default=120.0, help="service run; 0: skip")
    parser.add_argument("--threshold", type=float, default=0.5, help="entry cosine (service)")
    parser.add_argument("--close-after-s", type=float, default=1.5, help="tracking setting")
    parser.add_argument("--close-after-frames", type=int, default=5, help="tracking setting")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    lines = asyncio.run(bench(args))
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        add_entry("Alerts", "", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
