"""Training protocol of Figure 2e-f: in-memory batching, clipping, augmentation, one JSON per run.

A run is (dataset, protocol, optimiser, lr, seed); its record (per-epoch train loss and test accuracy,
hyperparameters, seed, torch version, device and its name, wall time) is written atomically to
``results/training/<dataset>_<model>_<optimiser>_seed<k>.json``. ``RunConfig`` validates every field
when it is made, so a bad run is refused before any data is loaded or anything written.
"""

from __future__ import annotations

import dataclasses
import pathlib
import platform
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm  # console bar; shown only on a terminal (see train_run)

from ._checks import check_choice, check_int
from .data import DATASETS, load_cifar10, load_idx_dataset
from .image_folder import load_cifar10_jpeg
from .models import build_model
from .optimisers import OPTIMISERS, make_optimiser
from .results_io import write_json

__all__ = [
    "NORMALISATION",
    "PROTOCOLS",
    "RunConfig",
    "DEVICES",
    "augment_crop_flip",
    "check_device",
    "device_name",
    "load_split",
    "pick_device",
    "protocol_optimiser",
    "run_path",
    "train_run",
]

#: Per-protocol settings of SPEC Figure 2e (MLP) and 2f (CNN), with the paper's learning rates.
PROTOCOLS = {
    "mlp": {"epochs": 10, "batch_size": 128, "test_batch_size": 1000, "clip": 5.0, "augment": False,
            "lr": {"sgd": 0.1, "adam": 1e-3, "ballistic": 5e-4}, "ballistic_beta2": 0.999},
    "cnn": {"epochs": 25, "batch_size": 128, "test_batch_size": 512, "clip": 5.0, "augment": True,
            "lr": {"sgd": 0.1, "adam": 5e-4, "ballistic": 5e-4}, "ballistic_beta2": 0.9},
}  # fmt: skip

#: What each protocol is, for the run records.
PROTOCOL_NAMES = {"mlp": "MLP protocol (SPEC Figure 2e)", "cnn": "CNN protocol (SPEC Figure 2f)"}

#: Input normalisation (mean, std) per channel: the protocol's constants. Fashion-MNIST keeps MNIST's and
#: the JPEG copy of CIFAR-10 keeps CIFAR-10's (its own, measured: mean (0.4913, 0.4821, 0.4465), std
#: (0.2452, 0.2428, 0.2606); the protocol, not the copy, defines the constants).
NORMALISATION = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar10-jpeg": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}

#: Devices a run may name ("cuda:N" is accepted too).
DEVICES = ("auto", "cpu", "cuda", "mps")


def check_device(device: str) -> str:
    """Return ``device`` if it is one of ``DEVICES`` or 'cuda:N', else raise ValueError naming the choices."""
    base, _, index = str(device).partition(":")
    if base not in DEVICES or (index and (base != "cuda" or not index.isdigit())):
        raise ValueError(f"Invalid device value: {device!r}; expected one of {', '.join(DEVICES)} or cuda:N.")
    return device


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
        if self.lr is not None and not (isinstance(self.lr, int | float) and 0 < self.lr < float("inf")):
            raise ValueError(f"Invalid lr value: {self.lr!r}; lr must be a finite number > 0 (None: the protocol's).")
        for name in ("epochs", "subset", "test_subset"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, 1)  # None: the protocol's epochs, the whole set
        check_device(self.device)

    def resolved(self) -> RunConfig:
        """The config with protocol defaults filled in."""
        proto = PROTOCOLS[self.model]
        return dataclasses.replace(
            self,
            lr=self.lr if self.lr is not None else proto["lr"][self.optimiser],
            epochs=self.epochs if self.epochs is not None else proto["epochs"],
        )


def pick_device(device: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; anything else is passed to torch.device."""
    if check_device(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """A readable name of the device: the GPU's model, or the CPU's architecture and core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.machine()} CPU, {torch.get_num_threads()} threads" if device.type == "cpu" else device.type


def protocol_optimiser(name: str, params, lr: float, model: str = "mlp"):
    """The optimiser of a protocol: Ballistic takes the protocol's beta2 (0.999 MLP, 0.9 CNN)."""
    return make_optimiser(name, params, lr, ballistic_beta2=PROTOCOLS[model]["ballistic_beta2"])


def load_split(dataset: str, train: bool, model: str, root=None):
    """Images as normalised float32 (N, C, H, W) and int64 labels.

    For the CNN on a 28x28 grayscale dataset the images are zero-padded to 32x32 and repeated over 3
    channels, so the CIFAR-10 architecture runs unchanged.
    """
    if dataset == "cifar10":
        x, y = load_cifar10(train=train, root=root)
    elif dataset == "cifar10-jpeg":
        x, y = load_cifar10_jpeg(train=train, root=root)
    else:
        x, y = load_idx_dataset(dataset, train=train, root=root)
        x = x[:, None]
    mean, std = (torch.tensor(v, dtype=torch.float32).view(1, -1, 1, 1) for v in NORMALISATION[dataset])
    x = (x.float() / 255.0 - mean) / std
    if model == "cnn" and x.shape[1] == 1:
        x = F.pad(x, (2, 2, 2, 2), value=float(-mean[0, 0] / std[0, 0])).repeat(1, 3, 1, 1)
    return x.contiguous(), y


