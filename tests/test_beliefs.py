import numpy as np
import pytest

from functions import beliefs as B


@pytest.mark.parametrize(("q", "sigma2"), [(1.0, 90.0), (0.3, 2.0), (2.0, 0.01)])
def test_steady_state_gain_is_the_fixed_point_of_the_filter(q, sigma2):
    trace = B.kalman_filter(np.zeros(2000), q, sigma2, P0=1e3)
    assert trace.gain[-1] == pytest.approx(B.steady_state_gain(q, sigma2), rel=1e-12)
    assert trace.var[-1] == pytest.approx(B.steady_state_variance(q, sigma2), rel=1e-12)


def test_adam_beta1_corresponds_to_noise_ratio_90():
    assert B.beta1_from_noise_ratio(90.0) == pytest.approx(0.9, abs=1e-15)
    assert B.noise_ratio_from_beta1(0.9) == pytest.approx(90.0)
    rho = np.logspace(-2, 4, 7)
    np.testing.assert_allclose([B.noise_ratio_from_beta1(b) for b in B.beta1_from_noise_ratio(rho)], rho, rtol=1e-10)
    assert np.all(np.diff(B.beta1_from_noise_ratio(rho)) > 0), "noisier gradients -> longer memory"


def test_steady_state_filter_is_the_ema(rng):
    y = np.cumsum(rng.normal(size=500)) + 9.5 * rng.normal(size=500)
    kf = B.kalman_filter(y, 1.0, 90.0)
    np.testing.assert_allclose(kf.mean, B.ema(y, 1 - B.steady_state_gain(1.0, 90.0)), rtol=0, atol=1e-12)


def test_diffuse_filter_converges_to_the_ema(rng):
    y = np.cumsum(rng.normal(size=600)) + 9.5 * rng.normal(size=600)
    kf = B.kalman_filter(y, 1.0, 90.0, P0=100.0)
    gap = np.abs(kf.mean - B.ema(y, 0.9))
    assert gap[:20].max() > 1e-2, "a visible transient"
    assert gap[300:].max() < 1e-10


def test_running_curvature_is_cumulative_mean():
    g = np.array([[1.0, 2.0], [3.0, 0.0]])
    np.testing.assert_allclose(B.running_curvature(g), [[1.0, 4.0], [5.0, 2.0]])


def test_reset_target_and_predictive_mean():
    mu_old, mu0 = np.array([2.0, -1.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(B.reset_target(mu_old, mu0, 0.75), [1.5, -0.5])
    assert B.optimal_reset_fraction(0.75) == 0.25
    np.testing.assert_allclose(B.predictive_task_mean(mu_old, mu0, 0.75, 0.0), mu_old)
    np.testing.assert_allclose(B.predictive_task_mean(mu_old, mu0, 0.75, 1.0), [1.5, -0.5])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: B.steady_state_gain(0.0, 1.0), "Invalid q value"),
        (lambda: B.steady_state_gain(1.0, -1.0), "Invalid sigma2 value"),
        (lambda: B.ema([1.0], 1.5), "Invalid beta1 value"),
        (lambda: B.noise_ratio_from_beta1(1.0), "Invalid beta1 value"),
        (lambda: B.reset_target([0.0], [0.0], -0.1), "Invalid c value"),
        (lambda: B.predictive_task_mean([0.0], [0.0], 0.5, 2.0), "Invalid p value"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
