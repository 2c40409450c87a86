"""The EasyOCR (CRAFT) backend: the missing-weights message, and real loading and
inference with stand-in weights (a randomly initialised CRAFT saved by the test; the real
file cannot be downloaded here)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from model.detect import BackendUnavailableError, create_detector
from model.types import PlateDetections
from tests.model.detect.scenes import frame_of, scene


def test_missing_weights_say_which_file_and_where(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError) as err:
        create_detector("easyocr", model_dir=tmp_path)
    message = str(err.value)
    assert "craft_mlt_25k.pth" in message
    assert str(tmp_path) in message
    assert "model_dir" in message


def test_default_folder_is_easyocrs_usual_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(BackendUnavailableError, match=r"\.EasyOCR/model"):
        create_detector("easyocr")


@pytest.fixture(scope="module")
def stand_in_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch", reason="the easyocr extra (torch) is not installed")
    craft = pytest.importorskip("easyocr.craft", reason="the easyocr extra is not installed")
    folder = tmp_path_factory.mktemp("easyocr_model")
    torch.manual_seed(0)
    torch.save(craft.CRAFT(pretrained=False).state_dict(), folder / "craft_mlt_25k.pth")
    return folder


@pytest.mark.slow
def test_stand_in_weights_load_and_run(
    stand_in_weights: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="model.detect.craft"):
        detector = create_detector("easyocr", model_dir=stand_in_weights, max_side=320)
    # Not the published file: used anyway, and the log says so.
    assert any("md5" in r.getMessage() for r in caplog.records)
    for pixels in (
        scene(("AB123CD",), size=(640, 360)).frame.pixels,
        np.zeros((3, 5000, 3), np.uint8),
        np.zeros((1, 1, 3), np.uint8),
    ):
        found = detector.detect(frame_of(pixels))
        assert isinstance(found, PlateDetections)
        assert (found.scores >= 0).all() and (found.scores <= 1).all()


def test_a_file_that_is_not_craft_is_refused(stand_in_weights: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "craft_mlt_25k.pth")
    with pytest.raises(BackendUnavailableError, match="not a CRAFT state_dict"):
        create_detector("easyocr", model_dir=tmp_path)
