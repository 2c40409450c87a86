"""TensorFlow and aiortc in one process (TRAPS.md #1).

``import tensorflow`` *before* ``import aiortc`` makes pylibsrtp's ``srtp_init`` resolve
OpenSSL's HMAC symbols into TensorFlow's own library, and the process dies with SIGSEGV.
model._tf.tensorflow() loads pylibsrtp first, so going through it must be safe. Each case
runs in a fresh interpreter, since a crash must not take the test run with it.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO

SAFE = """
from model._tf import tensorflow
tf = tensorflow()
import aiortc
pc = aiortc.RTCPeerConnection()
import asyncio
asyncio.run(pc.close())
print("ok", tf.__version__)
"""

# The order a newcomer would write; documented here, expected to crash.
PLAIN = """
import tensorflow
import aiortc
aiortc.RTCPeerConnection()
print("ok")
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}, cwd=REPO,
    )  # fmt: skip


@pytest.mark.slow
def test_tensorflow_through_model_tf_then_aiortc_does_not_crash() -> None:
    result = run(SAFE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


@pytest.mark.slow
def test_plain_tensorflow_then_aiortc_order_crashes() -> None:
    result = run(PLAIN)
    if result.returncode == 0:
        pytest.skip("plain `import tensorflow; import aiortc` no longer crashes here")
    assert result.returncode == -signal.SIGSEGV, result.stderr[-2000:]
