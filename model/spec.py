"""The model spec: everything about a shipped model that code outside the weights needs.

A spec travels beside its weights as ``spec.json``: input size and channels, the
preprocessing steps, the architecture's settings, the alphabet of its reading head, the
embedding size, and the metrics and data it was trained on. Preprocessing, the embedder
and evaluation all read it, so nothing about a model is written down twice.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from alphabet.text import CHARSET, UNKNOWN
from model.fusion import Fusion
from platewatch.errors import PlatewatchError

SPEC_FILE = "spec.json"
WEIGHTS_FILE = "model.weights.h5"
#: Reading alphabet: plate characters plus ``?`` (a masked character); CTC blank is extra.
READING_ALPHABET = CHARSET + UNKNOWN
#: Readers a spec may name (model.reader): the network's own head, or PP-OCR's recogniser.
READERS = ("own", "ppocr")


class SpecError(PlatewatchError, ValueError):
    """A spec file is missing, unreadable or holds a bad value; the message names it."""


@dataclass(frozen=True)
class ModelSpec:
    """What a model expects and what it gives.

    height, width: network input size in pixels; channels: 1 (gray) or 3 (BGR).
    preprocess: names of the steps in model.preprocess.STEPS, applied in order.
    arch: name in model.net.ARCHITECTURES; arch_options: its keyword settings.
    embedding_dim: D of the unit vectors.
    alphabet: characters of the reading head ("" when the model has none).
    fusion_weight: share of the reading term in the fused text-search score (model.fusion:
    ``(1 - w) * cosine + w * term``); fusion_options: that score's other settings.
    reader: who reads each crop: ``own`` (the reading head) or ``ppocr`` (model.reader;
    falls back to ``own`` where rapidocr-onnxruntime is not installed).
    """

    name: str
    height: int
    width: int
    channels: int
    preprocess: tuple[str, ...]
    arch: str
    embedding_dim: int
    arch_options: dict[str, Any] = field(default_factory=dict)
    alphabet: str = READING_ALPHABET
    fusion_weight: float = 0.0
    fusion_options: dict[str, Any] = field(default_factory=dict)
    reader: str = "own"
    version: str = "0"
    metrics: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("height", "width", "embedding_dim"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise SpecError(f"spec {key} must be a positive integer, got {value!r}")
        if self.channels not in (1, 3):
            raise SpecError(f"spec channels must be 1 (gray) or 3 (BGR), got {self.channels!r}")
        if not self.preprocess:
            raise SpecError("spec preprocess must list at least one step")
        if self.reader not in READERS:
            raise SpecError(f"spec reader must be one of {READERS}, got {self.reader!r}")
        try:
            Fusion.from_spec(self.fusion_weight, self.fusion_options)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"spec fusion_weight/fusion_options: {exc}") from None

    @property
    def fusion(self) -> Fusion:
        """The fused text-search score of this model (model.fusion)."""
        return Fusion.from_spec(self.fusion_weight, self.fusion_options)

    @property
    def has_reading(self) -> bool:
        return bool(self.alphabet)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["preprocess"] = list(self.preprocess)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SpecError(f"unknown spec keys {unknown}; allowed: {sorted(known)}")
        missing = sorted(
            f.name
            for f in fields(cls)
            if f.name not in raw and f.default is MISSING and f.default_factory is MISSING
        )
        if missing:
            raise SpecError(f"spec lacks required keys {missing}")
        values = dict(raw)
        values["preprocess"] = tuple(values["preprocess"])
        return cls(**values)

    def replace(self, **changes: Any) -> ModelSpec:
        return ModelSpec.from_dict(self.to_dict() | changes)


def save_spec(spec: ModelSpec, folder: Path) -> Path:
    """Write ``spec.json`` into folder (created if needed); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_FILE
    path.write_text(json.dumps(spec.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


def load_spec(folder: Path) -> ModelSpec:
    """Read ``folder/spec.json``; raises SpecError when it is absent or malformed."""
    path = folder / SPEC_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"no {SPEC_FILE} in {folder}") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path} must hold a JSON object")
    return ModelSpec.from_dict(raw)
