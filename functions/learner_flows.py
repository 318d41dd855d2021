"""Continuous-time learners for E3 of the real-model test (beyond the paper): the flows whose J is compared with J*.

Each learner is an ODE for its state, started at theta0, integrated by BDF (the flows are stiff: their rates span
the Hessian's spectrum) and read at the nodes of a time grid:

    gradient flow    theta_dot = -alpha grad L                                              constants: alpha
    heavy ball       theta_ddot + a theta_dot + b grad L = 0,  theta_dot(0) = 0              a, b
    Ballistic flow   theta_dot = -alpha grad L / sqrt(v + eps),  v_dot = (s_B - v) / tau      alpha, tau
    Adam flow        theta_dot = -alpha m / (sqrt(v) + eps),  m_dot = (grad L - m) / tau1,
                     v_dot = (s_B - v) / tau2                                                alpha, tau1, tau2

s_B(theta) is the expected squared minibatch gradient per coordinate (``LogisticRegression.
minibatch_second_moment``): the Ballistic and Adam optimisers' v averages squared minibatch gradients, and the
flow keeps its mean (full-batch g^2 would vanish at theta*, making the rule sign descent). These are the limits
of the discrete rules (``optimisers.Ballistic``) for small steps: lr = alpha dt and beta = 1 - dt / tau. The
beliefs start at their targets, m(0) = grad L(theta0) and v(0) = s_B(theta0), the continuous counterpart of Adam's
bias correction (its first step uses g_1 and g_1^2). v is integrated as log v (it stays positive and its error
control is relative).

A learner's J is the discrete J of the path sampled at the grid's nodes (``newton_krylov.discrete_J``), the same
functional the optimal path minimises on that grid, so J >= J* up to the solver's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ._checks import check_choice, check_int, check_positive, check_vector
from .errors import ConvergenceError
from .paths import check_grid

__all__ = ["LEARNERS", "Learner", "learner_path"]


@dataclass(frozen=True)
class Learner:
    """A flow family: its name, the names of its free constants, and its state size in units of d."""

    name: str
    constants: tuple[str, ...]
    blocks: int


#: The learners of E3, by key.
LEARNERS = {
    "gf": Learner("gradient flow", ("alpha",), 1),
    "heavy_ball": Learner("heavy ball", ("a", "b"), 2),
    "ballistic": Learner("Ballistic flow", ("alpha", "tau"), 2),
    "adam": Learner("Adam flow", ("alpha", "tau1", "tau2"), 3),
}


class _TooStiff(Exception):
    """The integrator took more right-hand-side evaluations than allowed (constants far from sensible)."""


def _system(key: str, model, c: dict, batch: int, eps: float, d: int):
    """(rhs, jac, state0-builder) of learner ``key``; the Jacobians drop the derivative of s_B's spread (BDF needs
    an approximate Jacobian only: its Newton iterations converge with it, the error control does not use it)."""
    if key == "gf":

        def rhs(th):
            return -c["alpha"] * model.grad(th)

        def jac(th):
            return -c["alpha"] * model.hessian(th)

        return rhs, jac, lambda th: th

    if key == "heavy_ball":

        def rhs(y):
            th, u = y[:d], y[d:]
            return np.concatenate([u, -c["a"] * u - c["b"] * model.grad(th)])

        def jac(y):
            J = np.zeros((2 * d, 2 * d))
            J[:d, d:] = np.eye(d)
            J[d:, :d] = -c["b"] * model.hessian(y[:d])
            J[d:, d:] = -c["a"] * np.eye(d)
            return J

        return rhs, jac, lambda th: np.concatenate([th, np.zeros(d)])

    def moments(th):
        return model.gradient_and_second_moment(th, batch)

    if key == "ballistic":

        def rhs(y):
            th, w = y[:d], y[d:]
            v = np.exp(w)
            g, s = moments(th)
            return np.concatenate([-c["alpha"] * g / np.sqrt(v + eps), (s / v - 1) / c["tau"]])

        def jac(y):
            th, w = y[:d], y[d:]
            v, (g, s), H = np.exp(w), moments(th), model.hessian(th)
            J = np.zeros((2 * d, 2 * d))
            J[:d, :d] = -c["alpha"] * H / np.sqrt(v + eps)[:, None]
            J[:d, d:] = np.diag(c["alpha"] * g * v / (2 * (v + eps) ** 1.5))
            J[d:, :d] = 2 * g[:, None] * H / (v * c["tau"])[:, None]
            J[d:, d:] = np.diag(-s / (v * c["tau"]))
            return J

        return rhs, jac, lambda th: np.concatenate([th, np.log(moments(th)[1])])

    def rhs(y):
        th, m, w = y[:d], y[d : 2 * d], y[2 * d :]
        v = np.exp(w)
        g, s = moments(th)
        return np.concatenate([-c["alpha"] * m / (np.sqrt(v) + eps), (g - m) / c["tau1"], (s / v - 1) / c["tau2"]])

    def jac(y):
        th, m, w = y[:d], y[d : 2 * d], y[2 * d :]
        v, (g, s), H = np.exp(w), moments(th), model.hessian(th)
        root = np.sqrt(v)
        J = np.zeros((3 * d, 3 * d))
        J[:d, d : 2 * d] = np.diag(-c["alpha"] / (root + eps))
        J[:d, 2 * d :] = np.diag(c["alpha"] * m * root / (2 * (root + eps) ** 2))
        J[d : 2 * d, :d] = H / c["tau1"]
        J[d : 2 * d, d : 2 * d] = -np.eye(d) / c["tau1"]
        J[2 * d :, :d] = 2 * g[:, None] * H / (v * c["tau2"])[:, None]
        J[2 * d :, 2 * d :] = np.diag(-s / (v * c["tau2"]))
        return J

    def state0(th):
        g, s = moments(th)
        return np.concatenate([th, g, np.log(s)])

    return rhs, jac, state0


def learner_path(key: str, model, theta0, t, *, batch: int = 128, eps: float = 1e-8, rtol: float = 1e-7,
                 max_evals: int = 20000, **constants) -> np.ndarray:  # fmt: skip
    """theta(t_n) of learner ``key`` (``LEARNERS``; module docstring) from theta0, shape (N, d).

    Args:
        key: "gf", "heavy_ball", "ballistic" or "adam".
        model: the loss: ``grad``, ``hessian`` and (Ballistic, Adam) ``minibatch_second_moment``.
        theta0: start, shape (d,).
        t: the time grid (0 .. T, increasing).
        batch: B of the beliefs' minibatch second moment s_B.
        eps: the rules' epsilon (inside the square root for Ballistic, outside for Adam, as published).
        rtol: BDF's relative tolerance (atol rtol max(1, |theta0|_inf) for theta, rtol |grad L(theta0)|_inf for
            theta_dot and m, rtol for log v).
        max_evals: right-hand-side evaluations allowed before giving up (a learner whose constants make it far
            stiffer than its problem).
        constants: the learner's free constants, each > 0 (``LEARNERS[key].constants``).

    Raises:
        ValueError: an unknown learner, missing or extra constants, a bad grid or start.
        ConvergenceError: the integrator stops before t[-1] or needs more than ``max_evals`` evaluations.
    """
    check_choice(key, "key", tuple(LEARNERS))
    names = LEARNERS[key].constants
    if set(constants) != set(names):
        raise ValueError(f"Invalid constants for {key}: {sorted(constants)}; expected exactly {list(names)}.")
    c = {name: check_positive(constants[name], name) for name in names}
    t = check_grid(t)
    d = int(model.dim)
    theta0 = check_vector(theta0, "theta0", d)
    batch, eps = check_int(batch, "batch", 1), check_positive(eps, "eps")
    max_evals = check_int(max_evals, "max_evals", 1)
    rhs, jac, state0 = _system(key, model, c, batch, eps, d)
    y0 = state0(theta0)
    g_scale = max(float(np.max(np.abs(model.grad(theta0)))), np.finfo(float).tiny)
    atol = np.full(y0.size, rtol)
    atol[:d] *= max(1.0, float(np.max(np.abs(theta0))))
    if key in ("heavy_ball", "adam"):
        atol[d : 2 * d] *= g_scale
    evals = [0]

    def f(_, y):
        evals[0] += 1
        if evals[0] > max_evals:
            raise _TooStiff
        return rhs(y)

    try:
        sol = solve_ivp(f, (t[0], t[-1]), y0, method="BDF", jac=lambda _, y: jac(y), t_eval=t, rtol=rtol, atol=atol)
    except _TooStiff:
        raise ConvergenceError(f"{LEARNERS[key].name} with {c} needed more than {max_evals} evaluations.") from None
    if not sol.success:
        raise ConvergenceError(f"{LEARNERS[key].name} with {c} stopped before T = {t[-1]:g}: {sol.message}")
    return sol.y[:d].T
