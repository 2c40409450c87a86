from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphabet.text import edit_distance, same_plate
from model.reading import (
    decode_greedy,
    edit_distances,
    encode_keys,
    same_plate_matrix,
)

ALPHABET = "AB1?"


def one_hot_logits(path: str) -> np.ndarray:
    """Logits whose best symbol per column follows path ('-' = blank)."""
    logits = np.full((1, len(path), len(ALPHABET) + 1), -10.0, np.float32)
    for t, c in enumerate(path):
        logits[0, t, 0 if c == "-" else ALPHABET.index(c) + 1] = 10.0
    return logits


@pytest.mark.parametrize(
    ("path", "reading"),
    [
        ("AA-B", "AB"),  # repeats merge
        ("A-A", "AA"),  # a blank separates a doubled letter
        ("----", ""),  # nothing read
        ("1?-?", "1??"),  # masked characters are read as '?'
    ],
)
def test_decode_greedy(path: str, reading: str) -> None:
    readings, conf = decode_greedy(one_hot_logits(path), ALPHABET)
    assert readings == [reading]
    assert 0.99 < conf[0] <= 1.0


def test_decode_rejects_wrong_alphabet() -> None:
    with pytest.raises(ValueError, match="logits must be"):
        decode_greedy(np.zeros((1, 4, 3), np.float32), ALPHABET)


texts = st.text(alphabet="AB0OI18?", max_size=9)


@settings(max_examples=60, deadline=None)
@given(query=texts.filter(bool), others=st.lists(texts, min_size=1, max_size=20))
def test_vectorised_edit_distance_matches_reference(query: str, others: list[str]) -> None:
    got = edit_distances(query, encode_keys(others))
    assert got.tolist() == [edit_distance(query, o) for o in others]


@settings(max_examples=60, deadline=None)
@given(a=st.lists(texts.filter(bool), min_size=1, max_size=8),
       b=st.lists(texts.filter(bool), min_size=1, max_size=8))  # fmt: skip
def test_same_plate_matrix_matches_reference(a: list[str], b: list[str]) -> None:
    got = same_plate_matrix(encode_keys(a, 12), encode_keys(b, 12))
    assert got.tolist() == [[same_plate(x, y) for y in b] for x in a]
