"""Plate formats: how the plates of one country look (layout, proportions, colours, fonts).

A format's ``patterns`` spell the visual layout: ``L`` a letter, ``N`` a digit, a space a
gap between groups and ``-`` a printed dash. The plate text itself never holds separators
(see alphabet.text.normalize); the pattern only says where the gaps go when drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphabet.text import DIGITS, LETTERS
from platewatch.errors import PlatewatchError

#: BGR colour, 0-255 per channel.
Colour = tuple[int, int, int]

#: Letters Ukrainian plates use: those Cyrillic and Latin share, written in Latin.
UA_LETTERS = "ABCEHIKMOPTX"
#: Spanish plates since 2000 leave out vowels, Q and the letters easily confused.
ES_LETTERS = "BCDFGHJKLMNPRSTVWXYZ"
#: US states commonly leave out I, O and Q.
US_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

PATTERN_SLOTS = {"L": "letter", "N": "digit"}
PATTERN_SEPARATORS = " -"


class PlateFormatError(PlatewatchError, KeyError):
    """An unknown plate format was asked for."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Palette:
    """One colour scheme: plate background, character ink and border (BGR), and how often
    it is drawn relative to the format's other palettes (``weight``)."""

    background: Colour
    ink: Colour
    border: Colour
    weight: float = 1.0


@dataclass(frozen=True)
class PlateFormat:
    """How one kind of plate looks.

    patterns: layouts with separators (``"LL NNNN LL"``); one is picked per plate.
    aspect: plate width / height of the physical plate.
    palettes: colour variants; one is picked per plate.
    glyph_sets: glyph sets (alphabet/glyphs) the characters may be drawn with.
    letters: letters that may appear where a pattern says ``L``.
    band: colour of a band at the left edge (EU blue band), or None.
    band_codes: country codes printed small in the band, one picked per plate.
    top_strip: True when a line of small text runs above the characters (state name,
        city name); drawn as a thin strip of fine marks, never as readable text.
    char_height: character height as a share of the plate height.
    """

    name: str
    patterns: tuple[str, ...]
    aspect: float
    palettes: tuple[Palette, ...]
    glyph_sets: tuple[str, ...] = ("din", "dejavu")
    letters: str = LETTERS
    band: Colour | None = None
    top_strip: bool = False
    char_height: float = 0.7
    band_codes: tuple[str, ...] = ("EU",)

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            bad = set(pattern) - set(PATTERN_SLOTS) - set(PATTERN_SEPARATORS)
            if bad:
                raise ValueError(
                    f"format {self.name!r}: pattern {pattern!r} holds {sorted(bad)}; "
                    "allowed: L (letter), N (digit), space and '-'"
                )
        if not self.palettes:
            raise ValueError(f"format {self.name!r} needs at least one palette")


_WHITE, _BLACK = (245, 245, 245), (20, 20, 20)
_EU_BLUE = (153, 51, 0)

