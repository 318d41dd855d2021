"""Runs that survive interruption: SIGKILL mid-epoch and after an epoch, SIGTERM, corrupt checkpoints.

Each run is a fresh python process on one thread, training the CNN protocol (augmentation included, so the
data-order generator is exercised mid-epoch) on a small generated dataset; the interrupted run is resumed
in another fresh process and compared with an uninterrupted one: every parameter, every optimiser buffer,
every random state and the curves, with ``torch.equal``.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest
import torch

from functions import checkpoint as C

ROOT = pathlib.Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, signal, sys
import torch
torch.set_num_threads(1)
from functions.protocol import RunConfig
from functions.training import train_run

folder, mode, optimiser = sys.argv[1], sys.argv[2], sys.argv[3]
g = torch.Generator().manual_seed(0)
x, y = torch.randn(256, 3, 32, 32, generator=g), torch.randint(0, 10, (256,), generator=g)
cfg = RunConfig("cifar10", "cnn", optimiser, seed=3, epochs=2)

def on_batch(epoch, batch):
    if mode == "kill-mid" and (epoch, batch) == (1, 1):
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "term-mid" and (epoch, batch) == (1, 1):
        os.kill(os.getpid(), signal.SIGTERM)

def log(line):
    print(line, flush=True)
    if mode == "kill-after" and "epoch 1/2" in line:
        os.kill(os.getpid(), signal.SIGKILL)

rec = train_run(cfg, data=((x, y), (x[:64], y[:64])), checkpoints=folder, progress=False, log=log, on_batch=on_batch)
print("RECORD " + json.dumps({k: rec[k] for k in ("train_loss", "test_accuracy")}))
"""


def _child(folder, mode, optimiser="ballistic"):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", CHILD, str(folder), mode, optimiser], capture_output=True, text=True,
                          env=env, timeout=300, cwd=ROOT)  # fmt: skip


def _final(folder) -> dict:
    (run,) = list(pathlib.Path(folder).iterdir())
    return C.load(run / "e2-b0.pt")


def _assert_equal_states(a: dict, b: dict):
    for key in ("model",):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), name
    sa, sb = a["optimiser"]["state"], b["optimiser"]["state"]
    assert sa.keys() == sb.keys() and len(sa) == 12, "a state for each of the 12 parameter tensors"
    for i in sa:
        assert sa[i].keys() == sb[i].keys()
        for buf in sa[i]:
            assert torch.equal(sa[i][buf], sb[i][buf]), (i, buf)
    assert a["train_loss"] == b["train_loss"] and a["test_accuracy"] == b["test_accuracy"]
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    assert torch.equal(a["rng"]["generator"], b["rng"]["generator"]), "the data-order generator"


class _Uninterrupted(dict):
    """Uninterrupted runs per optimiser, made on first use (once per module)."""

    def __init__(self, factory):
        super().__init__()
        self.factory = factory

    def __missing__(self, optimiser):
        folder = self.factory.mktemp(f"full-{optimiser}")
        out = _child(folder, "full", optimiser)
        assert out.returncode == 0, out.stderr
        self[optimiser] = (folder, out.stdout)
        return self[optimiser]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return _Uninterrupted(tmp_path_factory)


@pytest.mark.parametrize(
    ("optimiser", "mode"), [("ballistic", "kill-mid"), ("ballistic", "kill-after"), ("ballistic", "term-mid"),
                            ("adam", "kill-mid")]
)  # fmt: skip
def test_an_interrupted_run_resumes_bit_for_bit(tmp_path, uninterrupted, optimiser, mode):
    full, full_stdout = uninterrupted[optimiser]
    first = _child(tmp_path, mode, optimiser)
    if mode.startswith("kill"):
        assert first.returncode == -signal.SIGKILL
    else:
        assert first.returncode == 128 + signal.SIGTERM, first.stderr
        assert "signal 15, checkpointed at epoch 1 + 1 batches" in first.stdout
    (run,) = list(tmp_path.iterdir())
    names = sorted(p.name for p in run.iterdir())
    assert names == {"kill-mid": ["e1-b0.pt"], "kill-after": ["e1-b0.pt"], "term-mid": ["e1-b0.pt", "e1-b1.pt"]}[mode]
    second = _child(tmp_path, "full", optimiser)
    assert second.returncode == 0, second.stderr
    resumed_at = {"kill-mid": "epoch 1 + 0/2", "kill-after": "epoch 1 + 0/2", "term-mid": "epoch 1 + 1/2"}[mode]
    assert f"resuming at {resumed_at} batches" in second.stdout
    _assert_equal_states(_final(full), _final(tmp_path))
    record = lambda text: json.loads(text.split("RECORD ")[1])  # noqa: E731
    assert record(second.stdout) == record(full_stdout)


def test_a_corrupt_newest_checkpoint_falls_back_to_the_last_good_one(tmp_path, uninterrupted):
    optimiser = "ballistic"
    full, _ = uninterrupted[optimiser]
    assert _child(tmp_path, "full", optimiser).returncode == 0
    (run,) = list(tmp_path.iterdir())
    newest = run / "e2-b0.pt"
    raw = bytearray(newest.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the middle
    newest.write_bytes(bytes(raw))
    again = _child(tmp_path, "full", optimiser)
    assert again.returncode == 0, again.stderr
    assert (
        f"checkpoint {newest} skipped: checksum mismatch (truncated or corrupt); trying an older one." in again.stdout
    )
    assert "resuming at epoch 1 + 0/2 batches" in again.stdout
    _assert_equal_states(_final(full), _final(tmp_path))


def test_truncated_and_foreign_checkpoints_are_skipped(tmp_path):
    gen = torch.Generator().manual_seed(1)
    for epoch in (1, 2, 3):
        C.save(tmp_path, {"trajectory_hash": "abc", "epoch": epoch, "rng": C.rng_state(gen)}, epoch=epoch, batch=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e2-b0.pt", "e3-b0.pt"], "the newest KEEP = 2 kept"
    (tmp_path / "e3-b0.pt").write_bytes((tmp_path / "e3-b0.pt").read_bytes()[:100])  # truncated
    lines = []
    with pytest.warns(C.CheckpointWarning, match="checksum mismatch"):
        state = C.latest(tmp_path, trajectory_hash="abc", log=lines.append)
    assert state["epoch"] == 2 and len(lines) == 1
    with pytest.warns(C.CheckpointWarning, match="belongs to another run"):
        assert C.latest(tmp_path, trajectory_hash="xyz", log=lines.append) is None
    assert C.latest(tmp_path, trajectory_hash="abc", max_epoch=1, log=lines.append) is None, "never beyond the run"
    assert C.latest(tmp_path / "none", trajectory_hash="abc") is None


def test_random_states_round_trip_through_weights_only_loading(tmp_path):
    import random

    import numpy as np

    gen = torch.Generator().manual_seed(5)
    torch.manual_seed(7), np.random.seed(8), random.seed(9)  # noqa: NPY002
    C.save(tmp_path, {"trajectory_hash": "h", "rng": C.rng_state(gen)}, epoch=1, batch=0)
    expected = (torch.rand(3, generator=gen), torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    state = C.latest(tmp_path, trajectory_hash="h")
    C.set_rng_state(state["rng"], gen)
    again = (torch.rand(3, generator=gen), torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(expected[0], again[0]) and torch.equal(expected[1], again[1])
    assert np.array_equal(expected[2], again[2]) and expected[3] == again[3]
    with pytest.raises(Exception):  # noqa: B017
        torch.load(tmp_path / "e1-b0.pt", weights_only=True)  # the digest line first: never read as a bare pickle
