"""The exact free-end optimum of a quadratic model at finite T against the boundary-value solver, its limits
(T -> oo: the closed form; the natural condition at T), and stability where exponentials would overflow."""

import numpy as np
import pytest
import torch

from functions.bvp import solve_bvp
from functions.closed_form import quadratic_optimum
from functions.landscapes import Quadratic
from functions.lq import free_end_lq
from functions.objective import Problem


class _FullQuadratic:
    """L = 1/2 (theta - theta*)^T H (theta - theta*) with a full symmetric H (numpy and torch)."""

    def __init__(self, H, theta_star):
        self.H, self.theta_star, self.dim = np.asarray(H), np.asarray(theta_star), len(theta_star)

    def __call__(self, theta):
        H, ts = (torch.as_tensor(a) for a in (self.H, self.theta_star)) if isinstance(theta, torch.Tensor) else (
            self.H, self.theta_star)  # fmt: skip
        x = theta - ts
        return 0.5 * ((x @ H) * x).sum(-1)


def _spd(rng, d, low=0.05, high=3.0):
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return Q @ np.diag(np.geomspace(low, high, d)) @ Q.T


@pytest.mark.parametrize("gamma", [0.0, 1.0, 10.0])
def test_equals_the_free_end_bvp_solution_at_finite_T(rng, gamma):
    H, theta_star, theta0, T = _spd(rng, 3), rng.standard_normal(3), rng.standard_normal(3), 6.0
    exact = free_end_lq(H, theta_star, theta0, T, gamma, eta=1.0, k=1.0)
    sol = solve_bvp(Problem(_FullQuadratic(H, theta_star), gamma=gamma), theta0, T, tol=1e-10)
    t = np.linspace(0.0, T, 301)
    assert np.max(np.abs(exact(t) - sol(t))) < 1e-6
    np.testing.assert_allclose(exact(np.array([0.0]))[0], theta0, atol=1e-12)


def test_the_natural_condition_and_the_infinite_horizon_limit():
    q = Quadratic([0.5, 2.0], [1.0, -1.0])
    exact = free_end_lq(np.diag(q.h), q.mu, [0.0, 0.0], 4.0, gamma=1.0)
    eps = 1e-6
    velocity_T = (exact(np.array([4.0]))[0] - exact(np.array([4.0 - eps]))[0]) / eps
    assert np.max(np.abs(velocity_T)) < 1e-5, "theta'(T) = f = 0"
    far = free_end_lq(np.diag(q.h), q.mu, [0.0, 0.0], 200.0, gamma=1.0)
    t = np.linspace(0.0, 10.0, 50)
    np.testing.assert_allclose(far(t), quadratic_optimum(Problem(q, gamma=1.0), [0.0, 0.0])(t), atol=1e-12)


def test_no_overflow_for_large_gamma_and_long_horizons():
    path = free_end_lq(np.diag([1e-4, 1.0]), [0.0, 0.0], [1.0, 1.0], 1e4, gamma=1e6)
    values = path(np.linspace(0.0, 1e4, 11))
    assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1.0 + 1e-12)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="positive definite"):
        free_end_lq(np.diag([1.0, -1.0]), [0, 0], [1, 1], 1.0, 0.0)
    with pytest.raises(ValueError, match="symmetric"):
        free_end_lq(np.array([[1.0, 0.5], [0.0, 1.0]]), [0, 0], [1, 1], 1.0, 0.0)
    with pytest.raises(ValueError, match="Invalid T value"):
        free_end_lq(np.eye(2), [0, 0], [1, 1], 0.0, 0.0)
