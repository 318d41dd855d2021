"""Time `jupyter nbconvert --execute` for each figure notebook (output to a scratch folder).

Usage: python tests/benchmarks/time_notebooks.py [notebook ...]; defaults to all four figures.
Each notebook writes its results/ and fig_images/ as usual (the same bytes as committed).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = ["fig1-overview.ipynb", "fig2-momentum.ipynb", "fig3-nongrad.ipynb", "fig4-adam.ipynb"]


def main(notebooks: list[str]) -> None:
    with tempfile.TemporaryDirectory() as out:
        for nb in notebooks:
            if not (ROOT / nb).exists():
                print(f"{nb:24s} missing, skipped")
                continue
            cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                   "--output-dir", out, nb]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
            print(f"{nb:24s} {time.perf_counter() - start:6.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
