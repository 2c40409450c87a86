"""The sighting store: SQL rows (the truth) plus the vector index (a cache of them)."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine, Row

from store import schema
from store.db import is_url, make_engine, migrate
from store.files import FRAME_THUMB_SIDE, remove_files, write_jpeg
from store.pgvectors import PgVectorIndex, has_pgvector, sightings_vec
from store.types import Camera, NewSighting, Sighting, SightingNotFound, StoreError
from store.vectors import HnswSettings, VectorIndex

log = logging.getLogger(__name__)
S = schema.sightings
#: Ids this far below the index's highest one are re-checked at each catch-up: on
#: PostgreSQL a lower id can commit after a higher one, and SQLite reuses the highest id
#: after it was deleted.
CATCH_UP_WINDOW = 1000
#: Vector backends open_store accepts.
VECTOR_BACKENDS = ("auto", "hnswlib", "pgvector")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _vector_bytes(vector: npt.NDArray[np.float32], dim: int) -> bytes:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if v.shape != (dim,):
        raise StoreError(f"embedding must have {dim} values, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise StoreError("embedding holds NaN or infinity")
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        raise StoreError("embedding is all zeros")
    return (v / norm).astype("<f4").tobytes()


def _from_bytes(blob: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _size(width: int | None, height: int | None) -> tuple[int, int] | None:
    return (int(width), int(height)) if width and height else None


def _frame_size(s: NewSighting) -> tuple[int | None, int | None]:
    """(width, height) of the frame a new sighting's box is in: its stated size, else its
    frame's; (None, None) without a frame."""
    if s.frame is None:
        return None, None
    if s.frame_size is None:
        return int(s.frame.shape[1]), int(s.frame.shape[0])
    width, height = s.frame_size
    if int(width) < 1 or int(height) < 1:
        raise StoreError(f"frame_size must be a positive (width, height), not {s.frame_size}")
    return int(width), int(height)


def sighting_of(row: Row[Any]) -> Sighting:
    m = row._mapping
    return Sighting(
        id=int(m["id"]),
        camera=m["camera_id"],
        first_seen=_utc(m["first_seen"]),
        last_seen=_utc(m["last_seen"]),
        frame_count=int(m["frame_count"]),
        box=(float(m["box_x"]), float(m["box_y"]), float(m["box_w"]), float(m["box_h"])),
        crop_path=m["crop_path"],
        frame_path=m["frame_path"],
        reading=m["reading"] or "",
        reading_confidence=float(m["reading_confidence"]),
        detector_score=float(m["detector_score"]),
        model_version=m["model_version"],
        vector=_from_bytes(m["embedding"]),
        source_file=m["source_file"],
        frame_size=_size(m["frame_width"], m["frame_height"]),
    )


