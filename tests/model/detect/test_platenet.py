"""The ``platenet`` backend (the project's own network, committed weights): synthetic and
real frames, frames no camera should send, missing or broken weights, and the pieces of
its training script (targets, decoding, resumable runs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphabet.scene import synth_scene
from model.detect import DetectorConfigError, create_detector, detector_names
from model.detect._ppocr import BackendUnavailableError
from model.detect.evaluate import iou
from model.detect.platenet_net import STRIDE, WEIGHTS_DIR, NetSpec, build_net, decode
from model.detect.train_platenet import (
    CROP,
    GRID,
    InitError,
    Mix,
    batch,
    load_exported,
    main,
    targets,
)
from model.protocols import Detector
from model.types import PlateDetections
from tests.model.detect.scenes import frame_of, scene, tally_on_real_photos


def test_registered_and_options_checked() -> None:
    names = detector_names()
    # "all" builds in this order; torch (CRAFT) loaded after TensorFlow dies with SIGSEGV.
    assert names.index("easyocr") < names.index("platenet")
    with pytest.raises(DetectorConfigError, match="threshold"):
        create_detector("platenet", threshold=1.5)
    with pytest.raises(DetectorConfigError, match="colour"):
        create_detector("platenet", colour=True)


def test_finds_plates_in_synthetic_road_scenes(platenet: Detector) -> None:
    # Seeds far from any the training script draws (it seeds each step with [seed, step]).
    truth = hits = found = 0
    for k in range(8):
        s = synth_scene(np.random.default_rng([991, k]), (1280, 720), (1, 3))
        got = platenet.detect(frame_of(s.pixels))
        assert isinstance(got, PlateDetections)
        assert ((got.scores > 0) & (got.scores <= 1)).all()
        truth, found = truth + len(s.boxes), found + len(got)
        if len(got) and len(s.boxes):
            hits += int((iou(s.boxes, got.boxes).max(axis=1) >= 0.5).sum())
    assert hits >= 0.7 * truth, (hits, truth)
    assert hits >= 0.7 * found, (hits, found)


def test_finds_drawn_plates_at_two_sizes(platenet: Detector) -> None:
    # The test suite's own plate drawing (not the generator it was trained on).
    for width in (220, 120):
        s = scene(("AB123CD", "7XYZ123"), plate_width=width)
        got = platenet.detect(s.frame)
        assert len(got) >= 1
        assert (iou(s.boxes, got.boxes).max(axis=1) >= 0.5).sum() >= 1, got.boxes


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((3, 5000, 3), np.uint8),
        np.zeros((9, 5000, 3), np.uint8),  # scaled to less than one grid row
        np.zeros((5000, 3, 3), np.uint8),
        np.zeros((720, 1280, 3), np.uint8),
        np.full((720, 1280, 3), 255, np.uint8),
        np.random.default_rng(1).integers(0, 256, (97, 131, 3), dtype=np.uint8),
    ],
    ids=["1x1", "3x5000", "9x5000", "5000x3", "black", "white", "noise"],
)
def test_frames_without_plates_give_empty_results(platenet: Detector, pixels: np.ndarray) -> None:
    found = platenet.detect(frame_of(pixels))
    assert isinstance(found, PlateDetections)
    assert len(found) == 0


def test_missing_weights_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="train_platenet --export"):
        create_detector("platenet", weights_dir=str(tmp_path))


def test_broken_weights_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text((WEIGHTS_DIR / "spec.json").read_text())
    (tmp_path / "weights.npz").write_bytes(b"not a zip file")
    with pytest.raises(BackendUnavailableError, match="unreadable"):
        create_detector("platenet", weights_dir=str(tmp_path))
    np.savez(tmp_path / "weights.npz", np.zeros(3))
    with pytest.raises(BackendUnavailableError, match="do not fit"):
        create_detector("platenet", weights_dir=str(tmp_path))


def test_spec_is_committed_and_small() -> None:
    spec = json.loads((WEIGHTS_DIR / "spec.json").read_text())
    assert {"widths", "max_side", "threshold", "meta"} <= set(spec)
    assert (WEIGHTS_DIR / "weights.npz").stat().st_size < 5_000_000


def test_targets_decode_back_to_the_boxes() -> None:
    boxes = np.array([[40, 60, 64, 18], [150, 200, 30, 9]], np.float32)
    t = targets(boxes)
    assert t.shape == (GRID, GRID, 7)
    assert t[..., 6].sum() >= 2
    out = np.zeros((GRID, GRID, 5), np.float32)
    out[..., 0] = np.where(t[..., 0] > 0, 8.0, -8.0)
    # the network's side outputs go through softplus: invert it on the positive cells
    sides = np.maximum(t[..., 2:6], 1e-3)
    out[..., 1:] = np.where(t[..., 6:7] > 0, np.log(np.expm1(sides)), 0)
    got, scores = decode(out, 0.5)
    assert len(got) == 2
    assert (iou(boxes, got).max(axis=1) > 0.95).all(), got
    assert (scores > 0.99).all()


def test_targets_skip_plates_cut_off_by_the_crop() -> None:
    t = targets(np.array([[CROP - 10, 100, 60, 20]], np.float32))  # 50 of 60 px outside
    assert t[..., 6].sum() == 0
    assert t[100 // STRIDE + 2, GRID - 1, 1] == 0  # its cells are not scored as background


def test_training_runs_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--out", str(out), "--data", str(tmp_path / "none"), "--batch", "2", "--every", "1"]
    main([*args, "--steps", "2"])
    main([*args, "--steps", "3"])  # carries on from step 2
    steps = [json.loads(line)["step"] for line in (out / "history.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    assert json.loads((out / "spec.json").read_text())["meta"]["uc3m_train_images"] == 0


def _first_kernel(run: Path) -> np.ndarray:
    """The stem's convolution kernel of a run's final weights."""
    model = build_net(NetSpec())
    model.load_weights(str(run / "platenet.weights.h5"))
    return np.asarray(model.get_weights()[0])


def test_training_starts_from_exported_weights(tmp_path: Path) -> None:
    committed = np.load(WEIGHTS_DIR / "weights.npz")["arr_0"]
    out = tmp_path / "run"
    args = ["--out", str(out), "--data", str(tmp_path / "none"), "--batch", "2", "--every", "1"]
    main([*args, "--steps", "1", "--lr", "1e-9", "--init", str(WEIGHTS_DIR), "--closeups", "1"])
    assert np.allclose(_first_kernel(out), committed, atol=1e-6)
    assert "--init" in json.loads((out / "spec.json").read_text())["meta"]["trained_by"]


def test_a_checkpoint_wins_over_init(tmp_path: Path) -> None:
    committed = np.load(WEIGHTS_DIR / "weights.npz")["arr_0"]
    out = tmp_path / "run"
    args = ["--out", str(out), "--data", str(tmp_path / "none"), "--batch", "2", "--every", "1"]
    main([*args, "--steps", "1"])  # from random weights
    main([*args, "--steps", "2", "--lr", "1e-9", "--init", str(WEIGHTS_DIR)])
    assert not np.allclose(_first_kernel(out), committed, atol=1e-3)


def test_init_refuses_missing_or_mismatched_weights(tmp_path: Path) -> None:
    model = build_net(NetSpec())
    with pytest.raises(InitError, match="no readable"):
        load_exported(model, NetSpec(), tmp_path)
    NetSpec(widths=(8, 16, 24, 32)).save(tmp_path / "spec.json")
    np.savez(tmp_path / "weights.npz", np.zeros(3))
    with pytest.raises(InitError, match="do not match"):
        load_exported(model, NetSpec(), tmp_path)
    NetSpec().save(tmp_path / "spec.json")
    with pytest.raises(InitError, match="does not fit"):
        load_exported(model, NetSpec(), tmp_path)


def test_closeup_batches_have_plates_to_learn() -> None:
    x, t = batch(0, 0, Mix(size=4, max_side=640, closeups=1.0), [])
    assert x.shape == (4, CROP, CROP, 3) and t.shape == (4, GRID, GRID, 7)
    assert (t[..., 6].reshape(4, -1).sum(axis=1) > 0).sum() >= 2  # most crops hold a plate


@pytest.mark.parametrize(
    ("folder", "split", "min_recall"),
    [("scenes_eu_us", None, 0.5), ("uc3m_scenes", "val", 0.5)],
)
def test_platenet_on_real_photos(
    platenet: Detector, shared_data: Path, folder: str, split: str | None, min_recall: float
) -> None:
    tally = tally_on_real_photos(platenet, shared_data / folder, split)
    assert tally.hits >= min_recall * tally.plates, tally.summary()
    assert tally.hits >= 0.5 * tally.found, tally.summary()
