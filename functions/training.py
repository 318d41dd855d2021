"""Training protocol of the paper's Figure 2e-f: in-memory batching, clipping, augmentation, resumable runs.

``train_run`` trains one ``RunConfig`` (see ``protocol``). It checkpoints after every epoch and, on
SIGTERM, SIGINT or SIGUSR2, at the next batch boundary (``checkpoint``), and continues from the newest
good checkpoint of the same trajectory bit for bit: the thread count is part of what a checkpoint
restores, since CPU kernels reduce in a thread-dependent order. Only a finished run writes its record
(``run_records``), so a partial run never touches results/.
"""

from __future__ import annotations

import math
import pathlib
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from tqdm import tqdm  # console bar; shown only on a terminal (see train_run)

from . import checkpoint as ckpt
from .data import load_cifar10, load_idx_dataset
from .image_folder import load_cifar10_jpeg
from .models import build_model
from .optimisers import make_optimiser
from .protocol import DEVICES, NORMALISATION, PROTOCOLS, SUBSET_SEED, RunConfig, check_device
from .run_records import code_version, make_record, record_path, record_status, rerun_command, write_record

__all__ = [
    "DEVICES",
    "NORMALISATION",
    "PROTOCOLS",
    "RunConfig",
    "augment_crop_flip",
    "check_device",
    "device_name",
    "load_split",
    "pick_device",
    "protocol_optimiser",
    "train_run",
]


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
    """The optimiser of a protocol: Ballistic takes the protocol's beta2 (0.999 MLP, 0.9 CNN).

    The multi-tensor (foreach) step: the same bits as the for-loop, faster on two threads
    (tests/benchmarks/bench_cnn_throughput.py).
    """
    proto = PROTOCOLS[model]
    return make_optimiser(name, params, lr, adam_betas=proto["adam_betas"], ballistic_beta2=proto["ballistic_beta2"],
                          eps=proto["eps"], foreach=True)  # fmt: skip


#: Memory format of the images and convolution weights per protocol: channels-last runs the CNN's convolutions
#: 1.2-1.3x faster on the CPU (tests/benchmarks/bench_cnn_throughput.py). It changes the rounding, not the
#: method, so it is provenance like the thread count: recorded, kept by a resumed run, not in the hash.
MEMORY_FORMATS = {"mlp": "contiguous", "cnn": "channels_last"}
_FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}


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


def _accuracy(model, x, y, batch_size, device, fmt=torch.contiguous_format) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            xb = x[i : i + batch_size].to(device).contiguous(memory_format=fmt)
            correct += (model(xb).argmax(1).cpu() == y[i : i + batch_size]).sum().item()
    model.train()
    return correct / len(y)


#: Signals after which a run checkpoints at the next batch boundary (then acts on the signal).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGUSR2") if hasattr(signal, name))


class _StopOnSignal:
    """Record a stop signal instead of acting on it mid-step; act on it after the checkpoint is written.

    After the checkpoint, the handler that was installed before is called (submitit's requeue on SIGUSR2,
    its bypass of SIGTERM); where there was none, SIGINT raises KeyboardInterrupt and the others exit with
    128 + signal number.
    """

    def __init__(self):
        self.signum = None
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._record)
        return self

    def _record(self, signum, frame):
        self.signum = signum

    def act(self) -> None:
        signum, self.signum = self.signum, None
        prev = self.previous.get(signum)
        if callable(prev) and prev is not signal.default_int_handler:
            prev(signum, None)  # may requeue and exit (submitit), or return (a bypass): then training goes on
            return
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    def __exit__(self, *exc):
        for sig, prev in self.previous.items():
            signal.signal(sig, prev)
        return False


