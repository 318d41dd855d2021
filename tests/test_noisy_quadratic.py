import numpy as np
import pytest
import torch

from functions import noisy_quadratic as nq
from functions.optimisers import make_optimiser
from functions.tasks import compare_resets, cumulative_losses, measured_optimal_fraction


def test_sgd_mean_path_follows_the_deterministic_recursion():
    h, lr = np.array([0.5, 2.0]), 0.05
    paths = nq.simulate({"sgd": lr}, h, [1.0, -1.0], 1.0, 200, 4000, seed=1)["sgd"]
    t = np.arange(201)[:, None]
    expected = np.array([1.0, -1.0]) * (1 - lr * h) ** t
    assert np.max(np.abs(paths.mean(axis=1) - expected)) < 0.02


def test_fit_rates_recovers_an_exponential():
    t = np.arange(400)[:, None]
    mean_path = 2.0 * np.exp(-np.array([0.01, 0.03]) * t)  # theta(0) = 2: rates are relative to the start
    np.testing.assert_allclose(nq.fit_rates(mean_path, start=10), [0.01, 0.03], rtol=1e-10)
    with pytest.raises(ValueError, match="Invalid fit window"):
        nq.fit_rates(mean_path, start=395)


@pytest.mark.parametrize("name", ["sgd", "adam", "ballistic"])
def test_simulate_mean_is_the_mean_of_the_runs(name):
    """mean=True records the mean over seeds of the very runs that mean=False returns (same noise, every step,
    across a noise-chunk boundary)."""
    steps = nq.NOISE_CHUNK + 7
    paths = nq.simulate({name: 1e-2}, [0.5, 2.0], [1.0, -1.0], 1.0, steps, 5, seed=4)[name]
    mean = nq.simulate({name: 1e-2}, [0.5, 2.0], [1.0, -1.0], 1.0, steps, 5, seed=4, mean=True)[name]
    assert paths.shape == (steps + 1, 5, 2) and mean.shape == (steps + 1, 2)
    np.testing.assert_allclose(mean, paths.mean(axis=1), rtol=0, atol=1e-14)
    assert np.all(np.diff(paths[:, :, 0], axis=0) != 0), "every step moves theta (the noise is fed every step)"


@pytest.mark.parametrize("mean", [False, True])
def test_optimisers_run_side_by_side_on_the_same_noise(mean):
    """Common random numbers: each optimiser's runs in a joint simulation are exactly its runs alone (same seed),
    whatever the others are; a mutant that drew noise per optimiser or mixed up their states would differ."""
    steps, lrs = nq.NOISE_CHUNK + 5, {"sgd": 0.05, "adam": 1e-2, "ballistic": 2e-2}
    joint = nq.simulate(lrs, [0.5, 2.0], [1.0, -1.0], 1.0, steps, 4, beta2=0.99, seed=5, mean=mean)
    assert list(joint) == list(lrs)
    for name, lr in lrs.items():
        alone = nq.simulate({name: lr}, [0.5, 2.0], [1.0, -1.0], 1.0, steps, 4, beta2=0.99, seed=5, mean=mean)[name]
        np.testing.assert_array_equal(joint[name], alone)
    assert not np.allclose(joint["adam"], joint["ballistic"]), "each optimiser keeps its own state"


@pytest.mark.parametrize(
    ("lrs", "match"),
    [
        ({}, r"Invalid lrs value: \{\}; expected a dict \{optimiser: learning rate\}"),
        ({"sgd": 0.1, "adam": -1.0}, r"Invalid lrs\['adam'\] value: -1.0; lrs\['adam'\] must be > 0"),
        ({"lion": 0.1}, r"Invalid optimiser value: 'lion'"),
    ],
)
def test_simulate_rejects_bad_learning_rates_before_running(lrs, match):
    with pytest.raises(ValueError, match=match):
        nq.simulate(lrs, [1.0], [0.0], 1.0, 10, 2)


def test_simulate_seeds_are_independent_and_reproducible():
    a = nq.simulate({"sgd": 0.1}, [1.0], [0.0], 1.0, 50, 3, seed=2)["sgd"]
    np.testing.assert_array_equal(a, nq.simulate({"sgd": 0.1}, [1.0], [0.0], 1.0, 50, 3, seed=2)["sgd"])
    assert not np.allclose(a[:, 0], a[:, 1]), "each run gets its own noise"
    assert not np.allclose(a, nq.simulate({"sgd": 0.1}, [1.0], [0.0], 1.0, 50, 3, seed=3)["sgd"])


def test_curve_distance_ignores_time_parametrisation():
    s, dense = np.linspace(0, 1, 200), np.linspace(0, 1, 5000)
    curve = np.stack([np.cos(dense), np.sin(dense)], axis=1)
    warped = np.stack([np.cos(s**3), np.sin(s**3)], axis=1)
    assert nq.curve_distance(warped, curve) < 1e-4  # spacing of the reference: 2e-4
    assert nq.curve_distance(warped + np.array([0.1, 0.0]), curve) > 0.05