FORMATS: dict[str, PlateFormat] = {
    "ua": PlateFormat(
        name="ua",
        patterns=("LL NNNN LL",),
        aspect=520 / 112,
        palettes=(
            Palette(_WHITE, _BLACK, _BLACK),
            Palette((230, 235, 235), (30, 30, 30), (30, 30, 30)),
            Palette((60, 200, 240), _BLACK, _BLACK, weight=0.2),  # yellow: buses, taxis
        ),
        glyph_sets=("din",),
        letters=UA_LETTERS,
        band=_EU_BLUE,
        band_codes=("UA",),
        char_height=0.72,
    ),
    "eu": PlateFormat(
        name="eu",
        patterns=("LL NNN LL", "LL-NNN LL", "LL NNNN LL", "L NNN LL", "LLL NNN", "LL NN LLL"),
        aspect=520 / 110,
        palettes=(
            Palette(_WHITE, _BLACK, _BLACK),
            Palette((225, 230, 230), (35, 35, 35), (35, 35, 35)),
            Palette((40, 205, 250), _BLACK, _BLACK, weight=0.3),  # yellow rear plates (NL, UK)
        ),
        band=_EU_BLUE,
        band_codes=("D", "F", "SK", "CZ", "NL", "PL", "I", "A", "B", "LT"),
        char_height=0.7,
    ),
    "br": PlateFormat(
        name="br",
        patterns=("LLL-NNNN",),
        aspect=400 / 130,
        palettes=(
            Palette((175, 178, 180), (35, 35, 35), (35, 35, 35)),  # grey, private cars
            Palette((200, 200, 200), (45, 45, 45), (45, 45, 45)),
            Palette((40, 40, 150), (235, 235, 235), (235, 235, 235), 0.5),  # red, commercial
            Palette((60, 60, 110), (215, 215, 215), (215, 215, 215), 0.5),
        ),
        glyph_sets=("din", "dejavu"),
        top_strip=True,
        char_height=0.62,
    ),
    "es": PlateFormat(
        name="es",
        patterns=("NNNN LLL",),
        aspect=520 / 110,
        palettes=(
            Palette(_WHITE, _BLACK, _BLACK),
            Palette((220, 222, 222), (30, 30, 30), (30, 30, 30)),
        ),
        glyph_sets=("din", "dejavu"),
        letters=ES_LETTERS,
        band=_EU_BLUE,
        band_codes=("E",),
        char_height=0.72,
    ),
    "us": PlateFormat(
        name="us",
        patterns=("NLLL NNN", "LLL NNNN", "LLL-NNNN", "NNN LLL", "LL NNNNN"),
        aspect=12 / 6,
        palettes=(
            Palette((240, 240, 240), (120, 40, 20), (120, 40, 20)),  # white, navy
            Palette((240, 240, 240), (30, 30, 160), (30, 30, 160)),  # white, red
            Palette((60, 210, 240), (30, 30, 30), (30, 30, 30)),  # yellow, black
            Palette((235, 225, 205), (40, 90, 20), (40, 90, 20)),  # light blue, green
            Palette((230, 235, 240), (20, 20, 20), (20, 20, 20)),
            Palette((110, 60, 20), (240, 240, 240), (240, 240, 240)),  # dark blue, white
        ),
        glyph_sets=("dejavu", "din"),
        letters=US_LETTERS,
        top_strip=True,
        char_height=0.5,
    ),
}


def pick_palette(plate_format: PlateFormat, rng: np.random.Generator) -> Palette:
    """One of the format's palettes, drawn in proportion to their weights."""
    weights = [p.weight for p in plate_format.palettes]
    u = rng.random() * sum(weights)
    for palette, weight in zip(plate_format.palettes, weights, strict=True):
        u -= weight
        if u < 0:
            return palette
    return plate_format.palettes[-1]


def get_format(name: str) -> PlateFormat:
    """The registered format called ``name``; PlateFormatError names the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise PlateFormatError(
            f"unknown plate format {name!r}; known: {', '.join(sorted(FORMATS))}"
        ) from None


def _pick(options: str | tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def random_plate_text(fmt: str | PlateFormat, rng: np.random.Generator) -> str:
    """A random valid plate text of a format: normalised, no separators (``"AA5149EK"``)."""
    plate_format = fmt if isinstance(fmt, PlateFormat) else get_format(fmt)
    pattern = _pick(plate_format.patterns, rng)
    slots = [plate_format.letters if c == "L" else DIGITS for c in pattern if c in PATTERN_SLOTS]
    draws = rng.random(len(slots))  # one call for all characters: it is the slow part
    return "".join(pool[int(u * len(pool))] for pool, u in zip(slots, draws, strict=True))


def layout(plate_text: str, plate_format: PlateFormat) -> str:
    """The pattern of ``plate_format`` that fits ``plate_text``, with its separators.

    Returns the pattern whose slots match the text's letters/digits (``?`` fits either);
    a text no pattern fits is laid out as one group of its own length, so any text can be
    drawn in any format's colours.
    """
    for pattern in plate_format.patterns:
        slots = [c for c in pattern if c in PATTERN_SLOTS]
        if len(slots) == len(plate_text) and all(
            ch == "?" or (s == "L") == (ch in LETTERS)
            for s, ch in zip(slots, plate_text, strict=True)
        ):
            return pattern
    for pattern in plate_format.patterns:  # same length: keep the format's grouping
        if sum(c in PATTERN_SLOTS for c in pattern) == len(plate_text):
            return pattern
    return "N" * len(plate_text)


def guess_format(plate_text: str) -> str:
    """The first format (in FORMATS order) with a pattern whose letters and digits fit
    ``plate_text`` slot by slot; ``"eu"`` when none does. Used to draw a given text."""
    for name, plate_format in FORMATS.items():
        for pattern in plate_format.patterns:
            slots = [c for c in pattern if c in PATTERN_SLOTS]
            if len(slots) == len(plate_text) and all(
                ch == "?" or (s == "L") == (ch in LETTERS)
                for s, ch in zip(slots, plate_text, strict=True)
            ):
                return name
    return "eu"
