"""The rules that tell a plate's text line from other text, and growing lines to plates."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.detect._ppocr import Reading
from model.detect.evaluate import iou
from model.detect.plates import PlateOptions, pad_quads, reads_like_plate
from model.protocols import Detector
from tests.model.detect.scenes import background, frame_of, plate_image


@pytest.mark.parametrize(
    ("raw", "confidence", "expected"),
    [
        ("AB123CD", 0.95, True),  # EU
        ("RK-619A", 0.95, True),  # separators on the plate are fine
        ("6MTP929", 0.95, True),  # US
        ("1049338", 0.95, True),  # all digits, 7 long: some US plates are
        ("AB123CD", 0.30, False),  # read with too little confidence
        ("TEXAS", 0.99, False),  # a state name: no digit
        ("RESIDENT", 0.99, False),  # a sign
        ("2014", 0.99, False),  # too short
        ("20140502", 0.99, False),  # 8 digits in a row: a date stamp
        ("2014-04-28", 0.99, False),  # a date overlay
        ("28/04/14", 0.99, False),
        ("06:40:28", 0.99, False),  # a time overlay
        ("BY:649AG", 0.95, True),  # the crest between a Slovak plate's groups, read as ':'
        ("1B2:5790", 0.95, True),  # the same on a Czech plate
        ("1800GOPENSKECOM", 0.99, False),  # too long: a phone number or web address
    ],
)
def test_reads_like_plate(raw: str, confidence: float, expected: bool) -> None:
    text = "".join(ch for ch in raw if ch.isalnum())
    assert reads_like_plate(Reading(text, confidence, raw), PlateOptions()) is expected


def test_time_overlay_is_not_a_plate_but_the_plate_is(ppocr: Detector) -> None:
    pixels = background((1280, 720), seed=5)
    cv2.putText(pixels, "2014-04-28", (40, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    cv2.putText(pixels, "06:40:28", (40, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    plate = plate_image("KA4321X", 220)
    pixels[400 : 400 + plate.shape[0], 600:820] = plate
    found = ppocr.detect(frame_of(pixels))
    assert len(found) == 1
    truth = np.array([[600, 400, 220, plate.shape[0]]], np.float32)
    assert iou(found.boxes, truth)[0, 0] >= 0.5


@pytest.mark.parametrize(
    ("pad_x", "pad_y", "expected"),
    [
        (0.0, 0.0, [[10, 20], [110, 20], [110, 40], [10, 40]]),  # unchanged
        (0.5, 0.0, [[0, 20], [120, 20], [120, 40], [0, 40]]),  # half a line height each side
        (0.0, 0.5, [[10, 10], [110, 10], [110, 50], [10, 50]]),
        (2.0, 2.0, [[0, 0], [150, 0], [150, 60], [0, 60]]),  # clipped to the 150x60 frame
    ],
)
def test_pad_quads_in_line_heights(pad_x: float, pad_y: float, expected: list[list[int]]) -> None:
    quad = np.array([[[10, 20], [110, 20], [110, 40], [10, 40]]], np.float32)
    grown = pad_quads(quad, pad_x, pad_y, 150, 60)
    assert np.allclose(grown[0], expected)
