"""Campaigns: plan (skip / resume / run / refuse), the CLI never overwrites another configuration's record,
local pinned workers, and a real single-node SLURM cluster (.ci/slurm.sh) through submitit.

The training tests use Debian's Fashion-MNIST (installed by .ci/run) and are skipped where it is absent; the
SLURM tests are skipped, with the reason, where no cluster answers ``sinfo``.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import threading
import time

import pytest
import torch

from functions import campaign as CP
from functions import data as D
from functions.experiments import main
from functions.protocol import RunConfig, config_digest, panel_configs
from functions.run_records import (
    StaleRecordError,
    load_record,
    make_record,
    record_path,
    result_fields,
    write_record,
)
from functions.training import train_run

ROOT = pathlib.Path(__file__).resolve().parents[1]
FASHION = pytest.mark.skipif(not D.FASHION_MNIST_SYSTEM_DIR.exists(), reason="apt-get install dataset-fashion-mnist")


def _slurm_reason() -> str | None:
    if shutil.which("sinfo") is None:
        return "no SLURM here: sinfo not found (bash .ci/slurm.sh starts a single-node cluster)"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as err:
        return f"no SLURM reachable: {err}"
    if out.returncode != 0 or not out.stdout.strip():
        return f"no SLURM reachable: sinfo said {out.stderr.strip() or 'nothing'} (bash .ci/slurm.sh starts one)"
    if not any(out.stdout.strip().startswith(s) for s in ("idle", "mix", "alloc")):
        return f"SLURM's node is {out.stdout.strip()}, not idle (see /var/log/slurm/)"
    return None


SLURM = pytest.mark.skipif(_slurm_reason() is not None, reason=str(_slurm_reason()))

#: A tiny campaign: two optimisers, 2 epochs on 512 Fashion-MNIST images.
TINY = panel_configs("mlp", "fashion-mnist", 1, epochs=2, subset=512, test_subset=200, optimisers=("ballistic", "sgd"))


def _fake_record(cfg: RunConfig) -> dict:
    epochs = cfg.resolved().epochs
    prov = {"torch_version": "x", "device": "cpu", "device_name": "cpu", "threads": 1, "memory_format": "contiguous",
            "code_version": "t",
            "wall_time_s": 1.0}  # fmt: skip
    return make_record(cfg, n_train=10, n_test=10, train_loss=[1.0] * epochs, test_accuracy=[0.5] * epochs,
                       provenance=prov)  # fmt: skip


def test_plan_skips_complete_resumes_checkpointed_runs_the_rest_and_refuses_stale(tmp_path):
    a, b, c = panel_configs("mlp", "mnist", 1, epochs=2)
    write_record(tmp_path / "out", a, _fake_record(a))
    from functions import checkpoint as C

    C.save(tmp_path / "ck" / b.trajectory_hash(), {"trajectory_hash": b.trajectory_hash(), "epoch": 1, "batch": 0},
           epoch=1, batch=0)  # fmt: skip
    planned = CP.plan([a, b, c, a], tmp_path / "out", tmp_path / "ck")
    assert [(p.cfg, p.action) for p in planned] == [(a, "skip"), (b, "resume"), (c, "run")], "duplicates once"
    assert "1 to skip, 1 to resume, 1 to run" in CP.plan_table(planned)
    # a record of another configuration under c's name (an edited protocol): refused unless forced
    old = _fake_record(c)
    old["config"]["clip"] = old["hyperparameters"]["clip"] = 1.0
    old["config_hash"] = config_digest(old["config"])
    record_path(tmp_path / "out", c).write_text(json.dumps(old))
    with pytest.raises(StaleRecordError, match=r"clip = 1.0 \(expected 5.0\).*--force.*Pass --force"):
        CP.plan([a, b, c], tmp_path / "out", tmp_path / "ck")
    old["hyperparameters"]["clip"] = 5.0  # an edited field that no longer matches the record's own configuration
    record_path(tmp_path / "out", c).write_text(json.dumps(old))
    with pytest.raises(StaleRecordError, match=r"hyperparameters clip differ from its configuration"):
        CP.plan([c], tmp_path / "out", tmp_path / "ck")
    assert [p.action for p in CP.plan([c], tmp_path / "out", tmp_path / "ck", force=True)] == ["rerun"]
    # a run asked for with more epochs resumes from the shorter run's checkpoint
    longer = RunConfig("mnist", "mlp", b.optimiser, epochs=5)
    assert longer.trajectory_hash() == b.trajectory_hash() and longer.config_hash() != b.config_hash()
    assert CP.plan([longer], tmp_path / "out", tmp_path / "ck")[0].action == "resume"


def test_cpu_shares_are_disjoint_and_cover_the_cores():
    assert CP.cpu_shares(2, [0, 1, 2, 3, 4]) == [(0, 1, 2), (3, 4)]
    assert CP.cpu_shares(1, [3, 1]) == [(1, 3)]
    with pytest.raises(ValueError, match="Invalid workers value: 3; workers must be an integer >= 1 and <= 2"):
        CP.cpu_shares(3, [0, 1])


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--device", "cuda"], "this machine has no CUDA device"),
        (["--workers", "99"], "Invalid workers value: 99"),
        (["--executor", "kubernetes"], "invalid choice: 'kubernetes'"),
        (["--optimisers", "sgd,lion"], "expected a comma-separated list of sgd, adam, ballistic"),
    ],
)
def test_cli_refuses_bad_options_before_loading_anything(tmp_path, capsys, argv, match):
    if argv[:2] == ["--device", "cuda"] and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(SystemExit) as exit_info:
        main(["fig2e", "--out", str(tmp_path / "runs"), "--root", str(tmp_path / "nodata"), *argv])
    assert exit_info.value.code == 2 and match in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_cli_out_must_be_a_writable_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit):
        main(["fig2e", "--out", str(tmp_path / "file"), "--root", str(tmp_path / "nodata")])
    err = capsys.readouterr().err
    assert "Invalid --out value:" in err and "is a file; expected a folder" in err


@pytest.mark.parametrize("fault", ["empty out", "read-only out", "checkpoints file", "root file", "env root file"])
def test_cli_checks_every_output_and_data_location_before_anything_runs(tmp_path, capsys, monkeypatch, fault,
                                                                        request):  # fmt: skip
    """Issue 29: `--out ''` once wrote into the current directory, and a data root naming a file ended in a
    traceback or an impossible download hint. Each is now refused, named, before any data is loaded."""
    (tmp_path / "file").write_text("x")
    argv = ["fig2e", "--out", str(tmp_path / "runs"), "--checkpoints", str(tmp_path / "ck"), "--root",
            str(tmp_path / "nodata")]  # fmt: skip
    if fault == "empty out":
        argv[2], match = "", r"Invalid --out value: ''; expected a folder path"
    elif fault == "read-only out":
        argv[2] = str(request.getfixturevalue("read_only_folder") / "runs")
        match = r"Invalid --out value: .*read-only/runs is not writable"
    elif fault == "checkpoints file":
        argv[4], match = str(tmp_path / "file"), r"Invalid --checkpoints \(\$LOSSNAV_CHECKPOINTS\) value: .*is a file"
    elif fault == "root file":
        argv[6], match = str(tmp_path / "file" / "data"), r"Invalid --root value: .*file/data lies under the file"
    else:
        monkeypatch.setenv("LOSSNAV_DATA", str(tmp_path / "file"))
        argv, match = argv[:5], r"Invalid \$LOSSNAV_DATA value: .*file is a file; expected the data folder"
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and re.search(match, err), err
    assert "Traceback" not in err and "functions.download" not in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "read-only") == ["file"], "nothing written"


def test_real_model_cli_checks_out_and_root_before_any_solve(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for argv, match in ((["--out", ""], r"Invalid --out value: ''"),
                        (["--root", str(tmp_path / "file")], r"Invalid --root value: .*file is a file")):  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main(["real-model", "e0", "--out", str(tmp_path / "out"), *argv])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and re.search(match, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_dry_run_lists_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "runs"
    for cfg in panel_configs("mlp", "mnist", 3)[:2]:
        write_record(out, cfg, _fake_record(cfg))
    before = sorted(p.name for p in out.iterdir())
    main(["fig2e", "--dataset", "mnist", "--out", str(out), "--checkpoints", str(tmp_path / "ck"), "--dry-run"])
    text = capsys.readouterr().out
    assert "skip    mnist mlp sgd seed 0" in text and "run     mnist mlp ballistic seed 2" in text
    assert "2 to skip, 7 to run" in text
    assert sorted(p.name for p in out.iterdir()) == before and not (tmp_path / "ck").exists()


def test_too_little_free_disk_is_refused_before_any_data_is_loaded(tmp_path, capsys, monkeypatch):
    """A full disk is found before training (it would lose the hours since the last checkpoint): the CLI exits 2
    naming the folder, what is free and what the runs need; no data is loaded, nothing written. With just
    enough room the same campaign goes on to load its data."""
    import collections

    from functions import training

    def no_loading(*args, **kwargs):
        raise AssertionError("data loaded before the disk check")

    monkeypatch.setattr(training, "load_split", no_loading)
    cfgs = panel_configs("cnn", "cifar10", 1)
    need = sum(CP.run_disk_bytes(c) for c in cfgs) + CP.RECORD_BYTES * len(cfgs)  # one disk here: one sum
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(CP.shutil, "disk_usage", lambda path: usage(2 * need, need + 1, need - 1))
    argv = ["fig2f", "--dataset", "cifar10", "--seeds", "1", "--out", str(tmp_path / "runs"), "--checkpoints",
            str(tmp_path / "ck"), "--root", str(tmp_path / "nodata")]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert f"Invalid checkpoints value: {tmp_path / 'ck'} has {(need - 1) / 2**20:.0f} MiB free" in err
    assert f"the 3 run(s) to do need up to {need / 2**20:.0f} MiB there" in err and "nothing was run" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing written"
    monkeypatch.setattr(CP.shutil, "disk_usage", lambda path: usage(2 * need, need, need))
    with pytest.raises(AssertionError, match="data loaded before the disk check"):
        CP.run_campaign(cfgs, out_dir=tmp_path / "runs", checkpoints=tmp_path / "ck", root=tmp_path / "nodata")


def test_the_disk_bound_covers_each_models_checkpoints(tmp_path):
    """run_disk_bytes bounds (KEEP + 1) real checkpoints of the model (weights, every optimiser buffer, random
    states, the data order of 60,000 images), and is within 3x of Adam's, so that the check stays useful."""
    from functions import checkpoint as ckpt
    from functions.models import build_model
    from functions.optimisers import make_optimiser

    for model_name, dataset in (("mlp", "mnist"), ("cnn", "cifar10")):
        model = build_model(model_name).float()
        for opt_name in ("sgd", "adam", "ballistic"):
            cfg = RunConfig(dataset, model_name, opt_name)
            opt = make_optimiser(opt_name, model.parameters(), lr=1e-3)
            for p in model.parameters():
                p.grad = torch.ones_like(p)
            opt.step()
            payload = {"model": model.state_dict(), "optimiser": opt.state_dict(),
                       "perm": torch.randperm(60_000), "rng": ckpt.rng_state(torch.Generator()),
                       "train_loss": [1.0] * 25, "test_accuracy": [0.5] * 25}  # fmt: skip
            size = ckpt.save(tmp_path / f"{model_name}-{opt_name}", payload, epoch=0, batch=1).stat().st_size
            bound = CP.run_disk_bytes(cfg)
            assert (ckpt.KEEP + 1) * size <= bound, (model_name, opt_name, size)
            if opt_name == "adam":  # the largest state (two buffers): float32 checkpoints, a float64 bound
                assert bound <= 3 * (ckpt.KEEP + 1) * size, (model_name, size)


