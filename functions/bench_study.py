"""The tuning protocol of the Ballistic benchmark (beyond the paper), after MLCommons AlgoPerf's external tuning
and "Descending through a crowded valley" (Schmidt, Schneider, Hennig 2021): every rule gets the same budget.

For each workload and rule:

1. ``n_trials`` quasi-random trials: a scrambled Sobol sequence (``scipy.stats.qmc.Sobol``, seeded by
   ``sobol_seed``) over the rule's log-uniform space (``bench_rules.SPACES``), each trial's values rounded to 6
   significant digits (as stored, so a record reruns exactly), seed 0;
2. the best trial: the fewest steps to the workload's target; among trials that never reach it (or to break a
   tie), the best final validation metric;
3. that trial rerun with seeds 1 .. ``n_seeds``.

Every trial is a record (``bench_records``); a study run again skips the finished ones, so a study killed at any
point resumes without repeating or changing a finished trial. Records of another protocol are refused.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scipy.stats import qmc

from . import bench_workloads as BW
from ._checks import check_choice, check_int
from ._io import check_output_folder
from .bench_records import ForeignRecordError, load_trial_record, make_trial_record, trial_path, write_trial_record
from .bench_rules import RULES, SPACES
from .bench_trials import Trial, run_trial
from .campaign import EXECUTORS, SlurmOptions, submit_slurm

__all__ = [
    "Protocol",
    "best_trial",
    "load_study",
    "main",
    "run_study",
    "seed_records",
    "seed_trials",
    "sobol_points",
    "study_trials",
]


@dataclass(frozen=True)
class Protocol:
    """The tuning budget, the same for every rule (keyword-built, checked)."""

    n_trials: int = 16
    n_seeds: int = 5
    sobol_seed: int = 0

    def __post_init__(self):
        check_int(self.n_trials, "n_trials", 1, 1024)
        check_int(self.n_seeds, "n_seeds", 0, 100)
        check_int(self.sobol_seed, "sobol_seed", 0)


def sobol_points(rule: str, n: int, sobol_seed: int = 0) -> list[dict]:
    """The first ``n`` points of the rule's scrambled Sobol sequence, as hyperparameter dicts (6 digits)."""
    space = SPACES[check_choice(rule, "rule", RULES)]
    u = qmc.Sobol(d=len(space), scramble=True, seed=sobol_seed).random(_pow2(n))[:n]
    return [{name: float(f"{r.value(float(x)):.6g}") for (name, r), x in zip(space.items(), row, strict=True)}
            for row in u]  # fmt: skip


def _pow2(n: int) -> int:
    """The smallest power of 2 >= n (Sobol's balance properties hold for such prefixes; fewer are a prefix)."""
    return 1 << max(0, (n - 1).bit_length())


def study_trials(workload: str, rule: str, protocol: Protocol) -> list[tuple[str, Trial]]:
    """The tuning trials of a (workload, rule), named 'trial-00' ... in order."""
    points = sobol_points(rule, protocol.n_trials, protocol.sobol_seed)
    return [(f"trial-{k:02d}", Trial(workload=workload, rule=rule, hyperparameters=hp, seed=0))
            for k, hp in enumerate(points)]  # fmt: skip


def seed_trials(workload: str, rule: str, best: dict, protocol: Protocol) -> list[tuple[str, Trial]]:
    """The reruns of the best tuning trial's hyperparameters with seeds 1 .. n_seeds, named 'seed-1' ..."""
    hp = best["config"]["hyperparameters"]
    return [(f"seed-{s}", Trial(workload=workload, rule=rule, hyperparameters=hp, seed=s))
            for s in range(1, protocol.n_seeds + 1)]  # fmt: skip


def _score(record: dict, workload: BW.Workload) -> tuple:
    """Smaller is better: (steps to target or inf, the final metric oriented so smaller is better)."""
    steps = record["steps_to_target"]
    metric = record["final"][workload.target.metric]
    oriented = -metric if workload.target.metric == "val_accuracy" else metric
    return (float("inf") if steps is None else steps, oriented)


def best_trial(records: list[tuple[str, dict]], workload: str) -> tuple[str, dict]:
    """The (name, record) of the best tuning trial (fewest steps to target, then best final metric; first wins)."""
    w = BW.get(workload)
    return min(records, key=lambda item: _score(item[1], w))


def _provenance(wall: float) -> dict:
    import torch

    from .run_records import code_version

    return {"torch_version": torch.__version__, "code_version": code_version(), "wall_time_s": round(wall, 1)}


_DATA: dict = {}


