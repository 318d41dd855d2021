"""Figure 1's setting: the least-action path by direct minimisation against the BVP solver."""

import numpy as np
import pytest

from functions.bvp import ConvergenceError, solve_bvp
from functions.geometry import diagonal_metric
from functions.landscapes import DoubleWell
from functions.least_action import minimise_action
from functions.objective import Problem

THETA0, THETA_T, T = np.array([-0.6, 0.55]), np.array([1 + 1 / 16, 0.0]), 4.0
PROBLEM = Problem(DoubleWell(a=1, b=1, c=1, d=-0.5), gamma=0.1, eta=1.0, k=1.0)


@pytest.fixture(scope="module")
def bvp_path():
    return solve_bvp(PROBLEM, THETA0, T, theta_T=THETA_T)


def test_direct_minimisation_reaches_published_action():
    path = minimise_action(PROBLEM, THETA0, T, theta_T=THETA_T, n_points=50)
    assert f"{path.J / T:.4e}" == "1.6957e-01"  # the authors' printed value, 4 significant digits
    assert path.info.residual <= 1e-8


def test_direct_path_agrees_with_bvp(bvp_path):
    """Forward differences make the discrete path first-order accurate in dt = T/49.

    Measured max distance at N = 50 is 7.9e-4; we allow 1e-3 and check that the gap shrinks with N
    (measured 7.9e-4, 6.2e-4, 3.9e-4 at N = 50, 100, 200, tending to first order), i.e. it is
    discretisation error, not a solver disagreement.
    """
    gaps = {}
    for n in (50, 100, 200):
        path = minimise_action(PROBLEM, THETA0, T, theta_T=THETA_T, n_points=n)
        gaps[n] = np.max(np.linalg.norm(bvp_path(path.t) - path.theta, axis=1))
    assert gaps[50] <= 1e-3
    assert gaps[200] < gaps[100] < gaps[50]
    assert 1.3 < gaps[100] / gaps[200] < 2.5


def test_multi_step_path_reaches_global_basin(bvp_path):
    t = np.linspace(0, T, 201)
    assert bvp_path(t)[-1, 0] > 0
    loss = PROBLEM.loss(bvp_path(t))
    assert loss.max() > loss[0], "the learner climbs out of the local basin"


def test_bvp_raises_when_it_cannot_converge():
    with pytest.raises(ConvergenceError, match="max_nodes"):
        solve_bvp(PROBLEM, THETA0, T, theta_T=THETA_T, n_nodes=30, max_nodes=60, tol=1e-12)


def test_minimise_action_raises_when_it_cannot_converge():
    with pytest.raises(ConvergenceError, match="max_iter"):
        minimise_action(PROBLEM, THETA0, T, theta_T=THETA_T, n_points=50, max_iter=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"T": 0.0}, "T value"),
        ({"T": -2.0}, "T value"),
        ({"theta0": [0.0, 0.0, 0.0]}, "theta0 shape"),
        ({"theta_T": [1.0]}, "theta_T shape"),
        ({"n_points": 2}, "n_points"),
    ],
)
def test_solvers_reject_bad_input(kwargs, match):
    args = {"theta0": THETA0, "theta_T": THETA_T, "T": T} | kwargs
    n_points = args.pop("n_points", 50)
    with pytest.raises(ValueError, match=match):
        minimise_action(PROBLEM, n_points=n_points, **args)
    if "n_points" not in kwargs:
        with pytest.raises(ValueError, match=match):
            solve_bvp(PROBLEM, args["theta0"], args["T"], theta_T=args["theta_T"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gtol": -1e-8}, "Invalid gtol value: -1e-08; gtol must be > 0"),
        ({"gtol": float("nan")}, "Invalid gtol value: nan"),
        ({"max_iter": 0}, "Invalid max_iter value: 0"),
        ({"n_points": 10.5}, "Invalid n_points value: 10.5; expected an integer"),
    ],
)
def test_minimise_action_refuses_bad_tolerances(kwargs, match):
    with pytest.raises(ValueError, match=match):
        minimise_action(PROBLEM, THETA0, T, theta_T=THETA_T, **kwargs)


