"""The watchlist matcher: one matrix product over stacked entries, hours, '*' patterns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pytest

from alphabet.render import render
from alphabet.text import PlateTextError
from stream.watchlist import (
    ActiveHours,
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    check_plate_text,
)
from tests.stream.api.pixels import PixelEmbedder, pixel_vector


@dataclass(frozen=True)
class Seen:
    camera: str
    seen_at: datetime
    reading: str
    vector: npt.NDArray[np.float32]


def seen(text: str, hour: int = 12, reading: str | None = None) -> Seen:
    return Seen(
        "gate",
        datetime(2026, 11, 24, hour, 30, tzinfo=UTC),
        text if reading is None else reading,
        pixel_vector(render(text)),
    )


@pytest.fixture
def watchlist() -> Watchlist:
    return Watchlist(PixelEmbedder(), tz=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end", "inside", "outside"),
    [
        ("08:00-18:00", "08:00", "18:00", ["08:00", "12:00", "17:59"], ["07:59", "18:00"]),
        ("22:00-06:00", "22:00", "06:00", ["23:00", "00:00", "05:59"], ["06:00", "12:00"]),
        (" 8:00 - 9:30 ", "08:00", "09:30", ["09:00"], ["09:30"]),
    ],
)
def test_active_hours(text: str, start: str, end: str, inside: list[str], outside: list[str]):
    from datetime import time

    hours = ActiveHours.parse(text)
    assert str(hours) == f"{start}-{end}"
    for t in inside:
        assert hours.contains(time.fromisoformat(t)), t
    for t in outside:
        assert not hours.contains(time.fromisoformat(t)), t


@pytest.mark.parametrize(
    "bad",
    ["", "08:00", "8-18", "08:00-08:00", "25:00-26:00", "08:00-09:00-10:00"],
)
def test_active_hours_refuses(bad: str):
    with pytest.raises(WatchlistError, match="hours"):
        ActiveHours.parse(bad)


@pytest.mark.parametrize(("text", "normal"), [("aa 5149-ek", "AA5149EK"), ("ab?12*", "AB?12*")])
def test_plate_text_normalised(text: str, normal: str):
    assert check_plate_text(text) == normal


def test_unsupported_character_refused():
    with pytest.raises(PlateTextError, match="unsupported character"):
        check_plate_text("AB#123")


def test_threshold_out_of_range_refused():
    with pytest.raises(WatchlistError, match="threshold"):
        WatchlistEntry(1, "AB123", 1.5)


def test_vector_match_respects_each_threshold(watchlist: Watchlist):
    sighting = seen("AB1234CD")
    other = "XY9876ZT"
    exact = float(watchlist.vector_of("AB1234CD") @ sighting.vector)
    cross = float(watchlist.vector_of(other) @ sighting.vector)
    assert exact > 0.99 and cross < exact
    watchlist.replace(
        [
            WatchlistEntry(1, "AB1234CD", threshold=0.9, label="stolen"),
            WatchlistEntry(2, other, threshold=cross + 0.01),  # just above its cosine
            WatchlistEntry(3, other, threshold=cross - 0.01, label="loose"),  # just below
        ]
    )
    found = watchlist.match(sighting)
    assert [m.entry.id for m in found] == [1, 3]
    assert found[0].method == "vector"
    assert found[0].score == pytest.approx(exact, abs=1e-5)


def test_each_text_is_embedded_once(watchlist: Watchlist):
    embedder = watchlist._embedder
    assert isinstance(embedder, PixelEmbedder)
    watchlist.replace([WatchlistEntry(i, f"AB{i:04d}", 0.9) for i in range(50)])
    assert embedder.text_calls == 1
    watchlist.put(WatchlistEntry(99, "AB0007", 0.5))  # same text as entry 7: cached
    watchlist.remove(3)
    watchlist.put(WatchlistEntry(3, "AB0003", 0.9))
    assert embedder.text_calls == 1
    assert len(watchlist) == 51


@pytest.mark.parametrize(
    ("hours", "hour", "alerts"),
    [
        (None, 3, True),
        ("08:00-18:00", 12, True),
        ("08:00-18:00", 19, False),
        ("22:00-06:00", 3, True),
        ("22:00-06:00", 12, False),
    ],
)
def test_active_hours_gate_matches(watchlist: Watchlist, hours: str | None, hour: int, alerts):
    parsed = ActiveHours.parse(hours) if hours else None
    watchlist.put(WatchlistEntry(1, "AB1234CD", 0.9, hours=parsed))
    watchlist.put(WatchlistEntry(2, "AB12*", 0.9, hours=parsed))
    found = watchlist.match(seen("AB1234CD", hour=hour))
    assert sorted(m.entry.id for m in found) == ([1, 2] if alerts else [])


@pytest.mark.parametrize(
    ("pattern", "reading", "hit"),
    [
        ("AB*", "AB1234CD", True),
        ("*34CD", "AB1234CD", True),
        ("A?12*", "AB1234CD", True),
        ("*99*", "AB1234CD", False),
        ("AB*", "", False),  # nothing read: a '*' entry cannot match
        ("*0*", "AO", True),  # O and 0 are one look-alike group
    ],
)
def test_star_patterns_match_on_reading(watchlist: Watchlist, pattern, reading, hit):
    watchlist.put(WatchlistEntry(5, pattern, 0.99))
    found = watchlist.match(seen("AB1234CD", reading=reading))
    assert [(m.entry.id, m.method) for m in found] == ([(5, "reading")] if hit else [])


def test_question_mark_entry_is_rendered_and_matched(watchlist: Watchlist):
    sighting = seen("AB1234CD")
    cosine = float(watchlist.vector_of("AB12?4CD") @ sighting.vector)
    assert cosine > float(watchlist.vector_of("XY98?6ZT") @ sighting.vector)
    watchlist.put(WatchlistEntry(1, "AB12?4CD", cosine - 0.01))
    assert [(m.entry.id, m.method) for m in watchlist.match(sighting)] == [(1, "vector")]


def test_remove_and_empty(watchlist: Watchlist):
    assert watchlist.match(seen("AB1234CD")) == []
    watchlist.put(WatchlistEntry(1, "AB1234CD", 0.9))
    assert watchlist.remove(1) is True
    assert watchlist.remove(1) is False
    assert watchlist.match(seen("AB1234CD")) == []


def test_ten_thousand_entries_one_product(watchlist: Watchlist):
    texts = [f"{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}{i:05d}" for i in range(10_000)]
    watchlist.replace([WatchlistEntry(i, t, 0.999) for i, t in enumerate(texts)])
    target = 4321
    found = watchlist.match(seen(texts[target]))
    assert target in [m.entry.id for m in found]
    assert all(m.score >= 0.999 for m in found)
