"""The README's generated tables equal what results/ gives (tests/readme_tables.py), and the generator would
notice a changed number."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import readme_tables  # noqa: E402


def test_the_readme_tables_are_generated_from_results():
    assert readme_tables.main(["--check"]) == 0, "run: python tests/readme_tables.py"


def test_a_changed_result_changes_the_table():
    fig2 = json.loads((ROOT / "results" / "fig2.json").read_text())
    before = readme_tables.training_table(fig2)
    fig2["numbers"]["training_e"]["adam"]["final_test_accuracy"][0] += 0.01
    claim = fig2["numbers"]["claims_f"]
    claim["ballistic_close_to_adam"] = not claim["ballistic_close_to_adam"]
    after = readme_tables.training_table(fig2)
    assert "0.989 ± 0.001 (0.980)" in after and "0.989" not in before
    change = 1 if not claim["ballistic_close_to_adam"] else -1
    assert after.count("does **not** hold") == before.count("does **not** hold") + change


def test_a_missing_block_is_an_error():
    with pytest.raises(ValueError, match="no block <!-- generated: training -->"):
        readme_tables.render("no markers here", {"training": "x"})


def test_the_performance_table_is_made_from_the_benchmark_reports(tmp_path):
    """Every benchmark script has a report in the table's list; a report's numbers, rows and conditions reach
    the table; a missing report names the command that writes it; bad rows are refused before writing."""
    sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
    import _report

    scripts = {p.stem for p in (ROOT / "tests" / "benchmarks").glob("*.py") if not p.stem.startswith("_")}
    named = {name.rsplit("_t", 1)[0].removesuffix("_cpu") for name in readme_tables.BENCHMARKS}
    assert named == scripts, "each script in tests/benchmarks/ reports into the README's table"
    for name in readme_tables.BENCHMARKS:
        _report.write_report(name, [(f"{name} what", f"{name} measured 1.23 ms")], {"x": 1.234567}, out_dir=tmp_path)
    stored = json.loads((tmp_path / "bench_least_action.json").read_text())
    assert stored["numbers"] == {"x": 1.235} and stored["conditions"]["cores"] >= 1, "4 digits; the machine"
    rows = readme_tables.benchmark_rows(tmp_path)
    assert [m for _, m in rows] == [f"{n} measured 1.23 ms" for n in readme_tables.BENCHMARKS]
    what = dict((m, w) for w, m in rows)["bench_cnn_throughput_t2 measured 1.23 ms"]
    threads = stored["conditions"]["torch_threads"]
    assert what.startswith("bench_cnn_throughput_t2 what (`bench_cnn_throughput.py`; ") and f"{threads} torch" in what
    (tmp_path / "bench_explorers.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"bench_explorers.json not found: run `make benchmark`"):
        readme_tables.benchmark_rows(tmp_path)
    with pytest.raises(ValueError, match="Invalid rows value"):
        _report.write_report("bench_explorers", [("what", "")], {}, out_dir=tmp_path)
    assert not (tmp_path / "bench_explorers.json").exists()


def test_the_record_rows_read_the_records(tmp_path):
    """The CNN epoch time is the record's wall time over its epochs; GPU records are counted."""
    shutil.copytree(ROOT / "results" / "real_model", tmp_path / "real_model")
    (tmp_path / "training" / "lr_sweep").mkdir(parents=True)
    record = {"optimiser": "adam", "dataset": "cifar10-jpeg", "epochs": [1, 2, 3, 4], "device": "cuda",
              "threads": 1, "memory_format": "channels_last", "wall_time_s": 100.0}  # fmt: skip
    (tmp_path / "training" / "cifar10-jpeg_cnn_adam_seed0.json").write_text(json.dumps(record))
    rows = dict(readme_tables.record_rows(tmp_path))
    assert any(m == "adam (4 epochs, cuda, 1 thread, channels-last): 25 s per epoch" for m in rows.values())
    assert rows["CUDA timings"] == "1 of the 1 training records ran on a GPU"


def test_busy_cores_sees_a_program_spinning_on_one_core():
    """The 'idle' of the table's conditions is measured, not assumed: one spinning process is one busy core."""
    sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
    import _report

    assert 0.0 <= _report.busy_cores(0.05) <= os.cpu_count() + 1e-9
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert _report.busy_cores(0.5) >= 0.7
    finally:
        spin.kill()
        spin.wait()
