"""Benchmark: Figure 1's least-action path, L-BFGS (functions.least_action) vs plain gradient descent.

Both minimise the same discretised action (50 points, fixed ends, authors' values) with exact
autograd gradients, side by side in one run. Gradient descent takes steps of 1e-2 on the interior
points until S is within 1e-6 (relative) of the L-BFGS minimum, or 60,000 steps. Run with
`make benchmark` or `python tests/benchmarks/bench_least_action.py`.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions.landscapes import DoubleWell
from functions.least_action import action_and_grad, minimise_action
from functions.objective import Problem

THETA0, THETA_T, T, N = np.array([-0.6, 0.55]), np.array([1 + 1 / 16, 0.0]), 4.0, 50
PROBLEM = Problem(DoubleWell(), gamma=0.1, eta=1.0, k=1.0)


def gradient_descent(lr: float, S_target: float, rel_tol: float, max_steps: int):
    """Plain gradient descent on the interior points; stops at S <= S_target (1 + rel_tol)."""
    fun = action_and_grad(PROBLEM, THETA0, THETA_T, T)
    t = np.linspace(0, T, N)[1:-1, None]
    x = (THETA0 + t / T * (THETA_T - THETA0)).ravel()
    for step in range(1, max_steps + 1):
        S, g = fun(x)
        if S <= S_target * (1 + rel_tol):
            return S, step - 1
        x = x - lr * g
    return fun(x)[0], max_steps


def main(repeats: int = 5) -> None:
    torch.set_num_threads(1)
    best_lbfgs = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        path = minimise_action(PROBLEM, THETA0, T, theta_T=THETA_T, n_points=N)
        best_lbfgs = min(best_lbfgs, time.perf_counter() - start)
    start = time.perf_counter()
    S_gd, steps = gradient_descent(1e-2, path.J / T, 1e-6, 60_000)
    t_gd = time.perf_counter() - start
    rel = abs(S_gd - path.J / T) / (path.J / T)
    print(f"L-BFGS : S = {path.J / T:.10e}  iterations = {path.info.n_iter:6d}  time = {best_lbfgs:8.3f} s")
    print(f"GD 1e-2: S = {S_gd:.10e}  steps      = {steps:6d}  time = {t_gd:8.3f} s  (rel. gap {rel:.1e})")
    reached = "reached" if rel <= 1e-6 else "did NOT reach"
    print(f"GD {reached} the L-BFGS action within 1e-6 relative.")
    print(f"speed-up (GD time / L-BFGS time): {t_gd / best_lbfgs:.0f}x")
    write_report("bench_least_action", [
        ("Figure 1 least-action path: preconditioned L-BFGS vs plain gradient descent (step 1e-2, until the same S "
         "within 1e-6)",
         f"{best_lbfgs:.3f} s ({path.info.n_iter} iterations) vs {t_gd:.1f} s ({steps:,} steps; {reached} it): "
         f"**{t_gd / best_lbfgs:.0f}×**"),
    ], {"lbfgs_s": best_lbfgs, "lbfgs_iterations": path.info.n_iter, "gd_s": t_gd, "gd_steps": steps,
        "gd_rel_gap": rel})  # fmt: skip


if __name__ == "__main__":
    main()
