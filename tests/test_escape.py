"""E5: the free-end escape map of Figure 1's double well, on a small grid."""

import numpy as np
import pytest

from functions.escape import escape_map
from functions.flows import gradient_flow
from functions.landscapes import DoubleWell


@pytest.fixture(scope="module")
def small_map():
    return escape_map(DoubleWell(), [[-0.6, 0.55]], [0.01, 0.1, 3.0], T=30.0, n_points=201)


def test_far_sighted_learner_escapes_and_a_short_sighted_one_stays(small_map):
    """Small gamma: the crossing path has the lower J (it ends in the global basin); gamma = 3 stays, as gradient
    flow (the gamma >> 1 limit) does from the same start."""
    m = small_map
    assert m.J_cross[0, 0] < m.J_stay[0, 0] and m.escapes[0].tolist()[:2] == [1, 1]
    assert m.escapes[0, 2] == 0 and m.gamma_stop[0] == 3.0
    flow = gradient_flow(DoubleWell(), np.array([-0.6, 0.55]), np.linspace(0, 20, 100), lr=1.0)
    assert DoubleWell().basin(flow[-1]) == "local"


def test_a_start_at_the_local_minimum_stays_at_rest_with_the_exact_J():
    """From the local minimum with gamma = 3 the staying branch is the path at rest: J = k L_local (1 - e^{-gamma T})
    / gamma, to rounding."""
    from functions.escape import _branch

    loss = DoubleWell()
    local = loss.minima()[0]
    [(J, end)] = _branch(loss, local, local, [3.0], 30.0, 201, 1.0, 1.0)
    assert J == pytest.approx(float(loss(local)) * -np.expm1(-90.0) / 3.0, rel=1e-10)
    np.testing.assert_allclose(end, local, atol=1e-12)


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match="increasing gammas"):
        escape_map(DoubleWell(), [[-0.6, 0.55]], [0.1, 0.05])
    with pytest.raises(ValueError, match="shape"):
        escape_map(DoubleWell(), [[-0.6, 0.55, 0.0]], [0.1])
