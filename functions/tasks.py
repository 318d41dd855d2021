"""Weight resetting under task uncertainty: sequences of quadratic tasks with correlated optima.

Optima follow mu_k = c mu_{k-1} + (1 - c) mu0 + sqrt(1 - c^2) s xi_k (stationary prior N(mu0, s^2 I)).
At each (detected) switch the learner moves its weights a fraction rho of the way back to mu0,
theta <- theta + rho (mu0 - theta), then runs gradient descent on the new task. The belief-optimal
fraction is rho* = 1 - c (``beliefs.optimal_reset_fraction``): it starts each task at E[mu_new | mu_old].
"""

from __future__ import annotations

import numpy as np

from ._checks import check_positive, check_probability
from .beliefs import reset_toward

__all__ = ["compare_resets", "cumulative_losses", "measured_optimal_fraction"]


def cumulative_losses(rhos, c: float, n_tasks: int = 400, steps: int = 50, lr: float = 0.2, s: float = 1.0,
                      dim: int = 10, n_sequences: int = 20, seed: int = 0) -> np.ndarray:  # fmt: skip
    """Mean cumulative loss per task for each reset fraction in ``rhos`` (common random numbers).

    Loss L = 1/2 |theta - mu_k|^2 on task k, ``steps`` gradient steps of size ``lr`` per task,
    mu0 = 0. Every rho sees the same task sequences, so differences between rhos are not noise
    between sequences.
    """
    c = check_probability(c, "c")
    lr, s = check_positive(lr, "lr"), check_positive(s, "s")
    rng = np.random.default_rng(seed)
    xi = rng.standard_normal((n_sequences, n_tasks, dim))
    mus = np.empty_like(xi)
    mus[:, 0] = s * xi[:, 0]
    for k in range(1, n_tasks):
        mus[:, k] = c * mus[:, k - 1] + np.sqrt(1 - c**2) * s * xi[:, k]
    decay = (1 - lr) ** (2 * np.arange(steps))  # |theta_t - mu|^2 = (1 - lr)^{2t} |theta_0 - mu|^2
    rho = np.atleast_1d(np.asarray(rhos, dtype=np.float64))[:, None, None]  # all rhos at once: (n_rho, 1, 1)
    theta = np.broadcast_to(mus[:, 0], (rho.shape[0], *mus[:, 0].shape)).copy()
    total = np.zeros(rho.shape[0])
    for k in range(1, n_tasks):
        theta = reset_toward(theta, 0.0, rho)  # the belief's reset, toward mu0 = 0
        gap2 = np.sum((theta - mus[:, k]) ** 2, axis=-1)  # (n_rho, n_sequences)
        total += np.mean(0.5 * gap2 * decay.sum(), axis=-1)
        theta = mus[:, k] + (1 - lr) ** steps * (theta - mus[:, k])
    return total / (n_tasks - 1)


def measured_optimal_fraction(rhos, losses) -> float:
    """argmin over rho of the cumulative loss, refined by a parabola through the grid minimum's neighbours."""
    rhos, losses = np.asarray(rhos), np.asarray(losses)
    i = int(np.argmin(losses))
    if i in (0, len(rhos) - 1):
        return float(rhos[i])
    a, b, _ = np.polyfit(rhos[i - 1 : i + 2], losses[i - 1 : i + 2], 2)
    return float(-b / (2 * a))


def compare_resets(cs, rhos, **kwargs) -> dict:
    """For each correlation c: cumulative loss of no reset (rho 0), full reset (rho 1) and the
    belief-optimal reset (rho = 1 - c), and the optimum measured on the grid ``rhos``."""
    out = {"c": list(cs), "none": [], "full": [], "belief": [], "measured_fraction": []}
    for c in cs:
        none, full, belief = cumulative_losses([0.0, 1.0, 1.0 - c], c, **kwargs)
        out["none"].append(none)
        out["full"].append(full)
        out["belief"].append(belief)
        out["measured_fraction"].append(measured_optimal_fraction(rhos, cumulative_losses(rhos, c, **kwargs)))
    return {k: np.asarray(v) for k, v in out.items()}
