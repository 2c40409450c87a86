"""The one writer of docs/benchmarks.md entries, and the soak's growth rule."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from benchmarks._report import add_entry, command_line, entry_text, insert_entry
from benchmarks.bench_soak import anon_by_kind, part_slope, proc_figures, verdict

DOC = """# Benchmarks

Figures appended by the scripts in benchmarks/.

## Alerts

### 2026-11-24 08:30 UTC
old alerts entry

## Service

### 2026-11-24 08:38 UTC
old service entry
"""


def test_entry_lands_at_the_end_of_its_section_and_keeps_the_others() -> None:
    entry = entry_text("Run", "python x.py", "- figure 1", "machine: m", datetime(2026, 1, 2, 3, 4))
    out = insert_entry(DOC, "Alerts", entry)
    lines = out.splitlines()
    assert out.startswith(DOC.split("## Service")[0].rstrip())  # old text kept, in place
    assert "old service entry" in out
    new = lines.index("### Run — 2026-01-02 03:04 UTC")
    assert lines.index("old alerts entry") < new < lines.index("## Service")
    assert lines[new + 1 : new + 5] == ["`python x.py`", "machine: m", "", "- figure 1"]
    assert lines[new + 5] == ""  # a blank line before the next section
    assert "\n\n\n" not in out
    tight = insert_entry(DOC.replace("entry\n\n## Service", "entry\n## Service"), "Alerts", entry)
    assert "- figure 1\n\n## Service" in tight


def test_missing_section_is_made_at_the_end(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC)
    add_entry("Store", "1,000 rows", "| a |\n|---|\n| 1 |", command="python s.py", doc=doc)
    text = doc.read_text()
    assert text.startswith(DOC.rstrip())
    tail = text[len(DOC.rstrip()) + 1 :].splitlines()  # after the old last line
    assert tail[:4] == ["", "## Store", "", tail[3]]
    assert tail[3].startswith("### 1,000 rows — ") and tail[3].endswith(" UTC")
    assert tail[4] == "`python s.py`"
    assert tail[5].startswith("machine: ") and "load average" in tail[5]
    assert tail[-3:] == ["| a |", "|---|", "| 1 |"]


def test_a_new_file_gets_the_heading(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "benchmarks.md"
    add_entry("Service", "", "- x", command="python b.py", doc=doc)
    lines = doc.read_text().splitlines()
    assert lines[0] == "# Benchmarks"
    assert "## Service" in lines
    assert lines[lines.index("## Service") + 2].startswith(f"### {datetime.now(UTC):%Y-%m-%d}")


def test_command_line_names_the_script_from_the_repository() -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_soak.py"
    assert command_line([str(script), "--minutes", "3"]) == (
        "python benchmarks/bench_soak.py --minutes 3"
    )
    assert command_line(["b.py", "a b"]) == "python b.py 'a b'"


def test_flat_memory_is_no_growth_and_a_steady_climb_is() -> None:
    minutes = [0.5 * i for i in range(121)]  # an hour, a sample every 30 s
    flat = [800 + (5 if i % 2 else 0) for i in range(121)]
    judged = verdict(minutes, flat, 60)
    assert not judged.grew
    assert abs(judged.slope_mb_h) < 1
    assert judged.early_window == (10, 20) and judged.late_window == (50, 60)
    climbing = [800 + 0.2 * m for m in minutes]  # 12 MB per hour
    judged = verdict(minutes, climbing, 60)
    assert judged.grew and judged.slope_mb_h == pytest.approx(12)
    assert "GREW" in judged.text()


def test_a_step_after_warm_up_counts_as_growth() -> None:
    minutes = [0.5 * i for i in range(121)]
    step = [800.0 if m < 55 else 900.0 for m in minutes]  # +12 % at the end
    judged = verdict(minutes, step, 60)
    assert judged.late_rise > 0.05 and judged.grew


def test_too_few_samples_give_no_verdict() -> None:
    with pytest.raises(ValueError, match="after the warm-up"):
        verdict([0.0, 1.0], [800.0, 801.0], 60)


SMAPS = """\
55d0c0000000-55d0c2000000 rw-p 00000000 00:00 0                          [heap]
Size:              32768 kB
Anonymous:         30000 kB
7f3c04000000-7f3c06000000 rw-p 00000000 00:00 0
Size:              32768 kB
Anonymous:          2048 kB
7f3c06000000-7f3c08000000 ---p 00000000 00:00 0
Size:              32768 kB
Anonymous:             0 kB
7f3c10000000-7f3c10800000 rw-p 00000000 00:00 0
Size:               8192 kB
Anonymous:            64 kB
7f3c10801000-7f3c11000000 rw-p 00000000 00:00 0
Size:               8188 kB
Anonymous:          1024 kB
7f3c20000000-7f3c20010000 r-xp 00000000 08:01 1234                       /usr/lib/libc.so.6
Size:                 64 kB
Anonymous:             4 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Anonymous:           132 kB
"""


def test_anonymous_memory_is_split_by_kind_of_mapping() -> None:
    split = anon_by_kind(SMAPS)
    assert split["heap"] == pytest.approx(30000 / 1024)
    assert split["arenas"] == pytest.approx(2048 / 1024)  # the 64 MiB-aligned arena, not its tail
    assert split["stacks"] == pytest.approx((64 + 132) / 1024)  # an 8 MiB mapping and [stack]
    assert split["other"] == pytest.approx((1024 + 4) / 1024)  # an odd-sized block, a library


def test_the_split_of_a_live_process_adds_up_to_its_anonymous_memory() -> None:
    before = anon_by_kind(Path("/proc/self/smaps").read_text())
    rss_anon_mb = proc_figures(os.getpid())["rss_anon_mb"]
    assert sum(before.values()) == pytest.approx(rss_anon_mb, rel=0.05)
    block = np.ones(48 << 20, np.uint8)  # 48 MiB: its own mapping, outside the heap
    after = anon_by_kind(Path("/proc/self/smaps").read_text())
    assert after["other"] - before["other"] == pytest.approx(48, abs=4)
    del block


def test_a_figure_s_slope_is_taken_after_the_warm_up() -> None:
    rows = [{"minute": m, "x": 100.0 if m < 15 else 100.0 + (m - 15) / 60} for m in range(61)]
    assert part_slope(rows, "x", 15) == pytest.approx(1.0)
    assert part_slope(rows, "x", 0) < 0.9  # the flat warm-up drags it down
    assert part_slope(rows, "x", 61) != part_slope(rows, "x", 61)  # nan: no samples
