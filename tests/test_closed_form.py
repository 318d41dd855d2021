"""Closed forms (derived in functions/closed_form.py) against the numerical boundary-value solver.

The BVP is solved on [0, T] with a free end; the natural condition theta_dot(T) = f(theta(T)) adds
a boundary layer near T that decays like e^{-(T - t) Re(lambda_u)}, Re(lambda_u) >= sqrt(eta k h),
so the comparison uses [0, T/2], where that layer is below 1e-12.
"""

import numpy as np
import pytest
from scipy.integrate import quad

from functions.bvp import solve_bvp
from functions.closed_form import (
    ballistic_rate,
    cumulative_objective,
    gd_rate,
    quadratic_optimum,
    rate,
    rate_ratio,
)
from functions.geometry import DecayDrift, RotationDrift, diagonal_metric
from functions.landscapes import Quadratic
from functions.objective import Problem, lagrangian

T = 40.0
THETA0 = np.array([1.5, 1.5])
TOL = 1e-6

CASES = {
    "default-h(4,9)": {"loss": Quadratic([4.0, 9.0], [0.0, -0.5])},
    "default-h(4,4)": {"loss": Quadratic([4.0, 4.0], [0.5, -0.5])},
    "metric-g(1/50,1)": {"loss": Quadratic([4.0, 4.0], [0.0, -0.5]), "metric": diagonal_metric([1 / 50, 1])},
    "metric-g(0.5,1)": {"loss": Quadratic([4.0, 4.0], [0.0, -0.5]), "metric": diagonal_metric([0.5, 1])},
    "rotation-q3": {"loss": Quadratic([4.0, 4.0], [0.0, -0.5]), "drift": RotationDrift(3.0)},
    "rotation-q10": {"loss": Quadratic([4.0, 4.0], [0.0, -0.5]), "drift": RotationDrift(10.0)},
    "decay-j2": {"loss": Quadratic([4.0, 4.0], [0.0, -0.5]), "drift": DecayDrift(2.0)},
    "decay-j10": {"loss": Quadratic([4.0, 4.0], [0.0, -0.5]), "drift": DecayDrift(10.0)},
}


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("case", list(CASES))
def test_closed_form_equals_bvp(case, gamma):
    problem = Problem(gamma=gamma, **CASES[case])
    opt = quadratic_optimum(problem, THETA0)
    sol = solve_bvp(problem, THETA0, T)
    t = np.linspace(0.0, T / 2, 801)
    assert np.max(np.abs(sol(t) - opt(t))) <= TOL
    assert np.max(np.abs(sol.velocity(t) - opt.velocity(t))) <= 10 * TOL
    # End point: by T/2 the transient has decayed far below TOL (checked), so theta(T/2) = theta*.
    assert np.max(np.abs(THETA0 - opt.theta_star)) * np.exp(-opt.r.min() * T / 2) < 1e-3 * TOL
    assert np.max(np.abs(sol(T / 2) - opt.theta_star)) <= TOL


def test_drift_end_points_differ_from_minimum():
    loss = Quadratic([4.0, 4.0], [0.0, -0.5])
    for drift in (RotationDrift(10.0), DecayDrift(10.0)):
        for gamma in (0.0, 2.0):
            end = quadratic_optimum(Problem(loss, gamma=gamma, drift=drift), THETA0).theta_star
            assert np.linalg.norm(end - loss.mu) > 0.4, "the drift holds the learner short of mu"
            assert np.linalg.norm(end) < np.linalg.norm(loss.mu)


def test_rotation_and_decay_end_points_coincide_only_at_gamma_zero():
    loss = Quadratic([4.0, 4.0], [0.0, -0.5])
    ends = {
        g: [
            quadratic_optimum(Problem(loss, gamma=g, drift=d), THETA0).theta_star
            for d in (RotationDrift(10.0), DecayDrift(10.0))
        ]
        for g in (0.0, 2.0)
    }
    np.testing.assert_allclose(ends[0.0][0], ends[0.0][1], atol=1e-15)
    assert np.linalg.norm(ends[2.0][0] - ends[2.0][1]) > 1e-3


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_cumulative_objective_matches_quadrature(gamma):
    problem = Problem(
        Quadratic([1.0, 4.0], [0.2, -0.5]), gamma=gamma, eta=0.7, k=1.3, metric=diagonal_metric([2.0, 0.5])
    )
    opt = quadratic_optimum(problem, THETA0)
    for t_end in (1.0, 5.0, 200.0):
        integrand = lambda t: lagrangian(problem, t, opt(t), opt.velocity(t))  # noqa: E731
        numeric, _ = quad(integrand, 0.0, t_end, epsabs=1e-13, epsrel=1e-12, limit=500)
        assert cumulative_objective(problem, THETA0, t_end) == pytest.approx(numeric, rel=1e-9)
    assert cumulative_objective(problem, THETA0) == pytest.approx(numeric, rel=1e-9)


