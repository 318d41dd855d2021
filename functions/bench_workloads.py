"""The workloads of the Ballistic benchmark (beyond the paper): each a model, a loss, data and a target.

A workload trains for a fixed number of minibatch steps (``steps``, batch ``batch_size``) on 1 thread and
evaluates on a validation set every ``eval_every`` steps. The validation set is held out of the *training*
split (its last ``n_val`` examples, or a seeded subset; the test split is never used for tuning). Each workload
names its target (a validation accuracy to reach, or a validation loss to get below), written here before any
run of the benchmark's tuning (after one smoke run per workload that timed it); steps-to-target is the first
evaluation at which it holds. Each trial takes seconds on one core (the quadratic 1 s, the MLPs about 15 s, the
CIFAR-10 CNN about 90 s).

- ``noisy_quadratic``: L = 1/2 sum_i h_i theta_i^2 in d = 100 with a deep spectrum, h_i log-spaced over
  [1e-4, 1], and gradient noise sigma sqrt(h) xi (as for a likelihood loss; ``noisy_quadratic``).
- ``logreg_mnist``: multinomial logistic regression on MNIST (the loss of the real-model experiments).
- ``mlp_mnist``: the MLP of Figure 2e on MNIST.
- ``mlp_fashion``: the same MLP on Fashion-MNIST.
- ``autoencoder_mnist``: a 784-256-64-16-64-256-784 sigmoid-output autoencoder on MNIST, mean squared error.
- ``mnist1d_mlp``, ``mnist1d_cnn``: MNIST-1D (Greydanus 2020; generated offline by the ``mnist1d`` package with
  its default arguments: 4,000 training signals of length 40, the last 1,000 held out) with the 40-100-100-10
  MLP and the three-layer 1-D convolutional network of that paper.
- ``cnn_cifar``: a narrow three-convolution network (``CifarCNN``) on a fixed subset of the CIFAR-10 JPEG copy:
  10,000 training and 2,000 validation images drawn by a seeded permutation of its training split, normalised
  per channel as in Figure 2f, no augmentation. Its smoke run (Adam, lr 1e-3, 1,000 steps) took 39 ms per step
  and reached validation accuracy 0.60 at step 1,000; the budget is 2,000 steps (about 90 s per trial).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_choice
from .models import MLP

__all__ = ["WORKLOADS", "Target", "Workload", "evaluate", "load_workload", "loss_fn", "make_model"]


@dataclass(frozen=True)
class Target:
    """``metric`` ('val_accuracy' or 'val_loss') must reach ``value`` (accuracy at least, loss at most)."""

    metric: str
    value: float

    def met(self, metrics: dict) -> bool:
        x = metrics[self.metric]
        if not math.isfinite(x):
            return False
        return x >= self.value if self.metric == "val_accuracy" else x <= self.value


@dataclass(frozen=True)
class Workload:
    """One benchmark problem; every field enters a trial's configuration hash."""

    name: str
    dataset: str  # 'mnist', 'fashion-mnist', 'mnist1d', 'cifar10-jpeg' or 'synthetic'
    model: str  # 'quadratic', 'linear', 'mlp', 'autoencoder', 'mlp1d', 'cnn1d' or 'cnn_cifar'
    steps: int
    batch_size: int
    eval_every: int
    n_val: int
    target: Target
    noise: float = 0.0  # noisy quadratic: sigma
    n_train: int | None = None  # a fixed random subset of the training split (CIFAR-10); None: all but n_val
    subset_seed: int | None = None  # the subset's permutation seed (with n_train)

    def as_dict(self) -> dict:
        """The fields as stored in a record; ``n_train`` and ``subset_seed`` (added after the first workloads'
        records) only when set, so those records keep their hash."""
        d = asdict(self)
        for name in ("n_train", "subset_seed"):
            if d[name] is None:
                del d[name]
        return d


