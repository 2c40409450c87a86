"""End-to-end search on real scenes: detector (its readings handed on), crops, embedder,
fused score."""

from __future__ import annotations

from pathlib import Path

from model.eval_scenes import evaluate


def test_first_scenes_are_found_by_text(shared_data: Path) -> None:
    result = evaluate(shared_data / "scenes_eu_us", limit=10)
    assert result["scenes"] == 10 and result["crops"] >= 5
    for key in ("plate_cut", "text_top1", "product_text_top1", "product_text_top3"):
        assert 0.0 <= result[key] <= 1.0, key
    assert result["product_text_top1"] <= result["plate_cut"]
    assert result["product_text_top1"] >= 0.6
    # the default detector reads every plate it keeps; the service hands those readings on
    assert result["read_by_detector"] == 1.0
