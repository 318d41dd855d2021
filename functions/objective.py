"""The learning objective J of the paper (Section 2) and its discretisation.

J[theta] = int_0^T e^{-gamma t} [ (1/(2 eta)) (theta_dot - f)^T G (theta_dot - f) + k L(theta) ] dt

``Problem`` bundles (L, gamma, eta, k, G, f) once, validated, so every solver takes the same
arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ._backend import const_like
from ._checks import check_nonnegative, check_positive
from .geometry import Metric, NoDrift, identity_metric
from .protocols import Drift, Landscape, MetricLike

__all__ = ["Problem", "lagrangian0", "lagrangian", "discrete_action", "kinetic_per_step"]


@dataclass(frozen=True)
class Problem:
    """A loss-landscape navigation problem: everything J needs except the path.

    Args:
        loss: a landscape L with ``dim`` and a numpy/torch ``__call__`` (see landscapes).
        gamma: temporal discount rate, >= 0 (1/gamma is the planning horizon).
        eta: learning-rate-like weight of the kinetic term, > 0.
        k: weight of the loss, > 0.
        metric: constant metric G (a ``Metric`` or a symmetric positive-definite matrix); the identity when omitted.
        drift: default dynamics f; none when omitted.
    """

    loss: object
    gamma: float = 0.0
    eta: float = 1.0
    k: float = 1.0
    metric: Metric = field(default=None)
    drift: object = field(default=None)

    def __post_init__(self):
        object.__setattr__(self, "gamma", check_nonnegative(self.gamma, "gamma"))
        object.__setattr__(self, "eta", check_positive(self.eta, "eta"))
        object.__setattr__(self, "k", check_positive(self.k, "k"))
        dim = getattr(self.loss, "dim", None)
        if (
            not isinstance(self.loss, Landscape)
            or isinstance(dim, bool)
            or not isinstance(dim, int | np.integer)
            or dim < 1
        ):
            raise ValueError(
                f"Invalid loss: {self.loss!r}; expected a landscape with a dimension dim >= 1 and a __call__ "
                "(see functions.landscapes)."
            )
        dim = int(dim)
        if self.metric is None:
            object.__setattr__(self, "metric", identity_metric(dim))
        elif not isinstance(self.metric, MetricLike):  # a matrix: G itself
            object.__setattr__(self, "metric", Metric(self.metric))
        if self.drift is None:
            object.__setattr__(self, "drift", NoDrift())
        if self.metric.dim != dim:
            raise ValueError(
                f"Invalid metric shape: G is {self.metric.dim}x{self.metric.dim} but the loss has dimension {dim}."
            )
        if not isinstance(self.drift, Drift):
            raise ValueError(
                f"Invalid drift: {self.drift!r}; expected a drift f with __call__ and jacobian (functions.geometry)."
            )
        if getattr(self.drift, "dim", dim) != dim:
            raise ValueError(f"Invalid drift dimension: {self.drift.dim}; the loss has dimension {dim}.")
        _check_differentiable(self.loss, dim)

    def check_start(self, theta0, name: str = "theta0") -> None:
        """Raise ValueError unless the loss is finite at ``theta0`` (a NaN loss is named before any solve)."""
        with torch.no_grad():
            value = self.loss(torch.as_tensor(np.asarray(theta0, dtype=np.float64)))
        if not bool(torch.isfinite(torch.as_tensor(value)).all()):
            raise ValueError(f"Invalid loss: it is {float(value)} at {name} = {np.asarray(theta0).tolist()}; the loss "
                             "must be finite where the path starts.")  # fmt: skip

    @property
    def dim(self) -> int:
        """Number of parameters d."""
        return int(self.loss.dim)


def lagrangian0(problem: Problem, theta, theta_dot):
    """Undiscounted Lagrangian L0 = (1/(2 eta)) |theta_dot - f(theta)|_G^2 + k L(theta).

    Works on numpy arrays and torch tensors of shape (..., d).
    """
    u = theta_dot - problem.drift(theta)
    return problem.metric.sq_norm(u) / (2 * problem.eta) + problem.k * problem.loss(theta)


def lagrangian(problem: Problem, t, theta, theta_dot):
    """Discounted Lagrangian e^{-gamma t} L0(theta, theta_dot), the integrand of J."""
    exp = torch.exp if isinstance(theta, torch.Tensor) else np.exp
    return exp(-problem.gamma * const_like(t, theta)) * lagrangian0(problem, theta, theta_dot)


def _check_path(path, T):
    T = check_positive(T, "T")
    if path.ndim != 2 or path.shape[0] < 2:
        raise ValueError(f"Invalid path shape: {tuple(path.shape)}; expected (N, d) with N >= 2 time points.")
    return T


def discrete_action(problem: Problem, path, T: float):
    """Discretised action of Figure 1: mean over the N-1 intervals of the discounted Lagrangian.

    S = (1/(N-1)) sum_{n=0}^{N-2} e^{-gamma t_n} L0(theta_n, (theta_{n+1} - theta_n)/dt),
    t_n = n dt, dt = T/(N-1): forward differences, every term evaluated at the interval's left end.
    (S approximates J/T.) ``path`` has shape (N, d), numpy or torch; the result is of the same kind.
    """
    T = _check_path(path, T)
    if path.shape[1] != problem.dim:
        raise ValueError(f"Invalid path shape: {tuple(path.shape)}; expected (N, {problem.dim}).")
    n = path.shape[0] - 1
    dt = T / n
    theta, theta_dot = path[:-1], (path[1:] - path[:-1]) / dt
    if isinstance(path, torch.Tensor):
        t = torch.arange(n, dtype=path.dtype) * dt
    else:
        t = np.arange(n) * dt
    return lagrangian(problem, t, theta, theta_dot).mean()


def kinetic_per_step(path):
    """Kinetic term of Figure 1c per step: (1/2) |theta_{n+1} - theta_n|^2, shape (N-1,)."""
    path = np.asarray(path, dtype=np.float64)
    return 0.5 * np.sum(np.diff(path, axis=0) ** 2, axis=-1)


def _check_differentiable(loss, dim: int) -> None:
    """The solvers build the Euler-Lagrange equation by torch autodiff: a loss must take and return torch tensors."""
    probe = torch.zeros(dim, dtype=torch.float64, requires_grad=True)
    try:
        value = loss(probe)
    except Exception as err:
        raise ValueError(
            f"Invalid loss: {loss!r} fails on a torch tensor ({type(err).__name__}: {err}); the solvers differentiate "
            "it with torch autodiff, so it must be written with torch operations (see functions.landscapes)."
        ) from None
    if not isinstance(value, torch.Tensor) or value.grad_fn is None:
        raise ValueError(
            f"Invalid loss: {loss!r} returned {type(value).__name__} without a torch gradient; the solvers "
            "differentiate it with torch autodiff, so it must be written with torch operations "
            "(see functions.landscapes)."
        )
