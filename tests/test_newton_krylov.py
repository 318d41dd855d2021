"""The Newton-Krylov path solver: its weights, its two rules against exact and independent solutions, free and
fixed end, large gamma (gamma T >> 700), every preconditioner path, and bad input refused before solving."""

import numpy as np
import pytest
from scipy.integrate import quad

from functions import newton_krylov as nk
from functions.bvp import solve_bvp
from functions.errors import ConvergenceError
from functions.geometry import DecayDrift
from functions.landscapes import DoubleWell, Quadratic, QuadraticModel
from functions.least_action import minimise_action
from functions.lq import free_end_lq, path_J, rates
from functions.newton_krylov import costate_residual, discrete_J, exponential_weights, solve_path
from functions.objective import Problem, discrete_action
from functions.paths import time_grid
from functions.solver_checks import relative_l2


def _spd(rng, d, low=1e-3, high=1.0):
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    H = Q @ np.diag(np.geomspace(low, high, d)) @ Q.T
    return (H + H.T) / 2


def _rates(H, gamma):
    return rates(np.linalg.eigvalsh(H), gamma)


@pytest.mark.parametrize("x", [0.0, 1e-9, 1e-4, 0.05, 0.0999, 0.1, 0.1001, 0.7, 5.0, 80.0, 1e4])
def test_exponential_weights_equal_their_integrals(x):
    """Each weight against its integral in 30-digit arithmetic (mpmath), on both sides of the series switch."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    X = mp.mpf(x)
    phi = lambda v: mp.mpf(1) if X * v == 0 else -mp.expm1(-X * v) / (X * v)  # noqa: E731
    kernels = {"phi0": lambda u: mp.exp(-X * u), "phi_a": lambda u: (1 - u) * mp.exp(-X * u),
               "phi_b": lambda u: u * mp.exp(-X * u), "u2": lambda u: u * u * mp.exp(-X * u),
               "P": lambda v: (1 - v) * v * phi(v), "Q": lambda v: v * v * phi(v)}  # fmt: skip
    nodes = [0, min(1, 1 / X), 1] if x > 1 else [0, 1]
    w = exponential_weights(np.array([x]))
    for name, f in kernels.items():
        assert w[name][0] == pytest.approx(float(mp.quad(f, nodes)), rel=1e-12), name


@pytest.fixture(scope="module")
def model():
    """A dense quadratic model at the size the issue asks (d = 1,000), curvatures over three decades."""
    rng = np.random.default_rng(7)
    d = 1000
    H = _spd(rng, d)
    return H, np.linalg.eigh(H), rng.standard_normal(d)


@pytest.mark.parametrize("gamma", [0.01, 1.0, 100.0])
def test_free_end_matches_the_exact_lq_optimum_at_d_1000(model, gamma):
    """E0 on a random dense quadratic: the second-order rule's path within 1e-3 (N = 128) of the exact one, its
    exact J never below J*, and a Krylov solve (perturbed preconditioner) equal to the exact discrete one."""
    H, eig, theta_star = model
    theta0 = np.zeros(H.shape[0])
    r = _rates(H, gamma)
    T = 20 / r.min()
    t = time_grid(T, 128, "geometric", first=4 / (128 * r.max()))
    problem = Problem(QuadraticModel(H, theta_star), gamma=gamma)
    direct = solve_path(problem, theta0, T, t=t, curvature=eig, tol=1e-8)
    assert direct.info.n_iter <= 2  # the exact preconditioner inverts the linear problem
    scale = np.random.default_rng(1).uniform(0.5, 2.0, H.shape[0])
    krylov = solve_path(problem, theta0, T, t=t, curvature=(eig[0] * scale, eig[1]), tol=1e-8)
    assert krylov.info.n_inner > krylov.info.n_iter  # GMRES did work
    np.testing.assert_allclose(krylov.theta, direct.theta, atol=1e-6 * np.abs(theta_star).max())
    exact = free_end_lq(None, theta_star, theta0, T, gamma, eig=eig)
    assert relative_l2(t, direct.theta, exact(t), exact(t) - theta_star) < 1e-3
    gap = path_J(H, theta_star, t, direct.theta, gamma) - exact.J
    assert 0 <= gap < 1e-3 * exact.J
    assert abs(direct.J - exact.J) < 1e-3 * exact.J


def test_second_order_in_the_grid():
    """Doubling N cuts the error about fourfold (second order) with the trapezoid rule, twofold with forward."""
    H = np.diag([0.05, 1.0])
    theta_star, theta0, gamma = np.array([1.0, -1.0]), np.zeros(2), 0.5
    T = 40.0
    exact = free_end_lq(H, theta_star, theta0, T, gamma)
    problem = Problem(QuadraticModel(H, theta_star), gamma=gamma)
    errs = {}
    for rule in ("trapezoid", "forward"):
        errs[rule] = [np.abs(solve_path(problem, theta0, T, n_points=n, rule=rule, tol=1e-11).theta
                             - exact(np.linspace(0, T, n))).max() for n in (101, 201, 401)]  # fmt: skip
    ratios = {rule: np.array(e[:-1]) / np.array(e[1:]) for rule, e in errs.items()}
    assert np.all(ratios["trapezoid"] > 3.5) and np.all(ratios["forward"] < 2.5)
    assert errs["trapezoid"][-1] < 2e-4


def test_large_gamma_beyond_the_underflow_of_the_direct_form():
    """gamma T = 2e5 (e^{-gamma t} is 0 in double precision long before T): the current-value rows still give
    the exact path, which is gradient flow at rate eta k / gamma up to 1/gamma^2."""
    H = np.diag([1e-3, 1.0])
    theta_star, theta0, gamma = np.array([1.0, 2.0]), np.zeros(2), 100.0
    r = _rates(H, gamma)
    T = 20 / r.min()
    assert gamma * T > 1e5
    t = time_grid(T, 400, "geometric", first=4 / (400 * r.max()))
    path = solve_path(
        Problem(QuadraticModel(H, theta_star), gamma=gamma), theta0, T, t=t, curvature=np.diag([0.5, 2.0])
    )
    exact = free_end_lq(H, theta_star, theta0, T, gamma)
    assert np.abs(path.theta - exact(t)).max() < 1e-4
    assert np.isfinite(path.J) and path.J > 0


def test_fixed_end_matches_the_boundary_value_solver():
    H = np.array([[1.0, 0.3], [0.3, 0.5]])
    theta_star, theta0, theta_T, gamma, T = np.array([0.5, -0.5]), np.array([1.0, 1.0]), np.array([0.2, 0.1]), 0.7, 6.0
    problem = Problem(QuadraticModel(H, theta_star), gamma=gamma)
    path = solve_path(problem, theta0, T, theta_T=theta_T, n_points=801, tol=1e-11)
    np.testing.assert_array_equal(path.theta[-1], theta_T)
    bvp = solve_bvp(problem, theta0, T, theta_T=theta_T, tol=1e-10)
    assert np.abs(path.theta - bvp(path.t)).max() < 1e-5


def test_forward_rule_is_figure_1s_discrete_action():
    """With rule="forward" on a uniform grid the solver finds the minimiser of objective.discrete_action (the
    L-BFGS path of Figure 1), and its J is T times that action; the metric enters through G."""
    problem = Problem(DoubleWell(), gamma=0.3, metric=np.array([[2.0, 0.4], [0.4, 1.0]]))
    theta0, theta_T, T = np.array([-0.8, 0.4]), np.array([1.0, 0.0]), 4.0
    lbfgs = minimise_action(problem, theta0, T, theta_T=theta_T, n_points=40, gtol=1e-9)
    path = solve_path(problem, theta0, T, theta_T=theta_T, n_points=40, rule="forward", guess=lbfgs.theta, tol=1e-10)
    np.testing.assert_allclose(path.theta, lbfgs.theta, atol=1e-7)
    assert path.J == pytest.approx(T * float(discrete_action(problem, path.theta, T)), rel=1e-12)


def test_discrete_J_and_residual_agree_with_autodiff_of_the_action():
    """The forward rule's residual rows are the action's gradient, each divided by its weight and step."""
    import torch

    problem = Problem(Quadratic([1.0, 3.0]), gamma=0.4)
    rng = np.random.default_rng(3)
    t = np.linspace(0, 2.0, 9)
    theta = rng.standard_normal((9, 2))
    x = torch.tensor(theta, requires_grad=True)
    S = discrete_action(problem, x, 2.0) * 2.0
    S_value = float(S.detach())
    (g,) = torch.autograd.grad(S, x)
    R = costate_residual(problem, t, theta, rule="forward")
    D = np.diff(t)
    scale = np.exp(-0.4 * t[:-1]) * (D + np.append(D[1:], 0)) / 2  # e^{-gamma t_{n-1}} nu_n
    np.testing.assert_allclose(R, g.numpy()[1:] / scale[:, None], rtol=1e-12, atol=1e-13)
    assert discrete_J(problem, t, theta, rule="forward") == pytest.approx(S_value, rel=1e-13)


def test_trapezoid_J_is_exact_for_a_linear_path_on_a_quadratic():
    """The trapezoid rule's kinetic weight is exact; path_J integrates the quadratic loss exactly too."""
    H = np.diag([2.0, 0.5])
    ts = np.array([0.3, -0.2])
    t = np.array([0.0, 0.7, 2.0])
    theta = np.array([[1.0, 1.0], [0.2, 0.5], [0.1, -0.1]])
    gamma = 0.9

    def integrand(s):
        n = 0 if s < 0.7 else 1
        u = (s - t[n]) / (t[n + 1] - t[n])
        th = (1 - u) * theta[n] + u * theta[n + 1]
        v = (theta[n + 1] - theta[n]) / (t[n + 1] - t[n])
        return np.exp(-gamma * s) * (0.5 * v @ v + 0.5 * (th - ts) @ H @ (th - ts))

    ref = quad(integrand, 0, 2.0, points=[0.7], epsabs=0, epsrel=1e-13)[0]
    assert path_J(H, ts, t, theta, gamma) == pytest.approx(ref, rel=1e-12)


