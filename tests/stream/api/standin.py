"""A sighting sink over SQLite for the API tests while no store package is installed.

It stores what the service hands it (one row per passing plate, vectors searched
exactly), enough for the alert path; tests use the real store when it can be imported.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from stream.tracking import PassingPlate


@dataclass(frozen=True)
class StoredPlate:
    id: int
    camera: str
    seen_at: datetime
    reading: str
    reading_confidence: float
    vector: npt.NDArray[np.float32]
    crop_jpeg: bytes = b""


@dataclass(frozen=True)
class Hit:
    sighting: StoredPlate
    score: float


class StandInStore:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        self.rows: list[StoredPlate] = []
        self._ids = itertools.count(1)

    def _where(
        self, camera: str | None, since: datetime | None, until: datetime | None
    ) -> list[StoredPlate]:
        return [
            r
            for r in self.rows
            if (camera is None or r.camera == camera)
            and (since is None or r.seen_at >= since)
            and (until is None or r.seen_at < until)
        ]

    def search_vector(
        self,
        vector: Any,
        k: int,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Hit]:
        rows = self._where(camera, since, until)
        scored = sorted(((float(r.vector @ vector), r) for r in rows), key=lambda t: -t[0])
        return [Hit(r, s) for s, r in scored[:k]]

    def recent(
        self, camera: str | None, since: datetime | None, until: datetime | None, limit: int
    ) -> list[StoredPlate]:
        return sorted(self._where(camera, since, until), key=lambda r: r.seen_at)[::-1][:limit]

    def get(self, sighting_id: int) -> StoredPlate | None:
        return next((r for r in self.rows if r.id == sighting_id), None)

    def image(self, sighting_id: int, kind: str) -> bytes | None:
        row = self.get(sighting_id)
        return row.crop_jpeg if row is not None and kind == "crop" else None


class StandInSink:
    def __init__(self, url: str) -> None:
        self.store = StandInStore(url)

    def add(self, plates: Sequence[PassingPlate]) -> list[StoredPlate]:
        out = [
            StoredPlate(
                next(self.store._ids), p.camera, p.last_seen, p.reading,
                p.reading_confidence, p.vector, cv2.imencode(".jpg", p.crop)[1].tobytes(),
            )
            for p in plates
        ]  # fmt: skip
        self.store.rows.extend(out)
        return out

    def index_size(self) -> int:
        return len(self.store.rows)

    def close(self) -> None:
        self.store.engine.dispose()
