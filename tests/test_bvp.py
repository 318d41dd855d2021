"""The boundary-value solver: the free-end condition at T, every failure status, and bad input."""

import types

import numpy as np
import pytest
import torch

from functions import bvp
from functions.bvp import ConvergenceError, solve_bvp
from functions.geometry import RotationDrift, diagonal_metric
from functions.landscapes import Quadratic
from functions.objective import Problem

PROBLEM = Problem(Quadratic([1.0, 4.0], [1.0, -1.0]), gamma=0.5, metric=diagonal_metric([1.0, 3.0]),
                  drift=RotationDrift(2.0))  # fmt: skip
THETA0 = np.array([-2.0, 1.5])


def test_free_end_condition_holds_at_T():
    """Natural boundary condition: G (theta_dot - f(theta)) vanishes at T, i.e. theta_dot(T) = f(theta(T))."""
    T = 3.0
    sol = solve_bvp(PROBLEM, THETA0, T, tol=1e-9)
    theta_T, theta_dot_T = sol(T), sol.velocity(T)
    f_T = PROBLEM.drift(torch.as_tensor(theta_T)).numpy()
    np.testing.assert_allclose(theta_dot_T, f_T, atol=1e-7)
    assert np.linalg.norm(f_T) > 0.1, "a non-trivial check: the drift is not zero at the end"
    np.testing.assert_allclose(sol(0.0), THETA0, atol=1e-10)


def test_fixed_end_condition_holds_at_T():
    theta_T = np.array([0.5, 0.2])
    sol = solve_bvp(PROBLEM, THETA0, 2.0, theta_T=theta_T, tol=1e-9)
    np.testing.assert_allclose(sol(2.0), theta_T, atol=1e-9)


@pytest.mark.parametrize(("status", "message"), [(1, "max_nodes"), (2, "singular Jacobian"), (3, "bc tolerance")])
def test_every_failure_status_raises(monkeypatch, status, message):
    fake = types.SimpleNamespace(status=status, message=message, rms_residuals=np.array([1e-3]))
    monkeypatch.setattr(bvp, "_scipy_solve_bvp", lambda *a, **k: fake)
    with pytest.raises(ConvergenceError, match=f"did not converge \\({message}"):
        solve_bvp(PROBLEM, THETA0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tol": 0.0}, "Invalid tol value: 0.0; tol must be > 0"),
        ({"tol": -1e-9}, "Invalid tol value"),
        ({"tol": float("nan")}, "Invalid tol value: nan; expected a finite number"),
        ({"tol": 1e-16}, r"Invalid tol value: 1e-16; tol must lie in \[1e-13, 0.1\]"),
        ({"tol": 0.5}, "tol must lie in"),
        ({"n_nodes": 1}, "Invalid n_nodes value: 1; n_nodes must be an integer >= 2"),
        ({"n_nodes": 2.5}, "Invalid n_nodes value: 2.5; expected an integer"),
        ({"max_nodes": 100}, "Invalid max_nodes value: 100; max_nodes must be an integer >= 200"),
        ({"guess": "line"}, "Invalid guess value: 'line'; expected a callable"),
        ({"guess": lambda t: (np.zeros((t.size, 3)), np.zeros((t.size, 2)))}, r"its theta has shape \(200, 3\)"),
        ({"guess": lambda t: (np.zeros((t.size, 2)), np.full((t.size, 2), np.nan))}, "its theta_dot has shape"),
    ],
)
def test_bad_input_is_refused_before_solving(monkeypatch, kwargs, match):
    monkeypatch.setattr(bvp, "_scipy_solve_bvp", lambda *a, **k: pytest.fail("solved despite bad input"))
    with pytest.raises(ValueError, match=match):
        solve_bvp(PROBLEM, THETA0, 1.0, **kwargs)


def test_tensors_that_require_grad_are_data_to_every_solver():
    """Issue 29: a start, end or guess given as a tensor with requires_grad=True is taken as its values: the same
    path as from numpy arrays, the tensors untouched and no graph built (minimise_action's and solve_path's
    guesses once raised "Can't call numpy() on Tensor that requires grad")."""
    import torch

    from functions import Quadratic, minimise_action, solve_path

    problem = Problem(Quadratic(np.array([4.0, 1.0])), gamma=0.1)
    start, end = np.array([1.0, 0.5]), np.array([0.2, -0.1])
    t = np.linspace(0.0, 4.0, 20)
    leaves = []

    def line(tt, tensor):
        values = start + (np.asarray(tt) / 4.0)[:, None] * (end - start)
        if tensor:
            leaves.append(torch.tensor(values, requires_grad=True))
            return leaves[-1]
        return values

    def bvp_guess(tensor):
        def guess(tt):
            velocity = np.tile((end - start) / 4.0, (np.size(tt), 1))
            return line(tt, tensor), torch.tensor(velocity, requires_grad=True) if tensor else velocity

        return guess

    solvers = {
        "solve_bvp": lambda s, e, tensor: solve_bvp(problem, s, 4.0, theta_T=e, guess=bvp_guess(tensor)),
        "minimise_action": lambda s, e, tensor: minimise_action(problem, s, 4.0, theta_T=e, n_points=20,
                                                                guess=line(t, tensor)[1:-1]),
        "solve_path": lambda s, e, tensor: solve_path(problem, s, 4.0, theta_T=e, n_points=20, guess=line(t, tensor)),
    }  # fmt: skip
    s_leaf, e_leaf = torch.tensor(start, requires_grad=True), torch.tensor(end, requires_grad=True)
    for name, solve in solvers.items():
        plain, from_tensors = solve(start, end, False), solve(s_leaf, e_leaf, True)
        assert np.array_equal(plain.theta, from_tensors.theta) and plain.J == from_tensors.J, name
        assert isinstance(from_tensors.theta, np.ndarray) and isinstance(from_tensors.J, float), name
    assert len(leaves) >= 3 and all(v.grad is None for v in [s_leaf, e_leaf, *leaves])
    assert np.array_equal(s_leaf.detach().numpy(), start) and np.array_equal(e_leaf.detach().numpy(), end)
