"""The Ballistic optimiser: the paper's far-sighted (gamma -> 0) learning rule with a curvature belief.

In the ballistic regime the optimal rule is theta_dot = -sqrt(eta k) H^{-1/2} grad L. With H unknown,
the learner uses a diagonal belief V about curvature from squared gradients (Fisher ~ Hessian for
likelihood losses) and, optionally, a belief m about the gradient, giving

    v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    m_t = beta1 m_{t-1} + (1 - beta1) g_t              (m_t = g_t when beta1 = 0, the default)
    theta_t = theta_{t-1} - lr * m_hat_t / sqrt(v_hat_t + eps)

with m_hat, v_hat bias-corrected only when ``bias_correction=True``. The defaults (beta1 = 0, no bias
correction, eps inside the square root) are the rule behind the paper's Figure 2e-f curves. It is
RMSprop without momentum; with beta1 > 0, bias correction and eps moved outside the square root
(``eps_inside_sqrt=False``) it is exactly Adam (tested against torch.optim.Adam).
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch
from torch.optim import Optimizer

from ._checks import check_choice

__all__ = ["OPTIMISERS", "Ballistic", "make_optimiser"]

#: The optimisers compared throughout the figures.
OPTIMISERS = ("sgd", "adam", "ballistic")


class Ballistic(Optimizer):
    """Ballistic rule: theta <- theta - lr * m / sqrt(v + eps) with v an EMA of squared gradients.

    Args:
        params: iterable of parameters or parameter groups.
        lr: learning rate (the paper's sqrt(eta k) dt), >= 0.
        betas: (beta1, beta2): EMA coefficients of the gradient belief m (0 disables it) and of the
            curvature belief v, each in [0, 1).
        eps: added to v inside the square root (or to sqrt(v) outside it, see ``eps_inside_sqrt``), >= 0.
        weight_decay: decoupled weight decay theta <- theta (1 - lr weight_decay), as in AdamW, >= 0.
        bias_correction: divide m and v by (1 - beta^t) as Adam does.
        eps_inside_sqrt: sqrt(v + eps) (True, the published rule) or sqrt(v) + eps (False, Adam's).
        maximize: ascend instead of descend.
        foreach: use the multi-tensor (torch._foreach) implementation; by default when all
            parameters are on CUDA, else the for-loop.
        check_finite: before updating anything, raise FloatingPointError if any gradient holds NaN or
            inf. Off by default, as in torch.optim.Adam: then a non-finite gradient silently turns the
            parameters and the state into NaN/inf (the check costs one reduction per tensor and a sync).
    """

    def __init__(
        self,
        params,
        lr: float = 5e-4,
        betas: tuple[float, float] = (0.0, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        bias_correction: bool = False,
        eps_inside_sqrt: bool = True,
        maximize: bool = False,
        foreach: bool | None = None,
        check_finite: bool = False,
    ):
        if isinstance(lr, torch.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr) < math.inf:
            raise ValueError(f"Invalid learning rate: {lr} (must be finite and >= 0)")
        if not 0.0 <= eps < math.inf:
            raise ValueError(f"Invalid epsilon value: {eps} (must be finite and >= 0)")
        if len(betas) != 2:
            raise ValueError(f"Invalid betas value: {betas!r} (must be a pair (beta1, beta2), e.g. (0.0, 0.999))")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (must be in [0, 1))")
        if not 0.0 <= weight_decay < math.inf:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "bias_correction": bias_correction,
            "eps_inside_sqrt": eps_inside_sqrt,
            "maximize": maximize,
            "foreach": foreach,
            "check_finite": check_finite,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        """Load older or foreign states: fill in missing defaults, and turn a plain-number ``step`` into a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in _DEFAULT_FLAGS.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if "step" in p_state and not torch.is_tensor(p_state["step"]):
                    p_state["step"] = torch.tensor(float(p_state["step"]), dtype=_step_dtype())

    def _init_group(self, group, params, grads, exp_avgs, exp_avg_sqs, steps) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError(_SPARSE)
            state = self.state[p]
            if "step" not in state:
                state["step"] = torch.tensor(0.0, dtype=_step_dtype())
            if "exp_avg_sq" not in state:
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if "exp_avg" not in state:  # every buffer, whatever beta1 is now (it may change, or a state be loaded)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            real = torch.is_complex(p)  # complex numbers as pairs of reals: v holds Re(g)^2 and Im(g)^2
            params.append(torch.view_as_real(p) if real else p)
            grads.append(torch.view_as_real(p.grad) if real else p.grad)
            exp_avg_sqs.append(torch.view_as_real(state["exp_avg_sq"]) if real else state["exp_avg_sq"])
            exp_avgs.append(torch.view_as_real(state["exp_avg"]) if real else state["exp_avg"])
            steps.append(state["step"])

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for i, group in enumerate(self.param_groups):
            if any(p.grad is not None and p.grad.is_sparse for p in group["params"]):
                raise RuntimeError(_SPARSE)
            if group.get("check_finite"):
                bad = [j for j, p in enumerate(group["params"]) if p.grad is not None and not p.grad.isfinite().all()]
                if bad:
                    raise FloatingPointError(
                        f"Non-finite gradient in parameter group {i}, parameters {bad}; nothing was updated. "
                        "Lower the learning rate, clip gradients, or look for a NaN in the loss."
                    )
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
            self._init_group(group, params, grads, exp_avgs, exp_avg_sqs, steps)
            if not params:
                continue
            foreach = group["foreach"]
            if foreach is None:
                foreach = all(p.is_cuda for p in params)
            impl = _multi_tensor_ballistic if foreach else _single_tensor_ballistic
            lr = group["lr"]
            impl(
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
                steps,
                beta1=group["betas"][0],
                beta2=group["betas"][1],
                lr=lr.item() if isinstance(lr, torch.Tensor) else lr,  # a tensor lr (a scheduler may change it)
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                bias_correction=group["bias_correction"],
                eps_inside_sqrt=group["eps_inside_sqrt"],
                maximize=group["maximize"],
            )
        return loss


_SPARSE = "Ballistic does not support sparse gradients; use a dense layer or SparseAdam."

#: Flags an older state_dict may lack (``__setstate__`` fills them in).
_DEFAULT_FLAGS = {"bias_correction": False, "eps_inside_sqrt": True, "maximize": False, "foreach": None,
                  "check_finite": False, "weight_decay": 0.0}  # fmt: skip


def _step_dtype() -> torch.dtype:
    """The step counter's dtype, as torch.optim's: float64 under a float64 default, else float32 (never bf16)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _corrections(step: torch.Tensor, beta1: float, beta2: float, bias_correction: bool) -> tuple[float, float]:
    """(1 - beta1^t, 1 - beta2^t), or (1, 1) without bias correction (and bc1 = 1 when beta1 = 0).

    The step is read (``.item()``, a sync and a torch.compile graph break) only with bias correction.
    """
    if not bias_correction:
        return 1.0, 1.0
    t = step.item()
    bc1 = 1.0 - beta1**t if beta1 > 0 else 1.0
    return bc1, 1.0 - beta2**t


def _single_tensor_ballistic(params, grads, exp_avgs, exp_avg_sqs, steps, *, beta1, beta2, lr, eps,
                             weight_decay, bias_correction, eps_inside_sqrt, maximize):  # fmt: skip
    """For-loop implementation, one tensor at a time."""
    for p, g, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps, strict=True):
        g = -g if maximize else g
        step += 1
        if weight_decay:
            p.mul_(1 - lr * weight_decay)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if beta1 > 0:
            m.lerp_(g, 1 - beta1)
        bc1, bc2 = _corrections(step, beta1, beta2, bias_correction)
        if eps_inside_sqrt:
            denom = (v / bc2).add_(eps).sqrt_()
        else:
            denom = (v.sqrt() / math.sqrt(bc2)).add_(eps)
        p.addcdiv_(m if beta1 > 0 else g, denom, value=-lr / bc1)


def _multi_tensor_ballistic(params, grads, exp_avgs, exp_avg_sqs, steps, *, beta1, beta2, lr, eps,
                            weight_decay, bias_correction, eps_inside_sqrt, maximize):  # fmt: skip
    """Multi-tensor implementation with torch._foreach kernels, grouped by device and dtype."""
    groups = defaultdict(list)
    for i, p in enumerate(params):
        groups[(p.device, p.dtype)].append(i)
    for idx in groups.values():
        ps, vs, st = [params[i] for i in idx], [exp_avg_sqs[i] for i in idx], [steps[i] for i in idx]
        gs = [grads[i] for i in idx]
        if maximize:
            gs = torch._foreach_neg(gs)
        torch._foreach_add_(st, 1.0)
        if weight_decay:
            torch._foreach_mul_(ps, 1 - lr * weight_decay)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, gs, gs, value=1 - beta2)
        if beta1 > 0:
            ms = [exp_avgs[i] for i in idx]
            torch._foreach_lerp_(ms, gs, 1 - beta1)
        else:
            ms = gs
        bcs = [_corrections(s, beta1, beta2, bias_correction) for s in st]
        if eps_inside_sqrt:
            if bias_correction:
                denom = torch._foreach_div(vs, [bc2 for _, bc2 in bcs])
                torch._foreach_add_(denom, eps)
            else:
                denom = torch._foreach_add(vs, eps)
            torch._foreach_sqrt_(denom)
        else:
            denom = torch._foreach_sqrt(vs)
            if bias_correction:
                torch._foreach_div_(denom, [math.sqrt(bc2) for _, bc2 in bcs])
            torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(ps, ms, denom, [-lr / bc1 for bc1, _ in bcs])


def make_optimiser(name: str, params, lr: float, *, adam_betas=(0.9, 0.999), ballistic_beta2: float = 0.999,
                   eps: float = 1e-8, foreach: bool | None = None):  # fmt: skip
    """SGD (no momentum), Adam, or Ballistic (betas (0, ballistic_beta2), the published rule); ``eps`` for both.

    Adam is ``torch.optim.Adam``; the authors' AdamW with weight decay 0 performs the same update
    bit for bit. ``foreach`` picks the multi-tensor implementation of each (None: torch's default, the
    for-loop on the CPU); both give the same bits (tested).
    """
    check_choice(name, "optimiser", OPTIMISERS)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, foreach=foreach)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(adam_betas), eps=eps, foreach=foreach)
    return Ballistic(params, lr=lr, betas=(0.0, ballistic_beta2), eps=eps, foreach=foreach)
