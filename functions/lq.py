"""The exact optimum at a finite horizon with a free end, for a quadratic loss: the reference of the real-model test.

For L(theta) = 1/2 (theta - theta*)^T H (theta - theta*), G = I and no drift, the Euler-Lagrange equation
theta'' = gamma theta' + eta k H (theta - theta*) separates along H's eigenvectors. A mode x(t) with curvature
h solves x'' - gamma x' - eta k h x = 0, whose roots are -r and gamma + r with r = sqrt(gamma^2/4 + eta k h) -
gamma/2. With x(0) = x0 and the natural (free-end) condition x'(T) = 0 at a finite T:

    x(t) = A [e^{-r t} + (r / (gamma + r)) e^{(gamma + r)(t - T) - r T}],
    A = x0 / (1 + (r / (gamma + r)) e^{-(gamma + 2 r) T})

written so that no exponential overflows for any gamma, r and T (every exponent is <= 0 on [0, T]). As T -> oo
it is the closed form x0 e^{-r t} of ``closed_form``. The cumulative objective J of that path is the same
integral in closed form: integrating the kinetic term by parts with the Euler-Lagrange equation and x'(T) = 0,

    J* = sum_modes -x0 x'(0) / (2 eta) = sum_modes x0 A r (1 - e^{-(gamma + 2 r) T}) / (2 eta)

(``FreeEndLQ.J``). ``path_J`` is the exact J of any piecewise-linear path on the same quadratic loss (L is a
quadratic in t on each piece, integrated against e^{-gamma t} in closed form), so a solver's path can be
checked against J* with no quadrature error: it can never fall below it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_nonnegative, check_positive, check_vector
from .newton_krylov import exponential_weights

__all__ = ["FreeEndLQ", "free_end_lq", "path_J", "rates"]


def rates(h, gamma: float, eta: float = 1.0, k: float = 1.0) -> np.ndarray:
    """Each mode's rate r(h) = sqrt(gamma^2/4 + eta k h) - gamma/2, written without cancellation."""
    h = np.asarray(h, dtype=np.float64)
    return eta * k * h / (np.sqrt(gamma**2 / 4 + eta * k * h) + gamma / 2)


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
    eta: float = 1.0

    def modes(self, t) -> np.ndarray:
        """The mode coordinates x(t) = V^T (theta(t) - theta*), shape (len(t), d)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
        r, g, T = self.r, self.gamma, self.T
        growing = (r / (g + r)) * np.exp((g + r) * (t - T) - r * T)
        return self.amplitude * (np.exp(-r * t) + growing)

    def __call__(self, t) -> np.ndarray:
        """theta(t), shape (len(t), d)."""
        return self.theta_star + self.modes(t) @ self.V.T

    @property
    def J(self) -> float:
        """The optimal objective J* on [0, T] (module docstring)."""
        r, g, T = self.r, self.gamma, self.T
        x0 = self.amplitude * (1 + (r / (g + r)) * np.exp(-(g + 2 * r) * T))
        return float(np.sum(x0 * self.amplitude * r * -np.expm1(-(g + 2 * r) * T)) / (2 * self.eta))


def free_end_lq(
    H, theta_star, theta0, T: float, gamma: float, eta: float = 1.0, k: float = 1.0, *, eig=None
) -> FreeEndLQ:
    """The exact free-end optimum on [0, T] of the quadratic model with Hessian ``H`` (symmetric, > 0).

    ``eig``: H's eigenpairs (h, V) when already computed (H may then be None); else ``numpy.linalg.eigh(H)``.
    """
    if eig is None:
        H = np.asarray(H, dtype=np.float64)
        d = H.shape[0]
        if H.shape != (d, d) or not np.allclose(H, H.T, rtol=1e-12, atol=1e-14):
            raise ValueError(f"Invalid H value: shape {H.shape}; expected a symmetric (d, d) matrix.")
        h, V = np.linalg.eigh(H)
    else:
        h, V = (np.asarray(a, dtype=np.float64) for a in eig)
        d = h.shape[0]
        if V.shape != (d, d):
            raise ValueError(f"Invalid eig value: shapes {h.shape}, {V.shape}; expected (d,) and (d, d).")
    theta_star, theta0 = check_vector(theta_star, "theta_star", d), check_vector(theta0, "theta0", d)
    T, gamma = check_positive(T, "T"), check_nonnegative(gamma, "gamma")
    eta, k = check_positive(eta, "eta"), check_positive(k, "k")
    if h.min() <= 0:
        raise ValueError(f"Invalid H value: smallest eigenvalue {h.min():.3g}; H must be positive definite.")
    r = rates(h, gamma, eta, k)
    x0 = V.T @ (theta0 - theta_star)
    amplitude = x0 / (1 + (r / (gamma + r)) * np.exp(-(gamma + 2 * r) * T))
    return FreeEndLQ(V, h, r, gamma, T, theta_star, amplitude, eta)


def path_J(H, theta_star, t, theta, gamma: float, eta: float = 1.0, k: float = 1.0) -> float:
    """The exact J of the piecewise-linear path through ``theta`` (N, d) at times ``t`` on the quadratic loss.

    On piece n, e(u) = theta(t_n + u D_n) - theta* = (1-u) e_n + u e_{n+1}, so
    J_n = e^{-gamma t_n} D_n [ phi0 |e_{n+1} - e_n|^2 / (2 eta D_n^2)
                               + (k/2) (w11 e_n'He_n + 2 w12 e_n'He_{n+1} + w22 e_{n+1}'He_{n+1}) ]
    with w22 = int u^2 e^{-xu}, w12 = phi_b - w22, w11 = phi_a - w12 (x = gamma D_n; ``exponential_weights``).
    """
    t = np.asarray(t, dtype=np.float64)
    E = np.asarray(theta, dtype=np.float64) - np.asarray(theta_star, dtype=np.float64)
    HE = E @ np.asarray(H, dtype=np.float64)
    D = np.diff(t)
    w = exponential_weights(gamma * D)
    w22 = w["u2"]
    w12 = w["phi_b"] - w22
    w11 = w["phi_a"] - w12
    quad = (w11 * np.sum(E[:-1] * HE[:-1], 1) + 2 * w12 * np.sum(E[:-1] * HE[1:], 1)
            + w22 * np.sum(E[1:] * HE[1:], 1))  # fmt: skip
    kinetic = w["phi0"] * np.sum(np.diff(E, axis=0) ** 2, 1) / (2 * eta * D**2)
    return float(np.sum(np.exp(-gamma * t[:-1]) * D * (kinetic + 0.5 * k * quad)))
