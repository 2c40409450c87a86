"""Backends search only a frame's motion regions when it names them (Frame.regions), and
report boxes in whole-frame pixels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model.detect._frames import scaled_windows
from model.detect.evaluate import iou
from model.protocols import Detector
from model.types import Frame, ShapeError
from tests.model.detect.scenes import frame_of, scene


@pytest.mark.parametrize("backend", ["ppocr", "platenet"])
def test_a_region_around_the_plate_finds_it_where_the_whole_frame_does(
    backend: str, request: pytest.FixtureRequest
) -> None:
    detector: Detector = request.getfixturevalue(backend)
    s = scene(("KA4321X", "AB123CD"), plate_width=240)
    whole = detector.detect(s.frame)
    x, y, w, h = s.boxes[0]  # around the first plate only, with room about it
    region = (int(x) - 100, int(y) - 80, int(w) + 200, int(h) + 160)
    part = detector.detect(replace(s.frame, regions=(region,)))
    assert len(whole) == 2 and len(part) == 1
    # the same plate, at the same place in frame pixels
    assert iou(part.boxes, s.boxes[0:1])[0, 0] >= 0.5
    assert iou(part.boxes, whole.boxes).max() >= 0.6
    if whole.readings is not None:  # read as the whole frame's search read the same plate
        same = int(np.argmax(iou(part.boxes, whole.boxes)[0]))
        assert part.readings == [whole.readings[same]]


@pytest.mark.parametrize("backend", ["ppocr", "platenet"])
def test_a_region_away_from_every_plate_finds_nothing(
    backend: str, request: pytest.FixtureRequest
) -> None:
    detector: Detector = request.getfixturevalue(backend)
    s = scene(("AB123CD",), plate_width=200)
    assert len(detector.detect(s.frame)) == 1
    assert len(detector.detect(replace(s.frame, regions=((0, 0, 200, 150),)))) == 0
    # a region too small to hold a plate is skipped, not an error
    assert len(detector.detect(replace(s.frame, regions=((10, 10, 4, 4),)))) == 0


@pytest.mark.parametrize("region", [(0, 0, 0, 10), (-1, 0, 10, 10), (600, 300, 50, 10), (0, 0, 10)])
def test_a_region_outside_the_frame_is_refused(region: tuple[int, ...]) -> None:
    pixels = np.zeros((320, 640, 3), np.uint8)
    with pytest.raises(ShapeError, match="region"):
        Frame(camera="c", time=frame_of(pixels).time, pixels=pixels, regions=(region,))  # type: ignore[arg-type]


def test_windows_hold_exactly_the_pixels_the_whole_frame_search_sees() -> None:
    s = scene(("AB123CD",), plate_width=200)
    pixels = s.frame.pixels
    region = (301, 207, 333, 149)
    scale, whole = scaled_windows(s.frame, pixels, 960, 32)
    _, [(x, y, window)] = scaled_windows(replace(s.frame, regions=(region,)), pixels, 960, 32)
    assert scale == 0.75 and len(whole) == 1
    assert x % 32 == 0 and y % 32 == 0  # on the network's grid ...
    assert x <= region[0] * scale and y <= region[1] * scale  # ... and covering the region
    assert x + window.shape[1] >= (region[0] + region[2]) * scale
    assert y + window.shape[0] >= (region[1] + region[3]) * scale
    np.testing.assert_array_equal(
        window, whole[0][2][y : y + window.shape[0], x : x + window.shape[1]]
    )
