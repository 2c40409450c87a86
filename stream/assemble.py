"""Config -> the heavy components (detector, embedder, store), built off the event loop.

Kept apart from the service so tests can hand the service their own parts, and so the
import of stream.service (aiortc) always comes before the embedder's TensorFlow.
"""

from __future__ import annotations

# aiortc before TensorFlow in this process (TRAPS.md 1).
import stream.service  # noqa: F401  # isort: skip

import importlib
import logging
import os
from pathlib import Path

from model.detect import create_detector
from model.protocols import Embedder
from platewatch.errors import PlatewatchError
from stream.config import ServiceConfig
from stream.service import Components

log = logging.getLogger(__name__)


class ComponentError(PlatewatchError, RuntimeError):
    """A component the config names cannot be built here; the message says why."""


def data_dir(flag: str | Path | None, config: ServiceConfig) -> Path:
    """--data, else the config's store.data_dir, else $PLATEWATCH_DATA, else the default."""
    chosen = flag if flag is not None else config.store.data_dir
    try:
        datadir = importlib.import_module("store.datadir")
    except ModuleNotFoundError:
        # The store package's resolver is the reference; this mirrors it until it lands.
        env = os.environ.get("PLATEWATCH_DATA")
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        base = Path(chosen) if chosen else Path(env) if env else Path(xdg) / "platewatch"
        base.mkdir(parents=True, exist_ok=True)
        return base
    return Path(datadir.resolve_data_dir(chosen))


def load_embedder(name: str) -> Embedder:
    try:
        embed = importlib.import_module("model.embed")
    except ModuleNotFoundError as exc:
        raise ComponentError(f"no embedding model package here ({exc})") from None
    embedder: Embedder = embed.load_embedder(name)
    log.info("embedder %s (dim %d) loaded", embedder.version, embedder.dim)
    return embedder


def build_components(config: ServiceConfig, data: Path) -> Components:
    """Detector, embedder and store for ``config``; blocking (loads weights, opens files)."""
    from stream.storesink import open_sink

    detector = create_detector(config.detector.name, **config.detector.options)
    embedder = load_embedder(config.model.embedder)
    sink = open_sink(config.store, data, embedder)
    return Components(detector, embedder, sink)
