"""Figure 1: fresh numbers and panels from ``fig1.Params()`` (the paper's values) against results/ (written by
fig1-overview.ipynb), its claims, and the parameter object."""

import numpy as np
import pytest
from figure_checks import RESULTS, assert_close_tree, assert_panels_match

from functions import fig1
from functions.landscapes import DoubleWell
from functions.results_io import read_json, rounded

STORED = read_json(RESULTS / "fig1.json")
PARAMS = fig1.Params()
P = PARAMS.as_dict()  # inputs come from the parameter object; results/ is only compared against


@pytest.fixture(scope="module")
def data():
    return fig1.compute(PARAMS)


def test_the_defaults_are_what_results_holds():
    assert rounded(PARAMS.as_dict()) == STORED["parameters"]
    assert fig1.Params(T=4, theta_T=[1.0625, 0]) == PARAMS, "integers and lists normalised"


def test_report_states_the_authors_action_and_both_basins(data):
    text = fig1.report(fig1.headline(data))
    assert "S = 1.6957e-01  (authors: 1.6957e-01)" in text
    assert "multi_step ends at" in text and "->  global basin" in text and "->  local basin" in text


def test_numbers_match_results(data):
    """Tolerances: 1e-5 relative covers the 6-digit rounding of the JSON and L-BFGS stopping at
    |grad| <= 1e-8; the BVP distance is compared to 1e-3 relative because it depends on the
    collocation mesh, which may differ by round-off between machines."""
    fresh = rounded(fig1.headline(data))
    stored = dict(STORED["numbers"])
    assert abs(fresh.pop("lbfgs_iterations") - stored.pop("lbfgs_iterations")) <= 5
    np.testing.assert_allclose(fresh.pop("max_dist_direct_vs_bvp"), stored.pop("max_dist_direct_vs_bvp"), rtol=1e-3)
    assert_close_tree(fresh, stored, rtol=1e-5, atol=1e-7)


def test_claims(data):
    numbers = fig1.headline(data)
    assert f"{numbers['S']:.4e}" == "1.6957e-01"  # the authors' printed value
    assert numbers["multi_step_basin"] == "global" and numbers["one_step_basin"] == "local"
    assert numbers["max_loss_rise"] > 0.1, "the loss rises before it falls"
    assert numbers["t_peak_kinetic"] < P["T"] / 4, "the kinetic energy is transient, early"
    kinetic_end = fig1.kinetic_per_step(data.multi.theta)[-1]
    assert kinetic_end < 1e-3 * numbers["peak_kinetic"]
    assert numbers["max_dist_direct_vs_bvp"] < 1e-3


def test_basin_classification():
    loss = DoubleWell()
    assert loss.basin([1.0, 0.3]) == "global"
    assert loss.basin([-1.0, -0.3]) == "local"
    assert DoubleWell(d=0.5).basin([1.0, 0.0]) == "local"
    assert len(DoubleWell(d=-2.0).minima()) == 1 and DoubleWell(d=-2.0).basin([-1.0, 0.0]) == "global", "one well left"


def test_panels_match_results(data, tmp_path):
    assert_panels_match(fig1.panels(data, PARAMS), "fig1", tmp_path)


def test_params_refuse_what_cannot_be_drawn():
    for change, match in (
        ({"plot_lim": -1.5}, "Invalid PLOT_LIM value: -1.5"),
        ({"theta_T": [1.6, 0.0]}, r"Invalid THETA_T value: \(1.6, 0\) lies outside"),
        ({"n_points": 2}, "Invalid N_POINTS value: 2"),
        ({"gamma": -1.0}, "Invalid gamma value: -1.0"),
        ({"a": float("nan")}, "Invalid a value: nan"),
        ({"t_one_step": 0.0}, "Invalid T_ONE_STEP value"),
        ({"n_points": 30000}, "Invalid N_POINTS value: 30000; N_POINTS must be an integer >= 3 and <= 2000"),
        ({"n_points": 50.0}, "Invalid N_POINTS value: 50.0; expected an integer"),
        ({"gamma": "0.1"}, "Invalid GAMMA value: '0.1'; expected a real number"),
        (
            {"gamma": 1e6},
            r"Invalid GAMMA value: GAMMA \* T = 4e\+06 > 700, where the weight e\^\(-GAMMA t\) underflows",
        ),
        ({"T": 1e4}, r"GAMMA \* T = 1000 > 700"),
        # issue 29: T = 1e-6 once ended in a ConvergenceError after the work
        ({"T": 1e-6}, r"Invalid T value: 1e-06; .*set T >= 0.00152 or fewer N_POINTS"),
        ({"T": 0.003, "n_points": 1000}, r"Invalid T value: 0.003; .*set T >= 0.00687"),
    ):
        with pytest.raises(ValueError, match=match):
            fig1.Params(**change)


