from __future__ import annotations

import numpy as np
import pytest

from alphabet.text import edit_distance, lookalike_key
from model.data import DataConfig, PairSource, degrade, near_duplicate


def test_batches_are_distinct_plates_and_reproducible() -> None:
    source = PairSource(DataConfig(hard_negatives=0.5, mask_prob=0.2))
    crops, texts = source.batch(24, seed=5)
    assert len(crops) == len(texts) == 24
    assert len({lookalike_key(t) for t in texts}) == 24  # in-batch negatives are truly other plates
    assert all(c.dtype == np.uint8 and c.ndim == 3 and c.shape[2] == 3 for c in crops)
    again, texts_again = source.batch(24, seed=5)
    assert texts_again == texts
    assert all(np.array_equal(a, b) for a, b in zip(crops, again, strict=True))
    assert source.batch(24, seed=6)[1] != texts


@pytest.mark.parametrize("seed", range(5))
def test_near_duplicates_differ_by_one_or_two_characters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for text in ("AA5149EK", "ABC1234", "1234BCD"):
        other = near_duplicate(text, rng)
        assert len(other) == len(text)
        assert edit_distance(text, other) <= 2


def test_masked_text_draws_privacy_boxes() -> None:
    rng = np.random.default_rng(0)
    crop = degrade("12?4BC?", rng, difficulty=0.0)
    assert crop.ndim == 3 and crop.shape[0] >= 10
