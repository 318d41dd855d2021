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


def simulate(lrs: dict, h, theta0, sigma: float, steps: int, seeds: int, beta2: float = 0.999, seed: int = 0,
             mean: bool = False) -> dict:  # fmt: skip
    """Run ``seeds`` independent noisy runs from ``theta0`` of each optimiser in ``lrs`` ({name: learning rate}).

    Each step feeds the optimisers g_t = h * theta_t + sigma sqrt(h) xi_t with xi_t ~ N(0, I) drawn from
    ``numpy.random.default_rng(seed)`` (platform-independent streams), ``NOISE_CHUNK`` steps at a time. The
    optimisers run side by side on the same xi_t (common random numbers): they differ only by their rule, and
    each one's runs are exactly those it gives alone with the same seed.

    Returns:
        {name: theta of shape (steps + 1, seeds, d)}; with ``mean=True`` only its mean over the seeds, shape
        (steps + 1, d), without storing every run.
    """
    if not isinstance(lrs, dict) or not lrs:
        raise ValueError(
            f"Invalid lrs value: {lrs!r}; expected a dict {{optimiser: learning rate}}, e.g. {{'sgd': 0.01}}."
        )
    lrs = {name: check_positive(lr, f"lrs[{name!r}]") for name, lr in lrs.items()}
    h = check_vector(h, "h")
    theta0 = check_vector(theta0, "theta0", h.shape[0])
    sigma = check_positive(sigma, "sigma")
    rng = np.random.default_rng(seed)
    h_t, scale = torch.tensor(h), torch.tensor(sigma * np.sqrt(h))
    runs, out = [], {}
    for name, lr in lrs.items():
        theta = torch.nn.Parameter(torch.tensor(theta0).repeat(seeds, 1))
        theta.grad = torch.zeros_like(theta)
        opt = make_optimiser(name, [theta], lr, adam_betas=(0.9, beta2), ballistic_beta2=beta2)
        out[name] = torch.empty((steps + 1, *(theta.shape[1:] if mean else theta.shape)), dtype=torch.float64)
        # Each step's theta is copied into a chunk-long buffer (the output itself without mean); with mean=True
        # the buffer is averaged over the seeds once per chunk: one reduction per step would cost more than the step.
        buffer = torch.empty((NOISE_CHUNK, *theta.shape), dtype=torch.float64) if mean else None
        runs.append((theta, opt, buffer, out[name]))
    with torch.no_grad():
        for theta, _, _, path in runs:
            path[0] = theta.mean(0) if mean else theta
        for first in range(1, steps + 1, NOISE_CHUNK):
            n = min(NOISE_CHUNK, steps + 1 - first)
            noise = torch.from_numpy(rng.standard_normal((n, seeds, h.shape[0]))).mul_(scale)
            xis = noise.unbind(0)
            for theta, opt, buffer, path in runs:
                rows = (buffer if mean else path[first : first + n]).unbind(0)
                for xi, row in zip(xis, rows, strict=False):
                    torch.addcmul(xi, h_t, theta, out=theta.grad)  # g = h theta + sigma sqrt(h) xi
                    opt.step()
                    row.copy_(theta)
                if mean:
                    torch.mean(buffer[:n], 1, out=path[first : first + n])
    return {name: path.numpy() for name, path in out.items()}


def fit_rates(mean_path: np.ndarray, start: int = 0, floor: float = 0.2) -> np.ndarray:
    """Per-direction rates: minus the log-slope of the mean path E[theta_i(t)] / theta_i(0).

    ``mean_path`` has shape (steps + 1, d): the mean over seeds (``simulate(..., mean=True)[name]``). Each direction
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
