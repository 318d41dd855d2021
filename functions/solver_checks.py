"""E0 of the real-model test: the path solver against the exact optimum on a real model's quadratic model.

With the Hessian H of logistic regression on MNIST at its minimum theta* (``real_model``), the quadratic model
1/2 (theta - theta*)^T H (theta - theta*) has an exact free-end optimum at every finite T (``lq.free_end_lq``).
For each gamma, the solver (``newton_krylov.solve_path``, second-order rule, geometric grid) must meet, fixed
before measuring:

- the path's relative L2 error against the exact one <= 1e-4 (in time, undiscounted, over [0, T]);
- the exact J of its piecewise-linear path >= J* (a lower one is a bug), and the gap small;
- N -> 2N changes the discrete J_h by < 1e-4 relative;
- the relative costate residual <= 1e-6.

T is set per gamma so that the slowest mode decays by e^-20 (T = 20 / r_min, r(h) = sqrt(gamma^2/4 + eta k h)
- gamma/2); the grid starts with the step 4 / (N r_max) and grows geometrically to T.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ._checks import check_int, check_positive
from .landscapes import QuadraticModel
from .lq import free_end_lq, path_J, rates
from .newton_krylov import solve_path
from .objective import Problem
from .paths import time_grid

__all__ = ["E0_CRITERIA", "E0Case", "e0_case", "horizon_grid", "rates", "relative_l2"]

#: The criteria of E0, stated before any run.
E0_CRITERIA = {"rel_L2": 1e-4, "J_refine": 1e-4, "residual": 1e-6}

#: The slowest mode decays by e^-DECAY over [0, T].
DECAY = 20.0


@dataclass(frozen=True)
class E0Case:
    """One gamma of E0: the measured numbers (see the module docstring) and the solver's effort."""

    gamma: float
    T: float
    n_points: int
    rel_L2: float
    sup_error: float
    J_star: float
    J_gap: float  # (J[path] - J*) / J*, exact J of the solver's path
    J_refine: float  # |J_h(2N) - J_h(N)| / |J_h(N)|
    residual: float
    newton: int
    krylov: int
    seconds: float

    @property
    def holds(self) -> dict[str, bool]:
        return {
            "rel_L2": self.rel_L2 <= E0_CRITERIA["rel_L2"],
            "J_above_optimum": self.J_gap >= -1e-12,
            "J_refine": self.J_refine <= E0_CRITERIA["J_refine"],
            "residual": self.residual <= E0_CRITERIA["residual"],
        }


def horizon_grid(r, n_points: int) -> tuple[float, np.ndarray]:
    """(T, t) for modes of rates ``r``: T = DECAY / r_min, a geometric grid whose first step is 4 / (N r_max)."""
    T = DECAY / float(np.min(r))
    first = min(4.0 / (n_points * float(np.max(r))), 0.5 * T / (n_points - 1))
    return T, time_grid(T, n_points, "geometric", first=first)


def relative_l2(t, a, b, ref) -> float:
    """sqrt(int |a - b|^2 dt / int |ref|^2 dt), each integral by the trapezoid rule on the nodes ``t``
    (a, b, ref: one row per node)."""
    D = np.diff(t)
    w = np.append(D, 0.0) / 2 + np.append(0.0, D) / 2
    return float(np.sqrt(w @ np.sum((np.asarray(a) - b) ** 2, 1) / (w @ np.sum(np.asarray(ref) ** 2, 1))))


def e0_case(H, theta_star, theta0, gamma: float, *, eig=None, curvature=None, n_points: int = 512,
            eta: float = 1.0, k: float = 1.0) -> E0Case:  # fmt: skip
    """Solve the quadratic model of ``H`` at one gamma with N and 2N points and measure E0 (module docstring).

    ``eig``: H's eigenpairs (h, V), computed once by the caller; ``curvature``: the solver's preconditioner
    (default: the exact eigenpairs, which makes it one Newton step; a diagonal or perturbed H_ref makes the
    Krylov solver work).
    """
    n_points = check_int(n_points, "n_points", 8)
    gamma = check_positive(gamma, "gamma")
    h, V = np.linalg.eigh(H) if eig is None else eig
    r = rates(h, gamma, eta, k)
    T = DECAY / r.min()
    exact = free_end_lq(None, theta_star, theta0, T, gamma, eta, k, eig=(h, V))
    problem = Problem(QuadraticModel(H, theta_star), gamma=gamma, eta=eta, k=k)
    curvature = (h, V) if curvature is None else curvature
    start = time.perf_counter()
    paths = {}
    for n in (n_points, 2 * n_points):
        _, t = horizon_grid(r, n)
        paths[n] = solve_path(problem, theta0, T, t=t, curvature=curvature, tol=1e-8)
    seconds = time.perf_counter() - start
    path = paths[n_points]
    t = path.t
    err = path.theta - exact(t)
    ref = exact(t) - theta_star
    rel_L2 = relative_l2(t, path.theta, exact(t), ref)
    J_path = path_J(H, theta_star, t, path.theta, gamma, eta, k)
    return E0Case(
        gamma=gamma,
        T=float(T),
        n_points=n_points,
        rel_L2=rel_L2,
        sup_error=float(np.max(np.abs(err)) / np.max(np.abs(ref))),
        J_star=exact.J,
        J_gap=(J_path - exact.J) / exact.J,
        J_refine=abs(paths[2 * n_points].J - path.J) / abs(path.J),
        residual=path.info.residual,
        newton=path.info.n_iter + paths[2 * n_points].info.n_iter,
        krylov=path.info.n_inner + paths[2 * n_points].info.n_inner,
        seconds=seconds,
    )
