"""Checks every backend runs on a frame before looking at it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from model.types import Frame

#: Frames smaller than this on either side cannot hold a readable plate.
MIN_SIDE = 8


def usable_pixels(frame: Frame) -> npt.NDArray[np.uint8] | None:
    """The frame's BGR pixels, or None when the frame is too small to hold a plate.

    Frame itself refuses anything that is not (H, W, 3) uint8, so a grey image or a float
    array fails when the frame is made, with a message naming the shape.
    """
    if min(frame.height, frame.width) < MIN_SIDE:
        return None
    return np.ascontiguousarray(frame.pixels)
