"""What the benchmark scripts say about the machine they ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str | None:
    """The processor's model name from /proc/cpuinfo, or None where it cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def load_average() -> str:
    """The 1, 5 and 15-minute load averages, e.g. ``1.0 / 0.8 / 0.5``."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def machine_line() -> str:
    """One line: host, cores, processor, Python and the load average now (1/5/15 min)."""
    return (
        f"machine: {platform.node()}, {os.cpu_count()} CPU cores, "
        f"{cpu_name() or platform.machine()}, Python {platform.python_version()}, "
        f"load average {load_average()} (the machine is shared with other work)"
    )
