"""The watchlist: plates to be alerted on, matched against every new sighting.

Each entry's text is rendered and embedded ONCE (through the same embedder as the camera
crops) and kept in one stacked (E, D) matrix, so a sighting is checked against every entry
with a single matrix product: 10,000 entries cost one (10000, D) x (D,) product, not a loop.
Entries holding ``*`` cannot be drawn (a run of unknown length has no picture); they are
matched on the sighting's reading with :func:`alphabet.text.matches` instead.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from alphabet.text import WILDCARD, matches, normalize
from model.protocols import Embedder
from platewatch.errors import PlatewatchError

log = logging.getLogger(__name__)

_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


class WatchlistError(PlatewatchError, ValueError):
    """A watchlist entry was given bad values; the message names the field."""


@dataclass(frozen=True)
class ActiveHours:
    """A daily window of local time in which an entry raises alerts.

    ``end`` before ``start`` spans midnight (``22:00-06:00``); ``end`` is exclusive.
    """

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> ActiveHours:
        """``"08:00-18:00"`` -> ActiveHours. Raises WatchlistError saying what is allowed."""
        found = _HOURS.fullmatch(text)
        if not found:
            raise WatchlistError(f"hours {text!r} must look like 08:00-18:00 (HH:MM-HH:MM, 24 h)")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if max(h1, h2) > 23 or max(m1, m2) > 59:
            raise WatchlistError(f"hours {text!r}: hours run 00-23 and minutes 00-59")
        start, end = time(h1, m1), time(h2, m2)
        if start == end:
            raise WatchlistError(f"hours {text!r} is an empty window; leave hours out for all day")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def minutes(self) -> tuple[int, int]:
        """(start, end) in minutes after midnight."""
        return self.start.hour * 60 + self.start.minute, self.end.hour * 60 + self.end.minute

    def contains(self, moment: time) -> bool:
        start, end = self.minutes
        m = moment.hour * 60 + moment.minute
        return start <= m < end if start < end else (m >= start or m < end)


@dataclass(frozen=True)
class WatchlistEntry:
    """One watched plate.

    plate_text: normalised, may hold ``?`` (one hidden character) and ``*`` (any run).
    threshold: cosine in [-1, 1] a sighting's vector must reach (``?``-only entries);
    ``*`` entries match on the reading and ignore it.
    """

    id: int
    plate_text: str
    threshold: float
    label: str = ""
    hours: ActiveHours | None = None
    created: datetime | None = None

    def __post_init__(self) -> None:
        if not -1.0 <= self.threshold <= 1.0:
            raise WatchlistError(f"threshold {self.threshold} must be a cosine in [-1, 1]")

    @property
    def by_reading(self) -> bool:
        """True for ``*`` patterns, which are matched on the reading, not the vector."""
        return WILDCARD in self.plate_text


def check_plate_text(text: str) -> str:
    """Normalise a watchlist text (``?`` and ``*`` allowed). Raises PlateTextError."""
    return normalize(text, allow_patterns=True)


class SeenPlate(Protocol):
    """What the watchlist needs of a sighting."""

    @property
    def camera(self) -> str: ...
    @property
    def seen_at(self) -> datetime: ...
    @property
    def reading(self) -> str: ...
    @property
    def vector(self) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class WatchMatch:
    """A sighting matched a watchlist entry.

    score: the cosine (``method="vector"``), or the reading's fit (1.0, ``"reading"``).
    """

    entry: WatchlistEntry
    score: float
    method: Literal["vector", "reading"]


def _empty_matrix() -> npt.NDArray[np.float32]:
    return np.zeros((0, 0), np.float32)


def _empty_f32() -> npt.NDArray[np.float32]:
    return np.zeros(0, np.float32)


def _empty_i32() -> npt.NDArray[np.int32]:
    return np.zeros(0, np.int32)


@dataclass(frozen=True)
class _Snapshot:
    """Everything one match needs, swapped in whole so readers never see half an update.

    vectors: (E, D) float32 unit rows; thresholds (E,); start/end (E,) minutes after
    midnight with -1 for "all day"; entries[i] owns row i. patterns: ``*`` entries.
    """

    entries: tuple[WatchlistEntry, ...] = ()
    vectors: npt.NDArray[np.float32] = field(default_factory=_empty_matrix)
    thresholds: npt.NDArray[np.float32] = field(default_factory=_empty_f32)
    start: npt.NDArray[np.int32] = field(default_factory=_empty_i32)
    end: npt.NDArray[np.int32] = field(default_factory=_empty_i32)
    patterns: tuple[WatchlistEntry, ...] = ()


def _active(snap: _Snapshot, minute: int) -> npt.NDArray[np.bool_]:
    """(E,) which vector entries are inside their hours at ``minute`` after midnight."""
    s, e = snap.start, snap.end
    all_day = s < 0
    inside = np.where(s < e, (s <= minute) & (minute < e), (minute >= s) | (minute < e))
    return np.asarray(all_day | inside)


class Watchlist:
    """The watched entries with their cached vectors; thread-safe.

    ``tz`` is the zone active hours are read in (None: the machine's local zone).
    """

    def __init__(self, embedder: Embedder, tz: tzinfo | None = None) -> None:
        self._embedder = embedder
        self._tz = tz
        self._lock = threading.Lock()
        self._entries: dict[int, WatchlistEntry] = {}
        self._cache: dict[str, npt.NDArray[np.float32]] = {}
        self._snap = _Snapshot()

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[WatchlistEntry]:
        return sorted(self._entries.values(), key=lambda e: e.id)

    def vector_of(self, plate_text: str) -> npt.NDArray[np.float32]:
        """(D,) the cached embedding of a renderable text (embedded on first use)."""
        self._embed_missing([plate_text])
        return self._cache[plate_text]

    def _embed_missing(self, texts: Iterable[str]) -> None:
        missing = sorted({t for t in texts if WILDCARD not in t and t not in self._cache})
        if not missing:
            return
        vectors = self._embedder.embed_texts(missing).vectors
        for text, vec in zip(missing, vectors, strict=True):
            self._cache[text] = np.ascontiguousarray(vec, dtype=np.float32)
        log.debug("embedded %s watchlist texts", len(missing))

    def replace(self, entries: Iterable[WatchlistEntry]) -> None:
        """Set the whole list (at start, from the store); texts are embedded in one batch."""
        new = {e.id: e for e in entries}
        self._embed_missing(e.plate_text for e in new.values())
        with self._lock:
            self._entries = new
            self._rebuild()

    def put(self, entry: WatchlistEntry) -> None:
        """Add an entry, or replace the one with its id."""
        self._embed_missing([entry.plate_text])
        with self._lock:
            self._entries[entry.id] = entry
            self._rebuild()

    def remove(self, entry_id: int) -> bool:
        """Drop an entry; False when no entry had that id."""
        with self._lock:
            found = self._entries.pop(entry_id, None) is not None
            if found:
                self._rebuild()
        return found

    def _rebuild(self) -> None:
        by_vector = [e for e in self.entries() if not e.by_reading]
        dim = self._embedder.dim
        vectors = (
            np.stack([self._cache[e.plate_text] for e in by_vector])
            if by_vector
            else np.zeros((0, dim), np.float32)
        )
        hours = [e.hours.minutes if e.hours else (-1, -1) for e in by_vector]
        self._snap = _Snapshot(
            entries=tuple(by_vector),
            vectors=vectors,
            thresholds=np.array([e.threshold for e in by_vector], np.float32),
            start=np.array([h[0] for h in hours], np.int32),
            end=np.array([h[1] for h in hours], np.int32),
            patterns=tuple(e for e in self.entries() if e.by_reading),
        )

    def _local_minute(self, moment: datetime) -> tuple[int, time]:
        local = moment.astimezone(self._tz) if moment.tzinfo else moment
        return local.hour * 60 + local.minute, local.time()

    def match(self, sighting: SeenPlate) -> list[WatchMatch]:
        """Every active entry the sighting matches, best score first."""
        snap = self._snap
        minute, clock = self._local_minute(sighting.seen_at)
        found: list[WatchMatch] = []
        if snap.entries:
            # einsum, not ``@``: BLAS spreads a (E, D) x (D,) product over its threads, and
            # on a busy machine (cameras, detection, TensorFlow) waiting for them made the
            # p95 at 10,000 entries 40 ms against 0.3 ms single-threaded (docs/benchmarks.md).
            scores = np.einsum("ed,d->e", snap.vectors, np.asarray(sighting.vector, np.float32))
            hits = np.flatnonzero((scores >= snap.thresholds) & _active(snap, minute))
            found = [WatchMatch(snap.entries[i], float(scores[i]), "vector") for i in hits]
        if sighting.reading:
            found += [
                WatchMatch(e, 1.0, "reading")
                for e in snap.patterns
                if (e.hours is None or e.hours.contains(clock))
                and matches(e.plate_text, sighting.reading)
            ]
        return sorted(found, key=lambda m: -m.score)

    def match_many(self, sightings: Sequence[SeenPlate]) -> list[list[WatchMatch]]:
        return [self.match(s) for s in sightings]
