"""Checkpoints of a training run: atomic, checksummed, loaded with ``weights_only=True``.

A checkpoint is everything a run needs to continue bit for bit: model and optimiser state, every random
state (torch's global generator, the run's data-order generator, numpy's and python's), the epoch and batch
reached (with the current epoch's data order and partial loss), the curves so far, the trajectory hash of
the run's configuration, its thread count and the code version.

Files live in ``checkpoint_dir()`` (``$LOSSNAV_CHECKPOINTS``, else ``checkpoints/`` in the working
directory; git-ignored, never results/), one folder per trajectory hash, ``e<epoch>-b<batch>.pt``. Each
file is ``<sha256 of payload>\\n<payload>``; a file whose digest does not match (truncated, corrupt) is
skipped with a warning and the run continues from the newest good one. The newest ``KEEP`` files are
kept, so a corrupt newest file still leaves an older good one.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import random
import re
import warnings

import numpy as np
import torch

from ._io import atomic_path

__all__ = ["CHECKPOINT_FORMAT", "KEEP", "CheckpointWarning", "checkpoint_dir", "latest", "load", "rng_state", "save",
           "set_rng_state"]  # fmt: skip

#: Layout version of a checkpoint's payload.
CHECKPOINT_FORMAT = 1

#: How many checkpoints a run keeps (the newest ones).
KEEP = 2

_NAME = re.compile(r"^e(\d+)-b(\d+)\.pt$")


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (corrupt, truncated, of another run or format)."""


def checkpoint_dir(root=None) -> pathlib.Path:
    """``root``, else ``$LOSSNAV_CHECKPOINTS``, else ``./checkpoints``."""
    if root is not None:
        return pathlib.Path(root)
    env = os.environ.get("LOSSNAV_CHECKPOINTS")
    return pathlib.Path(env) if env else pathlib.Path.cwd() / "checkpoints"


def rng_state(generator: torch.Generator) -> dict:
    """Every random state a run touches, as tensors and plain data (loadable with ``weights_only=True``)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (the legacy global state is what a run may touch)
    version, internal, gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "generator": generator.get_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict, generator: torch.Generator) -> None:
    """Restore what ``rng_state`` captured."""
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
    n = state["numpy"]
    legacy = (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    np.random.set_state(legacy)  # noqa: NPY002
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _files(folder: pathlib.Path) -> list[tuple[tuple[int, int], pathlib.Path]]:
    if not folder.is_dir():
        return []
    found = [((int(m[1]), int(m[2])), f) for f in folder.iterdir() if (m := _NAME.match(f.name))]
    return sorted(found, reverse=True)


def save(folder, payload: dict, *, epoch: int, batch: int, keep: int = KEEP) -> pathlib.Path:
    """Write ``payload`` atomically as ``folder/e<epoch>-b<batch>.pt`` with its SHA-256; keep the newest ``keep``."""
    folder = pathlib.Path(folder)
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **payload}, buffer)
    body = buffer.getvalue()
    path = folder / f"e{epoch}-b{batch}.pt"
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
            fh.flush()
            os.fsync(fh.fileno())
    for _, old in _files(folder)[keep:]:
        old.unlink(missing_ok=True)
    return path


def load(path, device="cpu") -> dict:
    """Read one checkpoint: its digest is checked before the payload is unpickled (``weights_only=True``)."""
    path = pathlib.Path(path)
    raw = path.read_bytes()
    digest, sep, body = raw.partition(b"\n")
    if not sep or hashlib.sha256(body).hexdigest().encode() != digest:
        raise ValueError("checksum mismatch (truncated or corrupt)")
    payload = torch.load(io.BytesIO(body), map_location=device, weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"format {payload.get('format')!r}, expected {CHECKPOINT_FORMAT}")
    return payload


def latest(folder, *, trajectory_hash: str, max_epoch: int | None = None, device="cpu", log=print):
    """The newest good checkpoint in ``folder`` (of ``trajectory_hash``, at most ``max_epoch`` epochs), or None.

    Corrupt or foreign files are skipped, each with a CheckpointWarning and a line through ``log``.
    """
    for (epoch, batch), path in _files(pathlib.Path(folder)):
        if max_epoch is not None and (epoch > max_epoch or (epoch == max_epoch and batch > 0)):
            continue
        try:
            payload = load(path, device)
        except Exception as err:  # any unreadable file is skipped, never trusted
            message = f"checkpoint {path} skipped: {err}; trying an older one."
            warnings.warn(message, CheckpointWarning, stacklevel=2)
            log(message)
            continue
        if payload.get("trajectory_hash") != trajectory_hash:
            message = f"checkpoint {path} skipped: it belongs to another run ({payload.get('trajectory_hash')})."
            warnings.warn(message, CheckpointWarning, stacklevel=2)
            log(message)
            continue
        return payload
    return None