def _subsets(cfg: RunConfig, x_tr, y_tr, x_te, y_te):
    if cfg.subset is not None and cfg.subset > len(y_tr):
        raise ValueError(f"Invalid subset value: {cfg.subset}; the training set has {len(y_tr)} images (None: all).")
    if cfg.test_subset is not None and cfg.test_subset > len(y_te):
        raise ValueError(f"Invalid test_subset value: {cfg.test_subset}; the test set has {len(y_te)} images.")
    if cfg.subset is not None:
        keep = torch.randperm(len(y_tr), generator=torch.Generator().manual_seed(SUBSET_SEED))[: cfg.subset]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if cfg.test_subset is not None:
        x_te, y_te = x_te[: cfg.test_subset], y_te[: cfg.test_subset]
    return x_tr, y_tr, x_te, y_te


def train_run(cfg: RunConfig, root=None, out_dir=None, progress: bool | None = None, data=None, *,
              checkpoints=None, force: bool = False, log: Callable[[str], None] | None = print,
              on_batch: Callable[[int, int], None] | None = None) -> dict:  # fmt: skip
    """Train one run (resuming from its newest good checkpoint) and return, and with ``out_dir`` write, its record.

    Args:
        cfg: the run.
        root: data folder.
        out_dir: where to write the JSON record once the run has finished (None: do not write).
        progress: tqdm progress bar; by default only when stderr is a terminal.
        data: optional pre-loaded ((x_train, y_train), (x_test, y_test)) to skip loading.
        checkpoints: checkpoint folder (e.g. ``checkpoint.checkpoint_dir()``, as the campaigns pass); None: none.
            The folder is keyed by the trajectory hash, which does not cover ``data``: pass checkpoints only for
            runs on the dataset the configuration names.
        force: replace an existing record of another configuration in ``out_dir``.
        log: where the per-epoch progress lines go (None: nowhere).
        on_batch: called with (epoch index, batches done in it) after every step (tests, monitoring).
    """
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)  # initial weights and step counters never depend on the caller's default
    try:
        return _train(cfg, root, out_dir, progress, data, checkpoints, force, log, on_batch)
    finally:
        torch.set_default_dtype(before)


