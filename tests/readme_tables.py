"""The README's generated tables: written from results/ by this script, checked by tests/test_readme.py.

Each table sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` in README.md and is made
here from the files it reports, never typed by hand:

- ``training``: Figure 2e-f's final test accuracy and train losses (ours, mean ± sd over seeds, and the
  published value at the same epoch) and the two claims, from results/fig2.json;
- ``training-provenance``: where and how long the runs ran, from the records in results/training/;
- ``benchmark``: the Ballistic benchmark (E6): per workload and optimiser the final metric and steps to target,
  the profile scores and the verdicts, from results/fig2_e6.json;
- ``performance``: the benchmark reports in results/benchmarks/ (written by ``make benchmark``, see
  tests/benchmarks/_report.py) and the timings stored in the cached training and real-model records.

Usage: ``python tests/readme_tables.py`` rewrites README.md; ``--check`` exits 1 (and names the table) when
README.md is not what the results give.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.data import DATASET_NAMES  # noqa: E402
from functions.fig2 import epoch_ranges  # noqa: E402
from functions.protocol import panel_configs  # noqa: E402
from functions.run_records import load_records  # noqa: E402

LABELS = {"sgd": "SGD", "adam": "Adam", "ballistic": "Ballistic"}


def _pm(pair, n_seeds: int) -> str:
    mean, sd = pair
    return f"{mean:.3f} ± {sd:.3f}" if n_seeds > 1 else f"{mean:.3f}"


def training_table(fig2: dict) -> str:
    """Ours against the published values at the same epoch, then the claims with their criteria."""
    params, numbers = fig2["parameters"], fig2["numbers"]
    header = (
        "| panel | optimiser | final test acc (published) | train loss epoch 1 (published) | last epoch (published) |"
    )
    rows = [header, "| --- | --- | --- | --- | --- |"]
    claims = []
    for letter in "ef":
        table, claim = numbers[f"training_{letter}"], numbers[f"claims_{letter}"]
        dataset, seeds, epochs = params[f"dataset_{letter}"], params[f"seeds_{letter}"], params[f"epochs_{letter}"]
        plural = "s" if seeds > 1 else ""
        title = f"2{letter} {DATASET_NAMES[dataset]}, {epochs} epochs, {seeds} seed{plural}"
        for i, (opt, row) in enumerate(table.items()):
            pub = row.get("published") or {}
            cells = [
                f"{_pm(row['final_test_accuracy'], row['n_seeds'])} ({pub.get('test_accuracy', float('nan')):.3f})",
                f"{row['train_loss_epoch1'][0]:.3f} ({pub.get('train_loss_epoch1', float('nan')):.3f})",
                f"{row['final_train_loss'][0]:.3f} ({pub.get('train_loss', float('nan')):.3f})",
            ]
            rows.append(f"| {title if i == 0 else ''} | {LABELS[opt]} | " + " | ".join(cells) + " |")
        beats = "holds" if claim["ballistic_beats_sgd"] else "does **not** hold"
        close = "holds" if claim["ballistic_close_to_adam"] else "does **not** hold"
        claims.append(
            f'- 2{letter} ({DATASET_NAMES[dataset]}, {epochs} epochs): "Ballistic beats SGD" (lower final train '
            f'loss, {claim["ballistic_minus_sgd_train_loss"]:+.3f}) {beats}; "Ballistic is close to Adam" (final '
            f"test accuracies within {100 * claim['close_to_adam_tolerance']:g} points) {close} "
            f"({100 * claim['ballistic_minus_adam_test_accuracy']:+.2f} points)."
        )
        by = numbers.get(f"claims_by_epoch_{letter}")
        if by is not None and len(by["epochs"]) > 1:
            claims[-1] += (
                f" Stopped at each epoch instead, the same runs give: Ballistic beats SGD at epochs "
                f"{epoch_ranges(by['epochs'], by['ballistic_beats_sgd'])}; close to Adam at epochs "
                f"{epoch_ranges(by['epochs'], by['ballistic_close_to_adam'])}."
            )
            se = by.get("ballistic_minus_adam_test_accuracy_se")
            if se is not None and any(se):
                gap = by["ballistic_minus_adam_test_accuracy"]
                within = sum(abs(g) <= 2 * x for g, x in zip(gap, se, strict=True))
                claims[-1] += (
                    f" The accuracy gap's spread (standard error over {seeds} seeds each): "
                    f"{100 * gap[-1]:+.2f} ± {100 * se[-1]:.2f} points at epoch {by['epochs'][-1]}, within 2 "
                    f"standard errors of 0 at {within} of {len(gap)} epochs."
                )
    return "\n".join(rows) + "\n\nCriteria fixed before the runs, and what they gave:\n\n" + "\n".join(claims)


def provenance_table(fig2: dict) -> str:
    """Device, threads and wall time of each run the figure draws, from its record."""
    params = fig2["parameters"]
    lines = ["| runs | device | wall time per run |", "| --- | --- | --- |"]
    for letter, model in (("e", "mlp"), ("f", "cnn")):
        cfgs = panel_configs(model, params[f"dataset_{letter}"], params[f"seeds_{letter}"],
                             epochs=params[f"epochs_{letter}"], subset=params.get(f"subset_{letter}"),
                             test_subset=params.get(f"test_subset_{letter}"))  # fmt: skip
        records = load_records(ROOT / params["training_dir"], cfgs)
        devices = sorted({re.sub(r"\b1 threads\b", "1 thread", r["device_name"]) for r in records})
        times = [r["wall_time_s"] for r in records]
        lines.append(f"| 2{letter}: {len(records)} runs of {records[0]['epochs'][-1]} epochs | {'; '.join(devices)} "
                     f"| {min(times):,.0f}–{max(times):,.0f} s |")  # fmt: skip
    return "\n".join(lines)


#: The benchmark reports of the performance table, in its order (``make benchmark`` writes each one).
BENCHMARKS = ("bench_euler_lagrange", "bench_explorers", "time_notebooks", "bench_least_action", "bench_ballistic_cpu",
              "bench_cnn_throughput_t2", "bench_cnn_throughput_t1", "bench_path_solver",
              "bench_exact_rule")  # fmt: skip


def _conditions(c: dict) -> str:
    busy = c["busy_cores_at_start"]
    load = "idle" if busy < 0.2 else f"{busy:.1f} of {c['cores']} cores busy at start"
    threads = f"{c['torch_threads']} torch thread{'s' if c['torch_threads'] > 1 else ''}"
    return f"{threads}, {load}, {c['date']}, {c['commit']}"


def benchmark_rows(reports_dir) -> list[tuple[str, str]]:
    """One row per measurement of every report in ``BENCHMARKS``, with its script and the conditions it ran in."""
    rows = []
    for name in BENCHMARKS:
        path = pathlib.Path(reports_dir) / f"{name}.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run `make benchmark` (it writes every report).")
        report = json.loads(path.read_text())
        script = f"`{report['benchmark'].rsplit('_t', 1)[0].removesuffix('_cpu')}.py`"
        for row in report["rows"]:
            rows.append((f"{row['what']} ({script}; {_conditions(report['conditions'])})", row["measured"]))
    return rows


def _optional_record(results: pathlib.Path, part: str) -> dict | None:
    """A real-model part's record at d = 510, lambda = 1e-4, or None before its run has landed."""
    path = results / "real_model" / f"{part}_d510_lam0.0001.json"
    return json.loads(path.read_text()) if path.exists() else None


