"""E5 of the real-model test: Figure 1 with a free end. Where does the far-sighted learner end when not told?

Figure 1 (Section 2) pins the multi-step path's end at the global minimum, which builds in part of the
answer. Here the end is free (the natural condition theta_dot(T) = 0) on a long horizon T, and the optimum
is found among the two kinds of stationary path from a start in the local basin: one that stays in the local
well and one that crosses the barrier to the global one. Each kind is traced in gamma by continuation:

- the crossing branch starts at the smallest gamma from the L-BFGS minimiser of the discrete action (Figure 1's
  forward rule) begun on a path that crosses, then polished by Newton-Krylov (second-order rule); each next
  gamma starts Newton from the previous path (L-BFGS gets 2,000 iterations; where it stops short, Newton
  starts from the crossing guess itself). Where Newton fails the branch has ended (no crossing path).
- the staying branch likewise, begun from a path that settles in the local well.

The optimal path is the branch of lower J; the learner escapes when it ends in the global basin. "Escape
stops" at the smallest gamma of the grid from which no larger gamma escapes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_int, check_positive
from .errors import ConvergenceError
from .landscapes import DoubleWell
from .least_action import minimise_action
from .newton_krylov import solve_path
from .objective import Problem

__all__ = ["EscapeMap", "escape_map"]


@dataclass(frozen=True)
class EscapeMap:
    """Per start (rows) and gamma (columns): J of each branch (nan where it does not exist), the optimum's end
    basin (1 global, 0 local), and per start the smallest gamma from which escape stops (inf: never on the grid)."""

    gammas: np.ndarray
    starts: np.ndarray
    J_stay: np.ndarray
    J_cross: np.ndarray
    escapes: np.ndarray
    gamma_stop: np.ndarray
    T: float
    n_points: int


def _ramp(t, theta0, target, T):
    u = np.clip(t / (T / 4), 0.0, 1.0)[:, None]
    return theta0 + (target - theta0) * u


def _branch(loss: DoubleWell, theta0, target, gammas, T, n_points, eta, k):
    """J and end of the stationary path heading for ``target``, continued through increasing gammas."""
    t = np.linspace(0.0, T, n_points)
    H = loss.hessian(target)
    out, guess = [], None
    for g in gammas:
        problem = Problem(loss, gamma=g, eta=eta, k=k)
        if guess is None:
            try:
                guess = minimise_action(problem, theta0, T, n_points=n_points, guess=_ramp(t, theta0, target, T)[1:],
                                        gtol=1e-6, max_iter=2000).theta  # fmt: skip
            except ConvergenceError:
                guess = _ramp(t, theta0, target, T)
        try:
            path = solve_path(
                problem, theta0, T, t=t, guess=guess, curvature=H, tol=1e-9, max_newton=30, max_krylov=200
            )
        except ConvergenceError:
            out.extend([(np.nan, None)] * (len(gammas) - len(out)))
            break
        heads_for_target = loss.basin(path.end) == loss.basin(target)
        if not heads_for_target:  # Newton slid onto the other branch: this one has ended
            out.extend([(np.nan, None)] * (len(gammas) - len(out)))
            break
        out.append((path.J, path.end))
        guess = path.theta
    return out


def escape_map(loss: DoubleWell, starts, gammas, *, T: float = 40.0, n_points: int = 401, eta: float = 1.0,
               k: float = 1.0) -> EscapeMap:  # fmt: skip
    """The free-end optimum's end basin over ``starts`` (m, 2) and increasing ``gammas`` (module docstring)."""
    starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    gammas = np.asarray(gammas, dtype=np.float64)
    if starts.shape[1] != 2 or gammas.ndim != 1 or gammas.size < 1 or np.any(np.diff(gammas) <= 0):
        raise ValueError("Invalid starts or gammas: expected starts of shape (m, 2) and increasing gammas > 0.")
    for g in gammas:
        check_positive(g, "gamma")
    T, n_points = check_positive(T, "T"), check_int(n_points, "n_points", 3)
    local, glob = sorted(loss.minima(), key=lambda m: float(loss(m)), reverse=True)
    J_stay = np.full((len(starts), len(gammas)), np.nan)
    J_cross = np.full_like(J_stay, np.nan)
    for i, theta0 in enumerate(starts):
        for J_arr, target in ((J_stay, local), (J_cross, glob)):
            for j, (J, _) in enumerate(_branch(loss, theta0, target, gammas, T, n_points, eta, k)):
                J_arr[i, j] = J
    # The optimum is the branch of lower J; a missing branch never wins.
    escapes = np.where(np.isnan(J_cross), 0, np.where(np.isnan(J_stay), 1, (J_cross < J_stay).astype(int)))
    gamma_stop = np.full(len(starts), np.inf)
    for i in range(len(starts)):
        stays = np.nonzero(escapes[i] == 0)[0]
        trailing = [j for j in stays if np.all(escapes[i, j:] == 0)]
        if trailing:
            gamma_stop[i] = gammas[trailing[0]]
    return EscapeMap(gammas, starts, J_stay, J_cross, escapes, gamma_stop, T, n_points)
