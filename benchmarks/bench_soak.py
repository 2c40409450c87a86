"""Soak: the real service for an hour, watched from outside for memory growth.

    .venv/bin/python benchmarks/bench_soak.py                     # 60 minutes, 2 cameras at 2 fps
    .venv/bin/python benchmarks/bench_soak.py --minutes 3 --no-write   # a quick check

Starts what a user runs: GStreamer's RTSP server (tests/stream/rtsp_server.py, one per
camera, each looping 1280x720 H.264 video of cars with moving plates), then
``platewatch serve --config soak.yaml`` on a fresh data folder with a read token and one
watchlist entry for a plate the cameras show, and a webhook receiver for its alerts. While
it runs, a client asks the HTTP API for a text search, the latest sightings and the latest
alerts every few seconds. Every --sample-s seconds (5) it records the service's resident
memory (and its anonymous part by kind of mapping, from /proc/PID/smaps), open file
descriptors and threads (from /proc) and its frame, sighting, drop and alert counters (from
/metrics). Each camera shows a car every 12 s, and the memory alive at a moment depends on
where the cars are (an open track, frames in flight): samples every 5 s see every phase of
that cycle, where samples every 30 s saw two, alternately, and read the swing as trend.

Writes artifacts/soak/soak-<stamp>.csv and .png (RSS over time) and prints a verdict:
the least-squares slope of RSS after the warm-up (the first quarter of the run, 15 min of
an hour), in MB per hour, and the median RSS of the last sixth of the run (minutes 50-60)
against that of minutes 10-20 (sixths 1-2). The service "grew" when the slope is 5 MB/h
or more, or the late median is more than 5 % above the early one. Unless --no-write, the
figures are added to the "Service" section of docs/benchmarks.md.

MB here is 2**20 bytes (VmRSS / 1024). The load is kept to about one core of a shared
2-core machine: 2 cameras at 2 fps, one detection thread, OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Run as a script from anywhere: the repository root holds the benchmarks and tests packages.
sys.path.insert(0, str(REPO))

from benchmarks._report import add_entry, command_line  # noqa: E402

RTSP_SERVER = REPO / "tests" / "stream" / "rtsp_server.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")
OUT = REPO / "artifacts" / "soak"
SIZE = (1280, 720)
#: The watched plate, and the other plates the cameras show (one car after another).
WATCHED = "AA5149EK"
OTHERS = ["KA0712BM", "BC4821HT", "AI9035KX", "CE6617AP", "BH2290OO"]
#: Growth rule: slope at or above this (MB/h), or late median above early by more than this.
MAX_SLOPE_MB_H = 5.0
MAX_LATE_RISE = 0.05


# --- the verdict ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    warmup_min: float
    slope_mb_h: float
    early_median_mb: float
    late_median_mb: float
    early_window: tuple[float, float]
    late_window: tuple[float, float]

    @property
    def late_rise(self) -> float:
        return self.late_median_mb / self.early_median_mb - 1.0

    @property
    def grew(self) -> bool:
        return self.slope_mb_h >= MAX_SLOPE_MB_H or self.late_rise > MAX_LATE_RISE

    def text(self) -> str:
        e0, e1 = self.early_window
        l0, l1 = self.late_window
        word = "GREW" if self.grew else "no growth"
        return (
            f"{word}: RSS slope after {self.warmup_min:g} min of warm-up "
            f"{self.slope_mb_h:+.1f} MB/h (limit {MAX_SLOPE_MB_H:g}); median RSS minutes "
            f"{l0:g}-{l1:g} {self.late_median_mb:.1f} MB vs minutes {e0:g}-{e1:g} "
            f"{self.early_median_mb:.1f} MB ({100 * self.late_rise:+.1f} %, limit "
            f"+{100 * MAX_LATE_RISE:g} %)"
        )


def slope_per_hour(minutes: Any, values: Any) -> float:
    """Least-squares slope of ``values`` against ``minutes``, per hour."""
    return float(np.polyfit(minutes, values, 1)[0]) * 60


def verdict(minutes: Sequence[float], rss_mb: Sequence[float], length_min: float) -> Verdict:
    """Judge RSS samples (minutes since start, MB) of a run of ``length_min`` minutes.

    Warm-up is the first quarter; early window sixths 1-2 (minutes 10-20 of an hour), late
    window the last sixth. Raises ValueError when a window holds no sample.
    """
    t = np.asarray(minutes, float)
    y = np.asarray(rss_mb, float)
    warmup = length_min / 4
    early = (length_min / 6, length_min / 3)
    late = (length_min * 5 / 6, length_min)
    after = t >= warmup
    if after.sum() < 2:
        raise ValueError("fewer than two samples after the warm-up")
    slope_mb_h = slope_per_hour(t[after], y[after])
    in_early = y[(t >= early[0]) & (t <= early[1])]
    in_late = y[(t >= late[0]) & (t <= late[1])]
    if not len(in_early) or not len(in_late):
        raise ValueError("no sample in the early or the late window")
    return Verdict(
        warmup,
        slope_mb_h,
        float(np.median(in_early)),
        float(np.median(in_late)),
        (round(early[0], 1), round(early[1], 1)),
        (round(late[0], 1), round(late[1], 1)),
    )


def part_slope(rows: Sequence[dict[str, Any]], key: str, from_min: float) -> float:
    """Least-squares slope (per hour) of one sampled figure from ``from_min`` on; nan when
    fewer than two samples."""
    points = [(r["minute"], r[key]) for r in rows if r["minute"] >= from_min]
    if len(points) < 2:
        return float("nan")
    t, y = np.asarray(points, float).T
    return slope_per_hour(t, y)


# --- the service, measured from outside --------------------------------------------------


def proc_figures(pid: int) -> dict[str, float]:
    """Resident memory (MB; also its anonymous and file-backed parts, and the anonymous
    part by kind of mapping), open file descriptors and threads of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()

    def field(name: str) -> int:
        return int(re.search(rf"^{name}:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]

    fds = len(os.listdir(f"/proc/{pid}/fd"))
    split = anon_by_kind(Path(f"/proc/{pid}/smaps").read_text())
    return {
        **{f"anon_{kind}_mb": round(mb, 2) for kind, mb in split.items()},
        "rss_mb": field("VmRSS") / 1024,
        "rss_anon_mb": field("RssAnon") / 1024,
        "rss_file_mb": field("RssFile") / 1024,
        "fds": fds,
        "threads": field("Threads"),
    }


#: glibc's non-main malloc arenas are mappings of up to 64 MiB aligned to 64 MiB; a thread's
#: stack (pthread's default) is an 8 MiB mapping.
ARENA_ALIGN = 64 << 20
STACK_KB = 8192
_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$")
ANON_KINDS = ("heap", "arenas", "stacks", "other")


def anon_by_kind(smaps: str) -> dict[str, float]:
    """Anonymous resident memory (MB) of a process split by kind of mapping, from the
    text of /proc/PID/smaps: the main heap (``[heap]``: the main arena), the other malloc
    arenas (64 MiB-aligned mappings), thread stacks (8 MiB mappings and ``[stack]``) and
    the rest (large malloc blocks, obmalloc's arenas, native libraries' own mappings)."""
    kb = dict.fromkeys(ANON_KINDS, 0)
    kind = "other"
    for line in smaps.splitlines():
        head = _MAPPING.match(line)
        if head:
            start, end, _perms, _inode, name = head.groups()
            lo, size_kb = int(start, 16), (int(end, 16) - int(start, 16)) // 1024
            if name == "[heap]":
                kind = "heap"
            elif name == "[stack]" or (not name and size_kb == STACK_KB):
                kind = "stacks"
            elif not name and lo % ARENA_ALIGN == 0 and size_kb <= ARENA_ALIGN // 1024:
                kind = "arenas"
            else:
                kind = "other"
        elif line.startswith("Anonymous:"):
            kb[kind] += int(line.split()[1])
    return {k: v / 1024 for k, v in kb.items()}


def metric_total(text: str, name: str) -> float:
    """Sum of every labelled sample of one metric in a Prometheus text exposition."""
    pattern = rf"^{name}(?:{{[^}}]*}})? (\S+)$"
    return sum(float(v) for v in re.findall(pattern, text, re.M))


METRICS = {
    "frames_received": "platewatch_frames_received_total",
    "frames_processed": "platewatch_frames_processed_total",
    "frames_dropped": "platewatch_frames_dropped_total",
    "sightings": "platewatch_sightings_stored_total",
    "alerts": "platewatch_alerts_raised_total",
    "alerts_delivered": "platewatch_alerts_delivered_total",
    "reconnects": "platewatch_camera_reconnects_total",
}


@dataclass
class Hooks:
    """The webhook receiver's count of alerts delivered to it."""

    received: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, Hooks]]:
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            with hooks.lock:
                hooks.received += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", hooks
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Client:
    """Asks the API what a user's page would, every ``every_s`` seconds, on a thread."""

    base: str
    token: str
    every_s: float
    ok: int = 0
    errors: int = 0
    slowest_s: float = 0.0
    last_error: str = ""
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        paths = [
            f"/api/sightings/search?text={WATCHED}&limit=20",
            "/api/sightings?limit=50",
            "/api/alerts?limit=50",
        ]
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as http:
            while not self.stop.wait(self.every_s):
                for path in paths:
                    t0 = time.monotonic()
                    try:
                        reply = http.get(path)
                        reply.raise_for_status()
                        reply.json()
                        self.ok += 1
                    except (httpx.HTTPError, ValueError) as exc:
                        self.errors += 1
                        self.last_error = f"{path}: {exc}"
                    self.slowest_s = max(self.slowest_s, time.monotonic() - t0)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_raw(path: Path, plates: list[str]) -> None:
    """BGR frames of cars carrying ``plates`` in turn, back to back (the RTSP server's input)."""
    from tests.stream.media import traffic_frames  # imports OpenCV and PyAV; only here

    period = 24  # PlainTraffic: 20 frames crossing + 4 empty
    with path.open("wb") as f:
        for pixels in traffic_frames(plates, SIZE, period * len(plates)):
            f.write(np.ascontiguousarray(pixels).tobytes())


