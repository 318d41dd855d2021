"""The benchmark's tuning study: quasi-random trials inside each space, the best trial's choice, resuming a killed
study without repeating or changing a finished trial (a real process, SIGKILLed), and records of another
configuration refused before anything runs."""

import json
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from test_campaign import SLURM

from functions import bench_study as S
from functions.bench_records import ForeignRecordError
from functions.bench_rules import SPACES
from functions.experiments import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: What a trial's record holds besides timings (which vary with the machine's load) and the code version.
TIMES = {"wall_time_s", "time_to_target_s", "step_time_s", "code_version"}


def _results(folder) -> dict:
    out = {}
    for path in sorted(pathlib.Path(folder).rglob("*.json")):
        rec = json.loads(path.read_text())
        rec["curve"].pop("train_time_s")
        out[path.relative_to(folder).as_posix()] = {k: v for k, v in rec.items() if k not in TIMES}
    return out


def test_sobol_points_fill_each_space_reproducibly_and_extend_as_a_prefix():
    pts = S.sobol_points("adamw", 16, sobol_seed=0)
    assert pts == S.sobol_points("adamw", 16, sobol_seed=0) and pts != S.sobol_points("adamw", 16, sobol_seed=1)
    assert S.sobol_points("adamw", 5) == pts[:5], "more trials extend the same sequence"
    for hp in pts:
        assert set(hp) == set(SPACES["adamw"]) and all(SPACES["adamw"][k].contains(v) for k, v in hp.items())
        assert all(float(f"{v:.6g}") == v for v in hp.values()), "stored as run"
    lrs = sorted(hp["lr"] for hp in pts)  # log-uniform: each of the 4 decades of [1e-5, 1e-1] gets 4 of 16
    assert [sum(10**k <= x < 10 ** (k + 1) for x in lrs) for k in range(-5, -1)] == [4, 4, 4, 4]


def test_the_best_trial_reaches_the_target_soonest_then_has_the_best_final_metric():
    def rec(steps, acc):
        return {"steps_to_target": steps, "final": {"val_accuracy": acc, "val_loss": 1.0}}

    trials = [("a", rec(None, 0.99)), ("b", rec(300, 0.93)), ("c", rec(200, 0.92)), ("d", rec(200, 0.95))]
    assert S.best_trial(trials, "mlp_mnist")[0] == "d"
    assert S.best_trial([("a", rec(None, 0.90)), ("b", rec(None, 0.91))], "mlp_mnist")[0] == "b"
    loss = [("a", {"steps_to_target": None, "final": {"val_loss": 0.2}}),
            ("b", {"steps_to_target": None, "final": {"val_loss": 0.1}})]  # fmt: skip
    assert S.best_trial(loss, "noisy_quadratic")[0] == "b", "a loss target: smaller is better"


def test_a_study_writes_every_trial_reruns_the_best_with_its_seeds_and_skips_what_is_done(tmp_path):
    lines = []
    protocol = S.Protocol(n_trials=4, n_seeds=2)
    study = S.run_study(
        ["noisy_quadratic"], ["sgd", "ballistic"], out_dir=tmp_path, protocol=protocol, log=lines.append
    )
    for rule in ("sgd", "ballistic"):
        entry = study["noisy_quadratic"][rule]
        assert [n for n, _ in entry["trials"]] == ["trial-00", "trial-01", "trial-02", "trial-03"]
        assert entry["best"] == S.best_trial(entry["trials"], "noisy_quadratic")[0]
        best_hp = dict(entry["trials"])[entry["best"]]["config"]["hyperparameters"]
        assert [r["config"]["seed"] for r in entry["seeds"]] == [1, 2]
        assert all(r["config"]["hyperparameters"] == best_hp for r in entry["seeds"])
        assert len(list((tmp_path / "noisy_quadratic" / rule).glob("*.json"))) == 6
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.json")}
    lines.clear()
    S.run_study(["noisy_quadratic"], ["sgd", "ballistic"], out_dir=tmp_path, protocol=protocol, log=lines.append)
    assert "tuning: 8 trial(s) done, 0 to run" in lines and "noisy_quadratic seeds: 4 run(s) done, 0 to run" in lines
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.json")} == before, "nothing rerun or rewritten"


