"""Optimisers on a noisy quadratic: measured per-direction convergence rates and mean trajectories.

Loss L = 1/2 sum_i h_i theta_i^2; each step the optimiser sees g = h theta + sigma sqrt(h) xi,
xi ~ N(0, I). The noise covariance sigma^2 diag(h) is proportional to the Hessian, as for a
likelihood loss (gradient noise covariance = Fisher = Hessian at the optimum). Seeds run in parallel
as rows of one (S, d) parameter tensor; the optimisers act elementwise, so rows are independent.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree

from ._checks import check_positive, check_vector
from .optimisers import make_optimiser

__all__ = ["curve_distance", "fit_rates", "simulate"]


#: Steps of noise drawn at once (a (chunk, seeds, d) block: 16 MB for 1,000 seeds in d = 8).
NOISE_CHUNK = 256


def simulate(name: str, h, theta0, sigma: float, lr: float, steps: int, seeds: int, beta2: float = 0.999,
             seed: int = 0, mean: bool = False) -> np.ndarray:  # fmt: skip
    """Run ``seeds`` independent noisy runs of optimiser ``name`` from ``theta0``.

    Each step feeds the optimiser g_t = h * theta_t + sigma sqrt(h) xi_t with xi_t ~ N(0, I) drawn from
    ``numpy.random.default_rng(seed)`` (platform-independent streams), ``NOISE_CHUNK`` steps at a time.

    Returns:
        theta of shape (steps + 1, seeds, d); with ``mean=True`` only its mean over the seeds, shape
        (steps + 1, d), without storing every run.
    """
    h = check_vector(h, "h")
    theta0 = check_vector(theta0, "theta0", h.shape[0])
    sigma, lr = check_positive(sigma, "sigma"), check_positive(lr, "lr")
    rng = np.random.default_rng(seed)
    h_t, scale = torch.tensor(h), torch.tensor(sigma * np.sqrt(h))
    theta = torch.nn.Parameter(torch.tensor(theta0).repeat(seeds, 1))
    theta.grad = torch.zeros_like(theta)
    opt = make_optimiser(name, [theta], lr, adam_betas=(0.9, beta2), ballistic_beta2=beta2)
    out = torch.empty((steps + 1, *(theta.shape[1:] if mean else theta.shape)), dtype=torch.float64)
    with torch.no_grad():
        record = (lambda t: torch.mean(theta, 0, out=out[t])) if mean else (lambda t: out[t].copy_(theta))
        record(0)
        for first in range(1, steps + 1, NOISE_CHUNK):
            noise = torch.from_numpy(rng.standard_normal((min(NOISE_CHUNK, steps + 1 - first), *theta.shape)))
            noise.mul_(scale)
            for k, xi in enumerate(noise):
                torch.addcmul(xi, h_t, theta, out=theta.grad)  # g = h theta + sigma sqrt(h) xi
                opt.step()
                record(first + k)
    return out.numpy()


def fit_rates(mean_path: np.ndarray, start: int = 0, floor: float = 0.2) -> np.ndarray:
    """Per-direction rates: minus the log-slope of the mean path E[theta_i(t)] / theta_i(0).

    ``mean_path`` has shape (steps + 1, d): the mean over seeds (``simulate(..., mean=True)``). Each direction
    is fitted from step ``start`` (after the optimiser's curvature belief has settled) until its mean first
    falls below ``floor`` (before the noise floor of the mean matters).
    """
    frac = mean_path / mean_path[0]
    rates = []
    for i in range(frac.shape[1]):
        below = np.nonzero(frac[start:, i] < floor)[0]
        end = start + (below[0] if below.size else frac.shape[0] - start)
        if end - start < 20 or np.any(frac[start:end, i] <= 0):
            raise ValueError(
                f"Invalid fit window for direction {i}: steps {start}..{end}; lower start or the learning rate."
            )
        t = np.arange(start, end)
        rates.append(-np.polyfit(t, np.log(frac[start:end, i]), 1)[0])
    return np.asarray(rates)


def curve_distance(path: np.ndarray, reference: np.ndarray) -> float:
    """Mean over the points of ``path`` of the distance to the nearest point of the curve ``reference``.

    Invariant to any monotone time reparametrisation of either curve: it compares shapes, not speeds.
    """
    distances, _ = cKDTree(reference).query(path)  # exact nearest neighbours among the reference points
    return float(np.mean(distances))