def _start_rtsp(raw: Path, fps: int, log: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    args = [str(SYSTEM_PYTHON), str(RTSP_SERVER), str(raw), str(SIZE[0]), str(SIZE[1])]
    process = subprocess.Popen(
        [*args, str(fps), str(port)],
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "ready":
        process.kill()
        raise RuntimeError(f"RTSP server did not start: {line!r} (see {log})")
    return process, f"rtsp://127.0.0.1:{port}/cam"


def _cli(data: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "platewatch", *args, "--data", str(data)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"platewatch {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _config(urls: list[str], args: argparse.Namespace, port: int, hook: str) -> dict[str, Any]:
    return {
        "defaults": {"sample_fps": float(args.fps)},
        "cameras": {
            f"soak-{i}": {"source": {"type": "url", "url": url, "transport": "tcp"}}
            for i, url in enumerate(urls)
        },
        "detector": {"name": args.detector, "options": {"max_side": args.max_side}},
        "pipeline": {"detect_workers": 1},
        "http": {"host": "127.0.0.1", "port": port},
        "alerts": {"webhooks": [{"name": "soak", "url": hook}]},
    }


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service ended with status {process.returncode} at start")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"the service did not answer {base}/health in {timeout_s:.0f} s")


def _sample(pid: int, base: str, t0: float, client: Client, hooks: Hooks) -> dict[str, Any]:
    row: dict[str, Any] = {
        "minute": round((time.monotonic() - t0) / 60, 3),
        "utc": datetime.now(UTC).strftime("%H:%M:%S"),
    }
    row.update(proc_figures(pid))
    text = httpx.get(f"{base}/metrics", timeout=30).text
    row.update({key: int(metric_total(text, name)) for key, name in METRICS.items()})
    row.update(
        webhooks=hooks.received,
        api_ok=client.ok,
        api_errors=client.errors,
        load1=round(os.getloadavg()[0], 2),
    )
    return row


def _plot(rows: list[dict[str, Any]], png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.plot([r["minute"] for r in rows], [r["rss_mb"] for r in rows], marker=".", lw=1)
    ax.set_xlabel("minutes since the service started")
    ax.set_ylabel("resident memory (MB)")
    ax.set_title("\n".join(textwrap.wrap(title, 110)), fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def soak(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    csv_path, png_path = OUT / f"soak-{stamp}.csv", OUT / f"soak-{stamp}.png"
    log = OUT / f"soak-{stamp}.service.log"
    work = Path(tempfile.mkdtemp(prefix="platewatch-soak-"))
    data = work / "data"
    started: list[subprocess.Popen[Any]] = []
    rows: list[dict[str, Any]] = []
    try:
        urls = []
        plates = [WATCHED, *OTHERS]
        for i in range(args.cameras):
            raw = work / f"cam{i}.bgr"
            # Each camera shows the watched plate and two others, in its own order.
            mine = [plates[(i * 2 + k) % len(plates)] for k in range(3)]
            _write_raw(raw, mine if WATCHED in mine else [WATCHED, *mine[:2]])
            process, url = _start_rtsp(raw, args.fps, log)
            started.append(process)
            urls.append(url)
        token = _cli(data, "token", "create", "soak", "--role", "read").strip().splitlines()[-1]
        _cli(
            data,
            "watch",
            "add",
            WATCHED,
            "--label",
            "soak",
            "--threshold",
            str(args.threshold),
            "--no-past",
        )
        with webhook_receiver() as (hook_url, hooks):
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            config = work / "soak.json"
            config.write_text(json.dumps(_config(urls, args, port, hook_url), indent=2))
            env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
            command = [sys.executable, "-m", "platewatch", "serve", "--config", str(config)]
            service = subprocess.Popen(
                [*command, "--data", str(data)],
                cwd=REPO,
                env=env,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
            started.append(service)
            t0 = time.monotonic()
            _wait_ready(base, service)
            print(f"service pid {service.pid} at {base}; log {log}", flush=True)
            client = Client(base, token, args.query_s)
            asker = threading.Thread(target=client.run, daemon=True)
            asker.start()
            end = t0 + args.minutes * 60
            fields: list[str] = []
            with csv_path.open("w", newline="") as fh:
                while True:
                    if service.poll() is not None:
                        raise RuntimeError(f"the service ended early, status {service.returncode}")
                    row = _sample(service.pid, base, t0, client, hooks)
                    rows.append(row)
                    if not fields:
                        fields = list(row)
                        writer = csv.DictWriter(fh, fields)
                        writer.writeheader()
                    writer.writerow(row)
                    fh.flush()
                    print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    time.sleep(min(args.sample_s, left))
            client.stop.set()
            asker.join(60)
            service.send_signal(signal.SIGTERM)
            status = service.wait(120)
    finally:
        for process in reversed(started):
            if process.poll() is None:
                process.kill()
                process.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    lines = report(rows, args, client, status, csv_path, png_path)
    print("\n".join(lines))
    if not args.no_write:
        body = "\n".join(lines)
        add_entry("Service", f"Soak, {args.minutes:g} minutes", body, command_line())
    return 0


def report(
    rows: list[dict[str, Any]],
    args: argparse.Namespace,
    client: Client,
    status: int,
    csv_path: Path,
    png_path: Path,
) -> list[str]:
    first, last = rows[0], rows[-1]
    length = last["minute"]
    try:
        judged: Verdict | str = verdict(
            [r["minute"] for r in rows], [r["rss_mb"] for r in rows], length
        )
    except ValueError as exc:
        judged = f"no verdict: {exc}"
    title = judged.text() if isinstance(judged, Verdict) else judged
    _plot(
        rows, png_path, f"platewatch serve, {args.cameras} RTSP cameras at {args.fps} fps: {title}"
    )
    peak = max(r["rss_mb"] for r in rows)
    loads = [float(r["load1"]) for r in rows]
    settled = next((r for r in rows if r["minute"] >= length / 4), last)
    rel = lambda p: p.relative_to(REPO) if p.is_relative_to(REPO) else p  # noqa: E731
    return [
        f"- load: `platewatch serve` (one process), {args.cameras} RTSP cameras (GStreamer, "
        f"H.264 1280x720, cars with moving plates, looping) at {args.fps} fps each, detector "
        f"{args.detector} max_side {args.max_side}, 1 detection thread, OMP_NUM_THREADS=1, "
        f"SQLite + hnswlib store; watchlist entry {WATCHED} (threshold {args.threshold}) "
        f"with a webhook receiver; a client asking text search, sightings and alerts every "
        f"{args.query_s:g} s; sampled every {args.sample_s:g} s",
        f"- ran {length:.1f} minutes; 1-minute load average over the run median "
        f"{statistics.median(loads):.1f}, min {min(loads):.1f}, max {max(loads):.1f} "
        "(other jobs share the 2 cores)",
        f"- verdict: {title}",
        f"- RSS when it first answered (before any frame) {first['rss_mb']:.1f} MB, after "
        f"warm-up (minute {settled['minute']:.0f}) {settled['rss_mb']:.1f} MB, at the end "
        f"{last['rss_mb']:.1f} MB, peak {peak:.1f} MB; of it anonymous "
        f"{settled['rss_anon_mb']:.1f} -> {last['rss_anon_mb']:.1f} MB and file-backed "
        f"{settled['rss_file_mb']:.1f} -> {last['rss_file_mb']:.1f} MB from warm-up to the "
        f"end; threads {first['threads']} -> "
        f"{last['threads']}; open files {first['fds']} -> {last['fds']}",
        "- anonymous memory by kind of mapping (from /proc/PID/smaps), after warm-up -> end, "
        "least-squares slope after warm-up: "
        + "; ".join(
            f"{kind} {settled[f'anon_{kind}_mb']:.1f} -> {last[f'anon_{kind}_mb']:.1f} MB "
            f"({part_slope(rows, f'anon_{kind}_mb', length / 4):+.1f} MB/h)"
            for kind in ANON_KINDS
        ),
        f"- frames received {last['frames_received']}, processed {last['frames_processed']}, "
        f"dropped {last['frames_dropped']}; camera reconnects {last['reconnects']}",
        f"- sightings stored {last['sightings']}; alerts raised {last['alerts']}, delivered "
        f"{last['alerts_delivered']} (webhook received {last['webhooks']})",
        f"- API requests answered {client.ok}, failed {client.errors}"
        + (f" (last: {client.last_error})" if client.errors else "")
        + f", slowest {client.slowest_s:.2f} s; service exit status {status} on SIGTERM",
        f"- samples: `{rel(csv_path)}`, plot: `{rel(png_path)}` (not committed)",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the run")
    parser.add_argument("--cameras", type=int, default=2, help="RTSP cameras")
    parser.add_argument("--fps", type=int, default=2, help="frames per second of each camera")
    parser.add_argument(
        "--sample-s",
        type=float,
        default=5.0,
        help="seconds between samples (5: twelve phases of a car's 12-s pass; 30 s saw only two)",
    )
    parser.add_argument("--query-s", type=float, default=5.0, help="seconds between API rounds")
    parser.add_argument("--threshold", type=float, default=0.6, help="watchlist entry cosine")
    parser.add_argument("--detector", default="ppocr")
    parser.add_argument("--max-side", type=int, default=480, help="detector input size")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not SYSTEM_PYTHON.exists() or not RTSP_SERVER.exists():
        parser.error("needs Debian's /usr/bin/python3 with GStreamer's RTSP server (TRAPS.md 8)")
    return soak(args)


if __name__ == "__main__":
    raise SystemExit(main())
