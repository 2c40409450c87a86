"""MotionGate: still scenes are skipped, movement and new cameras are not."""

from __future__ import annotations

import numpy as np
import pytest

from model.detect.motion import MotionConfigError, MotionGate, MotionOptions
from tests.model.detect.scenes import background, frame_of


def _still(seed: int = 0) -> np.ndarray:
    return background((640, 360), seed=3)


def test_first_frame_counts_as_changed_then_a_still_scene_does_not() -> None:
    gate = MotionGate()
    assert gate.changed(frame_of(_still()))
    assert not any(gate.changed(frame_of(_still())) for _ in range(5))


def test_sensor_noise_is_not_motion() -> None:
    gate = MotionGate()
    gate.changed(frame_of(_still()))
    rng = np.random.default_rng(0)
    for _ in range(5):
        noisy = np.clip(_still().astype(np.int16) + rng.normal(0, 4, _still().shape), 0, 255)
        assert not gate.changed(frame_of(noisy.astype(np.uint8)))


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (4, False),  # a 4x4 px speck: below the minimum changed area
        (40, True),  # a car-sized block (40x40 of 640x360 = 0.7% of the frame) moves in
    ],
)
def test_a_block_appearing_counts_when_large_enough(size: int, expected: bool) -> None:
    gate = MotionGate()
    gate.changed(frame_of(_still()))
    moved = _still().copy()
    moved[100 : 100 + size, 200 : 200 + size] = 250
    assert gate.changed(frame_of(moved)) is expected


def test_slow_drift_is_caught_against_the_last_changed_frame() -> None:
    # Each step is too small to count against its neighbour, but the reference stays at
    # the last changed frame, so the drift adds up until it counts.
    gate = MotionGate(MotionOptions(threshold=20, min_area=0.01))
    base = _still().astype(np.int16)
    gate.changed(frame_of(base.astype(np.uint8)))
    results = [
        gate.changed(frame_of(np.clip(base + 4 * k, 0, 255).astype(np.uint8))) for k in range(1, 10)
    ]
    assert not results[0] and any(results)


def test_a_new_frame_size_and_reset_count_as_changed() -> None:
    gate = MotionGate()
    gate.changed(frame_of(_still()))
    assert gate.changed(frame_of(background((320, 180), seed=3)))
    gate.reset()
    assert gate.changed(frame_of(background((320, 180), seed=3)))


def test_tiny_frames_work() -> None:
    gate = MotionGate()
    assert gate.changed(frame_of(np.zeros((1, 1, 3), np.uint8)))
    assert not gate.changed(frame_of(np.zeros((1, 1, 3), np.uint8)))


@pytest.mark.parametrize(
    ("options", "name"),
    [({"width": 4}, "width"), ({"threshold": 0}, "threshold"), ({"min_area": 1.5}, "min_area")],
)
def test_bad_settings_are_named(options: dict[str, float], name: str) -> None:
    with pytest.raises(MotionConfigError, match=name):
        MotionOptions(**options)  # type: ignore[arg-type]


def _moved_block(x: int) -> np.ndarray:
    pixels = _still().copy()
    pixels[150:190, x : x + 60] = 245  # a bright car-sized block
    return pixels


def test_a_moving_block_is_found_where_it_moved_and_nowhere_else() -> None:
    gate = MotionGate(MotionOptions(margin=0.05))
    assert gate.check(frame_of(_moved_block(100))).regions == ()  # first frame: whole frame
    verdict = gate.check(frame_of(_moved_block(130)))
    assert verdict.changed and len(verdict.regions) == 1
    x, y, w, h = verdict.regions[0]
    # covers where the block was and where it is now (x 100..190, y 150..190) ...
    assert x <= 100 and y <= 150 and x + w >= 190 and y + h >= 190
    # ... grown by about the margin (32 px of 640), and far smaller than the frame
    assert x >= 100 - 32 - 8 and x + w <= 190 + 32 + 8
    assert w * h < 0.15 * 640 * 360


def test_two_distant_changes_are_two_regions_and_a_still_frame_none() -> None:
    gate = MotionGate()
    gate.check(frame_of(_still()))
    pixels = _still().copy()
    pixels[20:60, 20:80] = 245
    pixels[280:320, 540:600] = 245
    verdict = gate.check(frame_of(pixels))
    assert verdict.changed and len(verdict.regions) == 2
    still = gate.check(frame_of(pixels))
    assert not still.changed and still.regions == ()


def test_a_change_over_most_of_the_frame_searches_the_whole_frame() -> None:
    gate = MotionGate()
    gate.check(frame_of(_still()))
    verdict = gate.check(frame_of(255 - _still()))  # lights on: everything changed
    assert verdict.changed and verdict.regions == ()


@pytest.mark.parametrize("options", [{"margin": -0.1}, {"max_region_area": 2.0}])
def test_bad_region_settings_are_named(options: dict[str, float]) -> None:
    with pytest.raises(MotionConfigError, match=next(iter(options))):
        MotionOptions(**options)  # type: ignore[arg-type]