def test_make_optimiser_rejects_unknown_optimiser():
    with pytest.raises(ValueError, match="Invalid optimiser value"):
        make_optimiser("lion", [], 0.1)


@pytest.mark.parametrize("c", [0.25, 0.75])
def test_cumulative_loss_matches_expectation_and_optimum_is_one_minus_c(c):
    """With full convergence inside each task, E|theta_start - mu_new|^2 = s^2 d [(1 - rho - c)^2 + 1 - c^2]."""
    rhos = np.linspace(0, 1, 21)
    losses = cumulative_losses(rhos, c, n_tasks=300, steps=60, lr=0.3, dim=10, n_sequences=30)
    per_unit = 0.5 * np.sum((1 - 0.3) ** (2 * np.arange(60)))
    expected = per_unit * 10 * ((1 - rhos - c) ** 2 + 1 - c**2)
    np.testing.assert_allclose(losses, expected, rtol=0.05)
    assert measured_optimal_fraction(rhos, losses) == pytest.approx(1 - c, abs=0.02)


def test_compare_resets_orders_strategies():
    out = compare_resets([0.0, 0.5, 0.9], np.linspace(0, 1, 21), n_tasks=200, n_sequences=10)
    assert np.all(out["belief"] <= out["none"] + 1e-12) and np.all(out["belief"] <= out["full"] + 1e-12)
    assert out["none"][-1] < out["full"][-1], "highly correlated tasks: keeping weights beats a full reset"
    assert out["full"][0] < out["none"][0], "independent tasks: a full reset beats keeping weights"


def test_gradient_noise_has_covariance_sigma2_h():
    """SGD's stationary variance lr sigma^2 / (2 - lr h) pins the noise scale sigma sqrt(h) (noise sigma alone
    would give lr sigma^2 / (h (2 - lr h)), 4x off in each direction here)."""
    h, lr, sigma = np.array([0.5, 2.0]), 0.1, 1.5
    paths = nq.simulate({"sgd": lr}, h, [0.0, 0.0], sigma, 300, 6000, seed=3)["sgd"]
    measured = paths[-1].var(axis=0)
    np.testing.assert_allclose(measured, lr * sigma**2 / (2 - lr * h), rtol=0.08)


def test_simulate_passes_beta2_to_the_optimisers():
    """Adam's and Ballistic's curvature belief uses the beta2 given (a mutant ignoring it changes the path)."""
    a = nq.simulate({"adam": 1e-2}, [1.0], [1.0], 1.0, 30, 2, beta2=0.9)["adam"]
    b = nq.simulate({"adam": 1e-2}, [1.0], [1.0], 1.0, 30, 2, beta2=0.999)["adam"]
    c = nq.simulate({"ballistic": 1e-2}, [1.0], [1.0], 1.0, 30, 2, beta2=0.9)["ballistic"]
    d = nq.simulate({"ballistic": 1e-2}, [1.0], [1.0], 1.0, 30, 2, beta2=0.999)["ballistic"]
    assert not np.allclose(a, b) and not np.allclose(c, d)


def test_make_optimiser_uses_the_betas_given():
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert make_optimiser("adam", p, 1e-3, adam_betas=(0.5, 0.6)).param_groups[0]["betas"] == (0.5, 0.6)
    assert make_optimiser("ballistic", p, 1e-3, ballistic_beta2=0.7).param_groups[0]["betas"] == (0.0, 0.7)
    assert make_optimiser("sgd", p, 0.3).param_groups[0]["lr"] == 0.3
    assert make_optimiser("sgd", p, 0.3).param_groups[0]["momentum"] == 0


def test_simulate_feeds_the_documented_noise_stream():
    """SGD's increments give back xi_t = -(theta_{t+1} - (1 - lr h) theta_t) / (lr sigma sqrt(h)): they are
    default_rng(seed).standard_normal drawn in (step, seed, direction) order, chunk after chunk."""
    h, lr, sigma, steps = np.array([0.5, 2.0]), 0.1, 1.5, 2 * nq.NOISE_CHUNK + 3
    paths = nq.simulate({"sgd": lr}, h, [1.0, -1.0], sigma, steps, 3, seed=7)["sgd"]
    xi = -(paths[1:] - (1 - lr * h) * paths[:-1]) / (lr * sigma * np.sqrt(h))
    rng = np.random.default_rng(7)
    expected = np.concatenate(
        [
            rng.standard_normal((min(nq.NOISE_CHUNK, steps + 1 - first), 3, 2))
            for first in range(1, steps + 1, nq.NOISE_CHUNK)
        ]
    )
    np.testing.assert_allclose(xi, expected, rtol=0, atol=1e-9)
