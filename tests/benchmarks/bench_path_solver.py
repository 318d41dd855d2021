"""Benchmark: the Newton-Krylov path solver on the real model's quadratic model, against the size of the
problem (d = 510, 2,000, 7,850) and of the grid (N), side by side with what the L-BFGS solver would need.

For each d: logistic regression on MNIST (PCA to d/10 - 1 components, or all pixels for 7,850), its minimiser,
the Hessian H at theta* and its eigenpairs (the preconditioner), then one free-end solve at
gamma = sqrt(eta k lambda_max) (the middle of E0's range) for each N, timed, with its error against the exact
optimum (``lq.free_end_lq``). The L-BFGS solver of Figure 1 (``least_action``) builds a dense
(N d)^2 preconditioner: its size is printed, which is where it stops.

    python tests/benchmarks/bench_path_solver.py             # d = 510 and 2,000
    python tests/benchmarks/bench_path_solver.py --full      # and 7,850 (several minutes per step on 1 core)
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions.landscapes import QuadraticModel
from functions.lq import free_end_lq
from functions.newton_krylov import solve_path
from functions.objective import Problem
from functions.paths import time_grid
from functions.real_model import mnist_logistic
from functions.solver_checks import DECAY, rates


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--full", action="store_true", help="include d = 7,850 (all pixels)")
    p.add_argument("--root", default="data", help="folder holding mnist/")
    p.add_argument("--points", default="256,512,1024")
    args = p.parse_args()
    sizes = [50, 199] + ([None] if args.full else [])
    numbers = {}
    for comp in sizes:
        start = time.perf_counter()
        model = mnist_logistic(comp, lam=1e-4, root=args.root)
        theta_star, _ = model.minimum()
        t_min = time.perf_counter() - start
        H = model.hessian(theta_star, max_dim=8000)
        eig = np.linalg.eigh(H)
        t_eig = time.perf_counter() - start - t_min
        gamma = float(np.sqrt(eig[0][-1]))
        r = rates(eig[0], gamma)
        T = DECAY / r.min()
        exact = free_end_lq(None, theta_star, np.zeros(model.dim), T, gamma, eig=eig)
        problem = Problem(QuadraticModel(H, theta_star), gamma=gamma)
        print(f"d = {model.dim}: minimiser {t_min:.1f} s, Hessian + eigh {t_eig:.1f} s, gamma = {gamma:.3g}")
        entry = numbers[str(model.dim)] = {"minimiser_s": t_min, "hessian_eigh_s": t_eig, "gamma": gamma, "solves": {}}
        for n in (int(x) for x in args.points.split(",")):
            t = time_grid(T, n, "geometric", first=min(4.0 / (n * r.max()), 0.5 * T / (n - 1)))
            t0 = time.perf_counter()
            path = solve_path(problem, np.zeros(model.dim), T, t=t, curvature=eig, tol=1e-8)
            secs = time.perf_counter() - t0
            err = np.abs(path.theta - exact(t)).max() / np.abs(exact(t) - theta_star).max()
            lbfgs_gb = (n * model.dim) ** 2 * 8 / 1e9
            print(f"  N = {n:5d}: {secs:7.2f} s, {path.info.n_iter} Newton / {path.info.n_inner} Krylov, "
                  f"sup error {err:.1e}; L-BFGS's dense preconditioner would hold {lbfgs_gb:,.0f} GB")  # fmt: skip
            entry["solves"][str(n)] = {"s": secs, "newton": path.info.n_iter, "krylov": path.info.n_inner,
                                       "sup_error": err, "lbfgs_preconditioner_gb": lbfgs_gb}  # fmt: skip
    rows = []
    for d, e in numbers.items():
        solves = "; ".join(f"N = {n}: {v['s']:.1f} s ({v['newton']} Newton / {v['krylov']} Krylov, "
                           f"error {v['sup_error']:.0e})" for n, v in e["solves"].items())  # fmt: skip
        biggest = max(e["solves"].values(), key=lambda v: v["lbfgs_preconditioner_gb"])["lbfgs_preconditioner_gb"]
        rows.append((f"Real model's quadratic model, d = {int(d):,}: one free-end Newton–Krylov solve at "
                     f"γ = {e['gamma']:.3g} (eigenpairs of H as preconditioner) per grid size N",
                     f"{solves}; θ* {e['minimiser_s']:.1f} s, H and its eigenpairs {e['hessian_eigh_s']:.1f} s. "
                     f"L-BFGS's dense preconditioner would hold up to {biggest:,.0f} GB"))  # fmt: skip
    write_report("bench_path_solver", rows, numbers)


if __name__ == "__main__":
    main()
