"""Fixtures of the service tests: a real RTSP server (GStreamer, Debian's python3)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stream.media import free_port, traffic_frames

HERE = Path(__file__).parent
SYSTEM_PYTHON = Path("/usr/bin/python3")


@dataclass
class RtspServer:
    """GStreamer's RTSP server in its own process; ``stop``/``start`` to kill and revive."""

    raw: Path
    size: tuple[int, int]
    fps: int
    port: int
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> None:
        width, height = self.size
        args = [str(SYSTEM_PYTHON), str(HERE / "rtsp_server.py"), str(self.raw)]
        args += [str(width), str(height), str(self.fps), str(self.port)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line!r}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


def _gst_rtsp_missing() -> str | None:
    if not SYSTEM_PYTHON.exists():
        return "Debian's /usr/bin/python3 is absent"
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "assert Gst.ElementFactory.find('x264enc')"
    )
    done = subprocess.run([str(SYSTEM_PYTHON), "-c", probe], capture_output=True, text=True)
    if done.returncode:
        return (
            "GStreamer's RTSP server is not installed (apt-get install python3-gi "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly ...; see .ci/run)"
        )
    return None


@pytest.fixture
def rtsp_factory(tmp_path: Path) -> Iterator[Callable[..., RtspServer]]:
    """Make RTSP servers: factory(plates, size, frames) -> a started RtspServer."""
    missing = _gst_rtsp_missing()
    if missing:
        pytest.skip(missing)
    servers: list[RtspServer] = []

    def make(plates: list[str], size: tuple[int, int] = (800, 448), count: int = 48) -> RtspServer:
        raw = tmp_path / f"rtsp{len(servers)}.bgr"
        with raw.open("wb") as f:
            for pixels in traffic_frames(plates, size, count):
                f.write(pixels.tobytes())
        server = RtspServer(raw, size, 5, free_port())
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
