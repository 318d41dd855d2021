"""Run records: the one module that names, writes, finds, loads and validates results/training/*.json.

A record is the outcome of one completed ``RunConfig``: per-epoch train loss and test accuracy, the
resolved configuration and its hash (``RunConfig.config_hash``), and provenance (device, threads, torch
and code version, wall time). It is written atomically, only when the run has finished, to
``<out_dir>/<RunConfig.stem()>.json``.

Loading is validation: a record is read by the configuration it should hold, never by a glob, so a
copied file, a record of another dataset or protocol, a truncated file, a missing key, ragged curves or a
hand-edited hyperparameter each end in an error naming the file, what is wrong and the command that
reruns it.
"""

from __future__ import annotations

import hashlib
import json
import math
import pathlib
import subprocess

from ._io import write_json
from .protocol import PROTOCOL_NAMES, PROTOCOLS, RunConfig, config_digest

__all__ = [
    "PROVENANCE",
    "RecordError",
    "StaleRecordError",
    "code_version",
    "load_record",
    "load_records",
    "make_record",
    "record_path",
    "record_status",
    "rerun_command",
    "result_fields",
    "source_digest",
    "write_record",
]

#: Record fields that describe where and how fast a run ran, not what it computed.
PROVENANCE = ("torch_version", "device", "device_name", "threads", "memory_format", "code_version", "wall_time_s")

#: The hyperparameters a record lists on their own (each also in its "config").
HYPERPARAMETERS = ("lr", "epochs", "batch_size", "clip", "augment", "ballistic_beta2")

#: Keys every record carries, with their types.
_REQUIRED = {
    "dataset": str, "model": str, "protocol": str, "optimiser": str, "seed": int, "hyperparameters": dict,
    "config": dict, "config_hash": str, "n_train": int, "n_test": int, "epochs": list, "train_loss": list,
    "test_accuracy": list, "torch_version": str, "device": str, "device_name": str, "wall_time_s": float | int,
}  # fmt: skip


class RecordError(ValueError):
    """A run record that cannot be used: missing, unreadable, malformed, or of another configuration."""


class StaleRecordError(RecordError):
    """A record whose stored configuration differs from the run asked for (an edited protocol, another run)."""


def code_version() -> str:
    """The git commit of the package's working tree (+ '-dirty' when it has changes), else 'unknown'."""
    root = pathlib.Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "functions"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def source_digest(package=None) -> str:
    """SHA-256 (16 hex digits) of the package's source (``package``, default this one's folder): every ``*.py``
    under it, by relative path and bytes.

    Unlike ``code_version`` it tells two edited working trees apart and needs no git, so a kept partial result
    from other code is recognised as such.
    """
    package = pathlib.Path(__file__).resolve().parent if package is None else pathlib.Path(package)
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def record_path(out_dir, cfg: RunConfig) -> pathlib.Path:
    """``<out_dir>/<cfg.stem()>.json``: a name per configuration (tags where it differs from the protocol)."""
    return pathlib.Path(out_dir) / f"{cfg.stem()}.json"


def rerun_command(cfg: RunConfig, out_dir=None, force: bool = False) -> str:
    """The command line that (re)produces ``cfg``'s record (seeds 0 .. cfg.seed; complete ones are skipped)."""
    full = cfg.resolved()
    if cfg.model == "cnn":
        panel, default_epochs = "fig2f", PROTOCOLS["cnn"]["epochs"]
    elif full.lr != PROTOCOLS["mlp"]["lr"][cfg.optimiser]:
        panel, default_epochs = "fig4e", 1
    else:
        panel, default_epochs = "fig2e", PROTOCOLS["mlp"]["epochs"]
    args = [f"--dataset {cfg.dataset}", f"--seeds {cfg.seed + 1}"]
    if panel == "fig4e":
        args.append(f"--optimisers {cfg.optimiser}")
    if full.epochs != default_epochs:
        args.append(f"--epochs {full.epochs}")
    if cfg.subset is not None:
        args.append(f"--subset {cfg.subset}")
    if cfg.test_subset is not None:
        args.append(f"--test-subset {cfg.test_subset}")
    if out_dir is not None:
        args.append(f"--out {out_dir}")
    if force:
        args.append("--force")
    return f"python -m functions.experiments {panel} " + " ".join(args)


def make_record(cfg: RunConfig, *, n_train: int, n_test: int, train_loss, test_accuracy, provenance: dict) -> dict:
    """The record of a completed run (field order fixed, so equal runs give equal bytes)."""
    full = cfg.resolved()
    resolved = cfg.resolved_dict()
    missing = [k for k in PROVENANCE if k not in provenance]
    if missing:
        raise ValueError(f"Invalid provenance value: missing {', '.join(missing)}.")
    return {
        "dataset": cfg.dataset,
        "model": cfg.model,
        "protocol": PROTOCOL_NAMES[cfg.model],
        "optimiser": cfg.optimiser,
        "seed": cfg.seed,
        "hyperparameters": {k: resolved[k] for k in HYPERPARAMETERS},
        "config": resolved,
        "config_hash": cfg.config_hash(),
        "n_train": int(n_train),
        "n_test": int(n_test),
        "subset": cfg.subset,
        "epochs": list(range(1, full.epochs + 1)),
        "train_loss": [float(v) for v in train_loss],
        "test_accuracy": [float(v) for v in test_accuracy],
        **{k: provenance[k] for k in PROVENANCE},
    }


