"""The real-model pipeline end to end at d = 510 (E0 on the MNIST copy beside the repository when present, else
on generated files in the official format, so it never skips), its record, and its command line."""

import json
import pathlib

import numpy as np
import pytest

from functions import data as D
from functions import real_model_runs as R
from functions.experiments import main as experiments_main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _mnist_root(tmp_path, monkeypatch):
    """The real MNIST (../shared/data or data/), else generated class-structured IDX files with their checksums."""
    for root in (ROOT.parent / "shared" / "data", ROOT / "data"):
        if (root / "mnist").is_dir():
            return root, "real"
    import gzip

    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for train, n in ((True, 600), (False, 100)):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        centres = rng.integers(0, 256, size=(10, 28, 28))
        images = np.clip(centres[labels] + rng.normal(0, 40, size=(n, 28, 28)), 0, 255).astype(np.uint8)
        for kind, arr, magic in (("images", images, 0x803), ("labels", labels, 0x801)):
            head = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
            (folder / D.IDX_FILES[(train, kind)]).write_bytes(gzip.compress(head + arr.tobytes(), mtime=0))
    monkeypatch.setitem(D.CHECKSUMS, "mnist", {name: D.content_md5(folder / name) for name in D.CHECKSUMS["mnist"]})
    return tmp_path, "generated"


def test_e0_pipeline_at_d_510_writes_a_record_whose_criteria_are_computed(tmp_path, monkeypatch):
    root, kind = _mnist_root(tmp_path, monkeypatch)
    out = tmp_path / "out"
    experiments_main(["real-model", "e0", "--components", "50", "--points", "64", "--root", str(root),
                      "--out", str(out), "--subset", "3000"])  # fmt: skip
    record = json.loads(R.record_path("e0", 510, 1e-4, out).read_text())
    assert record["config"]["dim"] == 510 and record["config"]["subset"] == 3000, kind
    assert len(record["cases"]) == R.N_GAMMAS
    gammas = [c["gamma"] for c in record["cases"]]
    assert gammas[0] == pytest.approx(0.01) and gammas[-1] == pytest.approx(
        100 * record["model"]["lambda_max"] ** 0.5, rel=1e-3
    )
    for case in record["cases"]:
        assert case["J_gap"] >= -1e-12 and case["residual"] <= 1e-6 and case["rel_L2"] < 1e-2
        assert case["holds"]["rel_L2"] == (case["rel_L2"] <= 1e-4)
    assert record["model"]["grad_max"] <= 1e-10
    assert record["all_hold"] == all(all(c["holds"].values()) for c in record["cases"])


def test_e1_pipeline_writes_per_mode_rates_and_criteria_computed_from_them(tmp_path, monkeypatch):
    root, kind = _mnist_root(tmp_path, monkeypatch)
    out = tmp_path / "out"
    monkeypatch.setitem(R.E1_CONFIG, "n_gammas", 3)
    experiments_main(["real-model", "e1", "--points", "64", "--root", str(root), "--out", str(out),
                      "--subset", "2000"])  # fmt: skip
    record = json.loads(R.record_path("e1", 510, 1e-4, out).read_text())
    assert [c["start"] for c in record["cases"]] == ["zero", "near"] * 3, kind
    assert [r["n_points"] for r in record["refined"]] == [128] * 4
    h = np.array(record["h"])
    assert h.shape == (510,) and np.all(np.diff(h) >= 0)
    for case in record["cases"]:
        rate = np.array([np.nan if v is None else v for v in case["rate"]])
        ok = np.isfinite(rate)
        assert ok.sum() == case["n_fitted"] >= 3
        r = R.rates(h[ok], case["gamma"], 1.0, 1.0)
        # The stored summaries are those of the stored per-mode rates (h, gamma and rates kept to 4 digits).
        assert case["rate_median_rel"] == pytest.approx(np.median(np.abs(rate[ok] / r - 1)), abs=5e-4)
        assert case["slope_predicted"] == pytest.approx(np.polyfit(np.log(h[ok]), np.log(r), 1)[0], rel=1e-3)
        lo, hi = case["slope_interval"]
        assert lo <= case["slope"] <= hi
        assert case["holds"]["slope"] == (abs(case["slope"] - case["slope_predicted"]) <= R.E1_CRITERIA["slope_gap"])
        assert case["holds"]["decades"] == (case["decades"] >= R.E1_CRITERIA["min_decades"])
        assert case["residual"] <= 1e-6
    # theta0 = 0 never moves softmax's null space (51 directions at h = lambda): those modes are not fitted.
    zero = record["cases"][0]
    assert sum(v is None for v in zero["rate"][:51]) == 51


def test_missing_record_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="real-model e0 --components none --lam 0.001"):
        R.load_real_model_record("e0", 7850, 1e-3, tmp_path)


@pytest.mark.parametrize(
    ("argv", "match"),
    [(["e9"], "invalid choice"), (["e0", "--components", "0"], "1 .. 784"), (["e0", "--lam", "-1"], "> 0"),
     (["e0", "--points", "3"], ">= 8"),
     (["e0", "--subset", "0"], "argument --subset: 0 is out of range; it must be an integer >= 1"),
     (["e1", "--components", "all"], "'all': expected an integer in 1 .. 784, or none (all pixels)"),
     (["e0", "--lam", "inf"], "inf is out of range; it must be a finite number > 0")],
)  # fmt: skip
def test_bad_arguments_are_refused_before_any_work(monkeypatch, capsys, argv, match):
    monkeypatch.setattr(R, "mnist_logistic", lambda *a, **k: pytest.fail("loaded data despite a bad argument"))
    with pytest.raises(SystemExit):
        experiments_main(["real-model", *argv])
    assert match in capsys.readouterr().err
