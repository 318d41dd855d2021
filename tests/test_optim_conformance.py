"""Ballistic held to torch.optim's generic optimizer checks, beside Adam and RMSprop on the same CPU.

An ``OptimizerInfo`` for Ballistic (torch.testing._internal.common_optimizers, shipped with the wheel) gives
its constructor inputs and error inputs; the checks below are the CPU-applicable generic ones of PyTorch's
test_optim.py, written here over any OptimizerInfo: the error inputs, the right direction, for-loop ==
foreach, complex == its real view, tensor learning rates, state_dict round trips (deepcopy, weights_only,
an older plain-number step), no-op steps, the step counter's dtype, sparse gradients, parameter groups and
torch.compile. Each runs for float32, float64 and (where the check is about numbers) complex64.
"""

import copy
import io

import pytest
import torch
from torch.nn import Parameter
from torch.testing._internal.common_optimizers import (
    ErrorOptimizerInput,
    OptimizerInfo,
    OptimizerInput,
    get_error_inputs_for_all_optims,
    optim_db,
)

from functions.optimisers import Ballistic


def ballistic_inputs(device, dtype=None):
    """Constructor inputs spanning Ballistic's options (torch's OptimizerInput, params given by the test)."""
    return [
        OptimizerInput(params=None, kwargs={}, desc="default (the published rule)"),
        OptimizerInput(params=None, kwargs={"lr": 0.01}, desc="non-default lr"),
        OptimizerInput(params=None, kwargs={"lr": torch.tensor(0.01)}, desc="Tensor lr"),
        OptimizerInput(params=None, kwargs={"betas": (0.9, 0.99)}, desc="gradient belief"),
        OptimizerInput(params=None, kwargs={"weight_decay": 0.1}, desc="decoupled weight decay"),
        OptimizerInput(params=None, kwargs={"bias_correction": True, "betas": (0.9, 0.999)}, desc="bias corrected"),
        OptimizerInput(params=None, kwargs={"eps_inside_sqrt": False}, desc="eps outside the square root"),
        OptimizerInput(params=None, kwargs={"maximize": True}, desc="maximize"),
        OptimizerInput(params=None, kwargs={"check_finite": True}, desc="finite check"),
    ]


