"""Run locks with real processes: a held run is refused and skipped, a lock left by a killed process is taken
over, and two campaigns started together on the same runs train each run once and write one campaign's records.
"""

import os
import pathlib
import signal
import socket
import subprocess
import sys

import pytest
from test_campaign import FASHION, SLURM, TINY, _fake_record

from functions import campaign as CP
from functions.run_lock import LockOwner, RunLocked, lock_path, owner_of, run_lock
from functions.run_records import load_record, record_path, result_fields, write_record

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: A process that takes the lock at argv[1], says "held", and keeps it until its stdin closes.
HOLDER = (
    "import sys\n"
    "from functions.run_lock import run_lock\n"
    "with run_lock(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.readline()\n"
)


def _holder(path, **env) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, **env})  # fmt: skip
    assert proc.stdout.readline().strip() == "held", "the holder took the lock"
    return proc


def test_a_lock_held_by_another_process_is_refused_naming_it_then_free_once_it_exits(tmp_path):
    path = tmp_path / "locks" / "run.lock"
    proc = _holder(path)
    try:
        with pytest.raises(RunLocked) as err:
            with run_lock(path, log=None):
                pytest.fail("entered a lock another process holds")
        assert err.value.owner.pid == proc.pid and err.value.owner.host == socket.gethostname()
        assert f"is held by pid {proc.pid} on {socket.gethostname()}" in str(err.value)
        assert owner_of(path).released is False
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    assert owner_of(path) == LockOwner(**{**owner_of(path).__dict__, "released": True}), "let go on a clean exit"
    said = []
    with run_lock(path, log=said.append) as me:
        assert me.pid == os.getpid() and owner_of(path) == me
    assert said == [], "a released lock is not stale"
    assert owner_of(path).released and owner_of(path).pid == os.getpid()


def test_a_lock_left_by_a_killed_process_is_taken_over_and_said(tmp_path):
    path = tmp_path / "run.lock"
    proc = _holder(path, SLURM_JOB_ID="4242")  # as a preempted SLURM job's task would leave it
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdin.close()
    assert owner_of(path).pid == proc.pid and not owner_of(path).released, "killed: it never let go"
    said = []
    with run_lock(path, log=said.append):
        assert owner_of(path).pid == os.getpid()
    assert (
        len(said) == 1
        and f"took over a stale lock of pid {proc.pid} on {socket.gethostname()}, SLURM job 4242" in said[0]
    )
    path.write_text("not json")  # an unreadable owner: taken without a claim about who left it
    said.clear()
    with run_lock(path, log=said.append):
        pass
    assert said == [] and owner_of(path).released


def test_a_campaign_skips_a_run_another_process_holds_and_writes_nothing_for_it(tmp_path):
    """No data is loaded for the held run: the lock is tried first (so this test needs no dataset)."""
    cfg = TINY[0]
    proc = _holder(lock_path(tmp_path / "ck", cfg.trajectory_hash()))
    lines = []
    try:
        rows = CP.run_campaign([cfg], out_dir=tmp_path / "out", checkpoints=tmp_path / "ck", log=lines.append)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert [r["action"] for r in rows] == ["owned"] and "epochs" not in rows[0]
    assert not record_path(tmp_path / "out", cfg).exists()
    assert any("owned" in line and cfg.label() in line for line in lines), lines


@SLURM
def test_a_slurm_task_skips_a_run_a_local_process_holds(tmp_path):
    """The lock lives with the checkpoints, so a SLURM task (here on this node) sees a local owner."""
    held = TINY[0]
    proc = _holder(lock_path(tmp_path / "ck", held.trajectory_hash()))
    try:
        rows = CP.run_campaign([held], out_dir=tmp_path / "out", checkpoints=tmp_path / "ck", executor="slurm",
                               slurm=CP.SlurmOptions(log_dir=str(tmp_path / "jobs"), time_min=5, wait_s=300),
                               log=lambda line: None)  # fmt: skip
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert [r["action"] for r in rows] == ["owned"] and not record_path(tmp_path / "out", held).exists()


def test_a_run_completed_by_another_campaign_after_the_plan_is_not_trained_again(tmp_path, capsys):
    cfg = TINY[0]
    write_record(tmp_path / "out", cfg, _fake_record(cfg))  # what the other campaign wrote meanwhile
    got = CP._train(cfg, str(tmp_path / "out"), tmp_path / "nodata", str(tmp_path / "ck"), False, threads=1)
    assert got == load_record(record_path(tmp_path / "out", cfg), cfg)
    assert "complete (written by another campaign since this one was planned); skipped." in capsys.readouterr().out


def _campaign(out, ck, core) -> subprocess.Popen:
    argv = [sys.executable, "-m", "functions.experiments", "fig2e", "--dataset", "fashion-mnist", "--seeds", "2",
            "--epochs", "2", "--subset", "512", "--test-subset", "200", "--optimisers", "ballistic,sgd",
            "--out", str(out), "--checkpoints", str(ck)]  # fmt: skip
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {core}))  # fmt: skip


@FASHION
def test_two_campaigns_at_once_train_each_run_once_and_end_with_one_campaigns_records(tmp_path):
    from functions.protocol import panel_configs

    cfgs = panel_configs("mlp", "fashion-mnist", 2, epochs=2, subset=512, test_subset=200,
                         optimisers=("ballistic", "sgd"))  # fmt: skip
    cores = sorted(os.sched_getaffinity(0))
    both = [_campaign(tmp_path / "out", tmp_path / "ck", cores[i % len(cores)]) for i in range(2)]
    logs = [p.communicate(timeout=600)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], logs
    for cfg in cfgs:
        trained = [i for i, log in enumerate(logs) if f"{cfg.label()}: epoch 1/2" in log]
        assert len(trained) == 1, f"{cfg.label()} trained by campaigns {trained}:\n" + "\n".join(logs)
    alone = _campaign(tmp_path / "alone", tmp_path / "ck-alone", cores[0])
    assert alone.wait(timeout=600) == 0
    for cfg in cfgs:
        rec, ref = (load_record(record_path(tmp_path / d, cfg), cfg) for d in ("out", "alone"))
        assert result_fields(rec) == result_fields(ref) and rec["threads"] == ref["threads"] == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in (tmp_path / "alone").iterdir()
    ), "the same files, no more"
