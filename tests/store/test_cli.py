"""The store's commands on a real data folder with the shipped model: index with
deduplication, retention, reindex."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphabet.synth import realistic_crop
from platewatch.cli import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three files: two of one plate (a car passing, 1 s apart), one of another; all
    dated 40 days ago."""
    rng = np.random.default_rng(3)
    crop_a = realistic_crop("AB1234CD", "ua", rng, difficulty=0.0)
    crop_b = realistic_crop("XY9876ZT", "ua", rng, difficulty=0.0)
    out = tmp_path / "gate"
    out.mkdir()
    old = time.time() - 40 * 86400
    for i, (name, crop) in enumerate([("a1", crop_a), ("a2", crop_a), ("b", crop_b)]):
        path = out / f"{name}.png"
        cv2.imwrite(str(path), crop)
        os.utime(path, (old + i, old + i))
    return out


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], 3),  # every image is a sighting
        (["--dedup-window", "60"], 2),  # the two views of one pass become one
    ],
)
def test_index_with_and_without_dedup_then_retention(
    folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    expected: int,
) -> None:
    data = str(tmp_path / "data")
    assert main(["index", str(folder), "--data", data, "-q", *extra]) == 0
    assert f"indexed {expected} sightings" in capsys.readouterr().out
    assert main(["retention", "--days", "50", "--data", data]) == 0
    assert "deleted 0 sightings" in capsys.readouterr().out
    assert main(["retention", "--days", "30", "--data", data]) == 0
    assert f"deleted {expected} sightings" in capsys.readouterr().out


def test_reindex_with_the_same_model_has_nothing_to_do(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert main(["index", str(folder), "--data", data, "-q"]) == 0
    capsys.readouterr()
    assert main(["reindex", "--data", data, "-q"]) == 0
    assert "re-embedded 0 sightings" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["retention", "--days", "0"], "positive"),
        (["index", "/nonexistent/folder"], "not a folder"),
    ],
)
def test_command_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, "--data", str(tmp_path / "data")]) == 2
    assert message in capsys.readouterr().err


def test_index_scenes_detects_plates_first(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder whose labels.csv has boxes holds whole scenes: the offline detector finds
    the plates, each found plate is a sighting with its frame kept."""
    import json

    data = str(tmp_path / "data")
    scenes = shared_data / "scenes_eu_us"
    assert main(["index", str(scenes), "--limit", "3", "--data", data, "-q"]) == 0
    out = capsys.readouterr().out
    stored = int(out.split("indexed ")[1].split()[0])
    assert stored >= 1
    assert main(["search", "M5XSX", "--top", "50", "--json", "--data", data]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == stored
    # --limit takes the first files in name order.
    with (scenes / "labels.csv").open() as f:
        names = sorted({line.split(",")[0] for line in list(f)[1:]})
    first_three = {str((scenes / name).resolve()) for name in names[:3]}
    assert {r["file"] for r in rows} <= first_three
    assert all(r["crop_path"] and Path(r["crop_path"]).is_file() for r in rows)
