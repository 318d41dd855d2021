"""E1's rate fits (functions/mode_rates.py): exact on exponentials, exact on the free-end LQ optimum's modes, and
refusing what is not one exponential."""

import numpy as np
import pytest

from functions.lq import free_end_lq, rates
from functions.mode_rates import FIT_WINDOW, fit_mode_rates, loglog_slope
from functions.solver_checks import horizon_grid


def _modes(t, amplitudes, rate_list):
    """theta(t) - theta* = sum_i c_i e^{-r_i t} e_i (the identity as eigenvectors)."""
    return np.stack([c * np.exp(-r * t) for c, r in zip(amplitudes, rate_list, strict=True)], axis=1)


def test_pure_exponentials_give_their_rates_on_a_geometric_grid():
    r_true = np.array([0.01, 0.1, 1.0, 7.0])
    _, t = horizon_grid(r_true, 400)
    theta = _modes(t, [1.0, -2.0, 0.5, 3.0], r_true)
    fit = fit_mode_rates(t, theta, np.zeros(4), h=r_true**2, V=np.eye(4))
    assert fit.fitted.all()
    np.testing.assert_allclose(fit.rate, r_true, rtol=1e-9)
    assert np.all(fit.misfit < 1e-9)


def test_eigenvectors_rotate_the_modes_back():
    rng = np.random.default_rng(1)
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    r_true = np.array([0.05, 0.5, 2.0])
    t = np.linspace(0, 400, 4001)
    star = rng.standard_normal(3)
    theta = star + _modes(t, [1.0, 1.0, 1.0], r_true) @ V.T
    fit = fit_mode_rates(t, theta, star, h=np.ones(3), V=V)
    np.testing.assert_allclose(fit.rate, r_true, rtol=1e-8)


def test_the_window_stops_at_its_last_e_fold_and_ignores_a_rounding_floor():
    # e^{-t}, then a plateau at e^{-12} (what rounding leaves); the fit must stop where the decay passes e^{-10}.
    t = np.linspace(0, 30, 3001)
    a = np.maximum(np.exp(-t), np.exp(-12.0))
    fit = fit_mode_rates(t, a[:, None], np.zeros(1), h=np.ones(1), V=np.eye(1))
    assert fit.fitted[0] and fit.rate[0] == pytest.approx(1.0, rel=1e-9)


def test_the_window_starts_after_the_peak():
    # A mode that first grows (a nonlinear transient), peaks at t = 5, then decays at rate 0.3.
    t = np.linspace(0, 100, 5001)
    a = np.where(t < 5, t / 5, np.exp(-0.3 * (t - 5)))
    fit = fit_mode_rates(t, a[:, None], np.zeros(1), h=np.ones(1), V=np.eye(1))
    assert fit.fitted[0] and fit.rate[0] == pytest.approx(0.3, rel=1e-9)


def test_a_mixture_of_two_rates_a_sign_change_and_a_still_mode_are_not_fitted():
    # Two rates of comparable weight across the window (log|a| bends by 0.09 e-folds RMS); a zero crossing.
    t = np.linspace(0, 400, 8001)
    mixture = np.exp(-0.1 * t) + 3 * np.exp(-0.2 * t)
    crossing = np.exp(-0.2 * t) - 2 * np.exp(-0.3 * t)
    still = np.zeros_like(t)
    clean = np.exp(-0.5 * t)
    theta = np.stack([mixture, crossing, still, clean], axis=1)
    fit = fit_mode_rates(t, theta, np.zeros(4), h=np.ones(4), V=np.eye(4))
    assert fit.fitted.tolist() == [False, False, False, True]
    assert fit.misfit[0] > 0.05 and np.isnan(fit.rate[2])


def test_a_mode_below_the_peak_floor_is_not_fitted():
    t = np.linspace(0, 50, 2001)
    theta = _modes(t, [1.0, 1e-12], [0.5, 0.5])
    fit = fit_mode_rates(t, theta, np.zeros(2), h=np.ones(2), V=np.eye(2))
    assert fit.fitted.tolist() == [True, False]


