"""One-off upgrade of the run records made before records carried their configuration (kept for the record).

Each old record is matched to the ``RunConfig`` it was made with (its hyperparameters are checked against
today's protocol field by field), then rewritten by ``run_records.make_record`` under the configuration's
name, with its configuration, its hash and the paper's citation as protocol; curves and provenance are
copied, nothing is retrained. Usage: ``python tests/upgrade_records.py results/training results/training/lr_sweep``.
"""

import json
import pathlib
import re
import subprocess
import sys

from functions.protocol import PROTOCOLS, RunConfig
from functions.run_records import HYPERPARAMETERS, make_record, record_path, write_record


def upgrade(path: pathlib.Path) -> pathlib.Path:
    old = json.loads(path.read_text())
    if "config_hash" in old:
        return path
    hyper, proto = old["hyperparameters"], PROTOCOLS[old["model"]]
    tagged_lr = "_lr" in path.name
    cfg = RunConfig(old["dataset"], old["model"], old["optimiser"], seed=old["seed"],
                    lr=hyper["lr"] if tagged_lr else None,
                    epochs=None if hyper["epochs"] == proto["epochs"] else hyper["epochs"], subset=old["subset"],
                    test_subset=None if old["n_test"] == 10000 else old["n_test"])  # fmt: skip
    resolved = cfg.resolved_dict()
    for key in HYPERPARAMETERS:
        assert resolved[key] == hyper[key], (path, key, resolved[key], hyper[key])
    threads = int(re.search(r"(\d+) threads", old["device_name"])[1]) if "threads" in old["device_name"] else None
    provenance = {k: old[k] for k in ("torch_version", "device", "device_name", "wall_time_s")}
    provenance |= {
        "threads": threads,
        "memory_format": "contiguous",
        "code_version": "unknown (made before records carried it)",
    }
    record = make_record(cfg, n_train=old["n_train"], n_test=old["n_test"], train_loss=old["train_loss"],
                         test_accuracy=old["test_accuracy"], provenance=provenance)  # fmt: skip
    new = record_path(path.parent, cfg)
    if new != path:
        subprocess.run(["git", "mv", str(path), str(new)], check=True)
    write_record(path.parent, cfg, record, force=True)
    return new


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        for f in sorted(pathlib.Path(folder).glob("*.json")):
            print(f.name, "->", upgrade(f).name)
