"""Time each figure notebook from kernel start to its last cell, and where the time goes.

Usage: python tests/benchmarks/time_notebooks.py [--cells] [--nbconvert] [notebook ...]
(defaults to the four figures; `make benchmark` runs it under MPLBACKEND=agg, as `make figures` does).

Each notebook runs top to bottom in a fresh kernel through nbclient, as "Restart and run all" does in
JupyterLab, and writes its results/ and fig_images/ as usual (the same bytes as committed). The notebook
file itself is not rewritten. Printed per notebook, in seconds:

- total: from asking for a kernel to the end of the last cell (what a reader waits for);
- kernel: starting the kernel until it answers;
- imports: the first code cell; saving: cells that write results/ or fig_images/ (they call save_panels,
  save_figure or compose); explore: cells tagged ``explore``; compute: every other cell.

``--cells`` adds every cell's time. ``--nbconvert`` also times `jupyter nbconvert --execute` in a subprocess,
which adds the Python start and the import of nbconvert (about 2 s, 1.3 s of it jsonschema's optional IRI
checker, rfc3987-syntax, building its grammar at import; see python-jsonschema/jsonschema#1392) before the
kernel starts.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from datetime import datetime

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = ["fig1-overview.ipynb", "fig2-momentum.ipynb", "fig3-nongrad.ipynb", "fig4-adam.ipynb"]


def _seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (
        datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    ).total_seconds()


def _phase(index: int, cell) -> str:
    if index == 0:
        return "imports"
    if "explore" in cell.metadata.get("tags", []):
        return "explore"
    if any(f"{call}(" in cell.source for call in ("save_panels", "save_figure", "compose")):
        return "saving"
    return "compute"


def time_notebook(path: pathlib.Path, show_cells: bool) -> dict:
    """Run ``path`` in a fresh kernel; returns the seconds per phase (and prints them)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", record_timing=True, resources={"metadata": {"path": str(ROOT)}}
    )
    start = time.perf_counter()
    with client.setup_kernel():
        kernel = time.perf_counter() - start
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        total = time.perf_counter() - start
    code = [c for c in nb.cells if c.cell_type == "code"]
    phases = {"total": total, "kernel": kernel, "imports": 0.0, "compute": 0.0, "saving": 0.0, "explore": 0.0}
    for i, cell in enumerate(code):
        phases[_phase(i, cell)] += _seconds(cell)
    print(f"{path.name:22s} " + "  ".join(f"{k} {v:5.2f}" for k, v in phases.items()), flush=True)
    if show_cells:
        for i, cell in enumerate(code):
            first = cell.source.splitlines()[0][:60] if cell.source else ""
            print(f"    {_seconds(cell):6.2f}  [{_phase(i, cell):7s}] {first}")
    return phases


def time_nbconvert(path: pathlib.Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", out]
        cmd.append(path.name)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=DEFAULT)
    parser.add_argument("--cells", action="store_true", help="print every cell's time")
    parser.add_argument("--nbconvert", action="store_true", help="also time `jupyter nbconvert --execute`")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "agg")  # as `make figures` runs the kernels
    missing = [name for name in args.notebooks if not (ROOT / name).is_file()]
    if missing:  # before running anything
        parser.error(f"Invalid notebook value: {missing[0]!r} is not a file in {ROOT}; expected one of {DEFAULT}.")
    numbers = {}
    for name in args.notebooks:
        path = ROOT / name
        numbers[name] = time_notebook(path, args.cells)
        if args.nbconvert:
            numbers[name]["nbconvert_s"] = time_nbconvert(path)
            print(f"{'':22s} nbconvert --execute {numbers[name]['nbconvert_s']:5.2f}", flush=True)
    if args.notebooks == DEFAULT:  # the README's row: all four figures
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
        from _report import write_report

        parts = "; ".join(f"{n.split('-')[0]} {v['total']:.1f} s (imports {v['imports']:.1f}, saving {v['saving']:.1f})"
                          for n, v in numbers.items())  # fmt: skip
        write_report("time_notebooks", [
            ("Notebooks, kernel start to last cell (nbclient, as *Restart and run all*; targets 6 / 7 / 6 / 12 s)",
             parts),
        ], numbers)  # fmt: skip


if __name__ == "__main__":
    main()
