import copy

import numpy as np
import pytest
import torch

from functions.optimisers import Ballistic


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()


def _data(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 5, generator=g, dtype=torch.float64), torch.randn(32, 3, generator=g, dtype=torch.float64)


def _run(model, opt, steps, x, y, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return [p.detach().clone() for p in model.parameters()]


CONFIGS = [
    {},
    {"betas": (0.9, 0.99)},
    {"betas": (0.9, 0.99), "bias_correction": True},
    {"betas": (0.8, 0.9), "bias_correction": True, "eps_inside_sqrt": False, "weight_decay": 0.1},
    {"maximize": True, "weight_decay": 0.01},
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_foreach_equals_for_loop(config):
    x, y = _data()
    out = []
    for foreach in (False, True):
        model = _model()
        out.append(_run(model, Ballistic(model.parameters(), lr=1e-2, foreach=foreach, **config), 30, x, y))
    for a, b in zip(*out, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-14)


def test_default_equals_published_rule_reference():
    """Independent numpy reference: v = b2 v + (1-b2) g^2; theta -= lr g / sqrt(v + eps)."""
    x, y = _data()
    model = _model()
    ref = [p.detach().numpy().copy() for p in model.parameters()]
    v = [np.zeros_like(r) for r in ref]
    opt = Ballistic(model.parameters(), lr=5e-3, betas=(0.0, 0.9), eps=1e-8)
    for _ in range(25):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        # gradient at the reference point (model parameters equal ref before the step)
        grads = [p.grad.numpy().copy() for p in model.parameters()]
        opt.step()
        for i, g in enumerate(grads):
            v[i] = 0.9 * v[i] + 0.1 * g * g
            ref[i] = ref[i] - 5e-3 * g / np.sqrt(v[i] + 1e-8)
    for p, r in zip(model.parameters(), ref, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), r, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_limit_equals_torch_adam(foreach, weight_decay):
    x, y = _data()
    m1, m2 = _model(), _model()
    ours = Ballistic(m1.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay,
                     bias_correction=True, eps_inside_sqrt=False, foreach=foreach)  # fmt: skip
    if weight_decay == 0:
        adam = torch.optim.Adam(m2.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    else:  # decoupled weight decay: AdamW
        adam = torch.optim.AdamW(m2.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)
    for a, b in zip(_run(m1, ours, 50, x, y), _run(m2, adam, 50, x, y), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("foreach", [False, True])
def test_state_dict_round_trip_continues_bit_identically(foreach):
    x, y = _data()
    model = _model()
    opt = Ballistic(model.parameters(), lr=1e-2, betas=(0.9, 0.99), bias_correction=True, foreach=foreach)
    _run(model, opt, 10, x, y)
    clone = copy.deepcopy(model)
    state = copy.deepcopy(opt.state_dict())
    assert all(isinstance(t, torch.Tensor) for s in state["state"].values() for t in s.values()), "tensor-only state"
    resumed = Ballistic(clone.parameters(), lr=1e-2, betas=(0.9, 0.99), bias_correction=True, foreach=foreach)
    resumed.load_state_dict(state)
    for a, b in zip(_run(model, opt, 10, x, y), _run(clone, resumed, 10, x, y), strict=True):
        assert torch.equal(a, b)


def test_maximize_ascends_the_negated_loss():
    x, y = _data()
    m1, m2 = _model(), _model()
    o1 = Ballistic(m1.parameters(), lr=1e-2)
    o2 = Ballistic(m2.parameters(), lr=1e-2, maximize=True)
    for _ in range(5):
        o1.zero_grad(), o2.zero_grad()
        torch.nn.functional.mse_loss(m1(x), y).backward()
        (-torch.nn.functional.mse_loss(m2(x), y)).backward()
        o1.step(), o2.step()
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_closure_and_scheduler_and_param_groups():
    x, y = _data()
    model = _model()
    opt = Ballistic([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.0}], lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    frozen = [p.detach().clone() for p in model[2].parameters()]

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    first = opt.step(closure)
    sched.step()
    assert isinstance(first, torch.Tensor)
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-3)
    for a, b in zip(model[2].parameters(), frozen, strict=True):
        assert torch.equal(a, b), "lr = 0 group does not move"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"eps": -1e-8}, "Invalid epsilon value"),
        ({"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0"),
        ({"betas": (0.0, -0.1)}, "Invalid beta parameter at index 1"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"lr": float("inf")}, r"Invalid learning rate: inf \(must be finite and >= 0\)"),
        ({"lr": float("nan")}, "Invalid learning rate: nan"),
        ({"eps": float("inf")}, "Invalid epsilon value: inf"),
        ({"betas": (0.9,)}, r"Invalid betas value: \(0.9,\) \(must be a pair"),
        ({"betas": (0.0, 0.9, 0.99)}, "Invalid betas value"),
    ],
)
def test_invalid_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Ballistic(_model().parameters(), **kwargs)


def test_sparse_gradients_are_rejected():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse gradients"):
        Ballistic(emb.parameters()).step()


@pytest.mark.parametrize("foreach", [False, True])
def test_converges_on_quadratic_and_rosenbrock(foreach):
    h = torch.tensor([100.0, 1.0])
    theta = torch.tensor([1.0, 1.0], requires_grad=True)
    opt = Ballistic([theta], lr=1e-2, betas=(0.0, 0.99), foreach=foreach)
    for _ in range(2000):
        opt.zero_grad()
        (0.5 * (h * theta**2).sum()).backward()
        opt.step()
    assert theta.abs().max() < 2e-2

    # Rosenbrock from (-1.5, 2): the default rule (no momentum) and the momentum + bias-correction variant.
    for kwargs, steps in (({"lr": 2e-3}, 6000), ({"lr": 1e-2, "betas": (0.9, 0.999), "bias_correction": True}, 6000)):
        xy = torch.tensor([-1.5, 2.0], requires_grad=True)
        opt = Ballistic([xy], foreach=foreach, **kwargs)
        for _ in range(steps):
            opt.zero_grad()
            ((1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2).backward()
            opt.step()
        torch.testing.assert_close(xy.detach(), torch.tensor([1.0, 1.0]), atol=1e-2, rtol=0)


@pytest.mark.parametrize("foreach", [False, True])
def test_check_finite_refuses_non_finite_gradients_before_any_update(foreach):
    a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    opt = Ballistic([a, b], lr=0.1, foreach=foreach, check_finite=True)
    a.grad, b.grad = torch.ones(3), torch.tensor([1.0, float("nan")])
    with pytest.raises(FloatingPointError, match=r"Non-finite gradient in parameter group 0, parameters \[1\]"):
        opt.step()
    assert torch.equal(a, torch.ones(3)) and torch.equal(b.detach(), torch.ones(2)) and not opt.state, "nothing updated"
    b.grad = torch.ones(2)
    opt.step()
    assert torch.all(a < 1) and torch.all(b < 1)


def test_without_check_finite_a_nan_gradient_propagates_like_torch_adam():
    """Documented default (as torch.optim.Adam): no check, the NaN reaches the parameter and the state."""
    p = torch.nn.Parameter(torch.ones(2))
    opt = Ballistic([p], lr=0.1)
    p.grad = torch.tensor([float("nan"), 1.0])
    opt.step()
    assert torch.isnan(p[0]) and torch.isnan(opt.state[p]["exp_avg_sq"][0]) and torch.isfinite(p[1])
