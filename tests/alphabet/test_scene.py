"""Synthetic frames: still scenes and car close-ups for detectors, and the moving road of the
built-in camera."""

from __future__ import annotations

import numpy as np
import pytest

from alphabet.closeup import _us_print, synth_closeup
from alphabet.formats import FORMATS
from alphabet.scene import Scene, SceneError, SyntheticTraffic, synth_scene
from alphabet.synth import draw_plate
from alphabet.text import normalize


def _check_boxes_inside(scene: Scene) -> None:
    height, width = scene.pixels.shape[:2]
    for x, y, w, h in scene.boxes:
        assert x >= 0 and y >= 0 and w > 0 and h > 0
        assert x + w <= width and y + h <= height


def _plate_contrast(scene: Scene) -> list[float]:
    """Grey-level spread inside each plate box (a drawn plate has ink on paper)."""
    grey = scene.pixels.mean(axis=2)
    return [
        float(grey[int(y) : int(y + h), int(x) : int(x + w)].std()) for x, y, w, h in scene.boxes
    ]


@pytest.mark.parametrize("size", [(1280, 720), (640, 480), (1920, 1080), (320, 240)])
@pytest.mark.parametrize("seed", [0, 1])
def test_synth_scene_shapes_and_boxes(size: tuple[int, int], seed: int) -> None:
    scene = synth_scene(np.random.default_rng(seed), size=size)
    assert scene.pixels.shape == (size[1], size[0], 3) and scene.pixels.dtype == np.uint8
    assert scene.boxes.dtype == np.float32 and scene.boxes.shape == (len(scene.texts), 4)
    assert len(scene.formats) == len(scene.texts)
    assert all(f in FORMATS for f in scene.formats)
    assert all(normalize(t) == t for t in scene.texts)
    _check_boxes_inside(scene)
    assert all(c > 15 for c in _plate_contrast(scene))


def test_synth_scene_plate_counts_follow_the_range() -> None:
    counts = [len(synth_scene(np.random.default_rng(s), n_plates=(1, 3)).texts) for s in range(12)]
    assert min(counts) >= 1 and max(counts) <= 3
    assert len(set(counts)) > 1
    assert synth_scene(np.random.default_rng(0), n_plates=(0, 0)).boxes.shape == (0, 4)


def test_synth_scene_plate_sizes_vary() -> None:
    heights = np.concatenate([synth_scene(np.random.default_rng(s)).boxes[:, 3] for s in range(10)])
    assert heights.min() < 25 and heights.max() > 30
    assert heights.min() >= 8


def test_synth_scene_is_deterministic() -> None:
    a, b = (synth_scene(np.random.default_rng(4)) for _ in range(2))
    assert np.array_equal(a.pixels, b.pixels) and np.array_equal(a.boxes, b.boxes)
    assert a.texts == b.texts
    c = synth_scene(np.random.default_rng(5))
    assert not np.array_equal(a.pixels, c.pixels)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": (32, 720)}, "64x64"),
        ({"n_plates": (3, 1)}, "n_plates"),
        ({"n_plates": (-1, 2)}, "n_plates"),
    ],
)
def test_synth_scene_refuses_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SceneError, match=message):
        synth_scene(np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]


def test_scene_checks_its_shapes() -> None:
    pixels = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(SceneError, match="as many"):
        Scene(pixels, np.zeros((1, 4), np.float32), [], [])
    with pytest.raises(SceneError, match=r"\(N, 4\)"):
        Scene(pixels, np.zeros((4,), np.float32), [], [])
    with pytest.raises(SceneError, match="uint8"):
        Scene(np.zeros((8, 8), np.uint8), np.zeros((0, 4), np.float32), [], [])


PLATES = ["AA5149EK", "ABC1234", "1234BCD"]


def _run(traffic: SyntheticTraffic, n: int) -> list[Scene]:
    return [traffic.frame(i) for i in range(n)]


def test_traffic_cars_carry_the_given_plates_in_turn() -> None:
    traffic = SyntheticTraffic(seed=1, size=(640, 360), fps=5.0, plates=PLATES)
    frames = _run(traffic, 160)
    passes: list[str] = []
    for scene in frames:
        for text in scene.texts:
            if not passes or passes[-1] != text:
                passes.append(text)
    assert passes[:6] == PLATES + PLATES
    for scene in frames:
        _check_boxes_inside(scene)
        assert scene.pixels.shape == (360, 640, 3)


def test_traffic_plates_move_and_stay_visible_for_seconds() -> None:
    fps = 5.0
    frames = _run(SyntheticTraffic(seed=2, fps=fps, plates=PLATES), 60)
    seen = [i for i, s in enumerate(frames) if s.texts == [PLATES[0]]]
    assert len(seen) >= 2 * fps * 0.5  # in view for a good part of a 2.5-4 s crossing
    xs = [frames[i].boxes[0, 0] for i in seen]
    steps = np.diff(xs)
    assert np.all(steps > 0) or np.all(steps < 0)  # one direction, every frame
    assert all(c > 15 for i in seen for c in _plate_contrast(frames[i]))


