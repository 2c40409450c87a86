from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pytest

from model.embed import load_embedder
from model.spec import load_spec
from model.train import encode_texts, run_cli
from model.train_config import ConfigError, load_config


def history_steps(out: Path) -> list[int]:
    with (out / "history.csv").open() as fh:
        return [int(r["step"]) for r in csv.DictReader(fh)]


@pytest.mark.slow
def test_tiny_training_checkpoints_and_resumes(tiny_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = argparse.Namespace(config=str(tiny_config), out=str(out), resume=False)
    assert run_cli(args) == 0
    assert (out / "loss.png").stat().st_size > 0
    assert history_steps(out) == [0, 1, 2, 3]
    assert sorted(p.name for p in (out / "checkpoints").glob("ckpt-*.index")) == [
        "ckpt-2.index", "ckpt-4.index",
    ]  # fmt: skip
    spec = load_spec(out / "export")
    assert spec.data["training_steps"] == 4

    # Four more steps on top of the last checkpoint: history continues, nothing restarts.
    longer = tmp_path / "longer.yaml"
    longer.write_text(tiny_config.read_text().replace("steps: 4", "steps: 6"))
    assert run_cli(argparse.Namespace(config=str(longer), out=str(out), resume=True)) == 0
    assert history_steps(out) == [0, 1, 2, 3, 4, 5]
    assert load_spec(out / "export").data["training_steps"] == 6

    emb = load_embedder(str(out / "export")).embed_texts(["AB1234", "ZZ9876"])
    assert emb.vectors.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("name: x\ntrain: {steps: 0}\n", "train.steps"),
        ("name: x\ntrain: {optimiser: sgd}\n", "train.optimiser"),  # unknown key
        ("name: x\ndata: {formats: [mars]}\n", "data.formats"),
        ("model: {}\n", "name"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_config_errors(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config(str(path))


@pytest.mark.parametrize("name", ["default", "seed"])
def test_shipped_configs_are_valid(name: str) -> None:
    cfg = load_config(name)
    assert cfg.name == name
    assert cfg.spec().name == name


def test_unknown_config_name() -> None:
    with pytest.raises(ConfigError, match="shipped configs"):
        load_config("no-such-config")


def test_encode_texts() -> None:
    labels, lengths = encode_texts(["AB", "1?3"], "AB123?")
    assert labels.tolist() == [[1, 2, 0], [3, 6, 5]]
    assert lengths.tolist() == [2, 3]
