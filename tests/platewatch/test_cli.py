"""The ``platewatch`` command itself: subcommands listed, user errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from platewatch.cli import main

COMMANDS = [
    "render",
    "train",
    "eval",
    "index",
    "search",
    "reindex",
    "retention",
    "serve",
    "validate-config",
    "demo",
    "watch",
    "token",
]


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "platewatch", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in COMMANDS:
        assert f"    {command}" in out, f"{command} missing from platewatch --help"


def test_help_does_not_load_tensorflow() -> None:
    code = (
        "import sys; from platewatch.cli import build_parser; build_parser(); "
        "sys.exit('tensorflow' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: platewatch" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "AB€1", "-o", "x.png"], "unsupported character '€'"),
        (["render", "", "-o", "x.png"], "empty"),
        (["render", "AB*1", "-o", "x.png"], "cannot be drawn"),
    ],
)
def test_user_errors_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.startswith(f"platewatch {argv[0]}: error:")


def test_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
