"""Command line to rerun the training panels: ``python -m functions.experiments fig2e --dataset mnist --seeds 3``.

Subcommands:
  fig2e   MLP protocol (SPEC Figure 2e), SGD / Adam / Ballistic, one JSON per run in results/training/.
  fig2f   CNN protocol (SPEC Figure 2f), likewise.
Options select the dataset (mnist, fashion-mnist, cifar10), seeds, epochs, a training subset and the device.
"""

from __future__ import annotations

import argparse

from .training import RunConfig, load_split, train_run

__all__ = ["main", "run_panel"]

OPTIMISERS = ("sgd", "adam", "ballistic")


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
    parser.add_argument("panel", choices=["fig2e", "fig2f"])
    parser.add_argument("--dataset", default=None, help="mnist | fashion-mnist | cifar10 (default: the paper's)")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0 .. seeds-1)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the protocol's (10 MLP, 25 CNN)")
    parser.add_argument("--subset", type=int, default=None, help="train on this many images (seeded choice)")
    parser.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images")
    parser.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    parser.add_argument("--out", default="results/training")
    parser.add_argument("--root", default=None, help="data folder (default: data/ or $LOSSNAV_DATA)")
    args = parser.parse_args(argv)
    model = "mlp" if args.panel == "fig2e" else "cnn"
    dataset = args.dataset or ("mnist" if model == "mlp" else "cifar10")
    run_panel(model, dataset, range(args.seeds), args.epochs, args.subset, args.test_subset, args.device, args.out,
              args.root)  # fmt: skip


if __name__ == "__main__":
    main()