def _n_images(record: dict) -> int:
    return record["config"]["subset"] or 60000


def _minutes(per: list[float], unit: str, digits: int) -> str:
    """'a–b min per <unit>, c min in all' from per-unit seconds."""
    return f"{min(per) / 60:.{digits}f}–{max(per) / 60:.{digits}f} min per {unit}, {sum(per) / 60:.0f} min in all"


def record_rows(results) -> list[tuple[str, str]]:
    """Rows read from the cached records: the CNN epoch as the campaign ran it, the real-model solves, GPUs."""
    results = pathlib.Path(results)
    rows = []
    training = sorted((results / "training").glob("*.json"))
    cnn = [json.loads(f.read_text()) for f in training if "_cnn_" in f.name]
    per_run = "; ".join(f"{r['optimiser']} ({len(r['epochs'])} epochs, {r['device']}, {r['threads']} "
                        f"thread{'s' if r['threads'] > 1 else ''}, {r['memory_format'].replace('_', '-')}): "
                        f"{r['wall_time_s'] / len(r['epochs']):.0f} s" for r in cnn)  # fmt: skip
    rows.append(("CNN protocol (Figure 2f), one epoch as the campaign ran it (391 steps + the test pass), from "
                 "the records' wall times (the other core often busy)", f"{per_run} per epoch"))  # fmt: skip
    for path in sorted((results / "real_model").glob("e0_d*.json"), key=lambda f: int(f.name.split("_")[1][1:])):
        e0 = json.loads(path.read_text())
        secs = [c["seconds"] for c in e0["cases"]]
        rows.append((f"Real model E0 (d = {e0['config']['dim']:,}): one γ solved on {e0['config']['n_points']} and "
                     f"{2 * e0['config']['n_points']} geometric nodes by Newton–Krylov, eigenpairs of H as "
                     f"preconditioner (`real-model e0`, record `results/real_model/{path.name}`)",
                     f"{min(secs):.1f}–{max(secs):.1f} s per γ; θ* {e0['timing_s']['minimum']:.0f} s, H and its "
                     f"eigenpairs {e0['timing_s']['hessian_and_eigh']:.0f} s"))  # fmt: skip
    e1 = json.loads((results / "real_model" / "e1_d510_lam0.0001.json").read_text())
    n_solves = len(e1["cases"]) + len(e1["refined"])
    rows.append((f"Real model E1 (d = {e1['config']['dim']}, the real loss on {_n_images(e1):,} "
                 f"images): {n_solves} free-end solves (`real-model e1`)",
                 f"{e1['timing_s']['total'] / 60:.0f} min in all"))  # fmt: skip
    e2 = _optional_record(results, "e2")
    if e2:
        per = [c["seconds"]["flows"] + c["seconds"]["solves"] for c in e2["cases"]]
        rows.append((f"Real model E2 (d = {e2['config']['dim']}, the real loss on {_n_images(e2):,} images): per γ, "
                     f"two free-end solves ({e2['config']['n_points']} and {2 * e2['config']['n_points'] - 1} nodes) "
                     "and two BDF flows (`real-model e2`)", _minutes(per, "γ", digits=0)))  # fmt: skip
    e3 = _optional_record(results, "e3")
    if e3:
        per = [c["solve_seconds"] + sum(f["seconds"] for f in c["learners"].values()) for c in e3["cases"]]
        evals = [f["n_evals"] for c in e3["cases"] for f in c["learners"].values()]
        rows.append((f"Real model E3 (d = {e3['config']['dim']}, the real loss on {_n_images(e3):,} images): per γ, "
                     f"one free-end solve and four learner families tuned by Nelder–Mead ({min(evals)}–{max(evals)} "
                     "evaluations of J each; tuning times as kept in the checkpoint) (`real-model e3`)",
                     _minutes(per, "γ", digits=0)))  # fmt: skip
    e4 = _optional_record(results, "e4")
    if e4:
        per = [c["seconds"]["solve"] + c["seconds"]["cosines"] for c in e4["cases"]]
        rows.append((f"Real model E4 (d = {e4['config']['dim']}, the real loss on {_n_images(e4):,} images): per "
                     f"start, one free-end solve at γ = {e4['model']['gamma']:.2g} and the five directions at every "
                     f"{e4['config']['every']}nd step (H and its eigenpairs each) (`real-model e4`)",
                     _minutes(per, "start", digits=1)))  # fmt: skip
    records = [json.loads(f.read_text()) for f in training + sorted((results / "training" / "lr_sweep").glob("*.json"))]
    gpu = [r for r in records if r["device"].startswith("cuda")]
    none = "" if gpu else ": none measured (no GPU was lent to the sessions that made the runs)"
    rows.append(("CUDA timings", f"{len(gpu)} of the {len(records)} training records ran on a GPU{none}"))
    return rows


