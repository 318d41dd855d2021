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