@pytest.mark.parametrize("gamma", [1e-3, 0.3, 30.0])
def test_the_exact_free_end_optimum_of_a_quadratic_obeys_the_law(gamma):
    # Three decades of curvature; the free-end LQ optimum's modes decay at r(h) (up to its end layer at T).
    h = np.geomspace(1e-4, 0.2, 12)
    r = rates(h, gamma)
    T, t = horizon_grid(r, 512)
    exact = free_end_lq(np.diag(h), np.zeros(12), np.ones(12), T, gamma)
    fit = fit_mode_rates(t, exact(t), np.zeros(12), h, np.eye(12))
    assert fit.fitted.all()
    np.testing.assert_allclose(fit.rate, r, rtol=1e-6)
    slope = loglog_slope(h, fit.rate)
    assert slope.value == pytest.approx(loglog_slope(h, r, n_boot=1).value, abs=1e-6)
    # The limits: 1/2 when gamma^2 << eta k h_min, 1 when gamma^2 >> eta k h_max, in between otherwise.
    if gamma == 1e-3:
        assert slope.value == pytest.approx(0.5, abs=0.05)
    elif gamma == 30.0:
        assert slope.value == pytest.approx(1.0, abs=0.05)
    else:
        assert 0.55 < slope.value < 0.95


def test_loglog_slope_of_a_power_law_and_its_bootstrap():
    h = np.geomspace(1e-3, 1.0, 30)
    exact = loglog_slope(h, 2.0 * h**0.7)
    assert exact.value == pytest.approx(0.7, abs=1e-12)
    assert exact.low == pytest.approx(0.7, abs=1e-12) and exact.high == pytest.approx(0.7, abs=1e-12)
    noisy_rate = 2.0 * h**0.7 * np.exp(np.random.default_rng(0).normal(0, 0.2, h.size))
    a, b = loglog_slope(h, noisy_rate, seed=3), loglog_slope(h, noisy_rate, seed=3)
    assert a == b  # seeded: the same interval on every run
    assert a.low < a.value < a.high and a.high - a.low > 0.02
    assert a.low < 0.7 < a.high


@pytest.mark.parametrize(
    ("h", "rate", "match"),
    [
        (np.ones(4), np.ones(4), "all curvatures are equal"),
        (np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 1.0]), "finite and > 0"),
        (np.array([1.0, 2.0]), np.array([1.0, 2.0]), "n >= 3"),
    ],
)
def test_loglog_slope_refuses_bad_input(h, rate, match):
    with pytest.raises(ValueError, match=match):
        loglog_slope(h, rate)


def test_fit_refuses_bad_shapes_and_windows():
    t = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="Invalid shapes"):
        fit_mode_rates(t, np.zeros((10, 2)), np.zeros(3), np.ones(3), np.eye(3))
    with pytest.raises(ValueError, match="window"):
        fit_mode_rates(t, np.zeros((10, 1)), np.zeros(1), np.ones(1), np.eye(1), window=(5.0, 2.0))
    assert FIT_WINDOW[0] < FIT_WINDOW[1]


def test_the_fit_weights_time_not_nodes():
    # A slightly curved log-amplitude: on a geometric grid (nodes crowded early) the trapezoid-weighted fit must
    # give the continuous-time least-squares rate, which a fine uniform grid approximates.
    def a(t):
        return np.exp(-0.1 * t) + 0.5 * np.exp(-0.15 * t)

    _, t_geo = horizon_grid(np.array([0.005, 5.0]), 400)
    t_uni = np.linspace(0, t_geo[-1], 200001)
    fits = [fit_mode_rates(t, a(t)[:, None], np.zeros(1), np.ones(1), np.eye(1), max_misfit=1.0) for t in
            (t_geo, t_uni)]  # fmt: skip
    assert fits[0].fitted[0] and fits[1].fitted[0]
    assert fits[0].rate[0] == pytest.approx(fits[1].rate[0], rel=1e-3)  # the windows end on different nodes


def test_the_bootstrap_interval_brackets_the_slope_on_both_sides():
    h = np.geomspace(1e-3, 1.0, 60)
    rate = h**0.6 * np.exp(np.random.default_rng(5).normal(0, 0.3, h.size))
    s = loglog_slope(h, rate, level=0.5, n_boot=4000)
    below, above = s.value - s.low, s.high - s.value
    assert below > 0 and above > 0 and 0.5 < below / above < 2.0
    wide = loglog_slope(h, rate, level=0.95, n_boot=4000)
    assert wide.low < s.low and wide.high > s.high
