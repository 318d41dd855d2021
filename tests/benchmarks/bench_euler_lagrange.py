"""Benchmark: the Euler-Lagrange right-hand side and its Jacobian at 1,000 nodes, d = 2, side by side.

Three ways to the same numbers: the hand formula (constant G, numpy), the batched reverse-mode autodiff of
``functions.euler_lagrange`` (any L, G, f), and the previous per-node ``vmap`` over nested ``torch.func``
transforms (kept here only for comparison). Prints median times over repeats and the ratios; target: the
autodiff right-hand side within 5x of the formula. Run with `make benchmark` or directly.
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions.euler_lagrange import first_order_jac, first_order_rhs, theta_ddot_formula
from functions.geometry import RotationDrift, diagonal_metric
from functions.landscapes import DoubleWell
from functions.objective import Problem, lagrangian0

PROBLEM = Problem(DoubleWell(), gamma=0.5, metric=diagonal_metric([2.0, 0.5]), drift=RotationDrift(1.5))
M_NODES, REPEATS = 1000, 30


def _vmap_single(problem, theta, theta_dot):
    """The previous implementation: one node at a time under torch.func, vmapped over nodes."""
    from torch.func import grad, jacrev

    def L0(th, thd):
        return lagrangian0(problem, th, thd)

    p_fn = grad(L0, argnums=1)
    M = jacrev(p_fn, argnums=1)(theta, theta_dot)
    C = jacrev(p_fn, argnums=0)(theta, theta_dot)
    rhs = grad(L0, argnums=0)(theta, theta_dot) + problem.gamma * p_fn(theta, theta_dot) - C @ theta_dot
    return torch.linalg.solve(M, rhs)


def vmap_rhs(problem, y):
    from torch.func import vmap

    d = problem.dim
    yt = torch.as_tensor(y.T)
    acc = vmap(lambda yy: _vmap_single(problem, yy[:d], yy[d:]))(yt)
    return np.concatenate([y[d:], acc.numpy().T])


def vmap_jac(problem, y):
    from torch.func import jacrev, vmap

    d = problem.dim

    def state(yy):
        return torch.cat([yy[d:], _vmap_single(problem, yy[:d], yy[d:])])

    return vmap(jacrev(state))(torch.as_tensor(y.T)).numpy().transpose(1, 2, 0)


def formula_rhs(problem, y):
    d = problem.dim
    return np.concatenate([y[d:], theta_ddot_formula(problem, y[:d].T, y[d:].T).T])


def timed(fn) -> float:
    fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    y = np.random.default_rng(0).normal(size=(4, M_NODES))
    np.testing.assert_allclose(first_order_rhs(PROBLEM, y), formula_rhs(PROBLEM, y), atol=1e-10)
    np.testing.assert_allclose(first_order_rhs(PROBLEM, y), vmap_rhs(PROBLEM, y), atol=1e-10)
    np.testing.assert_allclose(first_order_jac(PROBLEM, y), vmap_jac(PROBLEM, y), atol=1e-9)
    t = {
        "formula rhs": timed(lambda: formula_rhs(PROBLEM, y)),
        "batched autodiff rhs": timed(lambda: first_order_rhs(PROBLEM, y)),
        "vmap torch.func rhs": timed(lambda: vmap_rhs(PROBLEM, y)),
        "batched autodiff jac": timed(lambda: first_order_jac(PROBLEM, y)),
        "vmap torch.func jac": timed(lambda: vmap_jac(PROBLEM, y)),
    }
    print(f"Euler-Lagrange at {M_NODES} nodes, d = 2 (median of {REPEATS}), torch threads {torch.get_num_threads()}:")
    for name, seconds in t.items():
        print(f"  {name:22s} {seconds * 1e3:7.2f} ms")
    print(f"autodiff rhs / formula rhs: {t['batched autodiff rhs'] / t['formula rhs']:.1f}x (target <= 5x); "
          f"before (vmap): {t['vmap torch.func rhs'] / t['formula rhs']:.1f}x")  # fmt: skip
    print(f"autodiff jac / formula rhs: {t['batched autodiff jac'] / t['formula rhs']:.1f}x; "
          f"vmap jac / batched jac: {t['vmap torch.func jac'] / t['batched autodiff jac']:.1f}x")  # fmt: skip
    ms = {k: v * 1e3 for k, v in t.items()}
    rhs = ms["batched autodiff rhs"] / ms["formula rhs"]
    write_report("bench_euler_lagrange", [
        (f"Euler–Lagrange right-hand side at {M_NODES:,} nodes, d = 2: hand formula vs batched reverse-mode autodiff "
         f"vs the previous per-node `vmap` over `torch.func`",
         f"{ms['formula rhs']:.2f} ms vs {ms['batched autodiff rhs']:.2f} ms (**{rhs:.1f}×** the formula; target ≤ 5×) "
         f"vs {ms['vmap torch.func rhs']:.2f} ms ({ms['vmap torch.func rhs'] / ms['formula rhs']:.1f}×)"),
        ("Its Jacobian: batched autodiff vs `vmap(jacrev)`",
         f"{ms['batched autodiff jac']:.2f} ms vs {ms['vmap torch.func jac']:.2f} ms "
         f"({ms['vmap torch.func jac'] / ms['batched autodiff jac']:.1f}× faster)"),
    ], {"median_ms": ms, "repeats": REPEATS})  # fmt: skip


if __name__ == "__main__":
    main()
