"""One passing plate becomes one sighting: linking by place and look, closing, best view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from model.types import Embeddings, Frame, PlateCrops
from stream.config import TrackingConfig
from stream.tracking import Tracker, centre_shift, iou

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
RNG = np.random.default_rng(7)
# Two unrelated plate "looks": random unit vectors in 64-d are near-orthogonal.
LOOKS = {
    name: (v / np.linalg.norm(v)).astype(np.float32)
    for name, v in {"A": RNG.normal(size=64), "B": RNG.normal(size=64)}.items()
}

READINGS = {"A": "AB1234CD", "B": "KX5678PT"}


def _frame(i: int) -> Frame:
    return Frame("cam", T0 + timedelta(seconds=i / 5), np.zeros((720, 1280, 3), np.uint8), i)


def _plates(plates: list[tuple[str, float, float, float]]) -> tuple[PlateCrops, Embeddings]:
    """plates: (look, x, width, reading confidence) of each plate in one frame."""
    images, boxes, vectors, readings, confs = [], [], [], [], []
    for look, x, w, conf in plates:
        h = w / 5
        images.append(np.full((int(h), int(w), 3), len(images), np.uint8))
        boxes.append([x, 300, w, h])
        vectors.append(LOOKS[look])
        readings.append(READINGS[look])
        confs.append(conf)
    n = len(plates)
    crops = PlateCrops(
        images, np.array(boxes, np.float32).reshape(n, 4), np.full(n, 0.9, np.float32)
    )
    emb = Embeddings(
        np.array(vectors, np.float32).reshape(n, 64), readings, np.array(confs, np.float32)
    )
    return crops, emb


def _run(tracker: Tracker, frames: list[list[tuple[str, float, float, float]]]) -> list:
    closed = []
    for i, plates in enumerate(frames):
        crops, emb = _plates(plates)
        closed += tracker.update(_frame(i), crops, emb, arrived=i / 5, now=i / 5)
    return closed


SIDE_BY_SIDE = [[("A", 100 + 50 * i, 200, 0.9), ("B", 700 + 50 * i, 200, 0.9)] for i in range(4)]
CFG = TrackingConfig(close_after_frames=3, close_after_s=100)


@pytest.mark.parametrize(
    ("frames", "expected_hits"),
    [
        # one plate moving right for 5 frames, then 3 empty frames: one sighting
        ([[("A", 100 + 60 * i, 200, 0.9)] for i in range(5)] + [[]] * 3, [5]),
        # a plate missed for two frames in the middle stays one track
        ([[("A", 100, 200, 0.9)], [], [], [("A", 150, 200, 0.9)]] + [[]] * 3, [2]),
        # missed for three frames: the first pass is closed, a new one starts
        ([[("A", 100, 200, 0.9)], [], [], [], [("A", 150, 200, 0.9)]] + [[]] * 3, [1, 1]),
        # two plates side by side, both moving: two sightings
        (SIDE_BY_SIDE + [[]] * 3, [4, 4]),
        # a different plate where the last one was (looks unlike it): a new track
        ([[("A", 100, 200, 0.9)], [("B", 110, 200, 0.9)]] + [[]] * 3, [1, 1]),
        # the same look far away (more than max_centre_shift widths): a new track
        ([[("A", 0, 100, 0.9)], [("A", 1000, 100, 0.9)]] + [[]] * 3, [1, 1]),
    ],
)  # fmt: skip
def test_passes_become_sightings(frames: list, expected_hits: list[int]) -> None:
    tracker = Tracker(CFG)
    closed = _run(tracker, frames)
    assert sorted(p.hits for p in closed) == sorted(expected_hits)
    assert tracker.open_tracks() == 0


def test_best_view_and_reading_are_kept() -> None:
    tracker = Tracker(CFG)
    # widths 100, 300, 150: the 300-pixel view with a sure reading is the best
    closed = _run(
        tracker,
        [[("A", 100, 100, 0.5)], [("A", 120, 300, 0.95)], [("A", 140, 150, 0.6)]] + [[]] * 3,
    )
    (plate,) = closed
    assert plate.crop.shape[1] == 300 and plate.box[2] == 300
    assert plate.reading == "AB1234CD" and plate.reading_confidence == pytest.approx(0.95)
    assert np.allclose(plate.vector, LOOKS["A"])
    assert plate.first_seen == T0 and plate.last_seen == T0 + timedelta(seconds=0.4)


def test_a_track_keeps_a_thumbnail_of_its_best_frame_not_the_frame() -> None:
    # An open track lives for seconds; holding its best view's full 1280x720 frame (2.7 MB)
    # would hold every open track's frame in memory. It keeps a store-sized thumbnail.
    tracker = Tracker(CFG)
    frames = [
        Frame("cam", T0 + timedelta(seconds=i / 5), np.full((720, 1280, 3), 10 * i, np.uint8), i)
        for i in range(6)
    ]
    widths = [100, 300, 150]
    closed = []
    for i, frame in enumerate(frames):
        crops, emb = _plates([("A", 100 + 20 * i, widths[i], 0.9)] if i < 3 else [])
        closed += tracker.update(frame, crops, emb, arrived=i / 5, now=i / 5)
    (plate,) = closed
    assert plate.frame_size == (1280, 720)
    assert plate.frame.shape == (360, 640, 3) and plate.frame.dtype == np.uint8
    assert int(plate.frame.mean()) == 10  # frame 1: the 300-pixel view
    assert not any(np.shares_memory(plate.frame, f.pixels) for f in frames)
    assert plate.box[2] == 300  # the box stays in full-frame pixels


def test_min_hits_drops_one_frame_flickers() -> None:
    tracker = Tracker(TrackingConfig(close_after_frames=2, min_hits=2))
    closed = _run(
        tracker,
        [
            [("A", 100, 200, 0.9)],
            [],
            [],
            [
                ("B", 100, 200, 0.9),
            ],
            [("B", 100, 200, 0.9)],
            [],
            [],
        ],
    )
    assert [p.hits for p in closed] == [2]


def test_sweep_closes_tracks_of_a_quiet_camera_by_time() -> None:
    tracker = Tracker(TrackingConfig(close_after_s=1.0, close_after_frames=100))
    _run(tracker, [[("A", 100, 200, 0.9)]])
    assert tracker.sweep(now=0.5) == []
    (plate,) = tracker.sweep(now=1.1)
    assert plate.hits == 1 and tracker.open_tracks() == 0


def test_flush_closes_everything() -> None:
    tracker = Tracker(CFG)
    _run(tracker, [[("A", 100, 200, 0.9), ("B", 800, 200, 0.9)]])
    assert len(tracker.flush("cam")) == 2 and tracker.open_tracks() == 0


@pytest.mark.parametrize(
    ("a", "b", "expected_iou", "expected_shift"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0, 0.0),  # same box
        ([0, 0, 10, 10], [5, 0, 10, 10], 50 / 150, 0.5),  # half overlap, half a width away
        ([0, 0, 10, 10], [20, 0, 10, 10], 0.0, 2.0),  # apart
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0, 0.0),  # no area: no overlap, no division by zero
    ],
)
def test_box_geometry(a: list, b: list, expected_iou: float, expected_shift: float) -> None:
    fa, fb = np.array(a, np.float32), np.array(b, np.float32)
    assert iou(fa, fb) == pytest.approx(expected_iou)
    assert centre_shift(fa, fb) == pytest.approx(expected_shift)


def test_a_pipeline_running_behind_does_not_cut_a_pass() -> None:
    # Frames arrived 5 s ago and are processed only now: closing counts from processing.
    tracker = Tracker(TrackingConfig(close_after_s=1.0, close_after_frames=100))
    for i in range(3):
        crops, emb = _plates([("A", 100 + 40 * i, 200, 0.9)])
        tracker.update(_frame(i), crops, emb, arrived=i / 5, now=5 + i / 5)
        assert tracker.sweep(now=5 + i / 5 + 0.1) == []
    (plate,) = tracker.sweep(now=5 + 0.4 + 1.0)
    assert plate.hits == 3 and plate.arrived == pytest.approx(0.4)


def _views(tracker: Tracker, frames: list[list[tuple[str, float, float, float]]]) -> list[list]:
    """The views each frame offers, frame by frame."""
    offered = []
    for i, plates in enumerate(frames):
        crops, emb = _plates(plates)
        tracker.update(_frame(i), crops, emb, arrived=i / 5, now=i / 5)
        offered.append(tracker.take_views())
    return offered


@pytest.mark.parametrize(
    ("min_hits", "widths", "offered_at"),
    [
        # each view better than the last (bigger): every frame offers one
        (1, [100, 200, 300], [0, 1, 2]),
        # a worse view later offers nothing: the best so far was already offered
        (1, [300, 100, 200], [0]),
        # a track is offered once it has min_hits detections, then on each better view
        (2, [300, 100, 400], [1, 2]),
        (3, [100, 200, 150, 300], [2, 3]),
    ],
)  # fmt: skip
def test_open_tracks_offer_their_better_views(
    min_hits: int, widths: list[float], offered_at: list[int]
) -> None:
    tracker = Tracker(TrackingConfig(close_after_frames=3, close_after_s=100, min_hits=min_hits))
    offered = _views(tracker, [[("A", 100 + 20 * i, w, 0.9)] for i, w in enumerate(widths)])
    assert [i for i, views in enumerate(offered) if views] == offered_at
    assert all(len(v) == 1 for v in offered if v)
    best = 0.0
    for i in offered_at:
        (view,) = offered[i]
        assert view.camera == "cam" and view.seen_at == T0 + timedelta(seconds=i / 5)
        assert view.crop.shape[1] >= best  # the view offered is the best so far
        best = view.crop.shape[1]
        assert view.arrived == pytest.approx(i / 5) and view.first_arrived == 0


def test_views_and_sighting_share_the_track_key() -> None:
    tracker = Tracker(CFG)
    offered = _views(tracker, SIDE_BY_SIDE)
    keys = {v.reading: v.track for views in offered for v in views}
    assert set(keys) == {"AB1234CD", "KX5678PT"} and keys["AB1234CD"] != keys["KX5678PT"]
    closed = _run(tracker, [[]] * 3)
    assert {p.reading: p.track for p in closed} == keys
    assert tracker.take_views() == []  # closing offers nothing more


def _seen(
    x: float, look: np.ndarray, reading: str, w: float = 200
) -> tuple[PlateCrops, Embeddings]:
    crops = PlateCrops(
        [np.zeros((40, int(w), 3), np.uint8)],
        np.array([[x, 300, w, 40]], np.float32),
        np.array([0.9], np.float32),
    )
    return crops, Embeddings(look[None], [reading], np.array([0.9], np.float32))


def _pass(views: list[tuple[float, np.ndarray, str, float]]) -> list:
    """views: (x, look, reading, width) per frame, then enough empty frames to close."""
    tracker = Tracker(CFG)
    closed = []
    empty = (PlateCrops([], np.zeros((0, 4), np.float32), np.zeros(0, np.float32)),
             Embeddings(np.zeros((0, 64), np.float32), [], np.zeros(0, np.float32)))  # fmt: skip
    frames = [_seen(x, look, text, w) for x, look, text, w in views] + [empty] * 3
    for i, (crops, emb) in enumerate(frames):
        closed += tracker.update(_frame(i), crops, emb, arrived=i / 5, now=i / 5)
    return closed


def test_a_view_that_embeds_unlike_its_track_joins_it_when_it_reads_alike() -> None:
    # Motion blur or glare: the second view's vector is unlike the first (looks A, B), but
    # its reading differs by one character, so it is the same pass.
    closed = _pass([(100, LOOKS["A"], "AB1234CD", 200), (160, LOOKS["B"], "AB123CD", 200)])
    assert [p.hits for p in closed] == [2]
    # Readings two characters apart and looks unalike: two plates.
    closed = _pass([(100, LOOKS["A"], "AB1234CD", 200), (160, LOOKS["B"], "AB12CD", 200)])
    assert sorted(p.hits for p in closed) == [1, 1]


def test_a_plate_cut_by_the_frame_edge_joins_the_whole_plate_it_becomes() -> None:
    # Entering at the left edge: a narrow cut view, then the whole plate further on, with
    # unalike looks and readings; the cut view's shift is measured in the whole's width.
    closed = _pass([(0, LOOKS["A"], "34CD", 60), (150, LOOKS["B"], "AB1234CD", 200)])
    assert [p.hits for p in closed] == [2]
    assert closed[0].crop.shape[1] == 200  # the best view is the whole plate


def test_a_plate_missed_in_between_may_have_moved_further() -> None:
    # 250 px a frame at 200 px wide; missed twice, so 750 px (3.75 widths) from its box.
    frames = [(100, LOOKS["A"], "AB1234CD", 200), (350, LOOKS["A"], "AB1234CD", 200)]
    tracker = Tracker(CFG)
    closed = []
    for i, (x, look, text, w) in enumerate(frames):
        closed += tracker.update(_frame(i), *_seen(x, look, text, w), arrived=0, now=i / 5)
    for i in (2, 3):
        closed += tracker.update(_frame(i), *_seen(5000, LOOKS["B"], "KX5678PT", 10), 0, i / 5)
    closed += tracker.update(_frame(4), *_seen(1100, LOOKS["A"], "AB1234CD", 200), 0, 0.8)
    closed += tracker.flush()
    passes = sorted(p.hits for p in closed if p.reading == "AB1234CD")
    assert passes == [3]
