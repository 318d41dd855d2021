"""The learner's beliefs about a partially observable landscape (the paper's Section 5; our Figure 4).

Gradient belief: the latent gradient drifts as a random walk, g_t = g_{t-1} + w_t, w_t ~ N(0, q),
and is seen through minibatch noise, y_t = g_t + v_t, v_t ~ N(0, sigma^2). The Kalman filter is

    P^-_t = P_{t-1} + q,   K_t = P^-_t / (P^-_t + sigma^2),   m_t = m_{t-1} + K_t (y_t - m_{t-1}),
    P_t = (1 - K_t) P^-_t.

Its steady state solves P^-^2 - q P^- - q sigma^2 = 0: with rho = sigma^2 / q,
P^-* = q a, a = (1 + sqrt(1 + 4 rho)) / 2, and K* = a / (a + rho). The steady-state filter is an
exponential moving average m_t = beta1 m_{t-1} + (1 - beta1) y_t with beta1 = 1 - K*; Adam's
beta1 = 0.9 corresponds to rho = 90 (a = 10, K* = 0.1).

Curvature belief: for a likelihood loss the mean of squared per-sample gradients is the diagonal of
the Fisher information, which equals the Hessian of the expected loss at the true parameters.

Task belief: optima of successive tasks follow mu_new = c mu_old + (1 - c) mu0 + sqrt(1 - c^2) s xi
(stationary prior N(mu0, s^2 I)); after a detected switch E[mu_new | mu_old] = c mu_old + (1 - c) mu0,
a partial reset of fraction 1 - c toward the prior mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_nonnegative, check_positive, check_probability

__all__ = [
    "KalmanTrace",
    "beta1_from_noise_ratio",
    "ema",
    "kalman_filter",
    "noise_ratio_from_beta1",
    "optimal_reset_fraction",
    "predictive_task_mean",
    "reset_target",
    "reset_toward",
    "running_curvature",
    "steady_state_gain",
    "steady_state_variance",
]


def steady_state_gain(q: float, sigma2: float) -> float:
    """K* = a / (a + rho), rho = sigma^2 / q, a = (1 + sqrt(1 + 4 rho)) / 2."""
    q, sigma2 = check_positive(q, "q"), check_nonnegative(sigma2, "sigma2")
    rho = sigma2 / q
    a = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * rho))
    return float(a / (a + rho))


def steady_state_variance(q: float, sigma2: float) -> float:
    """Posterior variance P* = (1 - K*) P^-*, P^-* = q (1 + sqrt(1 + 4 sigma^2/q)) / 2."""
    prior = 0.5 * q * (1.0 + np.sqrt(1.0 + 4.0 * sigma2 / q))
    return float((1.0 - steady_state_gain(q, sigma2)) * prior)


def beta1_from_noise_ratio(rho):
    """beta1 = 1 - K* as a function of rho = sigma^2 / q (vectorised)."""
    rho = np.asarray(rho, dtype=np.float64)
    a = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * rho))
    return rho / (a + rho)


def noise_ratio_from_beta1(beta1: float) -> float:
    """Inverse of ``beta1_from_noise_ratio``: rho = beta1 / (1 - beta1)^2 (so 0.9 -> 90)."""
    beta1 = check_probability(beta1, "beta1")
    if beta1 == 1.0:
        raise ValueError("Invalid beta1 value: 1.0; need beta1 < 1 (rho would be infinite).")
    return beta1 / (1.0 - beta1) ** 2


@dataclass(frozen=True)
class KalmanTrace:
    """Filter output: posterior means m_t, variances P_t and gains K_t, each shape (T,)."""

    mean: np.ndarray
    var: np.ndarray
    gain: np.ndarray


def kalman_filter(y, q: float, sigma2: float, m0: float = 0.0, P0: float | None = None) -> KalmanTrace:
    """Scalar Kalman filter for a random-walk latent observed with noise (module docstring).

    Args:
        y: observations y_1 .. y_T.
        q: random-walk variance per step, > 0.
        sigma2: observation noise variance, >= 0.
        m0, P0: prior mean and variance before y_1; P0 defaults to the steady-state posterior P*,
            in which case every gain equals K*.
    """
    q, sigma2 = check_positive(q, "q"), check_nonnegative(sigma2, "sigma2")
    P = steady_state_variance(q, sigma2) if P0 is None else check_nonnegative(P0, "P0")
    y = np.asarray(y, dtype=np.float64)
    mean, var, gain = np.empty_like(y), np.empty_like(y), np.empty_like(y)
    m = float(m0)
    for t, obs in enumerate(y):
        prior = P + q
        K = prior / (prior + sigma2)
        m = m + K * (obs - m)
        P = (1.0 - K) * prior
        mean[t], var[t], gain[t] = m, P, K
    return KalmanTrace(mean, var, gain)


def ema(y, beta1: float, m0: float = 0.0) -> np.ndarray:
    """Exponential moving average m_t = beta1 m_{t-1} + (1 - beta1) y_t, written as the filter update."""
    beta1 = check_probability(beta1, "beta1")
    out, m = np.empty(len(y)), float(m0)
    for t, obs in enumerate(np.asarray(y, dtype=np.float64)):
        m = m + (1.0 - beta1) * (obs - m)
        out[t] = m
    return out


def running_curvature(per_sample_grads) -> np.ndarray:
    """Running mean of squared per-sample gradients v_t = (1/t) sum_{s<=t} g_s^2, shape (T, d)."""
    g2 = np.asarray(per_sample_grads, dtype=np.float64) ** 2
    return np.cumsum(g2, axis=0) / np.arange(1, g2.shape[0] + 1)[:, None]


def reset_target(mu_old, mu0, c: float):
    """Belief-optimal start after a detected switch: E[mu_new | mu_old] = c mu_old + (1 - c) mu0."""
    c = check_probability(c, "c")
    return c * np.asarray(mu_old) + (1.0 - c) * np.asarray(mu0)


def reset_toward(theta, mu0, rho):
    """Move ``theta`` a fraction ``rho`` of the way back to the prior mean: theta + rho (mu0 - theta).

    With rho = 1 - c (``optimal_reset_fraction``) this is ``reset_target(theta, mu0, c)``, E[mu_new | mu_old].
    """
    return theta + rho * (mu0 - theta)


def optimal_reset_fraction(c: float) -> float:
    """Fraction of the way from mu_old back to the prior mean mu0 that minimises expected loss: 1 - c."""
    return 1.0 - check_probability(c, "c")


def predictive_task_mean(mu_est, mu0, c: float, p: float):
    """One-step predictive mean of the optimum when a switch (probability p) is not observed.

    E[mu_{t+1} | mu_t = mu_est] = (1 - p) mu_est + p (c mu_est + (1 - c) mu0).
    """
    p = check_probability(p, "p")
    mu_est = np.asarray(mu_est, dtype=np.float64)
    return (1.0 - p) * mu_est + p * reset_target(mu_est, mu0, c)
