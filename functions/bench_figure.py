"""E6 (beyond the paper): does the derived rule hold up? The Ballistic benchmark read from its records.

Figure 2e-f is the paper's evidence that the Ballistic rule (theta <- theta - lr g / sqrt(v + eps), the gamma -> 0
limit of Section 4 with a diagonal curvature belief) trains as well as Adam and better than SGD. Here eight rules
(``bench_rules``) are tuned with the same budget on every workload of ``bench_workloads`` (``bench_study``) and
compared by AlgoPerf-style performance profiles (``bench_profiles``), against criteria fixed before the seed
reruns. A workload counts once all its records exist; the rest are listed as pending, with the command that
finishes them. The cost of the exact-curvature rule, -sqrt(eta k) H^{-1/2} grad L, against the diagonal one comes
from the committed report of ``tests/benchmarks/bench_exact_rule.py``.

Shape of a figure module: ``compute -> headline -> report -> panels``.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from dataclasses import dataclass

import numpy as np

from . import bench_profiles as BP
from . import bench_workloads as BW
from .bench_rules import RULES
from .bench_study import Protocol, load_study, seed_records
from .plotting import Panel
from .results_io import read_json

__all__ = ["BenchData", "compute", "headline", "panels", "report"]

#: Each rule's label, colour and line style in the panels (Ballistic and its ablations warm, Adam's family cool).
STYLE = {
    "sgd": ("SGD", "0.45", ":"),
    "heavy_ball": ("heavy ball", "0.15", "--"),
    "adam": ("Adam", "tab:blue", "-"),
    "adamw": ("AdamW", "tab:cyan", "--"),
    "adam_beta1_0": ("Adam, beta1 = 0", "tab:purple", "-."),
    "rmsprop": ("RMSprop (Ballistic, eps outside)", "tab:olive", "-."),
    "ballistic": ("Ballistic", "tab:red", "-"),
    "ballistic_bc": ("Ballistic + bias correction", "tab:orange", "--"),
}
#: Rule against rule (what differs, the first rule, the second), compared by ``bench_profiles.compare`` on the
#: median seed's steps to target and on the profile score: Ballistic against Adam (three changes at once), then
#: pairs one change apart.
CHANGES = (
    ("Ballistic instead of Adam", "ballistic", "adam"),
    ("momentum (Adam against Adam, beta1 = 0)", "adam", "adam_beta1_0"),
    ("eps outside the square root (RMSprop against Ballistic)", "rmsprop", "ballistic"),
    ("bias correction (added to Ballistic)", "ballistic_bc", "ballistic"),
    ("decoupled weight decay (AdamW against Adam)", "adamw", "adam"),
)
#: The performance ratios at which the profiles are drawn and stored.
TAUS = tuple(float(t) for t in np.round(np.linspace(1.0, BP.TAU_MAX, 61), 6))


@dataclass(frozen=True)
class BenchData:
    """The complete workloads' study, the pending ones (some record missing) and the exact-rule report."""

    study: dict
    pending: list
    protocol: Protocol
    exact: dict


def compute(bench_dir, exact_report, protocol: Protocol | None = None) -> BenchData:
    """Load every workload whose tuning trials and seed reruns are all recorded under ``bench_dir`` (nothing runs;
    a record of another protocol raises), and the exact-rule report (``results/benchmarks/bench_exact_rule.json``)."""
    protocol = protocol or Protocol()
    path = pathlib.Path(exact_report)
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: run `python tests/benchmarks/bench_exact_rule.py`.")
    study, pending = {}, []
    for w in BW.WORKLOADS:
        try:
            study.update(load_study([w], RULES, out_dir=bench_dir, protocol=protocol))
        except FileNotFoundError:
            pending.append(w)
    return BenchData(study=study, pending=pending, protocol=protocol, exact=read_json(path))


