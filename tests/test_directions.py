"""E4's directions (functions/directions.py): on the exact gamma -> 0 optimum of a quadratic the velocity is
-H^{-1/2} grad L (cosine 1); with a diagonal H the diagonal rule is exact and Ballistic with v = diag(H) equals it;
the path momentum against an ODE integration; bad shapes refused."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from functions.directions import DIRECTIONS, cosines, path_momentum
from functions.landscapes import QuadraticModel
from functions.lq import free_end_lq, rates
from functions.solver_checks import horizon_grid


class _Quadratic(QuadraticModel):
    """A quadratic with a stated minibatch second moment s (for the test, ``scale`` times diag(H))."""

    def __init__(self, H, theta_star, scale):
        super().__init__(H, theta_star)
        object.__setattr__(self, "scale", scale)

    def gradient_and_second_moment(self, theta, batch):
        return self.grad(theta), self.scale * np.diag(self.H).copy()


def _optimal(H, star, theta0, gamma=1e-4, n=400):
    h = np.linalg.eigvalsh(H)
    T, t = horizon_grid(rates(h, gamma), n)
    return t, free_end_lq(H, star, theta0, T, gamma)(t)


def test_the_gamma_to_0_optimum_moves_along_h_to_the_minus_half_grad_l():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    H = Q @ np.diag([0.01, 0.03, 0.1, 0.3, 1.0, 3.0]) @ Q.T
    H = (H + H.T) / 2
    star = rng.standard_normal(6)
    t, theta = _optimal(H, star, np.zeros(6))
    half = t <= t[-1] / 2
    cos = cosines(_Quadratic(H, star, 1.0), t[half], theta[half], tau1=1.0)
    assert set(cos) == {"t", *DIRECTIONS} and len(cos["t"]) == half.sum() - 1
    assert min(cos["exact"]) > 0.999, "the gamma -> 0 rule"
    assert np.median(cos["gradient"]) < 0.95 and np.median(cos["diagonal"]) < 0.999, "H is not diagonal"
    assert cos["t"] == pytest.approx(list((t[half][:-1] + t[half][1:]) / 2))
    every = cosines(_Quadratic(H, star, 1.0), t[half], theta[half], tau1=1.0, every=3)
    assert every["exact"] == pytest.approx(cos["exact"][::3])


def test_with_a_diagonal_h_the_diagonal_rule_is_exact_and_ballistic_equals_it():
    H = np.diag([0.02, 0.2, 2.0])
    star = np.array([1.0, -2.0, 0.5])
    t, theta = _optimal(H, star, np.zeros(3))
    half = t <= t[-1] / 2
    cos = cosines(_Quadratic(H, star, 4.0), t[half], theta[half], tau1=1.0, eps=1e-12)
    np.testing.assert_allclose(cos["diagonal"], cos["exact"], rtol=1e-12)
    np.testing.assert_allclose(cos["ballistic"], cos["diagonal"], rtol=1e-9)  # v = 4 diag(H): the same direction
    assert min(cos["exact"]) > 0.999 and np.median(cos["gradient"]) < 0.99  # late, one mode is left: cosine 1


def test_path_momentum_is_the_exponential_average_of_the_gradients():
    t = np.concatenate([[0.0], np.geomspace(1e-3, 20.0, 60)])
    grads = np.stack([np.sin(t), np.exp(-t / 3)], axis=1)
    tau1 = 0.7
    got = path_momentum(t, grads, tau1)

    def g(s):
        return np.array([np.interp(s, t, grads[:, j]) for j in range(2)])

    ref = solve_ivp(lambda s, m: (g(s) - m) / tau1, (0, t[-1]), grads[0], t_eval=t, rtol=1e-11, atol=1e-13,
                    max_step=0.01)  # fmt: skip
    np.testing.assert_allclose(got, ref.y.T, atol=1e-8)
    with pytest.raises(ValueError, match="tau1"):
        path_momentum(t, grads, 0.0)


def test_a_path_of_the_wrong_shape_is_refused():
    H = np.diag([1.0, 2.0])
    model = _Quadratic(H, np.zeros(2), 1.0)
    with pytest.raises(ValueError, match=r"Invalid theta shape: \(3, 3\); expected \(3, 2\)"):
        cosines(model, np.array([0.0, 1.0, 2.0]), np.zeros((3, 3)), tau1=1.0)
