"""Training pairs: a realistic plate crop and the plate text it shows.

Crops come from ``alphabet.synth`` (realistic synthetic plates of every format) when it is
installed, from a small built-in degrader of the canonical render otherwise, and, when a
config names them, from real labelled crops (e.g. the ``train`` split of UC3M-LP) with
light augmentation. Each batch holds distinct plate texts (up to look-alikes), and a share
of them are *hard negatives*: another text of the batch with one or two characters changed.
"""

from __future__ import annotations

import csv
import importlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.glyphs import available_sets
from alphabet.render import render
from alphabet.text import DIGITS, LETTERS, UNKNOWN, lookalike_key, normalize
from model.preprocess import read_image
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

#: Fallback text layouts per format (L letter, N digit) when alphabet.formats is absent.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "ua": ("LLNNNNLL",),
    "eu": ("LLNNNLL", "LLNNNNLL", "LNNNLL", "LLLNNN", "LLNNLLL"),
    "br": ("LLLNNNN", "LLLNLNN"),
    "es": ("NNNNLLL", "LNNNNLL", "LLNNNNLL"),
    "us": ("NLLLNNN", "LLLNNNN", "NNNLLL", "LLLNNN", "NLLNNN", "LLNNNNN"),
}
# Characters confused by cameras but *not* the same plate (strict look-alikes O/0, I/1 are).
CONFUSIONS = {
    "8": "B6", "B": "8E", "5": "S6", "S": "5", "2": "Z7", "Z": "2", "6": "G5", "G": "6C",
    "C": "GO", "E": "FB", "F": "EP", "M": "NW", "N": "MH", "H": "NK", "K": "XH", "X": "KY",
    "U": "VO", "V": "UY", "W": "MV", "3": "8", "7": "1T", "T": "7Y", "4": "A", "A": "4",
    "P": "RF", "R": "PK", "L": "E1", "J": "1U", "Y": "VT",
}  # fmt: skip


class DataError(PlatewatchError):
    """A training data source is missing or malformed."""


@dataclass(frozen=True)
class DataConfig:
    """formats: plate formats to draw; difficulty: 0 (clean) .. 1 (very degraded);
    mask_prob: share of crops with characters hidden (``?``); hard_negatives: share of
    each batch made of near-duplicates; real: folders with labels.csv to mix in, each
    ``{"dir": ..., "split": ...}``; real_fraction: share of each batch taken from them;
    invert_prob: share of synthetic crops with inverted polarity (IR cameras, dark plates);
    own_degrade: share drawn by :func:`degrade` even when alphabet.synth is present (a
    second glyph set and a different degradation keep the model from fitting one drawer)."""

    formats: tuple[str, ...] = ("ua", "eu", "br", "es", "us")
    difficulty: float = 1.0
    mask_prob: float = 0.1
    hard_negatives: float = 0.25
    real: tuple[dict[str, str], ...] = field(default_factory=tuple)
    real_fraction: float = 0.0
    invert_prob: float = 0.2
    own_degrade: float = 0.15


def _synth() -> ModuleType | None:
    try:
        return importlib.import_module("alphabet.synth")
    except ImportError:
        return None


def random_text(fmt: str, rng: np.random.Generator) -> str:
    """A random plate text in one format's layout."""
    layout = LAYOUTS[fmt][int(rng.integers(len(LAYOUTS[fmt])))]
    return "".join(
        LETTERS[int(rng.integers(26))] if c == "L" else DIGITS[int(rng.integers(10))]
        for c in layout
    )


def near_duplicate(text: str, rng: np.random.Generator) -> str:
    """text with one or two characters changed, preferring characters a camera confuses."""
    chars = list(text)
    positions = [i for i, c in enumerate(chars) if c != UNKNOWN]
    count = 1 if rng.random() < 0.7 or len(positions) < 2 else 2
    for i in rng.choice(positions, size=min(count, len(positions)), replace=False):
        old = chars[int(i)]
        pool = CONFUSIONS.get(old, "") if rng.random() < 0.6 else ""
        if not pool:
            pool = DIGITS if old in DIGITS else LETTERS
        new = pool[int(rng.integers(len(pool)))]
        chars[int(i)] = new if lookalike_key(new) != lookalike_key(old) else chars[int(i)]
    return "".join(chars)


def mask_text(text: str, rng: np.random.Generator) -> str:
    """Hide one to three characters (``?``), as privacy masks do on published photos."""
    chars = list(text)
    for i in rng.choice(len(chars), size=int(rng.integers(1, 4)), replace=False):
        chars[int(i)] = UNKNOWN
    return "".join(chars)