def _train(cfg, root, out_dir, progress, data, checkpoints, force, log, on_batch) -> dict:
    full = cfg.resolved()
    proto = PROTOCOLS[cfg.model]
    say = log or (lambda _: None)
    if out_dir is not None and not force and record_status(out_dir, cfg) in ("stale", "invalid"):
        raise FileExistsError(
            f"{record_path(out_dir, cfg)} holds a record of another configuration (or a broken one); nothing was "
            f"trained. Replace it with `{rerun_command(cfg, out_dir, force=True)}` (force=True)."
        )
    device = pick_device(cfg.device)
    (x_tr, y_tr), (x_te, y_te) = data or (load_split(cfg.dataset, True, cfg.model, root),
                                          load_split(cfg.dataset, False, cfg.model, root))  # fmt: skip
    x_tr, y_tr, x_te, y_te = _subsets(cfg, x_tr, y_tr, x_te, y_te)
    x_tr, y_tr = x_tr.to(device), y_tr.to(device)  # the whole training set lives on the device
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(device=device, dtype=x_tr.dtype)
    memory_format = MEMORY_FORMATS[cfg.model]
    n, bs = len(y_tr), proto["batch_size"]
    n_batches = (n + bs - 1) // bs
    folder = None if checkpoints is None else pathlib.Path(checkpoints) / cfg.trajectory_hash()
    first_epoch, first_batch, perm, total, train_loss, test_acc, wall = 0, 0, None, 0.0, [], [], 0.0
    state = None if folder is None else ckpt.latest(folder, trajectory_hash=cfg.trajectory_hash(),
                                                    max_epoch=full.epochs, device=device, log=say)  # fmt: skip
    if state is not None and state.get("memory_format", "contiguous") != memory_format:
        memory_format = state.get("memory_format", "contiguous")
        say(f"{cfg.label()}: the checkpoint ran in {memory_format} memory format; continuing in it.")
    fmt = _FORMATS[memory_format]
    model = model.to(memory_format=fmt)
    opt = protocol_optimiser(cfg.optimiser, model.parameters(), full.lr, cfg.model)
    if state is not None:
        if state["threads"] != torch.get_num_threads():
            say(f"{cfg.label()}: the checkpoint ran on {state['threads']} threads; continuing on {state['threads']} "
                f"(not {torch.get_num_threads()}) so that the run stays bit for bit the same.")  # fmt: skip
            torch.set_num_threads(state["threads"])
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimiser"])
        ckpt.set_rng_state(state["rng"], gen)
        first_epoch, first_batch, total = state["epoch"], state["batch"], state["total"]
        perm = state["perm"].to(device) if state["perm"] is not None else None
        train_loss, test_acc, wall = list(state["train_loss"]), list(state["test_accuracy"]), state["wall_time_s"]
        say(f"{cfg.label()}: resuming at epoch {first_epoch} + {first_batch}/{n_batches} batches "
            f"(checkpoint of code {state['code_version']}).")  # fmt: skip
    version = code_version()

    def save(epoch: int, batch: int) -> None:
        if folder is None:
            return
        ckpt.save(folder, {
            "trajectory_hash": cfg.trajectory_hash(), "config": cfg.resolved_dict(), "code_version": version,
            "threads": torch.get_num_threads(), "memory_format": memory_format, "epoch": epoch, "batch": batch,
            "total": total,
            "perm": None if batch == 0 else perm.cpu(), "train_loss": train_loss, "test_accuracy": test_acc,
            "wall_time_s": wall + time.perf_counter() - start, "model": model.state_dict(),
            "optimiser": opt.state_dict(), "rng": ckpt.rng_state(gen),
        }, epoch=epoch, batch=batch)  # fmt: skip

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=full.epochs * n_batches, initial=first_epoch * n_batches + first_batch, disable=not show,
               desc=f"{cfg.optimiser} seed {cfg.seed}")  # fmt: skip
    start = time.perf_counter()
    with _StopOnSignal() as stop:
        for epoch in range(first_epoch, full.epochs):
            epoch_start = time.perf_counter()
            if epoch != first_epoch or first_batch == 0:
                perm, total = torch.randperm(n, generator=gen).to(device), 0.0
            for i in range(first_batch if epoch == first_epoch else 0, n_batches):
                idx = perm[i * bs : (i + 1) * bs]
                xb = x_tr[idx]
                if proto["augment"]:
                    xb = augment_crop_flip(xb, gen)
                loss = F.cross_entropy(model(xb.contiguous(memory_format=fmt)), y_tr[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if proto["clip"] is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), proto["clip"])
                opt.step()
                total += loss.item() * len(idx)
                bar.update(1)
                if on_batch is not None:
                    on_batch(epoch, i + 1)
                if stop.signum is not None and i + 1 < n_batches:
                    save(epoch, i + 1)
                    say(f"{cfg.label()}: signal {stop.signum}, checkpointed at epoch {epoch} + {i + 1} batches.")
                    stop.act()
            train_loss.append(total / n)
            test_acc.append(_accuracy(model, x_te, y_te, proto["test_batch_size"], device, fmt))
            save(epoch + 1, 0)
            per_epoch = time.perf_counter() - epoch_start
            left = per_epoch * (full.epochs - epoch - 1)
            say(f"{cfg.label()}: epoch {epoch + 1}/{full.epochs} train loss {train_loss[-1]:.4f} test acc "
                f"{test_acc[-1]:.4f} {per_epoch:.0f} s/epoch, ~{_duration(left)} left")  # fmt: skip
            if stop.signum is not None:
                stop.act()
    bar.close()
    provenance = {"torch_version": torch.__version__, "device": str(device), "device_name": device_name(device),
                  "threads": torch.get_num_threads(), "memory_format": memory_format, "code_version": version,
                  "wall_time_s": wall + time.perf_counter() - start}  # fmt: skip
    record = make_record(cfg, n_train=n, n_test=len(y_te), train_loss=train_loss, test_accuracy=test_acc,
                         provenance=provenance)  # fmt: skip
    if out_dir is not None:
        write_record(out_dir, cfg, record, force=force)
    return record


def _duration(seconds: float) -> str:
    """'42 s', '13 min', '2.5 h'."""
    if not math.isfinite(seconds) or seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
