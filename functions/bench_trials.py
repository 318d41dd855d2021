"""One trial of the Ballistic benchmark (beyond the paper): a rule with fixed hyperparameters and a seed, trained
on one workload for its step budget, with the validation curve, steps-to-target and time-to-target.

A trial's result depends only on its configuration (``Trial.config``): the model is initialised from
``torch.manual_seed(seed)``, the data order from ``torch.Generator().manual_seed(seed)``, the quadratic's noise
from ``numpy.random.default_rng(seed)``, and it runs on one torch thread (CPU kernels reduce in a
thread-count-dependent order), so a trial killed at any point and run again gives the same numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import bench_workloads as BW
from ._checks import check_int
from .bench_rules import build_rule, check_hyperparameters

__all__ = ["Trial", "run_trial"]

#: Bump when a change of this module changes what a trial computes: records of another version are refused.
TRIAL_VERSION = 1


@dataclass(frozen=True)
class Trial:
    """A workload, a rule, its hyperparameters and a seed (keyword-built; ``hyperparameters`` checked)."""

    workload: str
    rule: str
    hyperparameters: dict = field(hash=False)
    seed: int = 0

    def __post_init__(self):
        BW.get(self.workload)
        object.__setattr__(self, "hyperparameters", check_hyperparameters(self.rule, self.hyperparameters))
        check_int(self.seed, "seed", 0)

    def config(self) -> dict:
        """Everything the result depends on (the workload's definition included), as stored in its record."""
        return {"trial_version": TRIAL_VERSION, "workload": BW.get(self.workload).as_dict(), "rule": self.rule,
                "hyperparameters": self.hyperparameters, "seed": self.seed, "threads": 1}  # fmt: skip


def _batches(n: int, batch: int, generator: torch.Generator):
    """Minibatch indices for ever: a fresh permutation per epoch, the last incomplete batch dropped."""
    while True:
        perm = torch.randperm(n, generator=generator)
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


def run_trial(trial: Trial, data=None, *, root=None) -> dict:
    """Train ``trial`` for its workload's ``steps`` on 1 thread; return its result (see ``bench_records``).

    Returns {'curve': {'step', 'val_loss', 'val_accuracy' (classifiers), 'train_loss', 'train_time_s'},
    'diverged', 'steps_to_target', 'time_to_target_s', 'final': the last evaluation's metrics,
    'step_time_s': training seconds per step}. ``train_loss`` is the mean minibatch loss since the previous
    evaluation; times exclude evaluations. A non-finite loss stops the trial (``diverged``: its remaining
    evaluations are absent and the target counts as not reached).
    """
    w = BW.get(trial.workload)
    x_tr, y_tr, x_val, y_val = BW.load_workload(w, root) if data is None else data
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(trial, w, x_tr, y_tr, x_val, y_val)
    finally:
        torch.set_num_threads(before)


def _train(trial: Trial, w: BW.Workload, x_tr, y_tr, x_val, y_val) -> dict:
    model = BW.make_model(w, trial.seed)
    opt = build_rule(trial.rule, model.parameters(), trial.hyperparameters)
    batches = _batches(x_tr.shape[0], w.batch_size, torch.Generator().manual_seed(trial.seed)) if x_tr.numel() else None
    rng = np.random.default_rng(trial.seed)
    curve: dict[str, list] = {"step": [], "train_loss": [], "train_time_s": []}
    train_time, window, diverged, reached = 0.0, [], False, None

    def record(step: int) -> None:
        nonlocal reached
        model.eval()
        metrics = BW.evaluate(w, model, x_val, y_val)
        model.train()
        curve["step"].append(step)
        curve["train_loss"].append(float(np.mean(window)) if window else None)
        curve["train_time_s"].append(round(train_time, 3))
        for k, v in metrics.items():
            curve.setdefault(k, []).append(v)
        if reached is None and w.target.met(metrics):
            reached = (step, train_time)

    record(0)
    for step in range(1, w.steps + 1):
        start = time.perf_counter()
        if batches is None:
            noise = torch.from_numpy(rng.standard_normal(BW.QUADRATIC_D).astype(np.float32))
            loss = BW.loss_fn(w, model, None, None, noise)
        else:
            idx = next(batches)
            loss = BW.loss_fn(w, model, x_tr[idx], y_tr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        train_time += time.perf_counter() - start
        value = float(loss.detach())
        if not math.isfinite(value) or not all(bool(p.isfinite().all()) for p in model.parameters()):
            diverged = True
            break
        window.append(value)
        if step % w.eval_every == 0 or step == w.steps:
            record(step)
            window = []
    final = {k: curve[k][-1] for k in curve if k.startswith("val_")}
    if diverged:
        final = {k: math.inf if k == "val_loss" else 0.0 for k in final}
    return {"curve": curve, "diverged": diverged, "steps_to_target": None if reached is None else reached[0],
            "time_to_target_s": None if reached is None else round(reached[1], 3), "final": final,
            "step_time_s": train_time / max(1, step)}  # fmt: skip
