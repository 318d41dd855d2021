"""Cached records of the real-model solves: ``python -m functions.experiments real-model e0 --components 50``.

One JSON record per part and model size in results/real_model/, holding its configuration, what was measured,
the criteria and whether each held, the solver's effort, and the machine and wall time. The notebooks read
these records; they never solve at d = 7,850 themselves.

Parts (the real-model test, beyond the paper; see ``solver_checks`` for E0's criteria):
  e0   the path solver against the exact free-end optimum of the model's quadratic model at theta*, for gamma
       from 0.01 to 100 sqrt(eta k lambda_max).
  e1   the curvature law on the real spectrum (Figure 2d): each eigen-mode's late-time rate along the optimal path
       of the real loss, from theta0 = 0 and from theta* + delta, against r(h), and the log-log slope of the
       fitted rates against h, over gamma (``mode_rates``).
  e2   the gradient-descent limit (Section 3): the optimal path of the real loss against gradient flow at rate
       eta k / gamma and against gradient flow on the modified loss L - (eta k / 2 gamma^2)|grad L|^2
       (``gd_limit``), for gamma from 2 to 16 sqrt(eta k Lambda), Lambda the largest curvature along the path.
  e3   regret on one time axis: gradient flow, heavy ball, and the Ballistic and Adam flows (``learner_flows``),
       each family's constants tuned to minimise J, against J* of the optimal path (``regret``), for gamma from
       0.01 to 10 sqrt(eta k Lambda); the loss and the distance to theta* of every learner on one time axis.
  e4   is Ballistic the diagonal gamma -> 0 rule? Along the optimal path at gamma << sqrt(eta k lambda_min) from 5
       starts, the cosine of the optimal velocity with -H^{-1/2} grad L, -diag(H)^{-1/2} grad L, Ballistic's and
       Adam's directions (beliefs from minibatch squared gradients) and -grad L (``directions``).
  e5   Figure 1 with a free end: where the optimal path from each start in the local basin of the double well
       ends, over a grid of gamma (``escape``); the published panel pins the end at the global minimum.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import platform
import time
from dataclasses import asdict

import numpy as np

from ._checks import check_int, check_positive
from ._cli import at_least, int_or_none, positive
from ._io import atomic_path, check_output_folder, read_json, write_json
from .checkpoint import checkpoint_dir
from .data import data_root
from .directions import DIRECTIONS, cosines
from .escape import escape_map
from .gd_limit import gradient_flow, modified_coefficient
from .landscapes import DoubleWell
from .learner_flows import LEARNERS
from .lq import free_end_lq, rates
from .mode_rates import FIT_WINDOW, MAX_MISFIT, PEAK_FLOOR, fit_mode_rates, loglog_slope
from .newton_krylov import discrete_J, solve_path
from .objective import Problem
from .real_model import mnist_logistic
from .regret import learner_J, tune_learner
from .run_records import source_digest
from .solver_checks import DECAY, E0_CRITERIA, e0_case, horizon_grid

__all__ = ["E1_CONFIG", "E1_CRITERIA", "E2_CONFIG", "E2_CRITERIA", "E3_CONFIG", "E3_CRITERIA", "E5_CONFIG",
           "OUT_DIR", "PARTS", "ForeignPartialError", "e0_record", "e1_case", "e1_record", "e2_case",
           "e2_partial_path", "e2_record", "e2_summary", "e3_case", "e3_partial_path", "e3_record", "e3_summary",
           "E4_CONFIG", "E4_CRITERIA", "e4_case", "e4_partial_path", "e4_record", "e4_summary", "e5_record",
           "load_real_model_record", "main", "record_path", "refine_grid"]  # fmt: skip

OUT_DIR = "results/real_model"
PARTS = ("e0", "e1", "e2", "e3", "e4", "e5")

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

#: E1's gammas (log-spaced) and starts: theta0 = 0, and theta* + delta with |delta| = delta_scale |theta*| along a
#: seeded Gaussian direction.
E1_CONFIG = {"gamma_min": 1e-3, "gamma_max": 30.0, "n_gammas": 7, "delta_scale": 0.1, "delta_seed": 0,
             "eta": 1.0, "k": 1.0}  # fmt: skip

#: E1's criteria, per gamma and start, fixed after a pilot on the first 10,000 images and before the recorded run:
#: the median relative error of the fitted rates against r(h) over the fitted modes, the gap between the fitted
#: log-log slope and the slope of r(h) over the same modes, the decades of curvature the fitted modes span, and
#: (over gamma) the slope at the smallest and the largest gamma against the limits 1/2 and 1.
E1_CRITERIA = {"rate_median_rel": 0.02, "slope_gap": 0.02, "min_decades": 2.0, "limit_gap": 0.05}

#: E2's gammas, as multiples m of sqrt(eta k Lambda) with Lambda the largest curvature along the path (the larger of
#: lambda_max(H) at theta0 and at theta*: gamma^2 >> eta k lambda_max is the limit's condition), and its start.
E2_CONFIG = {"multiples": [2.0, 3.0, 4.0, 5.5, 8.0, 11.0, 16.0], "start": "zero", "eta": 1.0, "k": 1.0}

#: E2's criteria, fixed before the recorded run. The gap of a flow is max_t |theta_opt(t) - theta_flow(t)| /
#: |theta0 - theta*| on the fine grid; the solver's floor is the fine path's error estimated from the coarse one
#: (the rule is second order: max_t |theta_N - theta_2N| / 3 on the coarse nodes, relative to |theta0 - theta*|).
#: Over the gammas with m >= fit_from: the log-log slope of gradient flow's gap within slope_tol of -2; the
#: modified flow's gap below gradient flow's at every gamma, and its slope <= mod_slope_max over the gammas where
#: its gap is at least floor_factor times the floor (at least min_points of them: else it is not measured, which
#: counts as not holding); every costate residual <= residual.
E2_CRITERIA = {"fit_from": 3.0, "gf_slope": -2.0, "slope_tol": 0.2, "mod_slope_max": -3.5, "floor_factor": 10.0,
               "min_points": 3, "residual": 1e-6}  # fmt: skip

#: E2's flows are integrated to this relative tolerance (BDF; ``gd_limit.gradient_flow``).
E2_FLOW_RTOL = 1e-8

#: E3's gammas, as multiples of sqrt(eta k Lambda) (Lambda as in E2), its start and data, and the learners' setting:
#: the beliefs' minibatch size B and epsilon (Figure 2e's), BDF's tolerance (J to ~1e-5 relative; J >= J* holds
#: whatever it is, since a flow sampled at the nodes is a grid path) and the right-hand sides one flow may take
#: (a few hundred is typical; a flow that needs more is counted as failing), and each family's budget of J
#: evaluations for its tuning (``regret.tune_learner``). E3 runs on the first 10,000 training images: one J of the
#: Adam flow takes several seconds there (BDF steps on a state of 3d; each right-hand side reads every image), and
#: tuning takes hundreds of them per gamma.
E3_CONFIG = {"multiples": [0.01, 0.1, 1.0, 10.0], "start": "zero", "eta": 1.0, "k": 1.0, "subset": 10000,
             "batch": 128, "eps": 1e-8, "flow_rtol": 1e-5, "flow_max_evals": 5000,
             "budget": {"gf": 25, "heavy_ball": 50, "ballistic": 50, "adam": 70}}  # fmt: skip

#: E3's criteria, fixed before the recorded run. Every regret >= -regret_floor (J* is the minimum over grid paths;
#: below it is a solver bug). Section 3's limit: at the largest gamma gradient flow's regret <= gf_regret_max and its
#: tuned rate within gf_rate_tol of eta k / gamma; gradient flow's regret falls as gamma grows (every step). Heavy
#: ball contains gradient flow as its overdamped limit: its regret <= gradient flow's + regret_floor at every gamma
#: (else its tuning failed). The far-sighted claim (Sections 4-5, Figure 2e): at the smallest gamma the Ballistic
#: flow's regret and the Adam flow's are each below gradient flow's.
E3_CRITERIA = {"regret_floor": 1e-6, "gf_regret_max": 0.01, "gf_rate_tol": 0.05}

#: E4's gamma, as a multiple of sqrt(eta k lambda_min) (gamma^2 << eta k h for every mode: the gamma -> 0 regime),
#: its starts (theta0 = 0, and theta* + delta_scale |theta*| u_j along seeded Gaussian directions u_j), the beliefs'
#: batch B and epsilon (Figure 2e's), Adam's gradient memory tau1 in units of 1 / sqrt(eta k Lambda) (the fastest
#: mode's time constant at gamma -> 0: beta1 = 0.9 is a memory of 10 steps, and a stable step is ~0.1 of it), the
#: part of the path read (t <= window T: the free end's natural condition bends the last stretch), and every how
#: many steps the directions are computed (each needs H and its eigenpairs at the step's midpoint).
E4_CONFIG = {"gamma_over_slowest": 0.1, "delta_scale": 0.5, "delta_seeds": [1, 2, 3, 4], "batch": 128, "eps": 1e-8,
             "adam_tau1": 1.0, "window": 0.5, "every": 2, "eta": 1.0, "k": 1.0}  # fmt: skip

#: E4's criteria, fixed before the recorded run, on the cosines pooled over the 5 starts and the steps read: the
#: exact gamma -> 0 rule -H^{-1/2} grad L has the highest median of the five directions and a median >= exact_min;
#: Ballistic's median within ballistic_vs_diagonal of the diagonal rule's (Ballistic is the diagonal rule); and
#: Ballistic's median above gradient descent's.
E4_CRITERIA = {"exact_min": 0.9, "ballistic_vs_diagonal": 0.05}

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


def _checked(n_components, lam, n_points):
    """The size arguments of every part, checked before any data is read."""
    if n_components is not None:
        n_components = check_int(n_components, "n_components", 1, 784)
    return n_components, check_positive(lam, "lam"), check_int(n_points, "n_points", 8)


def _model_at_minimum(n_components, lam, root, subset):
    """(model, theta*, Newton steps, H(theta*), its eigenpairs, seconds for theta*, seconds for H and eigh)."""
    start = time.perf_counter()
    model = mnist_logistic(n_components, lam=lam, root=root, subset=subset)
    theta_star, newton = model.minimum()
    t_min = time.perf_counter() - start
    H = model.hessian(theta_star, max_dim=8000)
    eig = np.linalg.eigh(H)
    return model, theta_star, newton, H, eig, t_min, time.perf_counter() - start - t_min


def e0_record(n_components: int | None = 50, lam: float = 1e-4, n_points: int = 512, root=None,
              eta: float = 1.0, k: float = 1.0, subset: int | None = None) -> dict:  # fmt: skip
    """Run E0 on logistic regression on MNIST (PCA ``n_components`` or all pixels) and return its record."""
    n_components, lam, n_points = _checked(n_components, lam, n_points)
    model, theta_star, newton, H, eig, t_min, t_eig = _model_at_minimum(n_components, lam, root, subset)
    lam_max = float(eig[0][-1])
    gammas = np.geomspace(0.01, 100 * np.sqrt(eta * k * lam_max), N_GAMMAS)
    cases = []
    for gamma in gammas:  # one line per gamma as it is solved (d = 7,850 takes minutes per gamma)
        cases.append(e0_case(H, theta_star, np.zeros(model.dim), gamma, eig=eig, n_points=n_points, eta=eta, k=k))
        print(f"  e0 gamma {gamma:.3g}: rel L2 {cases[-1].rel_L2:.2e}, {cases[-1].seconds:.0f} s", flush=True)
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


def _config(config: dict, model, *, n_components, lam, n_points, subset, **extra) -> dict:
    """A record's configuration: the part's own settings, the model's size, and the solver's grid."""
    return {**dict(config), "n_components": n_components, "dim": model.dim, "lam": lam, "n_points": n_points,
            "subset": subset, "decay": DECAY, **extra}  # fmt: skip


def _start(name: str, theta_star: np.ndarray, config: dict) -> np.ndarray:
    if name == "zero":
        return np.zeros_like(theta_star)
    u = np.random.default_rng(config["delta_seed"]).standard_normal(theta_star.shape)
    return theta_star + config["delta_scale"] * np.linalg.norm(theta_star) * u / np.linalg.norm(u)


def e1_case(model, theta_star, eig, gamma: float, *, start: str, n_points: int, config: dict = E1_CONFIG) -> dict:
    """Solve the real loss's free-end optimal path at one gamma from one start and measure E1 (``mode_rates``).

    The grid and horizon are E0's (``solver_checks.horizon_grid``); the first guess is the exact free-end path of
    the quadratic model at theta* (``lq.free_end_lq``), which Newton-Krylov corrects to the real loss.
    """
    h, V = eig
    eta, k = config["eta"], config["k"]
    r = rates(h, gamma, eta, k)
    T, t = horizon_grid(r, n_points)
    theta0 = _start(start, theta_star, config)
    guess = free_end_lq(None, theta_star, theta0, T, gamma, eta, k, eig=eig)(t)
    clock = time.perf_counter()
    path = solve_path(Problem(model, gamma=gamma, eta=eta, k=k), theta0, T, t=t, curvature=eig, guess=guess)
    seconds = time.perf_counter() - clock
    fit = fit_mode_rates(t, path.theta, theta_star, h, V)
    ok = fit.fitted
    rel = np.abs(fit.rate[ok] / r[ok] - 1)
    slope = loglog_slope(h[ok], fit.rate[ok])
    predicted = loglog_slope(h[ok], r[ok], n_boot=1).value
    decades = float(np.log10(h[ok].max() / h[ok].min()))
    row = {
        "gamma": float(gamma),
        "start": start,
        "T": float(T),
        "n_points": n_points,
        "n_fitted": fit.n_fitted,
        "h_fitted": [float(h[ok].min()), float(h[ok].max())],
        "decades": decades,
        "rate_median_rel": float(np.median(rel)),
        "rate_max_rel": float(rel.max()),
        "slope": slope.value,
        "slope_interval": [slope.low, slope.high],
        "slope_predicted": predicted,
        "rate": [float(v) if f else None for v, f in zip(fit.rate, ok, strict=True)],
        "newton": path.info.n_iter,
        "krylov": path.info.n_inner,
        "residual": path.info.residual,
        "seconds": seconds,
    }
    row["holds"] = {
        "rate": row["rate_median_rel"] <= E1_CRITERIA["rate_median_rel"],
        "slope": abs(slope.value - predicted) <= E1_CRITERIA["slope_gap"],
        "decades": decades >= E1_CRITERIA["min_decades"],
    }
    return row


def e1_record(n_components: int | None = 50, lam: float = 1e-4, n_points: int = 256, root=None,
              subset: int | None = None, config: dict = E1_CONFIG) -> dict:  # fmt: skip
    """Run E1 over ``config``'s gammas from both starts (N points, and 2N at the smallest and largest gamma)."""
    start = time.perf_counter()
    n_components, lam, n_points = _checked(n_components, lam, n_points)
    model, theta_star, newton, _, eig, _, _ = _model_at_minimum(n_components, lam, root, subset)
    gammas = np.geomspace(config["gamma_min"], config["gamma_max"], config["n_gammas"])
    cases, refined = [], []
    for i, gamma in enumerate(gammas):
        for name in ("zero", "near"):
            cases.append(e1_case(model, theta_star, eig, gamma, start=name, n_points=n_points, config=config))
            print(f"  e1 gamma {gamma:.3g} from {name}: {cases[-1]['n_fitted']} modes fitted, slope "
                  f"{cases[-1]['slope']:.3f} (r(h): {cases[-1]['slope_predicted']:.3f}), "
                  f"{cases[-1]['seconds']:.0f} s", flush=True)  # fmt: skip
            if i in (0, len(gammas) - 1):
                fine = e1_case(model, theta_star, eig, gamma, start=name, n_points=2 * n_points, config=config)
                refined.append({"gamma": float(gamma), "start": name, "n_points": 2 * n_points,
                                "slope": fine["slope"], "slope_change": abs(fine["slope"] - cases[-1]["slope"]),
                                "rate_median_rel": fine["rate_median_rel"]})  # fmt: skip
    near = [c for c in cases if c["start"] == "near"]
    return {
        "part": "e1",
        "description": "Real-model test E1 (beyond the paper; Figure 2d on a real model): the free-end optimal "
        "path of L2-regularised logistic regression on MNIST (the real loss, Newton-Krylov, second-order rule) "
        "from theta0 = 0 and from theta* + delta; each eigen-mode of the Hessian at theta* fitted for its decay "
        "rate and compared with r(h) = sqrt(gamma^2/4 + eta k h) - gamma/2; the log-log slope of the fitted rates "
        "against h (bootstrap over modes) against the slope of r(h) over the same modes.",
        "config": _config(
            config,
            model,
            n_components=n_components,
            lam=lam,
            n_points=n_points,
            subset=subset,
            fit_window=list(FIT_WINDOW),
            max_misfit=MAX_MISFIT,
            peak_floor=PEAK_FLOOR,
        ),
        "criteria": E1_CRITERIA,
        "model": {
            "newton_steps": newton,
            "grad_max": float(np.max(np.abs(model.grad(theta_star)))),
            "lambda_min": float(eig[0][0]),
            "lambda_max": float(eig[0][-1]),
        },
        "h": eig[0].tolist(),
        "cases": cases,
        "refined": refined,
        "limits": {
            "slope_at_smallest_gamma": near[0]["slope"],
            "slope_at_largest_gamma": near[-1]["slope"],
            "holds": bool(
                abs(near[0]["slope"] - 0.5) <= E1_CRITERIA["limit_gap"]
                and abs(near[-1]["slope"] - 1.0) <= E1_CRITERIA["limit_gap"]
            ),
        },
        "timing_s": {"total": time.perf_counter() - start},
        "machine": _machine(),
    }