def _execute(job) -> dict:
    """Run one trial in a worker (loads the workload's data once per worker) and write its record."""
    out_dir, name, trial, root = job
    w = BW.get(trial.workload)
    key = (w.dataset, w.n_val, root)
    if key not in _DATA:
        _DATA.clear()
        _DATA[key] = BW.load_workload(w, root)
    start = time.perf_counter()
    result = run_trial(trial, _DATA[key])
    record = make_trial_record(trial, result, provenance=_provenance(time.perf_counter() - start))
    write_trial_record(out_dir, trial, name, record)
    return load_trial_record(trial_path(out_dir, trial, name), trial)


def _status(out_dir, name: str, trial: Trial, force: bool) -> dict | None:
    """The finished record, or None to run it; a foreign record raises unless ``force``."""
    try:
        return load_trial_record(trial_path(out_dir, trial, name), trial)
    except FileNotFoundError:
        return None
    except ForeignRecordError:
        if force:
            return None
        raise


class _TrialTask:
    """A submitit callable: one trial. On preemption or time-out it is requeued and runs again from the start (a
    trial is seconds long and seeded, so the rerun writes the same record)."""

    def __init__(self, job):
        self.job = job

    def __call__(self) -> dict:
        return _execute(self.job)

    def checkpoint(self):
        import submitit

        return submitit.helpers.DelayedSubmission(self)


def _run_jobs(jobs: list, workers: int, log, executor: str = "local", slurm: SlurmOptions | None = None) -> list[dict]:
    if not jobs:
        return []
    if executor == "slurm":
        out = submit_slurm([_TrialTask(job) for job in jobs], slurm or SlurmOptions(), log)
        log(f"{len(jobs)} trial(s) done on SLURM")
        return out
    if workers == 1 or len(jobs) == 1:
        out = []
        for job in jobs:
            out.append(_execute(job))
            log(f"{job[2].workload} {job[2].rule} {job[1]}: done")
        return out
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        out = list(pool.map(_execute, jobs))
    log(f"{len(jobs)} trial(s) done on {workers} workers")
    return out


def run_study(workloads: Iterable[str], rules: Iterable[str], *, out_dir, protocol: Protocol | None = None,
              root=None, workers: int = 1, force: bool = False, executor: str = "local",
              slurm: SlurmOptions | None = None, log: Callable[[str], None] = print) -> dict:  # fmt: skip
    """Tune every rule on every workload and rerun each best trial with ``protocol.n_seeds`` seeds.

    Workloads are finished one at a time, in the order given (its tuning trials, then its seed reruns), so a
    study stopped early leaves whole workloads. Trials run here (``executor='local'``, ``workers`` processes of
    one thread each) or as SLURM job arrays (``executor='slurm'``, ``slurm`` resources; one task per trial).
    Every argument is checked and every existing tuning record validated before any data is loaded or trial run
    (a foreign record raises ``ForeignRecordError`` unless ``force``). Returns
    {workload: {rule: {'trials': [(name, record)], 'best': name, 'seeds': [record]}}}.
    """
    protocol = protocol or Protocol()
    workloads = [BW.get(w).name for w in workloads]
    rules = [check_choice(r, "rule", RULES) for r in rules]
    if not workloads or not rules:
        raise ValueError("run_study needs at least one workload and one rule.")
    check_int(workers, "workers", 1, 64)
    check_choice(executor, "executor", EXECUTORS)
    out_dir = check_output_folder(out_dir, "out")
    tuning = {(w, r): study_trials(w, r, protocol) for w in workloads for r in rules}
    done = {(w, r, name): _status(out_dir, name, t, force) for (w, r), ts in tuning.items() for name, t in ts}
    n_todo = sum(rec is None for rec in done.values())
    log(f"tuning: {len(done) - n_todo} trial(s) done, {n_todo} to run")
    study: dict = {}
    for w in workloads:
        todo = [(out_dir, name, t, root) for r in rules for name, t in tuning[w, r] if done[w, r, name] is None]
        for job, rec in zip(todo, _run_jobs(todo, workers, log, executor, slurm), strict=True):
            done[w, job[2].rule, job[1]] = rec
        seed_jobs, seed_done = [], {}
        for r in rules:
            trials = [(name, done[w, r, name]) for name, _ in tuning[w, r]]
            best_name, best = best_trial(trials, w)
            study.setdefault(w, {})[r] = {"trials": trials, "best": best_name, "seeds": []}
            for name, t in seed_trials(w, r, best, protocol):
                rec = _status(out_dir, name, t, force)
                seed_done[r, t.seed] = rec
                if rec is None:
                    seed_jobs.append((out_dir, name, t, root))
        log(f"{w} seeds: {len(seed_done) - len(seed_jobs)} run(s) done, {len(seed_jobs)} to run")
        for job, rec in zip(seed_jobs, _run_jobs(seed_jobs, workers, log, executor, slurm), strict=True):
            seed_done[job[2].rule, job[2].seed] = rec
        for (r, _s), rec in sorted(seed_done.items(), key=lambda item: (rules.index(item[0][0]), item[0][1])):
            study[w][r]["seeds"].append(rec)
    return study


