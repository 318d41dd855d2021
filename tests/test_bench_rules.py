"""The benchmark's rules: each builds the optimiser its name says, with its hyperparameters where they belong,
the ablations are one change apart (tested step for step), and the tuning spaces refuse values outside them."""

import math

import pytest
import torch

from functions.bench_rules import RULES, SPACES, Range, build_rule, check_hyperparameters
from functions.optimisers import Ballistic


def _middle(rule):
    return {name: r.value(0.5) for name, r in SPACES[rule].items()}


def _steps(make, n=25, seed=0):
    """Parameters after n steps on a fixed stream of random gradients (float64)."""
    g = torch.Generator().manual_seed(seed)
    p = torch.nn.Parameter(torch.randn(7, generator=g, dtype=torch.float64))
    opt = make([p])
    for _ in range(n):
        p.grad = torch.randn(7, generator=g, dtype=torch.float64) * torch.linspace(1e-3, 3, 7, dtype=torch.float64)
        opt.step()
    return p.detach().clone()


def test_range_maps_quantiles_log_uniformly_and_one_minus():
    r = Range(1e-4, 1e-1)
    assert r.value(0.0) == pytest.approx(1e-4) and r.value(1 / 3) == pytest.approx(1e-3)
    b = Range(1e-3, 1e-1, one_minus=True)
    assert b.value(0.0) == pytest.approx(0.999) and b.value(1.0) == pytest.approx(0.9)
    assert b.contains(0.99) and not b.contains(0.5)
    with pytest.raises(ValueError, match="0 < low < high"):
        Range(1e-1, 1e-4)


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_builds_and_descends_a_quadratic(rule):
    p = torch.nn.Parameter(torch.ones(5, dtype=torch.float64))
    opt = build_rule(rule, [p], _middle(rule))
    for _ in range(50):
        opt.zero_grad()
        (0.5 * p.square().sum()).backward()
        opt.step()
    assert float(p.detach().square().sum()) < 5.0


def test_hyperparameters_reach_the_optimiser_where_they_belong():
    hp = {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.01}
    group = build_rule("adamw", [torch.nn.Parameter(torch.ones(2))], hp).param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (0.01, (0.8, 0.95), 1e-6, 0.01)
    group = build_rule("heavy_ball", [torch.nn.Parameter(torch.ones(2))], {"lr": 0.1, "beta1": 0.9}).param_groups[0]
    assert (group["lr"], group["momentum"]) == (0.1, 0.9)
    group = build_rule("rmsprop", [torch.nn.Parameter(torch.ones(2))], {"lr": 1e-3, "beta2": 0.99, "eps": 1e-7})
    assert (group.param_groups[0]["alpha"], group.param_groups[0]["eps"]) == (0.99, 1e-7)
    b = build_rule("ballistic", [torch.nn.Parameter(torch.ones(2))], {"lr": 1e-3, "beta2": 0.99, "eps": 1e-7})
    assert isinstance(b, Ballistic) and b.param_groups[0]["betas"] == (0.0, 0.99)
    assert not b.param_groups[0]["bias_correction"] and b.param_groups[0]["eps_inside_sqrt"]


def test_the_ablations_are_one_change_apart_step_for_step():
    hp = {"lr": 3e-3, "beta2": 0.95, "eps": 1e-4}  # a large eps, so that its placement shows
    common = {"lr": hp["lr"], "betas": (0.0, hp["beta2"]), "eps": hp["eps"]}
    rmsprop = _steps(lambda p: build_rule("rmsprop", p, hp))
    assert torch.equal(rmsprop, _steps(lambda p: Ballistic(p, **common, eps_inside_sqrt=False))), "eps outside"
    beta1_0 = _steps(lambda p: build_rule("adam_beta1_0", p, hp))
    both = _steps(lambda p: Ballistic(p, **common, bias_correction=True, eps_inside_sqrt=False))
    assert torch.allclose(beta1_0, both, rtol=0, atol=1e-15), "Adam without momentum = both changes"
    bc = _steps(lambda p: build_rule("ballistic_bc", p, hp))
    assert torch.equal(bc, _steps(lambda p: Ballistic(p, **common, bias_correction=True)))
    plain = _steps(lambda p: build_rule("ballistic", p, hp))
    for other in (rmsprop, beta1_0, bc):
        assert (other - plain).abs().max() > 1e-6, "each change changes the steps"


@pytest.mark.parametrize(
    ("rule", "hp", "match"),
    [
        ("ballistic", {"lr": 1e-3, "beta2": 0.99}, r"expected exactly \['beta2', 'eps', 'lr'\]"),
        ("ballistic", {"lr": 1e-3, "beta2": 0.99, "eps": 1e-8, "beta1": 0.9}, "expected exactly"),
        (
            "ballistic",
            {"lr": 1.0, "beta2": 0.99, "eps": 1e-8},
            r"ballistic lr = 1.0: must be a number in \[1e-05, 0.1\]",
        ),
        (
            "adam",
            {"lr": 1e-3, "beta1": 0.3, "beta2": 0.99, "eps": 1e-8},
            r"beta1 = 0.3: must be a number in \[0.5, 0.99\]",
        ),
        ("sgd", {"lr": math.nan}, "sgd lr = nan"),
        ("sgd", {"lr": True}, "sgd lr = True"),
        ("lion", {"lr": 1e-3}, "rule"),
    ],
)
def test_hyperparameters_outside_the_space_are_refused_naming_them(rule, hp, match):
    with pytest.raises(ValueError, match=match):
        check_hyperparameters(rule, hp)
