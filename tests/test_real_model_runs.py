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
    for train, n in ((True, 4000), (False, 500)):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        centres = rng.integers(0, 256, size=(10, 28, 28))
        images = np.clip(centres[labels] + rng.normal(0, 40, size=(n, 28, 28)), 0, 255).astype(np.uint8)
        flip = rng.random(n) < 0.1  # label noise: not separable, so the minimiser and its curvature are moderate
        labels = np.where(flip, rng.integers(0, 10, size=n), labels).astype(np.uint8)
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


def test_refine_grid_halves_every_step_and_keeps_the_nodes():
    t = np.array([0.0, 1.0, 3.0, 7.0])
    np.testing.assert_array_equal(R.refine_grid(t), [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0])


def test_e2_case_on_a_quadratic_model_measures_the_gaps_to_the_exact_optimum():
    """On a quadratic model the optimal path is known (``lq.free_end_lq``): the gaps e2_case reports equal the gaps
    of its flows to the exact path within its own floor, and the floor bounds the fine path's true error."""
    from functions.gd_limit import gradient_flow, modified_coefficient
    from functions.landscapes import QuadraticModel
    from functions.lq import free_end_lq

    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    h = np.geomspace(1e-2, 1.0, 6)
    H = (Q * h) @ Q.T
    H = (H + H.T) / 2
    star = rng.standard_normal(6)
    config = {**R.E2_CONFIG, "eta": 0.5, "k": 2.0}
    gamma = 3.0
    row = R.e2_case(QuadraticModel(H, star), star, (h, Q), gamma, n_points=96, config=config)
    T, t = R.horizon_grid(R.rates(h, gamma, 0.5, 2.0), 96)
    fine = R.refine_grid(t)
    exact = free_end_lq(H, star, np.zeros(6), T, gamma, 0.5, 2.0)(fine)
    scale = np.linalg.norm(star)
    for name, c in (("gf", 0.0), ("modified", modified_coefficient(gamma, 0.5, 2.0))):
        flow = gradient_flow(QuadraticModel(H, star), np.zeros(6), fine, 1.0 / gamma, correction=c)
        true_gap = np.max(np.linalg.norm(exact - flow, axis=1)) / scale
        assert row[f"gap_{name}"] == pytest.approx(true_gap, abs=2 * row["floor"])
    assert row["gap_modified"] < row["gap_gf"] / 3
    # The floor estimates the fine path's own error (Richardson, second-order rule): check it against the truth.
    from functions.newton_krylov import solve_path
    from functions.objective import Problem

    solved = solve_path(Problem(QuadraticModel(H, star), gamma=gamma, eta=0.5, k=2.0), np.zeros(6), T, t=fine,
                        curvature=(h, Q))  # fmt: skip
    true_error = np.max(np.linalg.norm(solved.theta - exact, axis=1)) / scale
    assert true_error / 2 < row["floor"] < 2 * true_error
    assert row["T"] == pytest.approx(T) and row["n_fine"] == 191 and row["residual"] <= 1e-6


def test_e2_summary_fits_the_slopes_and_counts_only_gaps_above_the_floor():
    m = np.array([2.0, 3.0, 4.0, 6.0, 8.0])
    g = 0.5 * m
    cases = [{"gamma": gi, "gap_gf": 0.1 * gi**-2.0, "gap_modified": 0.05 * gi**-4.0, "floor": 3e-5,
              "residual": 1e-9} for gi in g]  # fmt: skip
    s = R.e2_summary(cases, m)
    assert s["gf_slope"] == pytest.approx(-2.0) and s["n_fit"] == 4
    # gap_modified >= 10 x 3e-5 only where 0.05 g^-4 >= 3e-4: g <= 3.6, i.e. m = 3, 4, 6 (m = 2 is below fit_from).
    assert s["n_measurable"] == 3 and s["modified_slope"] == pytest.approx(-4.0)
    assert s["holds"] == {"gf_slope": True, "modified_below": True, "modified_slope": True, "residual": True}
    high = [{**c, "floor": 1e-3} for c in cases]
    s = R.e2_summary(high, m)
    assert s["modified_slope"] is None and not s["holds"]["modified_slope"], "too few gammas above the floor"
    flat = [{**c, "gap_gf": 0.1 * c["gamma"] ** -1.5, "residual": 1e-5} for c in cases]
    s = R.e2_summary(flat, m)
    assert s["gf_slope"] == pytest.approx(-1.5) and not s["holds"]["gf_slope"] and not s["holds"]["residual"]
    crossed = [{**c, "gap_modified": c["gap_gf"] * 1.01} for c in cases]
    assert not R.e2_summary(crossed, m)["holds"]["modified_below"]