#: The workloads and their targets, fixed before any run of the benchmark.
WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "noisy_quadratic",
            "synthetic",
            "quadratic",
            steps=2000,
            batch_size=1,
            eval_every=50,
            n_val=0,
            target=Target("val_loss", 1e-2),
            noise=0.1,
        ),
        Workload(
            "logreg_mnist",
            "mnist",
            "linear",
            steps=1500,
            batch_size=128,
            eval_every=100,
            n_val=10_000,
            target=Target("val_accuracy", 0.92),
        ),
        Workload(
            "mlp_mnist",
            "mnist",
            "mlp",
            steps=3000,
            batch_size=128,
            eval_every=100,
            n_val=10_000,
            target=Target("val_accuracy", 0.97),
        ),
        Workload(
            "mlp_fashion",
            "fashion-mnist",
            "mlp",
            steps=3000,
            batch_size=128,
            eval_every=100,
            n_val=10_000,
            target=Target("val_accuracy", 0.86),
        ),
        Workload(
            "autoencoder_mnist",
            "mnist",
            "autoencoder",
            steps=3000,
            batch_size=128,
            eval_every=100,
            n_val=10_000,
            target=Target("val_loss", 0.025),
        ),
        Workload(
            "mnist1d_mlp",
            "mnist1d",
            "mlp1d",
            steps=3000,
            batch_size=100,
            eval_every=100,
            n_val=1000,
            target=Target("val_accuracy", 0.6),
        ),
        Workload(
            "mnist1d_cnn",
            "mnist1d",
            "cnn1d",
            steps=3000,
            batch_size=100,
            eval_every=100,
            n_val=1000,
            target=Target("val_accuracy", 0.85),
        ),
        Workload(
            "cnn_cifar",
            "cifar10-jpeg",
            "cnn_cifar",
            steps=2000,
            batch_size=128,
            eval_every=100,
            n_val=2000,
            target=Target("val_accuracy", 0.6),
            n_train=10_000,
            subset_seed=0,
        ),
    )
}

#: The noisy quadratic: dimension, spectrum and start.
QUADRATIC_D = 100
QUADRATIC_SPECTRUM = (1e-4, 1.0)


def quadratic_h() -> torch.Tensor:
    """The curvatures h_i, log-spaced over ``QUADRATIC_SPECTRUM``, float32."""
    lo, hi = QUADRATIC_SPECTRUM
    return torch.from_numpy(np.logspace(math.log10(hi), math.log10(lo), QUADRATIC_D)).float()


class Quadratic(nn.Module):
    """theta in R^d, started at theta_i = 1 (every direction 1 away from the minimum at 0)."""

    def __init__(self):
        super().__init__()
        self.theta = nn.Parameter(torch.ones(QUADRATIC_D, dtype=torch.float32))
        self.register_buffer("h", quadratic_h())


class Autoencoder(nn.Sequential):
    """784-256-64-16-64-256-784 with ReLU and a sigmoid output (pixels in [0, 1])."""

    def __init__(self, widths=(784, 256, 64, 16, 64, 256, 784)):
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (a, b) in enumerate(itertools.pairwise(widths)):
            layers += [nn.Linear(a, b), nn.ReLU() if i < len(widths) - 2 else nn.Sigmoid()]
        super().__init__(*layers)


