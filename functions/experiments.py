"""Command line for the training campaigns: ``python -m functions.experiments fig2e --dataset mnist --seeds 3``.

Subcommands:
  fig2e   MLP protocol (the paper's Figure 2e), SGD / Adam / Ballistic, one JSON record per run in results/training/.
  fig2f   CNN protocol (the paper's Figure 2f), likewise.
  fig4e   learning-rate sweep on the MLP protocol (Figure 4e), into results/training/lr_sweep/.
  real-model  the real-model solves (beyond the paper), into results/real_model/ (see functions.real_model_runs).
  benchmark   the Ballistic benchmark's tuning study (beyond the paper), into results/benchmark/ (bench_study).
A campaign skips runs whose record is complete with today's configuration hash, resumes checkpointed ones and
runs the rest, on local processes (--executor local --workers N) or a SLURM cluster (--executor slurm).
--dry-run lists what would run, skip or resume. A record of another configuration is never replaced without
--force. Every option is checked before any data is loaded or any file written.
"""

from __future__ import annotations

import argparse

from ._cli import at_least
from ._io import check_output_folder
from .campaign import EXECUTORS, SlurmOptions, run_campaign
from .checkpoint import checkpoint_dir
from .data import DATASETS, DataError, data_root
from .optimisers import OPTIMISERS
from .protocol import DEVICES, LR_GRIDS, RunConfig, check_device, lr_grid, panel_configs, sweep_configs
from .run_records import RecordError

__all__ = [
    "LR_GRIDS",
    "OUT_DIRS",
    "lr_grid",
    "main",
    "panel_configs",
    "parser",
    "sweep_configs",
    "train_panel",
    "train_sweep",
]


#: The default output folder of each subcommand.
OUT_DIRS = {"fig2e": "results/training", "fig2f": "results/training", "fig4e": "results/training/lr_sweep"}


