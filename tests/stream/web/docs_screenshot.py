"""Make the README's picture of the search page from the demo's synthetic camera only.

    .venv/bin/python -m tests.stream.web.docs_screenshot [--out docs/screenshots/search.png]

Starts ``platewatch demo`` in a temporary folder, lets its synthetic road fill the store,
searches for the plate the service read best, and saves the page. No real photo is used.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.stream.web.conftest import CHROMIUM, CHROMIUM_ARGS, new_context, sign_in
from tests.stream.web.demo import DemoService, plates_between, wait_for

VIEW = {"width": 1280, "height": 760}


def _best_plate(demo: DemoService, at_least: int) -> str | None:
    """The shown plate whose best match scores highest (None until enough sightings)."""
    shown = [text for _i, text in plates_between(0, demo.frames_received())]
    with demo.client() as http:
        if len(http.get("/api/sightings", params={"limit": at_least}).json()) < at_least:
            return None
        tops = {
            text: http.get("/api/sightings/search", params={"text": text}).json()[0]["score"]
            for text in shown
        }
    return max(tops, key=lambda text: tops[text]) if tops else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/search.png"))
    parser.add_argument("--sightings", type=int, default=40, help="wait for this many first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = DemoService(data=Path(tmp) / "data", log=Path(tmp) / "demo.log")
        demo.start()
        try:
            plate = wait_for("sightings", lambda: _best_plate(demo, args.sightings), 600, 5)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                tab = new_context(browser, VIEW).new_page()
                sign_in(tab, demo)
                tab.fill("#search-text", plate)
                tab.click("#search-button")
                tab.wait_for_function("document.querySelector('#query-image').naturalWidth > 0")
                tab.wait_for_function(
                    "[...document.querySelectorAll('#search-results img')]"
                    ".every(i => i.complete && i.naturalWidth > 0)"
                )
                args.out.parent.mkdir(parents=True, exist_ok=True)
                tab.screenshot(path=str(args.out))
                browser.close()
        finally:
            demo.stop()
    print(f"{args.out}: search for {plate}")


if __name__ == "__main__":
    main()
