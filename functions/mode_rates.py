"""E1 of the real-model test: the curvature law, measured mode by mode on a solved path (Figure 2d, real model).

Section 3 (Figure 2d): near the minimum theta* with Hessian H = sum_i h_i v_i v_i^T, the optimal path's deviation
along mode i decays like e^{-r(h_i) t}, r(h) = sqrt(gamma^2/4 + eta k h) - gamma/2 (``lq.rates``): r ~ eta k h /
gamma (log-log slope 1 in h) when gamma^2 >> eta k h, and r ~ sqrt(eta k h) (slope 1/2) as gamma -> 0. Here
the rates are read off a path of the real loss, not of its quadratic model:

- a_i(t) = v_i^T (theta(t) - theta*); after its peak, a mode is fitted on the window where |a_i| falls from
  e^{-window[0]} to e^{-window[1]} of the peak (late enough that the nonlinear transient is over, early enough
  that it stays far above rounding and away from the free end): the fitted rate is minus the slope of the
  weighted least-squares line through log|a_i(t_n)| on that window (weights: the trapezoid rule's, so that a
  geometric grid counts time, not nodes);
- the mode counts as fitted when its window holds at least ``MIN_NODES`` nodes, a_i keeps its sign there, the
  line's weighted RMS misfit is <= ``max_misfit`` e-folds (one exponential, not a mixture), and its peak is
  above ``PEAK_FLOOR`` of the largest mode's (a mode the path never moves, like softmax's null space from
  theta0 = 0, has no rate to read);
- ``loglog_slope``: the least-squares slope of log(rate) on log(h) over the fitted modes, with a percentile
  bootstrap interval over modes (a seeded generator, so the interval is the same on every run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_int, check_positive
from .paths import check_grid

__all__ = ["FIT_WINDOW", "MAX_MISFIT", "MIN_NODES", "PEAK_FLOOR", "ModeRates", "Slope", "fit_mode_rates",
           "loglog_slope"]  # fmt: skip

#: The fit window, in e-folds below each mode's peak.
FIT_WINDOW = (2.0, 10.0)
#: The largest weighted RMS misfit of log|a_i| (in e-folds) for a mode to count as one exponential.
MAX_MISFIT = 0.05
#: The fewest nodes a window must hold.
MIN_NODES = 8
#: A mode whose peak is below this fraction of the largest peak is not fitted.
PEAK_FLOOR = 1e-8


@dataclass(frozen=True)
class ModeRates:
    """Per eigen-mode: curvature ``h``, fitted ``rate`` (nan where not fitted), ``misfit`` and ``fitted``."""

    h: np.ndarray
    rate: np.ndarray
    misfit: np.ndarray
    fitted: np.ndarray

    @property
    def n_fitted(self) -> int:
        return int(self.fitted.sum())


@dataclass(frozen=True)
class Slope:
    """A least-squares log-log slope and its bootstrap interval (``level``, e.g. 0.95)."""

    value: float
    low: float
    high: float
    level: float


def _trapezoid_weights(t: np.ndarray) -> np.ndarray:
    D = np.diff(t)
    return np.append(D, 0.0) / 2 + np.append(0.0, D) / 2


def _fit_one(t, a, window, max_misfit):
    """(rate, misfit, fitted) of one mode's amplitude a(t_n)."""
    mag = np.abs(a)
    peak = int(np.argmax(mag))
    if mag[peak] == 0.0:
        return np.nan, np.nan, False
    level = np.log(np.maximum(mag, np.finfo(float).tiny) / mag[peak])
    after = np.arange(len(t)) >= peak
    # The window ends where the amplitude first falls below e^{-window[1]} of the peak.
    below = np.flatnonzero(after & (level < -window[1]))
    stop = below[0] if below.size else len(t)
    idx = np.flatnonzero(after & (np.arange(len(t)) < stop) & (level <= -window[0]))
    if idx.size < MIN_NODES or not (np.all(a[idx] > 0) or np.all(a[idx] < 0)):
        return np.nan, np.nan, False
    ts, ys = t[idx], level[idx]
    w = _trapezoid_weights(ts)
    tm, ym = w @ ts / w.sum(), w @ ys / w.sum()
    slope = float(w @ ((ts - tm) * (ys - ym)) / (w @ (ts - tm) ** 2))
    misfit = float(np.sqrt(w @ (ys - ym - slope * (ts - tm)) ** 2 / w.sum()))
    return -slope, misfit, bool(misfit <= max_misfit and slope < 0)


