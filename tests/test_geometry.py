import numpy as np
import pytest
import torch

from functions.geometry import (
    DecayDrift,
    Metric,
    NoDrift,
    RotationDrift,
    diagonal_metric,
    identity_metric,
)


@pytest.mark.parametrize("drift", [NoDrift(), RotationDrift(2.5), DecayDrift(3.0)], ids=repr)
def test_drift_jacobian_matches_autograd(drift, rng):
    theta = torch.tensor(rng.normal(size=2))
    J_auto = torch.autograd.functional.jacobian(drift, theta)
    np.testing.assert_allclose(drift.jacobian(theta).numpy(), J_auto.numpy(), atol=1e-14)
    np.testing.assert_allclose(drift.jacobian(theta.numpy()), J_auto.numpy(), atol=1e-14)


def test_rotation_is_counter_clockwise():
    f = RotationDrift(1.0)
    np.testing.assert_allclose(f(np.array([1.0, 0.0])), [0.0, 1.0])


def test_decay_points_to_origin():
    np.testing.assert_allclose(DecayDrift(2.0)(np.array([1.0, -3.0])), [-2.0, 6.0])


def test_metric_norm(rng):
    G = diagonal_metric([1 / 50, 1.0])
    v = rng.normal(size=(5, 2))
    np.testing.assert_allclose(G.sq_norm(v), v[:, 0] ** 2 / 50 + v[:, 1] ** 2)
    np.testing.assert_allclose(G.sq_norm(torch.tensor(v)).numpy(), G.sq_norm(v))
    assert identity_metric(3).is_diagonal and G.is_diagonal


@pytest.mark.parametrize(
    "G",
    [[[1.0, 0.0], [0.0, -1.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.5], [0.0, 1.0]], [[1.0, 0.0]]],
)
def test_metric_rejects_non_positive_definite(G):
    with pytest.raises(ValueError, match="Invalid G"):
        Metric(G)


def test_diagonal_metric_rejects_non_positive_entries():
    with pytest.raises(ValueError, match="Invalid g value"):
        diagonal_metric([1.0, 0.0])


@pytest.mark.parametrize("cls,arg", [(RotationDrift, "q"), (DecayDrift, "j")])
def test_drift_rejects_negative_strength(cls, arg):
    with pytest.raises(ValueError, match=f"Invalid {arg} value"):
        cls(-1.0)


def test_value_objects_are_immutable_and_checked_by_protocol():
    from functions.landscapes import Quadratic
    from functions.objective import Problem
    from functions.protocols import Drift, Landscape, MetricLike

    q, m, r = Quadratic([1.0, 2.0]), diagonal_metric([1.0, 2.0]), RotationDrift(1.0)
    for obj, name in ((q, "h"), (m, "G"), (r, "q")):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(obj, name, 0)
    with pytest.raises(ValueError, match="read-only"):
        q.h[0] = 5.0
    mine = np.array([1.0, 2.0])
    Quadratic(mine)
    mine[0] = 3.0  # the caller's array stays theirs, and writable
    assert isinstance(q, Landscape) and isinstance(m, MetricLike) and isinstance(r, Drift)
    with pytest.raises(ValueError, match="Invalid drift"):
        Problem(q, drift=lambda theta: theta)  # no jacobian
    with pytest.raises(ValueError, match="Invalid loss"):
        Problem(object())