def refine_grid(t) -> np.ndarray:
    """The grid ``t`` with every step halved (2N - 1 nodes; the old nodes are the even ones)."""
    t = np.asarray(t, dtype=np.float64)
    out = np.empty(2 * t.size - 1)
    out[0::2], out[1::2] = t, (t[:-1] + t[1:]) / 2
    return out


def _largest_curvature(model, theta) -> float:
    return float(np.linalg.eigvalsh(model.hessian(theta, max_dim=8000))[-1])


def _model_and_Lambda(n_components, lam, root, subset, config: dict):
    """(model, theta*, Newton steps, H's eigenpairs, lambda_max at the start, at theta*, Lambda = their larger):
    Lambda is the largest curvature along a path from the start to theta* (E2's and E3's unit of gamma)."""
    model, theta_star, newton, _, eig, _, _ = _model_at_minimum(n_components, lam, root, subset)
    lam_start = _largest_curvature(model, _start(config["start"], theta_star, config))
    lam_star = float(eig[0][-1])
    return model, theta_star, newton, eig, lam_start, lam_star, max(lam_start, lam_star)


class ForeignPartialError(RuntimeError):
    """Kept partial results (checkpoints/real_model/) made by other code than the package now imported."""


def _read_partial(partial: pathlib.Path, empty):
    """The cases kept in a part's checkpoint (``empty`` when there is none yet).

    The file names the package source that made it (``run_records.source_digest``); one from other code (or from
    before partials carried it) is refused, since its cases need not be what this code computes.
    """
    if not partial.exists():
        return empty
    kept = json.loads(partial.read_text())
    made_by, now = kept.get("source_digest"), source_digest()
    if made_by != now:
        raise ForeignPartialError(
            f"{partial} holds cases made by other code (package source {made_by or 'unrecorded'}, this one is {now}), "
            "so they are not reused. Delete that file to recompute them with this code, or resume with the code "
            "that made it."
        )
    return kept["cases"]