def test_a_returned_path_always_meets_gtol():
    """Whatever iteration budget L-BFGS gets, minimise_action either raises or returns |dS/dtheta|_max <= gtol."""
    returned = 0
    for max_iter in range(5, 40):
        try:
            path = minimise_action(PROBLEM, THETA0, T, theta_T=THETA_T, n_points=50, gtol=1e-8, max_iter=max_iter)
        except ConvergenceError:
            continue
        returned += 1
        assert path.info.residual <= 1e-8
    assert returned > 0


def test_trivial_paths_and_short_horizons():
    """A start at the end point, or at the minimum, converges (the tolerance on y is tightened until dS/dtheta meets
    gtol); a horizon too short to converge (shortest_horizon) and gamma * T beyond 700 are refused before solving."""
    from functions.landscapes import DoubleWell
    from functions.objective import Problem

    problem = Problem(DoubleWell(), gamma=0.1)
    same = minimise_action(problem, [-0.6, 0.55], 4.0, theta_T=[-0.6, 0.55], n_points=50)
    assert same.info.residual <= 1e-8 and np.allclose(same.theta[0], same.theta[-1])
    minimum = DoubleWell().minima()[1]
    still = minimise_action(problem, minimum, 4.0, theta_T=minimum, n_points=50)
    assert np.max(np.abs(still.theta - minimum)) < 1e-6, "a learner at the minimum stays there"
    with pytest.raises(ValueError, match=r"Invalid T value: 1e-06; .*use T >= 0.00152"):
        minimise_action(problem, [-0.6, 0.55], 1e-6, theta_T=[1.0625, 0.0], n_points=50)
    with pytest.raises(ValueError, match=r"gamma \* T = 1000 > 700"):
        minimise_action(problem, [-0.6, 0.55], 1e4, theta_T=[1.0625, 0.0], n_points=50)


def test_free_end_is_the_forward_rule_of_the_newton_krylov_solver():
    """theta_T=None: L-BFGS and Newton-Krylov minimise the same discrete action with a free end (the last point
    at rest after the last step, the discrete natural condition); both near the collocation solution."""
    from functions.newton_krylov import solve_path

    lbfgs = minimise_action(PROBLEM, THETA0, T, n_points=60, gtol=1e-8)
    newton = solve_path(PROBLEM, THETA0, T, n_points=60, rule="forward", guess=lbfgs.theta, tol=1e-10)
    np.testing.assert_allclose(lbfgs.theta, newton.theta, atol=1e-6)
    assert lbfgs.J == pytest.approx(newton.J, rel=1e-9)
    np.testing.assert_allclose(newton.theta[-1], newton.theta[-2], atol=1e-9)
    free = solve_bvp(PROBLEM, THETA0, T, tol=1e-9)
    assert np.abs(lbfgs.theta - free(lbfgs.t)).max() < 0.05  # first order in dt
    with pytest.raises(ValueError, match="guess shape"):
        minimise_action(PROBLEM, THETA0, T, n_points=60, guess=np.zeros((58, 2)))


def test_the_root_api_offers_the_scalable_solver():
    import functions
    from functions import newton_krylov

    assert functions.solve_path is newton_krylov.solve_path and "solve_path" in functions.__all__
    assert "solve_path" in functions.__doc__.split("Layers")[0], "the docstring's first paragraph names it"


