"""Fixtures of the web page tests: Debian's chromium driven by Playwright, against the real
``platewatch demo`` service, and a folder for the screenshots each test leaves behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.stream.web.demo import DemoService

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = pytest.StashKey[Path]()
# Everything that would reach out of the machine is turned off: the tests see only 127.0.0.1.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}
#: Playwright's wait for any one thing: long, as the machine's two cores are shared.
PAGE_TIMEOUT_MS = 120_000


def artifacts_dir() -> Path:
    """$PLATEWATCH_ARTIFACTS/web, else the git-ignored artifacts/web (pytest's own temporary
    folders are pruned after three runs, and the machine's other test runs count too)."""
    return Path(os.environ.get("PLATEWATCH_ARTIFACTS") or REPO / "artifacts") / "web"


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    """Screenshots of the pages; the folder is printed at the end of the run."""
    folder = artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[SCREENSHOTS] = folder
    return folder


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    folder = config.stash.get(SCREENSHOTS, None)
    if folder is not None:
        terminalreporter.write_line(f"web page screenshots: {folder}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: the web page tests need Debian's chromium "
            "(apt-get install -y --no-install-recommends chromium)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed (test extra)"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def demo(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoService]:
    """The real demo service (synthetic camera, embedded store), started once per session.

    Depends on ``browser`` so that a machine without chromium skips before starting it.
    """
    folder = tmp_path_factory.mktemp("demo")
    service = DemoService(data=folder / "data", log=folder / "demo.log")
    try:
        service.start()
        yield service
    finally:
        service.stop()


@pytest.fixture
def page(browser: Any, demo: DemoService) -> Iterator[Any]:
    """A fresh tab (its own sessionStorage) on the demo, page errors collected."""
    context = new_context(browser)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.page_errors = errors
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def new_context(browser: Any, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
    """A browser context (its own sessionStorage) with the tests' patient timeout."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context


def sign_in(tab: Any, demo: DemoService, view: str = "search") -> None:
    """Open the page and sign in with the demo's token the way a person does."""
    tab.goto(f"{demo.url}/#{view}")
    tab.fill("#token-input", demo.token)
    tab.click("#login-button")
    tab.wait_for_selector("#logout-button", state="visible")
