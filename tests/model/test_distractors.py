"""Synthetic distractors carry what the reader reads on their drawn images, not their labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import distractors
from model.data import DataConfig, PairSource
from model.embed import resolve_model
from model.reader import PpocrReader, ppocr_available
from model.spec import load_spec


@pytest.mark.skipif(not ppocr_available(), reason="rapidocr-onnxruntime is not installed")
def test_pool_readings_come_from_the_images(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(distractors, "CHUNK", 12)
    spec = load_spec(resolve_model("default"))
    reader = PpocrReader()
    pool, texts, readings, conf = distractors.synthetic_pool(spec, 24, tmp_path, reader)
    assert pool.shape == (24, spec.height, spec.width) and len(texts) == 24
    assert readings is not None and conf is not None and conf.shape == (24,)
    source = PairSource(DataConfig(hard_negatives=0.0, mask_prob=0.0))
    expected: list[str] = []
    for start in (0, 12):
        crops, drawn = source.batch(12, seed=7_000_000 + start)
        assert drawn == texts[start : start + 12]
        expected += reader.read(crops)[0]
    assert readings == expected
    # Cached: a second call reads nothing and gives the same.
    again = distractors.synthetic_pool(spec, 24, tmp_path, reader)
    assert again[2] == readings and np.array_equal(again[0], pool)