def _keep_partial(partial: pathlib.Path, cases) -> None:
    """Keep a part's finished cases, atomically, at full precision, with the package source that made them."""
    with atomic_path(partial) as tmp:
        tmp.write_text(json.dumps({"source_digest": source_digest(), "cases": cases}))


def e2_case(model, theta_star, eig, gamma: float, *, n_points: int, config: dict = E2_CONFIG) -> dict:
    """The optimal path of the real loss at one gamma against its gradient-descent limit and its correction.

    Solved on E0's grid of ``n_points`` nodes (``solver_checks.horizon_grid``) and on that grid with every step
    halved; the fine path is the reference, and its error is estimated from the coarse one (the solver's floor).
    Gradient flow (lr = eta k / gamma) and the modified flow (correction eta k / gamma^2) are integrated on the
    fine grid (``gd_limit.gradient_flow``, BDF, rtol ``E2_FLOW_RTOL``), and gradient flow is the solver's first
    guess.
    """
    h, _ = eig
    eta, k = config["eta"], config["k"]
    T, t = horizon_grid(rates(h, gamma, eta, k), n_points)
    fine = refine_grid(t)
    theta0 = _start(config["start"], theta_star, config)
    clock = time.perf_counter()
    flows = {
        "gf": gradient_flow(model, theta0, fine, eta * k / gamma, rtol=E2_FLOW_RTOL),
        "modified": gradient_flow(
            model, theta0, fine, eta * k / gamma, rtol=E2_FLOW_RTOL, correction=modified_coefficient(gamma, eta, k)
        ),
    }
    t_flows = time.perf_counter() - clock
    problem = Problem(model, gamma=gamma, eta=eta, k=k)
    coarse = solve_path(problem, theta0, T, t=t, curvature=eig, guess=flows["gf"][0::2])
    guess = np.empty_like(flows["gf"])
    guess[0::2], guess[1::2] = coarse.theta, (coarse.theta[:-1] + coarse.theta[1:]) / 2
    path = solve_path(problem, theta0, T, t=fine, curvature=eig, guess=guess)
    scale = float(np.linalg.norm(theta0 - theta_star))
    row = {"gamma": float(gamma), "T": float(T), "n_points": n_points, "n_fine": int(fine.size)}
    for name, flow in flows.items():
        dist = np.linalg.norm(path.theta - flow, axis=1) / scale
        row[f"gap_{name}"] = float(dist.max())
        row[f"t_gap_{name}"] = float(fine[np.argmax(dist)])
    # The rule is second order: theta_2N - theta_exact ~ (theta_N - theta_2N) / 3 (Richardson).
    row["floor"] = float(np.max(np.linalg.norm(coarse.theta - path.theta[0::2], axis=1)) / (3 * scale))
    row["newton"] = coarse.info.n_iter + path.info.n_iter
    row["krylov"] = coarse.info.n_inner + path.info.n_inner
    row["residual"] = max(coarse.info.residual, path.info.residual)
    row["seconds"] = {"flows": t_flows, "solves": time.perf_counter() - clock - t_flows}
    return row


