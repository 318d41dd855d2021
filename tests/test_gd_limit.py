"""E2's flows (functions/gd_limit.py): exact on a quadratic, and the order of the gradient-descent limit on the
exact free-end optimum (gradient flow off by O(gamma^-2), the modified loss by O(gamma^-4))."""

import numpy as np
import pytest

from functions.errors import ConvergenceError
from functions.gd_limit import gradient_flow, modified_coefficient
from functions.landscapes import QuadraticModel
from functions.lq import free_end_lq, rates
from functions.solver_checks import horizon_grid

RNG = np.random.default_rng(4)
Q, _ = np.linalg.qr(RNG.standard_normal((5, 5)))
H_EIG = np.array([1e-3, 1e-2, 0.05, 0.3, 1.0])
H = Q @ np.diag(H_EIG) @ Q.T
H = (H + H.T) / 2
STAR = RNG.standard_normal(5)
THETA0 = np.zeros(5)


def test_modified_coefficient_is_eta_k_over_gamma_squared():
    assert modified_coefficient(4.0, eta=0.5, k=3.0) == pytest.approx(0.5 * 3.0 / 16.0)
    with pytest.raises(ValueError, match="gamma"):
        modified_coefficient(0.0)


@pytest.mark.parametrize("correction", [0.0, 0.2])
def test_flows_match_the_closed_form_on_a_quadratic(correction):
    loss = QuadraticModel(H, STAR)
    t = np.concatenate([[0.0], np.geomspace(1e-2, 3e3, 200)])
    lr = 0.7
    got = gradient_flow(loss, THETA0, t, lr, correction=correction, rtol=1e-11)
    decay = np.exp(-lr * (H_EIG - correction * H_EIG**2)[None, :] * t[:, None])
    exact = STAR + (decay * ((THETA0 - STAR) @ Q)) @ Q.T
    np.testing.assert_allclose(got, exact, atol=1e-8 * np.abs(STAR).max())


def _errors(gamma):
    """max_t |theta*(t) - flow(t)| / |theta0 - theta*| for gradient flow and the modified flow."""
    loss = QuadraticModel(H, STAR)
    T, t = horizon_grid(rates(H_EIG, gamma), 400)
    opt = free_end_lq(H, STAR, THETA0, T, gamma)(t)
    scale = np.linalg.norm(THETA0 - STAR)
    out = []
    for c in (0.0, modified_coefficient(gamma)):
        flow = gradient_flow(loss, THETA0, t, 1.0 / gamma, correction=c, rtol=1e-12)
        out.append(np.max(np.linalg.norm(opt - flow, axis=1)) / scale)
    return out


def test_the_gradient_descent_limit_has_order_two_and_the_modified_loss_order_four():
    gammas = np.array([4.0, 8.0, 16.0])
    errs = np.array([_errors(g) for g in gammas])
    slope_gf = np.polyfit(np.log(gammas), np.log(errs[:, 0]), 1)[0]
    slope_mod = np.polyfit(np.log(gammas), np.log(errs[:, 1]), 1)[0]
    assert slope_gf == pytest.approx(-2.0, abs=0.15)
    assert slope_mod == pytest.approx(-4.0, abs=0.4)
    ratio = errs[:, 0] / errs[:, 1]  # grows like gamma^2 / (eta k h_max)
    assert ratio[0] > 5 and np.all(np.diff(ratio) > 0)


def test_a_flow_that_cannot_reach_T_raises():
    class Blowup:
        def linearise_path(self, theta):
            return None, -np.exp(theta) * 1e10, None

        def hessian(self, theta):
            return -np.diag(np.exp(theta)) * 1e10

    with pytest.raises(ConvergenceError, match="stopped before"):
        gradient_flow(Blowup(), np.ones(1), np.array([0.0, 1.0, 1e6]), 1.0)


def test_bad_correction_is_refused():
    with pytest.raises(ValueError, match="correction"):
        gradient_flow(QuadraticModel(H, STAR), THETA0, np.array([0.0, 1.0, 2.0]), 1.0, correction=-1.0)