@FASHION
def test_a_small_run_never_replaces_the_protocols_record(tmp_path, capsys):
    """`fig2e --seeds 1 --epochs 1 --subset 256` writes its own names; a record of another configuration under the
    same name is refused (exit 2, nothing written) unless --force."""
    out = tmp_path / "runs"
    full = panel_configs("mlp", "fashion-mnist", 1)
    for cfg in full:
        write_record(out, cfg, _fake_record(cfg))
    committed = {p.name: p.read_bytes() for p in out.iterdir()}
    argv = ["fig2e", "--dataset", "fashion-mnist", "--seeds", "1", "--epochs", "1", "--subset", "256",
            "--test-subset", "100", "--out", str(out), "--checkpoints", str(tmp_path / "ck")]  # fmt: skip
    main(argv)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in committed} == committed, "untouched"
    assert sorted(set(p.name for p in out.iterdir()) - set(committed)) == [
        f"fashion-mnist_mlp_{o}_ep1_sub256_test100_seed0.json" for o in ("adam", "ballistic", "sgd")
    ]
    # an edited record under one of those names: refused before any training, then replaced with --force
    small = panel_configs("mlp", "fashion-mnist", 1, epochs=1, subset=256, test_subset=100)[0]
    path = record_path(out, small)
    edited = json.loads(path.read_text())
    edited["config"]["batch_size"] = 64
    path.write_text(json.dumps(edited))
    snapshot = path.read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "nothing was run" in err and "--force" in err
    assert path.read_bytes() == snapshot
    main([*argv, "--force"])
    assert load_record(path, small)["config"]["batch_size"] == 128


