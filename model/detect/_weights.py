"""Loading a detector network's committed weights: one place for the checks and messages."""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from model import _tf
from model.detect._ppocr import BackendUnavailableError

S = TypeVar("S")


def load_net(
    folder: Path,
    what: str,
    fix: str,
    load_spec: Callable[[Path], S],
    build: Callable[[S], Any],
    threads: int,
) -> tuple[S, Any]:
    """(spec, Keras model with its weights) from ``folder``'s spec.json and weights.npz.

    what: the network's name in messages; fix: how to make the weights, said when they are
    missing. Missing, unreadable or mismatched files raise BackendUnavailableError.
    """
    spec_file, weights_file = folder / "spec.json", folder / "weights.npz"
    if not spec_file.is_file() or not weights_file.is_file():
        raise BackendUnavailableError(
            f"{what} weights not found: {folder} needs spec.json and weights.npz ({fix})"
        )
    try:
        spec = load_spec(spec_file)
        with np.load(weights_file) as stored:
            weights = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise BackendUnavailableError(f"{what} weights in {folder} unreadable: {exc}") from exc
    tf = _tf.tensorflow()
    with contextlib.suppress(RuntimeError):  # TensorFlow already running: keep its pool
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    model = build(spec)
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise BackendUnavailableError(
            f"{what} weights in {folder} do not fit spec.json: {exc}"
        ) from exc
    return spec, model