def _slope(gammas, gaps) -> float | None:
    return float(np.polyfit(np.log(gammas), np.log(gaps), 1)[0]) if len(gammas) >= 2 else None


def e2_summary(cases: list[dict], multiples, criteria: dict = E2_CRITERIA) -> dict:
    """E2's slopes and criteria from its cases (one per multiple m of sqrt(eta k Lambda)); see ``E2_CRITERIA``."""
    m = np.asarray(multiples, dtype=np.float64)
    g = np.array([c["gamma"] for c in cases])
    gf, mod, floor = (np.array([c[key] for c in cases]) for key in ("gap_gf", "gap_modified", "floor"))
    fit = m >= criteria["fit_from"]
    measurable = fit & (mod >= criteria["floor_factor"] * floor)
    gf_slope = _slope(g[fit], gf[fit])
    mod_slope = _slope(g[measurable], mod[measurable]) if measurable.sum() >= criteria["min_points"] else None
    holds = {
        "gf_slope": gf_slope is not None and abs(gf_slope - criteria["gf_slope"]) <= criteria["slope_tol"],
        "modified_below": bool(np.all(mod < gf)),
        "modified_slope": mod_slope is not None and mod_slope <= criteria["mod_slope_max"],
        "residual": bool(max(c["residual"] for c in cases) <= criteria["residual"]),
    }
    return {"gf_slope": gf_slope, "modified_slope": mod_slope, "n_fit": int(fit.sum()),
            "n_measurable": int(measurable.sum()), "ratio": (gf / mod).tolist(), "holds": holds}  # fmt: skip


