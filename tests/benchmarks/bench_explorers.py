"""Benchmark: redraw time of each notebook explorer (recompute + render the PNG the widget shows).

Every slider of every explorer is moved, one at a time, through 10 values across its range, as a reader
dragging it would; prints the median and the worst redraw per explorer. Target: each redraw within 100 ms
on the 2-core CI machine. Run with `make benchmark` or directly.
"""

from __future__ import annotations

import pathlib
import statistics
import sys

import matplotlib
import numpy as np

matplotlib.use("Agg")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions import explore
from functions.landscapes import DoubleWell
from functions.results_io import read_json

E1_RECORD = pathlib.Path(__file__).resolve().parents[2] / "results" / "real_model" / "e1_d510_lam0.0001.json"

EXPLORERS = {  # the notebooks' parameter values
    "fig1 (gamma, T, start)": lambda: explore.fig1_explorer(DoubleWell(), [-0.6, 0.55], [1.0625, 0.0], 0.1, 4.0),
    "fig2 (gamma, H11/H22)": lambda: explore.fig2_explorer([-3.0, -3.0], 1.0, 1 / 9),
    "fig2-real-model (gamma)": lambda: explore.fig2_real_explorer(read_json(E1_RECORD), 1.0),
    "fig3 (G ratio, q, j, gamma)": lambda: explore.fig3_explorer([4, 4], [0, -0.5], [1.5, 1.5], 0.0, 1 / 50, 10, 10),
    "fig4 (sigma^2/q, c)": lambda: explore.fig4_explorer(90.0, 0.5),
}


def main() -> None:
    print("explorer redraws (update + PNG), each slider moved through 10 values:")
    numbers = {}
    for name, make in EXPLORERS.items():
        e = make()
        base = e.initial()
        _, _, first = e.redraw(**base)
        times = []
        for key, s in e.sliders.items():
            for v in np.linspace(s.low, s.high, 10):
                values = dict(base) | {key: 10**v if s.log else v}
                times.append(e.redraw(**values)[2])
            e.redraw(**base)
        print(f"  {name:28s} first {first * 1e3:5.0f} ms; median {statistics.median(times) * 1e3:5.1f} ms, "
              f"worst {max(times) * 1e3:5.1f} ms over {len(times)} redraws")  # fmt: skip
        numbers[name.split()[0]] = {"first_ms": first * 1e3, "median_ms": statistics.median(times) * 1e3,
                                    "worst_ms": max(times) * 1e3, "redraws": len(times)}  # fmt: skip
    parts = "; ".join(f"{k} {v['median_ms']:.0f} / {v['worst_ms']:.0f} ms" for k, v in numbers.items())
    firsts = [v["first_ms"] / 1e3 for v in numbers.values()]
    write_report("bench_explorers", [
        ("Explorer redraws (update + PNG), every slider through 10 values of its range (target ≤ 100 ms)",
         f"median / worst: {parts} (building an explorer and its first image: {min(firsts):.2f}–{max(firsts):.2f} s)"),
    ], numbers)  # fmt: skip


if __name__ == "__main__":
    main()
