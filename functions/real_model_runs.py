"""Cached records of the real-model solves: ``python -m functions.experiments real-model e0 --components 50``.

One JSON record per part and model size in results/real_model/, holding its configuration, what was measured,
the criteria and whether each held, the solver's effort, and the machine and wall time. The notebooks read
these records; they never solve at d = 7,850 themselves.

Parts (the real-model test, beyond the paper; see ``solver_checks`` for E0's criteria):
  e0   the path solver against the exact free-end optimum of the model's quadratic model at theta*, for gamma
       from 0.01 to 100 sqrt(eta k lambda_max).
  e5   Figure 1 with a free end: where the optimal path from each start in the local basin of the double well
       ends, over a grid of gamma (``escape``); the published panel pins the end at the global minimum.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import time
from dataclasses import asdict

import numpy as np

from ._checks import check_int, check_positive
from ._io import read_json, write_json
from .escape import escape_map
from .landscapes import DoubleWell
from .real_model import mnist_logistic
from .solver_checks import DECAY, E0_CRITERIA, e0_table

__all__ = ["E5_CONFIG", "OUT_DIR", "PARTS", "e0_record", "e5_record", "load_real_model_record", "main", "record_path"]

OUT_DIR = "results/real_model"
PARTS = ("e0", "e5")

#: E5's grid: starts in the local basin of Figure 1b's double well, gammas, the horizon and its time points.
E5_CONFIG = {
    "theta1": [-1.4, -1.2, -1.0, -0.8, -0.6, -0.4, -0.2],
    "theta2": [-1.0, -0.5, 0.0, 0.55, 1.0],
    "gamma_min": 0.01,
    "gamma_max": 10.0,
    "n_gammas": 13,
    "T": 40.0,
    "n_points": 401,
    "eta": 1.0,
    "k": 1.0,
}

#: gamma from 0.01 to 100 sqrt(eta k lambda_max), log-spaced, this many values.
N_GAMMAS = 7


def record_path(part: str, dim: int | None = None, lam: float | None = None, out_dir=OUT_DIR) -> pathlib.Path:
    """results/real_model/<part>_d<dim>_lam<lam>.json (e5: e5_double_well.json)."""
    if part == "e5":
        return pathlib.Path(out_dir) / "e5_double_well.json"
    return pathlib.Path(out_dir) / f"{part}_d{dim}_lam{lam:g}.json"


def e5_record(config: dict = E5_CONFIG) -> dict:
    """Run E5 (``escape.escape_map``) on Figure 1b's double well over the start grid and gammas of ``config``."""
    start = time.perf_counter()
    starts = np.array([[a, b] for b in config["theta2"] for a in config["theta1"]])
    gammas = np.geomspace(config["gamma_min"], config["gamma_max"], config["n_gammas"])
    loss = DoubleWell()
    if any(loss.basin(s) != "local" for s in starts):
        raise ValueError("Invalid E5 grid: every start must lie in the local basin (theta_1 left of the barrier).")
    m = escape_map(loss, starts, gammas, T=config["T"], n_points=config["n_points"], eta=config["eta"],
                   k=config["k"])  # fmt: skip
    return {
        "part": "e5",
        "description": "Real-model test E5 (beyond the paper): Figure 1b's double well with a free end on a long "
        "horizon; per start in the local basin and gamma, J of the staying and of the crossing stationary path "
        "(null: not found by continuation in gamma), whether the optimum ends in the global basin, and the "
        "gamma from which escape stops (null: never on the grid).",
        "config": dict(config),
        "gammas": m.gammas.tolist(),
        "starts": m.starts.tolist(),
        "J_stay": [[None if np.isnan(v) else float(v) for v in row] for row in m.J_stay],
        "J_cross": [[None if np.isnan(v) else float(v) for v in row] for row in m.J_cross],
        "escapes": m.escapes.tolist(),
        "gamma_stop": [None if np.isinf(v) else float(v) for v in m.gamma_stop],
        "timing_s": {"total": time.perf_counter() - start},
        "machine": _machine(),
    }


