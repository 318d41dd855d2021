"""The real-model landscape: gradients, Hessian-vector products and the Hessian against torch autograd and finite
differences, the minimiser to |grad| <= 1e-10, and bad inputs refused."""

import numpy as np
import pytest
import torch

from functions.logistic import LogisticRegression
from functions.objective import Problem


def _model(rng, n=300, p=6, C=4, lam=1e-3):
    X = rng.standard_normal((n, p)) * np.linspace(0.2, 2.0, p)
    W = rng.standard_normal((C, p))
    y = np.argmax(X @ W.T + rng.gumbel(size=(n, C)), axis=1)
    return LogisticRegression(X, y, lam, n_classes=C)


def test_gradient_hvp_and_hessian_against_autograd_and_finite_differences(rng):
    model = _model(rng)
    theta, v = rng.standard_normal(model.dim) * 0.3, rng.standard_normal(model.dim)
    t = torch.tensor(theta, requires_grad=True)
    loss = model(t)
    assert loss.item() == pytest.approx(model(theta), rel=1e-13), "torch and numpy paths agree"
    (g_auto,) = torch.autograd.grad(loss, t, create_graph=True)
    np.testing.assert_allclose(model.grad(theta), g_auto.detach().numpy(), rtol=1e-11, atol=1e-13)
    (hv_auto,) = torch.autograd.grad(g_auto, t, torch.tensor(v))
    np.testing.assert_allclose(model.hvp(theta, v), hv_auto.numpy(), rtol=1e-10, atol=1e-12)
    eps = 1e-6
    fd = np.array([(model(theta + eps * e) - model(theta - eps * e)) / (2 * eps) for e in np.eye(model.dim)[:5]])
    np.testing.assert_allclose(model.grad(theta)[:5], fd, rtol=1e-6, atol=1e-8)
    fd_hv = (model.grad(theta + eps * v) - model.grad(theta - eps * v)) / (2 * eps)
    np.testing.assert_allclose(model.hvp(theta, v), fd_hv, rtol=1e-6, atol=1e-8)
    H = model.hessian(theta)
    np.testing.assert_allclose(H @ v, model.hvp(theta, v), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    assert np.linalg.eigvalsh(H).min() >= model.lam * (1 - 1e-9), "strongly convex: eigenvalues >= lambda"


def test_batched_torch_evaluation_matches_one_by_one(rng):
    model = _model(rng)
    thetas = rng.standard_normal((3, 2, model.dim))
    batched = model(torch.tensor(thetas)).numpy()
    assert batched.shape == (3, 2)
    np.testing.assert_allclose(batched, [[model(t) for t in row] for row in thetas], rtol=1e-13)
    assert model(thetas).shape == (3, 2)


@pytest.mark.parametrize("exact", [True, False])
def test_the_minimum_meets_1e_10(rng, exact):
    model = _model(rng, lam=1e-4)
    theta, steps = model.minimum(exact=exact)
    assert np.max(np.abs(model.grad(theta))) <= 1e-10 and steps <= 30
    other, _ = model.minimum(theta0=rng.standard_normal(model.dim), exact=not exact)
    np.testing.assert_allclose(other, theta, atol=1e-7), "unique minimiser, from any start and either solve"


def test_it_is_a_problem_the_solvers_accept(rng):
    model = _model(rng)
    assert Problem(model, gamma=1.0).dim == model.dim


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((0, 3)), np.zeros(0, int), 1e-3), r"Invalid X value: shape \(0, 3\)"),
        ((np.full((4, 2), np.nan), np.zeros(4, int), 1e-3), "Invalid X value"),
        ((np.zeros((4, 2)), np.zeros(3, int), 1e-3), "Invalid y value: expected 4 integer labels"),
        ((np.zeros((4, 2)), np.zeros(4), 1e-3), "Invalid y value"),
        ((np.zeros((4, 2)), np.zeros(4, int), 0.0), "Invalid lam value: 0.0; lam must be > 0"),
    ],
)
def test_bad_inputs_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        LogisticRegression(*args)


