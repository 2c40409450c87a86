"""Where stored data lives: one rule for every command that touches it."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PLATEWATCH_DATA"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/platewatch``, i.e. ``~/.local/share/platewatch`` by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "platewatch"


def resolve_data_dir(cli_value: str | Path | None = None) -> Path:
    """``--data DIR`` if given, else ``$PLATEWATCH_DATA``, else :func:`default_data_dir`."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_data_dir()