def _machine() -> dict:
    return {"numpy_version": np.__version__, "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}  # fmt: skip


def e0_record(n_components: int | None = 50, lam: float = 1e-4, n_points: int = 512, root=None,
              eta: float = 1.0, k: float = 1.0, subset: int | None = None) -> dict:  # fmt: skip
    """Run E0 on logistic regression on MNIST (PCA ``n_components`` or all pixels) and return its record."""
    if n_components is not None:
        n_components = check_int(n_components, "n_components", 1, 784)
    lam, n_points = check_positive(lam, "lam"), check_int(n_points, "n_points", 8)
    start = time.perf_counter()
    model = mnist_logistic(n_components, lam=lam, root=root, subset=subset)
    theta_star, newton = model.minimum()
    t_min = time.perf_counter() - start
    H = model.hessian(theta_star, max_dim=8000)
    eig = np.linalg.eigh(H)
    t_eig = time.perf_counter() - start - t_min
    lam_max = float(eig[0][-1])
    gammas = np.geomspace(0.01, 100 * np.sqrt(eta * k * lam_max), N_GAMMAS)
    cases = e0_table(H, theta_star, np.zeros(model.dim), gammas, eig=eig, n_points=n_points, eta=eta, k=k)
    rows = [{**asdict(c), "holds": c.holds} for c in cases]
    return {
        "part": "e0",
        "description": "Real-model test E0 (beyond the paper): the Newton-Krylov path solver (second-order rule, "
        "free end, geometric grid) against the exact free-end optimum of the quadratic model at theta* of "
        "L2-regularised logistic regression on MNIST, theta0 = 0.",
        "config": {
            "n_components": n_components,
            "dim": model.dim,
            "lam": lam,
            "n_points": n_points,
            "eta": eta,
            "k": k,
            "subset": subset,
            "decay": DECAY,
            "n_gammas": N_GAMMAS,
            "theta0": "zeros",
            "preconditioner": "exact eigenpairs of H",
        },
        "criteria": E0_CRITERIA,
        "model": {
            "newton_steps": newton,
            "grad_max": float(np.max(np.abs(model.grad(theta_star)))),
            "lambda_min": float(eig[0][0]),
            "lambda_max": lam_max,
            "decades": float(np.log10(lam_max / eig[0][0])),
        },
        "cases": rows,
        "all_hold": bool(all(all(r["holds"].values()) for r in rows)),
        "timing_s": {"minimum": t_min, "hessian_and_eigh": t_eig, "solves": float(sum(c.seconds for c in cases))},
        "machine": _machine(),
    }


def load_real_model_record(part: str, dim: int | None = None, lam: float | None = None, out_dir=OUT_DIR) -> dict:
    """The cached record, or a clear error naming the command that makes it."""
    path = record_path(part, dim, lam, out_dir)
    if not path.exists():
        if part == "e5":
            raise FileNotFoundError(f"No record {path}; make it with: python -m functions.experiments real-model e5")
        comp = "none" if dim == 7850 else str(dim // 10 - 1)
        raise FileNotFoundError(f"No record {path}; make it with: python -m functions.experiments real-model "
                                f"{part} --components {comp} --lam {lam:g}")  # fmt: skip
    return read_json(path)


def _components(text: str):
    if text == "none":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer in 1 .. 784, or none (all pixels)") from None
    if not 1 <= value <= 784:
        raise argparse.ArgumentTypeError(f"{value}: expected an integer in 1 .. 784, or none (all pixels)")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"{value} is out of range; it must be a finite number > 0")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m functions.experiments real-model", description=__doc__.splitlines()[0])
    p.add_argument("part", choices=PARTS)
    p.add_argument("--components", type=_components, default=50, help="PCA components (default 50: d = 510); none")
    p.add_argument("--lam", type=_positive, default=1e-4, help="L2 weight lambda (default 1e-4)")
    p.add_argument("--points", type=int, default=512, help="time nodes N (default 512; 2N is solved too)")
    p.add_argument("--subset", type=int, default=None, help="the first N training images (default: all 60,000)")
    p.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    p.add_argument("--out", default=OUT_DIR, help=f"record folder (default {OUT_DIR})")
    return p


def main(argv=None) -> None:
    p = parser()
    args = p.parse_args(argv)
    if args.points < 8:
        p.exit(2, f"{p.prog}: error: --points {args.points} is out of range; it must be an integer >= 8\n")
    if args.part == "e5":
        record = e5_record()
        path = write_json(record_path("e5", out_dir=args.out), record, digits=6, floor=0.0)
        stops = [g for g in record["gamma_stop"] if g is not None]
        print(f"wrote {path}: escape stops at gamma {min(stops):.3g} .. {max(stops):.3g} over the starts")
        return
    start = time.perf_counter()
    record = e0_record(args.components, args.lam, args.points, root=args.root, subset=args.subset)
    record["timing_s"]["total"] = time.perf_counter() - start
    path = write_json(record_path(args.part, record["config"]["dim"], args.lam, args.out), record, digits=4, floor=0.0)
    print(f"wrote {path}: all criteria hold: {record['all_hold']}")
    for row in record["cases"]:
        print(f"  gamma {row['gamma']:.3g}: rel L2 {row['rel_L2']:.2e}, J gap {row['J_gap']:.1e}, "
              f"J refine {row['J_refine']:.1e}, residual {row['residual']:.1e}, {row['seconds']:.1f} s")  # fmt: skip
