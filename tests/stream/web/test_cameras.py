"""The cameras page, and every page on a phone-sized screen, in a real browser against the
real demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.stream.web.conftest import new_context, sign_in
from tests.stream.web.demo import DemoService

PHONE = {"width": 390, "height": 844}


def test_camera_status_frame_and_rates(page: Any, demo: DemoService, artifacts: Path):
    sign_in(page, demo, "cameras")
    card = page.locator(".camera-card[data-camera='demo-road']")
    card.locator(".status", has_text="up").wait_for()
    # frames/s needs two polls of the counters; the demo camera delivers 5 frames/s.
    page.wait_for_function(
        "Number(document.querySelector(\".camera-card[data-camera='demo-road'] .fps\")"
        ".textContent) > 0"
    )
    page.wait_for_function(
        "document.querySelector(\".camera-card[data-camera='demo-road'] img\").naturalWidth > 0"
    )
    with demo.client() as http:
        camera = http.get("/api/cameras/demo-road").json()
    shown = int(card.locator(".received").inner_text())
    assert 0 < shown <= camera["frames_received"]
    assert int(card.locator(".dropped").inner_text()) <= camera["frames_dropped"]
    page.screenshot(path=str(artifacts / "cameras.png"))


@pytest.mark.parametrize("view", ["search", "watchlist", "alerts", "cameras"])
def test_pages_fit_a_phone(browser: Any, demo: DemoService, artifacts: Path, view: str):
    context = new_context(browser, PHONE, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        sign_in(tab, demo, view)
        tab.wait_for_selector(f"section[data-view={view}]:not([hidden])")
        tab.wait_for_timeout(500)  # the view's first answer drawn
        overflow = tab.evaluate(
            "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 1, f"the {view} page is {overflow} px wider than a phone"
        tab.screenshot(path=str(artifacts / f"phone-{view}.png"), full_page=True)
    finally:
        context.close()
