"""The real sighting sink: closed tracks written through the store package (store.open_store).

One data folder holds SQLite, the hnswlib index and the crop/frame images; with
``store.url`` set, rows go to that database and the folder keeps this process's index
cache and images.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from model.protocols import Embedder
from store.store import Store, open_store
from store.types import NewSighting, Sighting
from stream.config import StoreConfig
from stream.tracking import PassingPlate


def new_sighting(plate: PassingPlate, model_version: str) -> NewSighting:
    """What the store keeps of one passing plate: its best view and its times."""
    x, y, w, h = (float(v) for v in plate.box)
    return NewSighting(
        camera=plate.camera,
        first_seen=plate.first_seen,
        last_seen=plate.last_seen,
        embedding=plate.vector,
        model_version=model_version,
        frame_count=plate.hits,
        box=(x, y, w, h),
        crop=plate.crop,
        frame=plate.frame,
        frame_size=plate.frame_size,
        reading=plate.reading,
        reading_confidence=plate.reading_confidence,
        detector_score=plate.detection_score,
    )


class StoreSink:
    """Writes through one Store; called from the service's single store thread."""

    def __init__(self, store: Store, model_version: str) -> None:
        self.store = store
        self.model_version = model_version

    def add(self, plates: Sequence[PassingPlate]) -> list[Sighting]:
        return self.store.add_sightings([new_sighting(p, self.model_version) for p in plates])

    def index_size(self) -> int:
        return len(self.store.index)

    def close(self) -> None:
        self.store.close()


def open_sink(config: StoreConfig, data: Path, embedder: Embedder) -> StoreSink:
    """Open (creating and migrating) the store for ``embedder``'s vectors."""
    hnsw = config.hnsw.settings()
    target: str | Path = config.url or data
    store = open_store(target, embedder.dim, embedder.version, hnsw=hnsw, data_dir=data)
    return StoreSink(store, embedder.version)
