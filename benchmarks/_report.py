"""How every benchmark script writes its figures down: one dated entry in docs/benchmarks.md.

Each script calls :func:`add_entry` with its section ("Service", "Store", ...), a title, the
command that was run and the body (Markdown). The entry lands at the end of ``## section``
(made at the end of the file when missing), as::

    ### <title> — 2026-11-24 12:00 UTC
    `python benchmarks/bench_x.py --flag`
    machine: <node>, 2 CPU cores, <cpu>, Python 3.11.7, load average 1.0 / 0.9 / 0.8 (shared)

    <body>

Entries already in the file are left as they are.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._machine import machine_line

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEAD = "# Benchmarks\n\nFigures appended by the scripts in benchmarks/.\n"


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as a reader would type it: ``python benchmarks/bench_x.py --flags``."""
    args = list(sys.argv if argv is None else argv)
    script = Path(args[0]) if args else Path("?")
    if script.is_absolute() and script.parent == DOC.parents[1] / "benchmarks":
        script = Path("benchmarks") / script.name
    return shlex.join(["python", str(script), *args[1:]])


def entry_text(
    title: str, command: str, body: str, machine: str | None = None, when: datetime | None = None
) -> str:
    """The entry's Markdown: dated heading, command, machine line, blank line, body."""
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M")
    heading = f"### {title} — {stamp} UTC" if title else f"### {stamp} UTC"
    lines = [heading, f"`{command}`", machine or machine_line(), "", body.strip("\n")]
    return "\n".join(lines) + "\n"


def insert_entry(text: str, section: str, entry: str) -> str:
    """``text`` (a whole benchmarks.md) with ``entry`` at the end of ``## section``."""
    lines = text.splitlines() if text.strip() else HEAD.splitlines()
    heading = f"## {section}"
    if heading not in lines:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", heading]
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    while end > start and not lines[end - 1].strip():
        end -= 1
    block = ["", *entry.rstrip("\n").splitlines()]
    if end < len(lines) and lines[end].strip():
        block.append("")  # keep a blank line before the next section
    lines[end:end] = block
    return "\n".join(lines).rstrip() + "\n"


def add_entry(
    section: str,
    title: str,
    body: str,
    command: str | None = None,
    doc: Path = DOC,
) -> str:
    """Append a dated entry to ``## section`` of ``doc``; returns the entry's text.

    command: defaults to this process's own command line (:func:`command_line`).
    """
    entry = entry_text(title, command or command_line(), body)
    doc.parent.mkdir(parents=True, exist_ok=True)
    old = doc.read_text(encoding="utf-8") if doc.exists() else ""
    doc.write_text(insert_entry(old, section, entry), encoding="utf-8")
    return entry
