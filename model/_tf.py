"""The one place TensorFlow is imported.

TensorFlow loaded before aiortc/pylibsrtp makes ``srtp_init`` resolve OpenSSL's HMAC
symbols into TensorFlow's own library and the process dies with SIGSEGV. Importing
pylibsrtp first is safe, so every TensorFlow import in the project goes through
:func:`tensorflow` below, which loads pylibsrtp (when installed) before TensorFlow.
``tests/model/test_import_order.py`` fails if that ever stops holding.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from functools import lru_cache
from types import ModuleType

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def tensorflow() -> ModuleType:
    """Import TensorFlow (after pylibsrtp), log the device it will run on, and return it."""
    with contextlib.suppress(ImportError):  # without WebRTC there is nothing to protect
        importlib.import_module("pylibsrtp")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = importlib.import_module("tensorflow")
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        # Share the GPU with other processes instead of taking all its memory at start.
        with contextlib.suppress(RuntimeError):  # already initialised
            tf.config.experimental.set_memory_growth(gpu, True)
    log.info("TensorFlow %s running on %s", tf.__version__, "GPU" if gpus else "CPU")
    return tf


def keras() -> ModuleType:
    """Keras 3, imported through :func:`tensorflow` so the import order stays safe."""
    tensorflow()
    return importlib.import_module("keras")
