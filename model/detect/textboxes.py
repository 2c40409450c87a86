"""From the text detector's probability map to text boxes, and from text boxes to plates.

A plate shows as one or a few text boxes on one line (``AB 123 CD`` often splits at the
spaces); they are joined when they share a line and lie close, and the joined region is
kept when its shape is a plate's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from model.detect._ppocr import ProbabilityMap


@dataclass(frozen=True)
class TextBoxOptions:
    """How text regions are cut from the probability map (values of the PP-OCR recipe).

    threshold: probability above which a map pixel is text.
    min_score: mean probability a region needs to be kept.
    unclip: how far a region grows back out, relative to area / perimeter (the DB
    network predicts shrunk text kernels).
    """

    threshold: float = 0.3
    min_score: float = 0.5
    unclip: float = 1.6


@dataclass(frozen=True)
class TextBoxes:
    """Text regions in frame pixels.

    quads: (N, 4, 2) float32 corners, clockwise from top-left.
    scores: (N,) float32 mean text probability.
    """

    quads: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def order_corners(points: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """(4, 2) corners in any order -> clockwise from top-left (image y points down)."""
    pts = np.asarray(points, np.float32).reshape(4, 2)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl], np.float32)


def text_boxes(pmap: ProbabilityMap, options: TextBoxOptions) -> TextBoxes:
    """Cut text regions out of a probability map (the DB post-processing, simplified)."""
    prob = pmap.prob
    mask = cv2.dilate((prob > options.threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    quads, scores = [], []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < 2:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        region = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(region, [contour - np.array([x, y])], 1)
        score = float(cv2.mean(prob[y : y + bh, x : x + bw], region)[0])
        if score < options.min_score:
            continue
        grow = w * h * options.unclip / (2 * (w + h))
        corners = cv2.boxPoints(((cx, cy), (w + 2 * grow, h + 2 * grow), angle))
        quads.append(order_corners(np.asarray(corners / pmap.scale, np.float32)))
        scores.append(score)
    if not quads:
        return TextBoxes(np.zeros((0, 4, 2), np.float32), np.zeros((0,), np.float32))
    return TextBoxes(np.stack(quads).astype(np.float32), np.array(scores, np.float32))


def join_parts(parts: Sequence[tuple[float, float, TextBoxes]]) -> TextBoxes:
    """Text boxes found in parts of a frame, each part's with its top-left corner (x, y)
    in frame pixels, as one TextBoxes in whole-frame pixels."""
    quads = [b.quads + np.array([x, y], np.float32) for x, y, b in parts if len(b)]
    if not quads:
        return TextBoxes(np.zeros((0, 4, 2), np.float32), np.zeros((0,), np.float32))
    scores = [b.scores for _, _, b in parts if len(b)]
    return TextBoxes(
        np.concatenate(quads).astype(np.float32), np.concatenate(scores).astype(np.float32)
    )


@dataclass(frozen=True)
class GroupOptions:
    """When two text boxes are one plate, and what shape a plate may have.

    max_gap: horizontal gap allowed between boxes of one plate, in box heights.
    max_height_ratio: how much taller one box of a plate may be than another.
    min_aspect, max_aspect: width / height of a joined text line that can be a plate.
    min_height: smallest text line kept, in frame pixels.
    """

    max_gap: float = 1.2
    max_height_ratio: float = 1.6
    min_aspect: float = 1.3
    max_aspect: float = 9.0
    min_height: float = 5.0


def _line_geometry(quad: npt.NDArray[np.float32]) -> tuple[float, float, float, float]:
    """(left, right, centre y, height) of a quad taken as a text line."""
    xs, ys = quad[:, 0], quad[:, 1]
    height = float((np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2)
    return float(xs.min()), float(xs.max()), float(ys.mean()), height


def _same_line(a: tuple[float, ...], b: tuple[float, ...], opts: GroupOptions) -> bool:
    (al, ar, ay, ah), (bl, br, by, bh) = a, b
    if max(ah, bh) > opts.max_height_ratio * min(ah, bh):
        return False
    if abs(ay - by) > 0.4 * min(ah, bh):
        return False
    gap = max(bl - ar, al - br)
    return gap <= opts.max_gap * min(ah, bh)


def group_lines(boxes: TextBoxes, options: GroupOptions) -> list[list[int]]:
    """Indices of text boxes that lie on one line close together (union-find)."""
    geo = [_line_geometry(q) for q in boxes.quads]
    parent = list(range(len(geo)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(geo)):
        for j in range(i + 1, len(geo)):
            if _same_line(geo[i], geo[j], options):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(geo)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


@dataclass(frozen=True)
class PlateCandidates:
    """Joined text lines shaped like plates.

    quads: (N, 4, 2) float32, the joined line's rotated rectangle in frame pixels.
    scores: (N,) float32, mean text probability of its boxes.
    """

    quads: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def plate_candidates(boxes: TextBoxes, options: GroupOptions) -> PlateCandidates:
    """Join text boxes into lines and keep the lines whose size and shape fit a plate."""
    quads, scores = [], []
    for group in group_lines(boxes, options):
        points = boxes.quads[group].reshape(-1, 2)
        quad = order_corners(np.asarray(cv2.boxPoints(cv2.minAreaRect(points)), np.float32))
        w = float(np.linalg.norm(quad[1] - quad[0]))
        h = float(np.linalg.norm(quad[3] - quad[0]))
        if h < options.min_height or not options.min_aspect <= w / h <= options.max_aspect:
            continue
        quads.append(quad)
        scores.append(float(boxes.scores[group].mean()))
    if not quads:
        return PlateCandidates(np.zeros((0, 4, 2), np.float32), np.zeros((0,), np.float32))
    return PlateCandidates(np.stack(quads).astype(np.float32), np.array(scores, np.float32))
