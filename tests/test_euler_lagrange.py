import numpy as np
import pytest
import torch

from functions.euler_lagrange import (
    first_order_jac,
    first_order_rhs,
    theta_ddot_autodiff,
    theta_ddot_formula,
)
from functions.geometry import DecayDrift, Metric, NoDrift, RotationDrift
from functions.landscapes import DoubleWell, Quadratic
from functions.objective import Problem


class TanhDrift:
    """A nonlinear drift f = tanh(W theta), J_f = diag(1 - tanh^2(W theta)) W (test only)."""

    dim = 2

    def __init__(self, W):
        self.W = np.asarray(W)

    def __call__(self, theta):
        if isinstance(theta, torch.Tensor):
            return torch.tanh(theta @ torch.as_tensor(self.W.T))
        return np.tanh(theta @ self.W.T)

    def jacobian(self, theta):
        s = 1 - np.tanh(np.asarray(theta) @ self.W.T) ** 2
        return s[..., :, None] * self.W


def _random_spd(rng, d):
    A = rng.normal(size=(d, d))
    return A @ A.T + d * np.eye(d)


@pytest.mark.parametrize("drift_name", ["none", "rotation", "decay", "tanh"])
@pytest.mark.parametrize("loss", [DoubleWell(), Quadratic([0.5, 3.0], [1.0, -1.0])], ids=repr)
def test_autodiff_rhs_equals_hand_formula(loss, drift_name, rng):
    drifts = {
        "none": NoDrift(),
        "rotation": RotationDrift(2.0),
        "decay": DecayDrift(1.5),
        "tanh": TanhDrift(rng.normal(size=(2, 2))),
    }
    for gamma in (0.0, 0.7, 3.0):
        p = Problem(
            loss,
            gamma=gamma,
            eta=0.8,
            k=1.7,
            metric=Metric(_random_spd(rng, 2)),
            drift=drifts[drift_name],
        )
        theta, theta_dot = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
        a = theta_ddot_autodiff(p, theta, theta_dot)
        b = theta_ddot_formula(p, theta, theta_dot)
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)


def test_autodiff_rhs_accepts_torch():
    p = Problem(DoubleWell(), gamma=0.5)
    out = theta_ddot_autodiff(p, torch.zeros(2), torch.ones(2))
    assert isinstance(out, torch.Tensor) and out.shape == (2,)


def test_first_order_jacobian_matches_finite_differences(rng):
    G = Metric(_random_spd(rng, 2))
    p = Problem(DoubleWell(), gamma=0.4, metric=G, drift=RotationDrift(1.0))
    y = rng.normal(size=(4, 9))
    J = first_order_jac(p, y)
    eps = 1e-6
    J_fd = np.stack(
        [
            (first_order_rhs(p, y + eps * e[:, None]) - first_order_rhs(p, y - eps * e[:, None])) / (2 * eps)
            for e in np.eye(4)
        ],
        axis=1,
    )
    assert np.all(np.isfinite(J))
    np.testing.assert_allclose(J, J_fd, rtol=1e-6, atol=1e-7)
