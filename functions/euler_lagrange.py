"""The Euler-Lagrange equation of J, built by automatic differentiation or from the hand formula.

For the discounted Lagrangian e^{-gamma t} L0(theta, theta_dot), with momentum p = dL0/dtheta_dot,
the Euler-Lagrange equation d/dt (e^{-gamma t} p) = e^{-gamma t} dL0/dtheta reads

    M theta_ddot = dL0/dtheta + gamma p - C theta_dot,   M = d2L0/dtheta_dot2,  C = d2L0/dtheta_dot dtheta.

``theta_ddot_autodiff`` forms M, C, p with torch.func from ``lagrangian0`` (so any L, G, f works;
the discount enters analytically, so e^{-gamma t} never underflows). ``theta_ddot_formula`` is
SPEC section 1's closed expression for constant G, used to cross-check it:

    theta_ddot = J_f theta_dot + gamma (theta_dot - f) - G^{-1} J_f^T G (theta_dot - f) + eta k G^{-1} grad L.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.func import grad, jacrev, vmap

from .objective import Problem, lagrangian0

__all__ = ["theta_ddot_autodiff", "theta_ddot_formula", "first_order_rhs", "first_order_jac"]


def _theta_ddot_single(problem: Problem, theta, theta_dot):
    """theta_ddot at one point (torch tensors of shape (d,)), by autodiff of L0."""

    def L0(th, thd):
        return lagrangian0(problem, th, thd)

    dL_dtheta = grad(L0, argnums=0)(theta, theta_dot)
    p_fn = grad(L0, argnums=1)
    p = p_fn(theta, theta_dot)
    M = jacrev(p_fn, argnums=1)(theta, theta_dot)
    C = jacrev(p_fn, argnums=0)(theta, theta_dot)
    rhs = dL_dtheta + problem.gamma * p - C @ theta_dot
    return torch.linalg.solve(M, rhs)


def _batched(fn, theta, theta_dot):
    """Apply a single-point torch function over leading axes of numpy or torch inputs."""
    is_numpy = not isinstance(theta, torch.Tensor)
    th = torch.as_tensor(np.asarray(theta) if is_numpy else theta, dtype=torch.float64)
    thd = torch.as_tensor(np.asarray(theta_dot) if is_numpy else theta_dot, dtype=torch.float64)
    batch = th.shape[:-1]
    out = vmap(fn)(th.reshape(-1, th.shape[-1]), thd.reshape(-1, th.shape[-1]))
    out = out.reshape(*batch, *out.shape[1:])
    return out.detach().numpy() if is_numpy else out


def theta_ddot_autodiff(problem: Problem, theta, theta_dot):
    """Acceleration of the optimal path from the Euler-Lagrange equation, by autodiff.

    Args:
        problem: the navigation problem (L, gamma, eta, k, G, f).
        theta, theta_dot: arrays of shape (..., d), numpy or torch.

    Returns:
        theta_ddot of shape (..., d), of the same kind as ``theta``.
    """
    return _batched(lambda th, thd: _theta_ddot_single(problem, th, thd), theta, theta_dot)


def theta_ddot_formula(problem: Problem, theta, theta_dot):
    """Acceleration from SPEC section 1's constant-G formula (numpy, shape (..., d)).

    theta_ddot = J_f theta_dot + gamma u - G^{-1} J_f^T G u + eta k G^{-1} grad L,  u = theta_dot - f.
    """
    theta = np.asarray(theta, dtype=np.float64)
    theta_dot = np.asarray(theta_dot, dtype=np.float64)
    G, G_inv = problem.metric.G, problem.metric.G_inv
    J = problem.drift.jacobian(theta)
    u = theta_dot - problem.drift(theta)
    JTGu = np.einsum("...ji,jk,...k->...i", J, G, u)
    return (
        np.einsum("...ij,...j->...i", J, theta_dot)
        + problem.gamma * u
        - JTGu @ G_inv.T
        + problem.eta * problem.k * problem.loss.grad(theta) @ G_inv.T
    )


def _state_rhs_single(problem: Problem, y):
    d = problem.dim
    theta, theta_dot = y[:d], y[d:]
    return torch.cat([theta_dot, _theta_ddot_single(problem, theta, theta_dot)])


def first_order_rhs(problem: Problem, y: np.ndarray) -> np.ndarray:
    """Right-hand side of the first-order system y = (theta, theta_dot), y_dot = (theta_dot, theta_ddot).

    ``y`` has shape (2d, m) (scipy's solve_bvp layout); the result has the same shape.
    """
    y_t = torch.as_tensor(np.asarray(y, dtype=np.float64).T)
    out = vmap(lambda yy: _state_rhs_single(problem, yy))(y_t)
    return out.detach().numpy().T


def first_order_jac(problem: Problem, y: np.ndarray) -> np.ndarray:
    """Jacobian d y_dot / d y of ``first_order_rhs`` by autodiff, shape (2d, 2d, m).

    Reverse mode: under torch 2.13, vmap over jacfwd of this function returns garbage (inf) for
    some inputs, while vmap over jacrev agrees with finite differences (tests/test_euler_lagrange).
    """
    y_t = torch.as_tensor(np.asarray(y, dtype=np.float64).T)
    jac = vmap(jacrev(lambda yy: _state_rhs_single(problem, yy)))(y_t)
    return jac.detach().numpy().transpose(1, 2, 0)