def test_a_record_of_another_configuration_is_refused_before_anything_runs(tmp_path, capsys):
    argv = ["benchmark", "--workloads", "noisy_quadratic", "--rules", "sgd", "--trials", "2", "--seeds", "1",
            "--out", str(tmp_path)]  # fmt: skip
    main(argv)
    folder = tmp_path / "noisy_quadratic" / "sgd"
    path = folder / "trial-01.json"
    edited = json.loads(path.read_text())
    edited["config"]["workload"]["steps"] = 10  # a record of another step budget under the same name
    path.write_text(json.dumps(edited))
    (folder / "seed-1.json").unlink()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "trial-01.json is a record of another configuration" in err
    assert "workload.steps: stored 10, expected 2000" in err and "--force" in err
    assert not (folder / "seed-1.json").exists(), "refused before running anything"
    with pytest.raises(ForeignRecordError):
        S.run_study(["noisy_quadratic"], ["sgd"], out_dir=tmp_path, protocol=S.Protocol(n_trials=2, n_seeds=1))
    main([*argv, "--force"])
    assert json.loads(path.read_text())["config"]["workload"]["steps"] == 2000 and (folder / "seed-1.json").exists()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--workloads", "imagenet"], "unknown: imagenet"),
        (["--rules", "sgd,sgd"], "distinct"),
        (["--trials", "0"], "--trials: 0 is out of range"),
        (["--out", ""], "out"),
    ],
)
def test_bad_options_are_refused_before_any_data_is_loaded(tmp_path, capsys, argv, match):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--root", str(tmp_path / "nodata"), *argv])
    assert exit_info.value.code == 2 and match in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _cli(out) -> list[str]:
    return [sys.executable, "-m", "functions.experiments", "benchmark", "--workloads", "noisy_quadratic", "--rules",
            "sgd,ballistic", "--trials", "4", "--seeds", "2", "--out", str(out)]  # fmt: skip


def test_a_killed_study_resumes_without_repeating_or_changing_a_finished_trial(tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(out.rglob("*.json"))) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    kept = {p: p.read_bytes() for p in out.rglob("*.json")}
    assert 3 <= len(kept) < 12, f"killed mid-study ({len(kept)} of 12 records)"
    resumed = subprocess.run(_cli(out), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"tuning: {min(len(kept), 8)} trial(s) done" in resumed.stdout
    assert {p: p.read_bytes() for p in kept} == kept, "finished trials untouched"
    subprocess.run(_cli(tmp_path / "whole"), cwd=ROOT, check=True, capture_output=True, timeout=600)
    assert _results(out) == _results(tmp_path / "whole")


def test_a_finished_study_loads_from_its_records_alone_and_a_missing_one_names_the_command(tmp_path):
    protocol = S.Protocol(n_trials=2, n_seeds=1)
    ran = S.run_study(["noisy_quadratic"], ["sgd"], out_dir=tmp_path, protocol=protocol, log=lambda line: None)
    assert S.load_study(["noisy_quadratic"], ["sgd"], out_dir=tmp_path, protocol=protocol) == ran
    assert S.seed_records(ran) == {"noisy_quadratic": {"sgd": ran["noisy_quadratic"]["sgd"]["seeds"]}}
    (tmp_path / "noisy_quadratic" / "sgd" / "seed-1.json").unlink()
    with pytest.raises(FileNotFoundError, match="seed-1.json missing: run `python -m functions.experiments benchmark"):
        S.load_study(["noisy_quadratic"], ["sgd"], out_dir=tmp_path, protocol=protocol)


def test_each_workload_is_finished_tuning_then_seeds_before_the_next_starts(tmp_path, monkeypatch):
    order = []

    def fake(job):
        _, name, trial, _ = job
        order.append((trial.workload, name))
        return {"config": trial.config(), "steps_to_target": None, "final": {"val_loss": 1.0, "val_accuracy": 0.5}}

    monkeypatch.setattr(S, "_execute", fake)
    S.run_study(["noisy_quadratic", "logreg_mnist"], ["sgd"], out_dir=tmp_path,
                protocol=S.Protocol(n_trials=2, n_seeds=1), log=lambda line: None)  # fmt: skip
    names = ("trial-00", "trial-01", "seed-1")
    assert order == [(w, n) for w in ("noisy_quadratic", "logreg_mnist") for n in names]


def test_an_unknown_executor_is_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(ValueError, match="executor"):
        S.run_study(["noisy_quadratic"], ["sgd"], out_dir=tmp_path, executor="cloud")
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--executor", "cloud", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "invalid choice: 'cloud'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@SLURM
def test_a_study_on_slurm_writes_the_records_a_local_study_writes(tmp_path):
    from functions.campaign import SlurmOptions

    protocol = S.Protocol(n_trials=3, n_seeds=1)
    lines = []
    S.run_study(["noisy_quadratic"], ["sgd", "ballistic"], out_dir=tmp_path / "slurm", protocol=protocol,
                executor="slurm", slurm=SlurmOptions(log_dir=str(tmp_path / "jobs"), time_min=5, wait_s=600),
                log=lines.append)  # fmt: skip
    assert any(line.startswith("submitted 6 SLURM job(s)") for line in lines), lines
    S.run_study(["noisy_quadratic"], ["sgd", "ballistic"], out_dir=tmp_path / "local", protocol=protocol,
                log=lambda line: None)  # fmt: skip
    assert _results(tmp_path / "slurm") == _results(tmp_path / "local") and len(_results(tmp_path / "local")) == 8
