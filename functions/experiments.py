"""Command line to rerun the training panels: ``python -m functions.experiments fig2e --dataset mnist --seeds 3``.

Subcommands:
  fig2e   MLP protocol (SPEC Figure 2e), SGD / Adam / Ballistic, one JSON per run in results/training/.
  fig2f   CNN protocol (SPEC Figure 2f), likewise.
  fig4e   learning-rate sweep on the MLP protocol (SPEC Figure 4e), into results/training/lr_sweep/.
Options select the dataset (mnist, fashion-mnist, cifar10), seeds, epochs, a training subset and the device.
"""

from __future__ import annotations

import argparse

import numpy as np

from .optimisers import OPTIMISERS
from .training import RunConfig, load_split, train_run

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
    data = (load_split(dataset, True, "mlp", root), load_split(dataset, False, "mlp", root))
    records = []
    for opt in optimisers:
        for lr in lr_grid(opt, per_decade):
            for seed in seeds:
                cfg = RunConfig(dataset, "mlp", opt, seed=seed, lr=lr, epochs=epochs, subset=subset, device=device)
                records.append(train_run(cfg, root=root, out_dir=out_dir, progress=False, data=data))
            print(f"{opt:9s} lr {lr:.3g}: final train loss {records[-1]['train_loss'][-1]:.4f}")
    return records


def run_panel(model: str, dataset: str, seeds, epochs=None, subset=None, test_subset=None, device="auto",
              out_dir="results/training", root=None, progress=None, optimisers=OPTIMISERS) -> list[dict]:  # fmt: skip
    """Train every optimiser for every seed on one protocol; returns the run records."""
    data = (load_split(dataset, True, model, root), load_split(dataset, False, model, root))
    records = []
    for seed in seeds:
        for opt in optimisers:
            cfg = RunConfig(dataset, model, opt, seed=seed, epochs=epochs, subset=subset, test_subset=test_subset,
                            device=device)  # fmt: skip
            rec = train_run(cfg, root=root, out_dir=out_dir, progress=progress, data=data)
            print(f"{dataset} {model} {opt:9s} seed {seed}: final train loss {rec['train_loss'][-1]:.4f}, "
                  f"test acc {rec['test_accuracy'][-1]:.4f}, {rec['wall_time_s']:.0f} s")  # fmt: skip
            records.append(rec)
    return records


def main(argv=None) -> None:
    """Entry point of ``python -m functions.experiments``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("panel", choices=["fig2e", "fig2f", "fig4e"])
    parser.add_argument("--dataset", default=None, help="mnist | fashion-mnist | cifar10 (default: the paper's)")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0 .. seeds-1)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the protocol's (10 MLP, 25 CNN)")
    parser.add_argument("--subset", type=int, default=None, help="train on this many images (seeded choice)")
    parser.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images")
    parser.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    parser.add_argument("--out", default="results/training")
    parser.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    args = parser.parse_args(argv)
    if args.panel == "fig4e":
        lr_sweep(args.dataset or "fashion-mnist", range(args.seeds), args.epochs or 1, args.subset, args.device,
                 args.out if args.out != "results/training" else "results/training/lr_sweep", args.root)  # fmt: skip
        return
    model = "mlp" if args.panel == "fig2e" else "cnn"
    dataset = args.dataset or ("mnist" if model == "mlp" else "cifar10")
    run_panel(model, dataset, range(args.seeds), args.epochs, args.subset, args.test_subset, args.device, args.out,
              args.root)  # fmt: skip


if __name__ == "__main__":
    main()