def test_gd_limit_at_large_gamma():
    """At gamma = 50 the optimum is gradient flow at rate eta k / gamma.

    r = eta k h / gamma (1 - delta + O(delta^2)) with delta = eta k h / gamma^2, so
    |theta_opt(t) - theta_gd(t)| <= |x0| max_t t e^{-rt} (r_gd - r) ~ |x0| delta / e per direction.
    We check the measured gap against this bound (it must be neither exceeded nor much smaller).
    """
    gamma, h = 50.0, np.array([1.0, 4.0])
    problem = Problem(Quadratic(h), gamma=gamma)
    horizon = 600.0
    sol = solve_bvp(problem, THETA0, horizon, n_nodes=2000, tol=1e-8)
    t = np.linspace(0.0, horizon / 2, 3001)
    theta_gd = THETA0 * np.exp(-gd_rate(h, gamma) * t[:, None])
    gap = np.max(np.abs(sol(t) - theta_gd), axis=0)
    predicted = np.abs(THETA0) * (h / gamma**2) / np.e
    assert np.all(gap <= 1.05 * predicted)
    assert np.all(gap >= 0.9 * predicted)


def test_ballistic_limit_rates_scale_as_sqrt_h():
    h = np.array([1 / 9, 1.0])
    problem = Problem(Quadratic(h), gamma=0.0)
    sol = solve_bvp(problem, THETA0, 120.0)
    t = np.linspace(1.0, 5.0, 50)  # |theta| >= 1e-2 here, far above the solver error
    r_measured = -np.polyfit(t, np.log(np.abs(sol(t))), 1)[0]
    np.testing.assert_allclose(r_measured, ballistic_rate(h), rtol=1e-6)
    assert r_measured[0] / r_measured[1] == pytest.approx(np.sqrt(h[0] / h[1]), rel=1e-6)


def test_rate_ratio_regimes():
    assert rate_ratio(4.0, 1.0, 0.0) == pytest.approx(2.0)
    assert rate_ratio(4.0, 1.0, 1e6) == pytest.approx(4.0, rel=1e-5)
    ratios = [rate_ratio(4.0, 1.0, g) for g in (0.0, 1.0, 10.0)]
    assert ratios[0] < ratios[1] < ratios[2] < 4.0


def test_rate_is_exact_for_large_gamma():
    gamma, c = 1e8, 2.0
    assert rate(c, gamma) == pytest.approx(c / gamma, rel=1e-12)


def test_closed_form_rejects_unsupported():
    with pytest.raises(ValueError, match="isotropic"):
        quadratic_optimum(Problem(Quadratic([1.0, 4.0]), drift=RotationDrift(1.0)), THETA0)
    with pytest.raises(ValueError, match="f = 0"):
        cumulative_objective(Problem(Quadratic([1.0, 4.0]), drift=DecayDrift(1.0)), THETA0)
    with pytest.raises(ValueError, match="theta0 shape"):
        quadratic_optimum(Problem(Quadratic([1.0, 4.0])), [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rate(-1.0, 1.0), r"Invalid h \(curvature\) value: -1.0; every entry must be a finite number > 0"),
        (lambda: rate(0.0, 1.0), r"Invalid h \(curvature\) value: 0.0"),
        (lambda: rate(1.0, 1.0, g=0.0), r"Invalid g \(metric\) value: 0.0"),
        (lambda: rate(1.0, 1.0, g=-2.0), r"Invalid g \(metric\) value"),
        (lambda: rate_ratio(4.0, 0.0, 1.0), r"Invalid h \(curvature\) value: 0.0"),
        (lambda: rate_ratio(-4.0, 1.0, 0.0), r"Invalid h \(curvature\) value: -4.0"),
        (lambda: ballistic_rate(-1.0), r"Invalid h \(curvature\) value: -1.0"),
        (lambda: ballistic_rate(np.array([1.0, np.nan])), r"Invalid h \(curvature\) value"),
        (lambda: gd_rate(0.0, 1.0), r"Invalid h \(curvature\) value"),
        (lambda: cumulative_objective(Problem(Quadratic([1.0])), [1.0], -1.0), "Invalid t value.*must be >= 0"),
        (lambda: cumulative_objective(Problem(Quadratic([1.0])), [1.0], np.nan), "Invalid t value"),
    ],
)
def test_closed_forms_refuse_bad_values(call, match):
    with pytest.raises(ValueError, match=match):
        call()
