"""Command line to rerun the training panels: ``python -m functions.experiments fig2e --dataset mnist --seeds 3``.

Subcommands:
  fig2e   MLP protocol (SPEC Figure 2e), SGD / Adam / Ballistic, one JSON per run in results/training/.
  fig2f   CNN protocol (SPEC Figure 2f), likewise.
  fig4e   learning-rate sweep on the MLP protocol (SPEC Figure 4e), into results/training/lr_sweep/.
Options select the dataset (mnist, fashion-mnist, cifar10, cifar10-jpeg), seeds, epochs, a training subset
and the device. Every option is checked before any data is loaded or any file written.
"""

from __future__ import annotations

import argparse

import numpy as np

from .data import DATASETS, DataError
from .optimisers import OPTIMISERS
from .training import DEVICES, RunConfig, check_device, load_split, train_run

__all__ = ["LR_GRIDS", "lr_grid", "lr_sweep", "main", "run_panel"]


#: log10 ranges of the learning-rate sweep per optimiser (5 points per decade, ends included).
LR_GRIDS = {"sgd": (-3.0, 0.6), "adam": (-5.0, -1.0), "ballistic": (-5.0, -1.0)}


def lr_grid(optimiser: str, per_decade: int = 5) -> list[float]:
    """Log-spaced learning rates for ``optimiser``, ``per_decade`` points per decade."""
    lo, hi = LR_GRIDS[optimiser]
    n = round((hi - lo) * per_decade) + 1
    return [float(f"{10**e:.4g}") for e in np.linspace(lo, hi, n)]


def lr_sweep(dataset: str, seeds, epochs: int = 1, subset=None, device="auto", out_dir="results/training/lr_sweep",
             root=None, optimisers=OPTIMISERS, per_decade: int = 5) -> list[dict]:  # fmt: skip
    """Train the MLP at every learning rate of ``lr_grid`` for each optimiser and seed (cached as JSON)."""
    configs = [RunConfig(dataset, "mlp", opt, seed=seed, lr=lr, epochs=epochs, subset=subset, device=device)
               for opt in optimisers for lr in lr_grid(opt, per_decade) for seed in seeds]  # fmt: skip
    if not configs:
        raise ValueError("Invalid seeds value: no seeds given; pass at least one (e.g. range(2)).")
    data = (load_split(dataset, True, "mlp", root), load_split(dataset, False, "mlp", root))
    records = []
    for cfg in configs:
        records.append(train_run(cfg, root=root, out_dir=out_dir, progress=False, data=data))
        print(
            f"{cfg.optimiser:9s} lr {cfg.lr:.3g} seed {cfg.seed}: final train loss {records[-1]['train_loss'][-1]:.4f}"
        )
    return records


def run_panel(model: str, dataset: str, seeds, epochs=None, subset=None, test_subset=None, device="auto",
              out_dir="results/training", root=None, progress=None, optimisers=OPTIMISERS) -> list[dict]:  # fmt: skip
    """Train every optimiser for every seed on one protocol; returns the run records."""
    configs = [RunConfig(dataset, model, opt, seed=seed, epochs=epochs, subset=subset, test_subset=test_subset,
                         device=device) for seed in seeds for opt in optimisers]  # fmt: skip
    if not configs:
        raise ValueError("Invalid seeds value: no seeds given; pass at least one (e.g. range(3)).")
    data = (load_split(dataset, True, model, root), load_split(dataset, False, model, root))
    records = []
    for cfg in configs:
        rec = train_run(cfg, root=root, out_dir=out_dir, progress=progress, data=data)
        print(f"{dataset} {model} {cfg.optimiser:9s} seed {cfg.seed}: final train loss {rec['train_loss'][-1]:.4f}, "
              f"test acc {rec['test_accuracy'][-1]:.4f}, {rec['wall_time_s']:.0f} s")  # fmt: skip
        records.append(rec)
    return records


def _at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range; it must be an integer >= {low}")
        return value

    return parse


def _device(text: str) -> str:
    try:
        return check_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv=None) -> None:
    """Entry point of ``python -m functions.experiments``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("panel", choices=["fig2e", "fig2f", "fig4e"])
    parser.add_argument("--dataset", default=None, choices=DATASETS,
                        help="default: the paper's (mnist for fig2e/fig4e, cifar10 for fig2f)")  # fmt: skip
    parser.add_argument("--seeds", type=_at_least(1), default=3, help="number of seeds, >= 1 (runs seeds 0 .. seeds-1)")
    parser.add_argument("--epochs", type=_at_least(1), default=None, help="default: the protocol's (10 MLP, 25 CNN)")
    parser.add_argument("--subset", type=_at_least(1), default=None, help="train on this many images (seeded choice)")
    parser.add_argument("--test-subset", type=_at_least(1), default=None, help="evaluate on the first N test images")
    parser.add_argument(
        "--device", type=_device, default="auto", help=f"{' | '.join(DEVICES)} | cuda:N (auto: cuda > mps > cpu)"
    )
    parser.add_argument("--out", default="results/training")
    parser.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    args = parser.parse_args(argv)
    try:
        _run(args)
    except (ValueError, DataError) as err:  # bad values found after parsing (a subset larger than the data, ...)
        parser.exit(2, f"{parser.prog}: error: {err}\n")


def _run(args) -> None:
    if args.panel == "fig4e":
        lr_sweep(args.dataset or "mnist", range(args.seeds), args.epochs or 1, args.subset, args.device,
                 args.out if args.out != "results/training" else "results/training/lr_sweep", args.root)  # fmt: skip
        return
    model = "mlp" if args.panel == "fig2e" else "cnn"
    dataset = args.dataset or ("mnist" if model == "mlp" else "cifar10")
    run_panel(model, dataset, range(args.seeds), args.epochs, args.subset, args.test_subset, args.device, args.out,
              args.root)  # fmt: skip


if __name__ == "__main__":
    main()
