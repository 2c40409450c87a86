"""Fixtures of the model tests: the shipped default model, small synthetic crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.data import degrade
from model.embed import TFEmbedder, load_embedder


@pytest.fixture(scope="session")
def embedder() -> TFEmbedder:
    """The shipped default model (model/weights/default)."""
    return load_embedder("default")


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config small enough to train a few steps in seconds."""
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text(
        "name: tiny\n"
        "model:\n"
        "  arch_options: {stages: [[8, 2, 2], [8, 2, 2], [16, 2, 1]], head_channels: 4}\n"
        "  embedding_dim: 16\n"
        "train: {steps: 4, batch_size: 8, checkpoint_every: 2, warmup_steps: 0}\n"
    )
    return path


def synthetic_crop(text: str, seed: int = 0, difficulty: float = 0.5) -> np.ndarray:
    """A degraded BGR crop of a plate text (model.data.degrade), reproducible by seed."""
    return degrade(text, np.random.default_rng(seed), difficulty)
