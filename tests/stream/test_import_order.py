"""aiortc must be loaded before TensorFlow (TRAPS.md 1: the other order dies in srtp_init).

Each entry point of the service is imported in a fresh interpreter; the test fails if
TensorFlow ever gets loaded first, or if loading TensorFlow afterwards crashes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

CHECK = """
import sys
import {module}
names = list(sys.modules)
assert "aiortc" in names, "aiortc was not imported by {module}"
if "tensorflow" in names:
    assert names.index("pylibsrtp") < names.index("tensorflow"), "TensorFlow came first"
from model._tf import tensorflow
tensorflow()
from aiortc import RTCPeerConnection
RTCPeerConnection()
print("ok")
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_service_entry_point_loads_aiortc_before_tensorflow() -> None:
    done = _run(CHECK.format(module="stream.run"))
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip().endswith("ok")


@pytest.mark.parametrize("module", ["stream.app", "stream.assemble", "stream.service"])
def test_every_service_module_brings_aiortc(module: str) -> None:
    done = _run(f"import sys, {module}; print('aiortc' in sys.modules)")
    assert done.stdout.strip() == "True", done.stderr[-2000:]
