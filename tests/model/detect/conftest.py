"""Detectors are built once per session: loading ONNX sessions costs ~1 s each time."""

from __future__ import annotations

import pytest

from model.detect import create_detector
from model.protocols import Detector


@pytest.fixture(scope="session")
def ppocr() -> Detector:
    return create_detector("ppocr")


@pytest.fixture(scope="session")
def platenet() -> Detector:
    return create_detector("platenet")
