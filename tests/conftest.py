"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Where the real plate photos live: $PLATEWATCH_SHARED_DATA, else ../shared/data."""
    env = os.environ.get("PLATEWATCH_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real photo datasets; the test is skipped, saying why, where they are absent."""
    root = shared_data_dir()
    if not (root / "br_cc" / "labels.csv").exists():
        pytest.skip(
            f"real plate photos not found at {root} (they are not in the repository; "
            "put the shared data folder beside the checkout or set PLATEWATCH_SHARED_DATA)"
        )
    return root
