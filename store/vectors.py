"""The hnswlib index: a derived cache of the embeddings held in SQL.

Labels are sighting ids. The index is saved to disk now and then and at close; at start it
is loaded and caught up from SQL (rows it lacks are added, labels whose row is gone are
marked deleted), so a crash can cost the cache some work, never a sighting.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HnswSettings:
    """M: graph links per node; ef_construction: build breadth; ef: search breadth.

    refresh_s: a search first catches up with rows other processes committed when this
    many seconds passed since the last catch-up (0: before every search; < 0: never).
    """

    # Measured at 1,000,000 sightings on the shipped model's embeddings (docs/store.md):
    # M 16 stalls at recall@10 0.975 even at ef 512 on many near-duplicate views of the
    # same plates; M 32 gives 0.999 at ef 256 in ~1 ms of CPU, for 752 MB per million
    # instead of 630. ef_construction barely matters above 100 and doubles the build at 200.
    m: int = 32
    ef_construction: int = 100
    ef: int = 256
    refresh_s: float = 1.0
    #: Threads for adding many rows at once (the catch-up from SQL); -1: every core.
    build_threads: int = -1


class VectorIndex:
    """A thread-safe cosine index over unit vectors, keyed by sighting id."""

    def __init__(self, dim: int, settings: HnswSettings | None = None, capacity: int = 1024):
        self.dim = dim
        self.settings = settings or HnswSettings()
        self._lock = threading.RLock()
        self._index = hnswlib.Index(space="ip", dim=dim)
        self._index.init_index(
            max_elements=max(capacity, 16),
            ef_construction=self.settings.ef_construction,
            M=self.settings.m,
            allow_replace_deleted=False,
        )
        self._index.set_ef(self.settings.ef)
        self._ids: set[int] = set()
        self._deleted: set[int] = set()
        #: Highest sighting id added; the catch-up from SQL starts after it.
        self.max_id = 0

    # --- writing --------------------------------------------------------------------

    def add(
        self, ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32], threads: int = 1
    ) -> None:
        """ids: (N,) sighting ids; vectors: (N, D) float32 unit vectors. Re-adding an id
        replaces its vector. threads: -1 for every core (catch-up of many rows)."""
        if len(ids) == 0:
            return
        with self._lock:
            needed = len(self._ids) + len(ids)
            capacity = self._index.get_max_elements()
            if needed > capacity:
                self._index.resize_index(max(needed, capacity * 2))
            for i in ids:
                if int(i) in self._deleted:
                    self._index.unmark_deleted(int(i))
                    self._deleted.discard(int(i))
            self._index.add_items(vectors, ids, num_threads=threads)
            self._ids.update(int(i) for i in ids)
            self.max_id = max(self.max_id, int(np.max(ids)))

    def remove(self, ids: list[int]) -> None:
        with self._lock:
            for i in ids:
                if i in self._ids and i not in self._deleted:
                    self._index.mark_deleted(i)
                    self._deleted.add(i)

    # --- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids) - len(self._deleted)

    def holds(self, sighting_id: int) -> bool:
        """Whether the index has a live vector for this sighting."""
        return not self.missing([sighting_id])

    def missing(self, ids: list[int]) -> list[int]:
        """Those of ``ids`` without a live vector in the index."""
        with self._lock:
            absent = set(ids) - self._ids
            return sorted(absent | (set(ids) & self._deleted))

    def memory_bytes(self) -> int:
        """What the index holds in memory (the size of its saved file)."""
        with self._lock:
            return int(self._index.index_file_size())

    def live_ids(self) -> set[int]:
        with self._lock:
            return self._ids - self._deleted

    def search(
        self, vector: npt.NDArray[np.float32], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The k nearest ids and their cosine similarities, best first."""
        with self._lock:
            n = len(self)
            if n == 0 or k <= 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            k = min(k, n)
            self._index.set_ef(max(self.settings.ef, k))
            labels, distances = self._index.knn_query(vector.reshape(1, -1), k=k, num_threads=1)
        return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)

    # --- persistence ----------------------------------------------------------------

    def save(self, folder: Path, model_version: str) -> None:
        """Write the index atomically (a crash mid-save leaves the previous one)."""
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            tmp = folder / "vectors.hnsw.tmp"
            self._index.save_index(str(tmp))
            meta = {
                "dim": self.dim,
                "max_id": self.max_id,
                "model_version": model_version,
                "deleted": sorted(self._deleted),
                "m": self.settings.m,
                "ef_construction": self.settings.ef_construction,
            }
            os.replace(tmp, folder / "vectors.hnsw")
            (folder / "vectors.json.tmp").write_text(json.dumps(meta))
            os.replace(folder / "vectors.json.tmp", folder / "vectors.json")

    @classmethod
    def load(
        cls, folder: Path, dim: int, model_version: str, settings: HnswSettings | None = None
    ) -> VectorIndex | None:
        """The saved index, or None when there is none or it does not fit (other model)."""
        meta_path, index_path = folder / "vectors.json", folder / "vectors.hnsw"
        if not (meta_path.exists() and index_path.exists()):
            return None
        try:
            meta = json.loads(meta_path.read_text())
            if meta["dim"] != dim or meta["model_version"] != model_version:
                log.info("saved index is for another model; rebuilding from SQL")
                return None
            out = cls(dim, settings, capacity=16)
            out._index = hnswlib.Index(space="ip", dim=dim)
            out._index.load_index(str(index_path), max_elements=0)
            out._index.set_ef(out.settings.ef)
            out._ids = {int(i) for i in out._index.get_ids_list()}
            out._deleted = {int(i) for i in meta.get("deleted", [])}
            out.max_id = int(meta["max_id"])
            return out
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("saved index at %s is unreadable (%s); rebuilding from SQL", folder, exc)
            return None
