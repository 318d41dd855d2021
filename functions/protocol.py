"""The training protocols of the paper's Figure 2e-f and one run of them: ``RunConfig`` and its hashes.

A run is (dataset, protocol, optimiser, lr, seed, epochs, subsets). Everything that decides its numbers
is gathered by ``RunConfig.resolved_dict()``: the run's own fields with the protocol's defaults filled in,
the protocol's constants (batch sizes, clipping, augmentation, Ballistic's beta2) and the input
normalisation. Two hashes of it name a run:

- ``config_hash``: every result-deciding field; a record in results/training/ carries it, and a record
  whose hash differs from today's protocol is stale.
- ``trajectory_hash``: the same without ``epochs``: the first k epochs of a 25-epoch run are those of a
  k-epoch run, so a checkpoint can be continued to more epochs.

The device, the thread count and the code version are provenance, not configuration: they are stored
beside the hash, never in it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
from dataclasses import dataclass

import numpy as np

from ._checks import check_choice, check_int
from ._io import rounded
from .data import DATASETS
from .optimisers import OPTIMISERS

__all__ = [
    "DEVICES",
    "NORMALISATION",
    "PROTOCOLS",
    "PROTOCOL_NAMES",
    "RunConfig",
    "SUBSET_SEED",
    "check_device",
    "config_digest",
    "LR_GRIDS",
    "lr_grid",
    "panel_configs",
    "sweep_configs",
]

#: Per-protocol settings of the paper's Figure 2e (MLP) and 2f (CNN), with the paper's learning rates.
PROTOCOLS = {
    "mlp": {"epochs": 10, "batch_size": 128, "test_batch_size": 1000, "clip": 5.0, "augment": False,
            "lr": {"sgd": 0.1, "adam": 1e-3, "ballistic": 5e-4}, "ballistic_beta2": 0.999,
            "adam_betas": (0.9, 0.999), "eps": 1e-8},
    "cnn": {"epochs": 25, "batch_size": 128, "test_batch_size": 512, "clip": 5.0, "augment": True,
            "lr": {"sgd": 0.1, "adam": 5e-4, "ballistic": 5e-4}, "ballistic_beta2": 0.9,
            "adam_betas": (0.9, 0.999), "eps": 1e-8},
}  # fmt: skip

#: What each protocol is, for the run records.
PROTOCOL_NAMES = {"mlp": "MLP protocol (paper, Figure 2e)", "cnn": "CNN protocol (paper, Figure 2f)"}

#: Input normalisation (mean, std) per channel: the protocol's constants. Fashion-MNIST keeps MNIST's and
#: the JPEG copy of CIFAR-10 keeps CIFAR-10's (its own, measured: mean (0.4913, 0.4821, 0.4465), std
#: (0.2452, 0.2428, 0.2606); the protocol, not the copy, defines the constants).
NORMALISATION = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar10-jpeg": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}

#: Seed of the fixed choice of ``subset`` training images (the same images for every run).
SUBSET_SEED = 12345

#: Devices a run may name ("cuda:N" is accepted too).
DEVICES = ("auto", "cpu", "cuda", "mps")

#: Version of the hashed configuration's layout; bump it when a field that changes results is added.
CONFIG_VERSION = 1


def check_device(device: str) -> str:
    """Return ``device`` if it is one of ``DEVICES`` or 'cuda:N', else raise ValueError naming the choices."""
    base, _, index = str(device).partition(":")
    if base not in DEVICES or (index and (base != "cuda" or not index.isdigit())):
        raise ValueError(f"Invalid device value: {device!r}; expected one of {', '.join(DEVICES)} or cuda:N.")
    return device


def config_digest(payload: dict) -> str:
    """16 hex digits of the SHA-256 of ``payload`` as stored (numbers rounded as ``_io.write_json`` stores them)."""
    text = json.dumps(rounded(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunConfig:
    """One training run. ``epochs``/``lr`` default to the protocol's; ``subset`` limits the training set."""

    dataset: str
    model: str
    optimiser: str
    seed: int = 0
    lr: float | None = None
    epochs: int | None = None
    subset: int | None = None
    test_subset: int | None = None
    device: str = "auto"

    def __post_init__(self):
        check_choice(self.dataset, "dataset", DATASETS)
        check_choice(self.model, "model", PROTOCOLS)
        check_choice(self.optimiser, "optimiser", OPTIMISERS)
        check_int(self.seed, "seed", 0)
        if self.lr is not None:
            if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real):
                raise ValueError(f"Invalid lr value: {self.lr!r}; expected a number (None: the protocol's).")
            if not 0 < float(self.lr) < float("inf"):
                raise ValueError(
                    f"Invalid lr value: {self.lr!r}; lr must be a finite number > 0 (None: the protocol's)."
                )
            object.__setattr__(self, "lr", float(self.lr))  # numpy floats and ints: one float, one hash
        for name in ("epochs", "subset", "test_subset"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, 1)  # None: the protocol's epochs, the whole set
        check_device(self.device)

    def resolved(self) -> RunConfig:
        """The config with protocol defaults filled in."""
        proto = PROTOCOLS[self.model]
        return dataclasses.replace(
            self,
            lr=float(self.lr) if self.lr is not None else proto["lr"][self.optimiser],
            epochs=self.epochs if self.epochs is not None else proto["epochs"],
        )

    def resolved_dict(self) -> dict:
        """Every field that decides the run's numbers, protocol constants included (no device)."""
        full, proto = self.resolved(), PROTOCOLS[self.model]
        mean, std = NORMALISATION[self.dataset]
        return {
            "config_version": CONFIG_VERSION,
            "dataset": full.dataset,
            "model": full.model,
            "optimiser": full.optimiser,
            "seed": full.seed,
            "lr": full.lr,
            "epochs": full.epochs,
            "subset": full.subset,
            "subset_seed": SUBSET_SEED if full.subset is not None else None,
            "test_subset": full.test_subset,
            "batch_size": proto["batch_size"],
            "test_batch_size": proto["test_batch_size"],
            "clip": proto["clip"],
            "augment": proto["augment"],
            "ballistic_beta2": proto["ballistic_beta2"],
            "adam_betas": list(proto["adam_betas"]),
            "eps": proto["eps"],
            "normalisation": {"mean": list(mean), "std": list(std)},
        }

    def config_hash(self) -> str:
        """16 hex digits of the SHA-256 of ``resolved_dict()``: equal hashes, equal runs."""
        return config_digest(self.resolved_dict())

    def trajectory_hash(self) -> str:
        """``config_hash`` without the epoch count: a k-epoch run is the prefix of a longer one."""
        return config_digest({k: v for k, v in self.resolved_dict().items() if k != "epochs"})

    def label(self) -> str:
        """A short readable name: 'mnist mlp adam seed 0' (+ lr, epochs, subsets where not the protocol's)."""
        return self.stem().replace("_", " ").replace("seed", "seed ")

    def stem(self) -> str:
        """The record's file stem: <dataset>_<model>_<optimiser>[_lr<lr, 6 digits>][_ep<E>][_sub<N>][_test<N>]_seed<k>.

        A tag appears only where the run differs from the protocol, so runs of different configurations never
        share a name (a 1-epoch run on 256 images cannot replace the protocol's 10-epoch run).
        """
        full, proto = self.resolved(), PROTOCOLS[self.model]
        tags = [self.dataset, self.model, self.optimiser]
        if full.lr != proto["lr"][self.optimiser]:
            tags.append(f"lr{full.lr:.6g}")
        if full.epochs != proto["epochs"]:
            tags.append(f"ep{full.epochs}")
        if full.subset is not None:
            tags.append(f"sub{full.subset}")
        if full.test_subset is not None:
            tags.append(f"test{full.test_subset}")
        tags.append(f"seed{full.seed}")
        return "_".join(tags)


