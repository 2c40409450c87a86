"""Synthetic plates: formats, clean plates, camera-like crops, batches and bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest

from alphabet.formats import (
    FORMATS,
    PATTERN_SLOTS,
    PlateFormat,
    PlateFormatError,
    get_format,
    guess_format,
    layout,
    random_plate_text,
)
from alphabet.synth import (
    MAX_PLATE_HEIGHT,
    MIN_PLATE_HEIGHT,
    draw_plate,
    generate_batch,
    realistic_crop,
)
from alphabet.text import DIGITS, PlateTextError, normalize
from platewatch.errors import PlatewatchError

ALL_FORMATS = sorted(FORMATS)
# One typical text per format (not drawn from the generator, so a wrong pattern shows).
SAMPLE_TEXTS = {
    "ua": "AA5149EK",
    "eu": "BA123CD",
    "br": "ABC1234",
    "es": "1234BCD",
    "us": "7ABC123",
}


def _regex(plate_format: PlateFormat) -> re.Pattern[str]:
    """A regular expression for the texts a format's patterns allow."""
    letters = f"[{plate_format.letters}]"
    alternatives = [
        "".join(letters if c == "L" else "[0-9]" for c in p if c in PATTERN_SLOTS)
        for p in plate_format.patterns
    ]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def test_every_required_format_is_registered() -> None:
    assert {"ua", "eu", "br", "es", "us"} <= set(FORMATS)
    assert set(SAMPLE_TEXTS) == set(FORMATS)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_random_plate_text_fits_its_format(fmt: str) -> None:
    rng = np.random.default_rng(7)
    regex = _regex(get_format(fmt))
    texts = {random_plate_text(fmt, rng) for _ in range(300)}
    for text in texts:
        assert normalize(text) == text  # already normalised, no separators
        assert regex.fullmatch(text), f"{text!r} does not fit {get_format(fmt).patterns}"
    assert len(texts) > 250  # random, not a handful of repeats


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("ua", "AA5149EK", "LL NNNN LL"),
        ("br", "ABC1234", "LLL-NNNN"),
        ("es", "1234BCD", "NNNN LLL"),
        ("eu", "BA123CD", "LL NNN LL"),
        ("us", "7ABC123", "NLLL NNN"),
        ("es", "12??BCD", "NNNN LLL"),  # '?' fits a letter or a digit
        ("ua", "AB12", "NNNN"),  # no pattern of that length: one group
    ],
)
def test_layout_picks_the_pattern_that_fits(fmt: str, text: str, expected: str) -> None:
    assert layout(text, get_format(fmt)) == expected


@pytest.mark.parametrize(("fmt", "text"), sorted(SAMPLE_TEXTS.items()))
def test_guess_format_finds_a_format_that_fits(fmt: str, text: str) -> None:
    guessed = guess_format(text)
    assert _regex(get_format(guessed)).fullmatch(text)


def test_unknown_format_names_the_known_ones() -> None:
    for call in (
        lambda: get_format("xx"),
        lambda: random_plate_text("xx", np.random.default_rng(0)),
        lambda: draw_plate("AA5149EK", "xx", np.random.default_rng(0)),
        lambda: realistic_crop("AA5149EK", "xx", np.random.default_rng(0)),
    ):
        with pytest.raises(PlateFormatError) as info:
            call()
        assert "'xx'" in str(info.value)
        assert all(name in str(info.value) for name in ALL_FORMATS)
    assert issubclass(PlateFormatError, PlatewatchError)


@pytest.mark.parametrize("pattern", ["LL NNN X", "LL_NNN"])
def test_format_rejects_a_bad_pattern(pattern: str) -> None:
    palette = FORMATS["eu"].palettes
    with pytest.raises(ValueError, match="allowed"):
        PlateFormat(name="bad", patterns=(pattern,), aspect=4.0, palettes=palette)


@pytest.mark.parametrize(("fmt", "text"), sorted(SAMPLE_TEXTS.items()))
def test_draw_plate_shape_follows_the_format(fmt: str, text: str) -> None:
    plate = draw_plate(text, fmt, np.random.default_rng(1))
    aspect = get_format(fmt).aspect
    assert plate.dtype == np.uint8
    assert plate.ndim == 3 and plate.shape[0] == 64 and plate.shape[2] == 3
    assert plate.shape[1] == pytest.approx(64 * aspect, rel=0.04)