def test_e2_pipeline_writes_gaps_floors_and_a_summary_computed_from_them(tmp_path, monkeypatch):
    root, kind = _mnist_root(tmp_path, monkeypatch)
    out = tmp_path / "out"
    monkeypatch.setenv("LOSSNAV_CHECKPOINTS", str(tmp_path / "ck"))
    monkeypatch.setitem(R.E2_CONFIG, "multiples", [3.0, 6.0, 12.0])
    experiments_main(["real-model", "e2", "--components", "10", "--points", "64", "--root", str(root), "--out",
                      str(out), "--subset", "500"])  # fmt: skip
    record = json.loads(R.record_path("e2", 110, 1e-4, out).read_text())
    assert record["config"]["multiples"] == [3.0, 6.0, 12.0] and record["config"]["n_points"] == 64, kind
    model = record["model"]
    assert model["Lambda"] == max(model["lambda_max_start"], model["lambda_max_star"]) > 0
    unit = model["Lambda"] ** 0.5
    assert [c["gamma"] for c in record["cases"]] == pytest.approx([3 * unit, 6 * unit, 12 * unit], rel=1e-3)
    for case in record["cases"]:
        assert case["n_fine"] == 127 and case["residual"] <= 1e-6 and case["floor"] > 0
        assert case["gap_modified"] < case["gap_gf"] < 0.1
    gf = [c["gap_gf"] for c in record["cases"]]
    assert gf[1] < gf[0] / 3 and gf[2] < gf[1] / 3, "gamma doubles: gradient flow's gap falls about 4-fold"
    stored = R.e2_summary(record["cases"], record["config"]["multiples"])
    assert stored["holds"] == record["summary"]["holds"]
    assert record["summary"]["gf_slope"] == pytest.approx(stored["gf_slope"], abs=1e-3)
    # Every finished case was kept: a rerun with the same arguments solves nothing and gives the same cases.
    assert R.e2_partial_path(10, 1e-4, 64, 500).parent == tmp_path / "ck" / "real_model"
    monkeypatch.setattr(R, "e2_case", lambda *a, **k: pytest.fail("solved a case that was kept"))
    again = R.e2_record(10, 1e-4, 64, root=root, subset=500)
    assert again["cases"] == json.loads(R.e2_partial_path(10, 1e-4, 64, 500).read_text())["cases"]
    assert again["summary"]["holds"] == record["summary"]["holds"]
    assert [c["gap_gf"] for c in again["cases"]] == pytest.approx(gf, rel=1e-3)


def _e3_case(gamma, regrets, alpha):
    learners = {key: {"regret": r, "constants": {"alpha": alpha} if key == "gf" else {}} for key, r in regrets.items()}
    return {"gamma": gamma, "learners": learners}