def test_panel_a_tells_the_story_of_panel_b():
    """The schematic's deep well is on the same side as panel b's global minimum (theta_1 > 0); the one-step
    learner ends in the near, shallow well, the multi-step one climbs the ridge and ends in the deep well."""
    from functions.landscapes import schematic_double_well

    assert schematic_double_well(2.0, 0.0) < schematic_double_well(-2.0, 0.0) < 0
    global_b = min(DoubleWell().minima(), key=lambda m: DoubleWell()(m))
    assert global_b[0] > 0
    paths = fig1.schematic_paths()
    one, multi = paths["one_step"], paths["multi_step"]
    np.testing.assert_allclose(one[0], multi[0])
    assert one[-1][0] < 0 < multi[-1][0], "shallow well on the left, deep well on the right"
    assert np.all(np.diff(one[:, 2]) < 0), "the one-step learner only goes down"
    assert multi[:, 2].max() > multi[0, 2] + 0.1 and multi[-1, 2] < one[-1, 2], "climbs, then ends lower"


def test_e5_headline_reads_the_escape_record():
    """E5's numbers from a small hand-made record: the published start's stop, the range, the shares."""
    from functions import fig1

    record = {
        "gammas": [0.01, 0.1, 1.0],
        "starts": [[-0.6, 0.55], [-1.4, 0.0]],
        "escapes": [[1, 1, 0], [1, 0, 0]],
        "gamma_stop": [1.0, 0.1],
    }
    numbers = fig1.e5_headline(record, fig1.Params())
    assert numbers["published_start"] == [-0.6, 0.55] and numbers["published_gamma_stop"] == 1.0
    assert (numbers["gamma_stop_min"], numbers["gamma_stop_max"]) == (0.1, 1.0)
    assert numbers["gamma_nearest_paper"] == 0.1 and numbers["escape_share_at_paper_gamma"] == 0.5
    assert numbers["escape_share_by_gamma"] == [1.0, 0.5, 0.0]
    record["gamma_stop"][1] = None  # never stops on the grid
    assert fig1.e5_headline(record, fig1.Params())["gamma_stop_max"] == float("inf")
    assert "escape stops at gamma = 1" in fig1.e5_report(numbers)


def test_e5_record_supports_the_notebooks_statements():
    """The cached E5 record: every start escapes at the paper's gamma, none at the largest gamma, and the stop
    grows towards the barrier; results/fig1_e5.json holds exactly its headline."""
    import json
    import pathlib

    from functions import fig1
    from functions.real_model_runs import load_real_model_record

    root = pathlib.Path(__file__).resolve().parents[1]
    record = load_real_model_record("e5", out_dir=root / "results" / "real_model")
    numbers = fig1.e5_headline(record, fig1.Params())
    assert numbers["escape_share_at_paper_gamma"] == 1.0 and numbers["escape_share_at_largest_gamma"] == 0.0
    assert numbers["gamma_stop_min"] < numbers["published_gamma_stop"] < numbers["gamma_stop_max"] < float("inf")
    stored = json.loads((root / "results" / "fig1_e5.json").read_text())["numbers"]
    assert stored["published_gamma_stop"] == pytest.approx(numbers["published_gamma_stop"], rel=1e-6)
    assert stored["escape_share_by_gamma"] == pytest.approx(numbers["escape_share_by_gamma"], rel=1e-6)