def _row(w: str, entry: dict) -> dict:
    seeds = entry["seeds"]
    metric = BW.get(w).target.metric
    x = [rec["final"][metric] for rec in seeds]
    steps = [rec["steps_to_target"] for rec in seeds]
    times = [rec["time_to_target_s"] for rec in seeds]
    reached = [s for s in steps if s is not None]
    sd = float(np.std(x, ddof=1)) if len(x) > 1 and all(map(math.isfinite, x)) else math.inf
    return {
        "mean": float(np.mean(x)),
        "sd": sd,
        "n": len(x),
        "reached": len(reached),
        "median_steps": BP.costs({w: {"r": seeds}})[w]["r"],
        "median_time_s": float(np.median([math.inf if t is None else t for t in times])),
        "best": entry["best"],
        "hyperparameters": dict(entry["trials"])[entry["best"]]["config"]["hyperparameters"],
    }


def headline(data: BenchData) -> dict:
    """E6's numbers: per complete workload and rule the best trial and its seed reruns' final metric (mean, sd),
    how many reached the target and the median steps and seconds to it; each rule's performance profile and
    score; the two verdicts; for each pair in ``CHANGES``, on how many workloads the change takes fewer, equal or
    more steps and what it does to the score; and the exact-rule report's costs."""
    study = data.study
    numbers: dict = {
        "protocol": dataclasses.asdict(data.protocol),
        "criteria": dataclasses.asdict(BP.CRITERIA),
        "tau_max": BP.TAU_MAX,
        "workloads": list(study),
        "pending": list(data.pending),
        "targets": {w: {**dataclasses.asdict(BW.get(w).target), "steps": BW.get(w).steps} for w in BW.WORKLOADS},
        "table": {w: {r: _row(w, entry) for r, entry in rules.items()} for w, rules in study.items()},
    }
    if study:
        seeds = seed_records(study)
        cost = BP.costs(seeds)
        rho = BP.performance_profile(cost, TAUS)
        numbers["profile"] = {"tau": list(TAUS), "rho": {r: [float(v) for v in rho[r]] for r in RULES}}
        numbers["scores"] = BP.profile_score(cost)
        numbers["verdicts"] = BP.verdicts(seeds)
        numbers["changes"] = {what: BP.compare(cost, numbers["scores"], a, b) for what, a, b in CHANGES}
    ex = data.exact["numbers"]
    numbers["exact"] = {"gemm_gflops": ex["gemm_gflops"], "costs": ex["costs"], "buys": ex["buys"],
                        "measured": data.exact["conditions"]}  # fmt: skip
    return numbers


def _metric(w: str, value: float) -> str:
    return f"{value:.4f}" if BW.get(w).target.metric == "val_accuracy" else f"{value:.3g}"


def _to_target(row: dict) -> str:
    """The median seed's steps and training seconds to the target, or "not reached" (its median seed missed it)."""
    if not math.isfinite(row["median_steps"]):
        return f"{'not reached':>25}"
    return f"{row['median_steps']:>6,.0f} steps, {row['median_time_s']:.3g} s"


