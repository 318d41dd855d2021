import numpy as np
import pytest
import torch

from functions.landscapes import DoubleWell, Quadratic, schematic_double_well

LANDSCAPES = [DoubleWell(), DoubleWell(a=2.0, b=0.5, c=3.0, d=0.3), Quadratic([1 / 9, 1.0], [0.5, -1.0])]


@pytest.mark.parametrize("loss", LANDSCAPES, ids=repr)
def test_grad_and_hessian_match_autograd(loss, rng):
    theta = torch.tensor(rng.normal(size=(7, 2)), requires_grad=True)
    (g_auto,) = torch.autograd.grad(loss(theta).sum(), theta)
    np.testing.assert_allclose(loss.grad(theta.detach()).numpy(), g_auto.numpy(), rtol=1e-12, atol=1e-12)
    for th in theta.detach():
        H_auto = torch.autograd.functional.hessian(loss, th)
        np.testing.assert_allclose(loss.hessian(th).numpy(), H_auto.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", LANDSCAPES, ids=repr)
def test_numpy_and_torch_agree(loss, rng):
    theta = rng.normal(size=(3, 4, 2))
    for method in ("__call__", "grad", "hessian"):
        a = getattr(loss, method)(theta)
        b = getattr(loss, method)(torch.tensor(theta)).numpy()
        assert isinstance(a, np.ndarray)
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)


def test_double_well_minima():
    minima = DoubleWell().minima()
    assert minima.shape == (2, 2)
    assert minima[0, 0] < 0 < minima[1, 0]
    np.testing.assert_allclose(DoubleWell().grad(minima), 0.0, atol=1e-12)
    values = DoubleWell()(minima)
    assert values[1] < values[0], "with d < 0 the right well is the global minimum"


def test_quadratic_minimum_and_value():
    loss = Quadratic([4.0, 4.0], [0.0, -0.5])
    assert loss(np.array([0.0, -0.5])) == 0.0
    assert loss(np.array([1.0, -0.5])) == pytest.approx(2.0)


def test_schematic_surface_has_two_wells():
    x = np.linspace(-2, 2, 401)
    z = schematic_double_well(x, 0 * x)
    assert z[-1] < z[0] < z[200], "shallow (local) well on the left, deep (global) one on the right, hump between"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"h": [1.0, -1.0]}, "h"),
        ({"h": [1.0, 0.0]}, "h"),
        ({"h": [[1.0]]}, "h shape"),
        ({"h": [1.0, 2.0], "mu": [0.0]}, "mu shape"),
        ({"h": [1.0, np.nan]}, "h value"),
    ],
)
def test_quadratic_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Quadratic(**kwargs)