def result_fields(record: dict) -> dict:
    """The record without its provenance: what two executors of one configuration must agree on bit for bit."""
    return {k: v for k, v in record.items() if k not in PROVENANCE}


def _read(path: pathlib.Path) -> dict:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as err:
        raise RecordError(f"{path}: cannot be read ({err}).") from err
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordError(f"{path}: not valid JSON ({err}); the file is truncated or edited.") from err
    if not isinstance(record, dict):
        raise RecordError(f"{path}: expected a JSON object, found {type(record).__name__}.")
    return record


def _validate(record: dict, path: pathlib.Path) -> None:
    for key, kind in _REQUIRED.items():
        if key not in record:
            raise RecordError(f"{path}: missing key {key!r}.")
        value = record[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise RecordError(f"{path}: {key!r} is {value!r}, expected {kind}.")
    n = len(record["epochs"])
    if n == 0 or record["epochs"] != list(range(1, n + 1)):
        raise RecordError(f"{path}: 'epochs' must be 1, 2, ..., E; found {record['epochs']!r}.")
    for key in ("train_loss", "test_accuracy"):
        curve = record[key]
        if len(curve) != n:
            raise RecordError(f"{path}: {key!r} has {len(curve)} values for {n} epochs (ragged record).")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in curve):
            raise RecordError(f"{path}: {key!r} holds a value that is not a finite number.")
    if not all(0.0 <= v <= 1.0 for v in record["test_accuracy"]):
        raise RecordError(f"{path}: 'test_accuracy' must lie in [0, 1].")
    if record["config"].get("epochs") != n:
        raise RecordError(f"{path}: the configuration says {record['config'].get('epochs')} epochs, the curves {n}.")


def _differences(stored: dict, expected: dict) -> list[str]:
    keys = sorted(set(stored) | set(expected))
    return [f"{k} = {stored.get(k)!r} (expected {expected.get(k)!r})" for k in keys if stored.get(k) != expected.get(k)]


def load_record(path, cfg: RunConfig | None = None) -> dict:
    """Read and validate one record; with ``cfg``, also check that it is the record of ``cfg``.

    Raises:
        FileNotFoundError: no record, with the command that produces it (given ``cfg``).
        RecordError: unreadable or malformed, naming the file and the fault.
        StaleRecordError: its configuration differs from ``cfg`` (naming each differing field and the command
            that reruns it) or from its own hash (a hand-edited record).
    """
    path = pathlib.Path(path)
    if not path.exists():
        hint = f" Produce it with `{rerun_command(cfg, path.parent)}`." if cfg is not None else ""
        raise FileNotFoundError(f"{path}: no such run record.{hint}")
    record = _read(path)
    _validate(record, path)
    stored = record["config"]
    rerun = f" Rerun it with `{rerun_command(cfg, path.parent, force=True)}`." if cfg is not None else ""
    # A hand-edited hyperparameter or configuration no longer matches the hash the run wrote.
    if config_digest(stored) != record["config_hash"]:
        raise StaleRecordError(f"{path}: its configuration does not match its hash {record['config_hash']} "
                               f"(the record was edited).{rerun}")  # fmt: skip
    hyper = record["hyperparameters"]
    edited = [k for k, v in hyper.items() if stored.get(k) != v]
    if edited:
        raise StaleRecordError(f"{path}: hyperparameters {', '.join(edited)} differ from its configuration "
                               f"(the record was edited).{rerun}")  # fmt: skip
    for key in ("dataset", "model", "optimiser", "seed"):
        if record[key] != stored.get(key):
            raise StaleRecordError(f"{path}: {key} = {record[key]!r} but its configuration says {stored.get(key)!r}.")
    if cfg is not None:
        diff = _differences(stored, cfg.resolved_dict())
        if diff:
            raise StaleRecordError(f"{path}: not a record of today's {cfg.label()} ({'; '.join(diff)}).{rerun}")
    return record


def record_status(out_dir, cfg: RunConfig) -> str:
    """'complete' (a valid record of ``cfg``), 'missing', 'stale' (another configuration) or 'invalid'."""
    try:
        load_record(record_path(out_dir, cfg), cfg)
    except FileNotFoundError:
        return "missing"
    except StaleRecordError:
        return "stale"
    except RecordError:
        return "invalid"
    return "complete"


def load_records(out_dir, cfgs) -> list[dict]:
    """The validated records of ``cfgs`` (exactly those files), in order; the first fault raises."""
    return [load_record(record_path(out_dir, cfg), cfg) for cfg in cfgs]


def write_record(out_dir, cfg: RunConfig, record: dict, *, force: bool = False) -> pathlib.Path:
    """Write ``record`` atomically to ``record_path(out_dir, cfg)``.

    An existing file that is not a valid record of ``cfg`` (another configuration, an edited or broken
    file) is replaced only with ``force=True``; otherwise StaleRecordError names it and nothing is written.
    """
    if record.get("config_hash") != cfg.config_hash():
        raise ValueError(f"Invalid record value: its config_hash is not that of {cfg.label()}.")
    path = record_path(out_dir, cfg)
    if path.exists() and not force:
        try:
            load_record(path, cfg)
        except RecordError as err:
            raise StaleRecordError(f"{path} exists and is not a record of {cfg.label()}: {err} Nothing was written; "
                                   "pass --force (force=True) to replace it.") from None  # fmt: skip
    return write_json(path, record)
