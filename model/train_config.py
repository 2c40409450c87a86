"""The training config tree (YAML or JSON), validated before anything heavy starts.

A config names the model it makes (``model``: the spec fields that define the network),
the data it sees (``data``) and how it is trained (``train``). Shipped configs live in
``model/configs/<name>.yaml`` and can be named instead of given as a path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.data import DataConfig
from model.spec import READING_ALPHABET, ModelSpec
from platewatch.errors import PlatewatchError

CONFIGS_DIR = Path(__file__).parent / "configs"


class ConfigError(PlatewatchError, ValueError):
    """A training config is missing or holds a bad value; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSection(_Strict):
    height: int = Field(default=32, ge=8, title="input height in pixels")
    width: int = Field(default=128, ge=8, title="input width in pixels")
    channels: Literal[1, 3] = Field(default=1, title="1 gray, 3 BGR")
    preprocess: list[str] = Field(
        default=["gray", "resize", "standardize"], title="steps, in order"
    )
    arch: str = Field(default="plate_encoder", title="name in model.net.ARCHITECTURES")
    arch_options: dict[str, Any] = Field(default_factory=dict, title="the builder's settings")
    embedding_dim: int = Field(default=128, ge=2, title="embedding size D")
    reading: bool = Field(default=True, title="train a CTC reading head on the same trunk")
    fusion_weight: float = Field(default=0.0, ge=0, title="reading term's weight in fused search")


class DataSection(_Strict):
    formats: list[Literal["ua", "eu", "br", "es", "us"]] = ["ua", "eu", "br", "es", "us"]
    difficulty: float = Field(default=1.0, ge=0, le=1, title="0 clean .. 1 very degraded")
    mask_prob: float = Field(default=0.1, ge=0, le=1, title="share of crops with hidden characters")
    hard_negatives: float = Field(default=0.25, ge=0, lt=1, title="share of near-duplicate texts")
    real: list[dict[str, str]] = Field(default_factory=list, title="[{dir, split}] to mix in")
    real_fraction: float = Field(
        default=0.0, ge=0, lt=1, title="share of each batch from real crops"
    )
    invert_prob: float = Field(default=0.2, ge=0, le=1, title="share of inverted synthetic crops")
    own_degrade: float = Field(default=0.15, ge=0, le=1, title="share drawn by model.data.degrade")


class TrainSection(_Strict):
    objective: Literal["contrastive", "autoencoder"] = "contrastive"
    steps: int = Field(default=4000, ge=1, title="optimiser steps")
    batch_size: int = Field(default=128, ge=2, title="plates per step")
    reuse: int = Field(default=1, ge=1, le=8, title="steps each drawn crop takes part in")
    learning_rate: float = Field(default=2e-3, gt=0)
    warmup_steps: int = Field(default=100, ge=0)
    temperature: float = Field(default=0.05, gt=0, title="InfoNCE softmax temperature")
    ctc_weight: float = Field(default=0.2, ge=0, title="weight of the reading loss")
    seed: int = Field(default=1, title="seeds the weights and every batch")
    checkpoint_every: int = Field(default=200, ge=1, title="steps between checkpoints")
    max_minutes: float | None = Field(default=None, gt=0, title="stop (resumably) after this long")


class TrainConfig(_Strict):
    name: str = Field(title="model name; the shipped folder model/weights/<name>")
    model: ModelSection = Field(default_factory=ModelSection)
    data: DataSection = Field(default_factory=DataSection)
    train: TrainSection = Field(default_factory=TrainSection)

    def spec(self) -> ModelSpec:
        m = self.model
        return ModelSpec(
            name=self.name, height=m.height, width=m.width, channels=m.channels,
            preprocess=tuple(m.preprocess), arch=m.arch, arch_options=dict(m.arch_options),
            embedding_dim=m.embedding_dim, alphabet=READING_ALPHABET if m.reading else "",
            fusion_weight=m.fusion_weight,
        )  # fmt: skip

    def data_config(self) -> DataConfig:
        d = self.data
        return DataConfig(
            formats=tuple(d.formats), difficulty=d.difficulty, mask_prob=d.mask_prob,
            hard_negatives=d.hard_negatives, real=tuple(d.real), real_fraction=d.real_fraction,
            invert_prob=d.invert_prob, own_degrade=d.own_degrade,
        )  # fmt: skip


def load_config(name_or_path: str) -> TrainConfig:
    """A config from a YAML/JSON file, or a shipped one by name (``default``, ``seed``)."""
    path = Path(name_or_path)
    if not path.exists():
        path = CONFIGS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        shipped = sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml"))
        raise ConfigError(f"no config file {name_or_path!r}; shipped configs: {shipped}")
    text = path.read_text()
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path} is not valid {path.suffix[1:].upper()}: {exc}") from None
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
