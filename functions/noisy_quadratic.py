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


def simulate(name: str, h, theta0, sigma: float, lr: float, steps: int, seeds: int, beta2: float = 0.999,
             seed: int = 0) -> np.ndarray:  # fmt: skip
    """Run ``seeds`` independent noisy runs; returns theta of shape (steps + 1, seeds, d)."""
    h = check_vector(h, "h")
    theta0 = check_vector(theta0, "theta0", h.shape[0])
    sigma, lr = check_positive(sigma, "sigma"), check_positive(lr, "lr")
    gen = torch.Generator().manual_seed(seed)
    h_t, sqrt_h = torch.tensor(h, dtype=torch.float64), torch.tensor(np.sqrt(h), dtype=torch.float64)
    theta = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64).repeat(seeds, 1))
    opt = make_optimiser(name, [theta], lr, adam_betas=(0.9, beta2), ballistic_beta2=beta2)
    out = np.empty((steps + 1, seeds, h.shape[0]))
    out[0] = theta.detach().numpy()
    for t in range(1, steps + 1):
        noise = torch.randn(theta.shape, generator=gen, dtype=torch.float64)
        theta.grad = h_t * theta.detach() + sigma * sqrt_h * noise
        opt.step()
        out[t] = theta.detach().numpy()
    return out


def fit_rates(paths: np.ndarray, start: int = 0, floor: float = 0.2) -> np.ndarray:
    """Per-direction rates: minus the log-slope of the mean path over seeds, E[theta_i(t)] / theta0_i.

    Each direction is fitted from step ``start`` (after the optimiser's curvature belief has settled)
    until its mean first falls below ``floor`` (before the noise floor of the mean matters).
    """
    frac = paths.mean(axis=1) / paths[0, 0]
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
