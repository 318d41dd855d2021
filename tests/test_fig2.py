"""Figure 2: fresh numbers and panels against results/fig2.json (written by fig2-momentum.ipynb), and its claims."""

import numpy as np
import pytest
from figure_checks import RESULTS, ROOT, assert_close_tree, assert_panels_match

from functions import fig2
from functions.closed_form import rate, rate_ratio
from functions.landscapes import Quadratic
from functions.plotting import render_panel
from functions.results_io import read_json, rounded

STORED = read_json(RESULTS / "fig2.json")
P, N = STORED["parameters"], STORED["numbers"]
GAMMAS = P["gammas"]


@pytest.fixture(scope="module")
def theory():
    probs1d = fig2.problems(P["h_1d"], P["mu_1d"], GAMMAS, P["eta"], P["k"])
    probs2d = fig2.problems(P["h_2d"], P["mu_2d"], GAMMAS, P["eta"], P["k"])
    opt1d, opt2d = fig2.optima(probs1d, P["theta0_1d"]), fig2.optima(probs2d, P["theta0_2d"])
    points = {g: {x: fig2.measured_rate_ratio(x, 1.0, g, P["eta"], P["k"]) for x in P["ratio_checks"]} for g in GAMMAS}
    return probs1d, probs2d, opt1d, opt2d, points


@pytest.fixture(scope="module")
def training():
    runs_e = fig2.load_runs(ROOT / P["training_dir"], P["dataset_e"], "mlp")
    runs_f = fig2.load_runs(ROOT / P["training_dir"], P["dataset_f"], "cnn")
    return runs_e, runs_f, fig2.published(P["dataset_e"]), fig2.published(P["dataset_f"])


def test_theory_numbers_match_results(theory):
    _, _, _, opt2d, points = theory
    fresh = {
        "r_1d": {str(g): rate(P["h_1d"][0], g, P["eta"], P["k"]) for g in GAMMAS},
        "rates_2d": {str(g): opt2d[g].r for g in GAMMAS},
        "ratio_at_4": {str(g): rate_ratio(4.0, 1.0, g, P["eta"], P["k"]) for g in GAMMAS},
        "ratio_measured": {str(g): list(points[g].values()) for g in GAMMAS},
    }
    stored = {key: N[key] for key in fresh}
    # closed forms: 6-digit JSON rounding; solver-measured ratios: solver tolerance ~1e-8 on the fit
    assert_close_tree(rounded(fresh), stored, rtol=1e-5, atol=1e-8)


def test_training_numbers_match_results(training):
    runs_e, runs_f, ref_e, ref_f = training
    fresh = rounded(
        {"training_e": fig2.training_headline(runs_e, ref_e), "training_f": fig2.training_headline(runs_f, ref_f)}
    )
    assert_close_tree(fresh, {k: N[k] for k in fresh}, rtol=1e-5, atol=1e-8)


def test_theory_claims(theory):
    probs1d, _, opt1d, opt2d, points = theory
    r = [rate(P["h_1d"][0], g) for g in GAMMAS]
    assert r[0] > r[1] > r[2], "lower gamma converges faster"
    assert rate_ratio(4.0, 1.0, 0.0) == pytest.approx(2.0, abs=1e-12)
    assert rate_ratio(4.0, 1.0, 10.0) > 3.5
    for g in GAMMAS:
        for x, measured in points[g].items():
            assert measured == pytest.approx(rate_ratio(x, 1.0, g), rel=1e-6)
    dev = fig2.confirm(probs1d, opt1d, P["T_1d"], P["bvp_margin"])
    assert max(dev.values()) < 1e-7
    # gamma = 10 moves along the steep theta_2 first: at the time theta_2 is half-way, theta_1 has barely moved
    opt = opt2d[10.0]
    t_half = np.log(2) / opt.r[1]
    frac = 1 - opt(t_half) / np.asarray(P["theta0_2d"])
    assert frac[1] == pytest.approx(0.5) and frac[0] < 0.1
    assert (1 - opt2d[0.0](np.log(2) / opt2d[0.0].r[1]) / np.asarray(P["theta0_2d"]))[0] > 0.15


def test_training_claims(training):
    """As measured on the committed runs: Ballistic beats SGD on train loss and is close to Adam in accuracy."""
    runs_e, _, _, _ = training
    assert all(run["n_seeds"] >= 3 for run in runs_e.values())
    final = {opt: run["train_loss"][0][-1] for opt, run in runs_e.items()}
    acc = {opt: run["test_accuracy"][0][-1] for opt, run in runs_e.items()}
    assert final["ballistic"] < final["sgd"]
    assert abs(acc["ballistic"] - acc["adam"]) < 0.01


def test_panels_match_results(theory, training, tmp_path):
    _, _, opt1d, opt2d, points = theory
    runs_e, runs_f, ref_e, ref_f = training
    panels = fig2.theory_panels(Quadratic(P["h_1d"], P["mu_1d"]), opt1d, P["T_1d"], Quadratic(P["h_2d"], P["mu_2d"]),
                                opt2d, P["T_2d"], P["ratio_range"], points, P["eta"], P["k"], P["lim_2d"])  # fmt: skip
    titles = {key: fig2.training_title(P[f"dataset_{key}"], model, runs, ref)
              for key, model, runs, ref in (("e", "mlp", runs_e, ref_e), ("f", "cnn", runs_f, ref_f))}  # fmt: skip
    panels |= fig2.training_panels({"e": (runs_e, ref_e, titles["e"]), "f": (runs_f, ref_f, titles["f"])})
    assert_panels_match(panels, "fig2", tmp_path)


def test_published_overlay_for_the_papers_datasets(tmp_path):
    ref = fig2.published("mnist")
    assert ref["ballistic"]["test_accuracy"][-1] == pytest.approx(0.978)
    assert len(fig2.published("cifar10")["sgd"]["train_loss"]) == 25
    assert fig2.published("fashion-mnist") is None
    epochs = list(range(1, 11))
    runs = {opt: {"n_seeds": 2, "epochs": epochs, "subset": None, "n_train": 60000,
                  "train_loss": (np.linspace(0.3, 0.02, 10), np.zeros(10)),
                  "test_accuracy": (np.linspace(0.95, 0.98, 10), np.zeros(10))} for opt in ref}  # fmt: skip
    table = fig2.training_headline(runs, ref)
    assert table["sgd"]["gap_to_published_test_accuracy"] == pytest.approx(0.98 - 0.9817)
    assert fig2.training_title("mnist", "mlp", runs, ref) == "MNIST, MLP, 10 epochs"
    fig = render_panel(fig2.training_panels({"e": (runs, ref, "MNIST")})["e"])
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "Ballistic, published" in labels