@pytest.mark.parametrize("height", [8, 16, 33, 120])
def test_draw_plate_height(height: int) -> None:
    assert draw_plate("AA5149EK", "ua", np.random.default_rng(0), height=height).shape[0] == height


@pytest.mark.parametrize(("fmt", "text"), sorted(SAMPLE_TEXTS.items()))
def test_draw_plate_has_ink_on_its_background(fmt: str, text: str) -> None:
    grey = draw_plate(text, fmt, np.random.default_rng(3)).mean(axis=2)
    # The characters' row band holds both paper and ink, far apart in brightness.
    band = grey[20:44]
    assert np.percentile(band, 95) - np.percentile(band, 5) > 80


def test_draw_plate_is_deterministic_and_varies_with_the_seed() -> None:
    a = draw_plate("AA5149EK", "ua", np.random.default_rng(5))
    b = draw_plate("AA5149EK", "ua", np.random.default_rng(5))
    assert np.array_equal(a, b)
    others = [draw_plate("AA5149EK", "ua", np.random.default_rng(s)) for s in range(6, 12)]
    assert any(o.shape != a.shape or not np.array_equal(o, a) for o in others)


def test_draw_plate_differs_only_where_the_text_differs() -> None:
    a = draw_plate("AA5149EK", "ua", np.random.default_rng(2))
    b = draw_plate("AA5849EK", "ua", np.random.default_rng(2))
    cols = np.flatnonzero((a != b).any(axis=(0, 2)))
    assert cols.size > 0
    # The fourth of eight characters, after the blue band: well inside the plate's middle.
    assert 0.25 * a.shape[1] < cols.min() and cols.max() < 0.6 * a.shape[1]


