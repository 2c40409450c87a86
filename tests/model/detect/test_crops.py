"""cut_crops: joining boxes of one plate, margins, straightening tilted plates."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.detect.crops import cut_crops, merge_same_plate
from model.types import PlateCrops, PlateDetections, ShapeError
from tests.model.detect.scenes import frame_of, plate_image, scene


def _detections(boxes: list[list[float]], scores: list[float] | None = None) -> PlateDetections:
    b = np.array(boxes, np.float32).reshape(-1, 4)
    s = np.array(scores if scores is not None else [0.9] * len(b), np.float32)
    return PlateDetections(b, s)


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([[10, 10, 100, 20]], [[10, 10, 100, 20]]),  # one box stays as it is
        # one plate found as two overlapping pieces (two thirds of the smaller shared)
        ([[10, 10, 60, 20], [30, 10, 80, 20]], [[10, 10, 100, 20]]),
        # a box inside another (the same plate found twice): the union
        ([[10, 10, 100, 20], [20, 12, 30, 10]], [[10, 10, 100, 20]]),
        # two plates side by side, apart: kept apart
        ([[10, 10, 50, 20], [200, 10, 50, 20]], [[10, 10, 50, 20], [200, 10, 50, 20]]),
    ],
)
def test_merge_same_plate(boxes: list[list[float]], expected: list[list[float]]) -> None:
    merged = merge_same_plate(_detections(boxes))
    got = sorted(merged.boxes.tolist())
    assert np.allclose(got, sorted(expected))


def test_crop_of_an_upright_plate_matches_the_plate() -> None:
    s = scene(("AB123CD",), plate_width=220)
    crops = cut_crops(s.frame, PlateDetections(s.boxes, np.ones(1, np.float32)), margin=0.0)
    assert isinstance(crops, PlateCrops) and len(crops) == 1
    _, _, w, h = s.boxes[0]
    assert crops.images[0].shape[:2] == (round(h), round(w))
    assert np.allclose(crops.boxes, s.boxes) and crops.scores[0] == 1.0


@pytest.mark.parametrize("margin", [0.0, 0.1, 0.5])
def test_margin_grows_the_crop_by_a_fraction_of_its_height(margin: float) -> None:
    s = scene(("AB123CD",), plate_width=200)
    found = PlateDetections(s.boxes, np.ones(1, np.float32))
    h, w = cut_crops(s.frame, found, margin=margin).images[0].shape[:2]
    bh, bw = s.boxes[0, 3], s.boxes[0, 2]
    assert h == pytest.approx(bh * (1 + 2 * margin), abs=1.5)
    assert w == pytest.approx(bw + 2 * margin * bh, abs=1.5)


def test_tilted_plate_is_straightened_by_its_quad() -> None:
    s = scene(("AB123CD",), plate_width=240, tilt_deg=15.0)
    found = PlateDetections(s.boxes, np.ones(1, np.float32), s.quads)
    crop = cut_crops(s.frame, found, margin=0.0).images[0]
    upright = plate_image("AB123CD", 240)
    assert abs(crop.shape[1] - upright.shape[1]) <= 2 and abs(crop.shape[0] - upright.shape[0]) <= 2
    resized = cv2.resize(crop, (upright.shape[1], upright.shape[0]))
    a = cv2.cvtColor(resized, cv2.COLOR_BGR2GRAY).astype(np.float32)
    b = cv2.cvtColor(upright, cv2.COLOR_BGR2GRAY).astype(np.float32)
    straight = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    # The same box cut without its quad (axis-aligned) is a poor likeness of the plate.
    box_crop = cut_crops(s.frame, PlateDetections(s.boxes, np.ones(1, np.float32))).images[0]
    c = cv2.cvtColor(cv2.resize(box_crop, (upright.shape[1], upright.shape[0])), cv2.COLOR_BGR2GRAY)
    tilted = np.corrcoef(c.astype(np.float32).ravel(), b.ravel())[0, 1]
    assert straight > 0.8 and straight > tilted + 0.2, (straight, tilted)


@pytest.mark.parametrize(
    "box",
    [
        [2000, 100, 50, 20],  # right of the frame
        [-300, -300, 100, 100],  # above and left of it
        [10, 10, 0, 20],  # no width
    ],
)
def test_boxes_outside_the_frame_or_without_area_give_no_crop(box: list[float]) -> None:
    frame = frame_of(np.zeros((100, 200, 3), np.uint8))
    assert len(cut_crops(frame, _detections([box]))) == 0


def test_box_partly_outside_is_cut_with_the_border_repeated() -> None:
    frame = frame_of(np.full((100, 200, 3), 77, np.uint8))
    crops = cut_crops(frame, _detections([[180, 90, 60, 30]]), margin=0.0)
    assert crops.images[0].shape[:2] == (30, 60)
    assert (crops.images[0] == 77).all()


def test_no_detections_no_crops() -> None:
    crops = cut_crops(frame_of(np.zeros((50, 50, 3), np.uint8)), PlateDetections())
    assert len(crops) == 0 and crops.boxes.shape == (0, 4)


@pytest.mark.parametrize("margin", [-0.1, float("nan"), float("inf")])
def test_bad_margin_is_refused(margin: float) -> None:
    with pytest.raises(ValueError, match="margin"):
        cut_crops(frame_of(np.zeros((50, 50, 3), np.uint8)), PlateDetections(), margin=margin)


def _read(boxes: list[list[float]], scores: list[float], texts: list[str]) -> PlateDetections:
    """Detections as a reading backend gives them: each box with its text and confidence."""
    d = _detections(boxes, scores)
    conf = np.linspace(0.7, 0.9, len(texts)).astype(np.float32)
    return PlateDetections(d.boxes, d.scores, None, texts, conf)


def test_readings_stay_with_their_crops() -> None:
    frame = frame_of(np.full((100, 400, 3), 90, np.uint8))
    # two plates apart, listed in reverse order of score: each keeps its own reading
    found = _read([[10, 10, 50, 20], [200, 10, 50, 20]], [0.5, 0.9], ["AB123", "XY987"])
    crops = cut_crops(frame, found)
    by_x = np.argsort(crops.boxes[:, 0])
    assert crops.readings is not None and crops.read_confidences is not None
    assert [crops.readings[i] for i in by_x] == ["AB123", "XY987"]
    np.testing.assert_allclose(crops.read_confidences[by_x], [0.7, 0.9])


def test_joined_boxes_keep_the_reading_of_the_best_scored_box() -> None:
    # one plate found whole (scored 0.8) and as a piece (scored 0.6, read short)
    found = _read([[30, 10, 80, 20], [10, 10, 60, 20]], [0.8, 0.6], ["AB1234", "AB1"])
    merged = merge_same_plate(found)
    assert len(merged) == 1 and merged.readings == ["AB1234"]
    assert merged.read_confidences is not None and merged.read_confidences[0] == pytest.approx(0.7)


def test_a_box_left_out_takes_its_reading_with_it() -> None:
    frame = frame_of(np.full((100, 200, 3), 90, np.uint8))
    found = _read([[2000, 10, 50, 20], [10, 10, 50, 20]], [0.9, 0.5], ["OUT12", "IN345"])
    crops = cut_crops(frame, found)
    assert crops.readings == ["IN345"]


def test_detections_that_do_not_read_give_crops_without_readings() -> None:
    frame = frame_of(np.full((100, 400, 3), 90, np.uint8))
    crops = cut_crops(frame, _detections([[10, 10, 50, 20], [30, 12, 40, 16]]))
    assert crops.readings is None and crops.read_confidences is None


@pytest.mark.parametrize(
    ("readings", "confidences"),
    [
        (["AB123"], None),  # a reading without its confidence
        (None, [0.5]),  # a confidence without its reading
        (["AB123", "CD456"], [0.5, 0.5]),  # two readings for one box
        (["AB123"], [0.5, 0.5]),  # two confidences for one box
    ],
)
def test_readings_must_fit_the_boxes(
    readings: list[str] | None, confidences: list[float] | None
) -> None:
    conf = None if confidences is None else np.array(confidences, np.float32)
    with pytest.raises(ShapeError, match="read"):
        PlateDetections(np.zeros((1, 4), np.float32), np.ones(1, np.float32), None, readings, conf)