def augment_crop_flip(x: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``padding``) and random horizontal flip, batched tensor ops."""
    n, c, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    oy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    out = padded[
        torch.arange(n, device=x.device)[:, None, None, None],
        torch.arange(c, device=x.device)[None, :, None, None],
        rows,
        cols,
    ]
    flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def _accuracy(model, x, y, batch_size, device) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            correct += (model(x[i : i + batch_size].to(device)).argmax(1).cpu() == y[i : i + batch_size]).sum().item()
    model.train()
    return correct / len(y)


def run_path(out_dir, cfg: RunConfig) -> pathlib.Path:
    """results/training/<dataset>_<model>_<optimiser>_seed<k>.json (plus _lr<lr> when lr is not the protocol's)."""
    tag = "" if cfg.lr is None else f"_lr{cfg.lr:.3g}"
    return pathlib.Path(out_dir) / f"{cfg.dataset}_{cfg.model}_{cfg.optimiser}{tag}_seed{cfg.seed}.json"


def train_run(cfg: RunConfig, root=None, out_dir=None, progress: bool | None = None, data=None) -> dict:
    """Train one run and return (and, with ``out_dir``, write) its record.

    Args:
        cfg: the run.
        root: data folder.
        out_dir: where to write the JSON record (None: do not write).
        progress: tqdm progress bar; by default only when stderr is a terminal.
        data: optional pre-loaded ((x_train, y_train), (x_test, y_test)) to skip loading.
    """
    full = cfg.resolved()
    proto = PROTOCOLS[cfg.model]
    device = pick_device(cfg.device)
    (x_tr, y_tr), (x_te, y_te) = data or (load_split(cfg.dataset, True, cfg.model, root),
                                          load_split(cfg.dataset, False, cfg.model, root))  # fmt: skip
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.subset is not None and cfg.subset > len(y_tr):
        raise ValueError(f"Invalid subset value: {cfg.subset}; the training set has {len(y_tr)} images (None: all).")
    if cfg.test_subset is not None and cfg.test_subset > len(y_te):
        raise ValueError(f"Invalid test_subset value: {cfg.test_subset}; the test set has {len(y_te)} images.")
    if cfg.subset is not None:
        keep = torch.randperm(len(y_tr), generator=torch.Generator().manual_seed(12345))[: cfg.subset]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if cfg.test_subset is not None:
        x_te, y_te = x_te[: cfg.test_subset], y_te[: cfg.test_subset]
    x_tr, y_tr = x_tr.to(device), y_tr.to(device)  # the whole training set lives on the device
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(device=device, dtype=x_tr.dtype)
    opt = protocol_optimiser(cfg.optimiser, model.parameters(), full.lr, cfg.model)
    n, bs = len(y_tr), proto["batch_size"]
    n_batches = (n + bs - 1) // bs
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=full.epochs * n_batches, disable=not show, desc=f"{cfg.optimiser} seed {cfg.seed}")
    train_loss, test_acc = [], []
    start = time.perf_counter()
    for _ in range(full.epochs):
        perm, total = torch.randperm(n, generator=gen).to(device), 0.0
        for i in range(n_batches):
            idx = perm[i * bs : (i + 1) * bs]
            xb = x_tr[idx]
            if proto["augment"]:
                xb = augment_crop_flip(xb, gen)
            loss = F.cross_entropy(model(xb), y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if proto["clip"] is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), proto["clip"])
            opt.step()
            total += loss.item() * len(idx)
            bar.update(1)
        train_loss.append(total / n)
        test_acc.append(_accuracy(model, x_te, y_te, proto["test_batch_size"], device))
    bar.close()
    record = {
        "dataset": cfg.dataset, "model": cfg.model, "protocol": PROTOCOL_NAMES[cfg.model],
        "optimiser": cfg.optimiser, "seed": cfg.seed,
        "hyperparameters": {"lr": full.lr, "epochs": full.epochs, "batch_size": bs, "clip": proto["clip"],
                            "augment": proto["augment"], "ballistic_beta2": proto["ballistic_beta2"]},
        "n_train": n, "n_test": len(y_te), "subset": cfg.subset,
        "epochs": list(range(1, full.epochs + 1)), "train_loss": train_loss, "test_accuracy": test_acc,
        "torch_version": torch.__version__, "device": str(device), "device_name": device_name(device),
        "wall_time_s": time.perf_counter() - start,
    }  # fmt: skip
    if out_dir is not None:
        write_json(run_path(out_dir, cfg), record)
    return record
