"""Signing in to the page with an API token, in a real browser against the real demo."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.stream.web.conftest import sign_in
from tests.stream.web.demo import PLATEWATCH, DemoService, make_token


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("", "Sign in with an API token"),  # nothing typed: the page asks for a token
        ("pw_1_" + "x" * 43, "refused"),  # well-formed but wrong: the service's refusal
        ("not-a-token", "refused"),  # malformed
    ],
)
def test_sign_in_needs_a_valid_token(page: Any, demo: DemoService, token: str, says: str):
    page.goto(f"{demo.url}/#search")
    if token:
        page.fill("#token-input", token)
        page.click("#login-button")
    page.wait_for_function(
        "s => document.querySelector('#notice').textContent.includes(s)", arg=says
    )
    assert page.locator("#token-input").is_visible()
    assert page.evaluate("document.body.classList.contains('signed-out')")


def test_a_revoked_token_signs_the_page_out(page: Any, demo: DemoService):
    token = make_token(demo.data, "web-revoked")
    page.goto(f"{demo.url}/#search")
    page.fill("#token-input", token)
    page.click("#login-button")
    page.wait_for_selector("#logout-button", state="visible")
    revoke = [*PLATEWATCH, "token", "revoke", "web-revoked", "--data", str(demo.data)]
    subprocess.run(revoke, capture_output=True, timeout=120, check=True)
    page.fill("#search-text", "AB1234CD")
    page.click("#search-button")
    page.wait_for_function("document.body.classList.contains('signed-out')")
    assert "refused" in page.inner_text("#notice")
    sign_in(page, demo)  # another, valid token brings the page back
    assert page.locator("#logout-button").is_visible()