class Store:
    """Sightings, cameras and the vector index behind one thread-safe object.

    Use :func:`open_store`. Writes commit the rows first and then update the index, so a
    crash between the two leaves rows the index lacks — caught up at the next open —
    and never a vector without its row.
    """

    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        dim: int,
        model_version: str,
        hnsw: HnswSettings | None = None,
        pgvector: bool = False,
    ) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.dim = dim
        self.model_version = model_version
        self.hnsw = hnsw or HnswSettings()
        #: True: vectors are searched by PostgreSQL (pgvector); False: by hnswlib here.
        self.pgvector = pgvector
        self._table = sightings_vec if pgvector else S
        self._write_lock = threading.RLock()
        self._adds_since_save = 0
        self._refreshed = time.monotonic()
        #: Ids of rows this process updated or deleted since the reading index
        #: (store.readings) last looked; None until one asks.
        self._reading_changes: set[int] | None = None
        self.index: VectorIndex | PgVectorIndex = self._load_index()

    # --- the index cache ------------------------------------------------------------

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def _load_index(self) -> VectorIndex | PgVectorIndex:
        if self.pgvector:
            pg = PgVectorIndex(self.engine, self.dim, self.model_version, self.hnsw)
            filled = pg.backfill()
            if filled:
                log.info("pgvector: %d stored vectors copied into sightings.vec", filled)
            return pg
        index = VectorIndex.load(self.index_dir, self.dim, self.model_version, self.hnsw)
        if index is None:
            index = VectorIndex(self.dim, self.hnsw, capacity=max(1024, self.count()))
        self._catch_up(index, full=True)
        return index

    def _catch_up(self, index: VectorIndex, full: bool = False) -> int:
        """Add rows the index lacks; with ``full``, also drop labels whose row is gone."""
        added = 0
        with self._write_lock, self.engine.connect() as conn:
            if full:
                live = {int(i) for (i,) in conn.execute(select(S.c.id))}
                gone = index.live_ids() - live
                if gone:
                    index.remove(sorted(gone))
                    log.info("index: %d vectors without a row dropped", len(gone))
            mine = S.c.model_version == self.model_version
            # Late commits and reused ids just below the high-water mark.
            recent = conn.execute(
                select(S.c.id).where(
                    S.c.id > max(0, index.max_id - CATCH_UP_WINDOW),
                    S.c.id <= index.max_id,
                    mine,
                )
            )
            missing = index.missing([int(i) for (i,) in recent])
            late = [
                conn.execute(
                    select(S.c.id, S.c.embedding).where(S.c.id.in_(missing[i : i + 900]))
                ).all()
                for i in range(0, len(missing), 900)
            ]
            query = (
                select(S.c.id, S.c.embedding)
                .where(S.c.id > index.max_id, mine)
                .order_by(S.c.id)
                .execution_options(yield_per=5000)
            )
            for part in itertools.chain(late, conn.execute(query).partitions(5000)):
                ids = np.array([r[0] for r in part], np.int64)
                vecs = np.stack([_from_bytes(r[1]) for r in part])
                index.add(ids, vecs, threads=self.hnsw.build_threads)
                added += len(ids)
        if added:
            log.info("index: caught up %d vectors from SQL", added)
        return added

    def refresh(self) -> int:
        """Catch up with rows other processes wrote (PostgreSQL shared by many services,
        or a ``platewatch index`` beside the service). Returns how many were added."""
        self._refreshed = time.monotonic()
        if isinstance(self.index, PgVectorIndex):
            return 0  # the server sees every committed row
        return self._catch_up(self.index)

    def refresh_if_due(self) -> None:
        """:meth:`refresh` when ``hnsw.refresh_s`` has passed since the last one (searches
        call this first, so they see what other processes committed)."""
        if self.hnsw.refresh_s >= 0 and time.monotonic() - self._refreshed >= self.hnsw.refresh_s:
            self.refresh()

    def take_reading_changes(self) -> set[int]:
        """Ids updated or deleted here since the last call (store.readings keeps in step
        with them); starts recording on the first call."""
        with self._write_lock:
            changed, self._reading_changes = self._reading_changes or set(), set()
        return changed

    def _reading_changed(self, ids: Iterable[int]) -> None:
        if self._reading_changes is not None:
            self._reading_changes.update(int(i) for i in ids)

    def save_index(self) -> None:
        self.index.save(self.index_dir, self.model_version)
        self._adds_since_save = 0

    def close(self) -> None:
        try:
            self.save_index()
        finally:
            self.engine.dispose()

    # --- sightings ------------------------------------------------------------------

    def add_sightings(self, new: Sequence[NewSighting]) -> list[Sighting]:
        """Store sightings in one transaction; durable when this returns."""
        if not new:
            return []
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        for s in new:
            if not s.camera:
                raise StoreError("a sighting needs a camera name")
            first = _utc(s.first_seen)
            width, height = _frame_size(s)
            rows.append(
                {
                    "camera_id": s.camera,
                    "first_seen": first,
                    "last_seen": _utc(s.last_seen) if s.last_seen else first,
                    "frame_count": max(1, int(s.frame_count)),
                    "box_x": float(s.box[0]),
                    "box_y": float(s.box[1]),
                    "box_w": float(s.box[2]),
                    "box_h": float(s.box[3]),
                    "crop_path": None,
                    "frame_path": None,
                    "source_file": s.source_file,
                    "frame_width": width,
                    "frame_height": height,
                    "reading": s.reading[:32],
                    "reading_confidence": float(s.reading_confidence),
                    "detector_score": float(s.detector_score),
                    "embedding": _vector_bytes(s.embedding, self.dim),
                    "model_version": s.model_version,
                    "created_at": now,
                }
            )
            if self.pgvector:
                rows[-1]["vec"] = _from_bytes(rows[-1]["embedding"])
        # Image files first: a crash after them leaves an orphan file, never a row
        # pointing at nothing.
        for row, s in zip(rows, new, strict=True):
            if s.crop is not None:
                row["crop_path"] = write_jpeg(self.data_dir, "crops", row["first_seen"], s.crop)
            if s.frame is not None:
                row["frame_path"] = write_jpeg(
                    self.data_dir, "frames", row["first_seen"], s.frame, FRAME_THUMB_SIDE
                )
        with self._write_lock:
            with self.engine.begin() as conn:
                result = conn.execute(insert(self._table).returning(self._table.c.id), rows)
                ids = [int(r[0]) for r in result]
            current = [
                (i, r)
                for i, r in zip(ids, rows, strict=True)
                if r["model_version"] == self.model_version
            ]
            if current:
                self.index.add(
                    np.array([i for i, _ in current], np.int64),
                    np.stack([_from_bytes(r["embedding"]) for _, r in current]),
                )
            self._adds_since_save += len(ids)
            if self._adds_since_save >= 10_000:
                self.save_index()
        return [sighting_of_dict(i, r) for i, r in zip(ids, rows, strict=True)]

    def get_sighting(self, sighting_id: int) -> Sighting:
        with self.engine.connect() as conn:
            row = conn.execute(select(S).where(S.c.id == int(sighting_id))).first()
        if row is None:
            raise SightingNotFound(f"no sighting with id {sighting_id}")
        return sighting_of(row)

    def get_sightings(self, ids: Iterable[int]) -> dict[int, Sighting]:
        ids = [int(i) for i in ids]
        out: dict[int, Sighting] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                for row in conn.execute(select(S).where(S.c.id.in_(chunk))):
                    s = sighting_of(row)
                    out[s.id] = s
        return out

    def list_sightings(
        self,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Sighting]:
        """Sightings newest first, filtered by camera and time."""
        if limit < 0 or offset < 0:
            raise StoreError("offset and limit must not be negative")
        query = select(S).order_by(S.c.last_seen.desc(), S.c.id.desc())
        query = _filtered(query, camera, since, until).offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [sighting_of(r) for r in conn.execute(query)]

    def count(self, camera: str | None = None) -> int:
        query = _filtered(select(func.count()).select_from(S), camera, None, None)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def update_sighting(
        self,
        sighting_id: int,
        *,
        last_seen: datetime,
        frame_count_add: int,
        better: NewSighting | None = None,
    ) -> Sighting:
        """Merge another view into a stored sighting (dedup): extend its time span and
        frame count; with ``better``, replace its crop, box, reading and vector."""
        old = self.get_sighting(sighting_id)
        values: dict[str, Any] = {
            "last_seen": max(old.last_seen, _utc(last_seen)),
            "frame_count": old.frame_count + max(0, frame_count_add),
        }
        if better is not None:
            values |= {
                "box_x": float(better.box[0]),
                "box_y": float(better.box[1]),
                "box_w": float(better.box[2]),
                "box_h": float(better.box[3]),
                "reading": better.reading[:32],
                "reading_confidence": float(better.reading_confidence),
                "detector_score": float(better.detector_score),
                "embedding": _vector_bytes(better.embedding, self.dim),
            }
            if self.pgvector:
                values["vec"] = _from_bytes(values["embedding"])
            if better.crop is not None:
                values["crop_path"] = write_jpeg(
                    self.data_dir, "crops", old.first_seen, better.crop
                )
        with self._write_lock:
            with self.engine.begin() as conn:
                T = self._table
                conn.execute(update(T).where(T.c.id == old.id).values(**values))
                self._reading_changed([old.id])
            if better is not None:
                self.index.add(np.array([old.id], np.int64), _from_bytes(values["embedding"])[None])
                if "crop_path" in values:
                    remove_files(self.data_dir, [old.crop_path])
        return self.get_sighting(old.id)

    def delete_sightings(self, ids: Sequence[int]) -> int:
        """Delete sightings with their files and vectors; returns how many were deleted."""
        found = self.get_sightings(ids)
        if not found:
            return 0
        with self._write_lock:
            with self.engine.begin() as conn:
                conn.execute(delete(S).where(S.c.id.in_(list(found))))
                self._reading_changed(found)
            self.index.remove(list(found))
        for s in found.values():
            remove_files(self.data_dir, [s.crop_path, s.frame_path])
        return len(found)

    # --- cameras --------------------------------------------------------------------

    def upsert_camera(
        self,
        camera_id: str,
        url: str | None = None,
        kind: str | None = None,
        enabled: bool = True,
        retention_days: float | None = None,
    ) -> Camera:
        if not camera_id or len(camera_id) > 128:
            raise StoreError("a camera id must have 1 to 128 characters")
        if retention_days is not None and retention_days <= 0:
            raise StoreError("retention_days must be positive")
        C = schema.cameras
        values = {"url": url, "kind": kind, "enabled": enabled, "retention_days": retention_days}
        with self.engine.begin() as conn:
            exists = conn.execute(select(C.c.id).where(C.c.id == camera_id)).first()
            if exists:
                conn.execute(update(C).where(C.c.id == camera_id).values(**values))
            else:
                conn.execute(insert(C).values(id=camera_id, created_at=datetime.now(UTC), **values))
        return self.get_camera(camera_id)

    def get_camera(self, camera_id: str) -> Camera:
        C = schema.cameras
        with self.engine.connect() as conn:
            row = conn.execute(select(C).where(C.c.id == camera_id)).first()
        if row is None:
            raise StoreError(f"no camera {camera_id!r}")
        return _camera_of(row)

    def list_cameras(self) -> list[Camera]:
        C = schema.cameras
        with self.engine.connect() as conn:
            return [_camera_of(r) for r in conn.execute(select(C).order_by(C.c.id))]

    def remove_camera(self, camera_id: str) -> None:
        """Forget a camera's settings; its sightings stay until retention removes them."""
        C = schema.cameras
        with self.engine.begin() as conn:
            conn.execute(delete(C).where(C.c.id == camera_id))

    # --- retention ------------------------------------------------------------------

    def delete_older_than(
        self, days: float, camera: str | None = None, now: datetime | None = None
    ) -> int:
        """Delete sightings last seen more than ``days`` ago (a camera's own
        retention_days wins for its sightings). Returns the number deleted."""
        if days <= 0:
            raise StoreError("retention must be a positive number of days")
        now = _utc(now or datetime.now(UTC))
        per_camera = {c.id: c.retention_days for c in self.list_cameras() if c.retention_days}
        deleted = 0
        with self.engine.connect() as conn:
            cams = (
                [camera]
                if camera
                else [r[0] for r in conn.execute(select(S.c.camera_id).distinct())]
            )
        for cam in cams:
            cutoff = now - timedelta(days=per_camera.get(cam, days))
            while True:
                with self.engine.connect() as conn:
                    ids = [
                        int(r[0])
                        for r in conn.execute(
                            select(S.c.id)
                            .where(S.c.camera_id == cam, S.c.last_seen < cutoff)
                            .limit(1000)
                        )
                    ]
                if not ids:
                    break
                deleted += self.delete_sightings(ids)
        return deleted


