"""The exact optimum at a finite horizon with a free end, for a quadratic loss: the reference of the real-model test.

For L(theta) = 1/2 (theta - theta*)^T H (theta - theta*), G = I and no drift, the Euler-Lagrange equation
theta'' = gamma theta' + eta k H (theta - theta*) separates along H's eigenvectors. A mode x(t) with curvature
h solves x'' - gamma x' - eta k h x = 0, whose roots are -r and gamma + r with r = sqrt(gamma^2/4 + eta k h) -
gamma/2. With x(0) = x0 and the natural (free-end) condition x'(T) = 0 at a finite T:

    x(t) = A [e^{-r t} + (r / (gamma + r)) e^{(gamma + r)(t - T) - r T}],
    A = x0 / (1 + (r / (gamma + r)) e^{-(gamma + 2 r) T})

written so that no exponential overflows for any gamma, r and T (every exponent is <= 0 on [0, T]). As T -> oo
it is the closed form x0 e^{-r t} of ``closed_form``. The cumulative objective J of that path is the same
integral in closed form (``objective``): this module gives the path, which the solvers must reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_nonnegative, check_positive, check_vector

__all__ = ["FreeEndLQ", "free_end_lq"]


@dataclass(frozen=True)
class FreeEndLQ:
    """theta(t) on [0, T] for the quadratic model: eigenvectors V, curvatures h, rates r, mode amplitudes."""

    V: np.ndarray
    h: np.ndarray
    r: np.ndarray
    gamma: float
    T: float
    theta_star: np.ndarray
    amplitude: np.ndarray  # A per mode

    def modes(self, t) -> np.ndarray:
        """The mode coordinates x(t) = V^T (theta(t) - theta*), shape (len(t), d)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
        r, g, T = self.r, self.gamma, self.T
        growing = (r / (g + r)) * np.exp((g + r) * (t - T) - r * T)
        return self.amplitude * (np.exp(-r * t) + growing)

    def __call__(self, t) -> np.ndarray:
        """theta(t), shape (len(t), d)."""
        return self.theta_star + self.modes(t) @ self.V.T


def free_end_lq(H, theta_star, theta0, T: float, gamma: float, eta: float = 1.0, k: float = 1.0) -> FreeEndLQ:
    """The exact free-end optimum on [0, T] of the quadratic model with Hessian ``H`` (symmetric, > 0)."""
    H = np.asarray(H, dtype=np.float64)
    d = H.shape[0]
    if H.shape != (d, d) or not np.allclose(H, H.T, rtol=1e-12, atol=1e-14):
        raise ValueError(f"Invalid H value: shape {H.shape}; expected a symmetric (d, d) matrix.")
    theta_star, theta0 = check_vector(theta_star, "theta_star", d), check_vector(theta0, "theta0", d)
    T, gamma = check_positive(T, "T"), check_nonnegative(gamma, "gamma")
    eta, k = check_positive(eta, "eta"), check_positive(k, "k")
    h, V = np.linalg.eigh(H)
    if h.min() <= 0:
        raise ValueError(f"Invalid H value: smallest eigenvalue {h.min():.3g}; H must be positive definite.")
    r = eta * k * h / (np.sqrt(gamma**2 / 4 + eta * k * h) + gamma / 2)  # the same, without cancellation
    x0 = V.T @ (theta0 - theta_star)
    amplitude = x0 / (1 + (r / (gamma + r)) * np.exp(-(gamma + 2 * r) * T))
    return FreeEndLQ(V, h, r, gamma, T, theta_star, amplitude)
