"""Plate formats: the registry, random texts that fit each format, layouts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from alphabet.formats import (
    FORMATS,
    Palette,
    PlateFormat,
    PlateFormatError,
    get_format,
    guess_format,
    layout,
    pick_palette,
    random_plate_text,
)
from alphabet.text import normalize
from platewatch.errors import PlatewatchError


def _regex(pattern: str, letters: str) -> re.Pattern[str]:
    slots = {"L": f"[{letters}]", "N": "[0-9]"}
    return re.compile("".join(slots[c] for c in pattern if c in slots))


def test_required_formats_are_registered() -> None:
    assert {"ua", "eu", "br", "es", "us"} <= set(FORMATS)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_random_text_fits_a_pattern_of_its_format(name: str) -> None:
    fmt = get_format(name)
    rng = np.random.default_rng(1)
    for _ in range(200):
        text = random_plate_text(name, rng)
        assert text == normalize(text)  # normalised, no separators
        assert any(_regex(p, fmt.letters).fullmatch(text) for p in fmt.patterns), text


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_random_text_is_deterministic_and_varied(name: str) -> None:
    a = [random_plate_text(name, np.random.default_rng(7)) for _ in range(3)]
    assert len(set(a)) == 1
    rng = np.random.default_rng(7)
    assert len({random_plate_text(name, rng) for _ in range(50)}) > 40


@pytest.mark.parametrize(
    ("name", "text", "pattern"),
    [
        ("ua", "AA5149EK", "LL NNNN LL"),
        ("br", "ABC1234", "LLL-NNNN"),
        ("es", "1234BCD", "NNNN LLL"),
        ("es", "12??BCD", "NNNN LLL"),  # '?' fits any slot
        ("eu", "BA123CD", "LL NNN LL"),
        ("us", "7ABC123", "NLLL NNN"),
        ("us", "ABC1234", "LLL NNNN"),
        ("es", "ABC", "NNN"),  # no pattern fits: one group
    ],
)
def test_layout(name: str, text: str, pattern: str) -> None:
    assert layout(text, get_format(name)) == pattern


@pytest.mark.parametrize(
    ("text", "name"),
    [("AA5149EK", "ua"), ("ABC1234", "br"), ("1234BCD", "es"), ("7ABC123", "us"), ("X", "eu")],
)
def test_guess_format(text: str, name: str) -> None:
    assert guess_format(text) == name


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(PlateFormatError) as info:
        get_format("mars")
    message = str(info.value)
    assert "'mars'" in message
    assert all(name in message for name in FORMATS)
    assert isinstance(info.value, PlatewatchError)
    assert isinstance(info.value, KeyError)


def test_random_text_of_unknown_format() -> None:
    with pytest.raises(PlateFormatError, match="mars"):
        random_plate_text("mars", np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patterns": ("LL#NN",)}, "'#'"),
        ({"palettes": ()}, "palette"),
    ],
)
def test_bad_format_definitions_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "name": "xx",
        "patterns": ("LL NN",),
        "aspect": 4.0,
        "palettes": (Palette((255, 255, 255), (0, 0, 0), (0, 0, 0)),),
    }
    with pytest.raises(ValueError, match=message):
        PlateFormat(**(base | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_palettes_are_drawn_by_weight(name: str) -> None:
    fmt = get_format(name)
    rng = np.random.default_rng(3)
    draws = [pick_palette(fmt, rng) for _ in range(4000)]
    total = sum(p.weight for p in fmt.palettes)
    for palette in fmt.palettes:
        share = sum(d is palette for d in draws) / len(draws)
        assert share == pytest.approx(palette.weight / total, abs=0.03)