def sighting_of_dict(sighting_id: int, row: dict[str, Any]) -> Sighting:
    return Sighting(
        id=sighting_id,
        camera=row["camera_id"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        frame_count=row["frame_count"],
        box=(row["box_x"], row["box_y"], row["box_w"], row["box_h"]),
        crop_path=row["crop_path"],
        frame_path=row["frame_path"],
        reading=row["reading"],
        reading_confidence=row["reading_confidence"],
        detector_score=row["detector_score"],
        model_version=row["model_version"],
        vector=_from_bytes(row["embedding"]),
        source_file=row["source_file"],
        frame_size=_size(row["frame_width"], row["frame_height"]),
    )


def _camera_of(row: Row[Any]) -> Camera:
    m = row._mapping
    return Camera(
        id=m["id"],
        url=m["url"],
        kind=m["kind"],
        enabled=bool(m["enabled"]),
        retention_days=m["retention_days"],
        created_at=_utc(m["created_at"]),
    )


def _filtered(
    query: Any, camera: str | None, since: datetime | None, until: datetime | None
) -> Any:
    if camera:
        query = query.where(S.c.camera_id == camera)
    if since:
        query = query.where(S.c.last_seen >= _utc(since))
    if until:
        query = query.where(S.c.first_seen <= _utc(until))
    return query


def open_store(
    target: str | Path,
    dim: int,
    model_version: str,
    *,
    hnsw: HnswSettings | None = None,
    data_dir: str | Path | None = None,
    vectors: str = "auto",
) -> Store:
    """Open (creating and migrating) a store.

    target: a data folder (SQLite + index + images inside it) or a database URL
    (postgresql+psycopg://...), in which case ``data_dir`` holds this process's index
    cache and images (default: $PLATEWATCH_DATA or the default folder).
    dim, model_version: of the embedder whose vectors the index holds.
    vectors: "hnswlib" (an index in this process, caught up from SQL), "pgvector" (the
    PostgreSQL server searches; needs the extension) or "auto" (pgvector where the
    server has it, else hnswlib).
    """
    from store.datadir import resolve_data_dir

    if vectors not in VECTOR_BACKENDS:
        raise StoreError(f"vectors must be one of {', '.join(VECTOR_BACKENDS)}, not {vectors!r}")
    engine = make_engine(target)
    migrate(engine)
    pgvector = vectors != "hnswlib" and has_pgvector(engine)
    if vectors == "pgvector" and not pgvector:
        engine.dispose()
        raise StoreError(
            f"vectors='pgvector' needs a PostgreSQL server with the pgvector extension; "
            f"{engine.url.render_as_string(hide_password=True)} has none (use 'hnswlib')"
        )
    folder = Path(target) if not is_url(target) else resolve_data_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return Store(engine, folder, dim, model_version, hnsw, pgvector=pgvector)