def e2_partial_path(n_components, lam, n_points, subset, config: dict = E2_CONFIG, checkpoints=None) -> pathlib.Path:
    """Where e2_record keeps its finished cases (one ~8-minute solve each at d = 510): checkpoints/real_model/,
    keyed by a hash of everything that decides them, so a rerun with the same arguments resumes."""
    return _partial_path("e2", checkpoints, config=config, n_components=n_components, lam=lam, n_points=n_points,
                         subset=subset, criteria=E2_CRITERIA, flow_rtol=E2_FLOW_RTOL, decay=DECAY)  # fmt: skip


def _partial_path(part: str, checkpoints, **key) -> pathlib.Path:
    """checkpoints/real_model/<part>_<hash of everything that decides the part's cases>.json."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return checkpoint_dir(checkpoints) / "real_model" / f"{part}_{digest}.json"


def e2_record(n_components: int | None = 50, lam: float = 1e-4, n_points: int = 512, root=None,
              subset: int | None = None, config: dict = E2_CONFIG, checkpoints=None) -> dict:  # fmt: skip
    """Run E2 over ``config``'s multiples of sqrt(eta k Lambda) and return its record.

    Each finished case is kept at once (atomically, full precision) in ``e2_partial_path``; a rerun with the same
    arguments solves only the cases still missing, and the record is the same as that of one uninterrupted run.
    """
    start = time.perf_counter()
    n_components, lam, n_points = _checked(n_components, lam, n_points)
    partial = e2_partial_path(n_components, lam, n_points, subset, config, checkpoints)
    done = _read_partial(partial, [])
    if done:
        print(f"  e2: resuming from {partial} ({len(done)} of {len(config['multiples'])} gammas done)", flush=True)
    model, theta_star, newton, eig, lam_start, lam_star, Lam = _model_and_Lambda(
        n_components, lam, root, subset, config
    )
    theta0 = _start(config["start"], theta_star, config)
    unit = np.sqrt(config["eta"] * config["k"] * Lam)
    cases = []
    for i, m in enumerate(config["multiples"]):
        if i < len(done):
            cases.append(done[i])
            continue
        cases.append(e2_case(model, theta_star, eig, m * unit, n_points=n_points, config=config))
        _keep_partial(partial, cases)
        c = cases[-1]
        seconds = sum(c["seconds"].values())
        print(f"  e2 gamma {c['gamma']:.3g} ({m:g} sqrt(eta k Lambda)): gap gf {c['gap_gf']:.2e}, modified "
              f"{c['gap_modified']:.2e}, floor {c['floor']:.1e}, {seconds:.0f} s", flush=True)  # fmt: skip
    return {
        "part": "e2",
        "description": "Real-model test E2 (beyond the paper; Section 3's gradient-descent limit): the free-end "
        "optimal path of L2-regularised logistic regression on MNIST (the real loss, Newton-Krylov, second-order "
        "rule, the grid with every step halved) against gradient flow at rate eta k / gamma and against gradient "
        "flow on the modified loss L - (eta k / 2 gamma^2)|grad L|^2, from theta0; the gaps max_t |theta_opt - "
        "theta_flow| / |theta0 - theta*| against gamma, and the solver's floor (coarse vs fine grid).",
        "config": _config(
            config, model, n_components=n_components, lam=lam, n_points=n_points, subset=subset, flow_rtol=E2_FLOW_RTOL
        ),
        "criteria": E2_CRITERIA,
        "model": {
            "newton_steps": newton,
            "grad_max": float(np.max(np.abs(model.grad(theta_star)))),
            "lambda_max_start": lam_start,
            "lambda_max_star": lam_star,
            "Lambda": Lam,
            "distance": float(np.linalg.norm(theta0 - theta_star)),
        },
        "cases": cases,
        "summary": e2_summary(cases, config["multiples"]),
        "timing_s": {"total": time.perf_counter() - start},
        "machine": _machine(),
    }


def _e3_start(key: str, tuned: dict, *, gamma: float, Lam: float, g0, s0, config: dict) -> list[dict]:
    """Where each family's search starts (a list: the first that integrates is used): gradient flow at Section 3's
    eta k / gamma; heavy ball overdamped (the stiffest mode critically damped) at the tuned gradient flow's rate
    b / a; Ballistic at the tuned gradient flow's initial speed, its memory 10 of that flow's fastest time
    constants; Adam from the tuned Ballistic with a gradient memory a tenth of the tuned gradient flow's fastest
    time constant (Adam then moves like Ballistic), else 10 and 100 times shorter."""
    eta, k = config["eta"], config["k"]
    if key == "gf":
        return [{"alpha": eta * k / gamma}]
    alpha = tuned["gf"]["constants"]["alpha"]
    if key == "heavy_ball":
        a = 4 * alpha * Lam
        return [{"a": a, "b": alpha * a}]
    if key == "ballistic":
        speed = np.linalg.norm(g0) / np.linalg.norm(g0 / np.sqrt(s0 + config["eps"]))
        return [{"alpha": alpha * speed, "tau": 10 / (alpha * Lam)}]
    ball = tuned["ballistic"]["constants"]
    return [{"alpha": ball["alpha"], "tau1": f / (alpha * Lam), "tau2": ball["tau"]} for f in (0.1, 0.01, 0.001)]


def _curve(values, every: int) -> list[float]:
    """Every ``every``-th node's value, the last node always included."""
    values = np.asarray(values, dtype=np.float64)
    picked = values[::every] if (values.size - 1) % every == 0 else np.append(values[::every], values[-1])
    return [float(v) for v in picked]


