"""The seed's binary synthetic plate: shape, values, glyph placement, the render command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphabet.glyphs import GLYPH_SIZE, GlyphSetError, available_sets, load_glyphs
from alphabet.render import RENDER_SIZE, render
from alphabet.text import PlateTextError
from platewatch.cli import main

REPO = Path(__file__).resolve().parents[2]


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels on which two binary images agree about ink."""
    return float(np.mean((a < 128) == (b < 128)))


def _check_cells(image: np.ndarray, text: str, glyph_set: str = "din") -> None:
    """Each 64-px cell of an 8-character render is its own glyph, and no other's."""
    glyphs = load_glyphs(glyph_set)
    for i, ch in enumerate(text):
        cell = image[:, i * GLYPH_SIZE : (i + 1) * GLYPH_SIZE]
        own = _agreement(cell, glyphs[ch])
        assert own > 0.97, f"cell {i} ({ch!r}) agrees with its glyph on only {own:.3f}"
        others = [_agreement(cell, glyphs[o]) for o in "0123456789ABEHKMX" if o != ch]
        assert own > max(others), f"cell {i} ({ch!r}) looks more like another glyph"


@pytest.mark.parametrize("glyph_set", available_sets())
@pytest.mark.parametrize("text", ["AA5149EK", "BI0001XC", "KA7777MM"])
def test_eight_characters_make_exactly_512x64_glyph_cells(text: str, glyph_set: str) -> None:
    image = render(text, glyph_set=glyph_set)
    assert image.shape == (64, 512)
    assert image.dtype == np.uint8
    assert set(np.unique(image)) == {0, 255}
    _check_cells(image, text, glyph_set)


@pytest.mark.parametrize(
    "text",
    [
        "A",  # one character, stretched
        "ABC123",  # six, stretched
        "1234BCD",  # seven (Spain)
        "AB123456CD",  # ten, squeezed
        "A" * 12,  # the longest text
    ],
)
def test_other_lengths_are_scaled_to_512x64(text: str) -> None:
    image = render(text)
    assert image.shape == (RENDER_SIZE[1], RENDER_SIZE[0])
    assert set(np.unique(image)) <= {0, 255}
    assert (image == 0).any() and (image == 255).any()


def test_scaled_render_keeps_characters_in_order() -> None:
    # Seven characters over 512 px: each sits in its own 512/7 px slot.
    text = "1234BCD"
    image = render(text)
    strip = cv2.resize(image, (GLYPH_SIZE * len(text), GLYPH_SIZE), interpolation=cv2.INTER_AREA)
    _, strip = cv2.threshold(strip, 127, 255, cv2.THRESH_BINARY)
    glyphs = load_glyphs("din")
    for i, ch in enumerate(text):
        cell = strip[:, i * GLYPH_SIZE : (i + 1) * GLYPH_SIZE]
        assert _agreement(cell, glyphs[ch]) > 0.93


@pytest.mark.parametrize("size", [(256, 32), (128, 32), (1024, 128)])
def test_render_size(size: tuple[int, int]) -> None:
    assert render("AA5149EK", size=size).shape == (size[1], size[0])


def test_unknown_character_draws_the_hidden_glyph() -> None:
    image = render("AA?149EK")
    hidden = load_glyphs("din")["?"]
    assert _agreement(image[:, 2 * 64 : 3 * 64], hidden) > 0.97
    _check_cells(np.hstack([image[:, :128], image[:, 192:]]), "AA149EK")


def test_render_normalises_first() -> None:
    assert np.array_equal(render("аа 5149-ек"), render("AA5149EK"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AA*EK", r"'\*'"),  # a run of unknown length has no picture
        ("", "empty"),
        ("AA#149EK", "'#'"),
    ],
)
def test_render_rejects(text: str, message: str) -> None:
    with pytest.raises(PlateTextError, match=message):
        render(text)


def test_unknown_glyph_set_names_the_known_ones() -> None:
    with pytest.raises(GlyphSetError, match="din"):
        render("AA5149EK", glyph_set="comic")


def test_render_command_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.png"
    assert main(["render", "AA5149EK", "-o", str(out)]) == 0
    assert "512x64" in capsys.readouterr().out
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.shape == (64, 512)
    assert set(np.unique(image)) == {0, 255}
    _check_cells(image, "AA5149EK")


def test_render_command_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "plates" / "x.png"
    done = subprocess.run(
        [sys.executable, "-m", "platewatch", "render", "АА5149ЕК", "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    image = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    assert image is not None and image.shape == (64, 512)
    _check_cells(image, "AA5149EK")


def test_render_command_rejects_lossy_output(tmp_path: Path) -> None:
    assert main(["render", "AA5149EK", "-o", str(tmp_path / "x.jpg")]) != 0
    assert not (tmp_path / "x.jpg").exists()
