from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from model.preprocess import (
    SEED_STEPS,
    ImageError,
    prepare_batch,
    read_image,
    seed_clean,
)
from model.spec import ModelSpec, SpecError
from tests.model.conftest import synthetic_crop


def spec_with(steps: tuple[str, ...], channels: int = 1) -> ModelSpec:
    return ModelSpec(
        name="t", height=32, width=128, channels=channels, preprocess=steps,
        arch="plate_encoder", embedding_dim=8,
    )  # fmt: skip


def test_seed_clean_is_the_seeds_exact_steps() -> None:
    crop = synthetic_crop("AB1234CD", seed=3)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    smooth = cv2.bilateralFilter(gray, 13, 5, 15)
    _, binary = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    interp = cv2.INTER_AREA if binary.shape[1] > 512 else cv2.INTER_LINEAR
    expected = cv2.resize(binary, (512, 64), interpolation=interp)
    out = seed_clean(crop)
    assert out.shape == (64, 512) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)
    assert SEED_STEPS == ("gray", "bilateral", "otsu", "resize")


@pytest.mark.parametrize(
    ("steps", "channels", "check"),
    [
        # the default: gray levels standardised per image (mean 0, std 1)
        (("gray", "resize", "standardize"), 1, lambda x: abs(x.mean()) < 1e-4),
        # the scaled seed: binary image in [0, 1]
        (("gray", "bilateral", "otsu", "resize", "unit_range"), 1, lambda x: x.min() >= 0),
        # colour input kept as BGR
        (("bgr", "resize", "unit_range"), 3, lambda x: x.max() <= 1.0),
    ],
)
def test_pipelines(steps: tuple[str, ...], channels: int, check: object) -> None:
    crops = [synthetic_crop("AA5149EK", seed=i) for i in range(3)]
    crops.append(cv2.cvtColor(crops[0], cv2.COLOR_BGR2GRAY))  # gray input is accepted too
    x = prepare_batch(crops, spec_with(steps, channels))
    assert x.shape == (4, 32, 128, channels) and x.dtype == np.float32
    assert all(check(xi) for xi in x)  # type: ignore[operator]


def test_polarity_is_kept_for_the_network() -> None:
    # The default pipeline does not threshold: inverting a crop inverts its input.
    crop = synthetic_crop("KA1234XX", seed=1)
    spec = spec_with(("gray", "resize", "standardize"))
    a, b = prepare_batch([crop, 255 - crop], spec)
    np.testing.assert_allclose(a, -b, atol=1e-4)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((0, 10, 3), np.uint8), "empty"),  # no rows
        (np.zeros((10, 0), np.uint8), "empty"),  # no columns
        (np.zeros((10, 10, 3), np.float32), "uint8"),  # float pixels
        (np.zeros((10, 10, 2), np.uint8), "shape"),  # two channels
        (np.zeros((2, 10, 10, 3), np.uint8), "shape"),  # a batch, not an image
        ("not an array", "numpy array"),
    ],
)
def test_bad_images(image: object, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        prepare_batch([image], spec_with(("gray", "resize", "standardize")))  # type: ignore[list-item]


def test_unknown_step() -> None:
    with pytest.raises(SpecError, match="unknown preprocessing steps"):
        prepare_batch([np.zeros((8, 8), np.uint8)], spec_with(("gray", "sharpen")))


def test_read_image(tmp_path: Path) -> None:
    crop = synthetic_crop("AB123", seed=2)
    cv2.imwrite(str(tmp_path / "ok.png"), crop)
    np.testing.assert_array_equal(read_image(tmp_path / "ok.png"), crop)
    (tmp_path / "notes.txt").write_text("a plate list, not a picture")
    (tmp_path / "empty.jpg").write_bytes(b"")
    for name in ("notes.txt", "empty.jpg"):
        with pytest.raises(ImageError, match="not an image"):
            read_image(tmp_path / name)
    with pytest.raises(ImageError, match="cannot read"):
        read_image(tmp_path / "missing.jpg")
