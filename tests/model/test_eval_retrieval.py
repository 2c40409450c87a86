from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import pytest

from model.eval_retrieval import run_cli
from model.gallery import DatasetError, load_dataset
from tests.model.conftest import synthetic_crop

KEYS = {
    "text_top1", "text_top3", "text_top10", "image_top1", "image_top3", "read_exact",
    "queries", "gallery", "crops_per_s", "ocr_text_top1", "ocr_text_top3", "ocr_read_exact",
    "fused_text_top1", "fused_text_top3", "product_text_top1", "product_text_top3",
    "product_text_top10", "product_read_exact", "fusion_weight", "product_image_top1",
    "product_image_top3",
}  # fmt: skip


def args(folder: Path, tmp: Path, **kw: object) -> argparse.Namespace:
    base = dict(dir=str(folder), model="default", json=True, split=None, limit=None,
                distractors=0, figure=None, cache=str(tmp / "cache"), no_ocr=False,
                no_seed=True)  # fmt: skip
    return argparse.Namespace(**(base | kw))


@pytest.fixture()
def synthetic_folder(tmp_path: Path) -> Path:
    """A labelled folder of synthetic crops: 6 plates, 3 of them seen twice."""
    folder = tmp_path / "crops"
    (folder / "images").mkdir(parents=True)
    rows = ["file,plate_text,split"]
    texts = ["AA5149EK", "AA5148EK", "BC1234AX", "ABC1234", "1234BCD", "KA0001PP"]
    for i, text in enumerate(texts + texts[:3]):
        name = f"images/{i:03d}.png"
        cv2.imwrite(str(folder / name), synthetic_crop(text, seed=i, difficulty=0.3))
        rows.append(f"{name},{text},{'val' if i % 2 else 'train'}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_json_keys_on_a_synthetic_folder(
    synthetic_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(args(synthetic_folder, tmp_path)) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= KEYS
    assert result["gallery"] == 9 and result["queries"] == 6 and result["image_queries"] == 3
    for key in KEYS - {"queries", "gallery", "crops_per_s"}:
        assert 0.0 <= result[key] <= 1.0, key
    assert result["reader"] in ("own", "ppocr-w144")
    assert set(result["fusion"]) == {"lookalike", "skip_unknown", "unknown_read", "confidence"}


def test_table_and_figure(
    synthetic_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figure = tmp_path / "fig.png"
    assert run_cli(args(synthetic_folder, tmp_path, json=False, figure=str(figure),
                        split="val", no_ocr=True)) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "text_top1" in out and "product" in out and f"figure: {figure}" in out
    assert figure.stat().st_size > 1000


def test_bad_folders(tmp_path: Path, synthetic_folder: Path) -> None:
    with pytest.raises(DatasetError, match=r"labels\.csv"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError, match="no rows"):
        load_dataset(synthetic_folder, split="test")


@pytest.mark.slow
def test_br_cc_subset_with_distractors(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_data / "br_cc"
    assert run_cli(args(folder, tmp_path, limit=60, distractors=40)) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= KEYS
    assert result["gallery"] == 60 and result["distractors"] == 40
    # Distractors can only push the right crop down, never up.
    assert result["distractors_text_top1"] <= result["text_top1"]
    assert result["distractors_product_text_top1"] <= result["product_text_top1"]
    assert result["distractors_fused_text_top1"] <= result["fused_text_top1"]
    assert result["distractors_image_top1"] <= result["image_top1"]
    assert result["distractors_product_image_top1"] <= result["product_image_top1"]
    # A trained model finds most of 60 real Brazilian crops by their typed text.
    assert result["text_top3"] >= 0.8
    # The product's score (cosine fused with PP-OCR's readings) finds nearly all of them.
    assert result["product_text_top1"] >= 0.9
