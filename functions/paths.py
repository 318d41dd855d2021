"""What every path solver returns, and the time grids they discretise on.

A solver of the learning objective (Section 2) takes ``(problem, theta0, T, *, theta_T=None, ...)``:
``theta_T=None`` is the free end (the natural condition G (theta_dot(T) - f(theta(T))) = 0), a vector pins
theta(T). It returns a ``Path``: the times, the trajectory, its objective

    J[theta] = int_0^T e^{-gamma t} [ (1/(2 eta)) |theta_dot - f|_G^2 + k L(theta) ] dt

and a ``SolverInfo`` (method, time rule, criterion reached, iterations). A solver that misses its tolerance
raises ``errors.ConvergenceError``; it never returns an unconverged path.

Grids: ``time_grid(T, n_points)`` is uniform; ``kind="geometric"`` puts the first step at ``first`` and grows
each step by a constant ratio, so one grid resolves a fast mode near t = 0 and a slow one out to T (a spectrum
of curvatures over decades needs it: a uniform grid fine enough for the fastest mode needs T r_max / r_min
points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from ._checks import check_choice, check_int, check_positive, check_times

__all__ = ["GRID_KINDS", "Path", "SolverInfo", "check_grid", "time_grid"]

GRID_KINDS = ("uniform", "geometric")


@dataclass(frozen=True)
class SolverInfo:
    """How a path was found.

    Attributes:
        method: "L-BFGS" (direct minimisation; "L-BFGS + Newton" where Newton steps finished it), "collocation"
            (boundary-value problem) or "Newton-Krylov".
        rule: the time discretisation ("forward", "trapezoid", or "collocation").
        residual: the solver's own stopping measure at the end (see the solver's docstring).
        tol: the tolerance that measure had to reach.
        n_iter: outer iterations (L-BFGS iterations, Newton steps, mesh refinements).
        n_inner: inner iterations (Krylov iterations; L-BFGS's closing Newton steps; 0 where there are none).
    """

    method: str
    rule: str
    residual: float
    tol: float
    n_iter: int
    n_inner: int = 0


@dataclass(frozen=True)
class Path:
    """A solved trajectory: ``t`` (N,), ``theta`` (N, d), the objective ``J`` and the solver's ``info``.

    ``path(t)`` and ``path.velocity(t)`` interpolate: with the solver's own interpolant where it has one
    (collocation's C1 cubic), else piecewise linearly (the discretisation of the direct solvers).
    """

    t: np.ndarray
    theta: np.ndarray
    J: float
    info: SolverInfo
    interpolant: Callable | None = field(default=None, repr=False, compare=False)

    @property
    def end(self) -> np.ndarray:
        """theta(T)."""
        return self.theta[-1]

    def __call__(self, t) -> np.ndarray:
        """theta at times ``t``, shape (..., d)."""
        t = np.asarray(t, dtype=np.float64)
        d = self.theta.shape[1]
        if self.interpolant is not None:
            return np.moveaxis(self.interpolant(t)[:d], 0, -1)
        out = np.stack([np.interp(t.ravel(), self.t, self.theta[:, i]) for i in range(d)], axis=-1)
        return out.reshape(*t.shape, d)

    def velocity(self, t) -> np.ndarray:
        """theta_dot at times ``t``: the interpolant's, or the slope of the linear piece holding t."""
        t = np.asarray(t, dtype=np.float64)
        d = self.theta.shape[1]
        if self.interpolant is not None:
            return np.moveaxis(self.interpolant(t)[d:], 0, -1)
        slopes = np.diff(self.theta, axis=0) / np.diff(self.t)[:, None]
        piece = np.clip(np.searchsorted(self.t, t.ravel(), side="right") - 1, 0, len(self.t) - 2)
        return slopes[piece].reshape(*t.shape, d)


def time_grid(T: float, n_points: int, kind: str = "uniform", first: float | None = None) -> np.ndarray:
    """N times from 0 to T: equally spaced, or geometric (first step ``first``, each next one rho times longer).

    For ``kind="geometric"`` the ratio rho > 1 solves first (rho^(N-1) - 1) / (rho - 1) = T; ``first`` must be
    below T / (N - 1) (else the uniform grid is already finer everywhere).
    """
    T = check_positive(T, "T")
    n_points = check_int(n_points, "n_points", 3)
    check_choice(kind, "kind", GRID_KINDS)
    n = n_points - 1
    if kind == "uniform":
        if first is not None:
            raise ValueError("Invalid first value: a uniform grid has no first step to set; use kind='geometric'.")
        return np.linspace(0.0, T, n_points)
    if first is None:
        raise ValueError("Invalid first value: None; a geometric grid needs its first step, e.g. first=T / 1e4.")
    first = check_positive(first, "first")
    if first >= T / n:
        raise ValueError(
            f"Invalid first value: {first:g} >= T / (n_points - 1) = {T / n:g}; a geometric grid's first step "
            "must be shorter than the uniform one. Lower first or use kind='uniform'."
        )

    # sum_{i<n} first rho^i = first (rho^n - 1) / (rho - 1) = T, in logs (log expm1(y) = y + log1p(-e^-y), no
    # overflow); log(rho) is bracketed by (0, log(T/first)] since rho^(n-1) <= T/first.
    def gap(s):
        return np.log(first) + n * s + np.log1p(-np.exp(-n * s)) - s - np.log1p(-np.exp(-s)) - np.log(T)

    log_rho = brentq(gap, 1e-12, np.log(T / first), xtol=1e-15)
    steps = first * np.exp(log_rho * np.arange(n))
    t = np.concatenate([[0.0], np.cumsum(steps)])
    t[-1] = T
    return t


def check_grid(t, T: float | None = None) -> np.ndarray:
    """Return ``t`` (finite, strictly increasing, from 0, >= 3 points, ending at T when given), else raise."""
    t = check_times(t, "t", min_points=3)
    if T is not None and not np.isclose(t[-1], T, rtol=1e-12, atol=0.0):
        raise ValueError(f"Invalid t value: the grid ends at {t[-1]:g}, not at T = {T:g}; end it at T.")
    return t