@FASHION
def test_local_workers_equal_one_thread_in_process(tmp_path):
    """Two workers, each pinned to one core with one thread, write the records a 1-thread run writes."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 cores")
    rows = CP.run_campaign(TINY, out_dir=tmp_path / "pool", checkpoints=tmp_path / "ck", workers=2)
    assert [r["action"] for r in rows] == ["run", "run"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for cfg in TINY:
            train_run(cfg, progress=False, log=None, out_dir=tmp_path / "alone")
    finally:
        torch.set_num_threads(threads)
    for cfg in TINY:
        rec, ref = (load_record(record_path(tmp_path / d, cfg), cfg) for d in ("pool", "alone"))
        assert result_fields(rec) == result_fields(ref) and rec["threads"] == 1
    again = CP.run_campaign(TINY, out_dir=tmp_path / "pool", checkpoints=tmp_path / "ck", workers=2)
    assert [r["action"] for r in again] == ["skip", "skip"], "complete runs are not run again"


@SLURM
@FASHION
def test_slurm_records_equal_the_local_executors(tmp_path):
    start = time.perf_counter()
    CP.run_campaign(TINY, out_dir=tmp_path / "slurm", checkpoints=tmp_path / "ck-slurm", executor="slurm",
                    slurm=CP.SlurmOptions(log_dir=str(tmp_path / "jobs"), time_min=5, wait_s=600))  # fmt: skip
    print(f"SLURM campaign of {len(TINY)} runs: {time.perf_counter() - start:.1f} s")
    one_core_each = len(os.sched_getaffinity(0))
    CP.run_campaign(TINY, out_dir=tmp_path / "local", checkpoints=tmp_path / "ck-local", workers=one_core_each)
    for cfg in TINY:
        a = load_record(record_path(tmp_path / "slurm", cfg), cfg)
        b = load_record(record_path(tmp_path / "local", cfg), cfg)
        assert result_fields(a) == result_fields(b) and a["threads"] == b["threads"] == 1


@SLURM
@FASHION
def test_a_preempted_slurm_job_requeues_and_finishes_with_the_same_result(tmp_path):
    cfg = RunConfig("fashion-mnist", "mlp", "ballistic", epochs=4, subset=8192, test_subset=500)
    ids, lines = [], []

    def log(line):
        lines.append(line)
        if line.startswith("submitted"):
            ids.extend(line.split(": ")[1].split(" (")[0].split(", "))

    def preempt():
        deadline = time.monotonic() + 120
        while not list((tmp_path / "ck").glob("*/e1-b*.pt")) and time.monotonic() < deadline:
            time.sleep(0.02)
        subprocess.run(["scancel", "--signal=USR2", ids[0]], check=True)  # what SLURM sends before a time limit

    signaller = threading.Thread(target=preempt, daemon=True)
    signaller.start()
    CP.run_campaign([cfg], out_dir=tmp_path / "slurm", checkpoints=tmp_path / "ck", executor="slurm",
                    slurm=CP.SlurmOptions(log_dir=str(tmp_path / "jobs"), time_min=5, wait_s=600), log=log)  # fmt: skip
    signaller.join(timeout=5)
    job_log = "".join(p.read_text() for p in (tmp_path / "jobs").glob("*_log.out"))
    assert "signal 12, checkpointed at epoch" in job_log or "epoch 1/4" in job_log
    assert "Requeued job" in job_log and "resuming at epoch" in job_log, job_log
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_run(cfg, progress=False, log=None, out_dir=tmp_path / "ref")
    finally:
        torch.set_num_threads(threads)
    slurm, ref = (load_record(record_path(tmp_path / d, cfg), cfg) for d in ("slurm", "ref"))
    assert result_fields(slurm) == result_fields(ref)


def test_fig4e_honours_test_subset_and_every_option_reaches_the_runs(tmp_path, capsys):
    main(["fig4e", "--dataset", "mnist", "--seeds", "1", "--subset", "256", "--test-subset", "100", "--optimisers",
          "sgd", "--out", str(tmp_path / "runs"), "--checkpoints", str(tmp_path / "ck"), "--dry-run"])  # fmt: skip
    text = capsys.readouterr().out
    assert "run     mnist mlp sgd lr0.001 ep1 sub256 test100 seed 0" in text and "19 to run" in text
    assert not (tmp_path / "runs").exists()
