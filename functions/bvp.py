"""Two-point boundary-value solver for the optimal learning trajectory.

Solves the Euler-Lagrange equation (see ``euler_lagrange``) on [0, T] with theta(0) = theta_0 and
either a fixed end theta(T) = theta_T or the natural (free-end) condition dL0/dtheta_dot = 0 at T,
i.e. G (theta_dot(T) - f(theta(T))) = 0. Collocation by ``scipy.integrate.solve_bvp`` with the
right-hand side and its Jacobian from autodiff. It returns a ``paths.Path`` whose ``path(t)`` and
``path.velocity(t)`` use the solver's C1 cubic interpolant, and whose J is Simpson's rule on that interpolant
over the final mesh.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_bvp as _scipy_solve_bvp

from ._checks import as_data, check_int, check_positive, check_vector
from .errors import ConvergenceError
from .euler_lagrange import first_order_jac, first_order_rhs
from .objective import Problem, lagrangian
from .paths import Path, SolverInfo

__all__ = ["BVP_LIMIT", "MAX_GAMMA", "TOL_RANGE", "solve_bvp"]

#: Largest discount rate for which the figures' free-end checks converge (measured: Figure 3 at 50 in 4.4 s, at 100
#: scipy exceeds its mesh, and 1e6 never finishes); beyond it the optimum is gradient descent to within 1/gamma^2.
MAX_GAMMA = 50.0
BVP_LIMIT = (
    "the free-end boundary-value check converges up to 50 (measured; at 100 it exceeds its mesh); larger rates are "
    "gradient descent to within 1/gamma^2"
)

#: Tolerances solve_bvp accepts: below 1e-13 float64 residuals cannot converge, above 0.1 nothing is solved.
TOL_RANGE = (1e-13, 0.1)


def _free_end_residual(problem: Problem, theta_T, theta_dot_T):
    """G (theta_dot - f(theta)) at T: eta times the momentum dL0/dtheta_dot, zero at a free end."""
    th = torch.as_tensor(theta_T)
    u = torch.as_tensor(theta_dot_T) - problem.drift(th)
    return (u @ torch.tensor(problem.metric.G)).numpy()  # a copy: G is read-only


def solve_bvp(
    problem: Problem,
    theta0,
    T: float,
    *,
    theta_T=None,
    n_nodes: int = 200,
    guess=None,
    tol: float = 1e-9,
    max_nodes: int = 200_000,
) -> Path:
    """Optimal trajectory on [0, T] from theta0, with a fixed end ``theta_T`` or a free end (None).

    Args:
        problem: the navigation problem.
        theta0: start theta(0), shape (d,).
        T: horizon, > 0.
        theta_T: fixed end theta(T); None for the natural boundary condition.
        n_nodes: initial mesh size (the solver refines it).
        guess: optional callable t -> (theta, theta_dot), arrays of shape (m, d), as a first guess;
            by default the straight line to theta_T (fixed end) or theta0 at rest (free end).
        tol: relative collocation residual tolerance passed to scipy, in [TOL_RANGE[0], TOL_RANGE[1]]
            (float64 residuals cannot reach below ~1e-13).
        max_nodes: largest mesh the solver may build, >= n_nodes.

    Raises:
        ConvergenceError: scipy did not converge; the message says why and what to try.
    """
    d = problem.dim
    theta0 = check_vector(theta0, "theta0", d)
    problem.check_start(theta0)
    T = check_positive(T, "T")
    if theta_T is not None:
        theta_T = check_vector(theta_T, "theta_T", d)
    tol = check_positive(tol, "tol")
    if not TOL_RANGE[0] <= tol <= TOL_RANGE[1]:
        raise ValueError(
            f"Invalid tol value: {tol:g}; tol must lie in [{TOL_RANGE[0]:g}, {TOL_RANGE[1]:g}] (float64 collocation "
            "residuals do not get below ~1e-13; use 1e-9 for results, 1e-6 for a quick look)."
        )
    n_nodes = check_int(n_nodes, "n_nodes", 2)
    max_nodes = check_int(max_nodes, "max_nodes", n_nodes)
    t = np.linspace(0.0, T, n_nodes)
    if guess is not None:
        if not callable(guess):
            raise ValueError(f"Invalid guess value: {guess!r}; expected a callable t -> (theta, theta_dot).")
        th_guess, thd_guess = (np.asarray(as_data(a), dtype=np.float64) for a in guess(t))
        for name, arr in (("theta", th_guess), ("theta_dot", thd_guess)):
            if arr.shape != (t.size, d) or not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"Invalid guess: its {name} has shape {arr.shape}; expected finite values of shape "
                    f"({t.size}, {d}) (one row per time of the mesh of n_nodes = {n_nodes})."
                )
    elif theta_T is not None:
        th_guess = theta0 + (t / T)[:, None] * (theta_T - theta0)
        thd_guess = np.broadcast_to((theta_T - theta0) / T, th_guess.shape)
    else:
        th_guess = np.broadcast_to(theta0, (t.size, d))
        thd_guess = np.zeros((t.size, d))
    y_guess = np.concatenate([th_guess, thd_guess], axis=1).T

    def bc(ya, yb):
        start = ya[:d] - theta0
        if theta_T is not None:
            end = yb[:d] - theta_T
        else:
            end = _free_end_residual(problem, yb[:d], yb[d:])
        return np.concatenate([start, end])

    sol = _scipy_solve_bvp(
        lambda _t, y: first_order_rhs(problem, y),
        bc,
        t,
        y_guess,
        fun_jac=lambda _t, y: first_order_jac(problem, y),
        tol=tol,
        max_nodes=max_nodes,
        bc_tol=tol,
    )
    if sol.status != 0:
        raise ConvergenceError(
            f"solve_bvp did not converge ({sol.message}; max residual "
            f"{np.max(sol.rms_residuals):.2e} > tol {tol:g}). Try a larger max_nodes, a looser tol, "
            "a shorter horizon T, or a better initial guess."
        )
    t = sol.x
    mid = (t[:-1] + t[1:]) / 2
    y, y_mid = sol.sol(t), sol.sol(mid)
    f, f_mid = (lagrangian(problem, tt, yy[:d].T, yy[d:].T) for tt, yy in ((t, y), (mid, y_mid)))
    J = float(np.sum(np.diff(t) * (f[:-1] + 4 * f_mid + f[1:])) / 6)
    info = SolverInfo("collocation", "collocation", float(np.max(sol.rms_residuals)), tol, int(sol.niter))
    return Path(t=t, theta=sol.y[:d].T.copy(), J=J, info=info, interpolant=sol.sol)
