"""Plate text: normalisation, the character set, look-alike keys and partial patterns.

Every plate text that enters the system (a query, a watchlist entry, a label, a reading)
goes through :func:`normalize` first, so that ``aa 5149-ek`` and ``АА5149ЕК`` (Cyrillic)
are one plate.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from platewatch.errors import PlatewatchError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
#: Characters a plate text may hold after normalisation.
CHARSET = LETTERS + DIGITS
#: One unknown character (matches any single character).
UNKNOWN = "?"
#: Any run of characters, possibly empty (queries and watchlist patterns only).
WILDCARD = "*"
#: Longest plate text we accept; real plates hold at most 10.
MAX_LENGTH = 12

# Spaces, dashes, dots and the like separate groups on a plate but are not part of its text.
_SEPARATORS = set(" \t-–—_.·•:|/\\")

# Cyrillic letters that Ukrainian (and Russian, Bulgarian, ...) plates share with Latin.
_CYRILLIC_TO_LATIN = {
    "А": "A", "В": "B", "Е": "E", "І": "I", "К": "K", "М": "M", "Н": "H",
    "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ї": "I",
}  # fmt: skip

# Characters that cameras, fonts and people confuse. Plates are compared by a key in which
# each group is one symbol: the first two groups are near-identical in many plate fonts
# (and some published labels write O for 0); the rest are the usual OCR confusions.
STRICT_LOOKALIKES: tuple[str, ...] = ("0OQD", "1I")
LOOSE_LOOKALIKES: tuple[str, ...] = ("0OQD", "1IJ", "8B", "5S", "2Z", "6G")


class PlateTextError(PlatewatchError, ValueError):
    """A plate text could not be accepted; the message says which character and why."""


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "unnamed character")
    return f"{ch!r} (U+{ord(ch):04X} {name})"


def normalize(text: str, *, allow_patterns: bool = False) -> str:
    """Return the canonical form of a plate text: upper case A-Z and 0-9 only.

    Separators are dropped, Cyrillic look-alikes become Latin. With ``allow_patterns`` the
    result may also hold ``?`` (one unknown character) and ``*`` (any run).

    Raises PlateTextError for an empty text, a character outside the set, or a text longer
    than MAX_LENGTH.
    """
    if not isinstance(text, str):
        raise PlateTextError(f"plate text must be a string, got {type(text).__name__}")
    allowed_extra = UNKNOWN + WILDCARD if allow_patterns else ""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text).upper():
        if ch in _SEPARATORS:
            continue
        ch = _CYRILLIC_TO_LATIN.get(ch, ch)
        if ch in CHARSET or ch in allowed_extra:
            out.append(ch)
            continue
        allowed = "A-Z, 0-9, spaces, dashes and dots"
        if allow_patterns:
            allowed += ", '?' for one unknown character and '*' for any run"
        elif ch in UNKNOWN + WILDCARD:
            allowed += " ('?' and '*' are allowed in queries, not here)"
        raise PlateTextError(
            f"unsupported character {_describe(ch)} in {text!r}; allowed: {allowed}"
        )
    result = "".join(out)
    if allow_patterns:
        result = re.sub(r"\*+", "*", result)
    if not result.replace(WILDCARD, ""):
        raise PlateTextError(f"plate text {text!r} is empty after removing separators")
    if len(result.replace(WILDCARD, "")) > MAX_LENGTH:
        raise PlateTextError(
            f"plate text {text!r} has {len(result)} characters; at most {MAX_LENGTH} are allowed"
        )
    return result


@lru_cache(maxsize=4)
def _key_table(groups: tuple[str, ...]) -> dict[int, str]:
    return {ord(ch): g[0] for g in groups for ch in g}


def lookalike_key(text: str, groups: tuple[str, ...] = STRICT_LOOKALIKES) -> str:
    """Map each look-alike character to its group's representative (``O`` → ``0``).

    Two normalised plate texts with the same key are treated as the same plate.
    """
    return text.translate(_key_table(groups))


def same_plate(a: str, b: str) -> bool:
    """True when two plate texts name the same plate, up to look-alikes and ``?``."""
    ka, kb = (
        lookalike_key(normalize(a, allow_patterns=True)),
        lookalike_key(normalize(b, allow_patterns=True)),
    )
    if len(ka) != len(kb):
        return False
    return all(x == y or UNKNOWN in (x, y) for x, y in zip(ka, kb, strict=True))


def is_pattern(text: str) -> bool:
    """True when a normalised text holds ``?`` or ``*``."""
    return UNKNOWN in text or WILDCARD in text


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression over look-alike keys that a plate text must fully match.

    ``?`` matches one character, ``*`` any run; everything else matches its look-alike
    group, or a ``?`` in the plate text (a character hidden in the image).
    """
    parts = []
    for ch in lookalike_key(normalize(pattern, allow_patterns=True)):
        if ch == UNKNOWN:
            parts.append(".")
        elif ch == WILDCARD:
            parts.append(".*")
        else:
            parts.append(f"[{re.escape(ch)}?]")
    return re.compile("".join(parts))


def matches(pattern: str, plate_text: str) -> bool:
    """True when ``plate_text`` fits ``pattern`` (see :func:`compile_pattern`)."""
    key = lookalike_key(normalize(plate_text, allow_patterns=True))
    return compile_pattern(pattern).fullmatch(key) is not None


def edit_distance(a: str, b: str, groups: tuple[str, ...] = STRICT_LOOKALIKES) -> int:
    """Levenshtein distance between two plate texts, look-alikes counted as equal and
    ``?`` in either text matching any character."""
    ka, kb = lookalike_key(a, groups), lookalike_key(b, groups)
    prev = list(range(len(kb) + 1))
    for i, ca in enumerate(ka, 1):
        cur = [i]
        for j, cb in enumerate(kb, 1):
            same = ca == cb or UNKNOWN in (ca, cb)
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (0 if same else 1)))
        prev = cur
    return prev[-1]
