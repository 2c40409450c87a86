"""Readings from the CTC head, and vectorised comparison of plate texts.

The reading head emits, for each of T columns of the plate, scores over the spec's
alphabet plus a blank (index 0). Greedy decoding keeps each column's best symbol, merges
repeats and drops blanks. Plate texts are compared in bulk below (same plate, edit
distance); the fused search score that uses readings is model.fusion.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def decode_greedy(
    logits: npt.NDArray[np.float32], alphabet: str
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """logits: (N, T, len(alphabet) + 1), blank at 0.

    Returns N readings and (N,) float32 confidences in [0, 1]: the geometric mean over
    columns of the chosen symbol's probability.
    """
    if logits.ndim != 3 or logits.shape[2] != len(alphabet) + 1:
        raise ValueError(
            f"logits must be (N, T, {len(alphabet) + 1}) for this alphabet, got {logits.shape}"
        )
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    best = log_probs.argmax(axis=2)
    confidences = np.exp(log_probs.max(axis=2).mean(axis=1)).astype(np.float32)
    symbols = np.array(["", *alphabet])
    readings = []
    for row in best:
        keep = np.ones(row.shape, bool)
        keep[1:] = row[1:] != row[:-1]
        keep &= row != 0
        readings.append("".join(symbols[row[keep]]))
    return readings, confidences


_PAD = 255
_WILD = 0


def encode_keys(texts: Sequence[str], width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Plate texts → (N, width) uint8 look-alike key codes (``?`` = 0, padding 255) and
    (N,) int lengths, for the vectorised matching and distances below. The texts are
    joined, mapped to keys and cut in one pass (this runs over every stored reading of a
    text search)."""
    from alphabet.text import lookalike_key

    width = width or max([len(t) for t in texts] + [1])
    n = len(texts)
    lengths = np.fromiter((min(len(t), width) for t in texts), np.int64, n)
    joined = lookalike_key("".join(t[:width].ljust(width, "\0") for t in texts))
    codes = np.frombuffer(joined.encode("latin-1"), np.uint8).reshape(n, width).copy()
    codes[codes == 0] = _PAD
    codes[codes == ord("?")] = _WILD
    return codes, lengths


def same_plate_matrix(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> npt.NDArray[np.bool_]:
    """(Na, Nb) bool: alphabet.text.same_plate for every pair of two encoded text lists."""
    ca, la = a
    cb, lb = b
    eq = (ca[:, None, :] == cb[None, :, :]) | (ca == _WILD)[:, None, :] | (cb == _WILD)[None, :, :]
    return eq.all(axis=2) & (la[:, None] == lb[None, :])


def edit_distances(query: str, readings: tuple[np.ndarray, np.ndarray]) -> npt.NDArray[np.int64]:
    """(N,) Levenshtein distances from one text to N encoded readings, as
    alphabet.text.edit_distance computes them (look-alikes equal, ``?`` matches any),
    vectorised over the readings."""
    codes, lengths = readings
    q, _ = encode_keys([query])
    q = q[0, : len(query)]
    n, width = codes.shape
    prev = np.tile(np.arange(width + 1), (n, 1))
    for i, qc in enumerate(q, 1):
        same = (codes == qc) | (codes == _WILD) | (qc == _WILD)
        cur = np.empty_like(prev)
        cur[:, 0] = i
        diag = prev[:, :-1] + ~same
        up = prev[:, 1:] + 1
        best = np.minimum(diag, up)
        for j in range(1, width + 1):
            cur[:, j] = np.minimum(best[:, j - 1], cur[:, j - 1] + 1)
        prev = cur
    return prev[np.arange(n), lengths]
