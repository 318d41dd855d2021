"""Figure 3: fresh numbers and panels against results/ (written by fig3-nongrad.ipynb), and its claims."""

import numpy as np
import pytest
from figure_checks import RESULTS, assert_close_tree, assert_panels_match

from functions import fig3
from functions.results_io import read_json, rounded

STORED = read_json(RESULTS / "fig3.json")
P = STORED["parameters"]


@pytest.fixture(scope="module")
def cases():
    problems = fig3.problems(P["h"], P["mu"], P["gamma"], P["eta"], P["k"], P["g_diag"], P["q"], P["j"])
    return fig3.compute(problems, P["theta0"], P["T"], P["bvp_margin"])


def test_numbers_match_results(cases):
    """End points to 1e-6 relative (6-digit JSON); solver-vs-closed-form gaps are round-off sized
    (~1e-10 and below), so they are compared only as being below 1e-8."""
    fresh, stored = rounded(fig3.headline(cases, P["T"])), STORED["numbers"]
    for name in stored:
        for key in ("max_path_deviation", "end_difference"):
            assert fresh[name].pop(key) < 1e-8 and stored[name][key] < 1e-8
        stored_rest = {k: v for k, v in stored[name].items() if k not in ("max_path_deviation", "end_difference")}
        assert_close_tree(fresh[name], stored_rest, rtol=1e-6, atol=1e-9, path=name)


def test_claims(cases):
    numbers = fig3.headline(cases, P["T"])
    mu = np.asarray(P["mu"])
    for name in ("a", "b"):
        assert numbers[name]["end_distance_to_minimum"] < 1e-8
    for name in ("c", "d"):
        assert numbers[name]["end_distance_to_minimum"] > 0.4, "drift: settles short of mu"
        assert np.linalg.norm(numbers[name]["end_closed_form"]) < np.linalg.norm(mu)
    # (b): the cheap direction theta_1 relaxes first. Early on theta_1 has moved most of its way.
    t = np.array([0.2])
    path = cases["b"].optimum(t)[0]
    start, end = np.asarray(P["theta0"]), cases["b"].optimum.theta_star
    frac = (start - path) / (start - end)
    assert frac[0] > 0.9 > 0.4 > frac[1]
    # (c): the spiral turns counter-clockwise (positive angular velocity about theta*).
    x = cases["c"].optimum(np.linspace(0, 0.1, 3)) - cases["c"].optimum.theta_star
    assert x[0, 0] * x[1, 1] - x[0, 1] * x[1, 0] > 0


def test_panels_match_results(cases, tmp_path):
    assert_panels_match(fig3.panels(cases, P["T"], P["plot_lim"]), "fig3", tmp_path)
