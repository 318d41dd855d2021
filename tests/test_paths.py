"""Time grids and the one result type of the path solvers."""

import numpy as np
import pytest

from functions.landscapes import QuadraticModel
from functions.paths import Path, SolverInfo, check_grid, time_grid


def test_geometric_grid_has_its_first_step_a_constant_ratio_and_ends_at_T():
    t = time_grid(1e6, 300, "geometric", first=1e-3)
    D = np.diff(t)
    assert t[0] == 0 and t[-1] == 1e6 and D[0] == pytest.approx(1e-3, rel=1e-12)
    np.testing.assert_allclose(D[1:] / D[:-1], D[1] / D[0], rtol=1e-9)
    np.testing.assert_array_equal(time_grid(2.0, 5), np.linspace(0, 2.0, 5))


@pytest.mark.parametrize(
    ("args", "match"),
    [((1.0, 10, "geometric"), "first step"), ((1.0, 10, "geometric", 0.5), "shorter than the uniform"),
     ((1.0, 10, "uniform", 0.01), "uniform grid"), ((1.0, 10, "log"), "kind"), ((1.0, 2), "n_points"),
     ((-1.0, 10), "T")],
)  # fmt: skip
def test_bad_grids_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        time_grid(*args)
    with pytest.raises(ValueError, match="not at T"):
        check_grid(np.linspace(0, 1, 5), T=2.0)


def test_path_interpolates_linearly_and_gives_piece_slopes():
    t = np.array([0.0, 1.0, 3.0])
    theta = np.array([[0.0, 1.0], [2.0, 1.0], [2.0, -3.0]])
    p = Path(t=t, theta=theta, J=1.0, info=SolverInfo("Newton-Krylov", "trapezoid", 0.0, 1e-8, 1))
    np.testing.assert_allclose(p([0.5, 2.0]), [[1.0, 1.0], [2.0, -1.0]])
    np.testing.assert_allclose(p.velocity([0.5, 2.0, 3.0]), [[2.0, 0.0], [0.0, -2.0], [0.0, -2.0]])
    np.testing.assert_array_equal(p.end, theta[-1])


def test_quadratic_model_values_gradients_and_products():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    H, ts = A @ A.T + np.eye(4), rng.standard_normal(4)
    m = QuadraticModel(H, ts)
    theta, V = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    values, grads, hvp = m.linearise_path(theta)
    np.testing.assert_allclose(values, [0.5 * (th - ts) @ H @ (th - ts) for th in theta], rtol=1e-13)
    np.testing.assert_allclose(grads, (theta - ts) @ H, rtol=1e-13)
    np.testing.assert_allclose(hvp(V), V @ H, rtol=1e-13)
    np.testing.assert_allclose(m(theta), values, rtol=1e-13)
    with pytest.raises(ValueError, match="symmetric"):
        QuadraticModel(A, ts)
