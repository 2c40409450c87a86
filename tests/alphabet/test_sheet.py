"""The sample sheet of synthetic crops and its command, ``platewatch synth``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from alphabet.sheet import COLUMNS, TILE, sample_sheet
from platewatch.cli import main


@pytest.mark.parametrize(("count", "rows"), [(1, 1), (5, 1), (6, 2), (12, 3)])
def test_sheet_shape(count: int, rows: int) -> None:
    sheet = sample_sheet(count, seed=0, difficulty=0.5)
    assert sheet.dtype == np.uint8
    assert sheet.shape == (rows * (TILE[1] + 20), COLUMNS * TILE[0], 3)


def test_sheet_is_deterministic_per_seed() -> None:
    assert np.array_equal(sample_sheet(5, seed=3), sample_sheet(5, seed=3))
    assert not np.array_equal(sample_sheet(5, seed=3), sample_sheet(5, seed=4))


def test_sheet_refuses_no_crops() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        sample_sheet(0, seed=0)


def test_synth_command_writes_a_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sheets" / "es.png"
    code = main(["synth", "-o", str(out), "-n", "7", "--formats", "es", "--difficulty", "0.3"])
    assert code == 0
    assert "7 synthetic crops" in capsys.readouterr().out
    sheet = cv2.imread(str(out))
    assert sheet is not None
    assert np.array_equal(sheet, sample_sheet(7, 0, ["es"], 0.3))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "1 to 10000"),
        (["-n", "many"], "whole number"),
        (["--difficulty", "2"], "0 to 1"),
        (["--masked", "x"], "0 to 1"),
    ],
)
def test_synth_command_refuses_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit):
        main(["synth", "-o", str(tmp_path / "x.png"), *args])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--formats", "mars"], "'mars'"), (["-o", "x.gif"], ".png or .jpg")],
)
def test_synth_command_reports_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    argv = ["synth", "-o", str(tmp_path / "x.png"), *args]
    if args[0] == "-o":
        argv = ["synth", "-o", str(tmp_path / args[1])]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
