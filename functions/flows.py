"""First-order learning rules as flows: gradient flow theta_dot = -lr grad L (the one-step rule)."""

from __future__ import annotations

from scipy.integrate import solve_ivp

from ._checks import check_positive, check_times, check_vector
from .errors import ConvergenceError

__all__ = ["gradient_flow"]


def gradient_flow(loss, theta0, t, lr: float = 1.0, rtol: float = 1e-10, atol: float = 1e-12):
    """Integrate gradient flow theta_dot = -lr grad L(theta) from theta0 (the gamma >> 1 rule).

    Args:
        loss: a landscape with ``grad`` (numpy).
        theta0: start, shape (d,).
        t: finite, strictly increasing output times starting at 0, shape (m,), m >= 2.
        lr: the rate multiplying the gradient, > 0: eta k / gamma is the gamma >> 1 optimum's rate; Figure 1's
            one-step learner takes eta k (the one-step rule of the same eta and k).

    Returns:
        theta at the times ``t``, shape (m, d).
    """
    theta0 = check_vector(theta0, "theta0", getattr(loss, "dim", None))
    lr = check_positive(lr, "lr")
    t = check_times(t, "t")
    sol = solve_ivp(
        lambda _t, th: -lr * loss.grad(th),
        (0.0, t[-1]),
        theta0,
        t_eval=t,
        rtol=rtol,
        atol=atol,
        method="DOP853",
    )
    if not sol.success:
        raise ConvergenceError(f"gradient_flow failed: {sol.message}")
    return sol.y.T
