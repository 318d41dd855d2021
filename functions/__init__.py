"""Loss-landscape navigation: the objective, its optimal learning rules, and the paper's figures.

The optimal path: ``solve_path`` (newton_krylov: matrix-free Newton-Krylov on the costate equations, any d,
any gamma; what the real-model experiments use) for a problem without drift, ``solve_bvp`` (bvp: collocation,
with a drift f) and ``minimise_action`` (least_action: L-BFGS on Figure 1's discrete action; small d and N only,
it refuses larger problems and points to ``solve_path``). All return a ``paths.Path``.

Layers, lowest first (kept by tests/test_layers.py); the root imports the theory layer only
(import the others as ``functions.<module>``):

- theory: landscapes, geometry (metrics G, drifts f), objective (J and its discretisation), euler_lagrange,
  bvp, least_action, newton_krylov, paths (grids, the Path result), closed_form and lq (quadratic losses),
  flows and gd_limit (gradient flow and the large-gamma limit), logistic, beliefs, tasks, escape, mode_rates.
- learning rules: optimisers (Ballistic), exact_rule (its exact-curvature form H^(-1/2) grad L, dense and by
  Lanczos), noisy_quadratic, learner_flows, regret, directions, bench_rules (the benchmark's optimisers and
  ablations with their tuning spaces).
- data and training: data, image_folder, download, models, protocol, checkpoint, run_records, training,
  run_lock, campaign and experiments (the command line), real_model, solver_checks and real_model_runs (beyond
  the paper), and the Ballistic benchmark (beyond the paper): bench_workloads, bench_trials, bench_records (the
  one owner of results/benchmark/), bench_study (the tuning protocol and its command line) and bench_profiles
  (performance profiles and the verdicts).
- figures: results_io, plotting, fig1, fig2, fig3, fig4, bench_figure (Figure 2's E6: the benchmark's table,
  profiles and verdicts), and explore (the notebooks' live sliders).
"""

from . import (
    bvp,
    closed_form,
    euler_lagrange,
    flows,
    geometry,
    landscapes,
    least_action,
    newton_krylov,
    objective,
    paths,
)
from .bvp import solve_bvp
from .closed_form import quadratic_optimum, rate, rate_ratio
from .errors import ConvergenceError
from .geometry import DecayDrift, Metric, NoDrift, RotationDrift, diagonal_metric, identity_metric
from .landscapes import DoubleWell, Quadratic
from .least_action import minimise_action
from .newton_krylov import solve_path
from .objective import Problem, discrete_action

__all__ = [
    "bvp",
    "closed_form",
    "euler_lagrange",
    "flows",
    "geometry",
    "landscapes",
    "least_action",
    "newton_krylov",
    "objective",
    "paths",
    "ConvergenceError",
    "solve_bvp",
    "solve_path",
    "quadratic_optimum",
    "rate",
    "rate_ratio",
    "DecayDrift",
    "Metric",
    "NoDrift",
    "RotationDrift",
    "diagonal_metric",
    "identity_metric",
    "DoubleWell",
    "Quadratic",
    "minimise_action",
    "Problem",
    "discrete_action",
]
