"""E2 of the real-model test: the gradient-descent limit of the optimal path, and its first correction.

Section 3: for a far-discounting learner (gamma^2 >> eta k lambda_max) the optimum of J is gradient descent with
learning rate eta k / gamma. The next order follows from the current-value costate equations (G = I, no drift;
``newton_krylov``): theta_dot = -eta mu and mu_dot = gamma mu - k grad L give

    mu = (k / gamma) grad L + mu_dot / gamma = (k / gamma) grad L + (k / gamma^2) H theta_dot + O(gamma^-3),

so theta_dot = -(eta k / gamma) [grad L - (eta k / gamma^2) H grad L] + O(gamma^-5), and since
grad (|grad L|^2 / 2) = H grad L,

    theta_dot = -(eta k / gamma) grad M,    M = L - (eta k / (2 gamma^2)) |grad L|^2            (derived here)

(gradient flow on a modified loss; the paper gives the leading order only). On a quadratic mode of curvature h
the three rates are r(h) = sqrt(gamma^2/4 + eta k h) - gamma/2 = eta k h / gamma - (eta k h)^2 / gamma^3 + ...,
eta k h / gamma (gradient flow) and eta k h / gamma - (eta k h)^2 / gamma^3 (the modified loss): gradient flow
is off by a relative O(eta k h / gamma^2), the modified flow by O((eta k h / gamma^2)^2).

Note the sign: M rewards a large gradient, so the far-sighted learner moves faster than gradient descent along
stiff directions (the opposite of the |grad L|^2 penalty of gradient descent's own implicit regularisation).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ._checks import check_positive
from .errors import ConvergenceError
from .paths import check_grid

__all__ = ["gradient_flow", "modified_coefficient"]


def modified_coefficient(gamma: float, eta: float = 1.0, k: float = 1.0) -> float:
    """c = eta k / gamma^2, the weight of -(c/2) |grad L|^2 in the modified loss M (module docstring)."""
    gamma, eta, k = check_positive(gamma, "gamma"), check_positive(eta, "eta"), check_positive(k, "k")
    return eta * k / gamma**2


def gradient_flow(loss, theta0, t, lr: float, *, correction: float = 0.0, rtol: float = 1e-8) -> np.ndarray:
    """theta(t_n) of theta_dot = -lr (grad L - c H grad L) from theta0 (c = ``correction``; 0: gradient flow).

    With c = ``modified_coefficient(gamma, eta, k)`` and lr = eta k / gamma it is gradient flow on the modified
    loss M. Integrated by BDF (the flow is stiff: its rates span the spectrum of H) with the Jacobian
    -lr (H - c H^2) (the third-derivative term of M's Hessian is left out; the Newton iterations converge without
    it and the error control does not depend on it). ``loss`` gives ``linearise_path`` (values, gradients and
    Hessian-vector products) and ``hessian(theta)``.

    ``rtol`` (also atol, in units of max(1, |theta0|_inf)): 1e-8 keeps the flow's own error ~100 times below the
    smallest difference E2 measures; much tighter tolerances make BDF crawl at the rounding level (1e-10 took
    minutes where 1e-8 takes seconds, d = 510).

    Raises:
        ConvergenceError: the integrator stops before t[-1].
    """
    t = check_grid(t)
    lr = check_positive(lr, "lr")
    if not (np.isfinite(correction) and correction >= 0):
        raise ValueError(f"Invalid correction value: {correction}; expected a finite number >= 0 (0: gradient flow).")
    theta0 = np.asarray(theta0, dtype=np.float64)

    def rhs(_, theta):
        _, g, hvp = loss.linearise_path(theta[None, :])
        step = g[0] if correction == 0 else g[0] - correction * hvp(g)[0]
        return -lr * step

    def jac(_, theta):
        H = loss.hessian(theta)
        return -lr * (H - correction * (H @ H)) if correction else -lr * H

    scale = max(float(np.max(np.abs(theta0))), 1.0)  # atol in the units of theta (a start at 0 has none of its own)
    sol = solve_ivp(rhs, (t[0], t[-1]), theta0, method="BDF", jac=jac, t_eval=t, rtol=rtol, atol=rtol * scale)
    if not sol.success:
        raise ConvergenceError(f"Gradient flow stopped before T = {t[-1]:g}: {sol.message}")
    return sol.y.T