def _device(text: str) -> str:
    try:
        return check_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _optimisers(text: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [n for n in names if n not in OPTIMISERS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of {', '.join(OPTIMISERS)}")
    return names


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("panel", choices=["fig2e", "fig2f", "fig4e"])
    p.add_argument("--dataset", default=None, choices=DATASETS,
                   help="default: the paper's (mnist for fig2e/fig4e, cifar10 for fig2f)")  # fmt: skip
    p.add_argument("--seeds", type=at_least(1), default=None,
                   help="number of seeds, >= 1: runs seeds 0 .. seeds-1 (default 3; 2 for fig4e)")  # fmt: skip
    p.add_argument("--epochs", type=at_least(1), default=None, help="default: the protocol's (10 MLP, 25 CNN; fig4e 1)")
    p.add_argument("--subset", type=at_least(1), default=None, help="train on this many images (seeded choice)")
    p.add_argument("--test-subset", type=at_least(1), default=None, help="evaluate on the first N test images")
    p.add_argument("--optimisers", type=_optimisers, default=OPTIMISERS, help="comma-separated (default: all three)")
    p.add_argument("--device", type=_device, default="auto",
                   help=f"{' | '.join(DEVICES)} | cuda:N (auto: cuda > mps > cpu)")  # fmt: skip
    p.add_argument("--out", default=None, help="record folder (default results/training, fig4e: .../lr_sweep)")
    p.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    p.add_argument(
        "--checkpoints", default=None, help="checkpoint folder (default $LOSSNAV_CHECKPOINTS or checkpoints/)"
    )
    p.add_argument("--force", action="store_true", help="rerun and replace records of another configuration")
    p.add_argument("--dry-run", action="store_true", help="list what would run, resume or skip; run nothing")
    p.add_argument("--executor", choices=EXECUTORS, default="local")
    p.add_argument("--workers", type=at_least(1), default=1, help="local executor: parallel runs, each on its cores")
    p.add_argument("--partition", default=None, help="slurm executor: partition")
    p.add_argument("--cpus-per-task", type=at_least(1), default=1, help="slurm executor: cores (threads) per run")
    p.add_argument("--gpus-per-task", type=at_least(0), default=0, help="slurm executor: GPUs per run")
    p.add_argument("--time", type=at_least(1), default=60, help="slurm executor: time limit per job, minutes")
    p.add_argument("--slurm-logs", default="checkpoints/slurm", help="slurm executor: submitit's job folder")
    return p


def main(argv=None) -> None:
    """Entry point of ``python -m functions.experiments``."""
    import sys

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["real-model"]:
        from .real_model_runs import main as real_model_main

        return real_model_main(argv[1:])
    if argv[:1] == ["benchmark"]:
        from .bench_study import main as benchmark_main

        return benchmark_main(argv[1:])
    p = parser()
    args = p.parse_args(argv)
    try:
        _run(args)
    except (ValueError, DataError, RecordError, RuntimeError) as err:  # found after parsing, before training
        p.exit(2, f"{p.prog}: error: {err}\n")


def train_panel(model: str, dataset: str, n_seeds: int, *, epochs=None, subset=None, test_subset=None,
                out_dir="results/training", workers: int = 1, force: bool = False) -> list[dict]:  # fmt: skip
    """Figure 2e/f's runs as a local campaign (what the notebooks' ``TRAIN = True`` calls); complete runs skip."""
    cfgs = panel_configs(model, dataset, n_seeds, epochs=epochs, subset=subset, test_subset=test_subset)
    return run_campaign(cfgs, out_dir=out_dir, checkpoints=checkpoint_dir(), workers=workers, force=force)


def train_sweep(dataset: str, n_seeds: int, *, epochs: int = 1, out_dir="results/training/lr_sweep",
                workers: int = 1, force: bool = False) -> list[dict]:  # fmt: skip
    """Figure 4e's learning-rate sweep as a local campaign (the notebook's ``TRAIN = True``)."""
    cfgs = sweep_configs(dataset, n_seeds, epochs=epochs)
    return run_campaign(cfgs, out_dir=out_dir, checkpoints=checkpoint_dir(), workers=workers, force=force)


def _configs(args) -> list[RunConfig]:
    common = {"subset": args.subset, "test_subset": args.test_subset, "device": args.device,
              "optimisers": args.optimisers}  # fmt: skip
    if args.panel == "fig4e":
        return sweep_configs(args.dataset or "mnist", args.seeds or 2, epochs=args.epochs or 1, **common)
    model = "mlp" if args.panel == "fig2e" else "cnn"
    dataset = args.dataset or ("mnist" if model == "mlp" else "cifar10")
    return panel_configs(model, dataset, args.seeds or 3, epochs=args.epochs, **common)


def _check_device_here(device: str, executor: str) -> None:
    """A device this machine lacks is refused before any data is loaded (the slurm nodes may have it)."""
    import torch

    if executor != "local" or device in ("auto", "cpu"):
        return
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"Invalid device value: {device!r}; this machine has no CUDA device (use auto or cpu).")
    if device.startswith("cuda") and ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
        raise ValueError(
            f"Invalid device value: {device!r}; this machine has {torch.cuda.device_count()} CUDA devices."
        )
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("Invalid device value: 'mps'; Apple MPS is not available here (use auto or cpu).")


def _run(args) -> None:
    out = check_output_folder(OUT_DIRS[args.panel] if args.out is None else args.out, "--out")
    check_output_folder(checkpoint_dir(args.checkpoints), "--checkpoints ($LOSSNAV_CHECKPOINTS)")
    data_root(args.root, "--root")
    _check_device_here(args.device, args.executor)
    slurm = SlurmOptions(partition=args.partition, cpus_per_task=args.cpus_per_task, gpus_per_task=args.gpus_per_task,
                         time_min=args.time, log_dir=args.slurm_logs)  # fmt: skip
    run_campaign(_configs(args), out_dir=out, root=args.root,
                 checkpoints=checkpoint_dir(args.checkpoints), executor=args.executor, workers=args.workers,
                 force=args.force, dry_run=args.dry_run, slurm=slurm)  # fmt: skip


if __name__ == "__main__":
    main()
