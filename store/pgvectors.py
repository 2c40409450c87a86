"""Vectors searched by PostgreSQL itself (pgvector), for servers that have the extension.

Each row carries its vector twice: the float32 bytes in ``embedding`` (the truth on every
backend) and a pgvector copy in ``vec``, written in the same INSERT, so the two can never
disagree after a crash. One HNSW expression index per model version serves the search;
filters (camera, time) are applied by the server during the index scan (pgvector's
iterative scan), so every process sees every committed row at once, with no cache to keep
in step.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Column, MetaData, Table, literal, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import UserDefinedType

from store import schema
from store.vectors import HnswSettings

log = logging.getLogger(__name__)


class Vector(UserDefinedType[npt.NDArray[np.float32]]):
    """pgvector's ``vector`` column, bound from a (D,) float32 array as its text form."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "vector"

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: npt.NDArray[np.float32] | None) -> str | None:
            return None if value is None else vector_literal(value)

        return process

    def bind_expression(self, bindvalue: Any) -> Any:
        return bindvalue  # the server casts the text form on assignment to a vector column


def vector_literal(vector: npt.NDArray[np.float32]) -> str:
    """pgvector's text form, ``[0.1,0.2,...]``; float32 values survive it exactly."""
    return "[" + ",".join(map(repr, np.asarray(vector, np.float32).tolist())) + "]"


#: The sightings table with its pgvector column, for writes on servers that have it.
sightings_vec = Table(
    "sightings",
    MetaData(),
    *[c._copy() for c in schema.sightings.columns],
    Column("vec", Vector(), nullable=True),
)


def build_memory_mb(rows: int, dim: int, m: int) -> int:
    """maintenance_work_mem for building the HNSW index over ``rows`` vectors: room for
    the whole graph (vector, 2*m layer-0 neighbours, overhead; half again for slack),
    at least 512 MB, at most 8 GB."""
    per_row = 4 * dim + 2 * m * 8 + 64
    return int(min(8192, max(512, rows * per_row * 1.5 / 2**20)))


def has_pgvector(engine: Engine) -> bool:
    """Whether migration 0002 could give this database its ``vec`` column."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'sightings' AND column_name = 'vec'"
            )
        ).first()
    return found is not None


class PgVectorIndex:
    """The hnswlib index's interface over pgvector: search runs in the server.

    Writes need nothing here (the rows carry ``vec``); ``add``/``remove``/``save`` exist so
    that the store treats both backends alike.
    """

    max_id = 0

    def __init__(self, engine: Engine, dim: int, model_version: str, settings: HnswSettings):
        self.engine = engine
        self.dim = dim
        self.model_version = model_version
        self.settings = settings
        # The model version is a literal in the index predicate and in every query, so
        # the planner can match the partial index whatever plan it caches.
        self._version_sql = str(
            literal(model_version).compile(engine, compile_kwargs={"literal_binds": True})
        )
        digest = hashlib.sha1(model_version.encode()).hexdigest()[:12]
        self.index_name = f"ix_sightings_vec_{digest}"
        self._expr = f"(vec::vector({int(dim)}))"
        self._ensure_index()

    def _ensure_index(self) -> None:
        with self.engine.begin() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_indexes WHERE indexname = :n"), {"n": self.index_name}
            ).first()
            if exists:
                return
            rows = conn.execute(
                text(f"SELECT count(*) FROM sightings WHERE model_version = {self._version_sql}")
            ).scalar_one()
            log.info(
                "building pgvector index %s over %d rows (once per model version)",
                self.index_name,
                rows,
            )
            # The build is fast only while the whole graph fits in maintenance_work_mem.
            memory = build_memory_mb(int(rows), self.dim, self.settings.m)
            conn.execute(text(f"SET LOCAL maintenance_work_mem = '{memory}MB'"))
            conn.execute(
                text(
                    f"CREATE INDEX IF NOT EXISTS {self.index_name} ON sightings "
                    f"USING hnsw ({self._expr} vector_cosine_ops) "
                    f"WITH (m = {int(self.settings.m)}, "
                    f"ef_construction = {int(self.settings.ef_construction)}) "
                    f"WHERE model_version = {self._version_sql}"
                )
            )

    # --- writing: the rows carry the vectors ----------------------------------------

    def add(self, ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> None:
        """Nothing to do: ``vec`` is written with its row."""

    def remove(self, ids: list[int]) -> None:
        """Nothing to do: a deleted row takes its ``vec`` with it."""

    def save(self, *_args: Any) -> None:
        """Nothing to do: the server persists the index."""

    def backfill(self) -> int:
        """Give ``vec`` to rows stored before pgvector was enabled. Returns how many."""
        S = sightings_vec
        done = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    S.select()
                    .with_only_columns(S.c.id, S.c.embedding)
                    .where(S.c.vec.is_(None), S.c.model_version == self.model_version)
                    .limit(5000)
                ).all()
                if not rows:
                    return done
                for sid, blob in rows:
                    conn.execute(
                        S.update().where(S.c.id == sid).values(vec=np.frombuffer(blob, dtype="<f4"))
                    )
                done += len(rows)

    # --- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM sightings WHERE vec IS NOT NULL "
                        f"AND model_version = {self._version_sql}"
                    )
                ).scalar_one()
            )

    def live_ids(self) -> set[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id FROM sightings WHERE vec IS NOT NULL "
                    f"AND model_version = {self._version_sql}"
                )
            )
            return {int(r[0]) for r in rows}

    def search(
        self, vector: npt.NDArray[np.float32], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The k nearest ids and their cosine similarities, best first."""
        return self.search_where(vector, k)

    def search_where(
        self,
        vector: npt.NDArray[np.float32],
        k: int,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """As :meth:`search`, among the rows of one camera and time span."""
        where = [f"model_version = {self._version_sql}"]
        params: dict[str, Any] = {"q": vector_literal(vector), "k": int(k)}
        if camera:
            where.append("camera_id = :camera")
            params["camera"] = camera
        if since:
            where.append("last_seen >= :since")
            params["since"] = since
        if until:
            where.append("first_seen <= :until")
            params["until"] = until
        sql = (
            f"SELECT id, {self._expr} <=> CAST(:q AS vector({int(self.dim)})) AS d "
            f"FROM sightings WHERE {' AND '.join(where)} ORDER BY d LIMIT :k"
        )
        with self.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {max(self.settings.ef, int(k))}"))
            if len(where) > 1:
                # Keep scanning the graph until enough rows pass the filter (pgvector 0.8).
                conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
            found = conn.execute(text(sql), params).all()
        # relaxed_order may return near-ties slightly out of order.
        rows = sorted(found, key=lambda r: float(r[1]))
        ids = np.array([r[0] for r in rows], np.int64)
        return ids, (1.0 - np.array([r[1] for r in rows], np.float64)).astype(np.float32)