def performance_table(results=None) -> str:
    results = pathlib.Path(results or ROOT / "results")
    lines = ["| what | measured |", "| --- | --- |"]
    lines += [f"| {what} | {measured} |" for what, measured in benchmark_rows(results / "benchmarks")]
    lines += [f"| {what} | {measured} |" for what, measured in record_rows(results)]
    return "\n".join(lines)


def _steps(x: float) -> str:
    return "not reached" if x == float("inf") else f"{x:,.0f} steps"


def benchmark_table(e6: dict) -> str:
    """E6: per complete workload, each rule's final metric (mean ± sd over the seeds) and median steps to target;
    then the profile scores and the verdicts against their criteria."""
    from functions.bench_figure import STYLE

    n = e6["numbers"]
    rules = list(STYLE)
    if not n["workloads"]:
        return "No workload is complete yet."
    rows = ["| workload (target) | " + " | ".join(STYLE[r][0] for r in rules) + " |",
            "| --- |" + " --- |" * len(rules)]  # fmt: skip
    for w in n["workloads"]:
        t = n["targets"][w]
        sign = "≥" if t["metric"] == "val_accuracy" else "≤"
        digits = ".4f" if t["metric"] == "val_accuracy" else ".3g"
        cells = [f"{row['mean']:{digits}} ± {row['sd']:{digits}}<br>{_steps(row['median_steps'])}"
                 + ("" if row["median_time_s"] == float("inf") else f", {row['median_time_s']:.2g} s")
                 for row in (n["table"][w][r] for r in rules)]  # fmt: skip
        rows.append(f"| {w} ({t['metric'].replace('_', ' ')} {sign} {t['value']:g}, {t['steps']:,} steps) | "
                    + " | ".join(cells) + " |")  # fmt: skip
    s, v = n["scores"], n["verdicts"]
    a, b = v["as_good_as_adam"], v["better_than_sgd"]
    rows.append("| profile score (τ ≤ 4) | " + " | ".join(f"{s[r]:.3f}" for r in rules) + " |")
    state = f"{len(n['workloads'])} of {len(n['workloads']) + len(n['pending'])} workloads complete"
    if n["pending"]:
        state += f"; pending: {', '.join(n['pending'])} (provisional verdicts)"
    rows += ["", f"{state}. \"Ballistic is as good as Adam\" (score ≥ Adam's − {n['criteria']['score_margin']:g}, "
             f"final metric within {n['criteria']['spread_factor']:g} sd on every workload): "
             f"**{'holds' if a['holds'] else 'does not hold'}** ({a['score']:.3f} vs {a['adam_score']:.3f}). "
             f"\"Ballistic is better than SGD\" (higher score, fewer steps on most workloads): "
             f"**{'holds' if b['holds'] else 'does not hold'}** ({b['score']:.3f} vs {b['sgd_score']:.3f}; faster on "
             f"{sum(b['faster_per_workload'].values())} of {len(n['workloads'])})."]  # fmt: skip
    return "\n".join(rows)


def tables() -> dict[str, str]:
    fig2 = json.loads((ROOT / "results" / "fig2.json").read_text())
    e6 = json.loads((ROOT / "results" / "fig2_e6.json").read_text())
    return {"training": training_table(fig2), "training-provenance": provenance_table(fig2),
            "performance": performance_table(), "benchmark": benchmark_table(e6)}  # fmt: skip


def render(readme: str, generated: dict[str, str]) -> str:
    """``readme`` with every generated block replaced; a block named in ``generated`` must exist."""
    for name, body in generated.items():
        pattern = re.compile(
            rf"(<!-- generated: {re.escape(name)} -->\n)(?:.*?\n)?(<!-- end: {re.escape(name)} -->)", re.S
        )
        if not pattern.search(readme):
            raise ValueError(f"README.md has no block <!-- generated: {name} --> ... <!-- end: {name} -->")
        readme = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), readme)
    return readme


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = parser.parse_args(argv)
    path = ROOT / "README.md"
    text = path.read_text()
    new = render(text, tables())
    if args.check:
        if new != text:
            print("README.md's generated tables are out of date: run python tests/readme_tables.py")
            return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
