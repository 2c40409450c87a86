from __future__ import annotations

from pathlib import Path

import pytest

from model.spec import ModelSpec, SpecError, load_spec, save_spec

BASE = dict(
    name="t", height=32, width=128, channels=1, preprocess=("gray", "resize", "standardize"),
    arch="plate_encoder", embedding_dim=64,
)  # fmt: skip


def test_round_trip(tmp_path: Path) -> None:
    spec = ModelSpec(**BASE, metrics={"text_top1": 0.9}, data={"steps": 3})  # type: ignore[arg-type]
    save_spec(spec, tmp_path)
    assert load_spec(tmp_path) == spec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"height": 0}, "height"),  # sizes must be positive
        ({"channels": 2}, "channels"),  # only gray or BGR
        ({"preprocess": ()}, "preprocess"),  # a model needs at least one step
        ({"fusion_weight": -1.0}, "fusion_weight"),
    ],
)
def test_bad_values(change: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ModelSpec(**(BASE | change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "x"}', "lacks required keys"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not valid JSON"),
        ('{"colour": 1}', "unknown spec keys"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "spec.json").write_text(content)
    with pytest.raises(SpecError, match=message):
        load_spec(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"no spec\.json"):
        load_spec(tmp_path)


@pytest.mark.parametrize("name", ["default", "seed"])
def test_shipped_specs_load(name: str) -> None:
    folder = Path(__file__).resolve().parents[2] / "model" / "weights" / name
    if not (folder / "spec.json").exists():
        pytest.skip(f"model/weights/{name} not shipped in this checkout")
    spec = load_spec(folder)
    assert spec.name == name
    assert spec.version.startswith(name)