def test_minimise_action_refuses_a_dense_hessian_beyond_its_limit_and_points_to_solve_path():
    """d = 1,000 and N = 200 asked 298 GiB of the allocator; now a ValueError at once, with the way out."""
    from functions import least_action as LA
    from functions.landscapes import Quadratic

    big = Problem(Quadratic(np.ones(1000)), gamma=0.1)
    assert LA.dense_bytes(1000, 200, free_end=True) == 8 * (199 * 1000) ** 2
    assert LA.dense_bytes(2, 50) == 8 * 96**2
    with pytest.raises(ValueError, match=r"d = 1000 and n_points = 200 need a dense 295 GiB .*functions\.solve_path"):
        minimise_action(big, np.ones(1000), 4.0, n_points=200)
    # At the limit's edge: d = 2 and N = 5,793 (free end) is 0.9998 GiB, N = 5,794 is over 1 GiB.
    edge = Problem(Quadratic(np.ones(2)), gamma=0.1)
    with pytest.raises(ValueError, match="Invalid size"):
        minimise_action(edge, [1.0, 1.0], 4.0, n_points=5794)
    assert LA.dense_bytes(2, 5793, free_end=True) <= LA.MAX_DENSE_BYTES < LA.dense_bytes(2, 5794, free_end=True)


def test_a_horizon_below_the_rounding_floor_is_refused_and_one_just_above_it_converges():
    """Issue 29: Figure 1 with T = 1e-6 ended in a ConvergenceError after the work. shortest_horizon estimates where
    the gradient's rounding reaches gtol; below it the call is refused at once, just above it L-BFGS (with its
    closing Newton steps) meets gtol, at two grid sizes."""
    from functions.least_action import shortest_horizon

    problem = Problem(DoubleWell(a=1, b=1, c=1, d=-0.5), gamma=0.1)
    for n in (50, 200):
        T_min = shortest_horizon(problem, THETA0, THETA_T, n)
        assert T_min == pytest.approx(np.sqrt(2 * np.finfo(float).eps * 1.0625 * (n - 1) / 1e-8))
        with pytest.raises(ValueError, match=rf"Invalid T value: .*use T >= {T_min:.3g}"):
            minimise_action(problem, THETA0, 0.99 * T_min, theta_T=THETA_T, n_points=n)
        path = minimise_action(problem, THETA0, 1.0001 * T_min, theta_T=THETA_T, n_points=n)
        assert path.info.residual <= 1e-8
    assert shortest_horizon(problem, THETA0, THETA_T, 50, gtol=1e-6) == pytest.approx(
        shortest_horizon(problem, THETA0, THETA_T, 50) / 10
    )
    G = Problem(DoubleWell(a=1, b=1, c=1, d=-0.5), gamma=0.1, metric=diagonal_metric([4.0, 1.0]))
    assert shortest_horizon(G, THETA0, THETA_T, 50) == pytest.approx(2 * shortest_horizon(problem, THETA0, THETA_T, 50))


def test_newton_steps_finish_where_the_line_search_stalls():
    """At T = 0.1 (Figure 1's setting) S ~ 153 and L-BFGS's last steps change it by less than its rounding: the line
    search stopped ABNORMAL at |dS/dtheta| = 1.6e-7. One Newton step on the accurate gradient now ends it, and the
    path is the minimiser: the BVP solver's path on the same nodes agrees to the first-order rule's error."""
    problem = Problem(DoubleWell(a=1, b=1, c=1, d=-0.5), gamma=0.1)
    path = minimise_action(problem, THETA0, 0.1, theta_T=THETA_T, n_points=50)
    assert path.info.method == "L-BFGS + Newton" and path.info.n_inner >= 1 and path.info.residual <= 1e-8
    exact = solve_bvp(problem, THETA0, 0.1, theta_T=THETA_T)
    assert np.max(np.abs(path.theta - exact(path.t))) < 1e-4


def test_the_newton_polish_keeps_only_steps_that_lower_the_gradient():
    from functions.least_action import _newton_polish

    fun = lambda x: (0.5 * float(x @ x), x.copy())  # noqa: E731 (S = |x|^2 / 2: H = I)
    x0 = np.array([1e-3, -2e-3])
    x, norm, steps = _newton_polish(fun, lambda x: np.eye(2), x0, 2e-3, 1e-8, 4)
    assert steps == 1 and norm == 0.0 and np.all(x == 0)
    x, norm, steps = _newton_polish(fun, lambda x: -0.5 * np.eye(2), x0, 2e-3, 1e-8, 4)
    assert steps == 0 and norm == 2e-3 and np.array_equal(x, x0), "a step that raises |g| is not taken"
