"""Plate text: normalisation, look-alike keys, patterns and edit distance."""

from __future__ import annotations

import pytest

from alphabet.text import (
    LOOSE_LOOKALIKES,
    MAX_LENGTH,
    PlateTextError,
    compile_pattern,
    edit_distance,
    is_pattern,
    lookalike_key,
    matches,
    normalize,
    same_plate,
)
from platewatch.errors import PlatewatchError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AA5149EK", "AA5149EK"),
        ("aa5149ek", "AA5149EK"),  # lower case
        ("АА5149ЕК", "AA5149EK"),  # Cyrillic А, Е, К as typed on a Ukrainian keyboard
        ("АА 5149 ЕК", "AA5149EK"),  # Cyrillic with spaces
        ("ВІ0001ХС", "BI0001XC"),  # Cyrillic В, І, Х, С
        ("AA 5149-EK", "AA5149EK"),  # space and dash separate groups
        ("ABC·1234", "ABC1234"),  # the Brazilian middle dot
        (" 1234 BCD ", "1234BCD"),  # leading and trailing spaces
        ("ab.12_cd", "AB12CD"),  # dot and underscore
    ],
)
def test_normalize_accepts_plate_spellings(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12??BCD", "12??BCD"),  # '?' is one unknown character
        ("AA*EK", "AA*EK"),
        ("AA**EK", "AA*EK"),  # runs of '*' collapse to one
        ("*5149*", "*5149*"),
    ],
)
def test_normalize_patterns(raw: str, expected: str) -> None:
    assert normalize(raw, allow_patterns=True) == expected


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("AA51#9EK", "'#'"),  # a symbol
        ("AÄ5149EK", "'Ä'"),  # a Latin letter outside A-Z
        ("AЖ5149EK", "'Ж'"),  # a Cyrillic letter with no Latin twin
        ("AA?149EK", "'?'"),  # '?' outside a query
        ("AA*", "'*'"),
    ],
)
def test_normalize_names_the_bad_character(raw: str, named: str) -> None:
    with pytest.raises(PlateTextError) as info:
        normalize(raw)
    assert named in str(info.value)
    assert "allowed" in str(info.value)


@pytest.mark.parametrize("raw", ["", "   ", "--", " - . "])
def test_normalize_rejects_empty_text(raw: str) -> None:
    with pytest.raises(PlateTextError, match="empty"):
        normalize(raw)


def test_normalize_rejects_only_wildcards_as_empty() -> None:
    with pytest.raises(PlateTextError, match="empty"):
        normalize("**", allow_patterns=True)


@pytest.mark.parametrize("length", [MAX_LENGTH + 1, 40, 10_000])
def test_normalize_rejects_absurd_length(length: int) -> None:
    with pytest.raises(PlateTextError, match=f"at most {MAX_LENGTH}"):
        normalize("A" * length)


def test_normalize_accepts_the_longest_text() -> None:
    assert normalize("A" * MAX_LENGTH) == "A" * MAX_LENGTH


def test_normalize_rejects_non_strings() -> None:
    with pytest.raises(PlateTextError, match="string"):
        normalize(12345)  # type: ignore[arg-type]


def test_plate_text_error_is_a_platewatch_and_value_error() -> None:
    assert issubclass(PlateTextError, PlatewatchError)
    assert issubclass(PlateTextError, ValueError)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("RKO99AN", "RK099AN", True),  # a published label writes O for 0
        ("AI1234", "A11234", True),  # I and 1
        ("AQ1234", "A01234", True),  # Q and D join the 0/O group
        ("AB1234", "A81234", False),  # B/8 only in the loose groups
        ("12??BCD", "1234BCD", True),  # '?' matches any one character
        ("12??BCD", "1234BC", False),  # different lengths
        ("aa 5149 ek", "АА5149ЕК", True),  # normalised first
    ],
)
def test_same_plate(a: str, b: str, same: bool) -> None:
    assert same_plate(a, b) is same


def test_lookalike_key_loose_groups() -> None:
    assert lookalike_key("B5S2Z6G", LOOSE_LOOKALIKES) == lookalike_key("85522G6", LOOSE_LOOKALIKES)
    assert lookalike_key("B5") != lookalike_key("85")  # strict groups keep them apart


@pytest.mark.parametrize(
    ("pattern", "plate", "expected"),
    [
        ("AA5149EK", "AA5149EK", True),
        ("AA?149EK", "AA5149EK", True),  # '?' in the pattern
        ("AA5149EK", "AA?149EK", True),  # '?' in the plate (a hidden character)
        ("AA*EK", "AA5149EK", True),  # '*' any run
        ("AA*EK", "AAEK", True),  # ... possibly empty
        ("*49*", "AA5149EK", True),
        ("AA*EK", "AA5149EX", False),
        ("AA5149EK", "AA5149E", False),  # whole text must match
        ("RK099AN", "RKO99AN", True),  # look-alikes
        ("AA5149EK", "AA5148EK", False),
        ("aa-5149-ek", "AA5149EK", True),
    ],
)
def test_matches(pattern: str, plate: str, expected: bool) -> None:
    assert matches(pattern, plate) is expected


def test_compile_pattern_escapes_nothing_dangerous() -> None:
    # '.' is a separator in plate text, never a regex wildcard.
    assert compile_pattern("A.B").fullmatch("AB") is not None
    assert compile_pattern("A.B").fullmatch("AXB") is None


@pytest.mark.parametrize(
    ("text", "expected"), [("AA5149EK", False), ("AA?149EK", True), ("AA*", True)]
)
def test_is_pattern(text: str, expected: bool) -> None:
    assert is_pattern(text) is expected


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("AA5149EK", "AA5149EK", 0),
        ("AA5149EK", "AA5148EK", 1),  # substitution
        ("AA5149EK", "AA549EK", 1),  # deletion
        ("AA5149EK", "AA51449EK", 1),  # insertion
        ("AA5149EK", "EK5149AA", 4),
        ("RKO99AN", "RK099AN", 0),  # look-alikes count as equal
        ("12??BCD", "1234BCD", 0),  # '?' matches anything
        ("", "ABC", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance  # symmetric
