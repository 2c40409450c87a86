"""Plates too small to read: platenet's small boxes added to what ppocr found."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.detect import create_detector
from model.detect.small import add_small_plates
from model.types import PlateDetections
from tests.model.detect.scenes import tally_on_real_photos


def _found() -> PlateDetections:
    boxes = np.array([[100, 100, 80, 20]], np.float32)
    quads = np.array([[[100, 100], [180, 100], [180, 120], [100, 120]]], np.float32)
    return PlateDetections(
        boxes, np.array([0.9], np.float32), quads, ["AB123CD"], np.array([0.95], np.float32)
    )


def test_only_small_plates_no_text_line_found_are_added_unread() -> None:
    extra = PlateDetections(
        np.array(
            [
                [102, 101, 78, 10],  # small, but the plate already found: not added
                [300, 50, 40, 9],  # small and new: added
                [500, 300, 120, 30],  # new but large enough to read: the reading check's call
            ],
            np.float32,
        ),
        np.array([0.8, 0.75, 0.99], np.float32),
    )
    out = add_small_plates(_found(), extra, max_height=12)
    assert len(out) == 2
    np.testing.assert_array_equal(out.boxes[1], [300, 50, 40, 9])
    assert out.readings == ["AB123CD", ""]  # the embedder's reader reads the new one
    assert out.read_confidences is not None and out.read_confidences[1] == 0
    assert out.quads is not None and out.quads.shape == (2, 4, 2)
    np.testing.assert_array_equal(out.quads[1], [[300, 50], [340, 50], [340, 59], [300, 59]])


def test_nothing_small_leaves_the_plates_as_they_were() -> None:
    found = _found()
    assert add_small_plates(found, PlateDetections(), max_height=12) is found
    empty = add_small_plates(PlateDetections(), PlateDetections(), max_height=12)
    assert len(empty) == 0


def test_small_plates_find_more_of_the_tiny_uc3m_plates(shared_data: Path) -> None:
    # Real 320-px UC3M scenes: most plates are a few pixels high and cannot be read.
    plain = tally_on_real_photos(create_detector("ppocr"), shared_data / "uc3m_scenes", "val")
    small = tally_on_real_photos(
        create_detector("ppocr", small_plates=True), shared_data / "uc3m_scenes", "val"
    )
    assert small.hits >= plain.hits + 3, (plain.summary(), small.summary())  # 3 and 8 of 15
    assert small.hits >= 0.5 * small.found, small.summary()
