"""The explorers behind the notebooks' sliders: their numbers are the closed forms' and the solver's, every
slider changes the live figure, and nothing is written to disk."""

import dataclasses
import os

import numpy as np
import pytest

from functions import explore
from functions.beliefs import beta1_from_noise_ratio
from functions.closed_form import quadratic_optimum, rate_ratio
from functions.geometry import DecayDrift, RotationDrift
from functions.landscapes import DoubleWell, Quadratic
from functions.least_action import minimise_action
from functions.objective import Problem


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _moves_every_slider(e):
    """Each slider, moved on its own, changes the PNG; returns the numbers of the last move."""
    base = e.initial()
    _, first, _ = e.redraw(**base)
    for name, s in e.sliders.items():
        moved = dict(base)
        moved[name] = 10 ** (s.value + 3 * s.step) if s.log else min(s.value + 5 * s.step, s.high)
        numbers, png, _ = e.redraw(**moved)
        assert png != first, f"moving {name} changes the figure"
        e.redraw(**base)
    return numbers


def test_fig1_explorer_is_the_least_action_solution(in_tmp):
    loss, theta0, theta_T = DoubleWell(), [-0.6, 0.55], [1.0625, 0.0]
    e = explore.fig1_explorer(loss, theta0, theta_T, 0.1, 4.0)
    numbers, _, _ = e.redraw(**e.initial())
    direct = minimise_action(Problem(loss, gamma=0.1), theta0, 4.0, theta_T=theta_T, n_points=50)
    assert numbers["S"] == pytest.approx(direct.J / 4.0, rel=1e-6) and numbers["S"] == pytest.approx(0.16957, abs=1e-5)
    assert (numbers["multi_step_basin"], numbers["one_step_basin"]) == ("global", "local")
    numbers, _, _ = e.redraw(gamma=0.1, T=4.0, x0=0.5, y0=0.0)
    assert numbers["one_step_basin"] == "global", "started past the barrier, gradient flow reaches the deep well"
    _moves_every_slider(e)
    assert list(in_tmp.iterdir()) == [], "an explorer writes nothing"


def test_fig2_explorer_rate_ratio_and_limits(in_tmp):
    e = explore.fig2_explorer([-3.0, -3.0], 1.0, 1 / 9)
    for gamma, ratio in ((0.0, 0.25), (1.0, 4.0), (20.0, 2.0)):
        numbers, _, _ = e.redraw(gamma=gamma, ratio=ratio)
        assert numbers["rate_ratio"] == pytest.approx(rate_ratio(ratio, 1.0, gamma))
        assert numbers["square_root"] == pytest.approx(np.sqrt(ratio)) and numbers["linear"] == ratio
    assert e.redraw(gamma=0.0, ratio=4.0)[0]["rate_ratio"] == pytest.approx(2.0)
    _moves_every_slider(e)
    assert list(in_tmp.iterdir()) == []


def _e1_like_record():
    """A hand-made E1 record: a spectrum of 30 curvatures over 3 decades, 3 recorded gammas from one start."""
    from functions.lq import rates

    h = np.geomspace(1e-4, 0.1, 30)
    cases = [
        {
            "gamma": g,
            "start": "near",
            "rate": [float(r) if i % 3 else None for i, r in enumerate(rates(h, g))],
            "slope": 0.5 + i * 0.2,
            "slope_predicted": 0.51 + i * 0.2,
        }
        for i, g in enumerate([1e-3, 0.03, 1.0])
    ]
    return {"h": list(h), "config": {"eta": 1.0, "k": 1.0}, "cases": [*cases, {**cases[0], "start": "zero"}]}


def test_fig2_real_explorer_predicts_the_slope_and_shows_the_nearest_measurement(in_tmp):
    from functions.lq import rates

    record = _e1_like_record()
    e = explore.fig2_real_explorer(record, 0.1)
    assert (e.sliders["gamma"].low, e.sliders["gamma"].high) == pytest.approx((-3.0, 0.0))
    h = np.asarray(record["h"])
    for gamma, nearest in ((1e-3, 1e-3), (0.004, 1e-3), (0.006, 0.03), (0.5, 1.0)):
        numbers, _, _ = e.redraw(gamma=gamma)
        expected = np.polyfit(np.log(h), np.log(rates(h, gamma)), 1)[0]
        assert numbers["slope_predicted"] == pytest.approx(expected, rel=1e-12)
        assert numbers["gamma_measured"] == nearest and numbers["n_fitted"] == 20
    assert e.redraw(gamma=1e-3)[0]["slope_predicted"] == pytest.approx(0.5, abs=0.02), "gamma -> 0: square root"
    assert e.redraw(gamma=1.0)[0]["slope_measured"] == pytest.approx(0.9)
    _moves_every_slider(e)
    with pytest.raises(ValueError, match=r"Invalid start value: 'far'; the record has \['near', 'zero'\]"):
        explore.fig2_real_explorer(record, 0.1, start="far")
    assert list(in_tmp.iterdir()) == []


