"""The exact-curvature rule's direction H^{-1/2} g: the eigendecomposition against a matrix square root, Lanczos
against the eigendecomposition (exact at the number of distinct eigenvalues, converging before d), and on the real
logistic-regression Hessian through Hessian-vector products."""

import numpy as np
import pytest
from scipy.linalg import sqrtm

from functions.exact_rule import inverse_sqrt_eigh, inverse_sqrt_lanczos


def _spd(rng, d, cond=1e4):
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (U * np.logspace(0, -np.log10(cond), d)) @ U.T


def test_eigh_is_the_inverse_square_root(rng):
    H, g = _spd(rng, 30), rng.standard_normal(30)
    v = inverse_sqrt_eigh(H, g)
    S = np.real(sqrtm(H))  # scipy's principal square root, an independent route
    assert np.allclose(S @ v, g, rtol=1e-8, atol=1e-10)
    assert np.allclose(H @ v, S @ g, rtol=1e-8, atol=1e-10)


def test_lanczos_matches_eigh_exactly_at_the_distinct_eigenvalue_count_and_converges(rng):
    d = 60
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.repeat([3.0, 1.0, 0.2, 0.01], d // 4)  # 4 distinct eigenvalues: the Krylov space closes at k = 4
    H = (U * lam) @ U.T
    g = rng.standard_normal(d)
    exact = inverse_sqrt_eigh(H, g)
    assert np.allclose(inverse_sqrt_lanczos(lambda v: H @ v, g, 4), exact, rtol=1e-9, atol=1e-9)
    assert np.allclose(inverse_sqrt_lanczos(lambda v: H @ v, g, 20), exact, rtol=1e-9, atol=1e-9), "stops early"
    H = _spd(rng, d, cond=1e3)
    exact = inverse_sqrt_eigh(H, g)
    errs = [np.linalg.norm(inverse_sqrt_lanczos(lambda v: H @ v, g, k) - exact) / np.linalg.norm(exact)
            for k in (2, 8, 32, 60)]  # fmt: skip
    assert errs[0] > errs[1] > errs[2] and errs[-1] < 1e-8


def test_non_positive_curvature_and_bad_shapes_are_refused(rng):
    H = np.diag([1.0, -0.5, 2.0])
    with pytest.raises(ValueError, match="smallest eigenvalue -0.5"):
        inverse_sqrt_eigh(H, np.ones(3))
    with pytest.raises(ValueError, match="Ritz value"):
        inverse_sqrt_lanczos(lambda v: H @ v, np.ones(3), 3)
    with pytest.raises(ValueError, match=r"expected \(d, d\) and \(d,\)"):
        inverse_sqrt_eigh(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="k"):
        inverse_sqrt_lanczos(lambda v: v, np.ones(3), 4)
    assert np.array_equal(inverse_sqrt_lanczos(lambda v: v, np.zeros(3), 2), np.zeros(3))


def test_on_the_logistic_regression_hessian_through_its_products(small_logistic):
    m = small_logistic
    theta = np.zeros(m.dim) + 0.1
    H, g = m.hessian(theta), m.grad(theta)
    exact = inverse_sqrt_eigh(H, g)
    approx = inverse_sqrt_lanczos(lambda v: m.hvp(theta, v), g, m.dim)
    assert np.allclose(approx, exact, rtol=1e-7, atol=1e-10)
