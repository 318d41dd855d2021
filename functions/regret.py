"""E3 of the real-model test (beyond the paper): a learner's J against the optimum J*, its constants tuned.

A learner family (``learner_flows.LEARNERS``) has free constants c (a learning rate, a friction, memories). Its
path theta_c(t) is sampled at the nodes of the optimal path's grid, and its objective is the same discrete J
that the optimal path minimises there (``newton_krylov.discrete_J``, the loss taken relative to L(theta*): the
constant k L* int e^{-gamma t} dt is the same for every path and would only dilute the ratio):

    regret(c) = (J[theta_c] - J*) / J*,      J* = min over grid paths from theta0 = J[theta_opt]

Every regret is >= 0 up to the optimal path's own tolerance (a negative one is a solver bug). The tuned regret is
min_c regret(c), found by Nelder-Mead on log c (constants stay positive and move by factors) from a start the
caller gives; it is an upper bound of the family's best (a local search with a budget of evaluations), and the
record keeps how many evaluations it took and whether the simplex converged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ._checks import check_int, check_positive
from .errors import ConvergenceError
from .learner_flows import LEARNERS, learner_path
from .newton_krylov import discrete_J

__all__ = ["Tuned", "learner_J", "tune_learner"]


@dataclass(frozen=True)
class Tuned:
    """A learner family tuned to minimise J: its best constants, J there, the search's effort and where it
    started (the first of the given starts that integrates)."""

    key: str
    constants: dict
    J: float
    n_evals: int
    converged: bool
    start: dict


def learner_J(problem, key: str, theta0, t, *, loss_floor: float, flow_options: dict | None = None,
              **constants) -> tuple[float, np.ndarray, np.ndarray]:  # fmt: skip
    """(J, theta (N, d), L - loss_floor at the nodes) of learner ``key`` with ``constants`` on the grid ``t``."""
    theta = learner_path(key, problem.loss, theta0, t, **(flow_options or {}), **constants)
    excess = problem.loss.linearise_path(theta)[0] - loss_floor
    return discrete_J(problem, t, theta, values=excess), theta, excess


def tune_learner(problem, key: str, theta0, t, start: dict | list[dict], *, loss_floor: float, max_evals: int,
                 flow_options: dict | None = None, xatol: float = 0.01, fatol: float = 1e-6) -> Tuned:  # fmt: skip
    """Nelder-Mead on log constants from ``start`` (first simplex: each constant times 10), minimising log J.

    ``start``: the constants to start from, or a list of them tried in turn (the first whose flow integrates).

    A learner whose integration fails (``ConvergenceError``: constants that make it far stiffer than the problem)
    counts as J = inf for the search. ``xatol``: the simplex's size in log units at convergence (0.01: 1 %);
    ``fatol``: the spread of log J over the simplex.

    Raises:
        ValueError: an unknown learner or a start without its constants.
        ConvergenceError: the learner fails at ``start`` itself (no finite J to search from).
    """
    names = LEARNERS[key].constants if key in LEARNERS else None
    starts = [start] if isinstance(start, dict) else list(start)
    for one in starts:
        if names is None or not isinstance(one, dict) or set(one) != set(names):
            raise ValueError(f"Invalid start for {key!r}: {one}; expected the constants of one of "
                             f"{ {k: list(v.constants) for k, v in LEARNERS.items()} }.")  # fmt: skip
    points = [np.log([check_positive(one[n], n) for n in names]) for one in starts]
    max_evals = check_int(max_evals, "max_evals", 1)
    count, seen = [0], {}

    def objective(x):
        key_x = tuple(np.round(x, 12))
        if key_x in seen:
            return seen[key_x]
        count[0] += 1
        seen[key_x] = _log_J(x)
        return seen[key_x]

    def _log_J(x):
        try:
            J, _, _ = learner_J(problem, key, theta0, t, loss_floor=loss_floor, flow_options=flow_options,
                                **dict(zip(names, np.exp(x), strict=True)))  # fmt: skip
        except ConvergenceError:
            return math.inf
        return math.log(J) if J > 0 else -math.inf

    x0 = next((x for x in points if math.isfinite(objective(x))), None)
    if x0 is None:
        raise ConvergenceError(f"{LEARNERS[key].name} fails at every start {starts}; give another start.")
    simplex = np.vstack([x0, x0 + np.log(10.0) * np.eye(x0.size)])
    options = {"initial_simplex": simplex, "maxfev": max_evals, "xatol": xatol, "fatol": fatol}
    res = minimize(objective, x0, method="Nelder-Mead", options=options)
    best = dict(zip(names, (float(v) for v in np.exp(res.x)), strict=True))
    start = dict(zip(names, (float(v) for v in np.exp(x0)), strict=True))
    return Tuned(key=key, constants=best, J=float(math.exp(res.fun)), n_evals=count[0], converged=bool(res.success),
                 start=start)  # fmt: skip
