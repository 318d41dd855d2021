"""Performance profiles and the verdicts of the Ballistic benchmark (beyond the paper).

For rule r on workload w let c_{w,r} be its cost to reach the workload's target: the median over the best
trial's seed reruns of the steps to target (infinite when the median run does not reach it). Its performance
ratio is c_{w,r} / min_r' c_{w,r'}, and its performance profile (Dolan and Moré 2002; MLCommons AlgoPerf)

    rho_r(tau) = |{w : c_{w,r} <= tau min_r' c_{w,r'}}| / |W|,

the fraction of workloads on which r is within a factor tau of the fastest rule. AlgoPerf's score is its
normalised area, (1 / (tau_max - 1)) int_1^tau_max rho_r(tau) dtau with tau_max = 4; a workload no rule solves
counts against every rule alike.

The criteria of the two claims are fixed here (``CRITERIA``), written after the noisy quadratic's tuning trials
and before any seed rerun or profile was computed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import bench_workloads as BW

__all__ = [
    "CRITERIA",
    "Criteria",
    "compare",
    "costs",
    "final_stats",
    "performance_profile",
    "profile_score",
    "verdicts",
]

#: AlgoPerf's largest performance ratio.
TAU_MAX = 4.0


def _median(values) -> float:
    """The median, with infinities (runs that never reach the target) ordered last: a median that falls on one,
    or on the mean of a finite and an infinite value, is infinite."""
    return float(np.median(np.asarray(values, dtype=float))) if values else math.inf


def costs(study: dict) -> dict:
    """{workload: {rule: median steps to target over the seed reruns}} from {workload: {rule: [seed records]}}."""
    return {w: {r: _median([math.inf if x["steps_to_target"] is None else x["steps_to_target"] for x in recs])
                for r, recs in rules.items()} for w, rules in study.items()}  # fmt: skip


def final_stats(study: dict) -> dict:
    """{workload: {rule: (mean, standard deviation (ddof 1), n)}} of the final value of each workload's target
    metric over the seed reruns (a diverged run counts as accuracy 0 / loss inf)."""
    out = {}
    for w, rules in study.items():
        metric = BW.get(w).target.metric
        out[w] = {}
        for r, recs in rules.items():
            x = np.array([rec["final"][metric] for rec in recs], dtype=float)
            sd = float(np.std(x, ddof=1)) if len(x) > 1 and np.isfinite(x).all() else (0.0 if len(x) == 1 else math.inf)
            out[w][r] = (float(np.mean(x)), sd, len(x))
    return out


def performance_profile(cost: dict, taus) -> dict:
    """{rule: rho_r(tau) for tau in taus} (an array) from {workload: {rule: cost}}; every workload must list the
    same rules."""
    workloads = list(cost)
    if not workloads:
        raise ValueError("performance_profile needs at least one workload.")
    rules = list(cost[workloads[0]])
    for w in workloads:
        if set(cost[w]) != set(rules):
            raise ValueError(f"workload {w!r} lists rules {sorted(cost[w])}, expected {sorted(rules)}.")
    taus = np.asarray(taus, dtype=float)
    within = {r: np.zeros_like(taus) for r in rules}
    for w in workloads:
        best = min(cost[w].values())
        for r in rules:
            c = cost[w][r]
            if math.isfinite(c):  # best is then finite too (a target met at step 0: only cost 0 is within)
                within[r] += (c <= taus * best).astype(float) if best > 0 else float(c == 0)
    return {r: within[r] / len(workloads) for r in rules}


def profile_score(cost: dict, tau_max: float = TAU_MAX, n: int = 3001) -> dict:
    """{rule: (1 / (tau_max - 1)) int_1^tau_max rho_r}, by the trapezoid rule on ``n`` points (rho is a step
    function; 3001 points put the quadrature error below 1e-3)."""
    taus = np.linspace(1.0, tau_max, n)
    rho = performance_profile(cost, taus)
    return {r: float(np.trapezoid(v, taus) / (tau_max - 1.0)) for r, v in rho.items()}


@dataclass(frozen=True)
class Criteria:
    """'Ballistic is as good as Adam': its profile score is at least Adam's minus ``score_margin``, and on every
    workload its mean final metric is better than Adam's or within ``spread_factor`` x the larger of the two
    seed standard deviations (plus ``floor``, so that two identical curves do not fail on a zero spread).
    'Ballistic is better than SGD': a higher profile score, and fewer median steps to target on more than half of
    the workloads."""

    score_margin: float = 0.05
    spread_factor: float = 2.0
    floor: float = 1e-4


#: The criteria, fixed before the seed reruns.
CRITERIA = Criteria()


def _better_or_close(w: str, a: tuple, b: tuple, c: Criteria) -> bool:
    """Is ``a`` = (mean, sd, n) better than ``b`` on workload w's metric, or within the spread?"""
    sign = 1.0 if BW.get(w).target.metric == "val_accuracy" else -1.0
    if not (math.isfinite(a[0]) and math.isfinite(b[0])):  # a diverged loss: only as good as another one
        return a[0] == b[0] or sign * (a[0] - b[0]) > 0
    return sign * (a[0] - b[0]) >= -(c.spread_factor * max(a[1], b[1]) + c.floor)


def verdicts(study: dict, criteria: Criteria = CRITERIA, rule: str = "ballistic") -> dict:
    """The two claims for ``rule`` (default the paper's Ballistic), each with the numbers that decide it."""
    cost, stats, score = costs(study), final_stats(study), profile_score(costs(study))
    close = {w: _better_or_close(w, stats[w][rule], stats[w]["adam"], criteria) for w in study}
    faster = {w: cost[w][rule] < cost[w]["sgd"] for w in study}
    return {
        "as_good_as_adam": {"holds": score[rule] >= score["adam"] - criteria.score_margin and all(close.values()),
                            "score": score[rule], "adam_score": score["adam"], "close_per_workload": close},
        "better_than_sgd": {"holds": score[rule] > score["sgd"] and sum(faster.values()) > len(faster) / 2,
                            "score": score[rule], "sgd_score": score["sgd"], "faster_per_workload": faster},
    }  # fmt: skip


def compare(cost: dict, score: dict, first: str, second: str) -> dict:
    """Rule ``first`` against rule ``second``: on how many workloads its median steps to target (``costs``; inf
    when not reached, two infs equal) are fewer, equal or more, and its profile score minus the other's."""
    counts = Counter("equal" if c[first] == c[second] else "fewer" if c[first] < c[second] else "more"
                     for c in cost.values())  # fmt: skip
    return {"with": first, "without": second, "score_change": score[first] - score[second],
            **{k: counts[k] for k in ("fewer", "equal", "more")}}  # fmt: skip
