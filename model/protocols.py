"""The one-method (or nearly) interfaces the rest of the system programs against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from model.types import Embeddings, Frame, PlateDetections


class Detector(Protocol):
    """Finds plates in a frame. Backends are picked by name (model.detect.create_detector)."""

    name: str

    def detect(self, frame: Frame) -> PlateDetections: ...


class Embedder(Protocol):
    """Turns plate images, and plate texts through their synthetic render, into unit vectors.

    Both sides go through the same network, so a crop and the text it shows land close
    together under cosine similarity.
    """

    #: Embedding size D.
    dim: int
    #: Identifies the weights (name and content hash); stored with every sighting.
    version: str

    def embed_crops(
        self,
        crops: Sequence[npt.NDArray[np.uint8]],
        readings: Sequence[str] | None = None,
        confidences: npt.NDArray[np.float32] | None = None,
    ) -> Embeddings:
        """crops: N plate images, (h, w, 3) BGR or (h, w) gray uint8, any size.
        readings, confidences: optional N texts already read on the crops ("" where not
        read) and their (N,) confidences in [0, 1]; a crop with a reading is not read again.

        Returns N unit vectors with the reading of each crop. Raises ImageError for an
        image that is empty or not uint8.
        """
        ...

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        """texts: N plate texts (``?`` allowed). Each is rendered and embedded; the
        readings returned are the normalised texts. Raises PlateTextError."""
        ...