def e3_case(model, theta_star, eig, gamma: float, *, Lam: float, n_points: int, config: dict = E3_CONFIG,
            done: dict | None = None, keep=None) -> dict:  # fmt: skip
    """E3 at one gamma: the optimal path of the real loss (free end, E0's grid) and J*, then each learner family
    tuned to minimise J on the same grid (``regret.tune_learner``), its regret, and every learner's loss and
    distance to theta* along the grid (every 4th node).

    ``done``: families already tuned at this gamma (key -> the ``Tuned`` fields), reused as they are; ``keep``
    (key, tuned dict) is called after each new one (the caller's checkpoint).
    """
    h = eig[0]
    eta, k = config["eta"], config["k"]
    T, t = horizon_grid(rates(h, gamma, eta, k), n_points)
    theta0 = _start(config["start"], theta_star, config)
    problem = Problem(model, gamma=gamma, eta=eta, k=k)
    L_star = float(model(theta_star))
    clock = time.perf_counter()
    guess = free_end_lq(None, theta_star, theta0, T, gamma, eta, k, eig=eig)(t)
    path = solve_path(problem, theta0, T, t=t, curvature=eig, guess=guess)
    excess = model.linearise_path(path.theta)[0] - L_star
    J_star = discrete_J(problem, t, path.theta, values=excess)
    t_solve = time.perf_counter() - clock
    flow = {"batch": config["batch"], "eps": config["eps"], "rtol": config["flow_rtol"],
            "max_evals": config["flow_max_evals"]}  # fmt: skip
    g0, s0 = model.gradient_and_second_moment(theta0, config["batch"])
    every = 4
    curves = {"t": _curve(t, every), "optimal": {"loss": _curve(excess, every),
              "distance": _curve(np.linalg.norm(path.theta - theta_star, axis=1), every)}}  # fmt: skip
    tuned = dict(done or {})
    learners = {}
    for key in LEARNERS:
        if key not in tuned:
            clock = time.perf_counter()
            starts = _e3_start(key, tuned, gamma=gamma, Lam=Lam, g0=g0, s0=s0, config=config)
            result = tune_learner(problem, key, theta0, t, starts, loss_floor=L_star, max_evals=config["budget"][key],
                                  flow_options=flow)  # fmt: skip
            tuned[key] = {**asdict(result), "seconds": time.perf_counter() - clock}
            if keep is not None:
                keep(key, tuned[key])
        J, theta, loss = learner_J(problem, key, theta0, t, loss_floor=L_star, flow_options=flow,
                                   **tuned[key]["constants"])  # fmt: skip
        learners[key] = {**{f: tuned[key][f] for f in ("constants", "start", "n_evals", "converged", "seconds")},
                         "J": J, "regret": (J - J_star) / J_star}  # fmt: skip
        distance = np.linalg.norm(theta - theta_star, axis=1)
        curves[key] = {"loss": _curve(loss, every), "distance": _curve(distance, every)}
    return {"gamma": float(gamma), "T": float(T), "n_points": n_points, "J_star": J_star, "L_star": L_star,
            "residual": path.info.residual, "newton": path.info.n_iter, "krylov": path.info.n_inner,
            "solve_seconds": t_solve, "learners": learners, "curves": curves}  # fmt: skip


def e3_summary(cases: list[dict], config: dict = E3_CONFIG, criteria: dict = E3_CRITERIA) -> dict:
    """E3's regrets per family over gamma and its criteria (``E3_CRITERIA``), from its cases (ordered by gamma)."""
    regret = {key: [c["learners"][key]["regret"] for c in cases] for key in LEARNERS}
    floor = criteria["regret_floor"]
    last = cases[-1]
    rate = last["learners"]["gf"]["constants"]["alpha"] * last["gamma"] / (config["eta"] * config["k"])
    gf = np.asarray(regret["gf"])
    holds = {
        "regret_nonnegative": bool(min(min(r) for r in regret.values()) >= -floor),
        "gf_limit": bool(gf[-1] <= criteria["gf_regret_max"] and abs(rate - 1) <= criteria["gf_rate_tol"]),
        "gf_falls": bool(np.all(np.diff(gf) < 0)),
        "heavy_ball_at_most_gf": bool(np.all(np.asarray(regret["heavy_ball"]) <= gf + floor)),
        "ballistic_beats_gf_far_sighted": bool(regret["ballistic"][0] < gf[0]),
        "adam_beats_gf_far_sighted": bool(regret["adam"][0] < gf[0]),
    }
    best = [min(LEARNERS, key=lambda key, c=c: c["learners"][key]["regret"]) for c in cases]
    return {"regret": regret, "gf_rate_over_eta_k_by_gamma": rate, "best": best, "holds": holds}


def e3_partial_path(n_components, lam, n_points, subset, config: dict = E3_CONFIG, checkpoints=None) -> pathlib.Path:
    """Where e3_record keeps each tuned family (minutes each): checkpoints/real_model/e3_<hash of its inputs>.json."""
    return _partial_path("e3", checkpoints, config=config, n_components=n_components, lam=lam, n_points=n_points,
                         subset=subset, criteria=E3_CRITERIA, decay=DECAY)  # fmt: skip


