"""How synthetic plates look: characters in order and grouped, the difficulty mix, and
crops whose sharpness and contrast span those of real camera crops."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphabet.formats import get_format
from alphabet.synth import draw_plate, generate_batch, realistic_crop

Image = np.ndarray


def _ink_blobs(plate: Image, fmt: str) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of character-sized ink blobs on a clean plate, left to right."""
    grey = cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
    ink = (np.abs(grey.astype(int) - int(np.median(grey))) > 60).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink)
    h = plate.shape[0]
    widest = 0.3 * h * get_format(fmt).aspect
    # Characters are tall; the border, the EU band and the small print are not.
    boxes = [tuple(int(v) for v in stats[i, :4]) for i in range(1, n)]
    return sorted(b for b in boxes if 0.35 * h < b[3] < 0.9 * h and b[2] < widest)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("ua", "AA5149EK"),
        ("eu", "BA123CD"),
        ("br", "ABC1234"),
        ("es", "1234BCD"),
        ("us", "7ABC123"),
    ],
)
@pytest.mark.parametrize("seed", [0, 3])
def test_each_character_is_one_blob_in_order(fmt: str, text: str, seed: int) -> None:
    # No glyph of the committed sets breaks in two, so a plate shows one blob per character.
    blobs = _ink_blobs(draw_plate(text, fmt, np.random.default_rng(seed), height=96), fmt)
    assert len(blobs) == len(text), blobs
    heights = [h for *_, h in blobs]
    assert max(heights) - min(heights) <= 3  # one line, one letter height


@pytest.mark.parametrize(
    ("fmt", "text", "gaps_after"),
    [("ua", "AA5149EK", (1, 5)), ("es", "1234BCD", (3,)), ("eu", "BA123CD", (1, 4))],
)
def test_groups_are_further_apart_than_letters(
    fmt: str, text: str, gaps_after: tuple[int, ...]
) -> None:
    blobs = _ink_blobs(draw_plate(text, fmt, np.random.default_rng(1), height=96), fmt)
    steps = np.diff([x + w / 2 for x, _, w, _ in blobs])
    inside = np.median([s for i, s in enumerate(steps) if i not in gaps_after])
    assert all(steps[i] > 1.3 * inside for i in gaps_after), steps


def _sharpness(crop: Image) -> float:
    """Variance of the Laplacian at a common 192x48 size: high for crisp edges."""
    grey = cv2.cvtColor(
        cv2.resize(crop, (192, 48), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
    )
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def _contrast(crop: Image) -> float:
    return float(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).std())


def test_difficulty_makes_crops_smaller_and_softer() -> None:
    clean, _ = generate_batch(120, seed=3, difficulty=0.0)
    hard, _ = generate_batch(120, seed=3, difficulty=1.0)
    assert np.median([c.shape[0] for c in hard]) < np.median([c.shape[0] for c in clean])
    assert np.median([_sharpness(c) for c in hard]) < 0.5 * np.median(
        [_sharpness(c) for c in clean]
    )
    assert np.median([_contrast(c) for c in hard]) < np.median([_contrast(c) for c in clean])


def test_full_difficulty_mixes_far_plates_night_and_infrared() -> None:
    crops, _ = generate_batch(400, seed=9, difficulty=1.0)
    heights = np.array([c.shape[0] for c in crops])
    assert (heights < 24).mean() > 0.1  # far plates
    means = np.array([c.reshape(-1, 3).mean(axis=0) for c in crops])  # B, G, R
    green = means[:, 1] > 1.3 * np.maximum(means[:, 0], means[:, 2]) + 1
    assert green.mean() > 0.05  # infrared frames as colour cameras show them
    assert (means.mean(axis=1) < 60).mean() > 0.03  # night


def test_clean_difficulty_has_no_degradation_left() -> None:
    crops, _ = generate_batch(60, seed=4, difficulty=0.0)
    assert min(c.shape[0] for c in crops) >= 40
    assert np.median([_contrast(c) for c in crops]) > 45


def _real_crops(folder: Path, count: int) -> list[Image]:
    with (folder / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:count]
    images = [cv2.imread(str(folder / row["file"]), cv2.IMREAD_COLOR) for row in rows]
    return [img for img in images if img is not None]


@pytest.mark.parametrize(("dataset", "fmt"), [("br_cc", "br"), ("uc3m_crops", "es")])
def test_training_mix_spans_real_crops(shared_data: Path, dataset: str, fmt: str) -> None:
    """The median real crop's sharpness and contrast fall inside the synthetic mix the
    embedder trains on (difficulty drawn from 0.3 to 1, as model.data does)."""
    real = _real_crops(shared_data / dataset, 150)
    rng = np.random.default_rng(0)
    synth = [
        realistic_crop(text, fmt, rng, float(rng.uniform(0.3, 1.0)))
        for text in generate_batch(300, seed=1, formats=[fmt])[1]
    ]
    for measure in (_sharpness, _contrast):
        real_median = np.median([measure(c) for c in real])
        low, high = np.percentile([measure(c) for c in synth], [10, 90])
        assert low < real_median < high, (measure.__name__, low, real_median, high)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet="ABCDEFGHJKLMNPRSTXYZ0123456789?", min_size=1, max_size=12),
    fmt=st.sampled_from(["ua", "eu", "br", "es", "us"]),
    difficulty=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_text_in_any_format_makes_a_crop(
    text: str, fmt: str, difficulty: float, seed: int
) -> None:
    # Training feeds texts of one format into another's colours (hard negatives): any
    # normalised text of 1-12 characters must come out as a plausible crop.
    crop = realistic_crop(text, fmt, np.random.default_rng(seed), difficulty)
    assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
    assert crop.shape[0] >= 8 and crop.shape[1] >= 8
    assert crop.shape[1] < 40 * crop.shape[0]