def test_e3_summary_computes_each_criterion_from_the_regrets():
    cases = [_e3_case(0.01, {"gf": 2.0, "heavy_ball": 1.5, "ballistic": 0.5, "adam": 0.6}, 30.0),
             _e3_case(1.0, {"gf": 0.1, "heavy_ball": 0.05, "ballistic": 0.2, "adam": 0.3}, 0.9),
             _e3_case(10.0, {"gf": 0.004, "heavy_ball": 0.004, "ballistic": 0.3, "adam": 0.4}, 0.102)]  # fmt: skip
    s = R.e3_summary(cases)
    assert s["holds"] == dict.fromkeys(s["holds"], True)
    assert s["best"] == ["ballistic", "heavy_ball", "gf"] and s["gf_rate_over_eta_k_by_gamma"] == pytest.approx(1.02)
    assert s["regret"]["adam"] == [0.6, 0.3, 0.4]
    broken = [_e3_case(c["gamma"], {k: v["regret"] for k, v in c["learners"].items()}, 0.102) for c in cases]
    broken[1]["learners"]["adam"]["regret"] = -1e-5
    broken[0]["learners"]["ballistic"]["regret"] = 2.5
    broken[2]["learners"]["gf"]["regret"] = 0.2  # above the middle gamma's: no longer falling, nor <= 0.01
    broken[2]["learners"]["heavy_ball"]["regret"] = 0.3
    s = R.e3_summary(broken)
    assert s["holds"] == {"regret_nonnegative": False, "gf_limit": False, "gf_falls": False,
                          "heavy_ball_at_most_gf": False, "ballistic_beats_gf_far_sighted": False,
                          "adam_beats_gf_far_sighted": True}  # fmt: skip
    off_rate = [*cases[:2], _e3_case(10.0, {"gf": 0.004, "heavy_ball": 0.004, "ballistic": 0.3, "adam": 0.4}, 0.11)]
    assert not R.e3_summary(off_rate)["holds"]["gf_limit"], "tuned rate 10 % above eta k / gamma"


def test_e3_pipeline_tunes_every_learner_and_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    root, kind = _mnist_root(tmp_path, monkeypatch)
    out = tmp_path / "out"
    monkeypatch.setenv("LOSSNAV_CHECKPOINTS", str(tmp_path / "ck"))
    monkeypatch.setitem(R.E3_CONFIG, "multiples", [0.1, 10.0])
    monkeypatch.setitem(R.E3_CONFIG, "budget", {"gf": 3, "heavy_ball": 3, "ballistic": 3, "adam": 4})
    experiments_main(["real-model", "e3", "--components", "5", "--points", "32", "--root", str(root), "--out",
                      str(out), "--subset", "300"])  # fmt: skip
    record = json.loads(R.record_path("e3", 60, 1e-4, out).read_text())
    assert record["config"]["subset"] == 300 and record["config"]["budget"]["gf"] == 3, kind
    for case in record["cases"]:
        assert case["residual"] <= 1e-6 and case["J_star"] > 0
        assert len(case["curves"]["t"]) == 9 and case["curves"]["t"][-1] == pytest.approx(case["T"], rel=1e-3)
        for key, row in case["learners"].items():
            assert row["regret"] >= -1e-6 and row["n_evals"] <= record["config"]["budget"][key] + 1
            # J, J* and the regret are stored to 7 digits
            assert row["regret"] == pytest.approx(row["J"] / case["J_star"] - 1, rel=1e-5, abs=1e-6)
            assert len(case["curves"][key]["loss"]) == 9 and min(case["curves"][key]["loss"]) >= -1e-9
    assert record["summary"]["holds"] == R.e3_summary(record["cases"], record["config"])["holds"]
    # Every tuned family was kept: a rerun with the same arguments tunes nothing and gives the same record.
    monkeypatch.setattr(R, "tune_learner", lambda *a, **k: pytest.fail("tuned a family that was kept"))
    again = R.e3_record(5, 1e-4, 32, root=root, subset=300)
    for a, b in zip(again["cases"], record["cases"], strict=True):
        assert {k: v["regret"] for k, v in a["learners"].items()} == pytest.approx(
            {k: v["regret"] for k, v in b["learners"].items()}, rel=1e-3, abs=1e-9
        )


