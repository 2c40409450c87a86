"""Cleaning plate crops into network input, driven by the model's spec.

A pipeline is a list of step names (``spec.preprocess``) applied to each crop in order.
The seed's cleaning is one such list (:data:`SEED_STEPS`): grayscale, bilateral filter
(d=13, sigma colour 5, sigma space 15), Otsu threshold, resize. The default model uses
``gray, resize, standardize``: it sees the gray levels and learns polarity and blur itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from model.spec import READING_ALPHABET, ModelSpec, SpecError
from platewatch.errors import PlatewatchError

#: The seed's cleaning, in its order; with the seed's 512x64 size it is :func:`seed_clean`.
SEED_STEPS = ("gray", "bilateral", "otsu", "resize")
SEED_SIZE = (512, 64)

Image = npt.NDArray[np.uint8]
Step = Callable[[np.ndarray, ModelSpec], np.ndarray]


class ImageError(PlatewatchError, ValueError):
    """An image cannot be used: empty, not uint8, wrong channel count, or not an image file."""


def check_image(image: object, index: int | None = None) -> Image:
    """Return image when it is a non-empty uint8 (h, w), (h, w, 1), (h, w, 3) or (h, w, 4)
    array; raise ImageError naming what is wrong otherwise."""
    where = "image" if index is None else f"image {index}"
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{where} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageError(f"{where} must be uint8 (0-255 pixels), got {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ImageError(f"{where} must be (h, w) gray or (h, w, 3) BGR, got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError(f"{where} is empty (shape {image.shape})")
    return image


def read_image(path: str | Path) -> Image:
    """Read an image file as (h, w, 3) BGR uint8; raise ImageError when it is not one."""
    p = Path(path)
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise ImageError(f"cannot read image file {p}: {exc.strerror or exc}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageError(f"{p} is not an image OpenCV can decode (JPEG, PNG, BMP, ...)")
    return np.asarray(image, np.uint8)


def _gray(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    if img.ndim == 2:
        return img
    if img.shape[2] == 1:
        return img[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(img, code)


def _bgr(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR) if img.shape[2] == 4 else img


def _bilateral(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    # The seed's settings: a wide window, but only near-equal grays are averaged.
    return cv2.bilateralFilter(img, 13, 5, 15)


def _otsu(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    _, binary = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary


def _resize(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    h, w = img.shape[:2]
    shrink = w > spec.width or h > spec.height
    return cv2.resize(
        img, (spec.width, spec.height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )


def _unit_range(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    return img.astype(np.float32) * np.float32(1 / 255)


def _standardize(img: np.ndarray, spec: ModelSpec) -> np.ndarray:
    # Per image: night shots and over-exposed plates land on one scale.
    x = img.astype(np.float32)
    return (x - x.mean()) / np.float32(max(float(x.std()), 4.0))


#: Registry of preprocessing steps; a spec names them in order.
STEPS: dict[str, Step] = {
    "gray": _gray,
    "bgr": _bgr,
    "bilateral": _bilateral,
    "otsu": _otsu,
    "resize": _resize,
    "unit_range": _unit_range,
    "standardize": _standardize,
}


def check_steps(steps: Sequence[str]) -> None:
    """Raise SpecError when a step name is not in :data:`STEPS`."""
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise SpecError(f"unknown preprocessing steps {unknown}; known: {sorted(STEPS)}")


def apply_steps(image: np.ndarray, steps: Sequence[str], spec: ModelSpec) -> np.ndarray:
    """image through the named steps (a part of a pipeline), nothing else."""
    for name in steps:
        image = STEPS[name](image, spec)
    return image


def prepare_one(
    image: Image, spec: ModelSpec, steps: Sequence[str] | None = None
) -> npt.NDArray[np.float32]:
    """One crop through the spec's steps (or the given tail of them, for an image already
    through the head): (height, width, channels) float32."""
    x = apply_steps(image, spec.preprocess if steps is None else steps, spec)
    if x.dtype != np.float32:
        x = x.astype(np.float32) * np.float32(1 / 255)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.shape != (spec.height, spec.width, spec.channels):
        raise SpecError(
            f"preprocessing {list(spec.preprocess)} gave shape {x.shape}, the model expects "
            f"{(spec.height, spec.width, spec.channels)}; check the spec's steps"
        )
    return x


def prepare_batch(images: Sequence[Image], spec: ModelSpec) -> npt.NDArray[np.float32]:
    """N crops (any size; BGR or gray uint8) → (N, height, width, channels) float32.

    Raises ImageError naming the first bad image.
    """
    check_steps(spec.preprocess)
    out = np.empty((len(images), spec.height, spec.width, spec.channels), np.float32)
    for i, image in enumerate(images):
        out[i] = prepare_one(check_image(image, i), spec)
    return out


def seed_clean(image: Image) -> Image:
    """The seed's cleaning, exactly: gray → bilateral(13, 5, 15) → Otsu → resize to 512x64.

    Returns (64, 512) uint8 holding 0 and 255 (before the resize's interpolation edges).
    """
    spec = ModelSpec(
        name="seed-clean", height=SEED_SIZE[1], width=SEED_SIZE[0], channels=1,
        preprocess=SEED_STEPS, arch="none", embedding_dim=1, alphabet=READING_ALPHABET,
    )  # fmt: skip
    x: np.ndarray = check_image(image)
    for name in SEED_STEPS:
        x = STEPS[name](x, spec)
    return x
