"""What goes into the store and what comes out of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from platewatch.errors import PlatewatchError


class StoreError(PlatewatchError, ValueError):
    """A request the store cannot honour (bad input, unknown id); the message says why."""


class SightingNotFound(StoreError, LookupError):
    """No sighting has that id."""


@dataclass(frozen=True)
class NewSighting:
    """A pass of one plate in front of one camera, to be stored.

    embedding: (D,) float32 unit vector of the best crop.
    box: x, y, w, h of the best crop in its frame (pixels).
    crop: (h, w, 3) uint8 BGR best crop, written as a JPEG into the data folder.
    frame: optional (H, W, 3) uint8 BGR frame the crop came from (kept as a thumbnail).
    frame_size: (width, height) of the frame ``box`` is in, when ``frame`` was already
      scaled down; None: the size of ``frame``.
    """

    camera: str
    first_seen: datetime
    embedding: npt.NDArray[np.float32]
    model_version: str
    last_seen: datetime | None = None
    frame_count: int = 1
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    crop: npt.NDArray[np.uint8] | None = None
    frame: npt.NDArray[np.uint8] | None = None
    frame_size: tuple[int, int] | None = None
    reading: str = ""
    reading_confidence: float = 0.0
    detector_score: float = 0.0
    source_file: str | None = None


@dataclass(frozen=True)
class Sighting:
    """A stored sighting. Paths are relative to the data folder (None if not kept)."""

    id: int
    camera: str
    first_seen: datetime
    last_seen: datetime
    frame_count: int
    box: tuple[float, float, float, float]
    crop_path: str | None
    frame_path: str | None
    reading: str
    reading_confidence: float
    detector_score: float
    model_version: str
    vector: npt.NDArray[np.float32] = field(repr=False)
    source_file: str | None = None
    #: (width, height) of the frame the box was found in; None where no frame was kept.
    frame_size: tuple[int, int] | None = None

    @property
    def seen_at(self) -> datetime:
        return self.last_seen


@dataclass(frozen=True)
class Match:
    """A sighting found by a search: score in [-1, 1], best first.

    Text search scores by model.fusion (by default): score = (1 - w) * vector_score
    (cosine) + w * reading_score (how well the stored reading fits the query, in [0, 1]),
    with the model's weight w. Vector and image searches, and text search with
    ``blend_reading=0``, leave reading_score None and score == vector_score.
    """

    sighting: Sighting
    score: float
    vector_score: float
    reading_score: float | None = None


@dataclass(frozen=True)
class Camera:
    id: str
    url: str | None
    kind: str | None
    enabled: bool
    retention_days: float | None
    created_at: datetime
