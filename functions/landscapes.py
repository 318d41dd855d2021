"""Loss landscapes L(theta) of the paper's examples, usable from numpy and torch alike.

Every landscape takes ``theta`` with the parameter index last (shape ``(..., d)``), so a whole
path or a grid evaluates in one call, and returns an array of the same kind (numpy in, numpy
out; torch in, torch out, differentiable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._backend import const_like as _const
from ._backend import stack_last as _stack
from ._checks import check_finite, check_positive, check_positive_array, check_vector
from .protocols import Frozen

__all__ = ["DoubleWell", "Quadratic", "QuadraticModel", "schematic_double_well"]


@dataclass(frozen=True)
class DoubleWell:
    """Tilted double well of Figure 1b.

    L(theta) = a (theta_1^2 - b)^2 + c theta_2^2 + d theta_1, with a, b, c > 0 and d finite.
    With d < 0 the well at theta_1 > 0 is the global minimum, the one at theta_1 < 0 a local one.
    """

    a: float = 1.0
    b: float = 1.0
    c: float = 1.0
    d: float = -0.5
    dim: int = 2

    def __post_init__(self):
        for name in ("a", "b", "c"):
            object.__setattr__(self, name, check_positive(getattr(self, name), name))
        object.__setattr__(self, "d", check_finite(self.d, "d"))
        if self.dim != 2:
            raise ValueError(f"Invalid dim value: {self.dim}; the double well is 2-dimensional.")

    def __call__(self, theta):
        x, y = theta[..., 0], theta[..., 1]
        w = x * x - self.b  # products, not **: nested forward-over-reverse autodiff of pow misbehaves
        return self.a * w * w + self.c * y * y + self.d * x

    def grad(self, theta):
        """dL/dtheta = (4 a theta_1 (theta_1^2 - b) + d, 2 c theta_2)."""
        x, y = theta[..., 0], theta[..., 1]
        return _stack([4 * self.a * x * (x * x - self.b) + self.d, 2 * self.c * y], theta)

    def hessian(self, theta):
        """d2L/dtheta2 = diag(4 a (3 theta_1^2 - b), 2 c)."""
        x = theta[..., 0]
        hxx = 4 * self.a * (3 * x * x - self.b)
        zero = 0 * x
        row1 = _stack([hxx, zero], theta)
        row2 = _stack([zero, zero + 2 * self.c], theta)
        return _stack([row1, row2], theta).swapaxes(-1, -2)

    def stationary_theta1(self) -> np.ndarray:
        """Sorted real roots of dL/dtheta_1 = 4 a x (x^2 - b) + d = 0 (theta_2 = 0 at every stationary point)."""
        roots = np.roots([4 * self.a, 0.0, -4 * self.a * self.b, self.d])
        return np.sort(roots[np.abs(roots.imag) < 1e-12].real)

    def minima(self) -> np.ndarray:
        """The minima (rows, sorted by theta_1): stationary points with L'' > 0."""
        roots = self.stationary_theta1()
        roots = roots[4 * self.a * (3 * roots**2 - self.b) > 0]
        return np.stack([roots, np.zeros_like(roots)], axis=-1)

    def basin(self, theta) -> str:
        """'global' or 'local': the gradient-flow basin of ``theta`` (theta_1 against the barrier).

        The loss separates, so gradient flow in theta_1 is one-dimensional and the basins are split at the
        barrier theta_1 = x_b, the middle root of dL/dtheta_1 = 0. With a single minimum (a tilt |d| large
        enough to remove the other well) every point is in the global basin.
        """
        roots = self.stationary_theta1()
        if len(roots) < 3:
            return "global"
        minima = self.minima()
        global_right = self(minima[1]) < self(minima[0])
        right = float(np.asarray(theta)[0]) > roots[1]
        return "global" if right == global_right else "local"


class Quadratic(Frozen):
    """Diagonal quadratic loss of the paper's closed forms (Section 3, Figure 2).

    L(theta) = 1/2 sum_i h_i (theta_i - mu_i)^2, Hessian H = diag(h), minimum at mu.

    Args:
        h: curvatures h_i > 0, one per direction.
        mu: location of the minimum; zeros when omitted.
    """

    def __init__(self, h, mu=None):
        self.h = check_positive_array(check_vector(h, "h"), "h")  # every curvature h_i > 0
        self.dim = self.h.shape[0]
        self.mu = np.zeros(self.dim) if mu is None else check_vector(mu, "mu", self.dim)
        self._freeze()

    def __repr__(self) -> str:
        return f"Quadratic(h={self.h.tolist()}, mu={self.mu.tolist()})"

    def __call__(self, theta):
        x = theta - _const(self.mu, theta)
        return 0.5 * (_const(self.h, theta) * x * x).sum(-1)

    def grad(self, theta):
        """dL/dtheta = h * (theta - mu)."""
        return _const(self.h, theta) * (theta - _const(self.mu, theta))

    def hessian(self, theta):
        """d2L/dtheta2 = diag(h), broadcast over the leading axes of ``theta``."""
        H = _const(np.diag(self.h), theta)
        return H + 0 * theta[..., None]


class QuadraticModel(Frozen):
    """A full quadratic model L(theta) = 1/2 (theta - theta*)^T H (theta - theta*) (H symmetric, dense).

    The exact local model of any loss at its minimum: the real-model test of the path solver (the Hessian of a
    real model at theta*, for which ``lq.free_end_lq`` is the exact optimum).
    """

    def __init__(self, H, theta_star):
        H = np.asarray(H, dtype=np.float64)
        d = H.shape[0] if H.ndim == 2 else -1
        if H.shape != (d, d) or not np.all(np.isfinite(H)) or not np.allclose(H, H.T, rtol=1e-12, atol=1e-14):
            raise ValueError(f"Invalid H value: shape {H.shape}; expected a finite symmetric (d, d) matrix.")
        self.H, self.theta_star, self.dim = H, check_vector(theta_star, "theta_star", d), d
        self._freeze()

    def __repr__(self) -> str:
        return f"QuadraticModel(dim={self.dim})"

    def __call__(self, theta):
        x = theta - _const(self.theta_star, theta)
        return 0.5 * ((x @ _const(self.H, theta)) * x).sum(-1)

    def grad(self, theta):
        """H (theta - theta*), shape (..., d)."""
        return (theta - _const(self.theta_star, theta)) @ _const(self.H, theta)

    def hessian(self, theta=None) -> np.ndarray:
        """H, the same at every theta."""
        return self.H

    def linearise_path(self, theta):
        """(L, grad L, V -> V H) at every row of ``theta`` (N, d): one matrix product each."""
        X = np.asarray(theta, dtype=np.float64) - self.theta_star
        HX = X @ self.H
        return 0.5 * np.sum(X * HX, axis=1), HX, lambda V: np.asarray(V) @ self.H


def schematic_double_well(X, Y):
    """Surface of Figure 1a: Z = -0.5 exp(-((X+2)^2 + Y^2)) - exp(-((X-2)^2 + Y^2)).

    A shallow (local) well at X = -2 and the deep (global) one at X = +2: the same arrangement as the
    double well of panel b, whose global minimum is at theta_1 > 0.
    """
    return -0.5 * np.exp(-((X + 2) ** 2 + Y**2)) - np.exp(-((X - 2) ** 2 + Y**2))
