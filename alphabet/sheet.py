"""A contact sheet of synthetic crops, to see what the embedder is trained on."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.synth import generate_batch

#: (width, height) of one tile of the sheet, and tiles per row.
TILE = (240, 80)
COLUMNS = 5


def sample_sheet(
    count: int,
    seed: int,
    formats: Sequence[str] | None = None,
    difficulty: float = 1.0,
    mask_prob: float = 0.0,
) -> npt.NDArray[np.uint8]:
    """``count`` crops of generate_batch, each scaled to a 240x80 tile with its plate text
    written below it: (rows * 100, 1200, 3) BGR uint8. Raises ValueError for count < 1."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    crops, texts = generate_batch(count, seed, formats, difficulty, mask_prob)
    tile_w, tile_h = TILE
    rows = -(-count // COLUMNS)
    sheet = np.full((rows * (tile_h + 20), COLUMNS * tile_w, 3), 255, np.uint8)
    for i, (crop, text) in enumerate(zip(crops, texts, strict=True)):
        y, x = (i // COLUMNS) * (tile_h + 20), (i % COLUMNS) * tile_w
        sheet[y : y + tile_h, x : x + tile_w] = cv2.resize(crop, TILE, interpolation=cv2.INTER_AREA)
        cv2.putText(
            sheet,
            text,
            (x + 4, y + tile_h + 15),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return sheet
