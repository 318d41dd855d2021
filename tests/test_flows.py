"""Gradient flow: the exponential solution on a quadratic, and bad time grids refused."""

import numpy as np
import pytest

from functions.flows import gradient_flow
from functions.landscapes import Quadratic


def test_gradient_flow_on_a_quadratic_is_exponential():
    loss, t = Quadratic([1.0, 4.0], [1.0, 0.0]), np.linspace(0.0, 2.0, 21)
    path = gradient_flow(loss, [0.0, 1.0], t, lr=0.5)
    expected = loss.mu + (np.array([0.0, 1.0]) - loss.mu) * np.exp(-0.5 * np.outer(t, loss.h))
    np.testing.assert_allclose(path, expected, atol=1e-9)


@pytest.mark.parametrize(
    ("t", "match"),
    [
        ([0.0], r"Invalid t shape: \(1,\); expected at least 2 times"),
        ([], r"Invalid t shape: \(0,\)"),
        ([0.0, np.nan, 2.0], "finite, strictly increasing times starting at 0"),
        ([0.0, 1.0, np.inf], "finite, strictly increasing"),
        ([0.5, 1.0], "starting at 0"),
        ([0.0, 1.0, 1.0], "strictly increasing"),
        (np.zeros((2, 2)), "Invalid t shape"),
    ],
)
def test_bad_times_are_refused(t, match):
    with pytest.raises(ValueError, match=match):
        gradient_flow(Quadratic([1.0]), [1.0], t)


def test_bad_lr_and_start():
    with pytest.raises(ValueError, match="Invalid lr value: 0.0; lr must be > 0"):
        gradient_flow(Quadratic([1.0]), [1.0], [0.0, 1.0], lr=0.0)
    with pytest.raises(ValueError, match=r"Invalid theta0 shape: \(2,\); expected \(1,\)"):
        gradient_flow(Quadratic([1.0]), [1.0, 2.0], [0.0, 1.0])
