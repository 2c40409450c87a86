"""Readings of unchanged candidate lines are reused (model.detect.memo): the unit, and the
real ppocr backend on a synthetic frame with the recogniser's calls counted."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from model.detect import _ppocr, create_detector
from model.detect._ppocr import Reading
from model.detect.memo import ReadingMemo
from model.protocols import Detector
from model.types import Frame
from tests.model.detect.scenes import background, plate_image

QUAD = np.array([[[10, 20], [110, 20], [110, 40], [10, 40]]], np.float32)


def line(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (20, 100, 3), dtype=np.uint8)


def test_memo_recalls_only_unchanged_lines_of_the_same_camera() -> None:
    memo = ReadingMemo()
    crop = line()
    known, thumbs = memo.recall("gate", QUAD, [crop])
    assert known == [None]
    memo.keep("gate", QUAD, thumbs, [Reading("AB123CD", 0.9, "AB 123 CD")])
    assert memo.recall("gate", QUAD, [crop])[0] == [Reading("AB123CD", 0.9, "AB 123 CD")]
    # Sensor noise of a grey level or two is the same line.
    noisy = np.clip(crop.astype(int) + np.random.default_rng(1).integers(-2, 3, crop.shape), 0, 255)
    assert memo.recall("gate", QUAD, [noisy.astype(np.uint8)])[0][0] is not None
    assert memo.recall("gate", QUAD, [line(seed=5)])[0] == [None]  # other pixels
    assert memo.recall("gate", QUAD + 40, [crop])[0] == [None]  # elsewhere in the frame
    assert memo.recall("yard", QUAD, [crop])[0] == [None]  # another camera


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines the real recogniser read, call by call."""
    calls: list[int] = []
    real = _ppocr.read_crops

    def counting(crops, threads=1):  # type: ignore[no-untyped-def]
        calls.append(len(crops))
        return real(crops, threads)

    monkeypatch.setattr(_ppocr, "read_crops", counting)
    return calls


def frame(pixels: np.ndarray, camera: str) -> Frame:
    return Frame(camera, datetime(2026, 11, 24, tzinfo=UTC), pixels)


def test_ppocr_reads_a_still_line_once(counted: list[int]) -> None:
    detector: Detector = create_detector("ppocr")
    pixels = background((1280, 720), seed=3)
    plate = plate_image("KA4321X", 220)
    pixels[400 : 400 + plate.shape[0], 600:820] = plate
    first = detector.detect(frame(pixels, "memo-still"))
    again = detector.detect(frame(pixels.copy(), "memo-still"))
    assert len(first) == 1 and first.readings == again.readings
    assert np.allclose(first.boxes, again.boxes) and np.allclose(first.scores, again.scores)
    assert counted[0] >= 1 and sum(counted[1:]) == 0  # the second frame read nothing
    # Another plate in the same place is read afresh.
    other = pixels.copy()
    new_plate = plate_image("BX9876T", 220)
    other[400 : 400 + new_plate.shape[0], 600:820] = new_plate
    changed = detector.detect(frame(other, "memo-still"))
    assert sum(counted[1:]) >= 1
    assert changed.readings != first.readings


def test_reuse_can_be_turned_off(counted: list[int]) -> None:
    detector: Detector = create_detector("ppocr", reuse_readings=False)
    pixels = background((1280, 720), seed=4)
    plate = plate_image("KA4321X", 220)
    pixels[300 : 300 + plate.shape[0], 500:720] = plate
    detector.detect(frame(pixels, "memo-off"))
    detector.detect(frame(pixels, "memo-off"))
    assert len(counted) == 2 and counted[0] == counted[1] >= 1
