"""Where a benchmark's output goes: ``results/benchmarks/<name>.json``, which the README's performance table is
generated from (``tests/readme_tables.py``, checked by ``tests/test_readme.py``), so that no timing in the
README is typed by hand.

A report holds the rows the benchmark puts in the table (``what`` it measured, on which alternatives, and
what it ``measured``, formatted from its numbers when it ran), the raw numbers themselves (seconds, ratios,
rates; 4 significant digits, as timings do not repeat better), and the conditions: the machine (CPU model,
cores, torch threads), the 1-minute load average when it started (is the machine idle?), the torch version,
the date and the commit measured. ``make benchmark`` rewrites every report; ``make figures`` never does.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from functions.results_io import write_json  # noqa: E402

#: The folder of the reports.
REPORTS = ROOT / "results" / "benchmarks"

_LOAD_AT_START = os.getloadavg()[0]


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
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()  # fmt: skip
    return (out.stdout.strip() or "unknown") + (" + local changes" if dirty else "")


def conditions() -> dict:
    """The machine and state a benchmark ran in."""
    import torch

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_at_start": round(_LOAD_AT_START, 2),
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
