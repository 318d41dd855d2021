"""The optimisers of the Ballistic benchmark (beyond the paper) and their tuning spaces, fixed before any run.

Adam differs from the paper's Ballistic rule (Figure 2e-f: theta <- theta - lr g / sqrt(v + eps),
v an EMA of g^2) in three ways at once: momentum (beta1 > 0), bias correction, and eps outside the square
root. The ablations separate them, each one change away from Ballistic or from Adam:

    ballistic           lr g / sqrt(v + eps)                     the paper's rule
    ballistic_bc        lr g / sqrt(v / (1 - beta2^t) + eps)     + Adam's bias correction
    rmsprop             lr g / (sqrt(v) + eps)                   + Adam's eps placement (torch.optim.RMSprop)
    adam_beta1_0        lr g / (sqrt(v / (1 - beta2^t)) + eps)   both: Adam without momentum
    adam                Adam (torch.optim.Adam)                  + momentum
    adamw               AdamW (decoupled weight decay)
    sgd, heavy_ball     torch.optim.SGD without / with momentum

RMSprop *is* Ballistic with eps outside the square root (``Ballistic(eps_inside_sqrt=False)`` takes the same
steps, tested), so it is the eps-placement ablation; the paper's rule already has eps inside.

Each rule tunes its learning rate and the constants it has, log-uniform over ranges written here before any
run (``SPACES``); a constant near 1 is tuned as 1 - beta. eps is tuned by every adaptive rule, so that its
placement is compared at each rule's best eps, not at one value that favours one placement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._checks import check_choice
from .optimisers import Ballistic

__all__ = ["RULES", "SPACES", "Range", "build_rule", "check_hyperparameters"]


@dataclass(frozen=True)
class Range:
    """A log-uniform range [low, high] of a hyperparameter (``one_minus``: of 1 - value, e.g. 1 - beta2)."""

    low: float
    high: float
    one_minus: bool = False

    def __post_init__(self):
        if not 0 < self.low < self.high < math.inf:
            raise ValueError(f"Invalid Range({self.low}, {self.high}): needs 0 < low < high < inf")

    def value(self, u: float) -> float:
        """The hyperparameter at the quantile u in [0, 1) of the log-uniform range."""
        x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return 1.0 - x if self.one_minus else x

    def contains(self, value: float) -> bool:
        x = 1.0 - value if self.one_minus else value
        return self.low * (1 - 1e-12) <= x <= self.high * (1 + 1e-12)


_LR_ADAPTIVE = Range(1e-5, 1e-1)
_BETA1 = Range(1e-2, 0.5, one_minus=True)  # beta1 in [0.5, 0.99]
_BETA2 = Range(1e-4, 1e-1, one_minus=True)  # beta2 in [0.9, 0.9999]
_EPS = Range(1e-10, 1e-3)

#: Tuning spaces, {rule: {hyperparameter: Range}}, fixed before any run of the benchmark.
SPACES: dict[str, dict[str, Range]] = {
    "sgd": {"lr": Range(1e-3, 3.0)},
    "heavy_ball": {"lr": Range(1e-4, 1.0), "beta1": _BETA1},
    "adam": {"lr": _LR_ADAPTIVE, "beta1": _BETA1, "beta2": _BETA2, "eps": _EPS},
    "adamw": {
        "lr": _LR_ADAPTIVE,
        "beta1": _BETA1,
        "beta2": _BETA2,
        "eps": _EPS,
        "weight_decay": Range(1e-5, 1e-1),
    },
    "adam_beta1_0": {"lr": _LR_ADAPTIVE, "beta2": _BETA2, "eps": _EPS},
    "rmsprop": {"lr": _LR_ADAPTIVE, "beta2": _BETA2, "eps": _EPS},
    "ballistic": {"lr": _LR_ADAPTIVE, "beta2": _BETA2, "eps": _EPS},
    "ballistic_bc": {"lr": _LR_ADAPTIVE, "beta2": _BETA2, "eps": _EPS},
}
RULES = tuple(SPACES)


def check_hyperparameters(rule: str, hp: dict) -> dict:
    """``hp`` with exactly the rule's hyperparameters, each a finite number inside its range; else ValueError."""
    check_choice(rule, "rule", RULES)
    space = SPACES[rule]
    if not isinstance(hp, dict) or set(hp) != set(space):
        got = sorted(hp) if isinstance(hp, dict) else repr(hp)
        raise ValueError(f"Invalid hyperparameters for {rule!r}: {got}; expected exactly {sorted(space)}.")
    for name, r in space.items():
        v = hp[name]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or not r.contains(v):
            lo, hi = (1 - r.high, 1 - r.low) if r.one_minus else (r.low, r.high)
            raise ValueError(f"Invalid {rule} {name} = {v!r}: must be a number in [{lo:g}, {hi:g}].")
    return {name: float(hp[name]) for name in space}


_BUILDERS: dict[str, Callable] = {
    "sgd": lambda p, h: torch.optim.SGD(p, lr=h["lr"]),
    "heavy_ball": lambda p, h: torch.optim.SGD(p, lr=h["lr"], momentum=h["beta1"]),
    "adam": lambda p, h: torch.optim.Adam(p, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"]),
    "adamw": lambda p, h: torch.optim.AdamW(
        p, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"]
    ),
    "adam_beta1_0": lambda p, h: torch.optim.Adam(p, lr=h["lr"], betas=(0.0, h["beta2"]), eps=h["eps"]),
    "rmsprop": lambda p, h: torch.optim.RMSprop(p, lr=h["lr"], alpha=h["beta2"], eps=h["eps"]),
    "ballistic": lambda p, h: Ballistic(p, lr=h["lr"], betas=(0.0, h["beta2"]), eps=h["eps"]),
    "ballistic_bc": lambda p, h: Ballistic(p, lr=h["lr"], betas=(0.0, h["beta2"]), eps=h["eps"], bias_correction=True),
}


def build_rule(rule: str, params, hp: dict) -> torch.optim.Optimizer:
    """The torch optimiser of ``rule`` with hyperparameters ``hp`` (checked against ``SPACES``) on ``params``."""
    return _BUILDERS[rule](params, check_hyperparameters(rule, hp))
