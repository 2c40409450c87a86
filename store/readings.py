"""The stored readings, held in memory for the fused text search.

A text search re-ranks the best candidates by cosine *and* the best candidates by reading
(store.search). Finding the latter means scoring the query against every stored reading;
reading them all from SQL at each search cost about 0.5-1 s per 100,000 sightings. This
index keeps the readings of the store's model version in memory, encoded once
(model.reading.encode_keys), with each one's camera and time span for the filters, and
answers with a bound-then-verify scan:

1. A lower bound on the weighted edit distance (model.fusion) from character counts and
   lengths: a query character that the reading lacks costs at least the cheapest change
   (a confusable, or an unread ``?``); a query ``?`` costs nothing; each character a
   longer reading has too many, or a shorter one lacks of the query's fixed ones, costs 1.
   Each reading's upper bound on its term follows.
2. Exact terms in blocks of falling bound, until no bound left beats the ``need``-th best
   exact term. The result equals a full exact scan.

It stays in step with SQL like the vector cache: rows with a higher id are added at each
search; rows this process updates (dedup) or deletes (retention) are re-read or dropped
(the store names them); and the whole index is reloaded every ``RELOAD_S`` seconds, so
what other processes changed in rows already held is seen within that time. A stale entry
can only cost a candidate: the final ranking reads each candidate's row afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from model.fusion import Fusion
from model.reading import encode_keys
from store.store import CATCH_UP_WINDOW, S, Store, _utc

#: Seconds after which the whole index is read again from SQL.
RELOAD_S = 600.0
#: Readings wider than this are cut for the scan (the store keeps at most 32 characters).
WIDTH = 12
_CHUNK = 20_000


def _seconds(moment: datetime) -> float:
    return _utc(moment).timestamp()


class ReadingIndex:
    """ids, encoded readings, character counts, confidences, camera and time span of stored
    sightings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear()
        self.loaded_at = -float("inf")
        self.model_version = ""

    def _clear(self) -> None:
        self.ids = np.zeros(0, np.int64)
        self.codes = np.zeros((0, WIDTH), np.uint8)
        self.lengths = np.zeros(0, np.int64)
        self.counts = np.zeros((0, 256), np.uint8)
        self.cameras = np.zeros(0, np.int32)
        self.first = np.zeros(0, np.float64)
        self.last = np.zeros(0, np.float64)
        self.confidence = np.zeros(0, np.float32)
        self.camera_codes: dict[str, int] = {}
        self.max_id = 0

    def __len__(self) -> int:
        return len(self.ids)

    # --- keeping in step ------------------------------------------------------------

    def sync(self, store: Store) -> None:
        """Catch up with the store: a full load when due, else new and changed rows."""
        with self._lock:
            changed = store.take_reading_changes()
            due = time.monotonic() - self.loaded_at >= RELOAD_S
            if due or store.model_version != self.model_version:
                self._clear()
                self.model_version = store.model_version
                self.loaded_at = time.monotonic()
                self._load(store, [S.c.id > 0])
                return
            if changed:
                self._drop(changed)
                ids = sorted(changed)  # IN lists of 900 stay under SQLite's variable limit
                self._load(store, [S.c.id.in_(ids[i : i + 900]) for i in range(0, len(ids), 900)])
            window = S.c.id > max(0, self.max_id - CATCH_UP_WINDOW)
            held = set(self.ids[self.ids > self.max_id - CATCH_UP_WINDOW].tolist())
            self._load(store, [window], skip=held)

    def _drop(self, ids: Iterable[int]) -> None:
        keep = ~np.isin(self.ids, np.fromiter(ids, np.int64))
        for name in ("ids", "codes", "lengths", "counts", "cameras", "first", "last", "confidence"):
            setattr(self, name, getattr(self, name)[keep])

    def _load(
        self,
        store: Store,
        conditions: list[Any],
        skip: set[int] | None = None,
    ) -> None:
        """Append the rows of this model version with a reading that meet each condition
        (one query each), less the ids in ``skip``."""
        cols = select(
            S.c.id,
            S.c.reading,
            S.c.camera_id,
            S.c.first_seen,
            S.c.last_seen,
            S.c.reading_confidence,
        )
        mine = (S.c.model_version == store.model_version) & (S.c.reading != "")
        queries = [cols.where(mine, c).order_by(S.c.id) for c in conditions]
        with store.engine.connect() as conn:
            for query in queries:
                rows = conn.execute(query.execution_options(yield_per=_CHUNK))
                for part in rows.partitions(_CHUNK):
                    if skip:
                        part = [r for r in part if int(r[0]) not in skip]
                    if part:
                        self._append(part)

    def _append(self, rows: Sequence[Any]) -> None:
        ids = np.array([int(r[0]) for r in rows], np.int64)
        codes, lengths = encode_keys([r[1] for r in rows], WIDTH)
        counts = np.zeros((len(rows), 256), np.uint8)
        for j in range(WIDTH):
            present = j < lengths
            np.add.at(counts, (np.nonzero(present)[0], codes[present, j]), 1)
        cams = np.array([self.camera_codes.setdefault(r[2], len(self.camera_codes))
                         for r in rows], np.int32)  # fmt: skip
        self.ids = np.concatenate([self.ids, ids])
        self.codes = np.concatenate([self.codes, codes])
        self.lengths = np.concatenate([self.lengths, lengths])
        self.counts = np.concatenate([self.counts, counts])
        self.cameras = np.concatenate([self.cameras, cams])
        self.first = np.concatenate([self.first, [_seconds(r[3]) for r in rows]])
        self.last = np.concatenate([self.last, [_seconds(r[4]) for r in rows]])
        self.confidence = np.concatenate(
            [self.confidence, np.array([r[5] or 0.0 for r in rows], np.float32)]
        )
        self.max_id = max(self.max_id, int(ids.max()))

    # --- answering ------------------------------------------------------------------

    def _mask(self, camera: str | None, since: datetime | None, until: datetime | None) -> Any:
        mask = np.ones(len(self.ids), bool)
        if camera:
            code = self.camera_codes.get(camera)
            mask &= self.cameras == (-1 if code is None else code)
        if since:
            mask &= self.last >= _seconds(since)
        if until:
            mask &= self.first <= _seconds(until)
        return mask

    def best(
        self,
        query: str,
        fusion: Fusion,
        need: int,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        min_term: float = 0.0,
    ) -> dict[int, float]:
        """Ids and reading terms (> 0, >= ``min_term``) of the ``need`` readings that fit
        ``query`` best (a normalised plate text without ``*``), among those the filters
        allow. A high ``min_term`` lets the bounds skip most readings."""
        with self._lock:
            rows = np.nonzero(self._mask(camera, since, until))[0]
            if not len(rows) or need <= 0:
                return {}
            bound = self._upper_bounds(query, fusion, rows)
            keep = bound >= min_term
            rows, bound = rows[keep], bound[keep]
            if not len(rows):
                return {}
            order = np.argsort(-bound, kind="stable")
            done: list[npt.NDArray[np.int64]] = []
            terms: list[npt.NDArray[np.float32]] = []
            floor, start, block = min_term, 0, max(4 * need, 2_000)
            # Exact terms in blocks of falling bound, until no bound beats the need-th best.
            while start < len(order) and bound[order[start]] > floor:
                part = order[start : start + block]
                done.append(part)
                terms.append(self._exact(query, fusion, rows[part]))
                start, block = start + block, 2 * block
                found = np.concatenate(terms)
                if len(found) >= need:
                    nth = float(np.partition(found, len(found) - need)[len(found) - need])
                    floor = max(floor, nth)
            picked, found = np.concatenate(done), np.concatenate(terms)
            top = np.argsort(-found, kind="stable")[:need]
            return {
                int(self.ids[rows[picked[i]]]): float(found[i])
                for i in top
                if found[i] > 0 and found[i] >= min_term
            }

    def _exact(self, query: str, fusion: Fusion, rows: npt.NDArray[np.int64]) -> Any:
        return fusion.terms_encoded(
            query, (self.codes[rows], self.lengths[rows]), self.confidence[rows]
        )

    def _upper_bounds(
        self, query: str, fusion: Fusion, rows: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """An upper bound on each row's term: 1 - (a lower bound on its distance) / len."""
        codes, _ = encode_keys([query], WIDTH)
        fixed = [int(c) for c in codes[0, : len(query)] if c != 0]  # 0 is the wildcard
        if not fixed:
            return np.ones(len(rows), np.float32)
        want = np.bincount(np.array(fixed), minlength=256)
        chars = np.nonzero(want)[0]
        shared = np.minimum(self.counts[np.ix_(rows, chars)], want[chars]).sum(axis=1)
        cheapest = min(fusion.lookalike, fusion.unknown_read, 1.0)
        lengths = self.lengths[rows]
        # Changes for the query characters the reading lacks; insertions for a longer
        # reading; deletions of fixed characters for a shorter one (each costs 1).
        low = np.maximum.reduce([
            cheapest * (len(fixed) - shared),
            lengths - len(query),
            len(fixed) - lengths,
        ])  # fmt: skip
        return np.maximum(0.0, 1.0 - low / max(len(query), 1)).astype(np.float32) + 1e-6
