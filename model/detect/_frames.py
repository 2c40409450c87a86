"""Checks every backend runs on a frame before looking at it."""

from __future__ import annotations

import math

import cv2
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


def search_parts(
    frame: Frame, pixels: npt.NDArray[np.uint8]
) -> list[tuple[int, int, npt.NDArray[np.uint8]]]:
    """(x, y, pixels) of each part of the frame a detector should search: the frame's
    motion regions (``Frame.regions``), or the whole frame when it names none. Parts too
    small to hold a plate are left out."""
    if not frame.regions:
        return [(0, 0, pixels)]
    return [
        (x, y, pixels[y : y + h, x : x + w])
        for x, y, w, h in frame.regions
        if min(w, h) >= MIN_SIDE
    ]


def scale_frame(
    pixels: npt.NDArray[np.uint8], max_side: int
) -> tuple[npt.NDArray[np.uint8], float]:
    """The frame scaled so its longer side is ``max_side`` pixels (small frames scaled up),
    and the scale (scaled pixels per frame pixel)."""
    h, w = pixels.shape[:2]
    scale = max_side / max(h, w)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(pixels, (sw, sh), interpolation=interp), np.uint8), scale


def scaled_windows(
    frame: Frame, pixels: npt.NDArray[np.uint8], max_side: int, stride: int
) -> tuple[float, list[tuple[int, int, npt.NDArray[np.uint8]]]]:
    """The parts of a frame a network should search, cut from the frame scaled once.

    Returns the scale and (x, y, window) for each part: the whole scaled frame when the
    frame names no regions, else each region mapped into the scaled frame and grown out to
    multiples of ``stride`` (x, y: the window's top-left in scaled pixels). A window thus
    holds exactly the pixels, on the same grid, that the whole-frame search would see
    there, at its share of the cost (a network that pools over its whole input can still
    answer a little differently on a window: docs/detection.md). Regions too small to hold
    a plate are left out.
    """
    small, scale = scale_frame(pixels, max_side)
    if not frame.regions:
        return scale, [(0, 0, small)]
    sh, sw = small.shape[:2]
    windows = []
    for x, y, w, h in frame.regions:
        if min(w, h) < MIN_SIDE:
            continue
        x0, y0 = int(x * scale // stride * stride), int(y * scale // stride * stride)
        x1 = min(sw, math.ceil((x + w) * scale / stride) * stride)
        y1 = min(sh, math.ceil((y + h) * scale / stride) * stride)
        if x1 > x0 and y1 > y0:
            windows.append((x0, y0, small[y0:y1, x0:x1]))
    return scale, windows


def part_side(max_side: int, part: npt.NDArray[np.uint8], whole: npt.NDArray[np.uint8]) -> int:
    """The ``max_side`` that scales a part of a frame as ``max_side`` scales the whole
    frame, so searching a part costs its share of the frame."""
    return max(1, round(max_side * max(part.shape[:2]) / max(whole.shape[:2])))
