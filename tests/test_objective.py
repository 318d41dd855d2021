import numpy as np
import pytest
import torch

from functions.geometry import DecayDrift, diagonal_metric
from functions.landscapes import DoubleWell, Quadratic
from functions.objective import Problem, discrete_action, kinetic_per_step, lagrangian, lagrangian0


def test_lagrangian_by_hand():
    p = Problem(
        Quadratic([2.0, 4.0]),
        gamma=0.5,
        eta=2.0,
        k=3.0,
        metric=diagonal_metric([1.0, 4.0]),
        drift=DecayDrift(1.0),
    )
    theta, theta_dot = np.array([1.0, -1.0]), np.array([0.5, 0.0])
    u = theta_dot + theta  # theta_dot - f, f = -theta
    expected = (u[0] ** 2 + 4 * u[1] ** 2) / (2 * 2.0) + 3.0 * (0.5 * (2 * 1 + 4 * 1))
    assert lagrangian0(p, theta, theta_dot) == pytest.approx(expected)
    assert lagrangian(p, 2.0, theta, theta_dot) == pytest.approx(np.exp(-1.0) * expected)
    th = torch.tensor(theta)
    assert lagrangian(p, 2.0, th, torch.tensor(theta_dot)).item() == pytest.approx(np.exp(-1.0) * expected)


def test_discrete_action_convention():
    """Mean over intervals, forward differences, loss and discount at the left end."""
    p = Problem(DoubleWell(), gamma=0.3)
    path = np.array([[0.0, 0.0], [0.5, 0.1], [1.0, 0.0]])
    T = 2.0  # dt = 1
    terms = [
        0.5 * (0.25 + 0.01) + DoubleWell()(path[0]),
        np.exp(-0.3) * (0.5 * (0.25 + 0.01) + DoubleWell()(path[1])),
    ]
    assert discrete_action(p, path, T) == pytest.approx(np.mean(terms))
    assert discrete_action(p, torch.tensor(path), T).item() == pytest.approx(np.mean(terms))


def test_action_of_constant_path_at_minimum_is_zero():
    p = Problem(Quadratic([1.0, 1.0], [0.3, 0.2]))
    assert discrete_action(p, np.tile([0.3, 0.2], (10, 1)), 1.0) == 0.0


def test_kinetic_per_step():
    np.testing.assert_allclose(kinetic_per_step([[0, 0], [3, 4], [3, 4]]), [12.5, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eta": -1.0}, "eta value.*> 0"),
        ({"eta": 0.0}, "eta value.*> 0"),
        ({"k": -0.5}, "k value.*> 0"),
        ({"gamma": -0.1}, "gamma value.*>= 0"),
        ({"gamma": float("nan")}, "gamma value"),
        ({"metric": diagonal_metric([1.0, 1.0, 1.0])}, "metric shape"),
        ({"drift": DecayDrift(1.0, dim=3)}, "drift dimension"),
    ],
)
def test_problem_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Problem(Quadratic([1.0, 1.0]), **kwargs)


@pytest.mark.parametrize(
    ("path", "T", "match"),
    [
        (np.zeros((5, 2)), 0.0, "T value.*> 0"),
        (np.zeros((5, 2)), -1.0, "T value"),
        (np.zeros((1, 2)), 1.0, "path shape"),
        (np.zeros((5, 3)), 1.0, "path shape"),
    ],
)
def test_discrete_action_rejects_bad_input(path, T, match):
    with pytest.raises(ValueError, match=match):
        discrete_action(Problem(Quadratic([1.0, 1.0])), path, T)


def test_problem_accepts_a_matrix_as_metric():
    p = Problem(Quadratic([1.0, 2.0]), metric=np.diag([2.0, 3.0]))
    np.testing.assert_array_equal(p.metric.G, np.diag([2.0, 3.0]))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Quadratic([]), r"Invalid h shape: \(0,\); expected a non-empty 1-D vector"),
        (lambda: Quadratic([1.0, np.nan]), "Invalid h value.*finite"),
        (lambda: Quadratic([1.0], [np.inf]), "Invalid mu value.*finite"),
        (lambda: DoubleWell(a=np.nan), "Invalid a value: nan; expected a finite number"),
        (lambda: DoubleWell(d=np.inf), "Invalid d value: inf"),
        (lambda: DoubleWell(b=-1.0), "Invalid b value: -1.0; b must be > 0"),
        (
            lambda: Problem(Quadratic([1.0]), metric=np.zeros((0, 0))),
            r"Invalid G shape: \(0, 0\); expected a non-empty",
        ),
        (lambda: Problem(Quadratic([1.0, 1.0]), metric=np.eye(3)), "Invalid metric shape: G is 3x3"),
        (lambda: Problem(Quadratic([1.0]), metric=[[-1.0]]), "must be positive definite"),
        (lambda: Problem(Quadratic([1.0, 1.0]), drift=DecayDrift(0.5, dim=0)), "Invalid dim value: 0; dim must be"),
        (lambda: Problem(Quadratic([1.0, 1.0]), drift="rotation"), "Invalid drift: 'rotation'"),
        (lambda: Problem(lambda th: 0.0), "Invalid loss.*dimension dim >= 1"),
        (lambda: Problem(Quadratic([1.0]), gamma=np.nan), "Invalid gamma value: nan"),
    ],
)
def test_bad_problems_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


class _NanLoss:
    dim = 2

    def __call__(self, theta):
        return (theta**2).sum(-1) * float("nan")


class _NumpyLoss:
    dim = 2

    def __call__(self, theta):
        return np.sum(np.asarray(theta) ** 2, axis=-1)


def test_library_messages_name_the_cause():
    """A NaN loss, a numpy-only loss and a start tensor that requires grad: each named, before any solve."""
    import torch

    from functions.bvp import solve_bvp
    from functions.landscapes import DoubleWell
    from functions.least_action import minimise_action

    with pytest.raises(ValueError, match="fails on a torch tensor.*torch autodiff"):
        Problem(_NumpyLoss())
    nan = Problem(_NanLoss(), gamma=0.1)
    for solve in (
        lambda p: minimise_action(p, [1.0, 1.0], 1.0, theta_T=[0.0, 0.0], n_points=10),
        lambda p: solve_bvp(p, [1.0, 1.0], 1.0),
    ):
        with pytest.raises(ValueError, match=r"Invalid loss: it is nan at theta0 = \[1.0, 1.0\]"):
            solve(nan)
    start = torch.tensor([-0.6, 0.55], requires_grad=True)
    path = minimise_action(Problem(DoubleWell(), gamma=0.1), start, 4.0, theta_T=[1.0625, 0.0], n_points=20)
    assert np.allclose(path.theta[0], [-0.6, 0.55]), "a tensor that requires grad is taken as data"
