"""Parameter-space geometry: constant metrics G and drifts f (the learner's default dynamics).

A metric weighs the cost of a velocity, (theta_dot - f)^T G (theta_dot - f); a drift f(theta) is
how parameters move when the learner does nothing. Drifts take ``theta`` of shape ``(..., d)``
from numpy or torch and return the same kind; ``jacobian`` returns J_f = df/dtheta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._backend import const_like
from ._checks import check_int, check_nonnegative, check_positive_array, check_positive_definite, check_vector
from .protocols import Frozen

__all__ = [
    "Metric",
    "identity_metric",
    "diagonal_metric",
    "NoDrift",
    "RotationDrift",
    "DecayDrift",
    "ROTATION_GENERATOR",
]

#: A = [[0, -1], [1, 0]]: the generator of counter-clockwise rotations in the plane.
ROTATION_GENERATOR = np.array([[0.0, -1.0], [1.0, 0.0]])


class Metric(Frozen):
    """A constant, symmetric positive-definite metric G of parameter space.

    Args:
        G: the (d, d) matrix; checked to be symmetric positive definite.
    """

    def __init__(self, G):
        self.G = check_positive_definite(G, "G")
        self.G_inv = np.linalg.inv(self.G)
        self.dim = self.G.shape[0]
        self.is_diagonal = bool(np.all(self.G == np.diag(np.diag(self.G))))
        self._freeze()

    def __repr__(self) -> str:
        return f"Metric(G={self.G.tolist()})"

    def sq_norm(self, v):
        """|v|_G^2 = v^T G v, over the last axis of ``v`` (numpy or torch)."""
        return ((v @ const_like(self.G, v)) * v).sum(-1)


def identity_metric(dim: int) -> Metric:
    """G = I, the Euclidean metric of plain gradient descent."""
    return Metric(np.eye(dim))


def diagonal_metric(g) -> Metric:
    """G = diag(g), g_i > 0: direction i costs g_i per unit squared speed (Figure 3b)."""
    g = check_positive_array(check_vector(g, "g"), "g")  # every diagonal entry > 0
    return Metric(np.diag(g))


@dataclass(frozen=True)
class NoDrift:
    """f(theta) = 0: full controllability, the paper's default."""

    def __call__(self, theta):
        return 0 * theta

    def jacobian(self, theta):
        """J_f = 0."""
        return 0 * theta[..., None] * theta[..., None, :]


class _LinearDrift(Frozen):
    """f(theta) = M theta for a constant matrix M (set by subclasses)."""

    M: np.ndarray

    def __call__(self, theta):
        return theta @ const_like(self.M.T, theta)

    def jacobian(self, theta):
        """J_f = M, broadcast over the leading axes of ``theta``."""
        return const_like(self.M, theta) + 0 * theta[..., None]


class RotationDrift(_LinearDrift):
    """Rotational drift f(theta) = q A theta, A = [[0, -1], [1, 0]] (counter-clockwise, Figure 3c).

    Args:
        q: angular speed of the drift (radians per unit time), >= 0.
    """

    def __init__(self, q: float):
        self.q = check_nonnegative(q, "q")
        self.M = self.q * ROTATION_GENERATOR
        self.dim = 2
        self._freeze()

    def __repr__(self) -> str:
        return f"RotationDrift(q={self.q})"


class DecayDrift(_LinearDrift):
    """Decay drift f(theta) = -j theta: weight decay as the default dynamics (Figure 3d).

    Args:
        j: decay rate, >= 0.
        dim: number of parameters.
    """

    def __init__(self, j: float, dim: int = 2):
        self.j = check_nonnegative(j, "j")
        self.dim = check_int(dim, "dim", 1)
        self.M = -self.j * np.eye(self.dim)
        self._freeze()

    def __repr__(self) -> str:
        return f"DecayDrift(j={self.j}, dim={self.dim})"
