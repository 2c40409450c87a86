"""Scoring (IoU, matching, labels) and the ``platewatch eval detection`` command, on a
folder of synthetic frames written to disk as a user's folder would be, and on the real
photos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from model.detect.evaluate import LabelsError, iou, load_labels, match, reads_as
from model.types import PlateDetections
from platewatch.cli import main
from tests.model.detect.scenes import scene


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),  # same box
        ([0, 0, 10, 10], [5, 0, 10, 10], 50 / 150),  # half shifted
        ([0, 0, 10, 10], [20, 20, 5, 5], 0.0),  # apart
        ([0, 0, 10, 10], [2, 2, 5, 5], 25 / 100),  # one inside the other
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # no area: no overlap, no division by zero
    ],
)
def test_iou(a: list[float], b: list[float], expected: float) -> None:
    got = iou(np.array([a], np.float32), np.array([b], np.float32))[0, 0]
    assert got == pytest.approx(expected, abs=1e-6)


def test_match_takes_best_scored_first_and_each_truth_once() -> None:
    truth = np.array([[0, 0, 10, 10], [100, 0, 10, 10]], np.float32)
    found = PlateDetections(
        np.array([[1, 0, 10, 10], [0, 0, 10, 10], [300, 0, 5, 5]], np.float32),
        np.array([0.5, 0.9, 0.99], np.float32),
    )
    assert match(truth, found).tolist() == [1, -1]


def _write_folder(folder: Path, corrupt: bool = False) -> None:
    rows = ["file,plate_text,x,y,w,h,split"]
    for i, text in enumerate(["AB123CD", "KA4321X", "7XYZ123"]):
        s = scene((text,), size=(960, 540), plate_width=200, seed=i)
        cv2.imwrite(str(folder / f"{i}.png"), s.frame.pixels)
        x, y, w, h = s.boxes[0]
        rows.append(f"{i}.png,{text},{x:.1f},{y:.1f},{w:.1f},{h:.1f},{'val' if i else 'train'}")
    if corrupt:
        (folder / "bad.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
        rows.append("bad.jpg,XY987ZZ,10,10,50,12,val")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")


def test_eval_detection_json_on_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_folder(tmp_path, corrupt=True)
    assert main(["eval", "detection", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("recall", "precision", "e2e_read", "ms_per_image", "images", "detector"):
        assert key in result
    assert result["images"] == 4 and result["plates"] == 4
    assert result["unreadable_images"] == 1  # counted as a miss, never a crash
    assert result["recall"] == pytest.approx(0.75)  # three drawn plates found, the corrupt one not
    assert result["precision"] == 1.0
    assert result["e2e_read"] >= 0.5


def test_eval_detection_table_split_limit_and_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _write_folder(data)
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "eval",
            "detection",
            str(data),
            "--all",
            "--split",
            "val",
            "--limit",
            "1",
            "-o",
            "max_side=640",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "ppocr" in out and "recall" in out
    pngs = list((tmp_path / "artifacts").glob("detection_data_*.png"))
    assert "ppocr" in {p.stem.rsplit("_", 1)[1] for p in pngs}
    assert cv2.imread(str(pngs[0])) is not None


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "labels.csv not found"),
        ("file,plate_text\na.png,AB123\n", "lacks column"),
        ("file,plate_text,x,y,w,h\na.png,AB123,1,2,three,4\n", "line 2"),
        ("file,plate_text,x,y,w,h\n", "no rows"),
    ],
)
def test_bad_labels_are_explained(tmp_path: Path, labels: str | None, message: str) -> None:
    if labels is not None:
        (tmp_path / "labels.csv").write_text(labels)
    with pytest.raises(LabelsError, match=message):
        load_labels(tmp_path)


def test_split_needs_a_split_column(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("file,plate_text,x,y,w,h\na.png,AB1,1,2,3,4\n")
    with pytest.raises(LabelsError, match="no split column"):
        load_labels(tmp_path, split="val")


@pytest.mark.parametrize("argv", [["--detector", "yolo"], ["-o", "nonsense"]])
def test_cli_errors_are_messages_not_tracebacks(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _write_folder(tmp_path)
    assert main(["eval", "detection", str(tmp_path), *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_eval_detection_on_real_photos(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_data / "scenes_eu_us"
    assert main(["eval", "detection", str(folder), "--json", "--limit", "6"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 6 and result["detector"] == "ppocr"
    assert result["recall"] >= 0.5 and result["e2e_read"] > 0


@pytest.mark.parametrize(
    ("reading", "label", "expected"),
    [
        ("AB123CD", "AB123CD", True),
        ("AB123C0", "AB123CD", True),  # D/0 look alike on plates (alphabet.text groups)
        ("AB123C", "AB123CD", False),  # a character missed
        ("RK099AN", "RKO99AN", True),  # a label that wrote O for zero
        ("074CV", "074?C?V", True),  # masked characters read as nothing
        ("0741C8V", "074?C?V", True),  # or as anything
        ("074CX", "074?C?V", False),  # a visible character read wrong
        ("", "AB123CD", False),  # nothing read
        ("ABCDEFGHIJKLMNOP", "AB123CD", False),  # too long to be a plate: no error, no match
    ],
)
def test_reads_as(reading: str, label: str, expected: bool) -> None:
    assert reads_as(reading, label) is expected
