"""create_detector / available_detectors: names, options, and saying which backend runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from model.detect import (
    DEFAULT_DETECTOR,
    BackendUnavailableError,
    DetectorConfigError,
    available_detectors,
    create_detector,
    detector_names,
    first_available,
)


def test_every_offline_backend_is_available_here() -> None:
    found = available_detectors()
    assert DEFAULT_DETECTOR in found
    assert set(found) <= set(detector_names())


@pytest.mark.parametrize("name", ["ppocr"])
def test_the_running_backend_and_why_is_logged(name: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="model.detect"):
        detector = create_detector(name)
    assert detector.name == name
    assert any(name in r.getMessage() and "running" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("name", "options", "names_in_message"),
    [
        ("yolo", {}, ["yolo", "ppocr", "easyocr"]),  # unknown: lists the choices
        ("ppocr", {"max_sid": 640}, ["max_sid"]),  # misspelt option: named
        ("ppocr", {"max_side": 10}, ["max_side", "64"]),  # out of range: says the bound
        ("ppocr", {"threads": 0}, ["threads"]),
        ("cascade", {}, ["cascade", "ppocr"]),  # measured, too weak, not offered
    ],
)
def test_bad_names_and_options_are_named(
    name: str, options: dict[str, object], names_in_message: list[str]
) -> None:
    with pytest.raises(DetectorConfigError) as err:
        create_detector(name, **options)
    for word in names_in_message:
        assert word in str(err.value)


def test_options_reach_the_backend() -> None:
    detector = create_detector("ppocr", max_side=320, verify=False)
    assert detector.options.max_side == 320  # type: ignore[attr-defined]
    assert detector.options.verify is False  # type: ignore[attr-defined]


def test_first_available_falls_back_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="model.detect"):
        detector = first_available(
            ["easyocr", "ppocr"], {"easyocr": {"model_dir": tmp_path}, "ppocr": {"max_side": 640}}
        )
    assert detector.name == "ppocr"
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "passed over" in messages and "craft_mlt_25k.pth" in messages


def test_first_available_with_nothing_usable_lists_every_reason(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match=r"easyocr: .*craft_mlt_25k\.pth"):
        first_available(["easyocr"], {"easyocr": {"model_dir": tmp_path}})


def test_first_available_does_not_hide_option_mistakes() -> None:
    with pytest.raises(DetectorConfigError, match="max_sid"):
        first_available(["ppocr"], {"ppocr": {"max_sid": 1}})
