"""The page's files themselves: nothing loaded from outside, every reference resolvable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

WEB = REPO / "stream" / "web"
FILES = sorted(p for p in WEB.iterdir() if p.suffix in {".html", ".js", ".css"})
# src="x", href="x", import ... from "./x", url(x)
REFERENCE = re.compile(r"""(?:src|href)="([^"#]+)"|from "([^"]+)"|url\(([^)]+)\)""")


def _references(path: Path) -> list[str]:
    return [next(g for g in m.groups() if g) for m in REFERENCE.finditer(path.read_text())]


def test_the_page_is_there():
    assert (WEB / "index.html").exists()
    assert {p.name for p in FILES} >= {"index.html", "app.js", "style.css"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_nothing_is_loaded_from_outside(path: Path):
    # The page must work on a network with no way out: no CDN, no web font, no analytics.
    outside = [r for r in _references(path) if re.match(r"(?:[a-z]+:)?//", r)]
    assert not outside, f"{path.name} loads {outside}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_local_reference_exists(path: Path):
    local = [r for r in _references(path) if not r.startswith(("data:", "#"))]
    missing = [r for r in local if not (WEB / r.removeprefix("./")).exists()]
    assert not missing, f"{path.name} refers to missing {missing}"
