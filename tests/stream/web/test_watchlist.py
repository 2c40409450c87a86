"""The watchlist and alerts pages in a real browser against the real demo: add with past
matches, edit, remove; an entry for a car about to pass raises an alert that the live feed
shows without a reload; acknowledge."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stream.cli import DEMO_WATCH
from tests.stream.web.conftest import new_context, sign_in
from tests.stream.web.demo import DemoService, a_plate_it_read, plates_between, wait_for

#: Frames of margin before the first watched car enters, for typing the entries in.
MARGIN_FRAMES = 25
#: Cars watched at once, and sightings stored before their thresholds are chosen.
WATCHED = 3
MIN_SIGHTINGS = 10
#: The demo's own watch threshold: its plates' crops score about 0.8 against their own
#: render with the shipped model and at most about 0.4 against another demo plate's.
WATCH_THRESHOLD = DEMO_WATCH[2]


def _sightings(demo: DemoService) -> int:
    with demo.client() as http:
        return len(http.get("/api/sightings", params={"limit": MIN_SIGHTINGS}).json())


def _top_score(demo: DemoService, plate: str) -> float:
    """The best cosine of a stored crop to the plate's render: what a watchlist threshold
    compares with (a text search ranks by the fused score, which also weighs the reading)."""
    with demo.client() as http:
        found = http.get("/api/sightings/search", params={"text": plate, "limit": 50}).json()
    return max((s["vector_score"] for s in found), default=0.0)


def _add(tab: Any, plate: str, label: str, threshold: float) -> None:
    tab.fill("#watch-text", plate)
    tab.fill("#watch-label", label)
    tab.fill("#watch-threshold", f"{threshold:.2f}")
    tab.click("#watch-add")
    tab.wait_for_function(
        "p => document.querySelector('#watch-past-title').textContent.startsWith(p)", arg=plate
    )


def _entry_id(demo: DemoService, plate: str) -> int:
    with demo.client() as http:
        entries = http.get("/api/watchlist").raise_for_status().json()
    return max(e["id"] for e in entries if e["plate_text"] == plate)


def _what_was_seen(demo: DemoService, thresholds: dict[str, float]) -> str:
    with demo.client() as http:
        alerts = http.get("/api/alerts", params={"limit": 5}).json()
        recent = http.get("/api/sightings", params={"limit": 15}).json()
    best = {plate: _top_score(demo, plate) for plate in thresholds}
    return (
        f"thresholds {thresholds}, best cosine now {best}, latest alerts {alerts}, "
        f"latest readings {[s['reading'] for s in recent]}"
    )


def test_add_shows_past_matches_then_edit_and_remove(page: Any, demo: DemoService, artifacts: Path):
    plate, _ids = a_plate_it_read(demo)
    # Just under the best match so far: at least that sighting is a past match.
    threshold = round(_top_score(demo, plate) - 0.01, 2)
    sign_in(page, demo, "watchlist")
    _add(page, plate, "stolen van", threshold)
    past = page.eval_on_selector_all(
        "#watch-past-results .sighting-card .score", "s => s.map(x => Number(x.textContent))"
    )
    assert past, page.inner_text("#watch-past-title")
    assert all(score >= threshold - 5e-4 for score in past), (threshold, past)
    entry_id = _entry_id(demo, plate)
    row = page.locator(f"#watch-rows tr[data-entry-id='{entry_id}']")
    assert plate in row.inner_text() and "stolen van" in row.inner_text()
    page.screenshot(path=str(artifacts / "watchlist.png"))

    row.get_by_role("button", name="Edit").click()
    row.locator("input[name=label]").fill("seen at the depot")
    row.locator("input[name=threshold]").fill("0.9")
    row.get_by_role("button", name="Save").click()
    page.wait_for_function(
        "id => document.querySelector(`#watch-rows tr[data-entry-id='${id}']`)"
        "?.textContent.includes('seen at the depot')",
        arg=entry_id,
    )
    with demo.client() as http:
        stored = http.get(f"/api/watchlist/{entry_id}").json()
    assert (stored["label"], stored["threshold"]) == ("seen at the depot", 0.9)

    remove = row.get_by_role("button", name="Remove")
    remove.click()
    assert row.is_visible(), "one click must not remove (it asks again)"
    page.get_by_role("button", name="Really remove?").click()
    row.wait_for(state="detached")
    with demo.client() as http:
        assert http.get(f"/api/watchlist/{entry_id}").status_code == 404


@pytest.mark.slow
def test_alert_for_a_watched_car_appears_live(
    page: Any, browser: Any, demo: DemoService, artifacts: Path
):
    # The demo's cars carry a few plates in turn: wait until some have gone by.
    wait_for("sightings to compare with", lambda: _sightings(demo) >= MIN_SIGHTINGS, 150, 3)
    sign_in(page, demo, "alerts")
    page.wait_for_selector("#feed-state[data-state=live]")
    now = demo.frames_received()
    # The next cars (a few, as the reader can miss a plate): their texts are known from the
    # camera's seed before they are drawn.
    coming = [t for _i, t in plates_between(now + MARGIN_FRAMES, now + 900)][:WATCHED]
    watcher = new_context(browser).new_page()
    added: list[str] = []
    try:
        sign_in(watcher, demo, "watchlist")
        thresholds = {}
        for plate in coming:
            thresholds[plate] = WATCH_THRESHOLD
            _add(watcher, plate, f"test car {plate}", thresholds[plate])
            added.append(plate)
        # The alerts tab was never reloaded: a card marked fresh came through the stream.
        fresh = page.locator("#alert-feed .alert-card.fresh")
        card = fresh.filter(has=page.locator(".entry", has_text=re.compile("|".join(coming))))
        card = card.first
        try:
            card.wait_for(timeout=240_000)
        except Exception as exc:  # Playwright's TimeoutError: say what the service saw
            pytest.fail(f"no live alert: {exc}; {_what_was_seen(demo, thresholds)}")
        plate = card.locator(".entry").inner_text()
        assert float(card.locator(".score").inner_text()) >= thresholds[plate] - 5e-4
        page.wait_for_function(
            "document.querySelector('#alert-feed .alert-card.fresh img').naturalWidth > 0"
        )
        assert page.locator("#alert-badge").is_visible()
        page.screenshot(path=str(artifacts / "alerts.png"))

        alert_id = int(card.get_attribute("data-alert-id") or 0)
        card.get_by_role("button", name="Acknowledge").click()
        card.locator(".ack-slot", has_text="acknowledged").wait_for()
        with demo.client() as http:
            alert = http.get(f"/api/alerts/{alert_id}").json()
        assert alert["acknowledged_at"] is not None
        assert alert["plate_text"] == plate
    finally:
        watcher.context.close()
        with demo.client() as http:
            for plate in added:
                http.delete(f"/api/watchlist/{_entry_id(demo, plate)}")