class CifarCNN(nn.Sequential):
    """conv(3->16)-pool-conv(16->32)-pool-conv(32->64)-pool-fc(1024->10): 3x3 convolutions (padding 1), ReLU, 2x2
    max-pooling; a narrow network so that one step of batch 128 takes tens of milliseconds on one core."""

    def __init__(self, widths=(3, 16, 32, 64), n_classes: int = 10, image_size: int = 32):
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(widths):
            layers += [nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        side = image_size // 2 ** (len(widths) - 1)
        super().__init__(*layers, nn.Flatten(), nn.Linear(widths[-1] * side * side, n_classes))


class Conv1d(nn.Sequential):
    """MNIST-1D's convolutional network: three 1-D convolutions of 25 channels (kernels 5, 3, 3, stride 2), ReLU,
    and a linear read-out of the 25 x 5 features."""

    def __init__(self, length: int = 40, channels: int = 25, n_classes: int = 10):
        sizes = [length]
        for k in (5, 3, 3):
            sizes.append((sizes[-1] + 2 - k) // 2 + 1)
        super().__init__(nn.Unflatten(1, (1, length)), nn.Conv1d(1, channels, 5, stride=2, padding=1), nn.ReLU(),
                         nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(channels * sizes[-1], n_classes))  # fmt: skip


def mnist1d_arrays() -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D's training split (x float64 (4000, 40), y int (4000,)) as ``mnist1d.data.make_dataset`` generates
    it with its default arguments (seed 42). The package seeds numpy's and Python's global generators; their
    states are restored afterwards."""
    import random

    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:
        raise RuntimeError("The MNIST-1D workloads need the mnist1d package: pip install mnist1d.") from err
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (the package's global)
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    return data["x"], data["y"]


def get(name: str) -> Workload:
    return WORKLOADS[check_choice(name, "workload", WORKLOADS)]


def make_model(workload: Workload, seed: int) -> nn.Module:
    """The workload's model, float32, initialised from ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    if workload.model == "quadratic":
        model = Quadratic()
    elif workload.model == "linear":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    elif workload.model == "mlp":
        model = MLP()
    elif workload.model == "mlp1d":
        model = MLP(in_features=40, hidden=(100, 100))
    elif workload.model == "cnn1d":
        model = Conv1d()
    elif workload.model == "cnn_cifar":
        model = CifarCNN()
    else:
        model = Autoencoder()
    return model.to(torch.float32)


def load_workload(workload: Workload, root=None):
    """(x_train, y_train, x_val, y_val) as float32 images in [0, 1] (MNIST-like), normalised images (CIFAR-10) or
    signals (MNIST-1D) and int64 labels. The validation set is the training split's last ``n_val`` examples, or
    for a subset (``n_train``) the permutation's ``n_val`` after its first ``n_train``. The noisy quadratic has no
    data: four empty tensors."""
    if workload.dataset == "synthetic":
        empty = torch.zeros(0)
        return empty, empty, empty, empty
    if workload.dataset == "mnist1d":
        xs, ys = mnist1d_arrays()
        x, y = torch.from_numpy(xs.astype(np.float32)), torch.from_numpy(ys.astype(np.int64))
    elif workload.dataset == "cifar10-jpeg":
        from .training import load_split

        x, y = load_split("cifar10-jpeg", True, "cnn", root)  # normalised per channel, ordered by class
        idx = torch.from_numpy(np.random.default_rng(workload.subset_seed).permutation(x.shape[0]))
        tr, val = idx[: workload.n_train], idx[workload.n_train : workload.n_train + workload.n_val]
        return x[tr].contiguous(), y[tr].contiguous(), x[val].contiguous(), y[val].contiguous()
    else:
        from .data import load_idx_dataset

        x, y = load_idx_dataset(workload.dataset, train=True, root=root)
        x = x.float().div_(255.0)
    n = x.shape[0] - workload.n_val
    return x[:n].contiguous(), y[:n].contiguous(), x[n:].contiguous(), y[n:].contiguous()


def loss_fn(workload: Workload, model: nn.Module, x, y, noise: torch.Tensor | None = None) -> torch.Tensor:
    """The minibatch loss: cross-entropy, reconstruction MSE, or for the quadratic
    1/2 sum h theta^2 + sigma sum sqrt(h) xi theta (its gradient is h theta + sigma sqrt(h) xi)."""
    if workload.model == "quadratic":
        theta, h = model.theta, model.h
        loss = 0.5 * (h * theta.square()).sum()
        return loss if noise is None else loss + workload.noise * (h.sqrt() * noise * theta).sum()
    if workload.model == "autoencoder":
        return F.mse_loss(model(x), x.flatten(1))
    return F.cross_entropy(model(x), y)


@torch.no_grad()
def evaluate(workload: Workload, model: nn.Module, x_val, y_val, batch: int = 2000) -> dict:
    """{'val_loss': ..., 'val_accuracy': ... (classifiers only)} on the whole validation set."""
    if workload.model == "quadratic":
        return {"val_loss": float(loss_fn(workload, model, None, None))}
    total, correct = 0.0, 0
    for i in range(0, x_val.shape[0], batch):
        xb, yb = x_val[i : i + batch], y_val[i : i + batch]
        if workload.model == "autoencoder":
            total += float(F.mse_loss(model(xb), xb.flatten(1), reduction="sum")) / xb[0].numel()
        else:
            out = model(xb)
            total += float(F.cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(1) == yb).sum())
    n = x_val.shape[0]
    metrics = {"val_loss": total / n}
    if workload.model != "autoencoder":
        metrics["val_accuracy"] = correct / n
    return metrics
