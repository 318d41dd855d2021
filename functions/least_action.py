"""Direct minimisation of the discretised action (Figure 1's method), with a fixed or a free end.

The points theta_1 ... theta_{N-2} (fixed end) or theta_1 ... theta_{N-1} (free end) of a path on N equally
spaced times are the unknowns;
S (``objective.discrete_action``) and its exact gradient come from torch autograd, and L-BFGS
(scipy) minimises it. This replaces the authors' 60,000 plain gradient steps.

Preconditioning: the kinetic term makes S ill-conditioned (its Hessian grows like N^2), so L-BFGS
works in coordinates y = R x, where R^T R = K is the Hessian of the drift-free kinetic term,
K = (1 / (eta (N-1) dt^2)) tridiag(-w_{n-1}, w_{n-1} + w_n, -w_n) (x) G with w_n = e^{-gamma t_n} (at a free
end the last row keeps only w_{N-2}). In y the Hessian is I plus the loss curvature, and L-BFGS needs a few
dozen iterations, not hundreds. It returns a ``paths.Path`` (J = T S, the forward rule of ``newton_krylov``).
Where L-BFGS is ill-conditioned (large d, curvatures over decades, gamma T > 36) use
``newton_krylov.solve_path``; a problem whose dense K would exceed ``MAX_DENSE_BYTES`` is refused with that advice.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.linalg import cholesky, solve_triangular
from scipy.optimize import minimize

from ._checks import as_data, check_int, check_positive, check_vector
from .errors import ConvergenceError
from .objective import Problem, discrete_action
from .paths import Path, SolverInfo

__all__ = ["FLOOR_SAFETY", "MAX_DENSE_BYTES", "MAX_DISCOUNT_EXPONENT", "action_and_grad", "action_hessian",
           "dense_bytes", "minimise_action", "shortest_horizon"]  # fmt: skip

#: Largest gamma * T: e^(-700) is near double precision's smallest normal number (e^(-708)).
MAX_DISCOUNT_EXPONENT = 700.0

#: Largest dense kinetic Hessian (and as much again for its Cholesky factor) minimise_action builds: 1 GiB.
MAX_DENSE_BYTES = 2**30

#: Margin on the estimated rounding floor of dS/dtheta (``shortest_horizon``): the measured floor was up to 1.3 times
#: the estimate, and T = 0.005 at N = 1000 (estimate 0.94e-8) stopped at 1.2e-8 > gtol = 1e-8.
FLOOR_SAFETY = 2.0

#: How many times L-BFGS may continue with a tighter tolerance before giving up.
RETIGHTEN = 4


def _path(interior: torch.Tensor, theta0: torch.Tensor, theta_T: torch.Tensor | None) -> torch.Tensor:
    ends = [theta0[None], interior.reshape(-1, theta0.shape[0])]
    return torch.cat(ends if theta_T is None else [*ends, theta_T[None]])


def action_and_grad(problem: Problem, theta0, theta_T, T: float):
    """Return ``fun(x) -> (S, dS/dx)`` for the flat unknown points x (numpy), by autograd; theta_T None: free end."""
    th0 = torch.as_tensor(theta0, dtype=torch.float64)
    thT = None if theta_T is None else torch.as_tensor(theta_T, dtype=torch.float64)

    def fun(x):
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        S = discrete_action(problem, _path(xt, th0, thT), T)
        (g,) = torch.autograd.grad(S, xt)
        return S.item(), g.numpy()

    return fun


def shortest_horizon(problem: Problem, theta0, theta_T, n_points: int, gtol: float = 1e-8) -> float:
    """The shortest T at which |dS/dtheta|_max can reach ``gtol`` in double precision.

    Each kinetic row of dS/dtheta is w (2 theta_n - theta_{n-1} - theta_{n+1}) G / (eta (N-1) dt^2), a difference
    of nodes that carries their rounding eps max|theta|, so the gradient cannot be computed below about
    eps max|theta| |G| (N-1) / (eta T^2) (measured at N = 50, 200, 1000: 0.4 to 1.3 times this). With a factor
    ``FLOOR_SAFETY`` on it: T_min = sqrt(FLOOR_SAFETY eps max(1, max|theta|) |G| (N-1) / (eta gtol)), max|theta|
    over the ends (a free end counts theta0 alone; the 1 stands for the nodes between ends near 0).
    """
    ends = [np.abs(np.asarray(theta0, dtype=np.float64))]
    if theta_T is not None:
        ends.append(np.abs(np.asarray(theta_T, dtype=np.float64)))
    scale = max(float(np.max(np.concatenate(ends))), 1.0) * float(np.max(np.abs(problem.metric.G)))
    return float(np.sqrt(FLOOR_SAFETY * np.finfo(np.float64).eps * scale * (n_points - 1) / (problem.eta * gtol)))


def dense_bytes(dim: int, n_points: int, free_end: bool = False) -> int:
    """Bytes of the dense kinetic Hessian K that minimise_action factorises: (m d)^2 doubles, m unknown points."""
    m = n_points - 1 if free_end else n_points - 2
    return 8 * (m * dim) ** 2


def action_hessian(problem: Problem, theta0, theta_T, T: float):
    """Return ``hess(x) -> d^2 S / dx^2`` (numpy, dense) for the flat unknown points x, by autograd."""
    th0 = torch.as_tensor(theta0, dtype=torch.float64)
    thT = None if theta_T is None else torch.as_tensor(theta_T, dtype=torch.float64)

    def hess(x):
        def S(xt):
            return discrete_action(problem, _path(xt, th0, thT), T)

        return torch.autograd.functional.hessian(S, torch.tensor(x, dtype=torch.float64)).numpy()

    return hess


def _newton_polish(fun, hess, x, grad_norm: float, gtol: float, steps: int):
    """Newton steps x <- x - H^-1 g from L-BFGS's last point, each kept only if it lowers |g|_max.

    Where S is large (a short horizon), the steps L-BFGS still needs change S by less than its rounding, and its
    line search stops (ABNORMAL) with |g| above gtol; the gradient itself is still accurate there, and Newton's
    method, which needs no decrease of S, reaches the tolerance in a step or two. Returns (x, |g|_max, steps).
    """
    done = 0
    while grad_norm > gtol and done < steps:
        _, g = fun(x)
        try:
            trial = x - np.linalg.solve(hess(x), g)
        except np.linalg.LinAlgError:
            break
        new_norm = float(np.max(np.abs(fun(trial)[1])))
        if not new_norm < grad_norm:
            break
        x, grad_norm, done = trial, new_norm, done + 1
    return x, grad_norm, done


def kinetic_hessian(problem: Problem, T: float, n_points: int, free_end: bool = False) -> np.ndarray:
    """Hessian K of the drift-free kinetic part of S with respect to the flat unknown points.

    S_kin = (1/(N-1)) sum_n w_n |theta_{n+1} - theta_n|_G^2 / (2 eta dt^2), w_n = e^{-gamma t_n}: the weighted
    Laplacian of the N nodes without node 0's row and column (and node N-1's at a fixed end).
    """
    n = n_points - 1
    dt = T / n
    w = np.exp(-problem.gamma * dt * np.arange(n)) / (problem.eta * n * dt**2)
    full = np.diag(np.append(w, 0.0) + np.append(0.0, w)) - np.diag(w, 1) - np.diag(w, -1)
    lap = full[1:, 1:] if free_end else full[1:-1, 1:-1]
    return np.kron(lap, problem.metric.G)


def minimise_action(
    problem: Problem,
    theta0,
    T: float,
    *,
    theta_T=None,
    n_points: int = 50,
    guess=None,
    gtol: float = 1e-8,
    max_iter: int = 20_000,
) -> Path:
    """Least-action path on ``n_points`` equally spaced times in [0, T], from theta0 to theta_T or a free end.

    Args:
        problem: the navigation problem.
        theta0: the start, shape (d,).
        T: horizon, > 0.
        theta_T: the fixed end, shape (d,); None for a free end.
        n_points: number of time points N (>= 3), ends included.
        guess: initial unknown points, shape (N-2, d) (fixed end) or (N-1, d) (free end); the straight line, or
            theta0 at rest, by default.
        gtol: required max-norm of the gradient at the minimum.
        max_iter: iteration cap for L-BFGS.

    Raises:
        ValueError: bad input, before any work; a problem too large for the dense K (``MAX_DENSE_BYTES``), with
            the pointer to ``solve_path``.
        ConvergenceError: the gradient norm is still above ``gtol`` when L-BFGS stops.
    """
    d = problem.dim
    theta0 = check_vector(theta0, "theta0", d)
    problem.check_start(theta0)
    free = theta_T is None
    if not free:
        theta_T = check_vector(theta_T, "theta_T", d)
    T = check_positive(T, "T")
    n_points = check_int(n_points, "n_points", 3)
    size = dense_bytes(d, n_points, free)
    if size > MAX_DENSE_BYTES:
        raise ValueError(
            f"Invalid size: d = {d} and n_points = {n_points} need a dense {size / 2**30:.3g} GiB kinetic Hessian "
            f"(more than {MAX_DENSE_BYTES / 2**30:g} GiB), so minimise_action is meant for small problems. Use "
            "functions.solve_path (newton_krylov: matrix-free Newton-Krylov, memory O(n_points d)), e.g. "
            "solve_path(problem, theta0, T, n_points=n_points)."
        )
    gtol = check_positive(gtol, "gtol")
    max_iter = check_int(max_iter, "max_iter", 1)
    T_min = shortest_horizon(problem, theta0, theta_T, n_points, gtol)
    if T < T_min:
        raise ValueError(
            f"Invalid T value: {T:g}; over so short a horizon the kinetic term's rounding keeps |dS/dtheta| above "
            f"gtol = {gtol:g} in double precision (see shortest_horizon): use T >= {T_min:.3g}, fewer n_points or "
            "a larger gtol."
        )
    t = np.linspace(0.0, T, n_points)
    m = n_points - 1 if free else n_points - 2
    if guess is None:
        guess = np.tile(theta0, (m, 1)) if free else theta0 + (t[1:-1] / T)[:, None] * (theta_T - theta0)
    guess = np.asarray(as_data(guess), dtype=np.float64)
    if guess.shape != (m, d):
        raise ValueError(f"Invalid guess shape: {guess.shape}; expected {(m, d)} (the unknown points).")
    if problem.gamma * T > MAX_DISCOUNT_EXPONENT:
        raise ValueError(
            f"Invalid gamma value: gamma * T = {problem.gamma * T:g} > {MAX_DISCOUNT_EXPONENT:g}: the weight "
            f"e^(-gamma t) underflows to 0 in double precision after t = {MAX_DISCOUNT_EXPONENT / problem.gamma:g}, "
            "where the path would carry no weight and be undetermined. Lower gamma or T."
        )
    fun = action_and_grad(problem, theta0, theta_T, T)
    R = cholesky(kinetic_hessian(problem, T, n_points, free_end=free))  # upper triangular, R^T R = K

    def fun_y(y):
        S, g = fun(solve_triangular(R, y))
        return S, solve_triangular(R, g, trans="T")

    # L-BFGS stops on the gradient in y = R x; the criterion is on dS/dtheta, whose scale differs by R (a short
    # horizon or a large gamma): tighten y's tolerance by the gap and continue, a few times at most.
    y, y_tol, n_iter = R @ guess.ravel(), gtol, 0
    for _ in range(RETIGHTEN):
        res = minimize(fun_y, y, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "maxfun": 2 * max_iter, "gtol": y_tol, "ftol": 0.0,
                                "maxcor": 30})  # fmt: skip
        y, n_iter = res.x, n_iter + int(res.nit)
        x = solve_triangular(R, y)
        S, g = fun(x)
        grad_norm = float(np.max(np.abs(g)))
        if grad_norm <= gtol:
            break
        y_tol *= 0.5 * gtol / grad_norm
    n_newton = 0
    if grad_norm > gtol and res.status != 1:  # stalled (status 1: max_iter reached, which Newton must not extend)
        x, grad_norm, n_newton = _newton_polish(fun, action_hessian(problem, theta0, theta_T, T), x, grad_norm,
                                                gtol, RETIGHTEN)  # fmt: skip
        S = fun(x)[0]
    if grad_norm > gtol:
        raise ConvergenceError(
            f"Action minimisation stopped with |dS/dtheta|_max = {grad_norm:.2e} > {gtol:g} ({res.message}) for "
            f"T = {T:g}, n_points = {n_points}, gamma = {problem.gamma:g}. Try a longer horizon T (a very short one "
            "makes the kinetic term dominate), more points, a better guess, or a larger max_iter."
        )
    theta = np.concatenate([theta0[None], x.reshape(-1, d)] + ([] if free else [theta_T[None]]))
    info = SolverInfo("L-BFGS" + (" + Newton" if n_newton else ""), "forward", grad_norm, gtol, n_iter, n_newton)
    return Path(t=t, theta=theta, J=T * S, info=info)
