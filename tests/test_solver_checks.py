"""E0's measures on their own: the time-weighted relative L2 error on non-uniform grids."""

import numpy as np
import pytest

from functions.paths import time_grid
from functions.solver_checks import relative_l2


def test_relative_l2_weights_time_not_nodes():
    """On a geometric grid (most nodes early) a late error counts by its duration: |a - b| = t against |ref| = 1
    gives sqrt(T^2 / 3) (the trapezoid rule's error is second order), and a constant offset gives itself."""
    T = 10.0
    t = time_grid(T, 4000, "geometric", first=1e-4)
    ones = np.ones((t.size, 2)) / np.sqrt(2)
    assert relative_l2(t, 0.3 * ones, 0 * ones, ones) == pytest.approx(0.3, rel=1e-12)
    ramp = np.stack([t, np.zeros_like(t)], 1)
    assert relative_l2(t, ramp, 0 * ramp, ones) == pytest.approx(T / np.sqrt(3), rel=1e-4)
    early = np.where(t[:, None] < 0.01, 1.0, 0.0) * ones  # most nodes, almost no time
    assert relative_l2(t, early, 0 * early, ones) < 0.05
