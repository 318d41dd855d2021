"""Closed-form optimal trajectories for a quadratic loss (the T -> infinity, stable-manifold solution).

Loss L = 1/2 sum_i h_i (theta_i - mu_i)^2, metric G = diag(g), effective stiffness
c_i = eta k h_i / g_i. Substituting theta = theta* + x e^{lambda t} into the Euler-Lagrange
equation of the paper's objective (Section 2) and keeping the decaying root gives:

- no drift:        theta_i(t) = mu_i + (theta0_i - mu_i) e^{-r_i t},  r_i = sqrt(gamma^2/4 + c_i) - gamma/2.
- decay f = -j theta: theta_ddot = gamma theta_dot + (j^2 + gamma j + c) theta - c mu, so
                   theta*_i = c_i mu_i / (j^2 + gamma j + c_i),  r_i = sqrt((gamma/2 + j)^2 + c_i) - gamma/2.
- rotation f = q A theta (isotropic c, 2-D): writing z = theta_1 + i theta_2 (A acts as i),
                   z_ddot = (gamma + 2iq) z_dot + (q^2 + c - i gamma q) z - c mu, whose roots are
                   lambda = (gamma + 2iq)/2 -/+ sqrt(gamma^2/4 + c), so
                   z(t) = z* + (z0 - z*) e^{(iq - r) t},  z* = c mu / (q^2 + c - i gamma q):
                   a counter-clockwise spiral at angular speed q that settles at theta* != mu.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_nonnegative, check_positive, check_positive_array, check_vector
from .geometry import ROTATION_GENERATOR, DecayDrift, NoDrift, RotationDrift
from .landscapes import Quadratic
from .objective import Problem

__all__ = [
    "rate",
    "rate_ratio",
    "gd_rate",
    "ballistic_rate",
    "QuadraticOptimum",
    "quadratic_optimum",
    "cumulative_objective",
]


def rate(h, gamma: float, eta: float = 1.0, k: float = 1.0, g=1.0, j: float = 0.0):
    """Per-direction convergence rate r = sqrt((gamma/2 + j)^2 + eta k h / g) - gamma/2.

    Written as (j^2 + gamma j + c) / (sqrt((gamma/2 + j)^2 + c) + gamma/2), c = eta k h / g, which
    is exact and free of cancellation for large gamma.
    """
    gamma = check_nonnegative(gamma, "gamma")
    eta, k = check_positive(eta, "eta"), check_positive(k, "k")
    j = check_nonnegative(j, "j")
    c = eta * k * check_positive_array(h, "h (curvature)") / check_positive_array(g, "g (metric)")
    return (j**2 + gamma * j + c) / (np.sqrt((gamma / 2 + j) ** 2 + c) + gamma / 2)


def rate_ratio(h1, h2, gamma: float, eta: float = 1.0, k: float = 1.0):
    """Convergence-rate ratio r(h1) / r(h2): h1/h2 for gamma >> 1, sqrt(h1/h2) at gamma = 0."""
    return rate(h1, gamma, eta, k) / rate(h2, gamma, eta, k)


def gd_rate(h, gamma: float, eta: float = 1.0, k: float = 1.0):
    """Short-horizon limit r ~ eta k h / gamma: gradient descent theta_dot = -(eta k / gamma) grad L."""
    eta_k = check_positive(eta, "eta") * check_positive(k, "k")
    return eta_k * check_positive_array(h, "h (curvature)") / check_positive(gamma, "gamma")


def ballistic_rate(h, eta: float = 1.0, k: float = 1.0):
    """Far-sighted limit gamma -> 0: r = sqrt(eta k h), the ballistic (square-root Newton) rule."""
    return np.sqrt(check_positive(eta, "eta") * check_positive(k, "k") * check_positive_array(h, "h (curvature)"))


@dataclass(frozen=True)
class QuadraticOptimum:
    """The closed-form optimal trajectory theta(t) = theta* + e^{-r t} R(q t) (theta0 - theta*).

    Attributes:
        theta0: start, shape (d,).
        theta_star: end point (fixed point of the Euler-Lagrange equation), shape (d,).
        r: per-direction decay rates, shape (d,).
        q: angular speed of the spiral (0 without rotational drift).
    """

    theta0: np.ndarray
    theta_star: np.ndarray
    r: np.ndarray
    q: float = 0.0

    def __call__(self, t):
        """theta(t) for times ``t`` of any shape; returns shape (*t.shape, d)."""
        t = np.asarray(t, dtype=np.float64)[..., None]
        x = (self.theta0 - self.theta_star) * np.exp(-self.r * t)
        if self.q:
            c, s = np.cos(self.q * t[..., 0]), np.sin(self.q * t[..., 0])
            x = np.stack([c * x[..., 0] - s * x[..., 1], s * x[..., 0] + c * x[..., 1]], axis=-1)
        return self.theta_star + x

    def velocity(self, t):
        """theta_dot(t) = (q A - r) (theta(t) - theta*) (r isotropic when q != 0)."""
        x = self(t) - self.theta_star
        v = -self.r * x
        if self.q:
            v = v + self.q * x @ ROTATION_GENERATOR.T
        return v


def quadratic_optimum(problem: Problem, theta0) -> QuadraticOptimum:
    """Closed-form optimum of ``problem`` from ``theta0``: quadratic L, diagonal G, f = 0, decay or rotation.

    Raises:
        ValueError: the combination has no closed form here (non-quadratic loss, non-diagonal G, or a
            rotation with anisotropic h/g); use ``bvp.solve_bvp`` instead.
    """
    loss, metric, drift = problem.loss, problem.metric, problem.drift
    if not isinstance(loss, Quadratic) or not metric.is_diagonal:
        raise ValueError(
            "Invalid problem for a closed form: needs a Quadratic loss and a diagonal metric G; "
            "use bvp.solve_bvp for the general case."
        )
    theta0 = check_vector(theta0, "theta0", problem.dim)
    c = problem.eta * problem.k * loss.h / np.diag(metric.G)
    gamma = problem.gamma
    if isinstance(drift, NoDrift):
        return QuadraticOptimum(theta0, loss.mu.copy(), rate(c, gamma))
    if isinstance(drift, DecayDrift):
        j = drift.j
        theta_star = c * loss.mu / (j**2 + gamma * j + c)
        return QuadraticOptimum(theta0, theta_star, rate(c, gamma, j=j))
    if isinstance(drift, RotationDrift):
        if not np.allclose(c, c[0], rtol=1e-12, atol=0):
            raise ValueError(
                f"Invalid problem for a closed form: rotational drift needs isotropic eta k h / g, "
                f"got {c}; use bvp.solve_bvp."
            )
        c0, q = float(c[0]), drift.q
        z_mu = complex(loss.mu[0], loss.mu[1])
        z_star = c0 * z_mu / (q**2 + c0 - 1j * gamma * q)
        theta_star = np.array([z_star.real, z_star.imag])
        return QuadraticOptimum(theta0, theta_star, rate(c, gamma), q=q)
    raise ValueError(f"Invalid drift for a closed form: {drift!r}; supported are NoDrift, DecayDrift, RotationDrift.")


def cumulative_objective(problem: Problem, theta0, t=np.inf):
    """Discounted objective accumulated by the drift-free optimum up to time t.

    J(t) = sum_i g_i r_i (theta0_i - mu_i)^2 (1 - e^{-(gamma + 2 r_i) t}) / (2 eta),
    from integrating the exponentials and using r_i^2 + gamma r_i = eta k h_i / g_i. At t = inf this
    is the value function V(theta0) = (1/(2 eta)) sum_i g_i r_i (theta0_i - mu_i)^2.
    """
    if not isinstance(problem.drift, NoDrift):
        raise ValueError("Invalid problem: cumulative_objective is derived for f = 0 only.")
    opt = quadratic_optimum(problem, theta0)
    g = np.diag(problem.metric.G)
    t = np.asarray(t, dtype=np.float64)
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError(f"Invalid t value: {t}; times must be >= 0 (np.inf gives the value function).")
    t = t[..., None]
    x0_sq = (opt.theta0 - opt.theta_star) ** 2
    growth = -np.expm1(-(problem.gamma + 2 * opt.r) * t)
    return np.sum(g * opt.r * x0_sq * growth, axis=-1) / (2 * problem.eta)
