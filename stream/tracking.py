"""Plates followed across frames, so one passing car becomes ONE sighting.

A detection joins the open track of its camera that it overlaps or lies near (box IoU,
centre distance in plate widths) AND looks like (cosine of embeddings); the rest start
new tracks. A track unseen for ``close_after_frames`` processed frames, or for
``close_after_s`` seconds, is closed into a :class:`PassingPlate` carrying its best crop.

While a track is open, each view that becomes its best (its first, once it has
``min_hits`` detections, then every better one) is also offered as a :class:`TrackView`
(:meth:`Tracker.take_views`), so a watched plate can be alerted on while the car is still
in view; the track's ``key`` ties those views to the sighting stored at the close.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from alphabet.text import edit_distance
from model.types import Embeddings, Frame, PlateCrops
from store.files import FRAME_THUMB_SIDE, thumbnail
from stream.config import TrackingConfig


@dataclass(frozen=True)
class PassingPlate:
    """One plate's pass in front of one camera: what becomes a stored sighting.

    crop: (h, w, 3) uint8 BGR, the best view; frame: a thumbnail (longest side at most
    store.files.FRAME_THUMB_SIDE) of the frame it was cut from, whose full size
    (width, height) is ``frame_size``. box: (4,) x, y, w, h of that view in the full frame.
    vector: (D,) float32 unit embedding of that crop. first_arrived, arrived:
    time.monotonic() at which the frames of the first and last detection arrived (for
    end-to-end latency).
    """

    camera: str
    first_seen: datetime
    last_seen: datetime
    crop: npt.NDArray[np.uint8]
    frame: npt.NDArray[np.uint8]
    box: npt.NDArray[np.float32]
    vector: npt.NDArray[np.float32]
    reading: str
    reading_confidence: float
    detection_score: float
    hits: int
    first_arrived: float
    arrived: float
    track: str = ""
    frame_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class TrackView:
    """A new best view of an open track: what a watchlist can be checked against early.

    track: the key of the pass (PassingPlate.track of its sighting); seen_at: the frame's
    time; reading: the track's leading reading so far; crop (h, w, 3) uint8 BGR; vector
    (D,) float32 unit embedding of the crop; first_arrived, arrived: time.monotonic() at
    which the track's first frame and this view's frame arrived.
    """

    camera: str
    track: str
    seen_at: datetime
    reading: str
    crop: npt.NDArray[np.uint8]
    vector: npt.NDArray[np.float32]
    first_arrived: float
    arrived: float


@dataclass(frozen=True)
class _View:
    """The best view of a track so far."""

    quality: float
    crop: npt.NDArray[np.uint8]
    frame: npt.NDArray[np.uint8]  # a thumbnail: an open track holds no full frame
    frame_size: tuple[int, int]
    box: npt.NDArray[np.float32]
    vector: npt.NDArray[np.float32]

    @classmethod
    def of(cls, quality: float, seen: _Seen, frame: Frame) -> _View:
        pixels = frame.pixels
        small = thumbnail(pixels, FRAME_THUMB_SIDE)
        size = (int(pixels.shape[1]), int(pixels.shape[0]))
        return cls(quality, seen.image, small, size, seen.box, seen.vector)


@dataclass
class _Track:
    camera: str
    first_seen: datetime
    last_seen: datetime
    box: npt.NDArray[np.float32]
    best: _View
    score: float
    first_arrived: float
    arrived: float
    touched: float
    hits: int = 1
    missed: int = 0
    votes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    confidence: dict[str, float] = field(default_factory=dict)
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def add_reading(self, text: str, confidence: float) -> None:
        if text:
            self.votes[text] += confidence
            self.confidence[text] = max(self.confidence.get(text, 0.0), confidence)

    @property
    def reading(self) -> str:
        return max(self.votes, key=self.votes.__getitem__) if self.votes else ""

    def view(self) -> TrackView:
        return TrackView(
            camera=self.camera,
            track=self.key,
            seen_at=self.last_seen,
            reading=self.reading,
            crop=self.best.crop,
            vector=self.best.vector,
            first_arrived=self.first_arrived,
            arrived=self.arrived,
        )

    def close(self) -> PassingPlate:
        reading = self.reading
        best = self.best
        return PassingPlate(
            camera=self.camera,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            crop=best.crop,
            frame=best.frame,
            frame_size=best.frame_size,
            box=best.box,
            vector=best.vector,
            reading=reading,
            reading_confidence=self.confidence.get(reading, 0.0),
            detection_score=self.score,
            hits=self.hits,
            first_arrived=self.first_arrived,
            arrived=self.arrived,
            track=self.key,
        )


@dataclass(frozen=True)
class _Seen:
    """Detection ``i`` of a frame, with its embedding."""

    crops: PlateCrops
    embeddings: Embeddings
    i: int

    @property
    def box(self) -> npt.NDArray[np.float32]:
        return self.crops.boxes[self.i]

    @property
    def score(self) -> float:
        return float(self.crops.scores[self.i])

    @property
    def image(self) -> npt.NDArray[np.uint8]:
        return self.crops.images[self.i]

    @property
    def vector(self) -> npt.NDArray[np.float32]:
        return self.embeddings.vectors[self.i]

    @property
    def reading(self) -> str:
        return self.embeddings.readings[self.i]

    @property
    def confidence(self) -> float:
        return float(self.embeddings.confidences[self.i])


def iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """Intersection over union of two x, y, w, h boxes (0 when either has no area)."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def centre_shift(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """Distance between box centres, in widths of box ``a``."""
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return math.hypot(dx, dy) / max(float(a[2]), 1.0)


#: Readings shorter than this are too little to link a detection to a track by.
MIN_LINK_CHARS = 4
#: A box this close (pixels) to the frame's border may be cut by it.
EDGE_PX = 2.0


def at_edge(box: npt.NDArray[np.float32], frame: Frame) -> bool:
    """True when an x, y, w, h box touches the frame's border (the plate may be cut)."""
    x, y, w, h = (float(v) for v in box)
    return (
        x <= EDGE_PX
        or y <= EDGE_PX
        or x + w >= frame.width - EDGE_PX
        or y + h >= frame.height - EDGE_PX
    )


