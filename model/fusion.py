"""The product's score for a text query: vector cosine fused with the crop's reading.

One definition, used by evaluation (model.eval_retrieval, model.distractors) and by the
store's text search (store.search), so what is measured is what is ranked.

``score = (1 - weight) * cosine + weight * term``, where ``term`` in [0, 1] says how well
the crop's reading fits the query:

* a weighted edit distance between query and reading, look-alike keys compared
  (``O``/``0``, ``I``/``1`` are one symbol): changing a character a recogniser confuses
  with another (8/B, 5/S, 2/Z, 6/G, M/N ...) costs ``lookalike`` instead of 1;
* a ``?`` in the query matches any character, and a reading that lacks it (a masked or
  unreadable character the recogniser skipped) costs ``skip_unknown``; a ``?`` in the
  reading (a character seen but not read) costs ``unknown_read`` against a query
  character, so a reading of nothing but ``?`` does not fit every query; a ``*`` in the
  query (a run of any length) makes the term 1 where the reading fits the pattern and 0
  where not;
* ``term = max(0, 1 - distance / len(query)) * (1 - confidence + confidence * c)``,
  where c is the reader's confidence in [0, 1] (``confidence`` = 0 ignores it);
* an empty reading gives 0.

The weights live in the model's spec (``fusion_weight``, ``fusion_options``) and were
chosen on data no reported figure is measured on (``python -m model.fusion_fit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from alphabet.text import UNKNOWN, WILDCARD, lookalike_key, matches
from model.reading import encode_keys

#: Character pairs plate readers confuse that are *not* the same plate (the strict
#: look-alikes O/0/Q/D and I/1 are already one symbol in the key).
CONFUSABLE = ("8B", "5S", "2Z", "6G", "1J", "CG", "MN", "HN", "UV", "7T", "4A", "PR", "EF",
              "KX", "B3", "VY", "0U", "MW", "6B", "8S")  # fmt: skip
_WILD = 0
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Fusion:
    """weight: share of the reading term in [0, 1] (0: cosine only, 1: reading only).
    lookalike: cost of changing one character into a confusable one (1 = any other).
    skip_unknown: cost of a query ``?`` the reading does not have.
    unknown_read: cost of a ``?`` in the reading against a query character.
    confidence: in [0, 1], how much the reader's confidence scales the term."""

    weight: float = 0.0
    lookalike: float = 0.7
    skip_unknown: float = 0.0
    unknown_read: float = 0.5
    confidence: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"fusion weight must be in [0, 1], got {self.weight}")
        for name in ("lookalike", "skip_unknown", "unknown_read", "confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"fusion {name} must be in [0, 1], got {getattr(self, name)}")

    @classmethod
    def from_spec(cls, weight: float, options: dict[str, Any]) -> Fusion:
        known = set(asdict(cls())) - {"weight"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown fusion options {unknown}; allowed: {sorted(known)}")
        return cls(weight=weight, **options)

    def options(self) -> dict[str, float]:
        out = asdict(self)
        out.pop("weight")
        return out

    def reading_terms(
        self, query: str, readings: Sequence[str], confidences: npt.ArrayLike | None = None
    ) -> Scores:
        """(N,) reading terms in [0, 1] of N readings for one normalised query."""
        return self.terms_encoded(query, encode_keys(readings), confidences)

    def terms_encoded(
        self,
        query: str,
        encoded: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
        confidences: npt.ArrayLike | None = None,
    ) -> Scores:
        """reading_terms over readings already encoded by model.reading.encode_keys (encode
        once, score many queries)."""
        lengths = encoded[1]
        if WILDCARD in query:
            texts = decode(encoded)
            term = np.array([bool(t) and matches(query, t) for t in texts], np.float32)
        else:
            dist = self.distances(query, encoded)
            term = np.maximum(0.0, 1.0 - dist / max(len(query), 1)).astype(np.float32)
        term[lengths == 0] = 0.0
        if confidences is not None and self.confidence > 0:
            c = np.clip(np.asarray(confidences, np.float32), 0.0, 1.0)
            term *= np.float32(1.0 - self.confidence) + np.float32(self.confidence) * c
        return term

    def distances(
        self, query: str, encoded: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
    ) -> npt.NDArray[np.float32]:
        """(N,) weighted edit distances from a query to N encoded readings."""
        codes, lengths = encoded
        n, width = codes.shape
        sub = _substitution(self.lookalike, self.unknown_read)
        q = encode_keys([query])[0][0, : len(query)]
        # Rows of the DP table are reading positions, each a contiguous (N,) array.
        cols = np.ascontiguousarray(codes.T)
        prev = np.repeat(np.arange(width + 1, dtype=np.float32)[:, None], n, axis=1)
        for qc in q:
            drop = np.float32(self.skip_unknown if qc == _WILD else 1.0)
            cur = np.empty_like(prev)
            cur[0] = prev[0] + drop
            best = np.minimum(prev[:-1] + sub[qc][cols], prev[1:] + drop)
            for j in range(1, width + 1):
                np.minimum(best[j - 1], cur[j - 1] + 1.0, out=cur[j])
            prev = cur
        return prev[np.minimum(lengths, width), np.arange(n)]

    def scores(
        self,
        cosines: npt.ArrayLike,
        query: str,
        readings: Sequence[str],
        confidences: npt.ArrayLike | None = None,
    ) -> Scores:
        """(N,) fused scores of N crops for one query, given their cosines to its render."""
        cos = np.asarray(cosines, np.float32)
        if self.weight == 0:
            return cos
        term = self.reading_terms(query, readings, confidences)
        return self.combine(cos, term)

    def combine(self, cosines: npt.ArrayLike, terms: npt.ArrayLike) -> Scores:
        w = np.float32(self.weight)
        return np.asarray((1 - w) * np.asarray(cosines, np.float32) + w * np.asarray(terms),
                          np.float32)  # fmt: skip


def decode(encoded: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]) -> list[str]:
    codes, lengths = encoded
    return [
        "".join(UNKNOWN if c == _WILD else chr(c) for c in row[:n])
        for row, n in zip(codes, lengths, strict=True)
    ]


@lru_cache(maxsize=8)
def _substitution(lookalike: float, unknown_read: float) -> npt.NDArray[np.float32]:
    """(256, 256) cost of reading code b where the query has code a."""
    table = np.ones((256, 256), np.float32)
    np.fill_diagonal(table, 0.0)
    for pair in CONFUSABLE:
        ka, kb = (ord(c) for c in lookalike_key(pair))
        if ka != kb:
            table[ka, kb] = table[kb, ka] = min(table[ka, kb], lookalike)
    table[:, _WILD] = unknown_read
    table[_WILD, :] = 0.0
    return table