def e3_record(n_components: int | None = 50, lam: float = 1e-4, n_points: int = 256, root=None,
              subset: int | None = None, config: dict = E3_CONFIG, checkpoints=None) -> dict:  # fmt: skip
    """Run E3 over ``config``'s multiples of sqrt(eta k Lambda) and return its record (``subset`` None: the
    config's). Each tuned family is kept at once in ``e3_partial_path``; a rerun with the same arguments resumes
    and gives the same record (the curves are always recomputed from the kept constants)."""
    start = time.perf_counter()
    subset = config["subset"] if subset is None else subset
    n_components, lam, n_points = _checked(n_components, lam, n_points)
    partial = e3_partial_path(n_components, lam, n_points, subset, config, checkpoints)
    done = _read_partial(partial, {})
    if done:
        print(f"  e3: resuming from {partial} ({sum(map(len, done.values()))} tuned families kept)", flush=True)
    model, theta_star, newton, eig, lam_start, lam_star, Lam = _model_and_Lambda(
        n_components, lam, root, subset, config
    )
    unit = np.sqrt(config["eta"] * config["k"] * Lam)
    cases = []
    for i, m in enumerate(config["multiples"]):

        def keep(key, tuned, i=i):
            done.setdefault(str(i), {})[key] = tuned
            _keep_partial(partial, done)

        cases.append(e3_case(model, theta_star, eig, m * unit, Lam=Lam, n_points=n_points, config=config,
                             done=done.get(str(i)), keep=keep))  # fmt: skip
        row = cases[-1]["learners"]
        print(f"  e3 gamma {cases[-1]['gamma']:.3g} ({m:g} sqrt(eta k Lambda)): regret "
              + ", ".join(f"{key} {row[key]['regret']:.3g}" for key in LEARNERS), flush=True)  # fmt: skip
    return {
        "part": "e3",
        "description": "Real-model test E3 (beyond the paper): J of gradient flow, heavy ball, and the Ballistic "
        "and Adam flows (beliefs from minibatch squared gradients), each family's constants tuned by Nelder-Mead "
        "to minimise J, against J* of the free-end optimal path (Newton-Krylov, second-order rule) of "
        "L2-regularised logistic regression on MNIST, on the same grid; the loss relative to L(theta*); "
        "regret = (J - J*) / J*.",
        "config": _config(config, model, n_components=n_components, lam=lam, n_points=n_points, subset=subset),
        "criteria": E3_CRITERIA,
        "model": {
            "newton_steps": newton,
            "grad_max": float(np.max(np.abs(model.grad(theta_star)))),
            "lambda_max_start": lam_start,
            "lambda_max_star": lam_star,
            "Lambda": Lam,
        },
        "cases": cases,
        "summary": e3_summary(cases, config),
        "timing_s": {"total": time.perf_counter() - start},
        "machine": _machine(),
    }


def _e4_starts(theta_star: np.ndarray, config: dict) -> dict[str, np.ndarray]:
    starts = {"zero": np.zeros_like(theta_star)}
    for seed in config["delta_seeds"]:
        u = np.random.default_rng(seed).standard_normal(theta_star.shape)
        starts[f"near{seed}"] = theta_star + config["delta_scale"] * np.linalg.norm(theta_star) * u / np.linalg.norm(u)
    return starts


def e4_case(model, theta_star, eig, theta0, *, gamma: float, Lam: float, n_points: int,
            config: dict = E4_CONFIG) -> dict:  # fmt: skip
    """E4 from one start: the free-end optimal path of the real loss at ``gamma`` (E0's grid, Newton-Krylov from the
    quadratic model's exact path) and the cosines of its velocity with each candidate direction
    (``directions.cosines``) on the steps with t <= window T."""
    h = eig[0]
    eta, k = config["eta"], config["k"]
    T, t = horizon_grid(rates(h, gamma, eta, k), n_points)
    clock = time.perf_counter()
    guess = free_end_lq(None, theta_star, theta0, T, gamma, eta, k, eig=eig)(t)
    path = solve_path(Problem(model, gamma=gamma, eta=eta, k=k), theta0, T, t=t, curvature=eig, guess=guess)
    t_solve = time.perf_counter() - clock
    last = int(np.searchsorted(t, config["window"] * T, side="right"))
    cos = cosines(model, t[:last], path.theta[:last], batch=config["batch"], eps=config["eps"],
                  tau1=config["adam_tau1"] / np.sqrt(eta * k * Lam), every=config["every"])  # fmt: skip
    return {"T": float(T), "n_points": n_points, "residual": path.info.residual, "newton": path.info.n_iter,
            "krylov": path.info.n_inner, "distance": float(np.linalg.norm(theta0 - theta_star)), "cosines": cos,
            "seconds": {"solve": t_solve, "cosines": time.perf_counter() - clock - t_solve}}  # fmt: skip


def _quartiles(values) -> dict:
    q = np.percentile(np.asarray(values, dtype=np.float64), [25, 50, 75])
    return {"q25": float(q[0]), "median": float(q[1]), "q75": float(q[2])}


def e4_summary(cases: list[dict], criteria: dict = E4_CRITERIA) -> dict:
    """E4's medians and interquartile ranges per direction, pooled over the starts and per start, and its
    criteria (``E4_CRITERIA``)."""
    pooled = {name: _quartiles([v for c in cases for v in c["cosines"][name]]) for name in DIRECTIONS}
    per_start = {name: [float(np.median(c["cosines"][name])) for c in cases] for name in DIRECTIONS}
    med = {name: pooled[name]["median"] for name in DIRECTIONS}
    holds = {
        "exact_best": max(med, key=med.get) == "exact",
        "exact_close": med["exact"] >= criteria["exact_min"],
        "ballistic_is_diagonal": abs(med["ballistic"] - med["diagonal"]) <= criteria["ballistic_vs_diagonal"],
        "ballistic_beats_gradient": med["ballistic"] > med["gradient"],
    }
    return {"pooled": pooled, "per_start_median": per_start, "n_steps": sum(len(c["cosines"]["t"]) for c in cases),
            "holds": holds}  # fmt: skip


def e4_partial_path(n_components, lam, n_points, subset, config: dict = E4_CONFIG, checkpoints=None) -> pathlib.Path:
    """Where e4_record keeps each finished start (minutes each): checkpoints/real_model/e4_<hash>.json."""
    return _partial_path("e4", checkpoints, config=config, n_components=n_components, lam=lam, n_points=n_points,
                         subset=subset, criteria=E4_CRITERIA, decay=DECAY)  # fmt: skip


