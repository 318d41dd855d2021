"""Records of the Ballistic benchmark (beyond the paper), the one owner of ``results/benchmark/``.

A trial's record is ``<out>/<workload>/<rule>/<name>.json`` (``name``: 'trial-07' for the 8th tuning trial,
'seed-3' for a rerun of the best trial with seed 3) holding its configuration (``Trial.config``), that
configuration's hash, the result of ``bench_trials.run_trial`` and its provenance (torch version, code
version, wall time). Loading checks the hash against the configuration asked for: a record of another
protocol, workload definition, rule or hyperparameters under the same name is refused (``ForeignRecordError``)
rather than reused or overwritten.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

from ._io import rounded, write_json
from .bench_trials import Trial

__all__ = [
    "ForeignRecordError",
    "config_digest",
    "load_trial_record",
    "make_trial_record",
    "trial_path",
    "write_trial_record",
]

#: Significant digits stored: metrics and times are far noisier than 1e-6.
DIGITS = 6


def config_digest(config: dict) -> str:
    """16 hex digits of the SHA-256 of ``config`` as stored (``DIGITS`` significant digits, no floor: an eps of
    1e-10 is not 0)."""
    text = json.dumps(rounded(config, DIGITS, 0.0), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ForeignRecordError(ValueError):
    """A record under a trial's name whose configuration differs (another protocol, rule or hyperparameters)."""


def trial_path(out_dir, trial: Trial, name: str) -> pathlib.Path:
    return pathlib.Path(out_dir) / trial.workload / trial.rule / f"{name}.json"


def make_trial_record(trial: Trial, result: dict, *, provenance: dict) -> dict:
    config = trial.config()
    return {"config": config, "config_hash": config_digest(config), **result, **provenance}


def _differences(stored: dict, expected: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(stored) | set(expected)):
        a, b = stored.get(k), expected.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: stored {a!r}, expected {b!r}")
    return out


def load_trial_record(path, trial: Trial) -> dict:
    """The record at ``path`` if it is ``trial``'s; FileNotFoundError if absent, ForeignRecordError if another's."""
    path = pathlib.Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as err:
        raise ForeignRecordError(f"{path} is unreadable ({err}); delete it to run the trial again.") from err
    expected = rounded(trial.config(), DIGITS, 0.0)
    stored = record.get("config") if isinstance(record, dict) else None
    if not isinstance(stored, dict) or rounded(stored, DIGITS, 0.0) != expected:
        diff = _differences(stored, expected) if isinstance(stored, dict) else ["no configuration stored"]
        raise ForeignRecordError(
            f"{path} is a record of another configuration ({'; '.join(diff[:3])}): refused. Move it away (or "
            "choose another --out) to run this protocol, or use --force to replace it."
        )
    if record.get("config_hash") != config_digest(expected):
        raise ForeignRecordError(f"{path}: its configuration hash does not match its configuration (edited?): "
                                 "refused; delete it to run the trial again, or use --force.")  # fmt: skip
    return record


def write_trial_record(out_dir, trial: Trial, name: str, record: dict) -> pathlib.Path:
    """Write atomically (a killed writer leaves the previous file or none)."""
    return write_json(trial_path(out_dir, trial, name), record, digits=DIGITS, floor=0.0)