def test_exact_J_star_equals_the_J_of_the_exact_path():
    H = np.diag([0.1, 1.0, 4.0])
    ts, theta0, T, gamma = np.array([1.0, 0.5, -1.0]), np.zeros(3), 30.0, 0.3
    exact = free_end_lq(H, ts, theta0, T, gamma)
    t = time_grid(T, 20001, "geometric", first=1e-5)
    assert path_J(H, ts, t, exact(t), gamma) == pytest.approx(exact.J, rel=1e-7)


def test_preconditioners_agree(model):
    """None (kinetic only), a diagonal, a dense matrix and its eigenpairs: one path (small d so None is cheap)."""
    rng = np.random.default_rng(2)
    H = _spd(rng, 12, 0.1, 2.0)
    ts = rng.standard_normal(12)
    problem = Problem(QuadraticModel(H, ts), gamma=0.5)
    paths = [solve_path(problem, np.zeros(12), 10.0, n_points=64, curvature=c, tol=1e-11)
             for c in (None, np.diag(H).copy(), H, np.linalg.eigh(H))]  # fmt: skip
    for p in paths[1:]:
        np.testing.assert_allclose(p.theta, paths[0].theta, atol=1e-9)


def test_a_metric_changes_the_path_as_the_exact_solution_says():
    """G != I: the optimum of the quadratic under G is the LQ optimum of G^{-1/2} H G^{-1/2} in y = G^{1/2} theta."""
    G = np.array([[2.0, 0.5], [0.5, 1.0]])
    H = np.array([[1.0, 0.2], [0.2, 0.3]])
    ts, theta0, T, gamma = np.array([0.4, -0.6]), np.array([1.0, 1.0]), 25.0, 0.2
    s, U = np.linalg.eigh(G)
    Gh, Gmh = U @ np.diag(np.sqrt(s)) @ U.T, U @ np.diag(1 / np.sqrt(s)) @ U.T
    exact = free_end_lq(Gmh @ H @ Gmh, Gh @ ts, Gh @ theta0, T, gamma)
    path = solve_path(Problem(QuadraticModel(H, ts), gamma=gamma, metric=G), theta0, T, n_points=801, curvature=H)
    assert np.abs(path.theta @ Gh - exact(path.t)).max() < 1e-5