def e4_record(n_components: int | None = 50, lam: float = 1e-4, n_points: int = 256, root=None,
              subset: int | None = None, config: dict = E4_CONFIG, checkpoints=None) -> dict:  # fmt: skip
    """Run E4 from every start of ``config`` and return its record; each finished start is kept in
    ``e4_partial_path`` and a rerun with the same arguments resumes."""
    start = time.perf_counter()
    n_components, lam, n_points = _checked(n_components, lam, n_points)
    partial = e4_partial_path(n_components, lam, n_points, subset, config, checkpoints)
    done = _read_partial(partial, {})
    if done:
        print(f"  e4: resuming from {partial} ({len(done)} starts done)", flush=True)
    model, theta_star, newton, eig, _, _, Lam = _model_and_Lambda(n_components, lam, root, subset, {"start": "zero"})
    lam_min = float(eig[0][0])
    gamma = config["gamma_over_slowest"] * np.sqrt(config["eta"] * config["k"] * lam_min)
    cases = {}
    for name, theta0 in _e4_starts(theta_star, config).items():
        if name not in done:
            done[name] = e4_case(model, theta_star, eig, theta0, gamma=gamma, Lam=Lam, n_points=n_points,
                                 config=config)  # fmt: skip
            _keep_partial(partial, done)
        cases[name] = {"start": name, **done[name]}
        med = {d: float(np.median(cases[name]["cosines"][d])) for d in DIRECTIONS}
        print(f"  e4 from {name}: median cosines " + ", ".join(f"{d} {v:.3f}" for d, v in med.items()), flush=True)
    rows = list(cases.values())
    return {
        "part": "e4",
        "description": "Real-model test E4 (beyond the paper): along the free-end optimal path at gamma = "
        "gamma_over_slowest sqrt(eta k lambda_min) of L2-regularised logistic regression on MNIST (Newton-Krylov, "
        "second-order rule), from theta0 = 0 and from 4 starts theta* + delta, the cosine of the optimal velocity on "
        "each step with -H^{-1/2} grad L, -diag(H)^{-1/2} grad L, Ballistic's -(s_B + eps)^{-1/2} grad L, Adam's "
        "-m / (sqrt(s_B) + eps) and -grad L at the step's midpoint (s_B the minibatch second moment).",
        "config": _config(config, model, n_components=n_components, lam=lam, n_points=n_points, subset=subset),
        "criteria": E4_CRITERIA,
        "model": {
            "newton_steps": newton,
            "grad_max": float(np.max(np.abs(model.grad(theta_star)))),
            "lambda_min": lam_min,
            "lambda_max_star": float(eig[0][-1]),
            "Lambda": Lam,
            "gamma": gamma,
        },
        "cases": rows,
        "summary": e4_summary(rows),
        "timing_s": {"total": time.perf_counter() - start},
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m functions.experiments real-model", description=__doc__.splitlines()[0])
    p.add_argument("part", choices=PARTS)
    p.add_argument("--components", type=int_or_none(1, 784, "none", "all pixels"), default=50,
                   help="PCA components (default 50: d = 510); none")  # fmt: skip
    p.add_argument("--lam", type=positive, default=1e-4, help="L2 weight lambda (default 1e-4)")
    p.add_argument(
        "--points",
        type=at_least(8),
        default=None,
        help="time nodes N (default 256 for e1, e3 and e4, 512 for e0 and e2)",
    )
    p.add_argument("--subset", type=at_least(1), default=None, help="the first N training images (default: all 60,000)")
    p.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    p.add_argument("--out", default=OUT_DIR, help=f"record folder (default {OUT_DIR})")
    return p


def main(argv=None) -> None:
    p = parser()
    args = p.parse_args(argv)
    try:
        check_output_folder(args.out, "--out")
        data_root(args.root, "--root")
    except ValueError as err:
        p.exit(2, f"{p.prog}: error: {err}\n")
    try:
        _main(args)
    except ForeignPartialError as err:  # found before any data is loaded
        p.exit(2, f"{p.prog}: error: {err}\n")


def _main(args) -> None:
    if args.points is None:
        args.points = 256 if args.part in ("e1", "e3", "e4") else 512
    if args.part == "e1":
        record = e1_record(args.components, args.lam, args.points, root=args.root, subset=args.subset)
        path = write_json(record_path("e1", record["config"]["dim"], args.lam, args.out), record, digits=4, floor=0.0)
        held = {c["start"]: all(all(d["holds"].values()) for d in record["cases"] if d["start"] == c["start"])
                for c in record["cases"]}  # fmt: skip
        print(f"wrote {path}: criteria hold at every gamma from {held}; limits hold: {record['limits']['holds']}")
        return
    if args.part == "e2":
        record = e2_record(args.components, args.lam, args.points, root=args.root, subset=args.subset)
        path = write_json(record_path("e2", record["config"]["dim"], args.lam, args.out), record, digits=4, floor=0.0)
        s = record["summary"]
        print(f"wrote {path}: slope of gradient flow's gap {s['gf_slope']:.3f}, of the modified flow's "
              f"{s['modified_slope']}; criteria: {s['holds']}")  # fmt: skip
        return
    if args.part == "e3":
        record = e3_record(args.components, args.lam, args.points, root=args.root, subset=args.subset)
        # 7 digits: a regret of 1e-5 is the difference of two J's (J* at 4 digits would not resolve it)
        path = write_json(record_path("e3", record["config"]["dim"], args.lam, args.out), record, digits=7, floor=0.0)
        print(f"wrote {path}: best learner by gamma {record['summary']['best']}; criteria: "
              f"{record['summary']['holds']}")  # fmt: skip
        return
    if args.part == "e4":
        record = e4_record(args.components, args.lam, args.points, root=args.root, subset=args.subset)
        path = write_json(record_path("e4", record["config"]["dim"], args.lam, args.out), record, digits=4, floor=0.0)
        med = {d: v["median"] for d, v in record["summary"]["pooled"].items()}
        print(f"wrote {path}: median cosines {med}; criteria: {record['summary']['holds']}")
        return
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