@pytest.mark.parametrize(("fmt", "text", "hidden"), [("ua", "AA?149EK", 1), ("es", "12??BCD", 2)])
def test_question_mark_draws_a_uniform_grey_block(fmt: str, text: str, hidden: int) -> None:
    clear = text.replace("?", "8")
    a = draw_plate(clear, fmt, np.random.default_rng(4))
    b = draw_plate(text, fmt, np.random.default_rng(4))
    ys, xs = np.nonzero((a != b).any(axis=2))
    assert xs.size > 0
    block = b[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert np.ptp(block) == 0  # one flat grey, no trace of the character
    assert 0.5 * b.shape[0] < block.shape[0] < b.shape[0]
    # Character cells are at least half a character height wide.
    assert block.shape[1] > hidden * 0.5 * 0.6 * b.shape[0]


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("AA*EK", PlateTextError, r"'\*'"),
        ("", PlateTextError, "empty"),
        ("AA#149EK", PlateTextError, "'#'"),
        ("A" * 40, PlateTextError, "at most"),
    ],
)
def test_bad_text_is_rejected(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        draw_plate(text, "eu", np.random.default_rng(0))
    with pytest.raises(error, match=message):
        realistic_crop(text, "eu", np.random.default_rng(0))


def test_draw_plate_rejects_a_tiny_height() -> None:
    with pytest.raises(ValueError, match="at least 8 px"):
        draw_plate("AA5149EK", "ua", np.random.default_rng(0), height=5)


@pytest.mark.parametrize("difficulty", [-0.1, 1.5, float("nan")])
def test_realistic_crop_rejects_difficulty_out_of_range(difficulty: float) -> None:
    with pytest.raises(ValueError, match="difficulty"):
        realistic_crop("AA5149EK", "ua", np.random.default_rng(0), difficulty)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_realistic_crop_shape_and_dtype(fmt: str, difficulty: float) -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        crop = realistic_crop(random_plate_text(fmt, rng), fmt, rng, difficulty)
        assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
        assert crop.flags.c_contiguous
        h, w = crop.shape[:2]
        # A tight crop around a plate 12-80 px high, wider than tall.
        assert MIN_PLATE_HEIGHT * 0.8 <= h <= MAX_PLATE_HEIGHT * 2.5
        assert w > h


def test_realistic_crop_is_deterministic() -> None:
    a = realistic_crop("AA5149EK", "ua", np.random.default_rng(9))
    b = realistic_crop("AA5149EK", "ua", np.random.default_rng(9))
    assert np.array_equal(a, b)


def test_difficulty_zero_is_large_and_clean() -> None:
    rng = np.random.default_rng(0)
    crops = [realistic_crop("1234BCD", "es", rng, 0.0) for _ in range(50)]
    heights = [c.shape[0] for c in crops]
    assert min(heights) >= 40  # no far-away plates
    for crop in crops:  # dark characters on a light plate, high contrast
        grey = crop.mean(axis=2)
        assert np.percentile(grey, 95) - np.percentile(grey, 5) > 100


def test_full_difficulty_covers_far_plates_and_night() -> None:
    crops, _ = generate_batch(300, seed=3, difficulty=1.0)
    heights = np.array([c.shape[0] for c in crops])
    assert heights.min() < 20 and heights.max() > 70
    brightness = np.array([c.mean() for c in crops])
    assert (brightness < 70).mean() > 0.05  # night and dark exposures
    assert (brightness > 120).mean() > 0.3  # most are daylight
    # Infrared frames: green-tinted grey, green above red and blue.
    green = np.array([c[..., 1].mean() - max(c[..., 0].mean(), c[..., 2].mean()) for c in crops])
    assert (green > 15).mean() > 0.05


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_privacy_mask_in_a_crop_is_an_upright_flat_box(seed: int) -> None:
    # The same seed draws the same plate, place and light; only the masks differ.
    a = realistic_crop("1234BCD", "es", np.random.default_rng(seed), 0.0)
    b = realistic_crop("12??BCD", "es", np.random.default_rng(seed), 0.0)
    assert a.shape == b.shape
    ys, xs = np.nonzero(np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 40)
    assert xs.size > 0
    box = b[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(int)
    # Flat up to JPEG ringing at its edges.
    inner = box[2:-2, 2:-2]
    assert np.abs(inner - np.median(inner, axis=(0, 1))).max() <= 12
    # Over the third and fourth characters of seven: in the left half, not at the edge.
    assert 0.15 * b.shape[1] < xs.mean() < 0.6 * b.shape[1]


def test_generate_batch_sizes_texts_and_determinism() -> None:
    crops, texts = generate_batch(60, seed=42)
    assert len(crops) == len(texts) == 60
    assert all(c.dtype == np.uint8 and c.shape[2] == 3 for c in crops)
    fits = [any(_regex(f).fullmatch(t) for f in FORMATS.values()) for t in texts]
    assert all(fits)
    again, texts_again = generate_batch(60, seed=42)
    assert texts == texts_again
    assert all(np.array_equal(x, y) for x, y in zip(crops, again, strict=True))
    _, other = generate_batch(60, seed=43)
    assert other != texts


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_generate_batch_restricted_to_one_format(fmt: str) -> None:
    _, texts = generate_batch(40, seed=1, formats=[fmt])
    regex = _regex(get_format(fmt))
    assert all(regex.fullmatch(t) for t in texts)


def test_generate_batch_uses_every_format_by_default() -> None:
    _, texts = generate_batch(200, seed=8)
    found = {name for name in FORMATS for t in texts if _regex(FORMATS[name]).fullmatch(t)}
    assert found == set(FORMATS)


def test_generate_batch_masks() -> None:
    _, texts = generate_batch(100, seed=5, mask_prob=1.0)
    assert all(1 <= t.count("?") <= 3 for t in texts)
    _, some = generate_batch(200, seed=5, mask_prob=0.3)
    share = np.mean(["?" in t for t in some])
    assert 0.15 < share < 0.45
    _, none = generate_batch(100, seed=5, mask_prob=0.0)
    assert not any("?" in t for t in none)


def test_masked_texts_keep_their_visible_characters() -> None:
    _, texts = generate_batch(100, seed=6, mask_prob=1.0, formats=["es"])
    for text in texts:
        assert all(c in DIGITS or c == "?" for c in text[:4])
        assert all(c.isalpha() or c == "?" for c in text[4:])


def test_generate_batch_empty() -> None:
    assert generate_batch(0, seed=0) == ([], [])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be"),
        ({"mask_prob": 1.5}, "mask_prob"),
        ({"formats": []}, "formats is empty"),
        ({"formats": ["eu", "mars"]}, "'mars'"),
        ({"difficulty": 2.0}, "difficulty"),
    ],
)
def test_generate_batch_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"n": 3, "seed": 0} | kwargs
    with (
        pytest.raises(ValueError, match=message)
        if message != "'mars'"
        else pytest.raises(PlateFormatError, match=message)
    ):
        generate_batch(**args)  # type: ignore[arg-type]
