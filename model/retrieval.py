"""Retrieval scoring, as the thesis and the data README define it.

Text → image: for each distinct plate text of a gallery (up to look-alikes), render it,
rank every gallery image, and count a hit at k when one of the first k images carries that
text (alphabet.text.same_plate: look-alikes equal, ``?`` matches any). Image → image: one
query image per plate seen 2+ times, itself left out of the gallery.

Hits are computed from the rank of the best relevant item, so extra *distractors* (never
relevant) only need their scores counted, never stored: any number fit in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alphabet.text import lookalike_key
from model.reading import encode_keys, same_plate_matrix

KS = (1, 3, 10)
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Ranking:
    """Outcome of Q queries: rank (Q,) of the best relevant gallery item (1 = first; a
    large number when none is relevant) and, for figures, the top-3 gallery indices (Q, 3)
    and their scores (Q, 3)."""

    rank: npt.NDArray[np.int64]
    top: npt.NDArray[np.int64]
    top_scores: Scores

    def hit_rate(self, k: int) -> float:
        return float(np.mean(self.rank <= k)) if len(self.rank) else 0.0


def distinct_texts(texts: Sequence[str]) -> list[str]:
    """One query per distinct plate (look-alike key), in first-seen order."""
    seen: dict[str, str] = {}
    for t in texts:
        seen.setdefault(lookalike_key(t), t)
    return list(seen.values())


def rank_queries(
    scores: Scores,
    relevant: npt.NDArray[np.bool_],
    extra_counts: npt.NDArray[np.int64] | None = None,
) -> Ranking:
    """scores, relevant: (Q, G) over the gallery (excluded items scored -inf).

    extra_counts: (Q,) distractors scoring at or above each query's best relevant item.
    """
    best_rel = np.where(relevant, scores, -np.inf).max(axis=1)
    # A tie with a wrong item counts against the query: ties must not flatter a ranking.
    above = (np.where(relevant, -np.inf, scores) >= best_rel[:, None]).sum(axis=1)
    if extra_counts is not None:
        above = above + extra_counts
    rank = np.where(np.isfinite(best_rel), above + 1, 10**9)
    k = min(3, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return Ranking(rank.astype(np.int64), top, np.take_along_axis(scores, top, 1))


def count_above(
    best_rel: Scores,
    score_chunk: Callable[[int, int], Scores],
    total: int,
    chunk: int = 8192,
) -> npt.NDArray[np.int64]:
    """(Q,) how many of `total` distractors score above each query's best relevant item;
    score_chunk(start, stop) gives the (Q, stop - start) scores of one slice."""
    counts = np.zeros(len(best_rel), np.int64)
    for start in range(0, total, chunk):
        s = score_chunk(start, min(start + chunk, total))
        counts += (s >= best_rel[:, None]).sum(axis=1)
    return counts


def text_relevance(queries: Sequence[str], gallery: Sequence[str]) -> npt.NDArray[np.bool_]:
    """(Q, G) same_plate(query, gallery text) for every pair."""
    return same_plate_matrix(encode_keys(queries, 16), encode_keys(gallery, 16))


def image_queries(gallery: Sequence[str]) -> list[int]:
    """Gallery indices used as image queries: the first image of each plate seen 2+ times."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(gallery):
        groups.setdefault(lookalike_key(t), []).append(i)
    return [idx[0] for idx in groups.values() if len(idx) >= 2]