def _names(text: str, choices, what: str) -> list[str]:
    import argparse

    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in choices]
    if bad or not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected distinct comma-separated {what} from {', '.join(choices)}"
            + (f" (unknown: {', '.join(bad)})" if bad else "")
        )
    return names


def parser():
    import argparse

    from ._cli import at_least

    p = argparse.ArgumentParser(prog="python -m functions.experiments benchmark",
                                description="The Ballistic benchmark's tuning study (beyond the paper).")  # fmt: skip
    p.add_argument("--workloads", type=lambda t: _names(t, tuple(BW.WORKLOADS), "workloads"),
                   default=list(BW.WORKLOADS), help="comma-separated (default: all)")  # fmt: skip
    p.add_argument("--rules", type=lambda t: _names(t, RULES, "rules"), default=list(RULES),
                   help="comma-separated optimisers (default: all)")  # fmt: skip
    p.add_argument("--trials", type=at_least(1), default=Protocol.n_trials, help="tuning trials per rule")
    p.add_argument("--seeds", type=at_least(0), default=Protocol.n_seeds, help="reruns of the best trial")
    p.add_argument("--sobol-seed", type=at_least(0), default=Protocol.sobol_seed)
    p.add_argument("--out", default="results/benchmark", help="record folder")
    p.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    p.add_argument("--executor", choices=EXECUTORS, default="local")
    p.add_argument("--workers", type=at_least(1), default=1, help="local executor: parallel trials, one thread each")
    p.add_argument("--partition", default=None, help="slurm executor: partition")
    p.add_argument("--time", type=at_least(1), default=30, help="slurm executor: time limit per trial, minutes")
    p.add_argument("--slurm-logs", default="checkpoints/slurm", help="slurm executor: submitit's job folder")
    p.add_argument("--force", action="store_true", help="replace records of another configuration")
    return p


def main(argv=None) -> None:
    """``python -m functions.experiments benchmark ...``: options and records checked before any data loads."""
    from .data import DataError, data_root

    p = parser()
    args = p.parse_args(argv)
    try:
        protocol = Protocol(n_trials=args.trials, n_seeds=args.seeds, sobol_seed=args.sobol_seed)
        data_root(args.root, "--root")
        slurm = SlurmOptions(partition=args.partition, time_min=args.time, log_dir=args.slurm_logs)
        run_study(args.workloads, args.rules, out_dir=args.out, protocol=protocol, root=args.root,
                  workers=args.workers, force=args.force, executor=args.executor, slurm=slurm)  # fmt: skip
    except (ValueError, DataError) as err:
        p.exit(2, f"{p.prog}: error: {err}\n")


def _missing(path, w: str, r: str, out_dir) -> str:
    return (
        f"{path} missing: run `python -m functions.experiments benchmark --workloads {w} --rules {r} --out {out_dir}`."
    )


def load_study(workloads: Iterable[str], rules: Iterable[str], *, out_dir,
               protocol: Protocol | None = None) -> dict:  # fmt: skip
    """The finished study from its records alone, as ``run_study`` returns it; nothing runs. A missing record
    raises FileNotFoundError naming the command that makes it; a foreign one ``ForeignRecordError``."""
    protocol = protocol or Protocol()
    study: dict = {}
    for w in workloads:
        for r in rules:
            trials = []
            for name, t in study_trials(w, r, protocol):
                rec = _status(out_dir, name, t, force=False)
                if rec is None:
                    raise FileNotFoundError(_missing(trial_path(out_dir, t, name), w, r, out_dir))
                trials.append((name, rec))
            best_name, best = best_trial(trials, w)
            seeds = []
            for name, t in seed_trials(w, r, best, protocol):
                rec = _status(out_dir, name, t, force=False)
                if rec is None:
                    raise FileNotFoundError(_missing(trial_path(out_dir, t, name), w, r, out_dir))
                seeds.append(rec)
            study.setdefault(w, {})[r] = {"trials": trials, "best": best_name, "seeds": seeds}
    return study


def seed_records(study: dict) -> dict:
    """{workload: {rule: [seed records]}}: what ``bench_profiles`` measures."""
    return {w: {r: entry["seeds"] for r, entry in rules.items()} for w, rules in study.items()}
