"""Where a benchmark's output goes: ``results/benchmarks/<name>.json``, which the README's performance table is
generated from (``tests/readme_tables.py``, checked by ``tests/test_readme.py``), so that no timing in the
README is typed by hand.

A report holds the rows the benchmark puts in the table (``what`` it measured, on which alternatives, and
what it ``measured``, formatted from its numbers when it ran), the raw numbers themselves (seconds, ratios,
rates; 4 significant digits, as timings do not repeat better), and the conditions: the machine (CPU model,
cores, torch threads), how many cores other programs kept busy in the half second before it started (is the
machine idle? The load average would count the previous benchmark of ``make benchmark``), the torch version,
the date and the commit measured. ``make benchmark`` rewrites every report; ``make figures`` never does.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from functions.results_io import write_json  # noqa: E402

#: The folder of the reports.
REPORTS = ROOT / "results" / "benchmarks"


def busy_cores(seconds: float = 0.5) -> float:
    """Cores kept busy (user, system, interrupts, time stolen by the host) over ``seconds``, from /proc/stat;
    the 1-minute load average where /proc/stat is not readable."""

    def sample():
        # user nice system idle iowait irq softirq steal (guest time is already counted in user and nice)
        fields = [int(x) for x in pathlib.Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]
    total = max(total1 - total0, 1)
    return (os.cpu_count() or 1) * (total - (idle1 - idle0)) / total


_BUSY_AT_START = busy_cores()


def _cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    # the code measured: the library and the benchmarks (an edited README or test does not change a timing)
    status = ["git", "status", "--porcelain", "--untracked-files=no", "--", "functions", "tests/benchmarks"]
    dirty = subprocess.run(status, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (out.stdout.strip() or "unknown") + (" + local changes" if dirty else "")


def conditions() -> dict:
    """The machine and state a benchmark ran in."""
    import torch

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "busy_cores_at_start": round(_BUSY_AT_START, 2),
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "commit": _commit(),
    }


def write_report(name: str, rows: list[tuple[str, str]], numbers: dict, *, out_dir=None) -> pathlib.Path:
    """Write ``<out_dir or REPORTS>/<name>.json`` atomically: the table rows, the raw numbers, the conditions."""
    if not rows or not all(isinstance(w, str) and isinstance(m, str) and w and m for w, m in rows):
        raise ValueError(f"Invalid rows value: {rows!r}; expected non-empty (what, measured) string pairs.")
    data = {"benchmark": name, "rows": [{"what": w, "measured": m} for w, m in rows], "numbers": numbers,
            "conditions": conditions()}  # fmt: skip
    path = pathlib.Path(out_dir or REPORTS) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, data, digits=4, floor=0.0)
    print(f"report written: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