def degrade(text: str, rng: np.random.Generator, difficulty: float = 1.0) -> Image:
    """A camera-like BGR crop of a plate text, built from the canonical glyphs.

    Plate margin, random ink/paper grays and polarity, a tint, a small perspective, low
    resolution, blur, noise and JPEG; ``?`` characters are drawn as gray privacy boxes.
    """
    sets = available_sets()
    glyph_set = sets[int(rng.integers(len(sets)))]
    h = 64
    w = int(h * len(text) * rng.uniform(0.55, 1.0))
    masked = [i for i, c in enumerate(text) if c == UNKNOWN]
    plain = "".join("8" if c == UNKNOWN else c for c in text)
    strip = render(plain, size=(w, h), glyph_set=glyph_set).astype(np.float32) / 255
    mx, my = int(w * rng.uniform(0.02, 0.12)), int(h * rng.uniform(0.08, 0.3))
    plate = np.pad(strip, ((my, my), (mx, mx)), constant_values=1.0)
    left = int(rng.uniform(0, 0.12) * w) if rng.random() < 0.4 else 0
    paper, ink = rng.uniform(0.55, 1.0), rng.uniform(0.0, 0.35) * difficulty
    gray = ink + (paper - ink) * plate
    if left:
        gray = np.hstack([np.full((gray.shape[0], left), rng.uniform(0.1, 0.5)), gray])
    if rng.random() < 0.5:
        gray = 1.0 - gray
    bgr = np.clip(gray[:, :, None] * rng.uniform(0.6, 1.0, size=3), 0, 1)
    for i in masked:
        x0 = left + mx + int(i * w / len(text))
        bgr[my : my + h, x0 : x0 + int(w / len(text)) + 1] = rng.uniform(0.4, 0.7)
    img: np.ndarray = (bgr * 255).astype(np.uint8)
    ph, pw = img.shape[:2]
    jitter = 0.06 * difficulty
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    dst = src + rng.uniform(-jitter, jitter, size=(4, 2)).astype(np.float32) * [pw, ph]
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    border = tuple(int(v) for v in rng.integers(0, 255, size=3))
    img = cv2.warpPerspective(img, m, (pw, ph), borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    target_h = int(rng.uniform(64 - 50 * difficulty, 64))
    scale = max(target_h, 10) / ph
    size = (max(int(pw * scale), 8), max(int(ph * scale), 8))
    small: np.ndarray = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.7 * difficulty:
        k = int(rng.integers(1, 3)) * 2 + 1
        small = cv2.GaussianBlur(small, (k, k), rng.uniform(0.3, 1.5) * difficulty)
    noise = rng.normal(0, rng.uniform(0, 14) * difficulty, small.shape)
    small = np.clip(small + noise, 0, 255).astype(np.uint8)
    quality = int(rng.uniform(95 - 80 * difficulty, 95))
    ok, enc = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(enc, cv2.IMREAD_COLOR) if ok else None
    return np.asarray(small if decoded is None else decoded, np.uint8)


def augment_real(img: Image, rng: np.random.Generator) -> Image:
    """Light augmentation of a real crop: shift/scale jitter, polarity, blur, JPEG."""
    h, w = img.shape[:2]
    dx, dy = rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.08, 0.08) * h
    s = rng.uniform(0.92, 1.08)
    m = np.array([[s, 0, dx + (1 - s) * w / 2], [0, s, dy + (1 - s) * h / 2]], np.float32)
    out: np.ndarray = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        out = 255 - out
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.2))
    return np.asarray(out, np.uint8)


class RealCrops:
    """Labelled crops read once from folders with labels.csv (file, plate_text[, split])."""

    def __init__(self, sources: tuple[dict[str, str], ...]) -> None:
        self.images: list[Image] = []
        self.texts: list[str] = []
        for src in sources:
            folder = Path(os.path.expandvars(src["dir"])).expanduser()
            labels = folder / "labels.csv"
            if not labels.exists():
                raise DataError(f"real training data {folder} has no labels.csv")
            split = src.get("split")
            with labels.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    if split and row.get("split") != split:
                        continue
                    self.images.append(read_image(folder / row["file"]))
                    self.texts.append(normalize(row["plate_text"], allow_patterns=True))
        log.info("real training crops: %d", len(self.images))

    def __len__(self) -> int:
        return len(self.images)


class PairSource:
    """Draws batches of (crop, text) pairs with distinct texts; deterministic per seed."""

    def __init__(self, config: DataConfig) -> None:
        self.config = config
        self.synth = _synth()
        self.real = RealCrops(config.real) if config.real else None
        log.info("training crops from %s", "alphabet.synth" if self.synth else "model.data.degrade")

    def _text(self, rng: np.random.Generator) -> tuple[str, str]:
        cfg = self.config
        fmt = cfg.formats[int(rng.integers(len(cfg.formats)))]
        synth = self.synth
        if synth is not None and hasattr(synth, "random_text"):
            return str(synth.random_text(fmt, rng)), fmt
        return random_text(fmt, rng), fmt

    def _crop(self, text: str, fmt: str, rng: np.random.Generator) -> Image:
        cfg, synth = self.config, self.synth
        difficulty = cfg.difficulty * rng.uniform(0.3, 1.0)
        if synth is not None and rng.random() >= cfg.own_degrade:
            crop = np.asarray(synth.realistic_crop(text, fmt, rng, difficulty), np.uint8)
        else:
            crop = degrade(text, rng, difficulty)
        return 255 - crop if rng.random() < cfg.invert_prob else crop

    def batch(self, n: int, seed: int) -> tuple[list[Image], list[str]]:
        """n crops (BGR uint8, sizes vary) and their n plate texts, all distinct plates."""
        rng = np.random.default_rng(seed)
        cfg = self.config
        crops: list[Image] = []
        texts: list[str] = []
        keys: set[str] = set()

        drawn: list[tuple[str, str]] = []  # (text, format) of synthetic plates, for negatives

        def add(crop: Image, text: str) -> None:
            key = lookalike_key(text)
            if key not in keys:
                keys.add(key)
                crops.append(crop)
                texts.append(text)

        if self.real is not None and cfg.real_fraction > 0:
            picks = rng.choice(len(self.real), size=int(n * cfg.real_fraction), replace=False)
            for i in picks:
                add(augment_real(self.real.images[int(i)], rng), self.real.texts[int(i)])
        while len(texts) < n:
            if drawn and rng.random() < cfg.hard_negatives:
                base, fmt = drawn[int(rng.integers(len(drawn)))]
                text = near_duplicate(base, rng)
            else:
                text, fmt = self._text(rng)
            if rng.random() < cfg.mask_prob:
                text = mask_text(text, rng)
            drawn.append((text, fmt))
            add(self._crop(text, fmt, rng), text)
        return crops, texts