def test_fig3_explorer_end_points_are_the_closed_forms(in_tmp):
    h, mu, theta0 = [4.0, 4.0], [0.0, -0.5], [1.5, 1.5]
    e = explore.fig3_explorer(h, mu, theta0, 0.0, 1 / 50, 10.0, 10.0)
    numbers, _, _ = e.redraw(gamma=0.5, g_ratio=0.1, q=5.0, j=2.0)
    base = Problem(Quadratic(h, mu), gamma=0.5)
    for name, drift in (("rotation", RotationDrift(5.0)), ("decay", DecayDrift(2.0))):
        expected = quadratic_optimum(dataclasses.replace(base, drift=drift), theta0).theta_star
        np.testing.assert_allclose(numbers[name]["end"], expected, atol=1e-12)
        assert numbers[name]["distance_to_mu"] == pytest.approx(np.linalg.norm(expected - np.array(mu)))
    assert numbers["metric"]["distance_to_mu"] == pytest.approx(0.0, abs=1e-12), "a metric bends, the end is mu"
    assert numbers["rotation"]["distance_to_mu"] > 0.1
    _moves_every_slider(e)
    assert list(in_tmp.iterdir()) == []


def test_fig4_explorer_beta1_and_optimal_reset(in_tmp):
    e = explore.fig4_explorer(90.0, 0.5)
    numbers, _, _ = e.redraw(noise_ratio=90.0, c=0.5)
    assert numbers["beta1"] == pytest.approx(0.9) and numbers["optimal_reset"] == 0.5
    assert abs(numbers["measured_reset"] - 0.5) < 0.03
    numbers, _, _ = e.redraw(noise_ratio=3.0, c=0.8)
    assert numbers["beta1"] == pytest.approx(beta1_from_noise_ratio(3.0))
    assert abs(numbers["measured_reset"] - 0.2) < 0.03
    _moves_every_slider(e)
    assert list(in_tmp.iterdir()) == []


def test_widget_wires_sliders_to_the_image(in_tmp):
    e = explore.fig3_explorer([4.0, 4.0], [0.0, -0.5], [1.5, 1.5], 0.0, 1 / 50, 10.0, 10.0)
    box = explore.widget(e)
    sliders, image, status = box.children[0].children, box.children[1], box.children[2]
    assert [s.description for s in sliders] == ["γ", "G₁₁/G₂₂", "q", "j"]
    before, distance = image.value, e.last["rotation"]["distance_to_mu"]
    sliders[2].value = 3.0  # q
    assert image.value != before and "redrawn in" in status.value
    assert e.last["rotation"]["distance_to_mu"] != pytest.approx(distance), "the numbers follow the slider"
    assert os.listdir(in_tmp) == []


def test_an_explorer_is_laid_out_once(monkeypatch):
    """The first redraw lays the figure out without rendering it (plotting.freeze_layout); later redraws reuse it."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    calls, draws = [], []
    execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, fig: calls.append(1) or execute(self, fig))
    e = explore.fig2_explorer([-3.0, -3.0], 1.0, 1 / 9)
    draw = e.figure.canvas.draw
    monkeypatch.setattr(e.figure.canvas, "draw", lambda: draws.append(1) or draw())
    for gamma in (1.0, 2.0, 3.0):
        e.redraw(gamma=gamma, ratio=1 / 9)
    assert len(calls) == 1, f"laid out {len(calls)} times in 3 redraws"
    assert len(draws) == 1, f"{len(draws)} full draws in 3 redraws (the static part is drawn once, then blitted)"


def test_a_start_value_outside_a_slider_widens_it_instead_of_being_clamped():
    s = explore.Slider(0.0, 2.0, 0.05, 5.0, "γ")
    assert (s.low, s.high, s.value) == (0.0, 5.0, 5.0)
    assert (explore.Slider(1.0, 8.0, 0.25, 0.5, "T").low, explore.Slider(1.0, 8.0, 0.25, 4.0, "T").low) == (0.5, 1.0)
    with pytest.raises(ValueError, match="Invalid γ slider value: nan"):
        explore.Slider(0.0, 2.0, 0.05, float("nan"), "γ")
