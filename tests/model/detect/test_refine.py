"""The refiner (platenet's second look): window geometry, the committed network on drawn
and synthetic plates, missing or broken weights, and its training script's pieces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphabet.scene import synth_scene
from model.detect import create_detector
from model.detect._ppocr import BackendUnavailableError
from model.detect.evaluate import iou
from model.detect.refine import Refiner, same_plate_keep
from model.detect.refine_net import (
    WEIGHTS_DIR,
    RefineSpec,
    cut_windows,
    to_frame_boxes,
    windows_for,
)
from model.detect.train_refine import jittered, label, main
from tests.model.detect.scenes import frame_of, scene


@pytest.fixture(scope="module")
def refiner() -> Refiner:
    return Refiner()


def test_windows_hold_their_box_in_the_middle() -> None:
    spec = RefineSpec()
    boxes = np.array([[100, 50, 94, 20], [10, 10, 40, 20], [300, 200, 6, 3]], np.float32)
    win = windows_for(boxes, spec)
    assert np.allclose(win[:, 2] / win[:, 3], spec.aspect)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    assert np.allclose(win[:, :2] + win[:, 2:] / 2, centres)
    assert (win[:, 2] >= boxes[:, 2]).all() and (win[:, 3] >= boxes[:, 3] * spec.pad_h - 1e-3).all()
    # the box's own edges, in window units, map back to the box
    edges = np.stack(
        [
            (boxes[:, 0] - win[:, 0]) / win[:, 2],
            (boxes[:, 1] - win[:, 1]) / win[:, 3],
            (boxes[:, 0] + boxes[:, 2] - win[:, 0]) / win[:, 2],
            (boxes[:, 1] + boxes[:, 3] - win[:, 1]) / win[:, 3],
        ],
        1,
    )
    assert np.allclose(to_frame_boxes(edges, win), boxes, atol=1e-3)


def test_windows_past_the_frame_edge_are_cut_without_error() -> None:
    spec = RefineSpec()
    pixels = np.full((40, 60, 3), 200, np.uint8)
    win = windows_for(np.array([[-30, -10, 50, 12], [55, 35, 30, 10]], np.float32), spec)
    cut = cut_windows(pixels, win, spec)
    assert cut.shape == (2, spec.height, spec.width, 3) and cut.dtype == np.uint8
    assert (cut == 200).all()  # the border repeats


def test_same_plate_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 100, 20], [5, 0, 100, 20], [300, 0, 100, 20]], np.float32)
    keep = same_plate_keep(boxes, np.array([0.6, 0.9, 0.5], np.float32))
    assert keep.tolist() == [1, 2]
    assert same_plate_keep(np.zeros((0, 4), np.float32), np.zeros(0, np.float32)).size == 0


def test_refiner_finds_and_tightens_drawn_plates(refiner: Refiner) -> None:
    s = scene(("AB123CD", "7XYZ123"), plate_width=160)
    truth = s.boxes
    # rough candidates, as platenet gives them: too wide and shifted
    rough = truth.copy()
    rough[:, 0] -= 0.3 * truth[:, 2]
    rough[:, 2] *= 1.6
    rough[:, 1] -= 0.1 * truth[:, 3]
    boxes, scores = refiner.scores(s.frame.pixels, rough)
    assert (scores > 0.5).all(), scores
    before = np.diag(iou(truth, rough))
    after = np.diag(iou(truth, boxes))
    assert (after > before).all() and (after >= 0.5).all(), (before, after)


def test_refiner_turns_down_what_is_no_plate(refiner: Refiner) -> None:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    pixels[:] = (pixels // 64 * 64).astype(np.uint8)  # coarse noise, no text
    boxes = np.array([[100, 100, 80, 20], [300, 200, 120, 30], [10, 10, 40, 12]], np.float32)
    _, scores = refiner.scores(pixels, boxes)
    assert (scores < 0.5).all(), scores
    kept, _ = refiner.refine(pixels, boxes, refiner.spec.threshold)
    assert len(kept) == 0


def test_platenet_with_the_refiner_on_synthetic_road_scenes() -> None:
    refined = create_detector("platenet")
    plain = create_detector("platenet", refine=False)
    truth = {"refined": 0, "plain": 0}
    found = {"refined": 0, "plain": 0}
    plates = 0
    for k in range(8):
        s = synth_scene(np.random.default_rng([993, k]), (1280, 720), (1, 3))
        plates += len(s.boxes)
        for name, det in (("refined", refined), ("plain", plain)):
            got = det.detect(frame_of(s.pixels))
            assert ((got.scores >= 0) & (got.scores <= 1)).all()
            found[name] += len(got)
            if len(got):
                truth[name] += int((iou(s.boxes, got.boxes).max(axis=1) >= 0.5).sum())
    assert truth["refined"] >= 0.8 * plates, (truth, plates)
    assert truth["refined"] >= 0.8 * found["refined"], (truth, found)
    # the second look finds at least as many, with fewer false boxes
    assert truth["refined"] >= truth["plain"], truth
    assert found["refined"] - truth["refined"] <= found["plain"] - truth["plain"], (truth, found)


def test_missing_refiner_weights_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="train_refine --export"):
        Refiner(tmp_path)


def test_broken_refiner_weights_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text((WEIGHTS_DIR / "spec.json").read_text())
    (tmp_path / "weights.npz").write_bytes(b"not a zip file")
    with pytest.raises(BackendUnavailableError, match="unreadable"):
        Refiner(tmp_path)
    np.savez(tmp_path / "weights.npz", np.zeros(3))
    with pytest.raises(BackendUnavailableError, match="do not fit"):
        Refiner(tmp_path)


def test_refiner_spec_is_committed_and_small() -> None:
    spec = json.loads((WEIGHTS_DIR / "spec.json").read_text())
    assert {"height", "width", "threshold", "candidate_threshold", "meta"} <= set(spec)
    assert "held_out_at_threshold" in spec["meta"]
    assert (WEIGHTS_DIR / "weights.npz").stat().st_size < 5_000_000


def test_labels_split_plates_from_the_rest_and_leave_the_unsure_out() -> None:
    spec = RefineSpec()
    truth = np.array([[100, 100, 80, 20]], np.float32)
    candidates = np.array(
        [
            [95, 98, 100, 24],  # a rough box on the plate: a plate, with its box to learn
            [400, 300, 80, 20],  # far away: not a plate
            [60, 94, 80, 32],  # half on it: IoU 0.24, neither
        ],
        np.float32,
    )
    y, edges, keep = label(candidates, truth, spec)
    assert y.tolist() == [1, 0, 0] and keep.tolist() == [True, True, False]
    win = windows_for(candidates[:1], spec)[0]
    back = to_frame_boxes(edges[:1], win[None])[0]
    assert np.allclose(back, truth[0], atol=1e-3)
    jit = jittered(truth, np.random.default_rng(0), 20)
    assert (iou(truth, jit) > 0.2).mean() > 0.8


def test_training_runs_and_picks_a_threshold(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--out", str(out), "--data", str(tmp_path / "none"), "--synthetic", "20"]
    main([*args, "--epochs", "1", "--batch", "16"])
    spec = json.loads((out / "spec.json").read_text())
    assert spec["threshold"] in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    assert spec["meta"]["train_windows"] > 0
    history = (out / "history.jsonl").read_text().splitlines()
    assert [json.loads(h)["epoch"] for h in history] == [1]
    main([*args, "--epochs", "0"])  # the threshold again, for the weights already there
    assert len((out / "history.jsonl").read_text().splitlines()) == 1