def test_traffic_frames_between_cars_are_still() -> None:
    frames = _run(SyntheticTraffic(seed=3, fps=5.0, plates=PLATES), 80)
    empty = [i for i, s in enumerate(frames) if not s.texts]
    still = [
        i
        for i in empty
        if i + 1 in empty and np.array_equal(frames[i].pixels, frames[i + 1].pixels)
    ]
    assert still  # the road with no car is pixel-identical from frame to frame
    assert frames[0].boxes.shape == (0, 4)  # the first car comes after a short gap


def test_traffic_is_deterministic_and_random_access() -> None:
    a = SyntheticTraffic(seed=7, plates=PLATES)
    b = SyntheticTraffic(seed=7, plates=PLATES)
    for i in (40, 3, 17, 40):
        fa, fb = a.frame(i), b.frame(i)
        assert np.array_equal(fa.pixels, fb.pixels) and fa.texts == fb.texts
    c = SyntheticTraffic(seed=8, plates=PLATES)
    assert not np.array_equal(a.frame(0).pixels, c.frame(0).pixels)


def test_traffic_without_plates_draws_random_ones() -> None:
    frames = _run(SyntheticTraffic(seed=0, fps=2.0), 60)
    texts = {t for s in frames for t in s.texts}
    assert len(texts) >= 3
    assert all(normalize(t) == t for t in texts)
    formats = {f for s in frames for f in s.formats}
    assert formats <= set(FORMATS)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fps": 0.0}, SceneError, "fps"),
        ({"size": (10, 10)}, SceneError, "64x64"),
        ({"plates": ["AA#1"]}, ValueError, "'#'"),
    ],
)
def test_traffic_refuses_bad_arguments(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        SyntheticTraffic(0, **kwargs)  # type: ignore[arg-type]


def test_traffic_refuses_negative_frames() -> None:
    with pytest.raises(SceneError, match=">= 0"):
        SyntheticTraffic(0).frame(-1)


def test_traffic_small_frames_work() -> None:
    traffic = SyntheticTraffic(0, size=(64, 64), plates=["AB12"])
    for scene in _run(traffic, 30):
        assert scene.pixels.shape == (64, 64, 3)
        _check_boxes_inside(scene)


# Close-ups: one car filling much of a daylight photo, its plate 5-35 % of the width.


@pytest.mark.parametrize("size", [(1024, 768), (640, 480), (600, 800), (1280, 720)])
@pytest.mark.parametrize("seed", range(6))
def test_closeup_box_holds_its_plate(size: tuple[int, int], seed: int) -> None:
    scene = synth_closeup(np.random.default_rng([11, seed]), size)
    assert scene.pixels.shape == (size[1], size[0], 3) and scene.pixels.dtype == np.uint8
    assert scene.boxes.shape == (1, 4) and len(scene.texts) == len(scene.formats) == 1
    assert scene.formats[0] in FORMATS and normalize(scene.texts[0]) == scene.texts[0]
    _check_boxes_inside(scene)
    w, h = scene.boxes[0, 2:]
    # The photo's perspective moves each corner by at most 3 % of the frame.
    assert 0.05 * 0.9 <= w / size[0] <= 0.35 * 1.15, w
    aspect = {"us": 2.0, "br": 3.08}.get(scene.formats[0], 4.7)
    assert 0.7 * aspect <= w / h <= 1.3 * aspect, (w, h, scene.formats)
    assert all(c > 15 for c in _plate_contrast(scene))


def test_closeup_draws_us_and_eu_plates_and_is_deterministic() -> None:
    formats = [
        synth_closeup(np.random.default_rng([12, s]), (640, 480)).formats[0] for s in range(30)
    ]
    assert {"us", "eu"} <= set(formats)
    a, b = (synth_closeup(np.random.default_rng(3), (640, 480)) for _ in range(2))
    assert np.array_equal(a.pixels, b.pixels) and np.array_equal(a.boxes, b.boxes)


def test_closeup_us_plates_carry_print_above_the_characters() -> None:
    rng = np.random.default_rng(0)
    plate = draw_plate("ABC1234", "us", rng, height=80)
    before = plate.copy()
    _us_print(plate, rng)
    top = slice(int(80 * 0.04), int(80 * 0.24))
    assert not np.array_equal(plate[top], before[top])  # the state name
    assert plate[top].std() > 10
    middle = slice(int(80 * 0.35), int(80 * 0.75))
    assert np.array_equal(plate[middle, 20:-20], before[middle, 20:-20])  # characters kept


def test_closeup_refuses_small_frames() -> None:
    with pytest.raises(SceneError, match="64x64"):
        synth_closeup(np.random.default_rng(0), (40, 400))