def test_nonquadratic_loss_through_autodiff():
    """The double well (no linearise_path): autodiff gradients and Hessian-vector products, against the BVP."""
    problem = Problem(DoubleWell(), gamma=1.0)
    theta0, T = np.array([-1.2, 0.5]), 8.0
    path = solve_path(problem, theta0, T, n_points=801, tol=1e-10)
    bvp = solve_bvp(problem, theta0, T, tol=1e-10)
    assert np.abs(path.theta - bvp(path.t)).max() < 1e-5


def test_unconverged_solves_raise():
    H = _spd(np.random.default_rng(4), 6)
    problem = Problem(QuadraticModel(H, np.ones(6)), gamma=0.1)
    with pytest.raises(ConvergenceError, match="max_newton"):
        solve_path(problem, np.zeros(6), 50.0, n_points=64, max_newton=1, max_krylov=1, tol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"t": np.linspace(0, 5.0, 10)}, "not at T"),
        ({"t": np.array([0.0, 2.0, 1.0, 10.0])}, "strictly increasing"),
        ({"rule": "simpson"}, "rule"),
        ({"guess": np.zeros((5, 2))}, "guess shape"),
        ({"theta_T": np.zeros(3)}, "theta_T"),
        ({"curvature": np.eye(3)}, "curvature"),
        ({"curvature": -np.eye(2)}, "positive semi-definite"),
        ({"n_points": 2}, "n_points"),
    ],
)
def test_bad_input_is_refused_before_solving(monkeypatch, kwargs, match):
    monkeypatch.setattr(nk, "_gmres", lambda *a, **k: pytest.fail("solved despite bad input"))
    problem = Problem(Quadratic([1.0, 2.0]), gamma=0.1)
    with pytest.raises(ValueError, match=match):
        solve_path(problem, [1.0, 1.0], 10.0, **kwargs)


def test_a_drift_a_dimension_mismatch_and_a_non_finite_start_are_refused():
    with pytest.raises(ValueError, match="drift"):
        solve_path(Problem(Quadratic([1.0, 2.0]), drift=DecayDrift(0.5)), [1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="theta0"):
        solve_path(Problem(Quadratic([1.0, 2.0])), [1.0, 1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="finite"):
        solve_path(Problem(Quadratic([1.0, 2.0])), [np.inf, 1.0], 1.0)
