"""The Euler-Lagrange equation of J, built by automatic differentiation or from the hand formula.

For the discounted Lagrangian e^{-gamma t} L0(theta, theta_dot), with momentum p = dL0/dtheta_dot,
the Euler-Lagrange equation d/dt (e^{-gamma t} p) = e^{-gamma t} dL0/dtheta reads

    M theta_ddot = dL0/dtheta + gamma p - C theta_dot,   M = d2L0/dtheta_dot2,  C = d2L0/dtheta_dot dtheta.

``theta_ddot_autodiff`` forms M, C, p by automatic differentiation of ``lagrangian0`` (so any L, G, f
works; the discount enters analytically, so e^{-gamma t} never underflows). All nodes are differentiated
at once: L0 at node n depends on (theta_n, theta_dot_n) only, so one reverse pass of the summed
Lagrangian S = sum_n L0(theta_n, theta_dot_n) gives dL0/dtheta and p at every node, and d more
(vector-Jacobian products with the unit vectors e_i, of sum_n p_n . e_i) give row i of M_n and C_n for
every n; the Jacobian of the first-order system likewise takes d products. ``theta_ddot_formula`` is
the paper's closed expression for constant G (its Euler–Lagrange equation, Section 2), used to cross-check it:

    theta_ddot = J_f theta_dot + gamma (theta_dot - f) - G^{-1} J_f^T G (theta_dot - f) + eta k G^{-1} grad L.
"""

from __future__ import annotations

import numpy as np
import torch

from .objective import Problem, lagrangian0

__all__ = ["theta_ddot_autodiff", "theta_ddot_formula", "first_order_rhs", "first_order_jac"]


def _grads(output, inputs, create_graph: bool):
    """d sum(output) / d inputs, with zeros for inputs ``output`` does not depend on."""
    grads = torch.autograd.grad(output, inputs, create_graph=create_graph, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for g, x in zip(grads, inputs, strict=True)]


def _theta_ddot_nodes(problem: Problem, theta: torch.Tensor, theta_dot: torch.Tensor, create_graph: bool):
    """theta_ddot at m nodes (tensors of shape (m, d) that require grad), by batched reverse-mode autodiff.

    M theta_ddot = dL0/dtheta + gamma p - C theta_dot, with p = dL0/dtheta_dot, M = dp/dtheta_dot,
    C = dp/dtheta; row i of M_n and C_n is the gradient of sum_n p_n[i] (nodes are independent).
    """
    d = theta.shape[-1]
    dL_dtheta, p = _grads(lagrangian0(problem, theta, theta_dot).sum(), (theta, theta_dot), create_graph=True)
    rows = [_grads(p[:, i].sum(), (theta, theta_dot), create_graph=create_graph) for i in range(d)]
    C = torch.stack([r[0] for r in rows], dim=1)  # (m, d, d): C[n, i, j] = d p_n[i] / d theta_n[j]
    M = torch.stack([r[1] for r in rows], dim=1)
    rhs = dL_dtheta + problem.gamma * p - (C @ theta_dot[..., None])[..., 0]
    return torch.linalg.solve(M, rhs)


def _leaf(x) -> tuple[torch.Tensor, bool]:
    is_numpy = not isinstance(x, torch.Tensor)
    t = torch.as_tensor(np.asarray(x) if is_numpy else x, dtype=torch.float64)
    return t.detach().reshape(-1, t.shape[-1]).requires_grad_(True), is_numpy


def theta_ddot_autodiff(problem: Problem, theta, theta_dot):
    """Acceleration of the optimal path from the Euler-Lagrange equation, by autodiff.

    Args:
        problem: the navigation problem (L, gamma, eta, k, G, f).
        theta, theta_dot: arrays of shape (..., d), numpy or torch.

    Returns:
        theta_ddot of shape (..., d), of the same kind as ``theta``.
    """
    th, is_numpy = _leaf(theta)
    thd, _ = _leaf(theta_dot)
    with torch.enable_grad():
        out = _theta_ddot_nodes(problem, th, thd, create_graph=False).detach().reshape(np.shape(theta))
    return out.numpy() if is_numpy else out


def theta_ddot_formula(problem: Problem, theta, theta_dot):
    """Acceleration from the paper's constant-G formula (numpy, shape (..., d)).

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


def first_order_rhs(problem: Problem, y: np.ndarray) -> np.ndarray:
    """Right-hand side of the first-order system y = (theta, theta_dot), y_dot = (theta_dot, theta_ddot).

    ``y`` has shape (2d, m) (scipy's solve_bvp layout); the result has the same shape.
    """
    d = problem.dim
    y = np.asarray(y, dtype=np.float64)
    theta_ddot = theta_ddot_autodiff(problem, y[:d].T, y[d:].T)
    return np.concatenate([y[d:], theta_ddot.T])


def first_order_jac(problem: Problem, y: np.ndarray) -> np.ndarray:
    """Jacobian d y_dot / d y of ``first_order_rhs`` by autodiff, shape (2d, 2d, m).

    The theta_dot rows are (0, I); row i of the theta_ddot block is, at every node at once, the gradient
    of sum_n theta_ddot_n[i] with respect to (theta, theta_dot): d reverse passes through the solve.
    """
    d = problem.dim
    y = np.asarray(y, dtype=np.float64)
    th, _ = _leaf(y[:d].T)
    thd, _ = _leaf(y[d:].T)
    m = th.shape[0]
    jac = np.zeros((2 * d, 2 * d, m))
    jac[:d, d:] = np.eye(d)[:, :, None]
    with torch.enable_grad():
        acc = _theta_ddot_nodes(problem, th, thd, create_graph=True)
        for i in range(d):
            g_theta, g_theta_dot = _grads(acc[:, i].sum(), (th, thd), create_graph=False)
            jac[d + i, :d] = g_theta.detach().numpy().T
            jac[d + i, d:] = g_theta_dot.detach().numpy().T
    return jac