def test_pca_orders_components_by_variance_with_fixed_signs(rng):
    from functions.real_model import pca

    X = rng.standard_normal((500, 5)) * np.array([5.0, 0.1, 2.0, 1.0, 0.5])
    Z = pca(X, 3)
    variances = Z.var(axis=0)
    assert np.all(np.diff(variances) < 0) and variances[0] == pytest.approx(25.0, rel=0.2)
    np.testing.assert_allclose(Z.T @ Z / 500, np.diag(variances), atol=1e-10), "uncorrelated scores"
    np.testing.assert_array_equal(pca(X, 3), Z), "deterministic"
    with pytest.raises(ValueError, match="Invalid n_components value: 6"):
        pca(X, 6)


SHARED_MNIST = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED_MNIST / "mnist").is_dir(), reason=f"no offline MNIST copy in {SHARED_MNIST}")
def test_real_mnist_pca_model_has_a_unique_minimum_and_a_spread_spectrum():
    """d = 510 on the 60,000 MNIST images: theta* to |grad| <= 1e-10, H >= lambda, >= 2 decades of curvature."""
    from functions.real_model import mnist_logistic

    model = mnist_logistic(50, lam=1e-4, root=SHARED_MNIST)
    assert model.dim == 510 and model.n == 60000
    theta, _ = model.minimum(exact=False)
    assert np.max(np.abs(model.grad(theta))) <= 1e-10
    eig = np.linalg.eigvalsh(model.hessian(theta))
    assert eig.min() >= 1e-4 * (1 - 1e-9) and np.log10(eig.max() / eig.min()) >= 2


@pytest.mark.parametrize("chunk", [1, 3, 32])
def test_linearise_path_equals_the_per_node_closed_forms(rng, chunk):
    """The path solvers' batched interface: values, gradients and H v at every node, whatever the chunking."""
    model = _model(rng)
    theta, V = rng.standard_normal((7, model.dim)) * 0.3, rng.standard_normal((7, model.dim))
    values, grads, hvp = model.linearise_path(theta, chunk=chunk)
    np.testing.assert_allclose(values, [model(th) for th in theta], rtol=1e-13)
    np.testing.assert_allclose(grads, [model.grad(th) for th in theta], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        hvp(V), [model.hvp(th, v) for th, v in zip(theta, V, strict=True)], rtol=1e-12, atol=1e-14
    )
    with pytest.raises(ValueError, match="theta shape"):
        model.linearise_path(theta[:, :-1])


def test_minibatch_second_moment_against_per_example_gradients_and_sampled_batches(rng):
    """s_B: the mean over examples of the per-example squared gradient (each example its own model, L2 term in), mixed
    with g^2 by 1/B; and the average of g_B^2 over many sampled minibatches (with replacement) agrees."""
    model = _model(rng, n=60)
    theta = rng.standard_normal(model.dim) * 0.5
    per = []
    for i in range(model.n):
        one = LogisticRegression(model.X[i : i + 1, :-1], model.y[i : i + 1], model.lam, n_classes=model.n_classes)
        per.append(one.grad(theta))
    per = np.array(per)
    g = model.grad(theta)
    np.testing.assert_allclose(per.mean(0), g, rtol=1e-12, atol=1e-14)
    for batch in (1, 4, model.n):
        expected = g**2 + ((per**2).mean(0) - g**2) / batch
        np.testing.assert_allclose(model.minibatch_second_moment(theta, batch), expected, rtol=1e-11, atol=1e-15)
    draws = rng.integers(0, model.n, size=(20000, 4))
    sampled = np.mean(per[draws].mean(1) ** 2, axis=0)
    np.testing.assert_allclose(model.minibatch_second_moment(theta, 4), sampled, rtol=0.05, atol=1e-6)
    with pytest.raises(ValueError, match="batch"):
        model.minibatch_second_moment(theta, 0)
