"""E3's learners (functions/learner_flows.py): gradient flow and heavy ball against their closed forms on a
quadratic, the Ballistic and Adam flows against an independent integration of their equations (v itself, not
log v), every Jacobian against finite differences, and bad inputs refused."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from functions import learner_flows as F
from functions.errors import ConvergenceError
from functions.landscapes import QuadraticModel

RNG = np.random.default_rng(7)
Q, _ = np.linalg.qr(RNG.standard_normal((4, 4)))
H_EIG = np.array([0.01, 0.1, 0.5, 2.0])
H = Q @ np.diag(H_EIG) @ Q.T
H = (H + H.T) / 2
STAR = RNG.standard_normal(4)


T_GRID = np.concatenate([[0.0], np.geomspace(1e-2, 200.0, 120)])


def test_gradient_flow_is_the_exponential_of_each_mode():
    loss, theta0 = QuadraticModel(H, STAR), np.zeros(4)
    got = F.learner_path("gf", loss, theta0, T_GRID, alpha=0.8, rtol=1e-10)
    exact = STAR + (np.exp(-0.8 * np.outer(T_GRID, H_EIG)) * ((theta0 - STAR) @ Q)) @ Q.T
    np.testing.assert_allclose(got, exact, atol=1e-7)


def test_heavy_ball_is_each_mode_of_the_damped_oscillator_from_rest():
    """theta_ddot + a theta_dot + b h theta = 0 per mode, theta_dot(0) = 0: the 2x2 matrix exponential."""
    loss, theta0, a, b = QuadraticModel(H, STAR), np.zeros(4), 0.3, 1.7
    got = F.learner_path("heavy_ball", loss, theta0, T_GRID, a=a, b=b, rtol=1e-10)
    x0 = (theta0 - STAR) @ Q

    def mode(h, x, s):
        return (expm(np.array([[0, 1], [-b * h, -a]]) * s) @ [x, 0.0])[0]

    modes = np.array([[mode(h, x, s) for h, x in zip(H_EIG, x0, strict=True)] for s in T_GRID])
    np.testing.assert_allclose(got, STAR + modes @ Q.T, atol=1e-7)


def _reference(key, model, theta0, t, c, batch=16, eps=1e-8):
    """The Ballistic / Adam flows written out with v itself, integrated by an explicit method."""
    d = model.dim
    g0, s0 = model.grad(theta0), model.minibatch_second_moment(theta0, batch)
    if key == "ballistic":
        y0 = np.concatenate([theta0, s0])

        def rhs(_, y):
            th, v = y[:d], y[d:]
            return np.concatenate([-c["alpha"] * model.grad(th) / np.sqrt(v + eps),
                                   (model.minibatch_second_moment(th, batch) - v) / c["tau"]])  # fmt: skip
    else:
        y0 = np.concatenate([theta0, g0, s0])

        def rhs(_, y):
            th, m, v = y[:d], y[d : 2 * d], y[2 * d :]
            return np.concatenate([-c["alpha"] * m / (np.sqrt(v) + eps), (model.grad(th) - m) / c["tau1"],
                                   (model.minibatch_second_moment(th, batch) - v) / c["tau2"]])  # fmt: skip

    sol = solve_ivp(rhs, (0, t[-1]), y0, method="DOP853", t_eval=t, rtol=1e-11, atol=1e-13)
    return sol.y[:d].T


@pytest.mark.parametrize(("key", "c"), [("ballistic", {"alpha": 0.05, "tau": 2.0}),
                                        ("adam", {"alpha": 0.05, "tau1": 0.5, "tau2": 3.0})])  # fmt: skip
def test_ballistic_and_adam_flows_match_an_independent_integration(key, c, small_logistic):
    model = small_logistic
    theta0 = np.random.default_rng(1).standard_normal(model.dim) * 0.3
    t = np.linspace(0.0, 30.0, 31)
    got = F.learner_path(key, model, theta0, t, batch=16, rtol=1e-10, **c)
    np.testing.assert_allclose(got, _reference(key, model, theta0, t, c), atol=2e-7)
    assert np.linalg.norm(got[-1] - got[0]) > 0.1  # the learner moved


@pytest.mark.parametrize(("key", "c"), [("gf", {"alpha": 0.7}), ("heavy_ball", {"a": 0.4, "b": 2.0}),
                                        ("ballistic", {"alpha": 0.3, "tau": 2.0}),
                                        ("adam", {"alpha": 0.3, "tau1": 0.5, "tau2": 3.0})])  # fmt: skip
def test_every_jacobian_matches_finite_differences(key, c, small_logistic):
    """With B huge, s_B = g^2 and the Jacobian's one approximation (s_B's spread not differentiated) vanishes."""
    model = small_logistic
    d, rng = model.dim, np.random.default_rng(2)
    rhs, jac, state0 = F._system(key, model, c, 10**12, 1e-8, d)
    y = state0(rng.standard_normal(d) * 0.3)
    y = y + 0.05 * rng.standard_normal(y.size) * np.abs(y).clip(0.1)
    num = np.empty((y.size, y.size))
    for j in range(y.size):
        e = np.zeros(y.size)
        e[j] = 1e-6 * max(1.0, abs(y[j]))
        num[:, j] = (rhs(y + e) - rhs(y - e)) / (2 * e[j])
    np.testing.assert_allclose(jac(y), num, rtol=1e-5, atol=1e-6 * np.abs(num).max())


def test_bad_inputs_are_refused_and_a_runaway_integration_stops(small_logistic):
    model = small_logistic
    theta0, t = np.zeros(model.dim), np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="key"):
        F.learner_path("sgd", model, theta0, t, alpha=1.0)
    with pytest.raises(ValueError, match=r"expected exactly \['alpha', 'tau'\]"):
        F.learner_path("ballistic", model, theta0, t, alpha=1.0)
    with pytest.raises(ValueError, match="tau"):
        F.learner_path("ballistic", model, theta0, t, alpha=1.0, tau=-1.0)
    with pytest.raises(ValueError, match="theta0"):
        F.learner_path("gf", model, theta0[:-1], t, alpha=1.0)
    with pytest.raises(ValueError, match="batch"):
        F.learner_path("adam", model, theta0, t, batch=0, alpha=1.0, tau1=1.0, tau2=1.0)
    with pytest.raises(ConvergenceError, match="more than 5 evaluations"):
        F.learner_path("gf", model, theta0, np.linspace(0, 100, 5), max_evals=5, alpha=1.0)
