"""E4 of the real-model test (beyond the paper): is Ballistic the diagonal form of the far-sighted rule?

For gamma -> 0 on a quadratic loss the optimal velocity is theta_dot = -sqrt(eta k) H^{1/2} (theta - theta*) =
-sqrt(eta k) H^{-1/2} grad L (Sections 4-5; each mode moves at rate sqrt(eta k h)). A learner without H uses a
belief about curvature; Ballistic's is diagonal, v = E g_B^2 from minibatch gradients (the Fisher's diagonal for a
likelihood loss, ~ diag H), and Adam adds a gradient belief m. Along the optimal path of a real loss, each candidate
direction at theta is compared with the optimal velocity by its cosine:

    exact       -H(theta)^{-1/2} grad L              (the gamma -> 0 rule with the true local curvature)
    diagonal    -diag(H(theta))^{-1/2} grad L        (its diagonal approximation)
    ballistic   -(s_B(theta) + eps)^{-1/2} grad L    (Ballistic: v = s_B, the minibatch second moment, batch B)
    adam        -m / (sqrt(s_B) + eps)               (Adam: m the gradient averaged along the path with memory tau1)
    gradient    -grad L                              (gradient descent, the gamma -> infinity rule)

The optimal path's velocity is taken on each step of its grid, (theta_{n+1} - theta_n) / (t_{n+1} - t_n), and the
directions at the step's midpoint, where that difference is second-order accurate.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int, check_positive
from .paths import check_grid

__all__ = ["DIRECTIONS", "cosines", "path_momentum"]

#: The candidate directions, in the order they are reported.
DIRECTIONS = ("exact", "diagonal", "ballistic", "adam", "gradient")


def path_momentum(t, grads, tau1: float) -> np.ndarray:
    """m(t_n) of m_dot = (grad L(theta(t)) - m) / tau1 along a path, m(0) = grad L(theta(0)); ``grads`` (N, d) at
    the nodes, linear between them (the exact solution of that piecewise-linear input, step by step)."""
    t = check_grid(t)
    tau1 = check_positive(tau1, "tau1")
    grads = np.asarray(grads, dtype=np.float64)
    m = np.empty_like(grads)
    m[0] = grads[0]
    for n, D in enumerate(np.diff(t)):
        x = D / tau1
        decay = np.exp(-x)
        # m(t+D) for g linear from g0 to g1: decay m + (1 - decay) g0 + (g1 - g0) (1 - (1 - decay) / x)
        ramp = 1 - (-np.expm1(-x)) / x if x > 1e-8 else x / 2
        m[n + 1] = decay * m[n] + (1 - decay) * grads[n] + (grads[n + 1] - grads[n]) * ramp
    return m


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def cosines(model, t, theta, *, batch: int = 128, eps: float = 1e-8, tau1: float, every: int = 1) -> dict:
    """Cosines between the optimal velocity on each ``every``-th step of the path ``theta`` (N, d) on the grid
    ``t`` and each direction of ``DIRECTIONS`` at the step's midpoint (module docstring).

    Returns {"t": step midpoints, name: cosines} (lists). ``model`` gives ``grad``, ``hessian`` and
    ``gradient_and_second_moment``; Adam's m is ``path_momentum`` of the node gradients, averaged to the midpoint.
    """
    t = check_grid(t)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (t.size, model.dim):
        raise ValueError(f"Invalid theta shape: {theta.shape}; expected ({t.size}, {model.dim}) (one row per time).")
    batch, every = check_int(batch, "batch", 1), check_int(every, "every", 1)
    eps = check_positive(eps, "eps")
    m = path_momentum(t, np.array([model.grad(th) for th in theta]), tau1)
    out = {"t": [], **{name: [] for name in DIRECTIONS}}
    for n in range(0, t.size - 1, every):
        velocity = (theta[n + 1] - theta[n]) / (t[n + 1] - t[n])
        mid = (theta[n] + theta[n + 1]) / 2
        g, s = model.gradient_and_second_moment(mid, batch)
        H = model.hessian(mid)
        h, V = np.linalg.eigh(H)
        direction = {
            "exact": -(V @ ((V.T @ g) / np.sqrt(h))),
            "diagonal": -g / np.sqrt(np.diag(H)),
            "ballistic": -g / np.sqrt(s + eps),
            "adam": -((m[n] + m[n + 1]) / 2) / (np.sqrt(s) + eps),
            "gradient": -g,
        }
        out["t"].append(float((t[n] + t[n + 1]) / 2))
        for name in DIRECTIONS:
            out[name].append(_cos(velocity, direction[name]))
    return out