def test_e4_summary_pools_the_cosines_and_computes_each_criterion():
    rng = np.random.default_rng(0)
    level = {"exact": 0.97, "diagonal": 0.8, "ballistic": 0.78, "adam": 0.7, "gradient": 0.3}
    cases = [{"cosines": {"t": list(range(40)), **{d: list(v + 0.01 * rng.standard_normal(40))
                                                   for d, v in level.items()}}} for _ in range(5)]  # fmt: skip
    s = R.e4_summary(cases)
    assert s["n_steps"] == 200 and len(s["per_start_median"]["exact"]) == 5
    assert s["pooled"]["exact"]["median"] == pytest.approx(0.97, abs=0.005)
    assert s["pooled"]["exact"]["q25"] < 0.97 < s["pooled"]["exact"]["q75"]
    assert s["holds"] == dict.fromkeys(s["holds"], True)
    for d, bad in (("diagonal", 0.99), ("ballistic", 0.72), ("exact", 0.85)):  # diagonal 0.99: exact not best
        shifted = [{"cosines": {**c["cosines"], d: [v - level[d] + bad for v in c["cosines"][d]]}} for c in cases]
        holds = R.e4_summary(shifted)["holds"]
        expected = {"diagonal": {"exact_best", "ballistic_is_diagonal"}, "ballistic": {"ballistic_is_diagonal"},
                    "exact": {"exact_close"}}[d]  # fmt: skip
        assert {k for k, v in holds.items() if not v} == expected, d


def test_e4_pipeline_reads_cosines_along_solved_paths_and_resumes(tmp_path, monkeypatch):
    root, kind = _mnist_root(tmp_path, monkeypatch)
    out = tmp_path / "out"
    monkeypatch.setenv("LOSSNAV_CHECKPOINTS", str(tmp_path / "ck"))
    monkeypatch.setitem(R.E4_CONFIG, "delta_seeds", [1])
    monkeypatch.setitem(R.E4_CONFIG, "every", 4)
    experiments_main(["real-model", "e4", "--components", "5", "--points", "48", "--root", str(root), "--out",
                      str(out), "--subset", "300"])  # fmt: skip
    record = json.loads(R.record_path("e4", 60, 1e-4, out).read_text())
    assert [c["start"] for c in record["cases"]] == ["zero", "near1"], kind
    assert record["model"]["gamma"] == pytest.approx(0.1 * record["model"]["lambda_min"] ** 0.5, rel=1e-3)
    for case in record["cases"]:
        assert case["residual"] <= 1e-6 and max(case["cosines"]["t"]) <= case["T"] / 2
        for d in ("exact", "diagonal", "ballistic", "adam", "gradient"):
            assert all(-1 <= v <= 1 for v in case["cosines"][d])
        assert np.median(case["cosines"]["exact"]) > np.median(case["cosines"]["gradient"])
    assert record["summary"]["holds"] == R.e4_summary(record["cases"])["holds"]
    monkeypatch.setattr(R, "e4_case", lambda *a, **k: pytest.fail("solved a start that was kept"))
    again = R.e4_record(5, 1e-4, 48, root=root, subset=300)
    for d, q in record["summary"]["pooled"].items():
        assert again["summary"]["pooled"][d] == pytest.approx(q, rel=1e-3)


#: What the README states of each E0 record: relative L2 range, largest J gap, J refine, residual (2 digits).
E0_README = {510: ((2.2e-5, 4.9e-5), 4.5e-6, 1.1e-5, 3.3e-8), 7850: ((2.8e-5, 6.6e-5), 4.1e-6, 1.1e-5, 3.3e-8)}


