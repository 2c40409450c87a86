"""Crop and frame images kept beside the database, under the data folder."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from store.types import StoreError

#: Longest side of a kept frame thumbnail, pixels.
FRAME_THUMB_SIDE = 640


def _check_image(image: npt.NDArray[np.uint8], what: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise StoreError(f"{what} must be a uint8 image array (h, w[, 3])")
    if min(image.shape[:2]) < 1:
        raise StoreError(f"{what} is empty ({image.shape})")


def thumbnail(image: npt.NDArray[np.uint8], max_side: int) -> npt.NDArray[np.uint8]:
    """``image`` scaled down (area averaging) so its longest side is at most ``max_side``
    pixels; the image itself when it is no larger (or ``max_side`` is 0)."""
    if not max_side or max(image.shape[:2]) <= max_side:
        return image
    scale = max_side / max(image.shape[:2])
    return np.asarray(
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
    )


def write_jpeg(
    root: Path, kind: str, when: datetime, image: npt.NDArray[np.uint8], max_side: int = 0
) -> str:
    """Write ``image`` (scaled down to ``max_side``, if given) under root/kind/YYYY/MM/DD/
    and return its path relative to root."""
    _check_image(image, kind)
    image = thumbnail(image, max_side)
    rel = Path(kind) / f"{when:%Y/%m/%d}" / f"{uuid.uuid4().hex}.jpg"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise StoreError(f"could not encode the {kind} image")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.tobytes())
    os.replace(tmp, path)
    return rel.as_posix()


def remove_files(root: Path, rel_paths: list[str | None]) -> None:
    for rel in rel_paths:
        if rel:
            (root / rel).unlink(missing_ok=True)
