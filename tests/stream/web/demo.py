"""The real demo service in its own process, as a user starts it, for the browser tests.

``platewatch token create`` makes an admin token in the data folder first (the demo
requires tokens like any service), then ``platewatch demo --data DIR --port P`` runs
until the tests end.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from alphabet.text import edit_distance
from stream.cli import DEMO_CONFIG
from stream.config import SyntheticSource, parse_config
from stream.sources.synthetic import make_traffic

PLATEWATCH = [sys.executable, "-m", "platewatch"]
START_TIMEOUT_S = 180.0
#: A reading this close to the shown text counts as the plate (OCR misses one character).
CLOSE = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(every_s)


def make_token(data: Path, name: str = "web-tests") -> str:
    """An admin token made by the real command; it prints the token on its last line."""
    done = subprocess.run(
        [*PLATEWATCH, "token", "create", name, "--role", "admin", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("pw_"):
        raise RuntimeError(f"token create failed ({done.returncode}): {done.stderr[-2000:]}")
    return lines[-1].strip()


@dataclass
class DemoService:
    """A running ``platewatch demo``: its URL, an admin token and an HTTP client."""

    data: Path
    log: Path
    port: int = field(default_factory=free_port)
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.token}"}
        # Generous: the tests share two cores with whatever else the machine runs.
        return httpx.Client(base_url=self.url, headers=auth, timeout=120.0)

    def start(self) -> None:
        self.token = make_token(self.data)
        args = [*PLATEWATCH, "demo", "--data", str(self.data), "--port", str(self.port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        wait_for(
            f"the demo at {self.url} to be ready (log: {self.log})", self._ready, START_TIMEOUT_S
        )

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the demo exited with {self.process.returncode}:\n{tail}")
        try:
            return httpx.get(f"{self.url}/ready", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)  # as Ctrl-C: the service stops cleanly
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def frames_received(self) -> int:
        """Frames the demo camera has delivered: the index of the frame it shows now."""
        with self.client() as http:
            cameras = http.get("/api/cameras").raise_for_status().json()
        return int(cameras[0]["frames_received"])


@functools.cache
def demo_traffic() -> tuple[Any, float]:
    """The demo camera's traffic (same seed, so the same cars) and its frames per second."""
    camera = parse_config(DEMO_CONFIG).cameras["demo-road"]
    source = camera.source
    if not isinstance(source, SyntheticSource):
        raise TypeError(f"the demo camera is not synthetic: {source!r}")
    return make_traffic(source), source.fps


@functools.cache
def _texts_in_frame(i: int) -> tuple[str, ...]:
    traffic, _fps = demo_traffic()
    return tuple(traffic.frame(i).texts)


def plates_between(first: int, last: int) -> list[tuple[int, str]]:
    """(frame where it is first in view, plate text) of each car in frames [first, last)."""
    seen: dict[str, int] = {}
    for i in range(first, last):
        for text in _texts_in_frame(i):
            seen.setdefault(text, i)
    return sorted((i, text) for text, i in seen.items())


def a_plate_it_read(demo: DemoService) -> tuple[str, set[int]]:
    """A plate the demo camera has shown whose sightings include a close reading, and the
    ids of those sightings (waits until the camera has shown one)."""

    def find() -> tuple[str, set[int]] | None:
        shown = [text for _i, text in plates_between(0, demo.frames_received())]
        with demo.client() as http:
            sightings = http.get("/api/sightings", params={"limit": 500}).json()
        for text in shown:
            close = {s["id"] for s in sightings if edit_distance(text, s["reading"]) <= CLOSE}
            if close:
                return text, close
        return None

    found: tuple[str, set[int]] = wait_for("a plate the demo read", find, 150, every_s=3)
    return found
