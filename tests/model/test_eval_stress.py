"""``platewatch eval stress``: degradations, near-identical plates, and the scores on a
small synthetic folder (the real photos: see the slow test)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphabet.text import lookalike_key, same_plate
from model.eval_stress import CONDITIONS, DEGRADE, StressError, crowd, near_texts, run_cli
from tests.model.conftest import synthetic_crop

TEXTS = ["AA5149EK", "BC1234AX", "ABC1234", "1234BCD", "KA0001PP"]


def args(folder: Path, **kw: object) -> argparse.Namespace:
    base = dict(dir=str(folder), model="default", json=True, split=None, limit=None,
                conditions=list(CONDITIONS), near=2, seed=0)  # fmt: skip
    return argparse.Namespace(**(base | kw))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "crops"
    out.mkdir()
    rows = ["file,plate_text"]
    for i, text in enumerate(TEXTS):
        cv2.imwrite(str(out / f"{i}.png"), synthetic_crop(text, seed=i, difficulty=0.2))
        rows.append(f"{i}.png,{text}")
    (out / "labels.csv").write_text("\n".join(rows) + "\n")
    return out


def test_degradations_keep_type_and_repeat() -> None:
    crop = synthetic_crop("AA5149EK", seed=3, difficulty=0.0)
    for name, degrade in DEGRADE.items():
        a = degrade(crop, np.random.default_rng([0, 1]))
        b = degrade(crop, np.random.default_rng([0, 1]))
        assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[0] == crop.shape[0], name
        assert np.array_equal(a, b), name
    assert DEGRADE["partial"](crop, np.random.default_rng(0)).shape[1] < crop.shape[1]
    assert DEGRADE["night"](crop, np.random.default_rng(0)).mean() < crop.mean() / 2
    assert DEGRADE["blur"](crop, np.random.default_rng(0)).std() < crop.std()


def test_near_texts_are_one_character_away_and_never_the_plate() -> None:
    rng = np.random.default_rng(0)
    for text in ["AA5149EK", "999??TW", "ABC1234"]:
        near = near_texts(text, 4, rng)
        assert len(near) == 4 and len({lookalike_key(t) for t in near}) == 4
        for t in near:
            assert len(t) == len(text) and not same_plate(t, text)
            assert sum(a != b for a, b in zip(t, text, strict=True)) == 1
            assert [i for i, c in enumerate(t) if c == "?"] == [
                i for i, c in enumerate(text) if c == "?"
            ]
    images, texts = crowd(["AA5149EK", "AA5148EK"], 3, seed=1)
    assert len(images) == len(texts) and texts
    assert not any(same_plate(t, q) for t in texts for q in ("AA5149EK", "AA5148EK"))


def test_json_on_a_synthetic_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(args(folder)) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["conditions"]) == set(CONDITIONS)
    assert result["queries"] == len(TEXTS)
    for name, row in result["conditions"].items():
        for who in ("product", "vector", "ocr"):
            assert 0.0 <= row[f"{who}_text_top1"] <= row[f"{who}_text_top3"] <= 1.0, name
    assert result["conditions"]["clean"]["gallery"] == len(TEXTS)
    assert result["conditions"]["near"]["gallery"] > len(TEXTS)
    # Clean, lightly degraded synthetic crops: the product finds every plate first.
    assert result["conditions"]["clean"]["product_text_top1"] == 1.0
    # Cut to its left 60 %, a plate loses characters: the OCR cannot read it whole.
    assert result["conditions"]["partial"]["ocr_read_exact"] < 0.5


def test_table(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(args(folder, json=False, conditions=["clean", "night"])) == 0
    out = capsys.readouterr().out
    assert "product_top1" in out and "night" in out and "partial" not in out


def test_bad_options(folder: Path) -> None:
    with pytest.raises(StressError, match="unknown conditions"):
        run_cli(args(folder, conditions=["fog"]))
    with pytest.raises(StressError, match="--near"):
        run_cli(args(folder, near=0))


@pytest.mark.slow
def test_br_cc_subset(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(args(shared_data / "br_cc", limit=40, conditions=["clean", "near"])) == 0
    result = json.loads(capsys.readouterr().out)
    clean, near = result["conditions"]["clean"], result["conditions"]["near"]
    assert clean["product_text_top1"] >= 0.9
    # Near-identical plates can only push the right crop down.
    assert near["product_text_top1"] <= clean["product_text_top1"]
    assert near["ocr_text_top1"] <= clean["ocr_text_top1"]