def report(numbers: dict) -> str:
    """The printed lines of E6."""
    p = numbers["protocol"]
    done, pending = numbers["workloads"], numbers["pending"]
    lines = [f"E6 (Ballistic benchmark): {p['n_trials']} Sobol trials per rule and workload, the best rerun with "
             f"seeds 1-{p['n_seeds']}; {len(done)} of {len(done) + len(pending)} workloads complete"]  # fmt: skip
    if pending:
        lines.append(f"  pending: {', '.join(pending)} (resume: python -m functions.experiments benchmark)")
    for w in done:
        t = numbers["targets"][w]
        sign = ">=" if t["metric"] == "val_accuracy" else "<="
        lines.append(f"{w}: target {t['metric']} {sign} {t['value']:g} within {t['steps']:,} steps; final "
                     f"{t['metric']} mean +- sd over {p['n_seeds']} seeds, median steps and training seconds to "
                     "target")  # fmt: skip
        for r, row in numbers["table"][w].items():
            lines.append(f"  {STYLE[r][0]:<33} {_metric(w, row['mean'])} +- {_metric(w, row['sd'])}  "
                         f"{_to_target(row)} "
                         f"({row['reached']}/{row['n']} reached)")  # fmt: skip
    if not done:
        lines.append("no workload complete yet: no profile or verdict")
    else:
        s, v, c = numbers["scores"], numbers["verdicts"], numbers["criteria"]
        ranked = sorted(s, key=lambda r: (-s[r], RULES.index(r)))
        lines.append(f"performance-profile score (area under rho(tau), tau in [1, {numbers['tau_max']:g}]): "
                     + ", ".join(f"{STYLE[r][0]} {s[r]:.3f}" for r in ranked))  # fmt: skip
        a, b = v["as_good_as_adam"], v["better_than_sgd"]
        off = [w for w, ok in a["close_per_workload"].items() if not ok]
        lines.append(f"'Ballistic is as good as Adam' (score >= Adam's - {c['score_margin']:g}: {a['score']:.3f} vs "
                     f"{a['adam_score']:.3f}; final metric better or within {c['spread_factor']:g} sd on every "
                     f"workload{': not on ' + ', '.join(off) if off else ''}): "
                     f"{'holds' if a['holds'] else 'does not hold'}")  # fmt: skip
        faster = sum(b["faster_per_workload"].values())
        lines.append(f"'Ballistic is better than SGD' (higher score: {b['score']:.3f} vs {b['sgd_score']:.3f}; "
                     f"fewer steps on more than half the workloads: {faster} of {len(done)}): "
                     f"{'holds' if b['holds'] else 'does not hold'}")  # fmt: skip
        lines.append("rule against rule (Ballistic against Adam, then one change at a time; workloads where the "
                     "first takes fewer / equal / more median steps to target; change in score): "
                     + "; ".join(f"{what} {d['fewer']} / {d['equal']} / {d['more']}, {d['score_change']:+.3f}"
                                 for what, d in numbers["changes"].items()))  # fmt: skip
        if pending:
            lines.append("(both verdicts are provisional until every workload is complete)")
    ex = numbers["exact"]
    big = [c for c in ex["costs"] if c["eigh"][0] is not None][-1]
    top = ex["costs"][-1]
    m = ex["measured"]
    lines.append(f"exact rule's cost per direction (float64, {m['torch_threads']} threads, {m['date']}, "
                 f"{m['commit']}): eigh at d = {big['d']:,} "
                 f"{1e3 * big['eigh'][0]:.3g} ms vs diagonal {1e3 * big['diagonal'][0]:.3g} ms; Lanczos (k = 20) at "
                 f"d = {top['d']:,} {1e3 * top['lanczos'][0]:.3g} ms and {top['lanczos'][1]:.3g} MiB vs "
                 f"{1e3 * top['diagonal'][0]:.3g} ms and {top['diagonal'][1]:.3g} MiB")  # fmt: skip
    buys = ex["buys"]
    lines.append(f"what it buys, L - L* after {buys['steps']} full-batch steps (d = {buys['dim']}): "
                 + ", ".join(f"{k} {r['gap']:.3g} ({1e3 * r['per_step_s']:.3g} ms/step)"
                             for k, r in buys["rules"].items()))  # fmt: skip
    return "\n".join(lines)