@pytest.mark.parametrize("dim", [510, 7850])
def test_the_committed_e0_records_meet_every_criterion_recomputed_from_their_numbers(dim):
    """E0 at both sizes (README): relative L2 error <= 1e-4, J never below J*, N -> 2N changes J by < 1e-4, costate
    residual <= 1e-6, at each of the 7 gammas from 0.01 to 100 sqrt(eta k lambda_max); the verdicts are recomputed
    here from the stored numbers, not read from the record's flags."""
    from functions.solver_checks import E0_CRITERIA

    record = R.load_real_model_record("e0", dim, 1e-4, out_dir=ROOT / "results" / "real_model")
    assert record["config"]["dim"] == dim and record["config"]["subset"] is None and len(record["cases"]) == 7
    assert record["model"]["grad_max"] <= 1e-10 and record["model"]["decades"] >= 3
    lam_max = record["model"]["lambda_max"]
    assert record["cases"][-1]["gamma"] == pytest.approx(100 * lam_max**0.5, rel=1e-3)
    for case in record["cases"]:
        assert case["rel_L2"] <= E0_CRITERIA["rel_L2"] and case["J_gap"] >= -1e-12
        assert case["J_refine"] <= E0_CRITERIA["J_refine"] and case["residual"] <= E0_CRITERIA["residual"]
    assert record["all_hold"]
    rel, gap, refine, residual = E0_README[dim]

    def two(x):
        return float(f"{x:.1e}")

    cases = record["cases"]
    assert (two(min(c["rel_L2"] for c in cases)), two(max(c["rel_L2"] for c in cases))) == rel
    assert two(max(c["J_gap"] for c in cases)) == gap and two(max(c["J_refine"] for c in cases)) == refine
    assert two(max(c["residual"] for c in cases)) == residual


@pytest.mark.parametrize("part", ["e2", "e3", "e4"])
def test_a_kept_partial_from_other_code_is_refused_before_any_data_is_loaded(tmp_path, monkeypatch, capsys, part):
    """Issue 29 (resume keys): partials name the package source that made them; another source is refused with
    the file, both digests and what to do, before the data is read (the data root here does not exist)."""
    monkeypatch.setenv("LOSSNAV_CHECKPOINTS", str(tmp_path / "ck"))
    partial = getattr(R, f"{part}_partial_path")(10, 1e-4, 64, 500)
    partial.parent.mkdir(parents=True)
    empty = [] if part == "e2" else {}
    for kept in ({"source_digest": "0123456789abcdef", "cases": empty}, {"cases": empty}):  # other code; older format
        partial.write_text(json.dumps(kept))
        with pytest.raises(SystemExit) as stop:
            experiments_main(["real-model", part, "--components", "10", "--points", "64", "--subset", "500",
                              "--root", str(tmp_path / "no-data"), "--out", str(tmp_path / "out")])  # fmt: skip
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert str(partial) in err and R.source_digest() in err and "Delete that file" in err
        assert kept.get("source_digest", "unrecorded") in err
    assert not (tmp_path / "out").exists()


def test_a_partial_kept_by_this_code_is_read_back_and_names_its_source(tmp_path):
    partial = tmp_path / "real_model" / "e4_x.json"
    R._keep_partial(partial, {"zero": {"n": 1}})
    assert json.loads(partial.read_text())["source_digest"] == R.source_digest()
    assert R._read_partial(partial, {}) == {"zero": {"n": 1}}
    assert R._read_partial(tmp_path / "none.json", {}) == {}


def test_the_source_digest_changes_with_any_byte_of_the_package(tmp_path):
    import shutil

    copy = tmp_path / "functions"
    shutil.copytree(ROOT / "functions", copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert R.source_digest(copy) == R.source_digest()
    (copy / "lq.py").write_bytes((copy / "lq.py").read_bytes() + b"\n")
    edited = R.source_digest(copy)
    assert edited != R.source_digest()
    (copy / "lq.py").rename(copy / "lq2.py")
    assert R.source_digest(copy) not in (edited, R.source_digest()), "a renamed file is other code"
