"""Training campaigns: a list of runs, each skipped (complete), resumed (checkpointed) or run, on an executor.

``plan`` looks at every run before anything starts: a complete record with today's configuration hash is
skipped, a run with a checkpoint resumes from it, the rest run; a record of another configuration stops
the whole campaign (before any training) unless ``force``. ``run_campaign`` then hands the runs to

- ``executor="local"`` (default): ``workers`` processes, each pinned to its own share of this machine's cores
  (``os.sched_setaffinity``) with as many torch threads, so that two runs never fight over a core;
- ``executor="slurm"``: a submitit job array on a SLURM cluster, one task per run with ``cpus_per_task``
  cores; on preemption or time-out (SIGUSR2) the run checkpoints at the next batch and the job requeues and
  resumes from its checkpoint.

Each run is trained under its lock (``run_lock``: one process at a time, whichever campaign or host started it,
a lock left by a dead process taken over): a run another live process holds is skipped here ("owned" in the
summary), and a run that another campaign completed after this one planned it is not trained again, so two
campaigns on the same runs end with the records one campaign would write.

A run's numbers depend only on its configuration and its thread count (CPU kernels reduce in a
thread-dependent order): a local worker with c cores and a SLURM task with c CPUs write equal records.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import pathlib
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ._checks import check_choice, check_int
from ._io import check_output_folder, nearest_existing
from .checkpoint import checkpoint_dir, latest
from .protocol import RunConfig
from .run_lock import RunLocked, lock_path, run_lock
from .run_records import RecordError, StaleRecordError, load_record, record_path, record_status

__all__ = [
    "EXECUTORS",
    "Planned",
    "SlurmOptions",
    "cpu_shares",
    "plan",
    "plan_table",
    "run_campaign",
    "submit_slurm",
    "summary_table",
]

#: Where a campaign's runs can execute.
EXECUTORS = ("local", "slurm")


@dataclass(frozen=True)
class Planned:
    """One run of a campaign and what will happen to it: 'skip', 'resume', 'run' or 'rerun' (forced); after the
    campaign, 'owned' where another process held the run."""

    cfg: RunConfig
    action: str
    detail: str = ""
    record: dict | None = dataclasses.field(default=None, compare=False, repr=False)  # a skipped run's record


@dataclass(frozen=True)
class SlurmOptions:
    """How the SLURM executor asks for resources (see ``sbatch``): one task per run."""

    partition: str | None = None
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    time_min: int = 60
    max_parallel: int = 64
    log_dir: str = "checkpoints/slurm"
    max_requeues: int = 10
    wait_s: float | None = None  # give up waiting (TimeoutError) after this long; None: wait for the jobs

    def __post_init__(self):
        check_int(self.cpus_per_task, "cpus_per_task", 1)
        check_int(self.gpus_per_task, "gpus_per_task", 0)
        check_int(self.time_min, "time_min", 1)
        check_int(self.max_parallel, "max_parallel", 1)
        check_int(self.max_requeues, "max_requeues", 0)


def plan(cfgs: Iterable[RunConfig], out_dir, checkpoints=None, force: bool = False) -> list[Planned]:
    """What each run will do; raise StaleRecordError (nothing started) for records of another configuration.

    Duplicate configurations are run once.
    """
    folder = checkpoint_dir(checkpoints)
    out, seen, stale = [], set(), []
    for cfg in cfgs:
        if cfg in seen:
            continue
        seen.add(cfg)
        try:  # one read per record: complete, missing, or of another configuration (stale or broken)
            record = load_record(record_path(out_dir, cfg), cfg)
        except FileNotFoundError:
            pass
        except RecordError as err:
            if force:
                out.append(Planned(cfg, "rerun", "replaces a record of another configuration"))
            else:
                stale.append(str(err))
            continue
        else:
            out.append(Planned(cfg, "skip", "complete, hash " + cfg.config_hash(), record))
            continue
        state = latest(folder / cfg.trajectory_hash(), trajectory_hash=cfg.trajectory_hash(),
                       max_epoch=cfg.resolved().epochs, log=lambda _: None)  # fmt: skip
        if state is not None:
            out.append(Planned(cfg, "resume", f"from epoch {state['epoch']} + {state['batch']} batches"))
        else:
            out.append(Planned(cfg, "run"))
    if stale:
        raise StaleRecordError(
            f"{len(stale)} record(s) in {out_dir} are not records of today's protocol; nothing was run. "
            + " | ".join(stale[:5])
            + (" ..." if len(stale) > 5 else "")
            + " Pass --force to rerun and replace them."
        )
    return out


def plan_table(planned: list[Planned]) -> str:
    """The dry-run listing: one line per run."""
    width = max((len(p.cfg.label()) for p in planned), default=0)
    lines = [f"{p.action:7s} {p.cfg.label():{width}s}  {p.detail}".rstrip() for p in planned]
    counts = {a: sum(p.action == a for p in planned) for a in ("skip", "resume", "run", "rerun")}
    lines.append(", ".join(f"{n} to {a}" for a, n in counts.items() if n) or "nothing to do")
    return "\n".join(lines)


def cpu_shares(workers: int, cores: Iterable[int] | None = None) -> list[tuple[int, ...]]:
    """Split ``cores`` (default: those this process may use) into ``workers`` disjoint, near-equal shares."""
    cores = sorted(os.sched_getaffinity(0) if cores is None else cores)
    check_int(workers, "workers", 1, len(cores))
    size, extra = divmod(len(cores), workers)
    shares, start = [], 0
    for i in range(workers):
        end = start + size + (i < extra)
        shares.append(tuple(cores[start:end]))
        start = end
    return shares


# ----------------------------------------------------------------------------------------------- execution
_DATA_CACHE: dict = {}


def _train(cfg: RunConfig, out_dir: str, root, checkpoints: str, force: bool, threads: int | None) -> dict | str:
    """One run in a worker (local process or SLURM task) under the run's lock (``run_lock``); returns its record,
    or, when another process holds the run, a line naming that owner (the run is skipped here)."""
    import torch

    from .training import load_split, train_run

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        with run_lock(lock_path(checkpoints, cfg.trajectory_hash()), log=say):
            if not force and record_status(out_dir, cfg) == "complete":  # finished by its last owner since the plan
                say(f"{cfg.label()}: complete (written by another campaign since this one was planned); skipped.")
                return load_record(record_path(out_dir, cfg), cfg)
            if threads is not None:
                torch.set_num_threads(threads)
            key = (cfg.dataset, cfg.model, root)
            if key not in _DATA_CACHE:  # a worker keeps its last dataset: a sweep loads MNIST once per worker
                _DATA_CACHE.clear()
                _DATA_CACHE[key] = (load_split(cfg.dataset, True, cfg.model, root),
                                    load_split(cfg.dataset, False, cfg.model, root))  # fmt: skip
            return train_run(cfg, root=root, out_dir=out_dir, progress=False, data=_DATA_CACHE[key],
                             checkpoints=checkpoints, force=force, log=say)  # fmt: skip
    except RunLocked as err:
        line = f"{cfg.label()}: skipped, {err} Rerun this campaign once it is done."
        say(line)
        return line


_SHARE: tuple[int, ...] = ()


def _pin(shares) -> None:
    """Worker initialiser: take one share of cores off the queue and stay on it."""
    global _SHARE
    _SHARE = shares.get()
    os.sched_setaffinity(0, _SHARE)


def _train_pinned(args) -> dict:
    return _train(*args, threads=len(_SHARE))


class _SlurmTask:
    """A submitit callable: trains one run; on preemption or time-out submitit requeues it (``checkpoint``)."""

    def __init__(self, args, threads: int):
        self.args, self.threads = args, threads

    def __call__(self) -> dict:
        return _train(*self.args, threads=self.threads)

    def checkpoint(self):
        """Requeue the same run: it continues from the checkpoint it wrote when the signal came."""
        import submitit

        return submitit.helpers.DelayedSubmission(self)


def _run_slurm(todo, options: SlurmOptions, log) -> list[dict]:
    return submit_slurm([_SlurmTask(args, options.cpus_per_task) for args in todo], options, log)


def submit_slurm(tasks: list, options: SlurmOptions, log) -> list:
    """Run picklable callables as one submitit job array (one task each, ``options`` resources) and return their
    results in order. A callable with a ``checkpoint`` method is requeued on preemption or time-out."""
    try:
        import submitit
    except ImportError as err:
        raise RuntimeError("The slurm executor needs submitit: pip install submitit.") from err
    # Without accounting (sacct), submitit warns on every status poll; results still come from its job folder.
    logging.getLogger("submitit").setLevel(logging.ERROR)
    repo = str(pathlib.Path(__file__).resolve().parent.parent)
    executor = submitit.AutoExecutor(
        folder=options.log_dir, cluster="slurm", slurm_max_num_timeout=options.max_requeues
    )
    params = {"timeout_min": options.time_min, "cpus_per_task": options.cpus_per_task, "tasks_per_node": 1,
              "nodes": 1, "slurm_array_parallelism": options.max_parallel,
              "slurm_setup": [f"export PYTHONPATH={repo}${{PYTHONPATH:+:$PYTHONPATH}}"]}  # fmt: skip
    if options.partition:
        params["slurm_partition"] = options.partition
    if options.gpus_per_task:
        params["slurm_gpus_per_task"] = options.gpus_per_task
    executor.update_parameters(**params)
    with executor.batch():
        jobs = [executor.submit(task) for task in tasks]
    log(f"submitted {len(jobs)} SLURM job(s): {', '.join(j.job_id for j in jobs)} (logs in {options.log_dir})")
    if options.wait_s is not None:
        deadline = time.monotonic() + options.wait_s
        while not all(job.done() for job in jobs):
            if time.monotonic() > deadline:
                for job in jobs:
                    job.cancel(check=False)
                raise TimeoutError(f"SLURM jobs not done after {options.wait_s:g} s (cancelled); see {options.log_dir}")
            time.sleep(1.0)
    return [job.result() for job in jobs]


def run_campaign(cfgs: Iterable[RunConfig], *, out_dir, root=None, checkpoints=None, executor: str = "local",
                 workers: int = 1, force: bool = False, dry_run: bool = False, slurm: SlurmOptions | None = None,
                 log: Callable[[str], None] = print) -> list[dict]:  # fmt: skip
    """Plan the runs, then execute those not complete; return a summary row per run (skipped ones included).

    Raises before anything runs: a bad executor or worker count, a record of another configuration (unless
    ``force``), an out_dir that is a file or not writable, too little free disk for the runs to do.
    """
    check_choice(executor, "executor", EXECUTORS)
    shares = cpu_shares(workers) if executor == "local" else None
    slurm = slurm or SlurmOptions()
    out_dir = check_output_folder(out_dir, "out")
    folder = checkpoint_dir(checkpoints)
    planned = plan(cfgs, out_dir, folder, force)
    log(plan_table(planned))
    if dry_run:
        return [_row(p, None) for p in planned]
    check_output_folder(folder, "checkpoints")
    todo = [p for p in planned if p.action != "skip"]
    _check_free_space(out_dir, folder, [p.cfg for p in todo])
    args = [(p.cfg, str(out_dir), root, str(folder), force or p.action == "rerun") for p in todo]
    start = time.perf_counter()
    if not todo:
        records = []
    elif executor == "slurm":
        records = _run_slurm(args, slurm, log)
    elif workers == 1:  # one share: all this process's cores
        records = _in_process(args, threads=len(shares[0]))
    else:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Manager().Queue()
        for share in shares:
            queue.put(share)
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_pin,
                                                    initargs=(queue,)) as pool:  # fmt: skip
            records = list(pool.map(_train_pinned, args))
    done = dict(zip([p.cfg for p in todo], records, strict=True))
    owned = {cfg: line for cfg, line in done.items() if isinstance(line, str)}  # runs another process holds
    rows = [_row(dataclasses.replace(p, action="owned") if p.cfg in owned else p,
                 None if p.cfg in owned else done.get(p.cfg) or p.record) for p in planned]  # fmt: skip
    log(summary_table(rows, time.perf_counter() - start))
    return rows


def _in_process(args, threads: int) -> list[dict]:
    """One worker on all this process's cores: run here, on that many threads, then restore torch's setting."""
    import torch

    before = torch.get_num_threads()
    try:
        return [_train(*a, threads=threads) for a in args]
    finally:
        torch.set_num_threads(before)


def _row(p: Planned, record: dict | None) -> dict:
    row = {"run": p.cfg.label(), "action": p.action}
    if record is not None:
        row |= {"epochs": len(record["epochs"]), "train_loss": record["train_loss"][-1],
                "test_accuracy": record["test_accuracy"][-1], "wall_time_s": record["wall_time_s"]}  # fmt: skip
    return row


def summary_table(rows: list[dict], elapsed: float) -> str:
    """The table printed at the end of a campaign."""
    width = max((len(r["run"]) for r in rows), default=3)
    lines = [f"{'run':{width}s}  action  epochs  train loss  test acc   wall (s)"]
    for r in rows:
        if "epochs" in r:
            lines.append(f"{r['run']:{width}s}  {r['action']:6s}  {r['epochs']:6d}  {r['train_loss']:10.4f}  "
                         f"{r['test_accuracy']:8.4f}  {r['wall_time_s']:9.0f}")  # fmt: skip
        else:
            lines.append(f"{r['run']:{width}s}  {r['action']:6s}")
    lines.append(f"{len(rows)} run(s), {elapsed:.0f} s")
    return "\n".join(lines)


#: Disk a run's record may take (a record of 25 epochs is about 3 kB).
RECORD_BYTES = 1 << 20


def run_disk_bytes(cfg: RunConfig) -> int:
    """Upper bound, in bytes, on the checkpoint disk one run holds at once.

    ``KEEP`` checkpoints are kept and one more is being written: (KEEP + 1) x (4 float64 copies of the model's
    parameters -- the weights and up to three optimiser buffers -- + 2 MiB for the epoch's data order of up to
    100,000 images, the random states and the curves).
    """
    from .checkpoint import KEEP
    from .models import build_model

    n_params = sum(p.numel() for p in build_model(cfg.model).parameters())
    return (KEEP + 1) * (4 * 8 * n_params + (2 << 20))


def _check_free_space(out_dir: pathlib.Path, folder: pathlib.Path, cfgs: list[RunConfig]) -> None:
    """Raise ValueError before any data is loaded when the runs to do cannot fit on the disk(s) they write to.

    A full disk mid-run would leave the old files intact (every write is atomic) but lose the hours since the
    last checkpoint; this refuses up front, with what is free and what the runs need (``run_disk_bytes`` per
    run in the checkpoint folder, ``RECORD_BYTES`` per run in the record folder; one sum if both share a disk).
    """
    if not cfgs:
        return
    needs: dict[int, list] = {}
    for path, name, need in ((folder, "checkpoints", sum(run_disk_bytes(c) for c in cfgs)),
                             (out_dir, "out", RECORD_BYTES * len(cfgs))):  # fmt: skip
        probe = nearest_existing(path)
        entry = needs.setdefault(os.stat(probe).st_dev, [probe, name, path, 0])
        entry[3] += need
    for probe, name, path, need in needs.values():
        free = shutil.disk_usage(probe).free
        if free < need:
            raise ValueError(
                f"Invalid {name} value: {path} has {free / 2**20:.0f} MiB free, and the {len(cfgs)} run(s) to do "
                f"need up to {need / 2**20:.0f} MiB there (checkpoints and records); nothing was run. Free some "
                f"space, or point --checkpoints ($LOSSNAV_CHECKPOINTS) or --out at a disk with room."
            )