def panels(numbers: dict) -> dict[str, Panel]:
    """Panels k-m (extension). k: per complete workload, each rule's final metric (mean +- sd over the seeds; the
    target dashed). l: the performance profiles rho_r(tau). m: the exact rule's time and memory per direction
    against d (eigh, Lanczos, diagonal), and L - L* after a fixed number of steps for each rule."""
    done = numbers["workloads"]
    cols = 4

    def draw_table(axes):
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        for j, (ax, w) in enumerate(zip(axes, done, strict=False)):
            rows = numbers["table"][w]
            for i, (r, row) in enumerate(rows.items()):
                color = STYLE[r][1]
                sd = row["sd"] if math.isfinite(row["sd"]) else 0.0
                ax.errorbar([row["mean"]], [i], xerr=[sd], fmt="o", color=color, ms=3, capsize=2, lw=1)
            t = numbers["targets"][w]
            ax.axvline(t["value"], color="0.5", lw=0.7, ls="--")
            if t["metric"] == "val_loss":
                ax.set_xscale("log")
                # 1-2-5 ticks, so that a range inside one decade still carries labels
                ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_yticks(range(len(rows)), [STYLE[r][0] for r in rows] if j % cols == 0 else [], fontsize=5)
            ax.set_title(w, fontsize=7)
            ax.set_xlabel(t["metric"].replace("_", " "), fontsize=6)
            ax.tick_params(labelsize=5)
            ax.invert_yaxis()
        for ax in axes[len(done) :]:
            ax.axis("off")
        if not done:
            axes[0].text(0.5, 0.5, "no workload complete yet", ha="center", va="center", transform=axes[0].transAxes)

    def draw_profile(axes):
        (ax,) = axes
        if "profile" in numbers:
            tau = numbers["profile"]["tau"]
            for r, rho in numbers["profile"]["rho"].items():
                label, color, style = STYLE[r]
                ax.step(tau, rho, where="post", color=color, ls=style, lw=1.2,
                        label=f"{label} ({numbers['scores'][r]:.2f})")  # fmt: skip
            ax.legend(fontsize=5, frameon=False, loc="lower right")
        ax.set_xlim(1.0, numbers["tau_max"])
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"performance ratio $\tau$ (steps to target / fastest rule's)")
        ax.set_ylabel(r"fraction of workloads $\rho(\tau)$")
        ax.set_title(f"(extension) {len(done)} of {len(done) + len(numbers['pending'])} workloads", fontsize=8)

    def draw_cost(axes):
        left, middle, right = axes
        costs = numbers["exact"]["costs"]
        d = [c["d"] for c in costs]
        for key, label, color in (("eigh", "exact (eigh)", "black"), ("lanczos", "Lanczos, k = 20", "tab:green"),
                                  ("diagonal", "diagonal (Ballistic)", "tab:red")):  # fmt: skip
            ran = [(x, c[key]) for x, c in zip(d, costs, strict=True) if c[key][0] is not None]
            left.loglog([x for x, _ in ran], [1e3 * v[0] for _, v in ran], "o-", color=color, ms=3, lw=1, label=label)
            middle.loglog(d, [c[key][1] for c in costs], "o-" if key != "eigh" else "o:", color=color, ms=3, lw=1)
        dense = max(c["d"] for c in costs if c["eigh"][0] is not None)
        for ax in (left, middle):
            ax.axvline(dense, color="0.7", lw=0.6, ls=":")
            ax.set_xlabel("d")
        left.set_ylabel("ms per direction")
        left.set_title(f"dense H up to d = {dense:,}, then matrix-free", fontsize=6)
        middle.set_ylabel("peak MiB (eigh beyond: its d x d need)")
        middle.yaxis.label.set_size(6)
        left.legend(fontsize=5, frameon=False)
        buys = numbers["exact"]["buys"]
        names = list(buys["rules"])
        right.barh(range(len(names)), [buys["rules"][k]["gap"] for k in names], color="0.5")
        right.set_xscale("log")
        right.set_yticks(range(len(names)), names, fontsize=5)
        right.invert_yaxis()
        right.set_xlabel(f"L - L* after {buys['steps']} full-batch steps (d = {buys['dim']})", fontsize=6)
        right.set_title("what each buys: MNIST logistic regression", fontsize=6)

    rows = max(1, math.ceil(len(done) / cols))
    return {
        "k": Panel(draw_table, rows=rows, cols=cols, size=(7.6, 1.9 * rows)),
        "l": Panel(draw_profile, size=(3.6, 3.0)),
        "m": Panel(draw_cost, cols=3, size=(8.4, 2.6)),
    }