def fit_mode_rates(t, theta, theta_star, h, V, *, window=FIT_WINDOW, max_misfit: float = MAX_MISFIT) -> ModeRates:
    """Fit each mode's decay rate along the path ``theta`` (N, d) on the grid ``t`` (module docstring).

    Args:
        t: the path's times (N,), increasing from 0.
        theta: the path, (N, d); theta_star: the minimum, (d,).
        h, V: H's eigenvalues (d,) and orthonormal eigenvectors (columns of V, (d, d)) at theta_star.
        window: (first, last) e-folds below the peak; 0 <= first < last.
        max_misfit: the largest weighted RMS misfit, in e-folds.
    """
    t = check_grid(t)
    theta = np.asarray(theta, dtype=np.float64)
    h, V = np.asarray(h, dtype=np.float64), np.asarray(V, dtype=np.float64)
    d = h.shape[0]
    if theta.shape != (t.size, d) or V.shape != (d, d) or np.shape(theta_star) != (d,):
        raise ValueError(f"Invalid shapes: theta {theta.shape}, theta_star {np.shape(theta_star)}, h {h.shape}, "
                         f"V {V.shape}; expected ({t.size}, d), (d,), (d,), (d, d).")  # fmt: skip
    if not (len(window) == 2 and 0 <= window[0] < window[1]):
        raise ValueError(f"Invalid window value: {window}; expected (first, last) e-folds with 0 <= first < last.")
    max_misfit = check_positive(max_misfit, "max_misfit")
    A = (theta - np.asarray(theta_star, dtype=np.float64)) @ V  # a_i(t_n), (N, d)
    peaks = np.abs(A).max(axis=0)
    fits = [_fit_one(t, A[:, i], window, max_misfit) for i in range(d)]
    rate, misfit, fitted = (np.array(col) for col in zip(*fits, strict=True))
    fitted = fitted.astype(bool) & (peaks > PEAK_FLOOR * peaks.max())
    return ModeRates(h=h, rate=rate, misfit=misfit, fitted=fitted)


def _ols_slope(x, y):
    xm = x - x.mean()
    return float(xm @ (y - y.mean()) / (xm @ xm))


def loglog_slope(h, rate, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Slope:
    """Least-squares slope of log(rate) on log(h), with a percentile bootstrap interval over the pairs.

    Every h and rate must be finite and > 0, with at least 3 pairs and h not all equal.
    """
    h, rate = np.asarray(h, dtype=np.float64), np.asarray(rate, dtype=np.float64)
    if h.shape != rate.shape or h.ndim != 1 or h.size < 3:
        raise ValueError(f"Invalid h, rate shapes: {h.shape}, {rate.shape}; expected two (n,) arrays, n >= 3.")
    if not (np.all(np.isfinite(h)) and np.all(h > 0) and np.all(np.isfinite(rate)) and np.all(rate > 0)):
        raise ValueError("Invalid h or rate value: every entry must be finite and > 0 (fit the fitted modes only).")
    x, y = np.log(h), np.log(rate)
    if np.ptp(x) == 0:
        raise ValueError("Invalid h value: all curvatures are equal; a slope needs at least two distinct ones.")
    n_boot = check_int(n_boot, "n_boot", 1)
    if not 0 < level < 1:
        raise ValueError(f"Invalid level value: {level}; expected a probability in (0, 1), e.g. 0.95.")
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, x.size, x.size)
        if np.ptp(x[i]) > 0:
            boots.append(_ols_slope(x[i], y[i]))
    low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return Slope(value=_ols_slope(x, y), low=float(low), high=float(high), level=level)
