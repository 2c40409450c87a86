"""``platewatch demo`` as a user runs it: a process that prints its address and, within a
minute, shows frames processed, sightings stored and its watched plate's alert on /metrics."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from platewatch.cli import main
from tests.conftest import REPO
from tests.stream.media import free_port

pytestmark = pytest.mark.slow


def _total(metrics: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}{{[^}}]*}} (\S+)$", metrics, re.MULTILINE))


def test_demo_serves_sightings_within_a_minute(tmp_path: Path) -> None:
    port = free_port()
    args = [sys.executable, "-m", "platewatch", "demo", "--port", str(port)]
    process = subprocess.Popen(
        [*args, "--data", str(tmp_path / "data")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        said = [process.stdout.readline() for _ in range(3)]
        assert "watchlist: AA5149EK" in said[0]  # the demo watches one of its plates
        assert "web page token (admin" in said[1] and "pw_" in said[1]
        assert f"http://127.0.0.1:{port}" in said[2]
        deadline = time.monotonic() + 60
        metrics = ""
        while time.monotonic() < deadline:
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            # An alert leaves while the car is in view, before its sighting is stored.
            if (
                _total(metrics, "platewatch_alerts_raised_total") >= 1
                and _total(metrics, "platewatch_sightings_stored_total") >= 1
            ):
                break
            time.sleep(1)
        assert _total(metrics, "platewatch_frames_processed_total") > 0
        assert _total(metrics, "platewatch_sightings_stored_total") >= 1
        # The watched plate was seen and raised an alert within the minute.
        assert _total(metrics, "platewatch_alerts_raised_total") >= 1
        assert (tmp_path / "data").is_dir()  # the embedded store lives in the data folder
    finally:
        process.terminate()
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()


def test_demo_prints_its_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--print-config"]) == 0
    assert "type: synthetic" in capsys.readouterr().out


def test_serve_refuses_a_bad_config_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras:\n  gate:\n    source: {type: url}\n")
    assert main(["serve", "--config", str(bad)]) == 2
    assert "cameras.gate.source.url: required key is missing" in capsys.readouterr().err
