from __future__ import annotations

import numpy as np
import pytest

from model import retrieval


@pytest.mark.parametrize(
    ("scores", "relevant", "rank"),
    [
        ([0.9, 0.5, 0.1], [True, False, False], 1),  # right crop first
        ([0.5, 0.9, 0.1], [True, False, False], 2),  # one wrong crop above
        ([0.5, 0.5, 0.9], [True, False, False], 3),  # a tie counts against the query
        ([0.1, 0.9, 0.8], [True, False, True], 2),  # the best relevant crop decides
        ([0.9, 0.8, 0.7], [False, False, False], 10**9),  # nothing relevant: never a hit
    ],
)
def test_rank(scores: list[float], relevant: list[bool], rank: int) -> None:
    r = retrieval.rank_queries(np.array([scores], np.float32), np.array([relevant]))
    assert r.rank.tolist() == [rank]
    assert r.hit_rate(1) == (rank == 1)


def test_distractors_push_rank_down() -> None:
    scores = np.array([[0.9, 0.2]], np.float32)
    relevant = np.array([[True, False]])
    distractors = np.array([[0.95, 0.1, 0.91]], np.float32)
    best = np.array([0.9], np.float32)
    above = retrieval.count_above(best, lambda s, e: distractors[:, s:e], 3, 2)
    assert above.tolist() == [2]
    assert retrieval.rank_queries(scores, relevant, above).rank.tolist() == [3]


def test_queries_and_relevance() -> None:
    gallery = ["AB1234", "AB1234", "A81234", "0B12?4", "XY999"]
    # O/0 look-alikes are one plate: "AB1234" and "A81234" differ (B vs 8 is a real difference)
    assert retrieval.distinct_texts(gallery) == ["AB1234", "A81234", "0B12?4", "XY999"]
    rel = retrieval.text_relevance(["AB1234"], gallery)
    assert rel.tolist() == [[True, True, False, False, False]]
    assert retrieval.text_relevance(["?B1234"], ["AB1234", "0B1234"]).tolist() == [[True, True]]
    assert retrieval.image_queries(gallery) == [0]