#: log10 ranges of the learning-rate sweep per optimiser (5 points per decade, ends included).
LR_GRIDS = {"sgd": (-3.0, 0.6), "adam": (-5.0, -1.0), "ballistic": (-5.0, -1.0)}


def lr_grid(optimiser: str, per_decade: int = 5) -> list[float]:
    """Log-spaced learning rates for ``optimiser``, ``per_decade`` points per decade."""
    lo, hi = LR_GRIDS[optimiser]
    n = round((hi - lo) * per_decade) + 1
    return [float(f"{10**e:.4g}") for e in np.linspace(lo, hi, n)]


def panel_configs(model: str, dataset: str, n_seeds: int, *, epochs=None, subset=None, test_subset=None,
                  device="auto", optimisers=OPTIMISERS) -> list[RunConfig]:  # fmt: skip
    """Every optimiser for seeds 0 .. n_seeds-1 of one protocol (Figure 2e: 'mlp', 2f: 'cnn')."""
    return [RunConfig(dataset, model, opt, seed=seed, epochs=epochs, subset=subset, test_subset=test_subset,
                      device=device) for seed in range(n_seeds) for opt in optimisers]  # fmt: skip


def sweep_configs(dataset: str, n_seeds: int, *, epochs: int = 1, subset=None, test_subset=None, device="auto",
                  optimisers=OPTIMISERS, per_decade: int = 5) -> list[RunConfig]:  # fmt: skip
    """The MLP at every learning rate of ``lr_grid`` for each optimiser and seed 0 .. n_seeds-1 (Figure 4e)."""
    return [RunConfig(dataset, "mlp", opt, seed=seed, lr=lr, epochs=epochs, subset=subset, test_subset=test_subset,
                      device=device)
            for opt in optimisers for lr in lr_grid(opt, per_decade) for seed in range(n_seeds)]  # fmt: skip