def ballistic_error_inputs(device, dtype):
    """torch's error inputs for every optimiser, and Ballistic's own."""
    sample = Parameter(torch.randn(1, 1, device=device, dtype=dtype))
    own = [
        ({"lr": -1e-2}, "Invalid learning rate: -0.01"),
        ({"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ({"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
        ({"betas": (0.0, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ({"betas": (0.9,)}, r"Invalid betas value: \(0.9,\)"),
        ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ]
    return get_error_inputs_for_all_optims(device, dtype) + [
        ErrorOptimizerInput(OptimizerInput(params=[sample], kwargs=kw, desc=msg), error_type=ValueError,
                            error_regex=msg) for kw, msg in own
    ]  # fmt: skip


BALLISTIC_INFO = OptimizerInfo(
    Ballistic,
    optim_inputs_func=ballistic_inputs,
    optim_error_inputs_func=ballistic_error_inputs,
    supported_impls=("foreach",),
    supports_complex=True,
)
REFERENCE_CLASSES = (torch.optim.Adam, torch.optim.RMSprop)
REFERENCES = {info.optim_cls.__name__: info for info in optim_db if info.optim_cls in REFERENCE_CLASSES}
INFOS = {"Ballistic": BALLISTIC_INFO, **REFERENCES}
OPTIMS = list(INFOS)
DTYPES = [torch.float32, torch.float64]


def _inputs(name, dtype=torch.float32, foreach=None):
    """Every constructor input of an optimiser that applies on the CPU (no fused/capturable/differentiable)."""
    out = []
    for inp in INFOS[name].optim_inputs_func(device="cpu", dtype=dtype):
        kw = dict(inp.kwargs)
        if kw.get("fused") or kw.get("capturable") or kw.get("differentiable"):
            continue
        if name != "Ballistic" and isinstance(kw.get("lr"), torch.Tensor) and foreach:
            continue  # torch's Adam refuses a tensor lr with foreach on the CPU (its own error input)
        if foreach is not None:
            kw["foreach"] = foreach
        out.append((inp.desc, kw))
    return out


def _model(dtype, seed=0):
    torch.manual_seed(seed)
    weight = Parameter(torch.randn(5, 4, dtype=dtype))
    bias = Parameter(torch.randn(5, dtype=dtype))
    return [weight, bias]


def _loss(params, x):
    weight, bias = params
    out = x @ weight.T + bias
    return (out.abs() ** 2).sum() if out.is_complex() else (out**2).sum()


def _run(name, kw, params, steps=5, seed=1):
    opt = INFOS[name].optim_cls(params, **kw)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(8, 4, generator=g, dtype=params[0].real.dtype).to(params[0].dtype)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(params, x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return opt, losses


@pytest.mark.parametrize("name", OPTIMS)
def test_error_inputs(name):
    for err in INFOS[name].optim_error_inputs_func(device="cpu", dtype=torch.float32):
        params = err.optimizer_error_input.params
        params = _model(torch.float32) if params is None else params
        kwargs = err.optimizer_error_input.kwargs
        if err.error_type is UserWarning:
            with pytest.warns(UserWarning, match=err.error_regex):
                INFOS[name].optim_cls(params, **kwargs)
        elif err.error_on.name == "CONSTRUCTION_ERROR":
            with pytest.raises(err.error_type, match=err.error_regex):
                INFOS[name].optim_cls(params, **kwargs)


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", OPTIMS)
def test_goes_right_direction(name, dtype, foreach):
    for desc, kw in _inputs(name, dtype, foreach):
        if kw.get("maximize"):
            continue
        _, losses = _run(name, kw, _model(dtype), steps=10)
        assert losses[-1] < losses[0], f"{name} ({desc}): loss {losses[0]} -> {losses[-1]}"


@pytest.mark.parametrize("dtype", [*DTYPES, torch.complex64])
@pytest.mark.parametrize("name", OPTIMS)
def test_foreach_matches_forloop(name, dtype):
    for desc, kw in _inputs(name, dtype, foreach=True):
        if isinstance(kw.get("lr"), torch.Tensor) and name != "Ballistic":
            continue
        a, b = _model(dtype), _model(dtype)
        _run(name, kw | {"foreach": False}, a)
        _run(name, kw | {"foreach": True}, b)
        exact = {"rtol": 0, "atol": 0} if name == "Ballistic" else {}  # Ballistic: the same bits; torch: its tolerance
        for p, q in zip(a, b, strict=True):
            torch.testing.assert_close(p, q, **exact, msg=f"{name} ({desc})")


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name", OPTIMS)
def test_complex_equals_its_real_view(name, foreach):
    """Optimising complex parameters is optimising their (real, imaginary) pairs (torch's test_complex)."""
    for desc, kw in _inputs(name, torch.complex64, foreach):
        if isinstance(kw.get("lr"), torch.Tensor) and foreach and name != "Ballistic":
            continue
        torch.manual_seed(0)
        z = Parameter(torch.randn(6, dtype=torch.complex64))
        r = Parameter(torch.view_as_real(z.detach().clone()).clone())
        oz, orr = INFOS[name].optim_cls([z], **kw), INFOS[name].optim_cls([r], **copy.deepcopy(kw))
        g = torch.Generator().manual_seed(2)
        for _ in range(3):
            grad = torch.randn(6, dtype=torch.complex64, generator=g)
            z.grad, r.grad = grad.clone(), torch.view_as_real(grad).clone()
            oz.step()
            orr.step()
        torch.testing.assert_close(torch.view_as_real(z.detach()), r.detach(), rtol=1e-5, atol=1e-5,
                                   msg=f"{name} ({desc})")  # fmt: skip


@pytest.mark.parametrize("foreach", [False, True])
def test_ballistic_tensor_lr_equals_float_lr(foreach):
    for shape in ((), (1,)):
        a, b = _model(torch.float32), _model(torch.float32)
        _run("Ballistic", {"lr": 0.01, "foreach": foreach}, a)
        _run("Ballistic", {"lr": torch.full(shape, 0.01), "foreach": foreach}, b)
        for p, q in zip(a, b, strict=True):
            assert torch.equal(p, q), shape
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        Ballistic(_model(torch.float32), lr=torch.tensor([0.01, 0.02]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", OPTIMS)
def test_state_dict_round_trips_continue_identically(name, dtype):
    """deepcopy, and save/load with weights_only=True, into a fresh optimiser: the next steps are identical."""
    for desc, kw in _inputs(name, dtype):
        params = _model(dtype)
        opt, _ = _run(name, kw, params, steps=3)
        buffer = io.BytesIO()
        torch.save(opt.state_dict(), buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=True)
        for state in (copy.deepcopy(opt.state_dict()), loaded):
            twin = [Parameter(p.detach().clone()) for p in params]
            fresh = INFOS[name].optim_cls(twin, **copy.deepcopy(kw))
            fresh.load_state_dict(state)
            a = [Parameter(p.detach().clone()) for p in params]
            again = INFOS[name].optim_cls(a, **copy.deepcopy(kw))
            again.load_state_dict(copy.deepcopy(opt.state_dict()))
            for o, ps in ((fresh, twin), (again, a)):
                x = torch.ones(8, 4, dtype=dtype)
                for _ in range(2):
                    o.zero_grad()
                    _loss(ps, x).backward()
                    o.step()
            for p, q in zip(twin, a, strict=True):
                assert torch.equal(p, q), f"{name} ({desc})"


@pytest.mark.parametrize("name", OPTIMS)
def test_an_older_state_dict_with_a_plain_number_step_loads(name):
    """torch's test_load_nontensor_step: a state whose step is a Python number keeps working."""
    for desc, kw in _inputs(name):
        params = _model(torch.float32)
        opt, _ = _run(name, kw, params, steps=2)
        state = opt.state_dict()
        for s in state["state"].values():
            s["step"] = s["step"].item()
        fresh = INFOS[name].optim_cls(params, **kw)
        fresh.load_state_dict(state)
        x = torch.ones(8, 4, dtype=torch.float32)
        fresh.zero_grad()
        _loss(params, x).backward()
        fresh.step()
        assert all(torch.is_tensor(s["step"]) for s in fresh.state.values()), f"{name} ({desc})"


@pytest.mark.parametrize("name", OPTIMS)
def test_steps_without_gradients_change_nothing(name):
    for desc, kw in _inputs(name):
        params = _model(torch.float32)
        before = [p.detach().clone() for p in params]
        opt = INFOS[name].optim_cls(params, **kw)
        opt.step()  # no .grad at all
        assert all(torch.equal(p, b) for p, b in zip(params, before, strict=True)), f"{name} ({desc})"
        assert len(opt.state) == 0


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name", OPTIMS)
def test_the_step_counter_is_float32_under_a_bfloat16_default(name, foreach):
    """torch's test_set_default_dtype_works_with_foreach: the counter never takes a low-precision default."""
    before = torch.get_default_dtype()
    p = Parameter(torch.zeros(3, dtype=torch.float32))
    opt = INFOS[name].optim_cls([p], lr=1e-3, foreach=foreach)
    try:
        torch.set_default_dtype(torch.bfloat16)
        for _ in range(300):
            p.grad = torch.ones(3, dtype=torch.float32)
            opt.step()
    finally:
        torch.set_default_dtype(before)
    step = opt.state[p]["step"]
    assert step.dtype == torch.float32 and step.item() == 300


@pytest.mark.parametrize("check_finite", [False, True])
def test_sparse_gradients_get_the_optimisers_own_message(check_finite):
    p = Parameter(torch.zeros(4))
    p.grad = torch.zeros(4).to_sparse()
    with pytest.raises(RuntimeError, match="Ballistic does not support sparse gradients"):
        Ballistic([p], check_finite=check_finite).step()


def test_beta1_may_change_after_the_first_step_and_states_load_across_beta1():
    params = _model(torch.float32)
    opt, _ = _run("Ballistic", {"betas": (0.0, 0.99)}, params, steps=2)
    opt.param_groups[0]["betas"] = (0.9, 0.99)
    x = torch.ones(8, 4, dtype=torch.float32)
    opt.zero_grad()
    _loss(params, x).backward()
    opt.step()
    other = Ballistic(params, betas=(0.9, 0.99))
    other.load_state_dict(Ballistic(params, betas=(0.0, 0.99)).state_dict() | {"state": opt.state_dict()["state"]})
    other.step()
    assert all(torch.isfinite(p).all() for p in params)


def test_param_groups_keep_their_own_lr_and_weight_decay():
    a, b = Parameter(torch.ones(3)), Parameter(torch.ones(3))
    opt = Ballistic([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.0, "weight_decay": 0.5}], lr=0.01)
    a.grad, b.grad = torch.ones(3), torch.ones(3)
    opt.step()
    assert torch.all(a < 1) and torch.equal(b, torch.ones(3)), "lr 0: no update and no decay (decay scales with lr)"


def test_torch_compile_captures_the_default_step_in_one_graph():
    """No .item() in the default step: dynamo captures it whole (Adam: one graph as well)."""
    import torch._dynamo

    p = Parameter(torch.randn(4))
    p.grad = torch.randn(4)
    for opt in (Ballistic([p], lr=0.01), Ballistic([p], lr=0.01, foreach=True)):
        explanation = torch._dynamo.explain(opt.step)()
        assert explanation.graph_count == 1 and explanation.graph_break_count == 0