def _quality(score: float, confidence: float, box: npt.NDArray[np.float32]) -> float:
    # Bigger, surer views embed better; the reader's confidence says the crop is legible.
    return (confidence + 0.05) * score * math.sqrt(max(float(box[2] * box[3]), 1.0))


class Tracker:
    """Open tracks of every camera. Not thread-safe: one owner (the pipeline) calls it."""

    def __init__(self, config: TrackingConfig) -> None:
        self.config = config
        self._tracks: dict[str, list[_Track]] = defaultdict(list)
        self._views: list[TrackView] = []

    def open_tracks(self) -> int:
        return sum(len(t) for t in self._tracks.values())

    def take_views(self) -> list[TrackView]:
        """The new best views of open tracks since the last call, oldest first."""
        views, self._views = self._views, []
        return views

    def _pairs(
        self, tracks: list[_Track], crops: PlateCrops, embeddings: Embeddings, frame: Frame
    ) -> list[tuple[float, int, int]]:
        """(rank, track, detection) of every link allowed: the boxes close enough (a track
        missed in some frames may have moved further), and the crops alike, or their
        readings alike, or either box cut by the frame's edge (a plate entering or leaving
        the picture embeds unlike its whole self; its shift is then measured in widths of
        the wider box)."""
        cfg = self.config
        pairs = []
        for ti, track in enumerate(tracks):
            reach = cfg.max_centre_shift * (1 + track.missed)
            for di in range(len(crops)):
                box = crops.boxes[di]
                overlap = iou(track.box, box)
                cut = at_edge(track.box, frame) or at_edge(box, frame)
                wide, other = (
                    (box, track.box) if cut and box[2] > track.box[2] else (track.box, box)
                )
                if overlap < cfg.min_iou and centre_shift(wide, other) > reach:
                    continue
                cosine = float(np.dot(track.best.vector, embeddings.vectors[di]))
                if cosine >= cfg.min_cosine or cut or self._reads_alike(track, embeddings, di):
                    pairs.append((cosine + overlap, ti, di))
        return sorted(pairs, reverse=True)

    def _reads_alike(self, track: _Track, embeddings: Embeddings, di: int) -> bool:
        """The detection's reading and the track's leading one name the same plate up to
        ``max_reading_edits`` characters (look-alikes equal): one plate whose views embed
        unalike (motion blur, a glare, another angle)."""
        a, b = track.reading, embeddings.readings[di]
        if min(len(a), len(b)) < MIN_LINK_CHARS:
            return False
        return edit_distance(a, b) <= self.config.max_reading_edits

    def update(
        self,
        frame: Frame,
        crops: PlateCrops,
        embeddings: Embeddings,
        arrived: float,
        now: float | None = None,
    ) -> list[PassingPlate]:
        """Add one processed frame's plates; return the tracks this frame closes.

        crops and embeddings are parallel (N plates of ``frame``); arrived is the frame's
        time.monotonic() arrival (kept for latency); now (default time.monotonic()) is
        when it is processed: closing by time counts from processing, not arrival, so a
        pipeline running behind does not cut a pass into pieces.
        """
        now = time.monotonic() if now is None else now
        tracks = self._tracks[frame.camera]
        known = len(tracks)
        taken_t: set[int] = set()
        taken_d: set[int] = set()
        for _, ti, di in self._pairs(tracks, crops, embeddings, frame):
            if ti in taken_t or di in taken_d:
                continue
            taken_t.add(ti)
            taken_d.add(di)
            self._extend(tracks[ti], frame, _Seen(crops, embeddings, di), (arrived, now))
        for di in range(len(crops)):
            if di not in taken_d:
                tracks.append(self._start(frame, _Seen(crops, embeddings, di), (arrived, now)))
        for ti in range(known):
            if ti not in taken_t:
                tracks[ti].missed += 1
        return self._close(frame.camera, now, frame_driven=True)

    def _start(self, frame: Frame, seen: _Seen, times: tuple[float, float]) -> _Track:
        box, score, conf = seen.box, seen.score, seen.confidence
        track = _Track(
            camera=frame.camera,
            first_seen=frame.time,
            last_seen=frame.time,
            box=box,
            best=_View.of(_quality(score, conf, box), seen, frame),
            score=score,
            first_arrived=times[0],
            arrived=times[0],
            touched=times[1],
        )
        track.add_reading(seen.reading, conf)
        if self.config.min_hits <= 1:
            self._views.append(track.view())
        return track

    def _extend(self, track: _Track, frame: Frame, seen: _Seen, times: tuple[float, float]) -> None:
        box, score, conf = seen.box, seen.score, seen.confidence
        quality = _quality(score, conf, box)
        better = quality > track.best.quality
        if better:
            track.best = _View.of(quality, seen, frame)
            track.score = score
        track.box = box
        track.last_seen = frame.time
        track.arrived, track.touched = times
        track.hits += 1
        track.missed = 0
        track.add_reading(seen.reading, conf)
        min_hits = self.config.min_hits
        if (better and track.hits >= min_hits) or track.hits == min_hits:
            self._views.append(track.view())

    def _close(self, camera: str, now: float, frame_driven: bool) -> list[PassingPlate]:
        cfg = self.config
        keep, closed = [], []
        for track in self._tracks[camera]:
            stale = now - track.touched >= cfg.close_after_s
            if stale or (frame_driven and track.missed >= cfg.close_after_frames):
                if track.hits >= cfg.min_hits:
                    closed.append(track.close())
            else:
                keep.append(track)
        self._tracks[camera] = keep
        return closed

    def sweep(self, now: float) -> list[PassingPlate]:
        """Close tracks of any camera unseen for ``close_after_s`` (now: time.monotonic())."""
        closed: list[PassingPlate] = []
        for camera in list(self._tracks):
            closed += self._close(camera, now, frame_driven=False)
        return closed

    def flush(self, camera: str | None = None) -> list[PassingPlate]:
        """Close every open track (of one camera, or all): at camera removal or shutdown."""
        cameras = [camera] if camera is not None else list(self._tracks)
        closed = []
        for cam in cameras:
            closed += [
                t.close() for t in self._tracks.pop(cam, []) if t.hits >= self.config.min_hits
            ]
        return closed
